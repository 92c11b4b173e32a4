//! Tables (CSV or Parquet, chosen by file extension) read with polars, and typed column access
//! that turns bad cells into row-level issues naming the row, column and value.
//!
//! CSV files are read with every column as text, so that zero-padded codes keep their zeros and a
//! bad number in row 5,000 becomes a row issue instead of failing the whole file. A CSV row with
//! too many or too few fields is kept as a row of nulls and listed in [`Table::malformed`], for
//! the reader to report as a row problem; blank lines are not rows. Row numbers count data rows
//! (header and blank lines excluded).

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::IngestError;

/// File formats for tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// RFC 4180 CSV with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl TableFormat {
    /// The format for a path, by its extension (`.csv` or `.parquet`/`.pq`).
    ///
    /// # Errors
    /// [`IngestError::Format`] for any other extension.
    pub fn of(path: &Path) -> Result<Self, IngestError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Ok(Self::Csv),
            Some("parquet" | "pq") => Ok(Self::Parquet),
            other => Err(IngestError::format(
                path,
                format!(
                    "unsupported extension {:?}: expected .csv or .parquet",
                    other.unwrap_or("")
                ),
            )),
        }
    }
}

/// A table read from one file, with the file's path kept for messages.
pub struct Table {
    /// The file.
    pub path: PathBuf,
    /// The data.
    pub df: DataFrame,
    /// CSV rows with the wrong number of fields: (0-based row, what is wrong), by row. Their
    /// cells are null.
    pub malformed: Vec<(usize, String)>,
}

/// One bad cell: 1-based data row (header excluded), column, value and what was expected.
#[derive(Debug, Clone, PartialEq)]
pub struct CellIssue {
    /// 1-based row number, header excluded.
    pub row: usize,
    /// The column.
    pub column: String,
    /// The value as found (`null` for a missing value).
    pub value: String,
    /// What was expected.
    pub expected: &'static str,
    /// A hint about what the value looks like (e.g. a decimal comma), when there is one.
    pub hint: Option<String>,
}

impl std::fmt::Display for CellIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "row {}: column `{}`: value {}; expected {}",
            self.row, self.column, self.value, self.expected
        )?;
        if let Some(h) = &self.hint {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

/// A hint for a text that is not a number: a decimal comma ("106,75"), or nothing.
#[must_use]
pub fn number_hint(text: &str) -> Option<String> {
    let t = text.trim();
    (t.contains(',') && !t.contains('.'))
        .then(|| t.replacen(',', ".", 1))
        .filter(|p| p.parse::<f64>().is_ok())
        .map(|p| format!("a decimal comma: write {p} with a point"))
}

/// Reads a CSV file with every column as text; rows with the wrong number of fields become null
/// rows listed as malformed.
fn read_csv(path: &Path, expected: &str) -> Result<(DataFrame, Vec<(usize, String)>), IngestError> {
    let bytes = std::fs::read(path).map_err(|e| IngestError::io(path, e))?;
    parse_csv(path, &bytes, expected)
}

/// [`read_csv`] on bytes in memory; `path` names them in messages.
fn parse_csv(
    path: &Path,
    bytes: &[u8],
    expected: &str,
) -> Result<(DataFrame, Vec<(usize, String)>), IngestError> {
    let bad = |e: &csv::Error| match e.kind() {
        csv::ErrorKind::Io(io) => {
            IngestError::io(path, std::io::Error::new(io.kind(), io.to_string()))
        }
        _ => IngestError::format(path, format!("cannot read as CSV: {e}")),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    // Line numbers as an editor shows them (the CSV reader's own count skips blank lines).
    let mut counted = (0_usize, 1_usize);
    let mut line_at = |byte: usize| {
        let (from, line) = counted;
        // A record's position can be where the blank lines before it start.
        let mut byte = byte.min(bytes.len());
        while byte < bytes.len() && matches!(bytes[byte], b'\n' | b'\r') {
            byte += 1;
        }
        let end = byte.max(from);
        let more = bytes[from..end].iter().filter(|&&b| b == b'\n').count();
        counted = (end, line + more);
        line + more
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| bad(&e))?
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = h.trim();
            if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                h
            }
            .to_owned()
        })
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(empty(path, expected));
    }
    let width = headers.len();
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); width];
    let mut malformed = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut row = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| {
                    line_at(usize::try_from(p.byte()).unwrap_or(usize::MAX))
                });
                return Err(IngestError::format(
                    path,
                    format!("row {} (line {line}): cannot read as CSV: {e}", row + 1),
                ));
            }
        }
        // A blank line (or one of spaces) is not a row.
        if record.len() <= 1 && record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() == width {
            for (c, field) in columns.iter_mut().zip(record.iter()) {
                c.push(Some(field.to_owned()));
            }
        } else {
            let line = record.position().map_or(0, |p| {
                line_at(usize::try_from(p.byte()).unwrap_or(usize::MAX))
            });
            malformed.push((
                row,
                format!(
                    "line {line}: {}; expected {width} ({})",
                    crate::priority::plural(record.len() as u64, "field", "fields"),
                    headers.join(", ")
                ),
            ));
            for c in &mut columns {
                c.push(None);
            }
        }
        row += 1;
    }
    Ok((text_frame(path, &headers, columns, row)?, malformed))
}

