//! Excel workbooks for the committee (`rust_xlsxwriter`): the ranked areas, the staffing audit
//! and a plan, each sheet with a title block (report, province, data date, deadline, notes),
//! Vietnamese headers, number formats (thousands, one decimal, %, dd/mm/yyyy), a frozen header
//! and code/name columns, and widths that fit the text.
//!
//! Rows are JSON objects as the API serves them (so a withheld figure, `null`, is an empty
//! cell, and the title block says why); [`Column`] says which field goes in which column and how.

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, XlsxError};
use serde_json::Value;

/// How a column's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text.
    Text,
    /// A whole number with thousands separators (`#,##0`).
    Int,
    /// A number with one decimal (`#,##0.0`).
    Number,
    /// A ratio shown as a percentage with one decimal (`0.0%`).
    Percent,
    /// A date `YYYY-MM-DD` written as an Excel date (`dd/mm/yyyy`).
    Date,
    /// `true` / `false` written as "có" / "không".
    YesNo,
}

/// One column: the JSON field, its Vietnamese header, how it is written.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Field of the row objects.
    pub key: &'static str,
    /// Header (Vietnamese).
    pub header: &'static str,
    /// How values are written.
    pub kind: Kind,
}

const fn col(key: &'static str, header: &'static str, kind: Kind) -> Column {
    Column { key, header, kind }
}

/// The ranked areas (`/api/priorities`).
pub const PRIORITY_COLUMNS: [Column; 29] = [
    col("rank", "Hạng", Kind::Int),
    col("code", "Mã", Kind::Text),
    col("name", "Tên", Kind::Text),
    col("parent_code", "Mã cấp trên", Kind::Text),
    col("members_needed", "Cần thêm thành viên", Kind::Int),
    col("population", "Dân số", Kind::Int),
    col("households", "Số hộ", Kind::Int),
    col("households_reached", "Hộ đã tiếp cận", Kind::Int),
    col("coverage_ratio", "Tỷ lệ bao phủ", Kind::Percent),
    col("remaining_households", "Hộ còn lại", Kind::Int),
    col("area_km2", "Diện tích (km²)", Kind::Number),
    col("density_per_km2", "Mật độ (người/km²)", Kind::Int),
    col("teams", "Số tổ", Kind::Int),
    col("members", "Thành viên", Kind::Int),
    col("residents_per_member", "Dân / thành viên", Kind::Int),
    col("visits", "Lượt thăm", Kind::Int),
    col("households_vneid_install", "Hộ đã cài VNeID", Kind::Int),
    col(
        "households_vneid_activation",
        "Hộ đã kích hoạt VNeID",
        Kind::Int,
    ),
    col("households_dvc_account", "Hộ có tài khoản DVC", Kind::Int),
    col(
        "households_online_payment",
        "Hộ thanh toán trực tuyến",
        Kind::Int,
    ),
    col("households_qr_payment", "Hộ thanh toán QR", Kind::Int),
    col(
        "visits_per_member_day",
        "Lượt / thành viên / ngày",
        Kind::Number,
    ),
    col("new_households_per_day", "Hộ mới / ngày", Kind::Number),
    col("projected_completion", "Dự kiến hoàn thành", Kind::Date),
    col("on_track", "Kịp hạn", Kind::YesNo),
    col(
        "neighbourhoods_below_norm",
        "Khu phố thiếu đội TNTN",
        Kind::Int,
    ),
    col(
        "norm_members_short",
        "Thiếu thành viên theo chuẩn",
        Kind::Int,
    ),
    col("withheld", "Có số liệu ẩn", Kind::YesNo),
    col("reason_vi", "Lý do", Kind::Text),
];

/// The staffing-norm audit (`/api/audit`).
pub const AUDIT_COLUMNS: [Column; 15] = [
    col("rank", "Hạng", Kind::Int),
    col("code", "Mã", Kind::Text),
    col("name", "Tên", Kind::Text),
    col("teams", "Số tổ", Kind::Int),
    col("members", "Thành viên", Kind::Int),
    col("neighbourhoods", "Khu phố/ấp", Kind::Int),
    col(
        "neighbourhoods_below_norm",
        "Khu phố thiếu đội TNTN",
        Kind::Int,
    ),
    col(
        "norm_members_short",
        "Thiếu thành viên theo chuẩn",
        Kind::Int,
    ),
    col("tntn_norm_met", "Đạt chuẩn TNTN", Kind::YesNo),
    col("residential_groups", "Tổ dân phố", Kind::Int),
    col("pairs", "Số cặp", Kind::Int),
    col("pairs_short", "Tổ dân phố chưa có cặp", Kind::Int),
    col("group_norm_met", "Đạt chuẩn cặp/tổ", Kind::YesNo),
    col("members_needed", "Cần thêm (theo tiến độ)", Kind::Int),
    col("reason_vi", "Lý do", Kind::Text),
];

