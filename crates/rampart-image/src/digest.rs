//! Content digests (`algorithm:hex`, OCI image-spec "Digests") and a reader
//! that hashes what passes through it, so blobs are verified while they stream.

use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use sha2::{Digest as _, Sha256};

/// An OCI content digest. Only `sha256` is accepted. The image spec also
/// registers `sha512`, which is rare in practice, so a `sha512` digest is
/// rejected with a clear error instead of leaving a blob unverified.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Builds a digest from a raw SHA-256 hash.
    pub fn from_sha256(hash: &[u8]) -> Self {
        Digest {
            hex: hex::encode(hash),
        }
    }

    /// Hashes `bytes` with SHA-256.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        Self::from_sha256(&Sha256::digest(bytes))
    }

    /// The lowercase hexadecimal hash, without the algorithm prefix.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The first 12 hex digits, as `docker images` shows them.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }
}

impl FromStr for Digest {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let Some((algorithm, hex)) = text.split_once(':') else {
            return Err(format!(
                "digest {text:?} has no algorithm prefix such as sha256:"
            ));
        };
        if algorithm != "sha256" {
            return Err(format!(
                "digest {text:?} uses {algorithm}, but only sha256 is supported"
            ));
        }
        let valid = hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !valid {
            return Err(format!("digest {text:?} is not 64 lowercase hex digits"));
        }
        Ok(Digest {
            hex: hex.to_owned(),
        })
    }
}

impl TryFrom<String> for Digest {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Digest> for String {
    fn from(digest: Digest) -> String {
        digest.to_string()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Bytes handed to a background hashing thread at a time.
const CHUNK_BYTES: usize = 256 * 1024;

/// Chunks queued for the background thread before the reader waits.
const CHUNKS_IN_FLIGHT: usize = 4;

/// The hashing mode of a [`HashingReader`].
enum Hasher {
    /// Only count bytes.
    None,
    /// Hash on the reading thread.
    Inline(Sha256),
    /// Hash on a separate thread, fed with copied chunks whose buffers come
    /// back for reuse.
    Background {
        pending: Vec<u8>,
        sender: Option<SyncSender<Vec<u8>>>,
        spare: Receiver<Vec<u8>>,
        worker: Option<JoinHandle<Digest>>,
    },
}

/// A reader that SHA-256 hashes and counts every byte read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Hasher::Inline(Sha256::new()),
            bytes: 0,
        }
    }

    /// Creates a reader that only counts bytes; `finish` then returns no digest.
    pub fn counting(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Hasher::None,
            bytes: 0,
        }
    }

    /// Creates a reader that hashes on a separate thread, so the hashing
    /// overlaps the work of the reading thread when a CPU is free.
    pub fn in_background(inner: R) -> Self {
        let (sender, chunks) = sync_channel::<Vec<u8>>(CHUNKS_IN_FLIGHT);
        let (recycle, spare) = sync_channel::<Vec<u8>>(CHUNKS_IN_FLIGHT + 2);
        let worker = std::thread::spawn(move || {
            let mut hasher = Sha256::new();
            for mut chunk in chunks {
                hasher.update(&chunk);
                chunk.clear();
                // A full return queue, or a reader that is gone, drops the buffer.
                let _ = recycle.try_send(chunk);
            }
            Digest::from_sha256(&hasher.finalize())
        });
        HashingReader {
            inner,
            hasher: Hasher::Background {
                pending: Vec::with_capacity(CHUNK_BYTES),
                sender: Some(sender),
                spare,
                worker: Some(worker),
            },
            bytes: 0,
        }
    }

    /// The wrapped reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Reads the rest of the stream, then returns the digest (none for a
    /// counting reader) and byte count of everything that passed through.
    pub fn finish(mut self) -> io::Result<(Option<Digest>, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        let digest = match self.hasher {
            Hasher::None => None,
            Hasher::Inline(hasher) => Some(Digest::from_sha256(&hasher.finalize())),
            Hasher::Background {
                mut pending,
                mut sender,
                worker,
                ..
            } => {
                send_chunk(&mut sender, std::mem::take(&mut pending))?;
                drop(sender);
                let worker =
                    worker.ok_or_else(|| io::Error::other("the hashing thread is gone"))?;
                Some(
                    worker
                        .join()
                        .map_err(|_| io::Error::other("the hashing thread panicked"))?,
                )
            }
        };
        Ok((digest, self.bytes))
    }
}

fn send_chunk(sender: &mut Option<SyncSender<Vec<u8>>>, chunk: Vec<u8>) -> io::Result<()> {
    if chunk.is_empty() {
        return Ok(());
    }
    match sender.as_ref().map(|sender| sender.send(chunk)) {
        Some(Ok(())) => Ok(()),
        _ => Err(io::Error::other("the hashing thread stopped")),
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buf)?;
        self.bytes += count as u64;
        match &mut self.hasher {
            Hasher::None => {}
            Hasher::Inline(hasher) => hasher.update(&buf[..count]),
            Hasher::Background {
                pending,
                sender,
                spare,
                ..
            } => {
                pending.extend_from_slice(&buf[..count]);
                if pending.len() >= CHUNK_BYTES {
                    let next = spare
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(CHUNK_BYTES));
                    send_chunk(sender, std::mem::replace(pending, next))?;
                }
            }
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_parse_round_trip() {
        let text = "sha256:adb396b56605e9bf62e7676c4dc6162535f874c5506f94852656bb046fbc3849";
        let digest: Digest = text.parse().unwrap();
        assert_eq!(digest.to_string(), text);
        assert_eq!(digest.short(), "adb396b56605");
    }

    #[test]
    fn digest_parse_rejects_bad_input() {
        assert!("adb396".parse::<Digest>().is_err());
        assert!("sha512:00".parse::<Digest>().is_err());
        assert!(
            "sha256:ADB396B56605E9BF62E7676C4DC6162535F874C5506F94852656BB046FBC3849"
                .parse::<Digest>()
                .is_err()
        );
        assert!("sha256:../../etc/passwd".parse::<Digest>().is_err());
    }

    #[test]
    fn background_hashing_matches_inline() {
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut reader = HashingReader::in_background(&data[..]);
        let mut head = vec![0u8; 300_000];
        reader.read_exact(&mut head).unwrap();
        let (digest, bytes) = reader.finish().unwrap();
        assert_eq!(bytes, 1_000_000);
        assert_eq!(digest, Some(Digest::sha256_of(&data)));
    }

    #[test]
    fn hashing_reader_hashes_all_bytes() {
        let mut reader = HashingReader::new(&b"hello"[..]);
        let mut first = [0u8; 2];
        reader.read_exact(&mut first).unwrap();
        let (digest, bytes) = reader.finish().unwrap();
        assert_eq!(bytes, 5);
        assert_eq!(digest, Some(Digest::sha256_of(b"hello")));
    }
}