/// A frame of text columns named by `headers`, `height` rows each.
fn text_frame(
    path: &Path,
    headers: &[String],
    columns: Vec<Vec<Option<String>>>,
    height: usize,
) -> Result<DataFrame, IngestError> {
    let cols: Vec<Column> = headers
        .iter()
        .zip(columns)
        .map(|(h, v)| Column::new(PlSmallStr::from(h.as_str()), v))
        .collect();
    DataFrame::new(height, cols).map_err(|e| polars_err(path, &e))
}

fn polars_err(path: &Path, e: &PolarsError) -> IngestError {
    IngestError::format(path, format!("cannot read as a table: {e}"))
}

fn empty(path: &Path, expected: &str) -> IngestError {
    IngestError::Empty {
        file: path.to_owned(),
        expected: expected.to_owned(),
    }
}

/// A missing file is an I/O error, a zero-byte one an [`IngestError::Empty`].
fn non_empty_file(path: &Path, expected: &str) -> Result<(), IngestError> {
    let meta = std::fs::metadata(path).map_err(|e| IngestError::io(path, e))?;
    if meta.len() == 0 {
        return Err(empty(path, expected));
    }
    Ok(())
}

impl Table {
    /// Reads a whole table; `columns` limits Parquet reads to those columns when they exist.
    ///
    /// # Errors
    /// [`IngestError::Io`] for a missing file, [`IngestError::Format`] for an unreadable one,
    /// [`IngestError::Empty`] for a table with no rows.
    pub fn read(path: &Path, expected: &str) -> Result<Self, IngestError> {
        Self::read_columns(path, expected, &[])
    }

    /// Reads a table, only the `columns` named (all when empty) when the file is Parquet and
    /// has them all; otherwise the whole table, so a missing column is reported with the
    /// columns that are there.
    ///
    /// # Errors
    /// As [`Table::read`].
    pub fn read_columns(
        path: &Path,
        expected: &str,
        columns: &[&str],
    ) -> Result<Self, IngestError> {
        let format = TableFormat::of(path)?;
        non_empty_file(path, expected)?;
        let mut malformed = Vec::new();
        let df = match format {
            TableFormat::Csv => {
                let (df, bad) = read_csv(path, expected)?;
                malformed = bad;
                Ok(df)
            }
            TableFormat::Parquet => {
                let file = File::open(path).map_err(|e| IngestError::io(path, e))?;
                let mut reader = ParquetReader::new(file);
                let schema = reader.schema().map_err(|e| polars_err(path, &e))?;
                let wanted = !columns.is_empty() && columns.iter().all(|c| schema.contains(c));
                if wanted {
                    reader = reader
                        .with_columns(Some(columns.iter().map(|c| (*c).to_owned()).collect()));
                }
                reader.finish()
            }
        }
        .map_err(|e| polars_err(path, &e))?;
        Self::non_empty(path, df, malformed, expected)
    }

