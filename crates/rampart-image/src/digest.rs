//! Content digests (`algorithm:hex`, OCI image-spec "Digests") and a reader
//! that hashes what passes through it, so blobs are verified while they stream.

use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// An OCI content digest. Only `sha256` is accepted because it is the only
/// algorithm registries and image builders produce for layers in practice;
/// `sha512` blobs are rejected with a clear error rather than left unverified.
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

/// A reader that SHA-256 hashes and counts every byte read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Some(Sha256::new()),
            bytes: 0,
        }
    }

    /// Creates a reader that only counts bytes; `finish` then returns no digest.
    pub fn counting(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: None,
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

    /// Reads the rest of the stream, then returns the digest and byte count of
    /// everything that passed through.
    pub fn finish(mut self) -> io::Result<(Option<Digest>, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        let digest = self
            .hasher
            .map(|hasher| Digest::from_sha256(&hasher.finalize()));
        Ok((digest, self.bytes))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buf)?;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..count]);
        }
        self.bytes += count as u64;
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
    fn hashing_reader_hashes_all_bytes() {
        let mut reader = HashingReader::new(&b"hello"[..]);
        let mut first = [0u8; 2];
        reader.read_exact(&mut first).unwrap();
        let (digest, bytes) = reader.finish().unwrap();
        assert_eq!(bytes, 5);
        assert_eq!(digest, Some(Digest::sha256_of(b"hello")));
    }
}
