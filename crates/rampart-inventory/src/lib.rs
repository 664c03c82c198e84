pub mod inventory;
pub mod package;

pub use inventory::{Inventory, LayerRecord, SourceInfo};
pub use package::{Distro, Location, Package, PackageType};