    /// The table, or [`IngestError::Empty`] when it has no rows.
    fn non_empty(
        path: &Path,
        df: DataFrame,
        malformed: Vec<(usize, String)>,
        expected: &str,
    ) -> Result<Self, IngestError> {
        if df.height() == 0 {
            return Err(empty(path, expected));
        }
        Ok(Self {
            path: path.to_owned(),
            df,
            malformed,
        })
    }

    /// A CSV table held in memory (e.g. a document of the store); `path` names it in messages.
    ///
    /// # Errors
    /// As [`Table::read`].
    pub fn from_csv(path: &Path, bytes: &[u8], expected: &str) -> Result<Self, IngestError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(empty(path, expected));
        }
        let (df, malformed) = parse_csv(path, bytes, expected)?;
        Self::non_empty(path, df, malformed, expected)
    }

    /// A JSON array of records (objects) held in memory, every value as text (numbers as
    /// written, `null` as a missing value); columns in order of first appearance. `path` names
    /// it in messages.
    ///
    /// # Errors
    /// [`IngestError::Format`] when it is not an array of objects; [`IngestError::Empty`] when
    /// the array is empty.
    pub fn from_json_records(
        path: &Path,
        bytes: &[u8],
        expected: &str,
    ) -> Result<Self, IngestError> {
        use serde_json::Value;
        let records: Vec<serde_json::Map<String, Value>> =
            serde_json::from_slice(bytes).map_err(|e| {
                IngestError::format(path, format!("not a JSON array of records (objects): {e}"))
            })?;
        if records.is_empty() {
            return Err(empty(path, expected));
        }
        let mut names: Vec<String> = Vec::new();
        for r in &records {
            for k in r.keys() {
                if !names.contains(k) {
                    names.push(k.clone());
                }
            }
        }
        let cols: Vec<Column> = names
            .iter()
            .map(|n| {
                let cells: Vec<Option<String>> = records
                    .iter()
                    .map(|r| match r.get(n) {
                        None | Some(Value::Null) => None,
                        Some(Value::String(s)) => Some(s.clone()),
                        Some(other) => Some(other.to_string()),
                    })
                    .collect();
                Column::new(PlSmallStr::from(n.as_str()), cells)
            })
            .collect();
        let df = DataFrame::new(records.len(), cols).map_err(|e| polars_err(path, &e))?;
        Ok(Self {
            path: path.to_owned(),
            df,
            malformed: Vec::new(),
        })
    }

    /// The first sheet of an XLSX workbook held in memory: the first row names the columns,
    /// every cell is read as text (numbers as written, dates as `YYYY-MM-DD HH:MM:SS` wall time);
    /// empty rows are not rows. `path` names it in messages.
    ///
    /// # Errors
    /// [`IngestError::Format`] when it is not a workbook; [`IngestError::Empty`] without rows.
    pub fn from_xlsx(path: &Path, bytes: &[u8], expected: &str) -> Result<Self, IngestError> {
        use calamine::{Data, Reader, Xlsx};
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
            .map_err(|e| IngestError::format(path, format!("not an XLSX workbook: {e}")))?;
        let range = wb
            .worksheet_range_at(0)
            .ok_or_else(|| empty(path, expected))?
            .map_err(|e| IngestError::format(path, format!("cannot read the first sheet: {e}")))?;
        let text = |c: &Data| -> Option<String> {
            match c {
                Data::Empty => None,
                Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
                    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
                }
                Data::Int(i) => Some(i.to_string()),
                Data::Float(f) => Some(f.to_string()),
                Data::Bool(b) => Some(b.to_string()),
                Data::DateTime(d) => d
                    .as_datetime()
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
                Data::Error(e) => Some(format!("#{e:?}")),
            }
        };
        let mut rows = range.rows();
        let headers: Vec<String> = rows
            .next()
            .ok_or_else(|| empty(path, expected))?
            .iter()
            .map(|c| text(c).unwrap_or_default())
            .collect();
        let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); headers.len()];
        for row in rows {
            let cells: Vec<Option<String>> = row.iter().map(text).collect();
            if cells.iter().all(Option::is_none) {
                continue;
            }
            for (i, c) in columns.iter_mut().enumerate() {
                c.push(cells.get(i).cloned().flatten());
            }
        }
        let height = columns.first().map_or(0, Vec::len);
        if height == 0 {
            return Err(empty(path, expected));
        }
        let df = text_frame(path, &headers, columns, height)?;
        Ok(Self {
            path: path.to_owned(),
            df,
            malformed: Vec::new(),
        })
    }

    /// A table of text columns built in memory (a spreadsheet mapped to the columns a reader
    /// wants); `path` names it in messages.
    ///
    /// # Errors
    /// [`IngestError::Format`] when the columns differ in length.
    pub fn from_text_columns(
        path: &Path,
        headers: &[String],
        columns: Vec<Vec<Option<String>>>,
    ) -> Result<Self, IngestError> {
        let height = columns.first().map_or(0, Vec::len);
        let df = text_frame(path, headers, columns, height)?;
        Ok(Self {
            path: path.to_owned(),
            df,
            malformed: Vec::new(),
        })
    }

    /// What is wrong with row `row` (0-based) when it had the wrong number of fields.
    #[must_use]
    pub fn malformed_at(&self, row: usize) -> Option<&str> {
        self.malformed
            .binary_search_by_key(&row, |(r, _)| *r)
            .ok()
            .map(|i| self.malformed[i].1.as_str())
    }

    /// Calls `f(slice, first_row)` for consecutive slices of at most `rows` rows: Parquet files
    /// are decoded one slice at a time; CSV files are read whole (one slice).
    ///
    /// # Errors
    /// As [`Table::read`], and whatever `f` returns.
    pub fn for_each_slice(
        path: &Path,
        expected: &str,
        rows: usize,
        mut f: impl FnMut(&Self, usize) -> Result<(), IngestError>,
    ) -> Result<(), IngestError> {
        if TableFormat::of(path)? == TableFormat::Csv {
            return f(&Self::read(path, expected)?, 0);
        }
        let open = || File::open(path).map_err(|e| IngestError::io(path, e));
        non_empty_file(path, expected)?;
        let total = ParquetReader::new(open()?)
            .num_rows()
            .map_err(|e| polars_err(path, &e))?;
        if total == 0 {
            return Err(empty(path, expected));
        }
        // The next slice is decoded on another thread while `f` works on this one.
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<(Self, usize), IngestError>>(1);
            scope.spawn(move || {
                let mut offset = 0;
                while offset < total {
                    let len = rows.min(total - offset);
                    let slice = open().and_then(|file| {
                        ParquetReader::new(file)
                            .with_slice(Some((offset, len)))
                            .finish()
                            .map_err(|e| polars_err(path, &e))
                    });
                    let failed = slice.is_err();
                    let sent = tx.send(slice.map(|df| {
                        (
                            Self {
                                path: path.to_owned(),
                                df,
                                malformed: Vec::new(),
                            },
                            offset,
                        )
                    }));
                    if failed || sent.is_err() {
                        return;
                    }
                    offset += len;
                }
            });
            for slice in rx {
                let (table, offset) = slice?;
                f(&table, offset)?;
            }
            Ok(())
        })
    }

    /// Number of rows.
    #[must_use]
    pub fn height(&self) -> usize {
        self.df.height()
    }

    /// True when the table has `name`.
    #[must_use]
    pub fn has(&self, name: &str) -> bool {
        self.df.column(name).is_ok()
    }

    /// The column `name`, or a [`IngestError::MissingColumn`] saying what it should hold.
    ///
    /// # Errors
    /// When the column is absent.
    pub fn column(&self, name: &str, expected: &str) -> Result<&Column, IngestError> {
        self.df
            .column(name)
            .map_err(|_| IngestError::MissingColumn {
                file: self.path.clone(),
                column: name.to_owned(),
                expected: expected.to_owned(),
                found: self
                    .df
                    .get_column_names()
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The column as text, one `Option<String>` per row (`None` for null or blank).
    ///
    /// # Errors
    /// When the column is absent or cannot be shown as text.
    pub fn text(&self, name: &str, expected: &str) -> Result<Vec<Option<String>>, IngestError> {
        let col = self.column(name, expected)?;
        let s = col
            .cast(&DataType::String)
            .map_err(|e| polars_err(&self.path, &e))?;
        let ca = s.str().map_err(|e| polars_err(&self.path, &e))?;
        Ok(ca
            .iter()
            .map(|v| {
                v.map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            })
            .collect())
    }

    /// The column as small codes: `code(value)` for each trimmed text value, `None` for null,
    /// blank or values `code` does not know. No text is copied per row.
    ///
    /// # Errors
    /// When the column is absent or cannot be shown as text.
    pub fn codes(
        &self,
        name: &str,
        expected: &str,
        code: impl Fn(&str) -> Option<u32>,
    ) -> Result<Vec<Option<u32>>, IngestError> {
        let col = self.column(name, expected)?;
        let s = col
            .cast(&DataType::String)
            .map_err(|e| polars_err(&self.path, &e))?;
        let ca = s.str().map_err(|e| polars_err(&self.path, &e))?;
        // Values repeat (rows come grouped by team): remember the last one.
        let mut last: Option<(&str, Option<u32>)> = None;
        Ok(ca
            .iter()
            .map(|v| {
                let v = v.map(str::trim)?;
                match last {
                    Some((text, known)) if text == v => known,
                    _ => {
                        let known = code(v);
                        last = Some((v, known));
                        known
                    }
                }
            })
            .collect())
    }

    /// One cell as text for messages: `null`, or the value quoted when it is text.
    #[must_use]
    pub fn show(&self, name: &str, row: usize) -> String {
        match self.df.column(name).and_then(|c| c.get(row)) {
            Ok(v) if v.is_null() => "null".into(),
            Ok(v) => v
                .get_str()
                .map_or_else(|| v.to_string(), |s| format!("{s:?}")),
            Err(_) => "null".into(),
        }
    }

    /// The column as `f64`; cells that are missing or not numbers become `NaN` and an issue.
    ///
    /// # Errors
    /// When the column is absent or of a type that cannot hold numbers.
    pub fn f64s(
        &self,
        name: &str,
        expected: &'static str,
        issues: &mut Vec<CellIssue>,
    ) -> Result<Vec<f64>, IngestError> {
        let col = self.column(name, expected)?;
        let path = &self.path;
        if col.dtype() == &DataType::String {
            let ca = col.str().map_err(|e| polars_err(path, &e))?;
            return Ok(ca
                .iter()
                .enumerate()
                .map(|(i, v)| match v.map(str::trim).map(str::parse::<f64>) {
                    Some(Ok(x)) => x,
                    _ => {
                        let blank = v.is_none_or(|v| v.trim().is_empty());
                        issues.push(CellIssue {
                            row: i + 1,
                            column: name.to_owned(),
                            value: if blank {
                                "empty".to_owned()
                            } else {
                                v.map_or_else(String::new, |v| format!("{:?}", v.trim()))
                            },
                            expected,
                            hint: v.and_then(number_hint),
                        });
                        f64::NAN
                    }
                })
                .collect());
        }
        if !col.dtype().is_primitive_numeric() {
            return Err(IngestError::format(
                path,
                format!(
                    "column `{name}` has type {}; expected {expected}",
                    col.dtype()
                ),
            ));
        }
        let cast = col
            .cast(&DataType::Float64)
            .map_err(|e| polars_err(path, &e))?;
        let ca = cast.f64().map_err(|e| polars_err(path, &e))?;
        if ca.null_count() == 0 {
            return Ok(ca.into_no_null_iter().collect());
        }
        Ok(ca
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.unwrap_or_else(|| {
                    issues.push(CellIssue {
                        row: i + 1,
                        column: name.to_owned(),
                        value: "null".into(),
                        expected,
                        hint: None,
                    });
                    f64::NAN
                })
            })
            .collect())
    }
}

/// Stable 64-bit FNV-1a hash, used to turn text ids into fixed-width keys (the kernel's, so the
/// Spark workers make the same keys).
pub use phuso_kernel::visit_row::fnv1a64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_values() {
        // Reference values of FNV-1a 64 for "" and "a".
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
