//! `phuso import`, `phuso export`, `phuso backup`, `phuso log`, and the store behind `serve`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use phuso::store::Store;
use phuso::store::import::{Receipt, Stage};

use super::say;

/// What `phuso import` loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportKind {
    /// Visits (CSV or Parquet), validated as at load; re-sent visits count once.
    Visits,
    /// A roster (CSV or Parquet): teams added or updated.
    Teams,
    /// Changes of members from a day on (CSV, XLSX or Parquet: `team_id`, `effective_from`,
    /// `members`); the history is kept, and the pace counts the members of each day.
    RosterChanges,
    /// The 2025 ward polygons (GeoJSON): a new version.
    Wards,
    /// Neighbourhood polygons (GeoJSON with `code`, `name`, `ward_code`): a new version.
    Neighbourhoods,
    /// Residential-group (tổ dân phố) polygons, counted per neighbourhood (with --data only).
    Groups,
    /// The 2019 census with its crosswalk (CSV): a new version.
    Census,
    /// Campaign settings and norms (TOML): a new version.
    Norms,
}

/// A progress bar on standard error (drawn only on a terminal), fed by import stages.
fn progress() -> (ProgressBar, impl Fn(Stage)) {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let b = bar.clone();
    let feed = move |s: Stage| match s {
        Stage::Reading(what) => {
            b.set_message(format!("reading {what}"));
            b.tick();
        }
        Stage::Writing { done, total } => {
            b.set_message("storing visits");
            b.set_length(total);
            b.set_position(done);
        }
    };
    (bar, feed)
}

/// Opens the store at `db`; when it does not exist, creates it from the data directory `data`
/// (saying so, with a progress bar).
pub fn open_or_create(db: &Path, data: &Path) -> anyhow::Result<Store> {
    if db.exists() {
        return Ok(Store::open(db, false)?);
    }
    if !data.is_dir() {
        anyhow::bail!(
            "--data {}: no such folder; expected a data directory to create the store {} from",
            data.display(),
            db.display()
        );
    }
    say(&format!(
        "No store at {}: creating it from {} (first start only)…",
        db.display(),
        data.display()
    ))?;
    let started = Instant::now();
    let mut store = Store::open(db, true)?;
    let (bar, feed) = progress();
    let receipts = store.import_dir(data, &feed);
    bar.finish_and_clear();
    let receipts = match receipts {
        Ok(r) => r,
        Err(e) => {
            drop(store);
            // A half-made store would be reused next time: remove it.
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
            return Err(e).context(format!("cannot create the store {}", db.display()));
        }
    };
    let visits = receipts.last().map_or(0, |r| r.rows_accepted);
    say(&format!(
        "Store {} created in {:.1} s: {} batches, {visits} visits.",
        db.display(),
        started.elapsed().as_secs_f64(),
        receipts.len()
    ))?;
    Ok(store)
}

/// `phuso import KIND FILE --db DB`.
pub fn import(kind: ImportKind, file: &Path, db: &Path) -> anyhow::Result<ExitCode> {
    let mut store = Store::open(db, true)?;
    let (bar, feed) = progress();
    let receipt: Receipt = match kind {
        ImportKind::Visits => store.import_visits(file, &feed),
        ImportKind::Teams => store.import_teams(file),
        ImportKind::RosterChanges => store.import_roster_changes(file),
        ImportKind::Wards => store.import_document("wards", file),
        ImportKind::Neighbourhoods => store.import_document("neighbourhoods", file),
        ImportKind::Census => store.import_document("census", file),
        ImportKind::Norms => store.import_document("norms", file),
        ImportKind::Groups => {
            eprintln!(
                "error: residential groups are counted into a data directory's neighbourhoods: use --data DIR"
            );
            return Ok(ExitCode::from(2));
        }
    }?;
    bar.finish_and_clear();
    say(&serde_json::to_string_pretty(&receipt)?)?;
    Ok(ExitCode::SUCCESS)
}

/// `phuso export --db DB --out DIR`.
pub fn export(db: &Path, out: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let store = Store::open(db, false)?;
    let written = store.export(out, force)?;
    for f in written {
        say(&f.display().to_string())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `phuso backup --db DB --out FILE`.
pub fn backup(db: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let store = Store::open(db, false)?;
    store.backup(out)?;
    say(&format!(
        "{} → {} (online backup; safe while the server runs)",
        db.display(),
        out.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// `phuso log --db DB`.
pub fn log(db: &Path) -> anyhow::Result<ExitCode> {
    let store = Store::open(db, false)?;
    for e in store.log()? {
        say(&format!(
            "{}  {:<4} {:<22} batch {:<5} {}",
            e.at,
            e.actor,
            e.action,
            e.batch.map_or_else(|| "-".into(), |b| b.to_string()),
            e.detail
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The store file for a data directory: `DATA/phuso.db`.
pub fn default_db(data: &Path) -> PathBuf {
    data.join("phuso.db")
}

/// `phuso token …`.
#[derive(Debug, clap::Subcommand)]
pub enum TokenAction {
    /// Create a token and print it once (only its SHA-256 is stored).
    Create {
        /// The store.
        #[arg(long)]
        db: PathBuf,
        /// What it may do.
        #[arg(long, value_enum)]
        role: phuso::store::tokens::Role,
        /// Ward codes an uploader may send visits for (repeat, or comma-separated; none: all).
        #[arg(long = "ward", value_delimiter = ',')]
        wards: Vec<String>,
        /// Who holds it, e.g. "UBND phường An Phú".
        #[arg(long)]
        label: String,
    },
    /// List the tokens (never their secrets).
    List {
        /// The store.
        #[arg(long)]
        db: PathBuf,
    },
    /// Revoke a token by id.
    Revoke {
        /// The store.
        #[arg(long)]
        db: PathBuf,
        /// Token id (from `phuso token list`).
        id: i64,
    },
}

/// Runs a token action.
pub fn token(action: TokenAction) -> anyhow::Result<ExitCode> {
    match action {
        TokenAction::Create {
            db,
            role,
            wards,
            label,
        } => {
            let mut store = Store::open(&db, false)?;
            let (info, secret) = store.create_token(role, &wards, &label)?;
            say(&format!(
                "token {} ({}, {}{}) created. Keep it now: it is shown only once.\n{secret}",
                info.id,
                info.role.as_str(),
                info.label,
                if info.wards.is_empty() {
                    String::new()
                } else {
                    format!(", wards {}", info.wards.join(","))
                }
            ))?;
        }
        TokenAction::List { db } => {
            let store = Store::open(&db, false)?;
            for t in store.tokens()? {
                say(&format!(
                    "{:>4}  {:<8}  {:<24}  wards {:<12}  created {}{}",
                    t.id,
                    t.role.as_str(),
                    t.label,
                    if t.wards.is_empty() {
                        "all".to_owned()
                    } else {
                        t.wards.join(",")
                    },
                    t.created_at,
                    t.revoked_at
                        .map_or_else(String::new, |r| format!("  REVOKED {r}"))
                ))?;
            }
        }
        TokenAction::Revoke { db, id } => {
            let mut store = Store::open(&db, false)?;
            if store.revoke_token(id)? {
                say(&format!("token {id} revoked"))?;
            } else {
                anyhow::bail!("token {id}: no such active token (see phuso token list)");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
