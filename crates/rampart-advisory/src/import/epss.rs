//! Importer of EPSS scores (FIRST's Exploit Prediction Scoring System), in
//! two CSV layouts:
//!
//! - FIRST's daily file (`epss_scores-YYYY-MM-DD.csv.gz`): a comment line
//!   `#model_version:v2025.03.14,score_date:2025-03-14T00:00:00Z`, the header
//!   `cve,epss,percentile`, then one `CVE-…,0.00043,0.09612` row per CVE.
//!   Older files write the date as `…T00:00:00+0000`.
//! - Per-year crawls of FIRST's API (`CVE_2024_EPSS.csv`): headerless
//!   `CVE-2024-9999;0.004130000;0.343950000` rows with no model line, so
//!   their scores carry no date.
//!
//! The delimiter is taken from the first header or data line (`;` when it
//! has one, else `,`). Both layouts are simple enough to split by hand: no
//! field is quoted. Lines starting with `#` other than the model line are
//! comments. A row whose id is not a CVE id, or whose score or percentile
//! is not a number in 0–1, is skipped with its line number.

use std::fs::File;
use std::io::{BufRead, Read};
use std::path::Path;

use chrono::NaiveDate;

use super::nvd::decompressed;
use super::{FeedKind, ImportError, RecordSink, Skipped};
use crate::EpssScore;

/// Imports an EPSS CSV file, plain or gzip-compressed.
pub fn import_file(path: &Path, sink: &mut dyn RecordSink) -> Result<(), ImportError> {
    let file = File::open(path).map_err(|error| ImportError::io(path, error))?;
    import_reader(file, path, sink)
}

/// Imports EPSS CSV from `reader`; `file` names it in errors and skipped
/// lines. Fails when reading fails, or when the file has content but not
/// one usable row, because it is then not an EPSS file at all. The lines
/// skipped before that error have already been reported.
pub fn import_reader<R: Read>(
    reader: R,
    file: &Path,
    sink: &mut dyn RecordSink,
) -> Result<(), ImportError> {
    let mut reader = decompressed(reader).map_err(|error| ImportError::io(file, error))?;
    let mut state = FileState::default();
    let mut line = Vec::new();
    let mut number = 0usize;

    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|error| ImportError::io(file, error))?;
        if read == 0 {
            break;
        }
        number += 1;
        let outcome = match std::str::from_utf8(&line) {
            Ok(text) => state.read_line(text.trim_start_matches('\u{feff}').trim()),
            Err(_) => Line::Malformed("not valid UTF-8".to_owned()),
        };
        match outcome {
            Line::Ignored => {}
            Line::Score(score) => {
                state.scores += 1;
                sink.epss(score);
            }
            Line::Malformed(reason) => {
                state.malformed += 1;
                sink.skipped(Skipped {
                    file: file.to_owned(),
                    record: format!("line {number}"),
                    reason,
                });
            }
        }
    }

    if state.scores == 0 && state.malformed > 0 {
        return Err(ImportError::format(
            file,
            FeedKind::Epss,
            format!(
                "none of its {} data lines is a `CVE-…,score,percentile` row",
                state.malformed
            ),
        ));
    }
    Ok(())
}

/// The reader's knowledge of the file so far.
#[derive(Default)]
struct FileState {
    /// The score date of the model line, once seen.
    date: Option<NaiveDate>,
    /// Set by the first header or data line.
    delimiter: Option<char>,
    scores: usize,
    malformed: usize,
}

/// The kind of one line of the file.
enum Line {
    Ignored,
    Score(EpssScore),
    Malformed(String),
}

impl FileState {
    fn read_line(&mut self, text: &str) -> Line {
        if text.is_empty() {
            return Line::Ignored;
        }
        if let Some(comment) = text.strip_prefix('#') {
            if let Some(date) = model_line_date(comment) {
                self.date = Some(date);
            }
            return Line::Ignored;
        }

        let delimiter = *self
            .delimiter
            .get_or_insert(if text.contains(';') { ';' } else { ',' });
        let mut fields = text.split(delimiter).map(str::trim);
        let cve = fields.next().unwrap_or_default();
        if cve.eq_ignore_ascii_case("cve") {
            return Line::Ignored;
        }
        if !cve.starts_with("CVE-") {
            return Line::Malformed(format!("{cve:?} is not a CVE id"));
        }
        let score = match probability(fields.next(), "epss") {
            Ok(score) => score,
            Err(reason) => return Line::Malformed(reason),
        };
        let percentile = match probability(fields.next(), "percentile") {
            Ok(percentile) => percentile,
            Err(reason) => return Line::Malformed(reason),
        };

        Line::Score(EpssScore {
            cve: cve.to_owned(),
            score,
            percentile,
            date: self.date,
        })
    }
}

/// Reads the score date from a model line's text after `#`:
/// `model_version:v2025.03.14,score_date:2025-03-14T00:00:00Z`.
fn model_line_date(comment: &str) -> Option<NaiveDate> {
    let date = comment
        .split(',')
        .find_map(|part| part.trim().strip_prefix("score_date:"))?;
    NaiveDate::parse_from_str(date.get(..10)?, "%Y-%m-%d").ok()
}

fn probability(field: Option<&str>, name: &str) -> Result<f32, String> {
    let Some(text) = field.filter(|text| !text.is_empty()) else {
        return Err(format!("missing the {name} column"));
    };
    match text.parse::<f32>() {
        Ok(value) if (0.0..=1.0).contains(&value) => Ok(value),
        _ => Err(format!("{name} {text:?} is not a number from 0 to 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_line_dates() {
        let date = NaiveDate::from_ymd_opt(2025, 3, 14);
        assert_eq!(
            model_line_date("model_version:v2025.03.14,score_date:2025-03-14T00:00:00Z"),
            date
        );
        assert_eq!(
            model_line_date("model_version:v2023.03.01,score_date:2025-03-14T00:00:00+0000"),
            date
        );
        assert_eq!(model_line_date("some other comment"), None);
    }

    #[test]
    fn delimiter_from_first_line() {
        let mut state = FileState::default();
        assert!(matches!(
            state.read_line("CVE-2024-9999;0.004130000;0.343950000"),
            Line::Score(_)
        ));
        assert_eq!(state.delimiter, Some(';'));
        assert!(matches!(
            state.read_line("CVE-2024-9998,0.1,0.2"),
            Line::Malformed(_)
        ));
    }

    #[test]
    fn out_of_range_score_rejected() {
        let mut state = FileState::default();
        let Line::Malformed(reason) = state.read_line("CVE-2024-1,1.5,0.2") else {
            panic!("score 1.5 was accepted");
        };
        assert!(reason.contains("epss"), "{reason}");
    }
}
