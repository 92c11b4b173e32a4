//! The `phuso` command line: thin wrappers over the library. `join` and `bench` have their own
//! files; everything else is a few lines here.

mod aggregates;
mod bench;
mod init;
mod inspect;
mod join;
mod own_files;
mod store;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use phuso::engine::{Engine, EngineConfig, EngineError, PopulationSource, read_norms};
use phuso::generate::{GenerateConfig, GenerateError, generate};
use phuso::output::{self, Format};
use phuso::{IngestError, Level};

/// Phủ Số: where are people dense and helpers few, what share of households has been reached,
/// and where should the next volunteers go.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rank areas by how many more members they need (bundled data by default).
    Report {
        /// Data directory (see data/README.md for its layout).
        #[arg(long, default_value = default_data())]
        data: PathBuf,
        /// Level to rank.
        #[arg(long, value_enum, default_value = "ward")]
        level: Level,
        /// Rows to show (0 = all). Default: 15 in the table; every row in JSON and CSV.
        #[arg(long)]
        limit: Option<usize>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Population vintage.
        #[arg(long, value_enum, default_value = "census2019")]
        population: PopulationSource,
        /// Take the visits as aggregates (from `phuso aggregate` or `phuso-spark report`)
        /// instead of the directory's visits file.
        #[arg(long)]
        aggregates: Option<PathBuf>,
    },
    /// The campaign's visits as integer aggregates (per area, day and service; households'
    /// first visits; the service funnel; H3 cells): what `phuso-spark report` computes on a
    /// cluster, here on one machine.
    Aggregate {
        /// Data directory.
        #[arg(long, default_value = default_data())]
        data: PathBuf,
        /// The aggregates file to write (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// The campaign's join for a cluster: the index of the areas that receive visits
    /// (leaves.idx, wards.idx) and what a worker checks rows with (campaign.json), in a folder.
    CampaignIndex {
        /// Data directory.
        #[arg(long, default_value = default_data())]
        data: PathBuf,
        /// The folder to write (created when missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Serve the map API and the web map (bundled data by default).
    Serve {
        /// Data directory.
        #[arg(long, default_value = default_data())]
        data: PathBuf,
        /// Address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Directory of the web page.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/web"))]
        web: PathBuf,
        /// Optional raster basemap URL template ({z}/{x}/{y}); none by default (works offline).
        #[arg(long)]
        basemap: Option<String>,
        /// Population vintage.
        #[arg(long, value_enum, default_value = "census2019")]
        population: PopulationSource,
        /// The store (default DATA/phuso.db): created from DATA on first start, then reused.
        #[arg(long)]
        db: Option<PathBuf>,
        /// Serve DATA as a snapshot, without a store.
        #[arg(long, conflicts_with = "db")]
        no_store: bool,
        /// Let anyone who reaches the port read aggregates even when it is not on loopback.
        #[arg(long)]
        public_read: bool,
        /// The small-count rule: counts of fewer than K households (0 included) are withheld
        /// from every answer, with what would let a reader work them out.
        #[arg(long, value_name = "K", default_value_t = phuso::disclosure::DEFAULT_MIN_COUNT,
              value_parser = clap::value_parser!(u64).range(1..=1000))]
        min_count: u64,
        /// Expensive requests (H3 layers, plans, what-if, exports, audit) one client address may
        /// make at once …
        #[arg(long, value_name = "N", default_value_t = 30)]
        client_burst: u32,
        /// … and per second after that (429 beyond).
        #[arg(long, value_name = "R", default_value_t = 5.0)]
        client_rate: f64,
    },
    /// Create, list or revoke access tokens of a store.
    Token {
        #[command(subcommand)]
        action: store::TokenAction,
    },
    /// Load a file into a store as one batch (`--db`, validated as at load; prints its receipt),
    /// or a province's own file into a data directory (`--data`: neighbourhoods from GeoJSON,
    /// Shapefile or GeoPackage in WGS84 or VN-2000; teams from .xlsx/.xls/.ods/.csv with
    /// Vietnamese headers; visits from CSV or Parquet), checked, then loaded with the directory
    /// before it replaces anything.
    #[command(group = clap::ArgGroup::new("target").required(true).args(["db", "data"]))]
    Import {
        /// What the file holds.
        #[arg(value_enum)]
        kind: store::ImportKind,
        /// The file (with --db: CSV or Parquet for visits and teams, GeoJSON for areas, TOML for
        /// norms).
        file: PathBuf,
        /// The store (created when missing).
        #[arg(long)]
        db: Option<PathBuf>,
        /// A data directory (from `phuso init`).
        #[arg(long)]
        data: Option<PathBuf>,
        #[command(flatten)]
        read: own_files::ReadFlags,
        #[command(flatten)]
        fields: own_files::FieldFlags,
    },
    /// Show what a boundary file (GeoJSON, Shapefile, GeoPackage) or spreadsheet holds: layers,
    /// fields with sample values and guessed roles, CRS, extent, text encoding.
    Inspect {
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        read: own_files::ReadFlags,
    },
    /// Write the store out as a data directory (also a backup; `report --data DIR` gives the
    /// figures the server shows).
    Export {
        /// The store.
        #[arg(long)]
        db: PathBuf,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Replace files that already exist in --out.
        #[arg(long)]
        force: bool,
    },
    /// Copy the store to a new file with SQLite's online backup (safe while the server runs).
    Backup {
        /// The store.
        #[arg(long)]
        db: PathBuf,
        /// The copy (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the store's write log.
    Log {
        /// The store.
        #[arg(long)]
        db: PathBuf,
    },
    /// Audit the staffing norms (TNTN team per neighbourhood, pairs per residential group).
    Audit {
        /// Data directory.
        #[arg(long, default_value = default_data())]
        data: PathBuf,
        /// Norms file (default: DATA/norms.toml).
        #[arg(long)]
        norms: Option<PathBuf>,
        /// Level to audit.
        #[arg(long, value_enum, default_value = "ward")]
        level: Level,
        /// Rows to show (0 = all).
        #[arg(long, default_value_t = 0)]
        limit: usize,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Place new volunteers in pairs so the latest completion is as early as possible, or find
    /// the fewest that meet the deadline (--meet-deadline).
    Plan {
        /// Data directory.
        #[arg(long, default_value = default_data())]
        data: PathBuf,
        /// Norms file (default: DATA/norms.toml).
        #[arg(long)]
        norms: Option<PathBuf>,
        /// New volunteers to place (in pairs).
        #[arg(long, required_unless_present = "meet_deadline")]
        volunteers: Option<u64>,
        /// Find the fewest new volunteers, and where, so that every area finishes by the deadline.
        #[arg(long, conflicts_with_all = ["volunteers", "allow_moves"])]
        meet_deadline: bool,
        /// Moves of existing pairs allowed.
        #[arg(long, default_value_t = 0)]
        allow_moves: u64,
        /// Level to report the plan at (pairs are always placed in the leaf areas, where members
        /// work; coarser levels are their sums).
        #[arg(long, value_enum, default_value = "neighbourhood")]
        level: Level,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Count points per area for any GeoJSON of polygons and any table of points.
    Join {
        /// GeoJSON FeatureCollection of Polygon/MultiPolygon features.
        #[arg(long)]
        areas: PathBuf,
        /// Points: CSV or Parquet.
        #[arg(long)]
        points: PathBuf,
        /// Feature property holding the area code.
        #[arg(long, default_value = "code")]
        id_property: String,
        /// Longitude column.
        #[arg(long, default_value = "lon")]
        lon: String,
        /// Latitude column.
        #[arg(long, default_value = "lat")]
        lat: String,
        /// Where to write `code,count` (one row per area, then `_outside` and `_invalid`).
        #[arg(long)]
        counts_out: PathBuf,
        /// Where to write `row,code` for every point (code empty when outside or invalid).
        #[arg(long)]
        assignments_out: Option<PathBuf>,
        /// Where to keep the areas' index between runs, keyed by the file's SHA-256 [default:
        /// $PHUSO_CACHE_DIR, else $XDG_CACHE_HOME/phuso, else ~/.cache/phuso].
        #[arg(long, conflicts_with = "no_cache")]
        cache_dir: Option<PathBuf>,
        /// Build the areas' index from the file every time, and keep none.
        #[arg(long)]
        no_cache: bool,
    },
    /// Measure the join and H3 kernels on generated (or given) points: one JSON line per
    /// measurement with points/s, wall seconds, peak memory and whether the answer equalled the
    /// exact reference.
    Bench {
        /// Areas to join against: GeoJSON FeatureCollection with a `code` property.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/wards_2025.geojson"))]
        areas: PathBuf,
        /// Points to generate (seeded, clustered like visits) when --points-file is not given.
        #[arg(long, default_value_t = 10_000_000)]
        points: usize,
        /// Read `lon`,`lat` from this CSV or Parquet file instead of generating points.
        #[arg(long)]
        points_file: Option<PathBuf>,
        /// H3 resolutions to measure (comma-separated; `--h3` alone for none).
        #[arg(long, value_delimiter = ',', num_args = 0.., default_values_t = [8_u8, 9])]
        h3: Vec<u8>,
        /// Seed of the generated points.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Set up a data directory for any of the 34 provinces from the bundled national files: its
    /// 2025 wards, the 2019 census of its former provinces and a crosswalk derived from the
    /// published "formed from" text. Then `phuso serve --data OUT`.
    Init {
        /// The 2025 province: GSO code ("01") or name, diacritics optional ("ha noi"); `all` for the whole country (3,321 wards, rooted at Việt Nam).
        #[arg(long)]
        province: String,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Directory of the national files.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/national"))]
        national: PathBuf,
        /// Campaign settings to copy (edit them after).
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/norms.toml"))]
        norms: PathBuf,
        /// Replace a data directory already in --out.
        #[arg(long)]
        force: bool,
    },
    /// Write the seeded synthetic neighbourhoods, teams and visits.
    Generate {
        /// Data directory with the real wards, census and norms.
        #[arg(long, default_value = default_data())]
        data: PathBuf,
        /// Output directory (required: the bundled data is never overwritten by default).
        #[arg(long)]
        out: PathBuf,
        /// Overwrite files that already exist in --out.
        #[arg(long)]
        force: bool,
        /// Seed: the same seed writes the same files.
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        /// Number of visits.
        #[arg(long, default_value_t = 1_600_000)]
        visits: u64,
        /// Campaign days with data.
        #[arg(long, default_value_t = 35)]
        days_elapsed: u32,
        /// Also write visits.csv.
        #[arg(long)]
        csv: bool,
    },
}

const fn default_data() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/data")
}

/// Parses the command line, runs it, prints errors and picks the exit code.
pub fn main() -> ExitCode {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(
            // Warnings, and the server's access log (one line per request, target phuso::access).
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,phuso::access=info".into()),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(code) => code,
        // `phuso … | head`: the reader went away; nothing is wrong.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            // Input problems (unreadable, malformed, missing columns, a foreign, newer or
            // damaged store) exit with 2; the machine failing (disk full, I/O) with 1.
            let system = e
                .chain()
                .filter_map(|c| c.downcast_ref::<phuso::store::StoreError>())
                .any(phuso::store::StoreError::is_system);
            let input = !system
                && e.chain().any(|c| {
                    c.is::<IngestError>()
                        || c.is::<EngineError>()
                        || c.is::<GenerateError>()
                        || c.is::<phuso::store::StoreError>()
                });
            ExitCode::from(if input { 2 } else { 1 })
        }
    }
}

/// True when the error is a write to a closed pipe.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes, each said once (a cause already quoted by its parent is skipped).
fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

/// Writes one line to standard output (an error, not a panic, when the reader has gone).
pub(crate) fn say(line: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .context("cannot write to standard output")
}

fn load(
    data: &Path,
    norms: Option<PathBuf>,
    population: PopulationSource,
) -> anyhow::Result<Engine> {
    Ok(Engine::load(&config(data, norms, population)?)?)
}

/// The configuration of a load of data directory `data` (which must exist).
fn config(
    data: &Path,
    norms: Option<PathBuf>,
    population: PopulationSource,
) -> anyhow::Result<EngineConfig> {
    if !data.is_dir() {
        anyhow::bail!(
            "--data {}: no such folder; expected a data directory (see data/README.md for its layout)",
            data.display()
        );
    }
    let mut config = EngineConfig::for_dir(data);
    config.population = population;
    if let Some(n) = norms {
        config.paths.norms = n;
    }
    Ok(config)
}

fn write_out(out: Option<&Path>, text: impl AsRef<[u8]>) -> anyhow::Result<()> {
    match out {
        Some(p) => {
            std::fs::write(p, text).with_context(|| format!("{}: cannot write", p.display()))
        }
        None => std::io::stdout()
            .write_all(text.as_ref())
            .context("cannot write to standard output"),
    }
}

/// `--format xlsx` writes a file: refused (usage, exit 2) without `--out`.
fn xlsx_needs_out(format: Format, out: Option<&Path>) -> Option<ExitCode> {
    (format == Format::Xlsx && out.is_none()).then(|| {
        eprintln!("error: --format xlsx writes a workbook: give --out FILE.xlsx");
        ExitCode::from(2)
    })
}

/// Rows as JSON values, for the workbook writer.
fn values<T: serde::Serialize>(rows: &[T]) -> Vec<serde_json::Value> {
    rows.iter()
        .map(|r| serde_json::to_value(r).unwrap_or(serde_json::Value::Null))
        .collect()
}

/// A count with thousands separators, for tables.
fn int(x: f64) -> String {
    phuso::priority::int(x, phuso::priority::Lang::En)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Report {
            data,
            level,
            limit,
            format,
            out,
            population,
            aggregates,
        } => {
            if let Some(code) = xlsx_needs_out(format, out.as_deref()) {
                return Ok(code);
            }
            let started = Instant::now();
            let engine = match aggregates {
                Some(a) => aggregates::load_aggregated(&config(&data, None, population)?, &a)?,
                None => load(&data, None, population)?,
            };
            let mut rows = engine.priorities(level);
            let all = rows.len();
            // The table is for reading: 15 rows unless asked; machine formats get every row.
            let limit = limit.unwrap_or(if format == Format::Table { 15 } else { 0 });
            if limit > 0 {
                rows.truncate(limit);
            }
            let text = match format {
                Format::Table => {
                    let r = engine.visit_report();
                    let c = engine.campaign();
                    let shown = if rows.len() < all {
                        format!(" (the first {} shown; --limit 0 for all)", rows.len())
                    } else {
                        String::new()
                    };
                    let mut head = format!(
                        "Phủ Số — {all} areas at level {level}{shown}, data as of {} (campaign {} → deadline {}, target {:.0}%)\n\
                         visits: {} read, {} accepted, {} rejected, {} outside every area\n\n",
                        engine.as_of(),
                        c.start,
                        c.deadline(),
                        c.target_coverage * 100.0,
                        int(r.rows_read as f64),
                        int(r.rows_accepted as f64),
                        int(r.rows_rejected() as f64),
                        int(engine.outside() as f64)
                    );
                    if !engine.has_visits() {
                        head.insert_str(
                            head.len() - 1,
                            &format!("{}\n", phuso::disclosure::areas::no_visits_reason(false)),
                        );
                    }
                    let (census, published, source) = engine.population_vintages();
                    let used = match source {
                        PopulationSource::Census2019 => "2019 census",
                        PopulationSource::Published2025 => "2025 published",
                    };
                    head.insert_str(
                        head.len() - 1,
                        &format!(
                            "population: {used} in use; 2019 census {}, 2025 published {} ({:+.1}%; not comparable: different dates and bases)\n",
                            phuso::priority::int(census, phuso::priority::Lang::En),
                            phuso::priority::int(published, phuso::priority::Lang::En),
                            if census > 0.0 { (published / census - 1.0) * 100.0 } else { 0.0 }
                        ),
                    );
                    head.push_str(&output::priority_table(&rows));
                    head
                }
                Format::Json => output::json(&rows)?,
                Format::Csv => output::csv(&rows)?,
                // Every level, every row (in full: the operator's file).
                Format::Xlsx => {
                    use phuso::output::xlsx::{PRIORITIES_TITLE, PRIORITY_COLUMNS, heading_for};
                    let book = phuso::output::xlsx::levels_workbook(
                        &heading_for(&engine, PRIORITIES_TITLE, None),
                        &engine,
                        &PRIORITY_COLUMNS,
                        |l| values(&engine.priorities(l)),
                    )?;
                    write_out(out.as_deref(), book)?;
                    return Ok(ExitCode::SUCCESS);
                }
            };
            write_out(out.as_deref(), &text)?;
            tracing::info!(elapsed_s = started.elapsed().as_secs_f64(), "report done");
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            data,
            norms,
            level,
            limit,
            format,
            out,
        } => {
            if let Some(code) = xlsx_needs_out(format, out.as_deref()) {
                return Ok(code);
            }
            let engine = load(&data, norms, PopulationSource::default())?;
            let (summary, mut rows) = engine.audit_with_summary(level);
            if limit > 0 {
                rows.truncate(limit);
            }
            let text = match format {
                Format::Table => format!("{}\n\n{}", summary.text, output::audit_table(&rows)),
                Format::Json => serde_json::to_string_pretty(
                    &serde_json::json!({ "summary": summary, "items": rows }),
                )?,
                Format::Csv => output::csv(&rows)?,
                Format::Xlsx => {
                    use phuso::output::xlsx::{AUDIT_COLUMNS, AUDIT_TITLE, heading_for};
                    let book = phuso::output::xlsx::levels_workbook(
                        &heading_for(&engine, AUDIT_TITLE, None),
                        &engine,
                        &AUDIT_COLUMNS,
                        |l| values(&engine.audit(l)),
                    )?;
                    write_out(out.as_deref(), book)?;
                    return Ok(ExitCode::SUCCESS);
                }
            };
            write_out(out.as_deref(), &text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan {
            data,
            norms,
            volunteers,
            meet_deadline,
            allow_moves,
            level,
            format,
            out,
        } => {
            if let Some(code) = xlsx_needs_out(format, out.as_deref()) {
                return Ok(code);
            }
            let engine = load(&data, norms, PopulationSource::default())?;
            let started = Instant::now();
            let asked = match volunteers {
                Some(k) if !meet_deadline => phuso::plan::Volunteers::Count(k),
                _ => phuso::plan::Volunteers::MeetDeadline,
            };
            let p = phuso::plan::plan(&engine, level, asked, allow_moves)?;
            tracing::info!(
                elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                "plan done"
            );
            let text = match format {
                Format::Table => output::plan_table(&p),
                Format::Json => serde_json::to_string_pretty(&p)?,
                Format::Csv => output::csv(&p.rows)?,
                Format::Xlsx => {
                    use phuso::output::xlsx::{PLAN_TITLE, heading_for, plan_workbook};
                    let book = plan_workbook(
                        &heading_for(&engine, PLAN_TITLE, None),
                        &serde_json::to_value(&p)?,
                    )?;
                    write_out(out.as_deref(), book)?;
                    return Ok(ExitCode::SUCCESS);
                }
            };
            write_out(out.as_deref(), &text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            kind,
            file,
            db,
            data,
            read,
            fields,
        } => match (db, data) {
            (Some(db), _) => store::import(kind, &file, &db),
            (None, Some(dir)) => own_files::import_into_dir(kind, &file, &dir, &read, &fields),
            (None, None) => {
                eprintln!("error: give --db DB or --data DIR");
                Ok(ExitCode::from(2))
            }
        },
        Command::Inspect { file, read } => match read.open_options() {
            Ok(o) => inspect::inspect(&file, &o),
            Err(e) => {
                eprintln!("error: {e}");
                Ok(ExitCode::from(2))
            }
        },
        Command::Export { db, out, force } => store::export(&db, &out, force),
        Command::Backup { db, out } => store::backup(&db, &out),
        Command::Log { db } => store::log(&db),
        Command::Token { action } => store::token(action),
        Command::Serve {
            data,
            addr,
            web,
            basemap,
            population,
            db,
            no_store,
            public_read,
            min_count,
            client_burst,
            client_rate,
        } => {
            let started = Instant::now();
            // Bind first: a busy port is said at once, not after the data has loaded.
            let listener = std::net::TcpListener::bind(&addr).with_context(|| {
                format!("cannot listen on {addr} (is another server using it? choose another with --addr, e.g. --addr 127.0.0.1:0)")
            })?;
            let loopback = listener.local_addr().is_ok_and(|a| a.ip().is_loopback());
            let read_access = if loopback || public_read {
                phuso::api::live::ReadAccess::Open
            } else {
                phuso::api::live::ReadAccess::Token
            };
            let live = if no_store {
                let engine = std::sync::Arc::new(load(&data, None, population)?);
                let state = std::sync::Arc::new(phuso::api::AppState::with_min_count(
                    engine, basemap, min_count,
                ));
                let mut live = phuso::api::live::Live::read_only(state);
                live.read_access = read_access;
                std::sync::Arc::new(live)
            } else {
                let db = db.unwrap_or_else(|| store::default_db(&data));
                let s = store::open_or_create(&db, &data)?;
                let live = phuso::api::live::Live::with_store(
                    s,
                    population,
                    basemap,
                    read_access,
                    min_count,
                )?;
                say(&format!(
                    "Serving the store {}; uploads (POST /api/visits) need an uploader token (phuso token create).",
                    db.display()
                ))?;
                live
            };
            say(match read_access {
                phuso::api::live::ReadAccess::Open if loopback => {
                    "Reads are open: the server listens on loopback only."
                }
                phuso::api::live::ReadAccess::Open => {
                    "Reads are open to the network (--public-read); writes need a token."
                }
                phuso::api::live::ReadAccess::Token => {
                    "Not on loopback: reads need a viewer token (or --public-read); writes need a token."
                }
            })?;
            let state = live;
            let loaded = started.elapsed().as_secs_f64();
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime
                .block_on(phuso::api::serve_with(
                    state,
                    Some(web),
                    listener,
                    phuso::api::server::Limits {
                        client_burst,
                        client_per_second: client_rate,
                        ..phuso::api::server::Limits::default()
                    },
                    |bound| {
                        let _ = say(&format!(
                            "Phủ Số map ready in {loaded:.1} s: open http://{bound}/ (Ctrl-C to stop)"
                        ));
                    },
                ))
                .with_context(|| format!("cannot serve on {addr}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Aggregate { data, out } => {
            aggregates::aggregate_command(&config(&data, None, PopulationSource::default())?, &out)
        }
        Command::CampaignIndex { data, out } => aggregates::campaign_index_command(
            &config(&data, None, PopulationSource::default())?,
            &out,
        ),
        Command::Join {
            areas,
            points,
            id_property,
            lon,
            lat,
            counts_out,
            assignments_out,
            cache_dir,
            no_cache,
        } => join::join_command(
            &areas,
            &points,
            &id_property,
            &lon,
            &lat,
            &counts_out,
            assignments_out.as_deref(),
            if no_cache {
                None
            } else {
                cache_dir.or_else(join::default_cache_dir)
            }
            .as_deref(),
        ),
        Command::Bench {
            areas,
            points,
            points_file,
            h3,
            seed,
        } => bench::bench_command(&areas, points, points_file.as_deref(), &h3, seed),
        Command::Init {
            province,
            out,
            national,
            norms,
            force,
        } => init::init_command(&province, &national, &norms, &out, force),
        Command::Generate {
            data,
            out,
            force,
            seed,
            visits,
            days_elapsed,
            csv,
        } => {
            let campaign = read_norms(&data.join("norms.toml"))?;
            if !force {
                let existing: Vec<String> = phuso::generate::OUTPUT_FILES
                    .iter()
                    .filter(|f| out.join(f).exists())
                    .map(|f| out.join(f).display().to_string())
                    .collect();
                if !existing.is_empty() {
                    anyhow::bail!(
                        "--out {}: would overwrite {}; give another --out, or --force to replace them",
                        out.display(),
                        existing.join(", ")
                    );
                }
            }
            let mut config = GenerateConfig::bundled(&data, &out, campaign);
            config.seed = seed;
            config.visits = visits;
            config.days_elapsed = days_elapsed;
            config.csv = csv;
            let summary = generate(&config)?;
            say(&serde_json::to_string_pretty(&summary)?)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
