//! The content-addressed blob cache: `DIR/sha256/HEX`, one file per blob.
//!
//! A blob is written under a temporary name while it downloads and renamed
//! into place only when its SHA-256 equals its digest, so a file in place
//! has been complete and correct once. It is verified again before each use,
//! and a damaged file is removed and downloaded again. The modification time
//! of a file is its last use: after each download the least recently used
//! blobs are removed until the cache fits its size limit.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest as _, Sha256};

use crate::digest::Digest;

/// Numbers the partial files of this process.
static WRITER_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Default size limit of the blob cache.
pub const DEFAULT_MAX_BYTES: u64 = 10 << 30;

/// A blob cache directory.
#[derive(Clone, Debug)]
pub struct BlobCache {
    dir: PathBuf,
    max_bytes: u64,
}

/// The contents of the cache.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheUsage {
    pub blobs: u64,
    pub bytes: u64,
    /// Partial downloads left by interrupted runs.
    pub partial: u64,
}

impl BlobCache {
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64) -> BlobCache {
        BlobCache {
            dir: dir.into(),
            max_bytes,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir.join("sha256").join(digest.hex())
    }

    fn partial_dir(&self) -> PathBuf {
        self.dir.join("partial")
    }

    /// Opens a cached blob and marks it used. The content is checked
    /// against the digest while it is read: at the end of a damaged file the
    /// reader fails, and the file is removed so that the next run downloads
    /// the blob again. Returns `None` when the blob is not cached.
    // NOTE: the squash hashes every blob again against the same digest, so
    // a cached layer is hashed twice per read.
    pub fn open(&self, digest: &Digest) -> Option<VerifiedFile> {
        let path = self.blob_path(digest);
        let file = File::open(&path).ok()?;
        let _ = file.set_modified(SystemTime::now());
        tracing::debug!(%digest, "blob served from the cache");
        Some(VerifiedFile {
            file,
            path,
            digest: digest.clone(),
            hasher: Sha256::new(),
        })
    }

    /// Starts writing a blob. A partial download of the same blob left by
    /// an earlier run is taken over and its bytes are hashed first;
    /// [`CacheWriter::written`] returns how many there are. A writer holds a
    /// lock on its file, so two downloads of one blob (two images sharing a
    /// layer) never write to the same file.
    pub fn writer(&self, digest: &Digest) -> io::Result<CacheWriter> {
        let dir = self.partial_dir();
        fs::create_dir_all(&dir)?;
        let own = dir.join(format!(
            "{}.{}-{}.part",
            digest.hex(),
            std::process::id(),
            WRITER_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let mut candidates: Vec<(u64, PathBuf)> = list(&dir)?
            .into_iter()
            .filter(|(path, _)| {
                path.file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with(digest.hex()))
            })
            .map(|(path, metadata)| (metadata.len(), path))
            .collect();
        candidates.sort();
        // The largest partial that no running download holds locked.
        let claimed = candidates.into_iter().rev().find_map(|(_, path)| {
            let file = fs::OpenOptions::new().append(true).open(&path).ok()?;
            file.try_lock().ok()?;
            fs::rename(&path, &own).ok()?;
            Some(file)
        });

        let mut hasher = Sha256::new();
        let mut written = 0;
        let file = match claimed {
            Some(file) => {
                let mut existing = File::open(&own)?;
                let mut buffer = vec![0u8; 256 * 1024];
                loop {
                    let read = existing.read(&mut buffer)?;
                    if read == 0 {
                        break;
                    }
                    hasher.update(&buffer[..read]);
                    written += read as u64;
                }
                file
            }
            None => {
                let file = fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&own)?;
                // Held until the writer is dropped, so that no other
                // download takes this file over.
                file.try_lock().map_err(io::Error::other)?;
                file
            }
        };
        Ok(CacheWriter {
            file: Some(file),
            partial: own,
            target: self.blob_path(digest),
            digest: digest.clone(),
            hasher,
            written,
        })
    }

    /// Lists the cache's blobs and partial downloads.
    pub fn usage(&self) -> io::Result<CacheUsage> {
        let mut usage = CacheUsage::default();
        for (_, metadata) in list(&self.dir.join("sha256"))? {
            usage.blobs += 1;
            usage.bytes += metadata.len();
        }
        for (_, metadata) in list(&self.dir.join("partial"))? {
            usage.partial += 1;
            usage.bytes += metadata.len();
        }
        Ok(usage)
    }

    /// Removes every blob and partial download; returns what was removed.
    pub fn clean(&self) -> io::Result<CacheUsage> {
        let usage = self.usage()?;
        for sub in ["sha256", "partial"] {
            let dir = self.dir.join(sub);
            if dir.exists() {
                fs::remove_dir_all(&dir)?;
            }
        }
        Ok(usage)
    }

    /// Removes the least recently used blobs until the cache fits its limit.
    pub fn evict(&self) -> io::Result<u64> {
        let mut blobs = list(&self.dir.join("sha256"))?;
        let mut total: u64 = blobs.iter().map(|(_, metadata)| metadata.len()).sum();
        if total <= self.max_bytes {
            return Ok(0);
        }
        blobs.sort_by_key(|(_, metadata)| metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH));
        let mut removed = 0;
        for (path, metadata) in blobs {
            if total <= self.max_bytes {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total -= metadata.len();
                removed += 1;
                tracing::debug!(path = %path.display(), "evicted a cached blob");
            }
        }
        Ok(removed)
    }
}

