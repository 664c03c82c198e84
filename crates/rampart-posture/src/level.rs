//! Pod Security Standards levels and policy versions.

use std::fmt;
use std::str::FromStr;

/// The newest policy version whose checks this crate implements. Newer
/// versions parse and evaluate like this one, as upstream evaluates a
/// version newer than its own release with its newest checks.
pub const LATEST_KNOWN_MINOR: u32 = 37;

/// A Pod Security Standards level. `Privileged` has no checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "privileged" => Ok(Level::Privileged),
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            _ => Err(ParseError::Level(text.to_owned())),
        }
    }
}

/// A policy version: `v1.0` … `v1.N`, or `latest`.
///
/// Versions are ordered by minor number, and `latest` sorts after every
/// numbered version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyVersion {
    V1(u32),
    #[default]
    Latest,
}

impl PolicyVersion {
    /// Returns whether a check introduced at policy version v1.`minor` applies.
    pub fn at_least(self, minor: u32) -> bool {
        match self {
            PolicyVersion::V1(own) => own >= minor,
            PolicyVersion::Latest => true,
        }
    }
}

impl fmt::Display for PolicyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyVersion::V1(minor) => write!(f, "v1.{minor}"),
            PolicyVersion::Latest => f.write_str("latest"),
        }
    }
}

impl FromStr for PolicyVersion {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "latest" {
            return Ok(PolicyVersion::Latest);
        }
        let minor = text
            .strip_prefix("v1.")
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            // Leading zeros ("v1.05") are rejected so that each version has one spelling.
            .filter(|digits| digits.len() == 1 || !digits.starts_with('0'))
            .and_then(|digits| digits.parse::<u32>().ok())
            .ok_or_else(|| ParseError::Version(text.to_owned()))?;
        Ok(PolicyVersion::V1(minor))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error(
        "invalid Pod Security Standards level {0:?}; expected privileged, baseline or restricted"
    )]
    Level(String),
    #[error("invalid Pod Security Standards version {0:?}; expected latest or v1.N, such as v1.30")]
    Version(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_parses_numbers_and_latest() {
        assert_eq!("v1.0".parse(), Ok(PolicyVersion::V1(0)));
        assert_eq!("v1.37".parse(), Ok(PolicyVersion::V1(37)));
        assert_eq!("latest".parse(), Ok(PolicyVersion::Latest));
        assert_eq!(PolicyVersion::V1(25).to_string(), "v1.25");
    }

    #[test]
    fn version_rejects_malformed_text() {
        for text in [
            "", "1.25", "v1.", "v2.0", "v1.x", "v1.05", "v1.2.3", "Latest",
        ] {
            assert!(text.parse::<PolicyVersion>().is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn version_gates_checks() {
        assert!(PolicyVersion::V1(25).at_least(25));
        assert!(!PolicyVersion::V1(24).at_least(25));
        assert!(PolicyVersion::Latest.at_least(LATEST_KNOWN_MINOR));
        assert!(PolicyVersion::V1(30) < PolicyVersion::Latest);
    }
}
