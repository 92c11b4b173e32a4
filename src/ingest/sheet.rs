//! Office spreadsheets (`.xlsx`, `.xls`, `.ods` by calamine; `.csv` too) with the headers
//! Vietnamese offices write: the header row is found below any title rows, headers are matched
//! to the columns the readers want through [`Column`] aliases ("Mã tổ" → `team_id`, "Số thành
//! viên" → `members`), and messages name the sheet, the spreadsheet row, the column letter and
//! its header as the user sees them.

use std::path::{Path, PathBuf};

use calamine::{Data, Reader};

use super::crosswalk::fold;
use crate::error::IngestError;

/// A column a reader wants and the headers that name it (folded: case and diacritics ignored).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The name the readers use (`team_id`).
    pub name: &'static str,
    /// Headers accepted for it, as written ("Mã tổ"); compared folded.
    pub aliases: &'static [&'static str],
    /// Whether the sheet must have it.
    pub required: bool,
}

/// A sheet read: where each value came from.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// The workbook.
    pub path: PathBuf,
    /// The sheet's name (empty for a CSV).
    pub sheet: String,
    /// For each wanted column found: its name, the header as written, its 0-based column.
    pub columns: Vec<(&'static str, String, usize)>,
    /// Data rows: 1-based spreadsheet row number, then the values of `columns` in order.
    pub rows: Vec<(usize, Vec<Option<String>>)>,
}

/// The letter of a 0-based column (0 → A, 26 → AA).
#[must_use]
pub fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + u8::try_from(i % 26).unwrap_or(0));
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

impl Sheet {
    /// The values of column `name` (`None` where the sheet lacks it).
    #[must_use]
    pub fn values(&self, name: &str) -> Vec<Option<String>> {
        match self.columns.iter().position(|(n, _, _)| *n == name) {
            Some(k) => self.rows.iter().map(|(_, v)| v[k].clone()).collect(),
            None => vec![None; self.rows.len()],
        }
    }

    /// Whether the sheet has column `name`.
    #[must_use]
    pub fn has(&self, name: &str) -> bool {
        self.columns.iter().any(|(n, _, _)| *n == name)
    }

    /// Where data row `row` (0-based) and column `name` are, as the user sees them:
    /// `sheet "Tổ", row 7, column D ("Số thành viên")`.
    #[must_use]
    pub fn at(&self, row: usize, name: &str) -> String {
        let r = self.rows.get(row).map_or(0, |(r, _)| *r);
        let sheet = if self.sheet.is_empty() {
            String::new()
        } else {
            format!("sheet {:?}, ", self.sheet)
        };
        match self.columns.iter().find(|(n, _, _)| *n == name) {
            Some((_, header, c)) => {
                format!("{sheet}row {r}, column {} ({header:?})", column_letter(*c))
            }
            None => format!("{sheet}row {r}"),
        }
    }

    /// Rewrites a reader's problem line (`row N: column `x`: …`, N a 1-based data row) to name
    /// the sheet, the spreadsheet row, the column letter and header.
    #[must_use]
    pub fn locate(&self, problem: &str) -> String {
        let Some(rest) = problem.strip_prefix("row ") else {
            return problem.to_owned();
        };
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let Ok(n) = digits.parse::<usize>() else {
            return problem.to_owned();
        };
        let rest = &rest[digits.len()..];
        if let Some(after) = rest.strip_prefix(": column `")
            && let Some(end) = after.find('`')
        {
            let column = &after[..end];
            return format!(
                "{}{}",
                self.at(n.saturating_sub(1), column),
                &after[end + 1..]
            );
        }
        format!("{}{rest}", self.at(n.saturating_sub(1), ""))
    }
}

/// Reads the sheet `sheet` (default: the first that has the required headers) of a workbook, or
/// a CSV, finding the header row (the first row, within the first 20, naming every required
/// column) and the wanted columns by their aliases. Empty rows are skipped (rows keep their
/// spreadsheet numbers); a row where no wanted column has a value is not a row.
///
/// # Errors
/// [`IngestError::Format`] when it is no workbook, the sheet does not exist, or no row has the
/// required headers (the message lists the headers accepted and the first rows seen).
pub fn read_sheet(
    path: &Path,
    sheet: Option<&str>,
    wanted: &[Column],
) -> Result<Sheet, IngestError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let grids: Vec<(String, Grid)> = match ext.as_deref() {
        Some("csv") => vec![(String::new(), csv_grid(path)?)],
        Some("xlsx" | "xlsm" | "xls" | "xlsb" | "ods") => workbook_grids(path, sheet)?,
        other => {
            return Err(IngestError::format(
                path,
                format!(
                    "unsupported extension {:?}: expected .xlsx, .xls, .ods or .csv",
                    other.unwrap_or("")
                ),
            ));
        }
    };
    let mut seen = Vec::new();
    for (name, grid) in &grids {
        if let Some(found) = find_header(grid, wanted) {
            let (header_row, columns) = found;
            let mut rows = Vec::new();
            for (r, cells) in grid.iter().enumerate().skip(header_row + 1) {
                let values: Vec<Option<String>> = columns
                    .iter()
                    .map(|(_, _, c)| cells.get(*c).cloned().flatten())
                    .collect();
                if values.iter().all(Option::is_none) {
                    continue;
                }
                rows.push((r + 1, values));
            }
            return Ok(Sheet {
                path: path.to_owned(),
                sheet: name.clone(),
                columns,
                rows,
            });
        }
        let first: Vec<String> = grid
            .iter()
            .take(3)
            .map(|r| r.iter().flatten().cloned().collect::<Vec<_>>().join(" | "))
            .collect();
        seen.push(format!(
            "{}: {}",
            if name.is_empty() { "rows" } else { name },
            first.join(" / ")
        ));
    }
    let required: Vec<String> = wanted
        .iter()
        .filter(|c| c.required)
        .map(|c| format!("{} ({})", c.name, c.aliases.join(", ")))
        .collect();
    Err(IngestError::format(
        path,
        format!(
            "no header row with the required columns {}; the first rows seen: {}",
            required.join("; "),
            seen.join("; ")
        ),
    ))
}

