//! `phuso import KIND FILE --data DIR`: a province's own files into a data directory (one that
//! `phuso init` made): neighbourhood boundaries from GeoJSON, Shapefile or GeoPackage in WGS84 or
//! VN-2000; a roster from a spreadsheet or CSV; visits from CSV or Parquet. Each file is checked,
//! then the whole directory is loaded with it as the server would; only then does it replace
//! what the directory held, so a bad file loses nothing already there.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use phuso::engine::{DataPaths, Engine, EngineConfig};
use phuso::ingest::layer::OpenOptions;
use phuso::ingest::legacy_text::TextEncoding;
use phuso::ingest::own_boundaries::{
    FieldChoice, ImportOptions, import_groups, import_neighbourhoods,
};
use phuso::ingest::roster_sheet::{read_roster_sheet, write_teams};
use phuso::spatial::crs::Crs;

use super::say;
use super::store::ImportKind;

/// How to read a boundary file or spreadsheet (`phuso import --data`, `phuso inspect`).
#[derive(Args, Debug, Clone, Default)]
pub(super) struct ReadFlags {
    /// The file's CRS when it has no .prj (or to override it): EPSG:4326, EPSG:4756, a VN-2000
    /// UTM (3405, 3406) or TM-3 zone (5896–5899, 9205–9218).
    #[arg(long, value_name = "EPSG:NNNN")]
    crs: Option<String>,
    /// Text encoding of a .dbf: utf-8, 1258, tcvn3, vni or 1252 (default: the .cpg, else detected).
    #[arg(long)]
    encoding: Option<String>,
    /// The layer of a GeoPackage, or the sheet of a workbook.
    #[arg(long)]
    layer: Option<String>,
}

impl ReadFlags {
    pub(super) fn open_options(&self) -> Result<OpenOptions, String> {
        Ok(OpenOptions {
            crs: self.crs.as_deref().map(Crs::parse_user).transpose()?,
            encoding: self
                .encoding
                .as_deref()
                .map(|e| {
                    TextEncoding::from_label(e).ok_or_else(|| {
                        format!("--encoding {e:?}: expected utf-8, 1258, tcvn3, vni or 1252")
                    })
                })
                .transpose()?,
            layer: self.layer.clone(),
        })
    }
}

/// Which fields of a boundary file hold what (default: guessed from the names offices use;
/// `phuso inspect FILE` shows the guesses).
#[derive(Args, Debug, Clone, Default)]
pub(super) struct FieldFlags {
    /// Field with the neighbourhood code.
    #[arg(long)]
    code_field: Option<String>,
    /// Field with its name.
    #[arg(long)]
    name_field: Option<String>,
    /// Field with its ward (a 2025 ward code or name); without one, the ward holding it.
    #[arg(long)]
    ward_field: Option<String>,
    /// Field with its residents.
    #[arg(long)]
    population_field: Option<String>,
    /// Field with its households.
    #[arg(long)]
    households_field: Option<String>,
    /// A spreadsheet (or CSV) of population and households per neighbourhood code ("Mã khu
    /// phố", "Dân số", "Số hộ").
    #[arg(long, value_name = "FILE")]
    population: Option<PathBuf>,
    /// Share of a neighbourhood outside its ward, or of a ward outside its neighbourhoods, that
    /// is reported.
    #[arg(long, default_value_t = 0.01)]
    tolerance: f64,
}

fn usage(message: &str) -> anyhow::Result<ExitCode> {
    eprintln!("error: {message}");
    Ok(ExitCode::from(2))
}

/// Loads `paths` as the server would (the check before anything is replaced).
fn check(dir: &Path, paths: DataPaths) -> anyhow::Result<Engine> {
    let config = EngineConfig {
        paths,
        ..EngineConfig::for_dir(dir)
    };
    Ok(Engine::load(&config)?)
}

/// Loads the directory with `staged` instead of one of its files (`set` puts it in the paths),
/// then moves it to `target`; when the directory does not load with it, `staged` is removed and
/// nothing the directory held is touched.
fn put_in_place(
    dir: &Path,
    file: &Path,
    staged: &Path,
    target: &Path,
    set: impl FnOnce(&mut DataPaths, PathBuf),
) -> anyhow::Result<()> {
    let mut paths = DataPaths::in_dir(dir);
    set(&mut paths, staged.to_owned());
    if let Err(e) = check(dir, paths) {
        let _ = std::fs::remove_file(staged);
        return Err(e.context(format!(
            "{} was not imported: the data directory does not load with it",
            file.display()
        )));
    }
    std::fs::rename(staged, target)?;
    Ok(())
}