/// The rows of a plan (`POST /api/plan`: `rows`, `placements`).
pub const PLAN_COLUMNS: [Column; 11] = [
    col("code", "Mã", Kind::Text),
    col("name", "Tên", Kind::Text),
    col("members_before", "Thành viên hiện có", Kind::Int),
    col("members_added", "Thêm mới", Kind::Int),
    col("members_moved_in", "Chuyển đến", Kind::Int),
    col("members_moved_out", "Chuyển đi", Kind::Int),
    col("members_after", "Thành viên sau", Kind::Int),
    col("completion_before", "Hoàn thành (trước)", Kind::Date),
    col("completion_after", "Hoàn thành (sau)", Kind::Date),
    col("on_track_after", "Kịp hạn (sau)", Kind::YesNo),
    col("reason_vi", "Lý do", Kind::Text),
];

/// The title block of every sheet.
#[derive(Debug, Clone)]
pub struct Heading {
    /// What the workbook is ("Danh sách ưu tiên", "Rà soát định mức", "Kế hoạch bổ sung").
    pub title: String,
    /// The province's name.
    pub province: String,
    /// The last day with data.
    pub as_of: NaiveDate,
    /// The campaign's deadline.
    pub deadline: NaiveDate,
    /// Lines under the title (the small-count rule, synthetic data, …).
    pub notes: Vec<String>,
}

/// One sheet: its name (≤ 31 characters, none of `[]:*?/\`), columns and rows.
pub struct Sheet<'a> {
    /// Tab name.
    pub name: String,
    /// Columns.
    pub columns: &'a [Column],
    /// Row objects.
    pub rows: &'a [Value],
}

/// Rows of the title block above the header (title, province line, notes, a blank row).
#[must_use]
pub fn header_row(h: &Heading) -> u32 {
    3 + u32::try_from(h.notes.len()).unwrap_or(0)
}

fn dmy(d: NaiveDate) -> String {
    format!("{:02}/{:02}/{}", d.day(), d.month(), d.year())
}

fn excel_date(d: NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(
        u16::try_from(d.year()).unwrap_or(1900),
        u8::try_from(d.month()).unwrap_or(1),
        u8::try_from(d.day()).unwrap_or(1),
    )
}

/// Display width of a cell's text (characters; digits of numbers with separators).
fn width_of(v: &Value, kind: Kind) -> usize {
    match (v, kind) {
        (Value::Null, _) => 0,
        (_, Kind::Date) => 10,
        (_, Kind::YesNo) => 5,
        (_, Kind::Percent) => 7,
        (Value::Number(n), _) => {
            let digits = n.as_f64().map_or(1, |x| format!("{:.0}", x.abs()).len());
            digits + digits / 3 + if kind == Kind::Number { 2 } else { 0 }
        }
        (Value::String(s), _) => s.chars().count(),
        (other, _) => other.to_string().chars().count(),
    }
}

