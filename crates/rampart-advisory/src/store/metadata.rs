//! The metadata that a database records about its own build, for `rampart
//! db info` and for deciding when a database is stale.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::Namespace;

/// The facts about a build that the caller of
/// [`super::DatabaseBuilder::finish`] passes in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuildMetadata {
    pub built_at: DateTime<Utc>,
    pub rampart_version: String,
    pub inputs: Vec<InputMeta>,
}

/// One feed file or URL a database was built from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputMeta {
    /// The feed format, as [`crate::import::FeedKind::name`] gives it.
    pub feed: String,
    /// The path or URL that was read.
    pub location: String,
    pub fetched_at: Option<DateTime<Utc>>,
    /// The HTTP `ETag` of a downloaded feed.
    pub etag: Option<String>,
    /// The HTTP `Last-Modified` of a downloaded feed, as the server sent it.
    pub last_modified: Option<String>,
}

/// The metadata stored in a database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub schema_version: u32,
    pub built_at: DateTime<Utc>,
    pub rampart_version: String,
    pub inputs: Vec<InputMeta>,
    /// One entry per advisory source, sorted by source.
    pub sources: Vec<SourceMeta>,
    /// Every namespace with its number of affected entries of non-withdrawn
    /// advisories, sorted by namespace.
    pub namespaces: Vec<(Namespace, u64)>,
    pub kev_count: u64,
    pub epss_count: u64,
    /// The newest EPSS model date among the stored scores.
    pub epss_newest_date: Option<NaiveDate>,
    /// Records the importers skipped, over all inputs.
    pub skipped: u64,
    /// The first skipped records, as `FILE: skipped RECORD: REASON`.
    pub skipped_examples: Vec<String>,
}

/// Counts of one advisory source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceMeta {
    /// The source name of the records (`osv:pypi`, `debian-tracker`, …). For
    /// skipped records, whose source is unknown, the feed name of the input
    /// whose location contains the skipped file, or `unknown`.
    pub source: String,
    /// Advisories after merging the records of one (source, id).
    pub records: u64,
    pub newest_modified: Option<DateTime<Utc>>,
    /// Withdrawn advisories among `records`.
    pub withdrawn: u64,
    pub skipped: u64,
}
