//! Errors of ingestion: every message names the file, the row or feature, the field and the
//! offending value, and says what was expected.

use std::path::{Path, PathBuf};

/// A problem that stops loading one input file.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file could not be opened or read.
    #[error("{}: cannot read the file: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is empty or holds no usable records.
    #[error("{}: the file is empty: expected {expected}", file.display())]
    Empty {
        /// The file.
        file: PathBuf,
        /// What the file should have held.
        expected: String,
    },
    /// The file is not in the expected format at all (not JSON, not CSV/Parquet, wrong top-level type).
    #[error("{}: {message}", file.display())]
    Format {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A required column is missing from a table.
    #[error("{}: missing column `{column}` ({expected}); the file has columns: {found}", file.display())]
    MissingColumn {
        /// The file.
        file: PathBuf,
        /// The missing column.
        column: String,
        /// What the column should hold.
        expected: String,
        /// The columns the file does have, comma-separated.
        found: String,
    },
    /// One or more features of a boundary file are invalid; all problems found are listed.
    #[error("{}: {} invalid feature(s):\n{}", file.display(), problems.len(), join_lines(problems))]
    Features {
        /// The file.
        file: PathBuf,
        /// One line per problem: feature index, code, field, value, what is expected.
        problems: Vec<String>,
    },
    /// One or more rows of a table are invalid in a way that cannot be skipped (for example a
    /// duplicate id or a reference to an unknown area); all problems found are listed.
    #[error("{}: {} invalid row(s):\n{}", file.display(), problems.len(), join_lines(problems))]
    Rows {
        /// The file.
        file: PathBuf,
        /// One line per problem: row number (1-based, header excluded), column, value, expectation.
        problems: Vec<String>,
    },
}

/// At most this many problems are listed in one error; the rest are counted.
pub const MAX_LISTED_PROBLEMS: usize = 20;

fn join_lines(problems: &[String]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl IngestError {
    /// Wraps an I/O error with the file it concerns.
    pub fn io(file: &Path, source: std::io::Error) -> Self {
        Self::Io {
            file: file.to_owned(),
            source,
        }
    }

    /// A format error for `file`.
    pub fn format(file: &Path, message: impl Into<String>) -> Self {
        Self::Format {
            file: file.to_owned(),
            message: message.into(),
        }
    }
}

/// A cell's text for a message: `"XXX"` quoted, or `empty` when there is none (never Rust's
/// `Some("XXX")`).
#[must_use]
pub fn shown(value: Option<&str>) -> String {
    match value {
        Some(v) if !v.is_empty() => format!("{v:?}"),
        _ => "empty".to_owned(),
    }
}

/// Collects problems up to [`MAX_LISTED_PROBLEMS`], counting the rest.
#[derive(Debug, Default)]
pub struct Problems {
    listed: Vec<String>,
    more: usize,
}

impl Problems {
    /// Records one problem.
    pub fn push(&mut self, problem: String) {
        if self.listed.len() < MAX_LISTED_PROBLEMS {
            self.listed.push(problem);
        } else {
            self.more += 1;
        }
    }

    /// True when nothing was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// The listed problems, with a last line counting those not listed.
    #[must_use]
    pub fn into_lines(mut self) -> Vec<String> {
        if self.more > 0 {
            self.listed.push(format!("… and {} more", self.more));
        }
        self.listed
    }
}
