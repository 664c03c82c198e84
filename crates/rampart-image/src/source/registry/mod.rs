//! Images in OCI registries (`registry:REF`, or a bare reference that is not
//! a local path): the OCI distribution API's manifests, image indexes with
//! platform selection, and blobs streamed into the squash while they
//! download, each checked against its digest.
//!
//! Blobs go through the content-addressed [`BlobCache`] when one is
//! configured: a second read of an image downloads no blob. A download that
//! breaks off resumes with an HTTP `Range` request, in the same run or, from
//! the partial file in the cache, in the next.

pub mod auth;
pub mod cache;
mod client;
pub mod reference;

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::oci::{self, Candidate, Descriptor, Index, Manifest};
use super::{BlobKey, Image, ImageConfig, MAX_METADATA_BLOB, OpenOptions, SourceKind, Store};
use crate::digest::Digest;
use crate::error::{ImageError, Result};

pub use auth::{Credentials, Secret};
pub use cache::{BlobCache, CacheUsage};
use client::{Client, RequestError};
pub use reference::RegistryReference;

/// Times a broken blob download is resumed within one read.
const MAX_RESUMES: u32 = 5;

/// Settings for reaching registries.
#[derive(Clone, Debug)]
pub struct RegistryOptions {
    /// Registries (`HOST[:PORT]`) reached over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// PEM file of the CA certificates to trust instead of the system's.
    pub ca_file: Option<PathBuf>,
    /// Credentials from the command line; otherwise Docker's configuration
    /// is consulted.
    pub credentials: Option<Credentials>,
    /// Docker's configuration directory; `None` means `$DOCKER_CONFIG`, else
    /// `~/.docker`.
    pub docker_config_dir: Option<PathBuf>,
    /// The blob cache; `None` downloads every blob each time.
    pub cache: Option<BlobCache>,
    pub connect_timeout: Duration,
    /// Maximum wait for a response or for the next bytes of a body.
    pub read_timeout: Duration,
    /// Attempts per request for dropped connections, `429` and `5xx`.
    pub attempts: u32,
    /// First wait before a retry; it doubles each time.
    pub backoff: Duration,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            insecure_registries: Vec::new(),
            ca_file: None,
            credentials: None,
            docker_config_dir: None,
            cache: None,
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(60),
            attempts: 4,
            backoff: Duration::from_millis(500),
        }
    }
}

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// The blob store of a registry image.
pub(crate) struct Remote {
    client: Client,
    cache: Option<BlobCache>,
}

impl Remote {
    /// Restates a failure to read a blob of this registry's image: the
    /// advice of the local sources (copy the image again) does not apply,
    /// and running again resumes a broken download or fetches a damaged
    /// one anew.
    pub(crate) fn layer_error(&self, image: &str, error: ImageError) -> ImageError {
        // NOTE: this edits the rendered message of the local-source errors;
        // a change to their wording in error.rs must be mirrored here.
        let text = error.to_string();
        let detail = text
            .strip_prefix(&format!("{image}: "))
            .unwrap_or(&text)
            .replace(
                "; the layer is truncated or corrupt, so copy the image again",
                "",
            )
            .replace(
                "; the image is corrupt or was modified, so copy it again",
                "",
            )
            .replace("; the image is corrupt or truncated, so copy it again", "")
            .replace("; the image is corrupt, so copy it again", "");
        let advice = if text.contains("broke off") || text.contains("cannot reach") {
            "run the command again when the registry is reachable; the download resumes where it stopped"
        } else if text.contains("cached blob") {
            "run the command again to download it anew"
        } else {
            "the registry sent damaged content; run the command again, and if the error persists, the image in the registry is damaged"
        };
        ImageError::Registry {
            image: image.to_owned(),
            registry: self.client.reference.registry.clone(),
            repository: self.client.reference.repository.clone(),
            reason: format!("{detail}; {advice}"),
        }
    }

    fn error(&self, image: &str, error: RequestError) -> ImageError {
        ImageError::Registry {
            image: image.to_owned(),
            registry: self.client.reference.registry.clone(),
            repository: self.client.reference.repository.clone(),
            reason: error.0,
        }
    }