fn list(dir: &Path) -> io::Result<Vec<(PathBuf, fs::Metadata)>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry?;
        let metadata = entry.metadata()?;
        if metadata.is_file() {
            files.push((entry.path(), metadata));
        }
    }
    Ok(files)
}

/// A cached blob that checks its digest as it is read.
pub struct VerifiedFile {
    file: File,
    path: PathBuf,
    digest: Digest,
    hasher: Sha256,
}

impl Read for VerifiedFile {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.file.read(buffer)?;
        if read > 0 {
            self.hasher.update(&buffer[..read]);
            return Ok(read);
        }
        let actual = Digest::from_sha256(&self.hasher.clone().finalize());
        if actual != self.digest {
            let _ = fs::remove_file(&self.path);
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the cached blob {} was damaged (its content has digest {actual}) and has been removed; run the command again to download it",
                    self.path.display()
                ),
            ));
        }
        Ok(0)
    }
}

/// A blob being written to the cache.
pub struct CacheWriter {
    file: Option<File>,
    partial: PathBuf,
    target: PathBuf,
    digest: Digest,
    hasher: Sha256,
    written: u64,
}

impl CacheWriter {
    /// Bytes written so far, resumed ones included.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Opens the bytes taken over from an earlier run, for reading them
    /// back before the rest of the blob.
    pub fn resumed_bytes(&self) -> io::Result<impl Read + Send + use<>> {
        Ok(File::open(&self.partial)?.take(self.written))
    }

    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some(file) = &mut self.file {
            file.write_all(bytes)?;
        }
        self.hasher.update(bytes);
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Removes the partial file: its bytes are not worth resuming from.
    pub fn discard(mut self) {
        drop(self.file.take());
        let _ = fs::remove_file(&self.partial);
    }

