//! The controls, one module per area. Each module lists its controls in
//! `CONTROLS` and evaluates them; per-object controls run in parallel, the
//! ones that relate objects (RBAC, NetworkPolicy, admission) run after.

pub(crate) mod admission;
pub(crate) mod escape;
pub(crate) mod images;
pub(crate) mod network;
pub(crate) mod pss;
pub(crate) mod rbac;
pub(crate) mod resources;
pub(crate) mod secrets;

use std::sync::LazyLock;

use crate::control::Control;

/// Every control, in the order the outputs list them.
pub(crate) static CATALOGUE: LazyLock<Vec<&'static Control>> = LazyLock::new(|| {
    let mut all: Vec<&'static Control> = pss::PSS.iter().map(|entry| &entry.control).collect();
    all.extend(escape::CONTROLS);
    all.extend(rbac::CONTROLS);
    all.extend(network::CONTROLS);
    all.extend(secrets::CONTROLS);
    all.extend(images::CONTROLS);
    all.extend(admission::CONTROLS);
    all.extend(resources::CONTROLS);
    all
});
