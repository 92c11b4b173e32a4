//! The store back out: as a data directory (the bundled layout, so `phuso report --data DIR`
//! gives the figures the server shows), and as a consistent copy of the live file (SQLite's
//! online backup).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{Store, StoreError, key_from_sql};
use crate::model::Service;

/// The files an export writes, relative to its directory.
pub const EXPORT_FILES: [&str; 7] = [
    "wards_2025.geojson",
    "census_2019.csv",
    "norms.toml",
    "synthetic/neighbourhoods.geojson",
    "synthetic/teams.csv",
    "synthetic/roster_changes.csv",
    "synthetic/visits.parquet",
];

impl Store {
    /// Writes the store as a data directory under `dir`; refuses to replace existing files
    /// unless `force`.
    ///
    /// # Errors
    /// [`StoreError::Write`] naming the file, or SQLite's errors.
    pub fn export(&self, dir: &Path, force: bool) -> Result<Vec<PathBuf>, StoreError> {
        let werr = |file: &Path| {
            let file = file.to_owned();
            move |e: std::io::Error| StoreError::Write {
                file,
                message: e.to_string(),
            }
        };
        if !force {
            let existing: Vec<String> = EXPORT_FILES
                .iter()
                .map(|f| dir.join(f))
                .filter(|p| p.exists())
                .map(|p| p.display().to_string())
                .collect();
            if !existing.is_empty() {
                return Err(StoreError::Write {
                    file: dir.to_owned(),
                    message: format!(
                        "would overwrite {}; give another --out, or --force to replace them",
                        existing.join(", ")
                    ),
                });
            }
        }
        std::fs::create_dir_all(dir.join("synthetic")).map_err(werr(dir))?;
        let mut written = Vec::new();
        for (name, file) in [
            ("wards", "wards_2025.geojson"),
            ("census", "census_2019.csv"),
            ("norms", "norms.toml"),
            ("neighbourhoods", "synthetic/neighbourhoods.geojson"),
        ] {
            if let Some((_, bytes)) = self.document(name)? {
                let path = dir.join(file);
                std::fs::write(&path, bytes).map_err(werr(&path))?;
                written.push(path);
            }
        }
        // Roster.
        let path = dir.join("synthetic/teams.csv");
        {
            let mut w =
                csv::Writer::from_writer(BufWriter::new(File::create(&path).map_err(werr(&path))?));
            let rows = self.roster_rows()?;
            let io = |e: csv::Error| StoreError::Write {
                file: path.clone(),
                message: e.to_string(),
            };
            w.write_record(["team_id", "area_code", "kind", "members"])
                .map_err(io)?;
            for (id, area, kind, members) in rows {
                w.write_record([id, area, kind, members.to_string()])
                    .map_err(io)?;
            }
            w.flush().map_err(werr(&path))?;
        }
        written.push(path);
        // The roster's history (only when there is one), oldest first as stored.
        let path = dir.join("synthetic/roster_changes.csv");
        let changes = self.roster_changes()?;
        if changes.is_empty() {
            if path.exists() {
                std::fs::remove_file(&path).map_err(werr(&path))?;
            }
        } else {
            let mut w =
                csv::Writer::from_writer(BufWriter::new(File::create(&path).map_err(werr(&path))?));
            let io = |e: csv::Error| StoreError::Write {
                file: path.clone(),
                message: e.to_string(),
            };
            w.write_record(["team_id", "effective_from", "members"])
                .map_err(io)?;
            for (team, c) in changes {
                w.write_record([team, c.from.to_string(), c.members.to_string()])
                    .map_err(io)?;
            }
            w.flush().map_err(werr(&path))?;
            written.push(path);
        }
        // Visits, as the generator writes them.
        let path = dir.join("synthetic/visits.parquet");
        self.write_visits_parquet(&path)?;
        written.push(path);
        // A store without neighbourhoods leaves no stale file behind.
        let nb = dir.join("synthetic/neighbourhoods.geojson");
        if self.document("neighbourhoods")?.is_none() && nb.exists() {
            std::fs::remove_file(&nb).map_err(werr(&nb))?;
        }
        Ok(written)
    }

    fn write_visits_parquet(&self, path: &Path) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT v.visit_id, t.team_id, v.lon, v.lat, v.ts_local_ms, v.household, v.service
                 FROM visits v JOIN teams t ON t.id = v.team ORDER BY v.visit_id",
            )
            .map_err(|e| self.err("cannot read the visits", e))?;
        let (mut id, mut team, mut lon, mut lat, mut ts, mut hh, mut service) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        let mut rows = stmt
            .query([])
            .map_err(|e| self.err("cannot read the visits", e))?;
        while let Some(r) = rows
            .next()
            .map_err(|e| self.err("cannot read the visits", e))?
        {
            let get = |e| self.err("cannot read a visit", e);
            id.push(key_from_sql(r.get(0).map_err(get)?));
            team.push(r.get::<_, String>(1).map_err(get)?);
            lon.push(r.get::<_, f64>(2).map_err(get)?);
            lat.push(r.get::<_, f64>(3).map_err(get)?);
            ts.push(r.get::<_, i64>(4).map_err(get)?);
            hh.push(key_from_sql(r.get(5).map_err(get)?));
            let s: i64 = r.get(6).map_err(get)?;
            service.push(
                Service::ALL
                    .get(usize::try_from(s).unwrap_or(usize::MAX))
                    .map_or("", |s| s.as_str()),
            );
        }
        let height = id.len();
        let write = |e: PolarsError| StoreError::Write {
            file: path.to_owned(),
            message: e.to_string(),
        };
        let ts =
            Int64Chunked::from_vec("ts".into(), ts).into_datetime(TimeUnit::Milliseconds, None);
        let mut df = DataFrame::new(
            height,
            vec![
                Column::new("visit_id".into(), id),
                Column::new("team_id".into(), team),
                Column::new("lon".into(), lon),
                Column::new("lat".into(), lat),
                ts.into_column(),
                Column::new("household_id".into(), hh),
                Column::new("service".into(), service),
            ],
        )
        .map_err(write)?;
        let file = File::create(path).map_err(|e| StoreError::Write {
            file: path.to_owned(),
            message: e.to_string(),
        })?;
        let mut w = BufWriter::new(file);
        ParquetWriter::new(&mut w)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(&mut df)
            .map_err(write)?;
        w.flush().map_err(|e| StoreError::Write {
            file: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// A consistent copy of the store (SQLite's online backup: safe while the server runs).
    ///
    /// # Errors
    /// SQLite's error, naming the destination.
    pub fn backup(&self, to: &Path) -> Result<(), StoreError> {
        if to.exists() {
            return Err(StoreError::Write {
                file: to.to_owned(),
                message: "already exists; give a new file name".into(),
            });
        }
        self.conn
            .backup(
                rusqlite::MAIN_DB,
                to,
                None::<fn(rusqlite::backup::Progress)>,
            )
            .map_err(|e| StoreError::Sqlite {
                file: to.to_owned(),
                what: "backup failed".into(),
                source: e,
            })
    }
}
