//! `phuso inspect FILE`: what a boundary file or spreadsheet holds, so the user can choose the
//! import flags: layers, fields with a few values and the role each seems to play, the CRS and
//! where it came from, the extent (own coordinates and WGS84), the text encoding.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use phuso::ingest::layer::{self, Format, Layer, OpenOptions};
use phuso::ingest::own_boundaries::{GUESSES, POPULATION_COLUMNS, guess};
use phuso::ingest::roster_sheet::TEAM_COLUMNS;
use phuso::ingest::sheet::{column_letter, read_sheet};
use phuso::spatial::crs::ZONES;

/// Prints what `file` holds.
pub(super) fn inspect(file: &Path, options: &OpenOptions) -> anyhow::Result<ExitCode> {
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if matches!(
        ext.as_deref(),
        Some("xlsx" | "xlsm" | "xls" | "xlsb" | "ods" | "csv")
    ) {
        return inspect_sheet(file, options.layer.as_deref());
    }
    Format::of(file)?;
    let names = layer::layer_names(file)?;
    let mut out = String::new();
    if names.len() > 1 && options.layer.is_none() {
        writeln!(
            out,
            "{}: {} layers (choose one with --layer):",
            file.display(),
            names.len()
        )?;
        for n in &names {
            let l = layer::open(
                file,
                &OpenOptions {
                    layer: Some(n.clone()),
                    ..options.clone()
                },
            )?;
            writeln!(out, "  {n}: {} features, {}", l.features.len(), l.crs)?;
        }
        super::say(out.trim_end())?;
        return Ok(ExitCode::SUCCESS);
    }
    let l = layer::open(file, options)?;
    describe(&l, &mut out)?;
    super::say(out.trim_end())?;
    Ok(ExitCode::SUCCESS)
}

fn describe(l: &Layer, out: &mut String) -> std::fmt::Result {
    writeln!(
        out,
        "{}: {:?} layer {:?}, {} features",
        l.path.display(),
        l.format,
        l.name,
        l.features.len()
    )?;
    writeln!(out, "CRS: {} (from {})", l.crs, l.crs_source)?;
    if let Some(r) = l.native_extent {
        writeln!(
            out,
            "extent (file coordinates): x {:.3} … {:.3}, y {:.3} … {:.3}",
            r.min().x,
            r.max().x,
            r.min().y,
            r.max().y
        )?;
    }
    if let Some(r) = l.wgs84_extent() {
        writeln!(
            out,
            "extent (WGS84): lon {:.6} … {:.6}, lat {:.6} … {:.6}",
            r.min().x,
            r.max().x,
            r.min().y,
            r.max().y
        )?;
    }
    if let Some((d, how)) = &l.encoding {
        writeln!(
            out,
            "text encoding: {} ({how}; {} words with Vietnamese letters, {} known place-name syllables)",
            d.encoding, d.score.words, d.score.known
        )?;
    }
    let bad = l.features.iter().filter(|f| f.geometry.is_err()).count();
    if bad > 0 {
        let first = l
            .features
            .iter()
            .enumerate()
            .find_map(|(i, f)| f.geometry.as_ref().err().map(|e| (i, e)));
        if let Some((i, e)) = first {
            writeln!(
                out,
                "geometry: {bad} features unreadable (first: feature {i}: {e})"
            )?;
        }
    }
    for n in &l.notes {
        writeln!(out, "note: {n}")?;
    }
    writeln!(out, "fields:")?;
    let roles: Vec<(&str, Option<String>)> = GUESSES
        .iter()
        .map(|(r, _)| (*r, guess(&l.fields, r)))
        .collect();
    for f in &l.fields {
        let samples: Vec<String> = l
            .features
            .iter()
            .filter_map(|x| x.properties.get(&f.name))
            .filter(|v| !v.is_null())
            .take(3)
            .map(|v| match v {
                serde_json::Value::String(s) => format!("{s:?}"),
                other => other.to_string(),
            })
            .collect();
        let role = roles
            .iter()
            .find(|(_, g)| g.as_deref() == Some(f.name.as_str()))
            .map_or(String::new(), |(r, _)| format!("  ← guessed --{r}-field"));
        writeln!(
            out,
            "  {:<16} {:<10} {}{role}",
            f.name,
            f.kind,
            samples.join(", ")
        )?;
    }
    if roles.iter().all(|(r, g)| *r != "ward" || g.is_none()) {
        writeln!(
            out,
            "no ward field: each neighbourhood's ward will be the one holding its interior point"
        )?;
    }
    if l.crs.is_degrees() && l.native_extent.is_some_and(|r| r.max().x.abs() > 180.0) {
        writeln!(out, "coordinates are not degrees: give --crs")?;
    }
    if l.crs_source.starts_with("assumed") {
        writeln!(
            out,
            "VN-2000 zones: {}",
            ZONES
                .iter()
                .map(|z| format!("EPSG:{} {}°", z.epsg, z.lon_0))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    Ok(())
}

fn inspect_sheet(file: &Path, sheet: Option<&str>) -> anyhow::Result<ExitCode> {
    let mut out = String::new();
    let mut any = false;
    for (what, columns) in [
        ("team roster", &TEAM_COLUMNS[..]),
        ("population", &POPULATION_COLUMNS[..]),
    ] {
        match read_sheet(file, sheet, columns) {
            Ok(s) => {
                any = true;
                writeln!(
                    out,
                    "{}: reads as a {what} (sheet {:?}, {} rows):",
                    file.display(),
                    s.sheet,
                    s.rows.len()
                )?;
                for (k, (name, header, col)) in s.columns.iter().enumerate() {
                    let samples: Vec<String> = s
                        .rows
                        .iter()
                        .filter_map(|(_, v)| v[k].clone())
                        .take(3)
                        .map(|v| format!("{v:?}"))
                        .collect();
                    writeln!(
                        out,
                        "  column {} {header:?} → {name}: {}",
                        column_letter(*col),
                        samples.join(", ")
                    )?;
                }
            }
            Err(e) => writeln!(out, "not a {what}: {e}")?,
        }
    }
    super::say(out.trim_end())?;
    Ok(if any {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