    /// Opens a blob: from the cache when it is there and intact, else from
    /// the registry, resuming a partial download left in the cache.
    pub(crate) fn open(
        self: &Arc<Self>,
        digest: &Digest,
        image: &str,
    ) -> Result<Box<dyn Read + Send>> {
        if let Some(cache) = &self.cache
            && let Some(file) = cache.open(digest)
        {
            return Ok(Box::new(file));
        }
        let writer = self.cache.as_ref().and_then(|cache| match cache.writer(digest) {
            Ok(writer) => Some(writer),
            Err(error) => {
                tracing::warn!(%digest, %error, "cannot write to the blob cache; downloading without it");
                None
            }
        });
        // Bytes taken over from an earlier run are read back first, and
        // the registry is asked for the rest.
        let prefix: Option<Box<dyn Read + Send>> = writer
            .as_ref()
            .filter(|writer| writer.written() > 0)
            .and_then(|writer| writer.resumed_bytes().ok())
            .map(|bytes| Box::new(bytes) as Box<dyn Read + Send>);
        let offset = if prefix.is_some() {
            writer.as_ref().map_or(0, cache::CacheWriter::written)
        } else {
            0
        };
        let writer = match (prefix.is_some(), writer) {
            // The earlier bytes cannot be read back: start a new file.
            (false, Some(writer)) if writer.written() > 0 => {
                drop(writer);
                self.cache
                    .as_ref()
                    .and_then(|cache| cache.writer(digest).ok())
            }
            (_, writer) => writer,
        };
        if offset > 0 {
            tracing::info!(%digest, offset, "resuming an interrupted blob download");
        }
        let (body, partial) = self
            .client
            .blob(digest, offset)
            .map_err(|error| self.error(image, error))?;
        let stream = BlobStream {
            remote: Arc::clone(self),
            digest: digest.clone(),
            body,
            // A server that ignores the range sends the blob from the start.
            skip: if partial { 0 } else { offset },
            offset,
            writer,
            resumes: 0,
            done: false,
            broke_off: false,
        };
        Ok(match prefix {
            Some(prefix) => Box::new(prefix.chain(stream)),
            None => Box::new(stream),
        })
    }
}

/// A blob body that resumes with a range request when the connection
/// breaks, and copies what it reads into the cache.
struct BlobStream {
    remote: Arc<Remote>,
    digest: Digest,
    body: Box<dyn Read + Send>,
    /// Bytes still to drop from the body: the server did not honour a range.
    skip: u64,
    /// Bytes of the blob delivered so far (or present in the cache file).
    offset: u64,
    writer: Option<cache::CacheWriter>,
    resumes: u32,
    done: bool,
    /// Set when the download broke off for good; its bytes are kept for the
    /// next run. A stream dropped for any other reason (the squash found
    /// the content damaged) discards them.
    broke_off: bool,
}

impl Drop for BlobStream {
    fn drop(&mut self) {
        if !self.done
            && !self.broke_off
            && let Some(writer) = self.writer.take()
        {
            writer.discard();
        }
    }
}

impl BlobStream {
    fn resume(&mut self, error: &io::Error) -> io::Result<()> {
        if self.resumes >= MAX_RESUMES {
            self.broke_off = true;
            return Err(io::Error::other(format!(
                "the download of blob {} broke off {} times; last: {error}",
                self.digest, self.resumes
            )));
        }
        self.resumes += 1;
        tracing::warn!(digest = %self.digest, offset = self.offset, %error, "blob download broke off; resuming with a range request");
        let (body, partial) = self
            .remote
            .client
            .blob(&self.digest, self.offset)
            .map_err(|e| {
                self.broke_off = true;
                io::Error::other(format!(
                    "the download broke off after {} bytes and could not resume: {}",
                    self.offset, e.0
                ))
            })?;
        self.body = body;
        self.skip = if partial { 0 } else { self.offset };
        Ok(())
    }

    fn finish(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        let Some(writer) = self.writer.take() else {
            return;
        };
        match writer.commit() {
            Ok(Ok(())) => {
                if let Some(cache) = &self.remote.cache
                    && let Err(error) = cache.evict()
                {
                    tracing::warn!(%error, "cannot trim the blob cache");
                }
            }
            // The squash reports the mismatch with the layer's name.
            Ok(Err(actual)) => {
                tracing::debug!(digest = %self.digest, %actual, "downloaded blob does not match its digest; not cached")
            }
            Err(error) => {
                tracing::warn!(digest = %self.digest, %error, "cannot store a blob in the cache")
            }
        }
    }
}

impl Read for BlobStream {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.body.read(buffer) {
                Ok(0) => {
                    self.finish();
                    return Ok(0);
                }
                Ok(read) => {
                    let skipped = (self.skip.min(read as u64)) as usize;
                    self.skip -= skipped as u64;
                    let fresh = &buffer[skipped..read];
                    if fresh.is_empty() {
                        continue;
                    }
                    if let Some(writer) = &mut self.writer
                        && let Err(error) = writer.write(fresh)
                    {
                        tracing::warn!(%error, "cannot write to the blob cache; going on without it");
                        self.writer = None;
                    }
                    self.offset += fresh.len() as u64;
                    if skipped > 0 {
                        buffer.copy_within(skipped..read, 0);
                    }
                    return Ok(read - skipped);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) if client::is_interruption(&error) => self.resume(&error)?,
                Err(error) => return Err(error),
            }
        }
    }
}

