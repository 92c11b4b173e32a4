//! Rendering rows for the command line: a readable table, JSON, or CSV. Field names in JSON and
//! CSV are the snake_case names of the serialized structs, in struct order.

pub mod xlsx;

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::priority::{Lang, Priority, int};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    Table,
    /// A JSON array of objects.
    Json,
    /// CSV with a header row.
    Csv,
    /// An Excel workbook, one sheet per level (needs `--out`).
    Xlsx,
}

/// Serializes rows as a JSON array (pretty-printed).
///
/// # Errors
/// When a row cannot be serialized (never for this crate's types).
pub fn json<T: Serialize>(rows: &[T]) -> serde_json::Result<String> {
    serde_json::to_string_pretty(rows)
}

fn csv_cell(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Serializes rows as CSV: the header is the first row's field names.
///
/// # Errors
/// When a row cannot be serialized.
pub fn csv<T: Serialize>(rows: &[T]) -> serde_json::Result<String> {
    let values: Vec<Value> = rows
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()?;
    let mut out = String::new();
    let Some(Value::Object(first)) = values.first() else {
        return Ok(out);
    };
    let header: Vec<&String> = first.keys().collect();
    out.push_str(
        &header
            .iter()
            .map(|h| h.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push('\n');
    for v in &values {
        let cells: Vec<String> = header
            .iter()
            .map(|h| csv_cell(v.get(h.as_str()).unwrap_or(&Value::Null)))
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    Ok(out)
}

/// `name` in at most `width` characters: whole words, with "…" when cut (a single word longer
/// than `width` is cut at `width − 1`).
#[must_use]
pub fn fit(name: &str, width: usize) -> String {
    if name.chars().count() <= width {
        return name.to_owned();
    }
    let mut out = String::new();
    for word in name.split_whitespace() {
        let sep = usize::from(!out.is_empty());
        if out.chars().count() + sep + word.chars().count() + 1 > width {
            break;
        }
        if sep == 1 {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        out = name.chars().take(width.saturating_sub(1)).collect();
    }
    out.push('…');
    out
}

/// The ranked list as an aligned table, with the reason on its own line under each row.
#[must_use]
pub fn priority_table(rows: &[Priority]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>4}  {:<9} {:<28} {:>9} {:>8} {:>7} {:>9} {:>8} {:>7} {:>8} {:>7}",
        "rank",
        "code",
        "name",
        "people",
        "per km²",
        "members",
        "res/memb",
        "reached",
        "days",
        "on track",
        "needed"
    );
    for p in rows {
        let f = &p.figures;
        let name = fit(&f.name, 28);
        let _ = writeln!(
            out,
            "{:>4}  {:<9} {:<28} {:>9} {:>8} {:>7} {:>9} {:>7.1}% {:>7} {:>8} {:>7}",
            p.rank,
            f.code,
            name,
            int(f.population, Lang::En),
            int(f.density_per_km2, Lang::En),
            f.members,
            f.residents_per_member
                .map_or_else(|| "-".into(), |r| int(r, Lang::En)),
            f.coverage_ratio.unwrap_or(0.0) * 100.0,
            f.days_to_target
                .map_or_else(|| "never".into(), |d| d.to_string()),
            if f.on_track { "yes" } else { "no" },
            f.members_needed
        );
        let _ = writeln!(out, "      {}", p.reason);
    }
    out
}

/// Serializes rows as Parquet (zstd): numbers become `Float64` (`Int64` when every value is a
/// whole number), text `String`, booleans `Boolean`; `null` stays null.
///
/// # Errors
/// When a row cannot be serialized or polars cannot write.
pub fn parquet<T: Serialize>(rows: &[T]) -> anyhow::Result<Vec<u8>> {
    use polars::prelude::*;
    let values: Vec<Value> = rows
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()?;
    let header: Vec<String> = match values.first() {
        Some(Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let mut columns = Vec::with_capacity(header.len());
    for h in &header {
        let cells: Vec<&Value> = values
            .iter()
            .map(|v| v.get(h).unwrap_or(&Value::Null))
            .collect();
        let first = cells.iter().find(|v| !v.is_null());
        let name = PlSmallStr::from(h.as_str());
        let column = match first {
            Some(Value::Bool(_)) => {
                Column::new(name, cells.iter().map(|v| v.as_bool()).collect::<Vec<_>>())
            }
            Some(Value::Number(_)) if cells.iter().all(|v| v.is_null() || v.is_i64()) => {
                Column::new(name, cells.iter().map(|v| v.as_i64()).collect::<Vec<_>>())
            }
            Some(Value::Number(_)) => {
                Column::new(name, cells.iter().map(|v| v.as_f64()).collect::<Vec<_>>())
            }
            _ => Column::new(
                name,
                cells
                    .iter()
                    .map(|v| match v {
                        Value::Null => None,
                        Value::String(s) => Some(s.clone()),
                        other => Some(other.to_string()),
                    })
                    .collect::<Vec<_>>(),
            ),
        };
        columns.push(column);
    }
    let mut df = DataFrame::new(values.len(), columns)?;
    let mut out = Vec::new();
    ParquetWriter::new(&mut out).finish(&mut df)?;
    Ok(out)
}

/// The norm audit as an aligned table, with the reason under each row.
#[must_use]
pub fn audit_table(rows: &[crate::audit::AuditRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>4}  {:<9} {:<30} {:>6} {:>8} {:>10} {:>10} {:>7} {:>6} {:>11}",
        "rank",
        "code",
        "name",
        "teams",
        "members",
        "below TNTN",
        "TNTN short",
        "groups",
        "pairs",
        "pairs short"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:>4}  {:<9} {:<30} {:>6} {:>8} {:>10} {:>10} {:>7} {:>6} {:>11}",
            r.rank,
            r.code,
            fit(&r.name, 30),
            r.teams,
            r.members,
            r.neighbourhoods_below_norm,
            r.norm_members_short,
            r.residential_groups,
            r.pairs,
            r.pairs_short
        );
        let _ = writeln!(out, "      {}", r.reason);
    }
    out
}

/// A plan as an aligned table: the answer first, then the areas of the level asked and, when
/// that level is coarser than where pairs are placed, the placements.
#[must_use]
pub fn plan_table(p: &crate::plan::Plan) -> String {
    let show =
        |d: Option<chrono::NaiveDate>| d.map_or_else(|| "never".to_owned(), |d| d.to_string());
    let mut out = format!(
        "{}.
level {}, pairs placed in {}s; {} of {} volunteers placed, {} members moved (at most {} moves)
latest completion: {} → {} (deadline {})
",
        p.summary,
        p.level,
        p.placed_at,
        p.volunteers_placed,
        p.volunteers,
        p.members_moved,
        p.max_moves,
        show(p.completion_before),
        show(p.completion_after),
        p.deadline
    );
    for o in &p.out_of_reach {
        let _ = writeln!(out, "out of reach: {} {}: {}", o.code, o.name, o.reason);
    }
    let table = |out: &mut String, title: &str, rows: &[crate::plan::PlanRow]| {
        let _ = writeln!(out, "\n{title}");
        let _ = writeln!(
            out,
            "{:<9} {:<30} {:>7} {:>6} {:>5} {:>5} {:>11} {:>11}",
            "code", "name", "before", "added", "in", "out", "done before", "done after"
        );
        if rows.is_empty() {
            let _ = writeln!(out, "(none)");
        }
        for r in rows {
            let _ = writeln!(
                out,
                "{:<9} {:<30} {:>7} {:>6} {:>5} {:>5} {:>11} {:>11}",
                r.code,
                fit(&r.name, 30),
                r.members_before,
                r.members_added,
                r.members_moved_in,
                r.members_moved_out,
                show(r.completion_before),
                show(r.completion_after)
            );
        }
    };
    table(
        &mut out,
        &format!("{}s changed by the plan:", p.level),
        &p.rows,
    );
    if !p.placements.is_empty() {
        table(
            &mut out,
            &format!("where the pairs go ({}s):", p.placed_at),
            &p.placements,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        code: &'static str,
        name: &'static str,
        value: Option<f64>,
    }

    #[test]
    fn csv_quotes_and_keeps_field_order() {
        let rows = [
            Row {
                code: "25975",
                name: "An Phú, \"TA\"",
                value: Some(1.5),
            },
            Row {
                code: "1",
                name: "x",
                value: None,
            },
        ];
        assert_eq!(
            csv(&rows).unwrap(),
            "code,name,value\n25975,\"An Phú, \"\"TA\"\"\",1.5\n1,x,\n"
        );
    }

    #[test]
    fn names_are_cut_between_words() {
        assert_eq!(fit("Phường Thuận An", 30), "Phường Thuận An");
        assert_eq!(
            fit("Khu phố 12 (synthetic) Phường Bình Dương", 20),
            "Khu phố 12…"
        );
        assert_eq!(fit("Supercalifragilistic", 8), "Superca…");
        assert!(
            fit("Khu phố 12 (synthetic) Phường Bình Dương", 20)
                .chars()
                .count()
                <= 20
        );
    }
}