/// The workbook of `sheets` under heading `h`, as bytes.
///
/// # Errors
/// When a sheet name is not one Excel accepts, or writing fails.
pub fn workbook(h: &Heading, sheets: &[Sheet<'_>]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let line = Format::new().set_italic();
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color("#DDEBF7")
        .set_border(FormatBorder::Thin);
    let formats = |kind: Kind| match kind {
        Kind::Text | Kind::YesNo => Format::new(),
        Kind::Int => Format::new().set_num_format("#,##0"),
        Kind::Number => Format::new().set_num_format("#,##0.0"),
        Kind::Percent => Format::new().set_num_format("0.0%"),
        Kind::Date => Format::new().set_num_format("dd/mm/yyyy"),
    };
    let top = header_row(h);
    for sheet in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&sheet.name)?;
        let last = u16::try_from(sheet.columns.len().saturating_sub(1)).unwrap_or(0);
        let block = |ws: &mut rust_xlsxwriter::Worksheet, row: u32, text: &str, f: &Format| {
            if last > 0 {
                ws.merge_range(row, 0, row, last, text, f).map(|_| ())
            } else {
                ws.write_string_with_format(row, 0, text, f).map(|_| ())
            }
        };
        block(ws, 0, &format!("{} — {}", h.title, sheet.name), &title)?;
        block(
            ws,
            1,
            &format!(
                "Tỉnh/thành phố: {} · Số liệu đến hết ngày {} · Hạn hoàn thành {}",
                h.province,
                dmy(h.as_of),
                dmy(h.deadline)
            ),
            &line,
        )?;
        for (i, note) in h.notes.iter().enumerate() {
            block(ws, 2 + u32::try_from(i).unwrap_or(0), note, &line)?;
        }
        for (c, column) in sheet.columns.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            ws.write_string_with_format(top, c, column.header, &head)?;
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = top + 1 + u32::try_from(r).unwrap_or(u32::MAX - top - 1);
            for (c, column) in sheet.columns.iter().enumerate() {
                let c = u16::try_from(c).unwrap_or(u16::MAX);
                let f = formats(column.kind);
                match (&row[column.key], column.kind) {
                    (Value::Null, _) => {
                        ws.write_blank(r, c, &f)?;
                    }
                    (Value::Bool(b), _) => {
                        ws.write_string_with_format(r, c, if *b { "có" } else { "không" }, &f)?;
                    }
                    (Value::Number(n), _) => {
                        ws.write_number_with_format(r, c, n.as_f64().unwrap_or(0.0), &f)?;
                    }
                    (Value::String(s), Kind::Date) => match s.parse::<NaiveDate>() {
                        Ok(d) => {
                            ws.write_datetime_with_format(r, c, excel_date(d)?, &f)?;
                        }
                        Err(_) => {
                            ws.write_string(r, c, s)?;
                        }
                    },
                    (Value::String(s), _) => {
                        ws.write_string_with_format(r, c, s, &f)?;
                    }
                    (other, _) => {
                        ws.write_string(r, c, other.to_string())?;
                    }
                }
            }
        }
        // Widths: the longest value, the header over at most two lines, 6 … 60 characters.
        for (c, column) in sheet.columns.iter().enumerate() {
            let values = sheet
                .rows
                .iter()
                .map(|row| width_of(&row[column.key], column.kind))
                .max()
                .unwrap_or(0);
            let header = column.header.chars().count().div_ceil(2);
            let w = values.max(header).clamp(6, 60);
            ws.set_column_width(u16::try_from(c).unwrap_or(u16::MAX), w as f64 + 1.5)?;
        }
        ws.set_row_height(top, 45)?;
        // The header and the code and name columns stay in view.
        let keep = sheet
            .columns
            .iter()
            .position(|c| c.key == "name")
            .map_or(0, |i| u16::try_from(i + 1).unwrap_or(0));
        ws.set_freeze_panes(top + 1, keep)?;
    }
    wb.save_to_buffer()
}

/// The title of the ranked areas' workbook.
pub const PRIORITIES_TITLE: &str = "Danh sách ưu tiên bổ sung thành viên";
/// The title of the audit's workbook.
pub const AUDIT_TITLE: &str = "Rà soát định mức tổ, đội";

/// One sheet per level of `engine` ([`sheet_levels`]), each with `rows(level)` in `columns`.
///
/// # Errors
/// As [`workbook`].
pub fn levels_workbook(
    h: &Heading,
    engine: &crate::Engine,
    columns: &[Column],
    rows: impl Fn(crate::model::Level) -> Vec<Value>,
) -> Result<Vec<u8>, XlsxError> {
    let levels = sheet_levels(engine);
    let data: Vec<Vec<Value>> = levels.iter().map(|(l, _)| rows(*l)).collect();
    let sheets: Vec<Sheet<'_>> = levels
        .iter()
        .zip(&data)
        .map(|((_, name), rows)| Sheet {
            name: (*name).to_owned(),
            columns,
            rows,
        })
        .collect();
    workbook(h, &sheets)
}

/// The title of a plan's workbook.
pub const PLAN_TITLE: &str = "Kế hoạch bổ sung, điều chuyển thành viên";

/// The levels a report has a sheet for, with the sheet's name (those `engine` has).
#[must_use]
pub fn sheet_levels(engine: &crate::Engine) -> Vec<(crate::model::Level, &'static str)> {
    use crate::model::Level;
    [
        (Level::Ward, "Phường-xã"),
        (Level::Neighbourhood, "Khu phố-ấp"),
        (Level::District, "Huyện cũ"),
    ]
    .into_iter()
    .filter(|(l, _)| engine.figures_at(*l).next().is_some())
    .collect()
}

