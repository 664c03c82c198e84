//! Importer of the Debian security tracker's advisory lists: `data/DSA/list`
//! (Debian Security Advisories), `data/DLA/list` (Debian LTS Advisories) and
//! `data/DTSA/list` (Debian Testing Security Advisories).
//!
//! The grammar follows the tracker's own parser (`lib/python/sectracker/
//! parsers.py`, `dsalist`, `dlalist`, `dtsalist` and the annotation rules):
//!
//! ```text
//! [29 Mar 2023] DSA-5380-1 xorg-server - security update
//!     {CVE-2023-1393}
//!     [bullseye] - xorg-server 2:1.20.11-1+deb11u6
//! [August 26th, 2005] DTSA-1-1 kismet - various
//!     [etch] - kismet 2005.08.R1-0.1etch1 (high)
//! ```
//!
//! - A header starts at column 0: a date in brackets, the advisory id, and
//!   a description (usually `package - summary`). DSA and DLA dates read
//!   `29 Mar 2023`, DTSA dates `August 26th, 2005`.
//! - Indented lines (a tab in the real files, spaces in a few old entries)
//!   annotate the advisory above them: `{…}` lists the CVE
//!   ids it fixes, and `[release] - package version` gives the fixed source
//!   version in a release. In place of a version a line may carry a
//!   pseudo-version: `<not-affected>`, `<unfixed>`, `<end-of-life>`,
//!   `<no-dsa>`, `<ignored>`, `<postponed>`, `<undetermined>`,
//!   `<removed>` or `<itp>`. A parenthesised tail contains `bug #N` and an
//!   urgency (`low`, `medium`, `high`, `unimportant`) separated by `;`, or
//!   free text after a pseudo-version.
//! - `NOTE:` and `TODO:` lines are free text, kept in the record's details.
//!   A NOTE that itself looks like a release line is not one.
//!
//! One advisory record per header: the CVE ids become aliases, the date the
//! publication time (midnight UTC), the description the summary, and each
//! release line one affected package. DTSA lines name the testing release
//! of their day (etch, lenny, squeeze), which map to those releases' major
//! versions. The source is `debian-dsa`, `debian-dla` or `debian-dtsa`,
//! after the id's prefix.
//!
//! A malformed header skips its whole block, and a malformed annotation
//! only that line, each reported with its line number.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use chrono::NaiveDate;

use super::debian::urgency_severity;
use super::{FeedKind, ImportError, RecordSink, Skipped};
use crate::{Advisory, AffectedPackage, Namespace, Reference, Status};

/// Imports one advisory list file.
pub fn import_file(path: &Path, sink: &mut dyn RecordSink) -> Result<(), ImportError> {
    let file = File::open(path).map_err(|error| ImportError::io(path, error))?;
    import_reader(file, path, sink)
}

/// Imports an advisory list from `reader`; `file` names it in errors and
/// skipped lines. Fails when reading fails, or when the file has content
/// but not one advisory header, because it is then not a tracker list. The
/// lines skipped before that error have already been reported.
pub fn import_reader<R: Read>(
    reader: R,
    file: &Path,
    sink: &mut dyn RecordSink,
) -> Result<(), ImportError> {
    let mut reader = BufReader::new(reader);
    let mut parser = ListParser {
        file,
        sink,
        current: None,
        skipping_block: false,
        advisories: 0,
        bad_headers: 0,
    };
    let mut bytes = Vec::new();
    let mut number = 0usize;

    loop {
        bytes.clear();
        let read = reader
            .read_until(b'\n', &mut bytes)
            .map_err(|error| ImportError::io(file, error))?;
        if read == 0 {
            break;
        }
        number += 1;
        // The lists are ASCII; a stray invalid byte should not cost the line.
        let line = String::from_utf8_lossy(&bytes);
        parser.read_line(line.trim_end_matches(['\n', '\r']), number);
    }
    parser.finish();

    if parser.advisories == 0 && parser.bad_headers > 0 {
        return Err(ImportError::format(
            file,
            FeedKind::DebianAdvisoryList,
            "no `[date] DSA-…`, `DLA-…` or `DTSA-…` header found; is this a tracker list file?",
        ));
    }
    Ok(())
}

