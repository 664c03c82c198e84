//! Inventory of container images: OS release detection, package catalogers
//! (one module per ecosystem, see the `catalog` module) and the SBOM model.

pub mod catalog;
pub mod facts;
pub mod inventory;
pub mod os;
pub mod package;
pub mod purl;
pub mod sbom_input;

pub use facts::ImageFacts;
pub use inventory::{Inventory, LayerRecord, SourceInfo};
pub use package::{Distro, Location, Package, PackageType};

use rampart_image::{Filesystem, Image, LayerSummary};

use catalog::{CATALOGERS, CatalogContext, CatalogOutput};

/// Whether a file's content is needed by OS detection or any cataloger.
/// This is the capture rule handed to the image squash.
pub fn wants_content(path: &str) -> bool {
    os::RELEASE_FILES.contains(&path) || CATALOGERS.iter().any(|cataloger| cataloger.wants(path))
}

/// The capture rule handed to the image squash: the whole content of the
/// files a cataloger reads, and the extractor's output for binaries and
/// archives.
pub fn capture_rule(path: &str, mode: u32) -> rampart_image::Capture {
    if wants_content(path) {
        return rampart_image::Capture::Content;
    }
    CATALOGERS
        .iter()
        .find_map(|cataloger| cataloger.extractor(path, mode))
        .map_or(
            rampart_image::Capture::Skip,
            rampart_image::Capture::Extract,
        )
}

/// Runs OS detection and every cataloger over a squashed filesystem and
/// returns the packages sorted, with the warnings of all catalogers.
pub fn catalog(fs: &Filesystem) -> (Option<Distro>, Vec<Package>, Vec<String>) {
    let mut warnings = Vec::new();
    let distro = os::detect(fs, &mut warnings);
    let context = CatalogContext::new(fs, distro.as_ref());

    let mut packages = Vec::new();
    for cataloger in CATALOGERS {
        let _span = tracing::debug_span!("cataloger", name = cataloger.name()).entered();
        let mut output = CatalogOutput::default();
        cataloger.catalog(&context, &mut output);
        tracing::debug!(
            packages = output.packages.len(),
            warnings = output.warnings.len(),
            "cataloged"
        );
        packages.extend(output.packages);
        warnings.extend(output.warnings);
    }
    let (folded, duplicates) = catalog::reconcile::reconcile(&mut packages);
    tracing::debug!(
        folded,
        duplicates,
        "dropped language packages owned by OS packages and declared packages found installed"
    );
    packages.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    (distro, packages, warnings)
}

/// A readable image name: a full tag (`localhost/alpine:3.10.9`) as is; an
/// OCI layout's bare tag prefixed with the layout's folder name
/// (`alpine-3.20:3.20.3`); else the reference.
fn display_name(image: &Image) -> String {
    let reference = rampart_image::ImageReference::parse(&image.reference).ok();
    let folder = reference
        .as_ref()
        .and_then(|r| r.path.file_name())
        .map(|name| name.to_string_lossy().into_owned());
    match (image.tags.first(), folder) {
        (Some(tag), _) if tag.contains(':') || tag.contains('/') => tag.clone(),
        (Some(tag), Some(folder)) => format!("{folder}:{tag}"),
        (Some(tag), None) => tag.clone(),
        (None, Some(folder)) => folder,
        (None, None) => image.reference.clone(),
    }
}

/// Describes the image for the inventory.
pub fn source_info(image: &Image, layers: &[LayerSummary]) -> SourceInfo {
    let config = image.config.as_ref();
    SourceInfo {
        reference: image.reference.clone(),
        kind: image.kind.scheme().to_owned(),
        name: display_name(image),
        tags: image.tags.clone(),
        manifest_digest: image.manifest_digest.as_ref().map(ToString::to_string),
        image_id: image.config_digest.as_ref().map(ToString::to_string),
        architecture: config
            .map(|c| c.architecture.clone())
            .filter(|a| !a.is_empty()),
        os: config.map(|c| c.os.clone()).filter(|o| !o.is_empty()),
        layers: layers
            .iter()
            .map(|layer| LayerRecord {
                digest: layer.digest.as_ref().map(ToString::to_string),
                diff_id: layer.diff_id.to_string(),
                size: layer.size,
                uncompressed_size: layer.uncompressed_size,
            })
            .collect(),
        facts: None,
    }
}

/// Explains an inventory with no OS release and no packages: a distroless
/// `scratch` image is possible, but a wrong reference is more likely.
fn empty_inventory_hint(fs: &Filesystem, reference: &str) -> String {
    let is_present = |path: &str| fs.lstat(path).is_some();
    let advice = if is_present("/oci-layout") || (is_present("/index.json") && is_present("/blobs"))
    {
        "it contains an OCI image layout (oci-layout, index.json, blobs/), so scan it with oci-dir:PATH, or oci-archive:FILE for a plain tar"
    } else if is_present("/manifest.json") && is_present("/repositories") {
        "it contains a docker-archive (manifest.json), so scan it with docker-archive:FILE"
    } else {
        "check that the reference names an image or a root filesystem"
    };
    format!("{reference}: no OS release file and no package database found; {advice}")
}

/// Squashes an opened image and catalogs it. `progress` receives compressed
/// bytes read.
pub fn inventory_image(
    image: &Image,
    limits: rampart_image::Limits,
    progress: Option<&rampart_image::ProgressFn>,
) -> rampart_image::Result<Inventory> {
    inventory_images(&[image], limits, progress)
        .pop()
        .unwrap_or_else(|| unreachable!("one result per image"))
}

/// Squashes and catalogs several images at once (see
/// [`rampart_image::squash_all`] for how their layers share the threads),
/// returning one result per image in the order given. Each image is
/// cataloged as soon as its layers are decoded, while the other image's
/// layers are still being decoded.
pub fn inventory_images(
    images: &[&Image],
    limits: rampart_image::Limits,
    progress: Option<&rampart_image::ProgressFn>,
) -> Vec<rampart_image::Result<Inventory>> {
    let options = rampart_image::SquashOptions {
        capture: &capture_rule,
        limits,
        progress,
    };
    rampart_image::squash_all_with(images, &options, |index, squashed| {
        squashed.map(|squashed| inventory_of_squashed(images[index], &squashed))
    })
}

fn inventory_of_squashed(image: &Image, squashed: &rampart_image::Squashed) -> Inventory {
    let (distro, packages, mut warnings) = catalog(&squashed.fs);
    if distro.is_none() && packages.is_empty() && warnings.is_empty() {
        warnings.push(empty_inventory_hint(&squashed.fs, &image.reference));
    }
    let mut source = source_info(image, &squashed.layers);
    source.facts = Some(ImageFacts::of(image, &squashed.layers, &squashed.fs));
    Inventory {
        source,
        distro,
        packages,
        warnings,
    }
}