/// The title block for report `title` over `engine`'s data; `k` when the small-count rule
/// applies to the rows.
#[must_use]
pub fn heading_for(engine: &crate::Engine, title: &str, k: Option<u64>) -> Heading {
    Heading {
        title: title.to_owned(),
        province: engine
            .areas()
            .first()
            .map(|a| a.name.clone())
            .unwrap_or_default(),
        as_of: engine.as_of(),
        deadline: engine.campaign().deadline(),
        notes: standard_notes(k, engine.synthetic()),
    }
}

const SUMMARY_COLUMNS: [Column; 2] = [
    Column {
        key: "item",
        header: "Mục",
        kind: Kind::Text,
    },
    Column {
        key: "value",
        header: "Giá trị",
        kind: Kind::Text,
    },
];

const OUT_OF_REACH_COLUMNS: [Column; 3] = [
    Column {
        key: "code",
        header: "Mã",
        kind: Kind::Text,
    },
    Column {
        key: "name",
        header: "Tên",
        kind: Kind::Text,
    },
    Column {
        key: "reason_vi",
        header: "Lý do",
        kind: Kind::Text,
    },
];

/// A plan (as served, under the rule) as a workbook: summary, rows, placements, out of reach.
///
/// # Errors
/// When writing fails.
pub fn plan_workbook(h: &Heading, plan: &Value) -> Result<Vec<u8>, XlsxError> {
    let text = |v: &Value| match v {
        Value::String(t) => t.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => (if *b { "có" } else { "không" }).to_owned(),
        other => other.to_string(),
    };
    let summary: Vec<Value> = [
        ("Tóm tắt", "summary_vi"),
        ("Tình nguyện viên mới", "volunteers"),
        ("Đã bố trí", "volunteers_placed"),
        ("Thành viên được điều chuyển", "members_moved"),
        ("Hoàn thành chậm nhất (trước)", "completion_before"),
        ("Hoàn thành chậm nhất (sau)", "completion_after"),
        ("Hạn hoàn thành", "deadline"),
        ("Kịp hạn (sau)", "on_time_after"),
        ("Số địa bàn còn chậm", "areas_late_after"),
        ("Cấp báo cáo", "level"),
        ("Cấp bố trí", "placed_at"),
    ]
    .into_iter()
    .map(|(item, key)| serde_json::json!({ "item": item, "value": text(&plan[key]) }))
    .collect();
    let list = |k: &str| plan[k].as_array().cloned().unwrap_or_default();
    let (rows, placements, out) = (list("rows"), list("placements"), list("out_of_reach"));
    let mut sheets = vec![
        Sheet {
            name: "Tóm tắt".into(),
            columns: &SUMMARY_COLUMNS,
            rows: &summary,
        },
        Sheet {
            name: "Kế hoạch".into(),
            columns: &PLAN_COLUMNS,
            rows: &rows,
        },
        Sheet {
            name: "Bố trí".into(),
            columns: &PLAN_COLUMNS,
            rows: &placements,
        },
    ];
    if !out.is_empty() {
        sheets.push(Sheet {
            name: "Ngoài tầm".into(),
            columns: &OUT_OF_REACH_COLUMNS,
            rows: &out,
        });
    }
    workbook(h, &sheets)
}

/// The notes every report carries: the small-count rule (`k`), and whether data is synthetic.
#[must_use]
pub fn standard_notes(k: Option<u64>, synthetic: bool) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(k) = k {
        notes.push(format!(
            "Ô để trống: số liệu được ẩn vì ít hơn {k} hộ (bảo vệ dữ liệu cá nhân, Nghị định 13/2023/NĐ-CP)."
        ));
    }
    if synthetic {
        notes.push(
            "Khu phố/ấp, tổ và lượt thăm là dữ liệu mô phỏng (synthetic); ranh giới phường/xã và dân số là số liệu thật."
                .into(),
        );
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_by_hand() {
        assert_eq!(width_of(&serde_json::json!(1_234_567), Kind::Int), 9);
        assert_eq!(
            width_of(&serde_json::json!("Phường An Phú"), Kind::Text),
            13
        );
        assert_eq!(width_of(&Value::Null, Kind::Int), 0);
        assert_eq!(
            dmy(NaiveDate::from_ymd_opt(2025, 11, 3).unwrap_or_default()),
            "03/11/2025"
        );
    }
}