struct ListParser<'a> {
    file: &'a Path,
    sink: &'a mut dyn RecordSink,
    /// The advisory whose annotations are being read.
    current: Option<Advisory>,
    /// Set after a malformed header: its annotations are dropped unread.
    skipping_block: bool,
    advisories: usize,
    bad_headers: usize,
}

impl ListParser<'_> {
    fn read_line(&mut self, line: &str, number: usize) {
        if line.trim().is_empty() {
            return;
        }
        if !line.starts_with([' ', '\t']) {
            self.finish();
            match parse_header(line) {
                Ok(advisory) => {
                    self.current = Some(advisory);
                    self.skipping_block = false;
                }
                Err(reason) => {
                    self.bad_headers += 1;
                    self.skipping_block = true;
                    self.skip(format!("line {number}"), reason);
                }
            }
            return;
        }

        if self.skipping_block {
            return;
        }
        let Some(advisory) = self.current.as_mut() else {
            self.skip(
                format!("line {number}"),
                "annotation before the first advisory header",
            );
            return;
        };
        if let Err(reason) = add_annotation(advisory, line.trim()) {
            let record = format!("{} (line {number})", advisory.id);
            self.skip(record, reason);
        }
    }

    /// Hands the advisory being read to the sink.
    fn finish(&mut self) {
        if let Some(advisory) = self.current.take() {
            self.advisories += 1;
            self.sink.advisory(advisory);
        }
    }

    fn skip(&mut self, record: String, reason: impl Into<String>) {
        self.sink.skipped(Skipped {
            file: self.file.to_owned(),
            record,
            reason: reason.into(),
        });
    }
}

/// Parses `[29 Mar 2023] DSA-5380-1 xorg-server - security update` into an
/// advisory with no annotations yet.
fn parse_header(line: &str) -> Result<Advisory, String> {
    let Some(rest) = line.strip_prefix('[') else {
        return Err("expected a header starting with `[date]`".to_owned());
    };
    let Some((date, rest)) = rest.split_once(']') else {
        return Err("missing `]` after the date".to_owned());
    };
    let published =
        parse_date(date.trim()).ok_or_else(|| format!("invalid advisory date {date:?}"))?;
    let rest = rest.trim();
    let (id, description) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let source = source_of(id)?;

    Ok(Advisory {
        id: id.to_owned(),
        source: source.to_owned(),
        published: published.and_hms_opt(0, 0, 0).map(|time| time.and_utc()),
        summary: description.trim().to_owned(),
        references: vec![Reference {
            kind: Some("ADVISORY".to_owned()),
            url: format!("https://security-tracker.debian.org/tracker/{id}"),
        }],
        ..Advisory::default()
    })
}

/// Returns the record source of an advisory id, checking its shape
/// (`DSA-5380-1`, `DSA-1304`, `DLA-3380-1`, `DTSA-1-1`).
fn source_of(id: &str) -> Result<&'static str, String> {
    let (prefix, number) = id.split_once('-').unwrap_or((id, ""));
    let source = match prefix {
        "DSA" => "debian-dsa",
        "DLA" => "debian-dla",
        "DTSA" => "debian-dtsa",
        _ => return Err(format!("{id:?} is not a DSA, DLA or DTSA id")),
    };
    let parts: Vec<&str> = number.split('-').collect();
    let well_formed = parts.len() <= 2
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()));
    if !well_formed {
        return Err(format!("{id:?} is not a DSA, DLA or DTSA id"));
    }
    Ok(source)
}