/// Opens an image from a registry.
pub(crate) fn open_image(
    text: &str,
    reference: RegistryReference,
    options: &OpenOptions,
) -> Result<Image> {
    let registry_error = |reason: String| ImageError::Registry {
        image: text.to_owned(),
        registry: reference.registry.clone(),
        repository: reference.repository.clone(),
        reason,
    };
    let client = Client::new(reference.clone(), &options.registry)
        .map_err(|error| registry_error(error.0))?;
    let remote = Arc::new(Remote {
        client,
        cache: options.registry.cache.clone(),
    });
    let fetch = |what: &str| remote.client.manifest(what, MAX_METADATA_BLOB);

    let requested = reference.manifest_reference();
    tracing::info!(reference = %reference, "fetching manifest");
    let fetched = fetch(&requested).map_err(|error| registry_error(error.0))?;
    let (body, media_type, header_digest) =
        (fetched.body, fetched.media_type, fetched.content_digest);
    let digest = Digest::sha256_of(&body);
    check_manifest_digest(&digest, reference.digest.as_ref(), header_digest.as_deref())
        .map_err(registry_error)?;
    let media_type = media_type.or_else(|| body_media_type(&body));
    let tag_name = reference
        .tag
        .as_ref()
        .map(|tag| format!("{}:{tag}", reference.name()));

    let (manifest_body, manifest_digest, manifest_type, chosen_platform) =
        if matches!(media_type.as_deref(), Some(OCI_INDEX | DOCKER_LIST)) {
            let index: Index = super::parse_json(&body, text, &format!("image index {digest}"))?;
            let candidates = index
                .manifests
                .into_iter()
                .take(oci::MAX_INDEX_ENTRIES)
                .map(|descriptor| {
                    let platform = descriptor.platform.clone();
                    Candidate {
                        descriptor,
                        name: tag_name.clone(),
                        platform,
                    }
                })
                .collect();
            let chosen = oci::choose(candidates, options, text)?;
            let child = chosen.descriptor.digest.to_string();
            let fetched = fetch(&child).map_err(|error| registry_error(error.0))?;
            let (body, media_type, header_digest) =
                (fetched.body, fetched.media_type, fetched.content_digest);
            let digest = Digest::sha256_of(&body);
            check_manifest_digest(
                &digest,
                Some(&chosen.descriptor.digest),
                header_digest.as_deref(),
            )
            .map_err(registry_error)?;
            let media_type = media_type
                .or_else(|| body_media_type(&body))
                .or(chosen.descriptor.media_type.clone());
            (body, digest, media_type, chosen.platform)
        } else {
            (body, digest, media_type, None)
        };

    let descriptor = Descriptor {
        media_type: manifest_type,
        digest: manifest_digest,
        size: Some(manifest_body.len() as u64),
        annotations: None,
        platform: chosen_platform.clone(),
    };
    let manifest: Manifest = oci::parse_manifest(&descriptor, &manifest_body, text)?;
    let store = Store::Registry(Arc::clone(&remote));
    let config_descriptor = oci::config_descriptor(&manifest, &descriptor, text)?;
    let config_bytes = oci::read_metadata_blob(&store, &config_descriptor, text)
        .map_err(|error| remote.layer_error(text, error))?;
    let config: ImageConfig = super::parse_json(
        &config_bytes,
        text,
        &format!("image config {}", config_descriptor.digest),
    )?;
    if chosen_platform.is_none() {
        super::check_platform(&config, options, text)?;
    }
    let layers = oci::layers_from(&manifest.layers, &config, text, &descriptor.digest)?;
    Ok(Image {
        reference: text.to_owned(),
        kind: SourceKind::Registry,
        manifest_digest: Some(descriptor.digest.clone()),
        config_digest: Some(config_descriptor.digest.clone()),
        tags: tag_name.into_iter().collect(),
        config: Some(config),
        layers,
        store,
    })
}

/// Checks a manifest body's digest against the requested digest and the
/// registry's `Docker-Content-Digest` header.
fn check_manifest_digest(
    actual: &Digest,
    requested: Option<&Digest>,
    header: Option<&str>,
) -> std::result::Result<(), String> {
    if let Some(requested) = requested
        && requested != actual
    {
        return Err(format!(
            "digest mismatch: manifest {requested} was requested, but the registry sent content with digest {actual}"
        ));
    }
    if let Some(header) = header
        && let Ok(stated) = header.trim().parse::<Digest>()
        && stated != *actual
    {
        return Err(format!(
            "digest mismatch: the registry stated manifest digest {stated}, but the content has digest {actual}"
        ));
    }
    Ok(())
}

/// Returns the `mediaType` field of a manifest or index body.
fn body_media_type(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        media_type: Option<String>,
    }
    serde_json::from_slice::<Probe>(body).ok()?.media_type
}

impl Store {
    pub(crate) fn open_registry_blob(
        remote: &Arc<Remote>,
        key: &BlobKey,
        image: &str,
    ) -> Result<Option<Box<dyn Read + Send>>> {
        match key {
            BlobKey::Digest(digest) => remote.open(digest, image).map(Some),
            BlobKey::Member(_) => Ok(None),
        }
    }
}