/// `phuso import KIND FILE --data DIR`.
pub(super) fn import_into_dir(
    kind: ImportKind,
    file: &Path,
    dir: &Path,
    read: &ReadFlags,
    fields: &FieldFlags,
) -> anyhow::Result<ExitCode> {
    if !dir.join("wards_2025.geojson").exists() {
        return usage(&format!(
            "--data {}: not a data directory (no wards_2025.geojson); make one with `phuso init --province P --out {}`",
            dir.display(),
            dir.display()
        ));
    }
    let open = match read.open_options() {
        Ok(o) => o,
        Err(e) => return usage(&e),
    };
    match kind {
        ImportKind::Neighbourhoods => {
            let staged = dir.join("neighbourhoods.geojson.new");
            let options = ImportOptions {
                open,
                fields: FieldChoice {
                    code: fields.code_field.clone(),
                    name: fields.name_field.clone(),
                    ward: fields.ward_field.clone(),
                    population: fields.population_field.clone(),
                    households: fields.households_field.clone(),
                },
                population: fields.population.clone(),
                tolerance: fields.tolerance,
            };
            let r = import_neighbourhoods(dir, file, &staged, &options)?;
            let target = dir.join("neighbourhoods.geojson");
            put_in_place(dir, file, &staged, &target, |p, f| p.neighbourhoods = f)?;
            let fields_used: Vec<String> = r
                .fields
                .iter()
                .map(|(role, f, guessed)| {
                    format!("{role} = {f}{}", if *guessed { " (guessed)" } else { "" })
                })
                .collect();
            say(&format!(
                "{}: {} neighbourhoods in {} of {} wards ({}); CRS {} (from {}){}",
                file.display(),
                r.neighbourhoods,
                r.wards_covered,
                r.wards,
                fields_used.join(", "),
                r.layer.crs,
                r.layer.crs_source,
                r.layer
                    .encoding
                    .as_ref()
                    .map_or(String::new(), |(d, how)| format!(
                        "; text {} ({how})",
                        d.encoding
                    ))
            ))?;
            say(&format!(
                "wards found by code {}, by name {}, by location {}",
                r.wards_by[0], r.wards_by[1], r.wards_by[2]
            ))?;
            for n in &r.layer.notes {
                say(&format!("note: {n}"))?;
            }
            for o in &r.outside {
                say(&format!(
                    "warning: neighbourhood {} sticks out of ward {} by {:.0} m² ({:.1} % of its area)",
                    o.code,
                    o.ward,
                    o.m2,
                    100.0 * o.share
                ))?;
            }
            for u in &r.uncovered {
                say(&format!(
                    "warning: {} of ward {} {} ({:.1} %, {:.3} km²) is in no neighbourhood; visits there count for the ward only",
                    if u.share > 0.5 { "most" } else { "part" },
                    u.ward,
                    u.name,
                    100.0 * u.share,
                    u.km2
                ))?;
            }
            say(&format!("wrote {}", target.display()))?;
        }
        ImportKind::Groups => {
            let staged = dir.join("neighbourhoods.geojson.new");
            let r = import_groups(dir, file, &staged, &open)?;
            let target = dir.join("neighbourhoods.geojson");
            put_in_place(dir, file, &staged, &target, |p, f| p.neighbourhoods = f)?;
            say(&format!(
                "{}: {} residential groups in {} of {} neighbourhoods; CRS {} (from {})",
                file.display(),
                r.placed,
                r.neighbourhoods.0,
                r.neighbourhoods.1,
                r.layer.crs,
                r.layer.crs_source
            ))?;
            if !r.unplaced.is_empty() {
                let shown: Vec<String> = r
                    .unplaced
                    .iter()
                    .take(10)
                    .map(ToString::to_string)
                    .collect();
                say(&format!(
                    "warning: {} groups lie in no neighbourhood (features {}{}); not counted",
                    r.unplaced.len(),
                    shown.join(", "),
                    if r.unplaced.len() > 10 { ", …" } else { "" }
                ))?;
            }
            say(&format!("wrote {}", target.display()))?;
        }
        ImportKind::Teams => {
            let (teams, sheet) = read_roster_sheet(dir, file, read.layer.as_deref())?;
            // Written beside the directory's files, loaded with them, then put in place.
            let staging = dir.join(".import");
            std::fs::create_dir_all(&staging)?;
            let written = write_teams(&staging, &teams)?;
            let placed = put_in_place(dir, file, &written, &dir.join("teams.csv"), |p, f| {
                p.teams = f
            });
            let _ = std::fs::remove_dir_all(&staging);
            placed?;
            let members: u64 = teams.iter().map(|t| u64::from(t.members)).sum();
            say(&format!(
                "{}{}: {} teams, {} members; columns {}",
                file.display(),
                if sheet.sheet.is_empty() {
                    String::new()
                } else {
                    format!(" sheet {:?}", sheet.sheet)
                },
                teams.len(),
                members,
                sheet
                    .columns
                    .iter()
                    .map(|(n, h, c)| format!(
                        "{} {h:?} → {n}",
                        phuso::ingest::sheet::column_letter(*c)
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))?;
            say(&format!("wrote {}", dir.join("teams.csv").display()))?;
        }
        ImportKind::Visits => {
            let ext = file
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            let name = match ext.as_deref() {
                Some("csv") => "visits.csv",
                Some("parquet" | "pq") => "visits.parquet",
                _ => return usage(&format!("{}: visits are CSV or Parquet", file.display())),
            };
            let mut paths = DataPaths::in_dir(dir);
            paths.visits = file.to_owned();
            let engine = check(dir, paths)?;
            let target = dir.join(name);
            let staged = dir.join(format!("{name}.new"));
            std::fs::copy(file, &staged)?;
            std::fs::rename(&staged, &target)?;
            // The other format's file, if any, would be read first: it goes.
            for other in ["visits.parquet", "visits.csv"] {
                if other != name && dir.join(other).exists() {
                    std::fs::remove_file(dir.join(other))?;
                }
            }
            let r = engine.visit_report();
            say(&format!(
                "{}: {} of {} rows accepted ({} outside every area); wrote {}",
                file.display(),
                r.rows_accepted,
                r.rows_read,
                engine.outside(),
                target.display()
            ))?;
            for (why, n) in &r.rejected {
                say(&format!("left out: {n} rows, {why}"))?;
            }
            for e in &r.examples {
                say(&format!("  {e}"))?;
            }
        }
        other => {
            return usage(&format!(
                "--data takes neighbourhoods, groups, teams or visits; {other:?} files belong in the data directory as they are (or use --db)"
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
