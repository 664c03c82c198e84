//! Random access to the members of a tar file (an `oci-archive` or a
//! `docker-archive`). One pass over the headers records where each member's
//! data starts; members are then read with a seek, so nothing is extracted.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::{ImageError, Result};
use crate::layer::normalize_entry_path;

/// Maximum members in an image archive. Real archives have a few per layer.
const MAX_MEMBERS: usize = 100_000;

/// Maximum symbolic links followed between members (skopeo's docker-archive
/// links `<id>/layer.tar` to the layer blob).
const MAX_LINK_HOPS: usize = 8;

#[derive(Debug)]
enum Member {
    File { offset: u64, size: u64 },
    Link { target: String },
}

/// The member index of a tar file.
#[derive(Debug)]
pub(crate) struct TarIndex {
    path: PathBuf,
    members: HashMap<String, Member>,
}

impl TarIndex {
    /// Indexes `path`. Fails with `NotAnImage` when the file is not a tar.
    pub(crate) fn open(path: &Path, image: &str) -> Result<Self> {
        let format = super::sniff(path)?;
        if matches!(format, super::FileFormat::Gzip | super::FileFormat::Zstd) {
            return Err(ImageError::NotAnImage {
                image: image.to_owned(),
                reason: format!(
                    "the archive is {}-compressed, but image archives are read by seeking in a plain tar; decompress it first",
                    format.name()
                ),
            });
        }
        let file = File::open(path).map_err(|e| ImageError::io(path, e))?;
        let mut archive = tar::Archive::new(file);
        let not_tar = |reason: String| ImageError::NotAnImage {
            image: image.to_owned(),
            reason,
        };
        let mut members = HashMap::new();

        let entries = archive
            .entries_with_seek()
            .map_err(|e| not_tar(format!("not a tar archive ({e})")))?;
        for entry in entries {
            let entry = entry.map_err(|e| not_tar(format!("not a valid tar archive ({e})")))?;
            if members.len() >= MAX_MEMBERS {
                return Err(not_tar(format!(
                    "the archive has more than {MAX_MEMBERS} members"
                )));
            }
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Ok(name) = normalize_entry_path(raw.trim_start_matches('/')) else {
                continue;
            };
            let member = match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => Member::File {
                    offset: entry.raw_file_position(),
                    size: entry.size(),
                },
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry
                        .link_name_bytes()
                        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                        .unwrap_or_default();
                    let target = if entry.header().entry_type() == tar::EntryType::Symlink {
                        let parent = name.rsplit_once('/').map_or("", |(parent, _)| parent);
                        format!("{parent}/{target}")
                    } else {
                        target
                    };
                    match normalize_entry_path(target.trim_start_matches('/')) {
                        Ok(target) => Member::Link { target },
                        Err(_) => continue,
                    }
                }
                _ => continue,
            };
            members.insert(name, member);
        }
        if members.is_empty() {
            return Err(not_tar("the file is empty or not a tar archive".to_owned()));
        }
        Ok(TarIndex {
            path: path.to_owned(),
            members,
        })
    }

    /// Whether a regular member (or a link to one) exists.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.locate(name).is_some()
    }

    fn locate(&self, name: &str) -> Option<(u64, u64)> {
        let mut name = normalize_entry_path(name.trim_start_matches('/')).ok()?;
        for _ in 0..=MAX_LINK_HOPS {
            match self.members.get(&name)? {
                Member::File { offset, size } => return Some((*offset, *size)),
                Member::Link { target } => name = target.clone(),
            }
        }
        None
    }

    /// The size of a member.
    pub(crate) fn size(&self, name: &str) -> Option<u64> {
        self.locate(name).map(|(_, size)| size)
    }

    /// Opens a member for reading; `None` when it does not exist.
    pub(crate) fn open_member(&self, name: &str) -> io::Result<Option<Box<dyn Read + Send>>> {
        let Some((offset, size)) = self.locate(name) else {
            return Ok(None);
        };
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(offset))?;
        Ok(Some(Box::new(file.take(size))))
    }

    /// Reads a small member whole, refusing members larger than `max` bytes.
    pub(crate) fn read_small(&self, name: &str, max: u64) -> io::Result<Option<Vec<u8>>> {
        match self.size(name) {
            Some(size) if size > max => Err(io::Error::other(format!(
                "{name} is {size} bytes, more than the {max} allowed"
            ))),
            Some(_) => {
                let mut buffer = Vec::new();
                if let Some(mut reader) = self.open_member(name)? {
                    reader.read_to_end(&mut buffer)?;
                }
                Ok(Some(buffer))
            }
            None => Ok(None),
        }
    }
}