/// Parses `29 Mar 2023` (DSA, DLA) or `August 26th, 2005` (DTSA).
fn parse_date(text: &str) -> Option<NaiveDate> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%d %b %Y") {
        return Some(date);
    }
    let mut words = text.split_whitespace();
    let (month, day, year) = (words.next()?, words.next()?, words.next()?);
    if words.next().is_some() {
        return None;
    }
    let day = day
        .trim_end_matches(',')
        .trim_end_matches(|c: char| c.is_ascii_alphabetic());
    NaiveDate::parse_from_str(&format!("{month} {day} {year}"), "%B %d %Y").ok()
}

/// Adds one annotation line (already trimmed) to the advisory.
fn add_annotation(advisory: &mut Advisory, line: &str) -> Result<(), String> {
    if let Some(ids) = line.strip_prefix('{') {
        let Some(ids) = ids.strip_suffix('}') else {
            return Err("missing `}` at the end of the id list".to_owned());
        };
        for id in ids.split_whitespace() {
            if !advisory.aliases.iter().any(|known| known == id) {
                advisory.aliases.push(id.to_owned());
            }
        }
        return Ok(());
    }
    if line.starts_with("NOTE:") || line.starts_with("TODO:") {
        if !advisory.details.is_empty() {
            advisory.details.push('\n');
        }
        advisory.details.push_str(line);
        return Ok(());
    }
    if line.starts_with('[') {
        advisory.affected.push(parse_release_line(line)?);
        return Ok(());
    }
    Err(format!("unrecognised annotation {line:?}"))
}