type Found = (usize, Vec<(&'static str, String, usize)>);

/// A sheet's cells as text, by row then column, from A1.
type Grid = Vec<Vec<Option<String>>>;

fn find_header(grid: &[Vec<Option<String>>], wanted: &[Column]) -> Option<Found> {
    for (r, cells) in grid.iter().enumerate().take(20) {
        let folded: Vec<Option<String>> = cells.iter().map(|c| c.as_deref().map(fold)).collect();
        let mut columns = Vec::new();
        for w in wanted {
            let hit = folded.iter().position(|f| {
                f.as_deref()
                    .is_some_and(|f| w.aliases.iter().any(|a| fold(a) == f) || f == w.name)
            });
            if let Some(c) = hit {
                columns.push((w.name, cells[c].clone().unwrap_or_default(), c));
            }
        }
        if wanted
            .iter()
            .filter(|w| w.required)
            .all(|w| columns.iter().any(|(n, _, _)| *n == w.name))
        {
            return Some((r, columns));
        }
    }
    None
}

fn workbook_grids(path: &Path, sheet: Option<&str>) -> Result<Vec<(String, Grid)>, IngestError> {
    let mut wb = calamine::open_workbook_auto(path)
        .map_err(|e| IngestError::format(path, format!("not a readable workbook: {e}")))?;
    let names = wb.sheet_names();
    let chosen: Vec<String> = match sheet {
        Some(s) if names.iter().any(|n| n == s) => vec![s.to_owned()],
        Some(s) => {
            return Err(IngestError::format(
                path,
                format!("--sheet {s:?}: no such sheet; sheets: {}", names.join(", ")),
            ));
        }
        None => names,
    };
    let mut out = Vec::new();
    for name in chosen {
        let range = wb.worksheet_range(&name).map_err(|e| {
            IngestError::format(path, format!("sheet {name:?}: cannot be read: {e}"))
        })?;
        // Rows and columns count from A1 even when the sheet's used range starts later.
        let (r0, c0) = range
            .start()
            .map_or((0, 0), |(r, c)| (r as usize, c as usize));
        let mut grid: Vec<Vec<Option<String>>> = vec![Vec::new(); r0];
        for row in range.rows() {
            let mut cells = vec![None; c0];
            cells.extend(row.iter().map(cell_text));
            grid.push(cells);
        }
        out.push((name, grid));
    }
    Ok(out)
}

/// A cell as text: numbers as written (whole numbers without ".0"), dates as `YYYY-MM-DD`.
fn cell_text(c: &Data) -> Option<String> {
    match c {
        Data::Empty => None,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
            Some(s.trim().to_owned()).filter(|s| !s.is_empty())
        }
        Data::Int(i) => Some(i.to_string()),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(format!("{f:.0}")),
        Data::Float(f) => Some(f.to_string()),
        Data::Bool(b) => Some(b.to_string()),
        Data::DateTime(d) => d.as_datetime().map(|t| {
            if t.time() == chrono::NaiveTime::MIN {
                t.format("%Y-%m-%d").to_string()
            } else {
                t.format("%Y-%m-%d %H:%M:%S").to_string()
            }
        }),
        Data::Error(e) => Some(format!("#{e:?}")),
    }
}

fn csv_grid(path: &Path) -> Result<Grid, IngestError> {
    let bytes = std::fs::read(path).map_err(|e| IngestError::io(path, e))?;
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes)).map_err(
        |e| IngestError::format(path, format!("not UTF-8 text: {e}; save it as CSV UTF-8")),
    )?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut grid = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| IngestError::format(path, format!("line {}: {e}", i + 1)))?;
        grid.push(
            rec.iter()
                .map(|s| Some(s.trim().to_owned()).filter(|s| !s.is_empty()))
                .collect(),
        );
    }
    Ok(grid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(3), "D");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn problems_are_located_in_the_sheet() {
        let s = Sheet {
            path: "t.xlsx".into(),
            sheet: "Tổ".into(),
            columns: vec![
                ("team_id", "Mã tổ".into(), 1),
                ("members", "Số thành viên".into(), 4),
            ],
            rows: vec![(5, vec![]), (7, vec![])],
        };
        assert_eq!(
            s.locate("row 2: column `members`: value \"x\"; expected a whole number ≥ 1"),
            "sheet \"Tổ\", row 7, column E (\"Số thành viên\"): value \"x\"; expected a whole number ≥ 1"
        );
        assert_eq!(
            s.locate("row 1: something"),
            "sheet \"Tổ\", row 5: something"
        );
        assert_eq!(s.locate("other"), "other");
    }
}
