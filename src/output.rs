//! Rendering rows for the command line: a readable table, JSON, or CSV. Field names in JSON and
//! CSV are the snake_case names of the serialized structs, in struct order.

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
        let name: String = f.name.chars().take(28).collect();
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
        "{:<9} {:<30} {:>6} {:>8} {:>9} {:>7} {:>6} {:>10}",
        "code", "name", "teams", "members", "tntn <20", "groups", "pairs", "pairs short"
    );
    for r in rows {
        let name: String = r.name.chars().take(30).collect();
        let _ = writeln!(
            out,
            "{:<9} {:<30} {:>6} {:>8} {:>9} {:>7} {:>6} {:>10}",
            r.code,
            name,
            r.teams,
            r.members,
            r.neighbourhoods_below_norm,
            r.residential_groups,
            r.pairs,
            r.pairs_short
        );
        let _ = writeln!(out, "          {}", r.reason);
    }
    out
}

/// A plan as an aligned table with its totals first.
#[must_use]
pub fn plan_table(p: &crate::plan::Plan) -> String {
    let show =
        |d: Option<chrono::NaiveDate>| d.map_or_else(|| "never".to_owned(), |d| d.to_string());
    let mut out = format!(
        "Plan for {} volunteers at level {} ({} placed, {} members moved, at most {} moves)\nlatest completion: {} → {} (deadline {})\n\n",
        p.volunteers,
        p.level,
        p.volunteers_placed,
        p.members_moved,
        p.max_moves,
        show(p.completion_before),
        show(p.completion_after),
        p.deadline
    );
    let _ = writeln!(
        out,
        "{:<9} {:<30} {:>7} {:>6} {:>5} {:>5} {:>11} {:>11}",
        "code", "name", "before", "added", "in", "out", "done before", "done after"
    );
    for r in &p.rows {
        let name: String = r.name.chars().take(30).collect();
        let _ = writeln!(
            out,
            "{:<9} {:<30} {:>7} {:>6} {:>5} {:>5} {:>11} {:>11}",
            r.code,
            name,
            r.members_before,
            r.members_added,
            r.members_moved_in,
            r.members_moved_out,
            show(r.completion_before),
            show(r.completion_after)
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
}