/// Parses `[bullseye] - xorg-server 2:1.20.11-1+deb11u6 (bug #1; high)`.
fn parse_release_line(line: &str) -> Result<AffectedPackage, String> {
    let invalid = || format!("expected `[release] - package version`, found {line:?}");
    let (release, rest) = line
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .ok_or_else(invalid)?;
    let rest = rest.trim_start().strip_prefix('-').ok_or_else(invalid)?;
    let rest = rest.trim_start();
    let (package, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let release = release.trim();
    if release.is_empty() || package.is_empty() {
        return Err(invalid());
    }

    let namespace = Namespace::distro("debian", release);
    let rest = rest.trim();
    let (mut affected, inner) = if let Some(pseudo) = rest.strip_prefix('<') {
        let (kind, tail) = pseudo.split_once('>').ok_or_else(invalid)?;
        let mut affected = AffectedPackage::new(namespace, package);
        affected.status = pseudo_version_status(kind)?;
        (affected, parenthesised(tail)?)
    } else if rest.is_empty() || rest.starts_with('(') {
        // A line with no version is `<unfixed>` in the tracker's grammar.
        let mut affected = AffectedPackage::new(namespace, package);
        affected.status = Status::NotFixed;
        (affected, parenthesised(rest)?)
    } else {
        let (version, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        (
            AffectedPackage::fixed_in(namespace, package, version),
            parenthesised(tail)?,
        )
    };

    // Only structured tails carry an urgency; free text after a
    // pseudo-version (`<not-affected> (Vulnerable code not present)`) does not.
    let urgency = inner.and_then(|inner| {
        inner
            .split(';')
            .map(str::trim)
            .find(|item| matches!(*item, "low" | "medium" | "high" | "unimportant"))
    });
    if let Some(urgency) = urgency {
        affected.urgency = Some(urgency.to_owned());
        affected.severities.extend(urgency_severity(urgency));
    }
    Ok(affected)
}

/// Returns the text inside a trailing `(…)`, `None` for an empty tail.
fn parenthesised(tail: &str) -> Result<Option<&str>, String> {
    let tail = tail.trim();
    if tail.is_empty() {
        return Ok(None);
    }
    tail.strip_prefix('(')
        .and_then(|inner| inner.strip_suffix(')'))
        .map(Some)
        .ok_or_else(|| format!("unexpected text {tail:?} after the version"))
}

/// Maps a pseudo-version (`<not-affected>` without the brackets).
fn pseudo_version_status(kind: &str) -> Result<Status, String> {
    let status = match kind {
        "not-affected" => Status::NotAffected,
        // The package is gone from the release or never entered Debian, so
        // no installed version of the release carries it.
        "removed" | "itp" => Status::NotAffected,
        "unfixed" => Status::NotFixed,
        "end-of-life" => Status::EndOfLife,
        "no-dsa" | "ignored" | "postponed" => Status::WontFix,
        "undetermined" => Status::Undetermined,
        other => return Err(format!("unknown pseudo-version <{other}>")),
    };
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rating;

    #[test]
    fn dsa_header() {
        let advisory =
            parse_header("[29 Mar 2023] DSA-5380-1 xorg-server - security update").unwrap();
        assert_eq!(advisory.id, "DSA-5380-1");
        assert_eq!(advisory.source, "debian-dsa");
        assert_eq!(advisory.summary, "xorg-server - security update");
        assert_eq!(
            advisory.published.unwrap().date_naive(),
            NaiveDate::from_ymd_opt(2023, 3, 29).unwrap()
        );
    }

    #[test]
    fn dtsa_header_ordinal_date() {
        let advisory = parse_header("[August 22nd, 2005] DTSA-1-1 kismet - various").unwrap();
        assert_eq!(advisory.source, "debian-dtsa");
        assert_eq!(
            advisory.published.unwrap().date_naive(),
            NaiveDate::from_ymd_opt(2005, 8, 22).unwrap()
        );
    }

    #[test]
    fn header_without_revision() {
        let advisory = parse_header("[14 Feb 2007] DSA-1260 imagemagick").unwrap();
        assert_eq!(advisory.id, "DSA-1260");
        assert_eq!(advisory.summary, "imagemagick");
    }

    #[test]
    fn bad_headers_rejected() {
        assert!(parse_header("[31 Foo 2023] DSA-1-1 x").is_err());
        assert!(parse_header("[29 Mar 2023] USN-1-1 x").is_err());
        assert!(parse_header("[29 Mar 2023] DSA-x-1 x").is_err());
        assert!(parse_header("DSA-1-1 x").is_err());
    }

    #[test]
    fn release_line_with_urgency() {
        let affected =
            parse_release_line("[sarge] - awstats 6.4-1sarge1 (bug #322591; medium)").unwrap();
        assert_eq!(
            affected.fixed_versions().collect::<Vec<_>>(),
            ["6.4-1sarge1"]
        );
        assert_eq!(affected.namespace.as_str(), "debian:3.1");
        assert_eq!(affected.urgency.as_deref(), Some("medium"));
        assert_eq!(affected.severities[0].rating, Rating::Medium);
    }

    #[test]
    fn pseudo_versions() {
        let not_affected =
            parse_release_line("[jessie] - libav <not-affected> (Vulnerable code not present)")
                .unwrap();
        assert_eq!(not_affected.status, Status::NotAffected);
        assert!(not_affected.urgency.is_none());
        let unfixed = parse_release_line("[woody] - phpgroupware <unfixed> (high)").unwrap();
        assert_eq!(unfixed.status, Status::NotFixed);
        assert_eq!(unfixed.urgency.as_deref(), Some("high"));
        let end_of_life = parse_release_line("[jessie] - virtualbox <end-of-life>").unwrap();
        assert_eq!(end_of_life.status, Status::EndOfLife);
        assert!(parse_release_line("[jessie] - virtualbox <frozen>").is_err());
    }

    #[test]
    fn trailing_space_after_version() {
        let affected = parse_release_line("[squeeze] - tzdata 2015b-0squeeze1 ").unwrap();
        assert_eq!(
            affected.fixed_versions().collect::<Vec<_>>(),
            ["2015b-0squeeze1"]
        );
    }

    #[test]
    fn id_list_with_padding() {
        let mut advisory = Advisory::default();
        add_annotation(&mut advisory, "{ CVE-2005-2626 CVE-2005-2627 }").unwrap();
        assert_eq!(advisory.aliases, ["CVE-2005-2626", "CVE-2005-2627"]);
        assert!(add_annotation(&mut advisory, "{CVE-2005-2626").is_err());
    }
}