    /// Moves the blob into place when its content matches the digest;
    /// otherwise removes it and returns the digest it has.
    pub fn commit(mut self) -> io::Result<Result<(), Digest>> {
        // No fsync: a file cut short by a crash fails its check on read
        // and is removed then.
        drop(self.file.take());
        let actual = Digest::from_sha256(&self.hasher.clone().finalize());
        if actual != self.digest {
            let _ = fs::remove_file(&self.partial);
            return Ok(Err(actual));
        }
        if let Some(parent) = self.target.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::rename(&self.partial, &self.target)?;
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(bytes: &[u8]) -> Digest {
        Digest::sha256_of(bytes)
    }

    #[test]
    fn write_verify_and_open() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::new(dir.path(), DEFAULT_MAX_BYTES);
        let blob = b"layer bytes".to_vec();
        let digest = digest_of(&blob);
        assert!(cache.open(&digest).is_none());
        let mut writer = cache.writer(&digest).unwrap();
        writer.write(&blob[..5]).unwrap();
        writer.write(&blob[5..]).unwrap();
        assert_eq!(writer.commit().unwrap(), Ok(()));
        let mut read = Vec::new();
        cache.open(&digest).unwrap().read_to_end(&mut read).unwrap();
        assert_eq!(read, blob);
        assert_eq!(cache.usage().unwrap().blobs, 1);
    }

    #[test]
    fn wrong_content_not_committed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::new(dir.path(), DEFAULT_MAX_BYTES);
        let digest = digest_of(b"expected");
        let mut writer = cache.writer(&digest).unwrap();
        writer.write(b"something else").unwrap();
        assert_eq!(writer.commit().unwrap(), Err(digest_of(b"something else")));
        assert!(cache.open(&digest).is_none());
        assert_eq!(cache.usage().unwrap(), CacheUsage::default());
    }

    #[test]
    fn damaged_blob_removed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::new(dir.path(), DEFAULT_MAX_BYTES);
        let digest = digest_of(b"content");
        let mut writer = cache.writer(&digest).unwrap();
        writer.write(b"content").unwrap();
        writer.commit().unwrap().unwrap();
        fs::write(cache.blob_path(&digest), b"c0ntent").unwrap();
        let mut read = Vec::new();
        let error = cache
            .open(&digest)
            .unwrap()
            .read_to_end(&mut read)
            .unwrap_err();
        assert!(error.to_string().contains("was damaged"), "{error}");
        assert!(!cache.blob_path(&digest).exists());
        assert!(cache.open(&digest).is_none());
    }

    #[test]
    fn resume_keeps_partial_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::new(dir.path(), DEFAULT_MAX_BYTES);
        let blob = b"0123456789".to_vec();
        let digest = digest_of(&blob);
        let mut first = cache.writer(&digest).unwrap();
        first.write(&blob[..4]).unwrap();
        drop(first);
        let mut second = cache.writer(&digest).unwrap();
        assert_eq!(second.written(), 4);
        let mut resumed = Vec::new();
        second
            .resumed_bytes()
            .unwrap()
            .read_to_end(&mut resumed)
            .unwrap();
        assert_eq!(resumed, b"0123");
        // A download of the same blob started meanwhile gets its own file.
        let third = cache.writer(&digest).unwrap();
        assert_eq!(third.written(), 0);
        drop(third);
        second.write(&blob[4..]).unwrap();
        assert_eq!(second.commit().unwrap(), Ok(()));
        assert!(cache.open(&digest).is_some());
    }

    #[test]
    fn eviction_removes_least_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::new(dir.path(), 25);
        let mut digests = Vec::new();
        for (index, content) in [b"aaaaaaaaaa", b"bbbbbbbbbb", b"cccccccccc"]
            .iter()
            .enumerate()
        {
            let digest = digest_of(*content);
            let mut writer = cache.writer(&digest).unwrap();
            writer.write(*content).unwrap();
            writer.commit().unwrap().unwrap();
            let age = SystemTime::now() - std::time::Duration::from_secs(100 - index as u64 * 10);
            File::options()
                .write(true)
                .open(cache.blob_path(&digest))
                .unwrap()
                .set_modified(age)
                .unwrap();
            digests.push(digest);
        }
        // The oldest is used now, so the second-oldest goes.
        assert!(cache.open(&digests[0]).is_some());
        assert_eq!(cache.evict().unwrap(), 1);
        assert!(cache.blob_path(&digests[0]).exists());
        assert!(!cache.blob_path(&digests[1]).exists());
        assert!(cache.blob_path(&digests[2]).exists());
    }
}
