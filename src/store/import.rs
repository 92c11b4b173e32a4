//! Files into the store. Each file is one batch: validated exactly like a data directory is at
//! load (the same readers), committed in one transaction, and answered with a [`Receipt`].
//!
//! Visits count once: a visit id already stored with the same content is a duplicate (counted,
//! not added); with different content the row is rejected as a conflict. Importing the same file
//! twice therefore changes nothing the second time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, key_to_sql, now, sha256_hex, sql_error};
use crate::engine::{Inputs, drop_outside_window, extent_of, neighbourhood_fields};
use crate::ingest::boundaries::{BoundaryFields, parse_boundaries};
use crate::ingest::teams::read_teams;
use crate::ingest::visits::{VisitReport, Visits, read_visits};
use crate::model::AreaCode;

/// What a batch did.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    /// Batch id in the store.
    pub batch: i64,
    /// `document`, `teams` or `visits`.
    pub kind: String,
    /// Where it came from (file name).
    pub source: String,
    /// When it was committed (RFC 3339 UTC).
    pub received_at: String,
    /// SHA-256 of the content.
    pub content_sha256: String,
    /// Rows (or, for a document, 1).
    pub rows_read: u64,
    /// Rows added or changed.
    pub rows_accepted: u64,
    /// Visits already stored with the same content (not added again).
    pub duplicates: u64,
    /// Rows left out, per kind of problem (a conflict: a stored visit id with other content).
    pub rejected: BTreeMap<String, u64>,
    /// The first problems, each naming the row, field and value.
    pub examples: Vec<String>,
    /// True when this is the receipt of an earlier upload with the same key and content.
    #[serde(default)]
    pub already_received: bool,
    /// The receipt in one sentence, in English.
    pub message: String,
    /// The receipt in one sentence, in Vietnamese.
    pub message_vi: String,
}

/// Where a batch of visits comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload<'a> {
    /// File name or `POST /api/visits`.
    pub source: String,
    /// SHA-256 of the content as sent.
    pub sha256: String,
    /// The client's idempotency key, if any.
    pub key: Option<&'a str>,
    /// The token that sent it.
    pub token: Option<i64>,
}

/// What storing a batch did.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// A new batch, committed, and which rows of the visits given it added (those not stored
    /// before), one flag per row.
    New(Receipt, Vec<bool>),
    /// The same key and content as an earlier batch: its receipt; nothing changed.
    AlreadyReceived(Receipt),
    /// The key was used by an earlier batch with other content; nothing changed.
    KeyReused {
        /// The earlier batch.
        batch: i64,
    },
}

/// A stage of [`Store::import_dir`], for progress on the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading and checking the named input.
    Reading(&'static str),
    /// `done` of `total` visits written.
    Writing {
        /// Written so far.
        done: u64,
        /// All to write.
        total: u64,
    },
}

fn file_name(path: &Path) -> String {
    path.display().to_string()
}

impl Store {
    pub(super) fn begin_batch(
        tx: &rusqlite::Transaction<'_>,
        kind: &str,
        source: &str,
        sha: &str,
    ) -> rusqlite::Result<(i64, String)> {
        let at = now();
        tx.execute(
            "INSERT INTO batches (kind, source, content_sha256, received_at, rows_read, rows_accepted, receipt) VALUES (?1, ?2, ?3, ?4, 0, 0, '')",
            params![kind, source, sha, at],
        )?;
        Ok((tx.last_insert_rowid(), at))
    }

    pub(super) fn finish_batch(
        tx: &rusqlite::Transaction<'_>,
        receipt: &Receipt,
        action: &str,
        token: Option<i64>,
    ) -> rusqlite::Result<()> {
        let json = serde_json::to_string(receipt).unwrap_or_default();
        tx.execute(
            "UPDATE batches SET rows_read = ?2, rows_accepted = ?3, receipt = ?4 WHERE id = ?1",
            params![
                receipt.batch,
                receipt.rows_read as i64,
                receipt.rows_accepted as i64,
                json
            ],
        )?;
        let actor = token.map_or_else(|| "cli".to_owned(), |t| format!("token {t}"));
        tx.execute(
            "INSERT INTO write_log (at, actor, action, detail, batch, token) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![receipt.received_at, actor, action, receipt.message, receipt.batch, token],
        )?;
        Ok(())
    }

    /// Stores a new version of a document (`wards`, `census`, `norms`, `neighbourhoods`) after
    /// checking it as the engine would read it. The previous version is kept in the history.
    ///
    /// # Errors
    /// The document's problems (nothing is stored), or SQLite's.
    pub fn import_document(&mut self, name: &str, file: &Path) -> Result<Receipt, StoreError> {
        let bytes = std::fs::read(file).map_err(|e| crate::IngestError::io(file, e))?;
        self.check_document(name, file, &bytes)?;
        let sha = sha256_hex(&bytes);
        let source = file_name(file);
        let path = self.path.clone();
        let sql = |what: &str| sql_error(&path, what);
        let complete_before = self.is_complete()?;
        // Not `transaction()`: the store is read through `&self` (as the engine's inputs) while
        // the transaction is open, to see the data with the new document before committing.
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(sql("cannot start the import"))?;
        let (batch, at) = Self::begin_batch(&tx, "document", &source, &sha)
            .map_err(sql("cannot record the batch"))?;
        let version: i64 = tx
            .query_row(
                "SELECT version FROM documents WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql("cannot read the documents"))?
            .unwrap_or(0)
            + 1;
        tx.execute(
            "INSERT INTO documents (name, version, content, sha256, batch) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (name) DO UPDATE SET version = excluded.version, content = excluded.content, sha256 = excluded.sha256, batch = excluded.batch",
            params![name, version, bytes, sha, batch],
        )
        .and_then(|_| {
            tx.execute(
                "INSERT INTO document_history (name, version, content, sha256, batch) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, version, bytes, sha, batch],
            )
        })
        .map_err(sql("cannot store the document"))?;
        let receipt = Receipt {
            batch,
            kind: "document".into(),
            source: source.clone(),
            received_at: at,
            content_sha256: sha,
            rows_read: 1,
            rows_accepted: 1,
            duplicates: 0,
            rejected: BTreeMap::new(),
            examples: Vec::new(),
            already_received: false,
            message: format!("{name} version {version} stored from {source}"),
            message_vi: format!("đã lưu {name} phiên bản {version} từ {source}"),
        };
        Self::finish_batch(&tx, &receipt, &format!("import {name}"), None)
            .map_err(sql("cannot record the receipt"))?;
        // A store that could be served must stay so: with the new version in place (not yet
        // committed), the whole campaign is loaded as the server would (teams homed in areas
        // that still exist, neighbourhoods inside wards that still exist, the census's wards).
        if (complete_before || self.is_complete()?)
            && let Err(e) = crate::engine::Engine::load_from(
                self,
                crate::engine::PopulationSource::default(),
                crate::hex::DEFAULT_RESOLUTION,
            )
        {
            drop(tx); // rolls back
            return Err(StoreError::Refused {
                file: file.to_owned(),
                message: format!(
                    "{name} not stored: with this version the store would not load: {e}"
                ),
            });
        }
        tx.commit().map_err(sql("cannot commit the import"))?;
        Ok(receipt)
    }

    /// True when the store holds every document the engine needs (wards, census, norms).
    fn is_complete(&self) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM documents WHERE name IN ('wards', 'census', 'norms')",
                [],
                |r| r.get(0),
            )
            .map_err(sql_error(&self.path, "cannot read the documents"))?;
        Ok(n == 3)
    }

    /// Checks a document as the engine reads it, against what the store already holds.
    fn check_document(&self, name: &str, file: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        match name {
            "wards" => {
                parse_boundaries(file, bytes, &BoundaryFields::default())?;
            }
            "census" => {
                let wards = self.ward_codes()?;
                crate::ingest::census::parse_census(file, bytes, &wards)?;
            }
            "norms" => {
                let text = String::from_utf8_lossy(bytes);
                crate::engine::parse_norms(file, &text)?;
            }
            "neighbourhoods" => {
                let (wards_file, wards) = self.wards()?;
                let codes: HashSet<AreaCode> = wards.into_iter().map(|w| w.code).collect();
                let features = parse_boundaries(file, bytes, &neighbourhood_fields())?;
                crate::engine::check_neighbourhoods(file, &features, &codes, &wards_file)?;
            }
            other => {
                return Err(StoreError::Missing {
                    file: file.to_owned(),
                    what: format!(
                        "unknown document {other:?}; expected wards, census, norms or neighbourhoods"
                    ),
                });
            }
        }
        Ok(())
    }

    fn ward_codes(&self) -> Result<HashSet<AreaCode>, StoreError> {
        let (_, wards) = self.wards()?;
        Ok(wards.into_iter().map(|w| w.code).collect())
    }

    /// The codes teams may be homed at (the leaves) and those they may not (their parents).
    fn team_areas(&self) -> Result<(HashSet<AreaCode>, HashSet<AreaCode>), StoreError> {
        let wards = self.ward_codes()?;
        match self.neighbourhoods(&neighbourhood_fields())? {
            Some((_, nbs)) => Ok((nbs.into_iter().map(|n| n.code).collect(), wards)),
            None => Ok((wards, HashSet::new())),
        }
    }

    /// Adds or updates the teams of a roster file (CSV or Parquet), validated as at load.
    ///
    /// # Errors
    /// The file's problems (nothing is stored), or SQLite's.
    pub fn import_teams(&mut self, file: &Path) -> Result<Receipt, StoreError> {
        let (leaves, parents) = self.team_areas()?;
        let teams = read_teams(file, &leaves, &parents)?;
        let bytes = std::fs::read(file).map_err(|e| crate::IngestError::io(file, e))?;
        let sha = sha256_hex(&bytes);
        let source = file_name(file);
        let path = self.path.clone();
        let sql = |what: &str| sql_error(&path, what);
        let tx = self
            .conn
            .transaction()
            .map_err(sql("cannot start the import"))?;
        let (batch, at) = Self::begin_batch(&tx, "teams", &source, &sha)
            .map_err(sql("cannot record the batch"))?;
        let mut changed = 0;
        {
            let mut upsert = tx
                .prepare(
                    "INSERT INTO teams (team_id, area_code, kind, members, batch) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (team_id) DO UPDATE SET area_code = excluded.area_code, kind = excluded.kind, members = excluded.members, batch = excluded.batch
                     WHERE (area_code, kind, members) IS NOT (excluded.area_code, excluded.kind, excluded.members)",
                )
                .map_err(sql("cannot prepare the roster"))?;
            for t in &teams {
                changed += upsert
                    .execute(params![
                        t.team_id,
                        t.area_code.0,
                        t.kind.as_str(),
                        i64::from(t.members),
                        batch
                    ])
                    .map_err(sql("cannot store a team"))?;
            }
        }
        let unchanged = teams.len() - changed;
        let receipt = Receipt {
            batch,
            kind: "teams".into(),
            source: source.clone(),
            received_at: at,
            content_sha256: sha,
            rows_read: teams.len() as u64,
            rows_accepted: changed as u64,
            duplicates: unchanged as u64,
            rejected: BTreeMap::new(),
            examples: Vec::new(),
            already_received: false,
            message: format!(
                "{} teams read from {source}: {changed} added or changed, {unchanged} unchanged",
                teams.len()
            ),
            message_vi: format!(
                "đọc {} tổ từ {source}: {changed} thêm mới hoặc thay đổi, {unchanged} không đổi",
                teams.len()
            ),
        };
        Self::finish_batch(&tx, &receipt, "import teams", None)
            .map_err(sql("cannot record the receipt"))?;
        tx.commit().map_err(sql("cannot commit the import"))?;
        Ok(receipt)
    }

    /// Adds the visits of a file (CSV or Parquet), validated as at load (coordinates, swapped
    /// lat/lon, unknown team, bad time, unknown service, duplicate id, outside the campaign
    /// window); visits already stored count once. One transaction: all accepted rows or none.
    ///
    /// # Errors
    /// Structural problems of the file (nothing is stored), or SQLite's.
    pub fn import_visits(
        &mut self,
        file: &Path,
        progress: &dyn Fn(Stage),
    ) -> Result<Receipt, StoreError> {
        progress(Stage::Reading("visits"));
        let (index, team_rows, extent, campaign) = self.visit_context()?;
        let (mut visits, mut report) = read_visits(file, &index, extent)?;
        drop_outside_window(&mut visits, &mut report, &campaign);
        let bytes = std::fs::read(file).map_err(|e| crate::IngestError::io(file, e))?;
        let upload = Upload {
            source: file_name(file),
            sha256: sha256_hex(&bytes),
            key: None,
            token: None,
        };
        match self.store_visits(&visits, &report, &team_rows, &upload, progress)? {
            Stored::New(r, _) | Stored::AlreadyReceived(r) => Ok(r),
            Stored::KeyReused { .. } => unreachable!("file imports carry no idempotency key"),
        }
    }

    /// What checking visits needs: team id → index, the store's team rows, the wards' box and
    /// the campaign.
    ///
    /// # Errors
    /// SQLite's, or a document that cannot be read.
    #[expect(
        clippy::type_complexity,
        reason = "four inputs of one check, used together"
    )]
    pub fn visit_context(
        &self,
    ) -> Result<
        (
            HashMap<String, u32>,
            Vec<(i64, String)>,
            crate::ingest::visits::Extent,
            crate::metrics::Campaign,
        ),
        StoreError,
    > {
        let team_rows = self.team_rows()?;
        let index: HashMap<String, u32> = team_rows
            .iter()
            .enumerate()
            .map(|(i, (_, id))| (id.clone(), u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        let (extent, campaign) = self.window_checks()?;
        Ok((index, team_rows, extent, campaign))
    }

    /// The wards' box and the campaign, read again only when the wards or norms document has
    /// a new version.
    fn window_checks(
        &self,
    ) -> Result<(crate::ingest::visits::Extent, crate::metrics::Campaign), StoreError> {
        let version = |name: &str| -> Result<i64, StoreError> {
            self.conn
                .query_row(
                    "SELECT coalesce(max(version), 0) FROM documents WHERE name = ?1",
                    params![name],
                    |r| r.get(0),
                )
                .map_err(sql_error(&self.path, "cannot read the documents"))
        };
        let versions = (version("wards")?, version("norms")?);
        if let Ok(cached) = self.checks.lock()
            && let Some((v, extent, campaign)) = cached.as_ref()
            && *v == versions
        {
            return Ok((*extent, campaign.clone()));
        }
        let (_, wards) = self.wards()?;
        let extent = extent_of(wards.iter().map(|w| &w.geometry));
        let campaign = self.norms()?;
        if let Ok(mut cached) = self.checks.lock() {
            *cached = Some((versions, extent, campaign.clone()));
        }
        Ok((extent, campaign))
    }

    /// Stores checked visits as one batch. With an idempotency key already used: the same
    /// content gives back the first receipt and changes nothing; other content is refused.
    ///
    /// # Errors
    /// SQLite's (nothing of the batch is stored).
    pub fn store_visits(
        &mut self,
        visits: &Visits,
        report: &VisitReport,
        team_rows: &[(i64, String)],
        upload: &Upload,
        progress: &dyn Fn(Stage),
    ) -> Result<Stored, StoreError> {
        let path = self.path.clone();
        let sql = |what: &str| sql_error(&path, what);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql("cannot start the import"))?;
        if let Some(key) = upload.key {
            let before: Option<(i64, String, String)> = tx
                .query_row(
                    "SELECT id, content_sha256, receipt FROM batches WHERE idempotency_key = ?1",
                    params![key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(sql("cannot read the batches"))?;
            if let Some((batch, sha, receipt)) = before {
                return Ok(if sha == upload.sha256 {
                    let mut r: Receipt =
                        serde_json::from_str(&receipt).map_err(|e| StoreError::Missing {
                            file: path.clone(),
                            what: format!("batch {batch}: stored receipt unreadable: {e}"),
                        })?;
                    r.already_received = true;
                    Stored::AlreadyReceived(r)
                } else {
                    Stored::KeyReused { batch }
                });
            }
        }
        let at = now();
        tx.execute(
            "INSERT INTO batches (kind, source, idempotency_key, content_sha256, received_at, rows_read, rows_accepted, receipt, token) VALUES ('visits', ?1, ?2, ?3, ?4, 0, 0, '', ?5)",
            params![upload.source, upload.key, upload.sha256, at, upload.token],
        )
        .map_err(sql("cannot record the batch"))?;
        let batch = tx.last_insert_rowid();
        let (mut added, mut duplicates) = (0_u64, 0_u64);
        let mut rejected: BTreeMap<String, u64> = report
            .rejected
            .iter()
            .map(|(k, v)| (k.clone(), *v as u64))
            .collect();
        let mut examples = report.examples.clone();
        let mut keep = Vec::with_capacity(visits.len());
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO visits (visit_id, team, lon, lat, ts_local_ms, household, service, batch)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (visit_id) DO NOTHING",
                )
                .map_err(sql("cannot prepare the visits"))?;
            let mut stored = tx
                .prepare(
                    "SELECT team, lon, lat, ts_local_ms, household, service FROM visits WHERE visit_id = ?1",
                )
                .map_err(sql("cannot prepare the visits"))?;
            let total = visits.len() as u64;
            for i in 0..visits.len() {
                keep.push(false);
                let team = team_rows[visits.team[i] as usize].0;
                let row = (
                    team,
                    visits.lon[i],
                    visits.lat[i],
                    visits.ts_local_ms[i],
                    key_to_sql(visits.household[i]),
                    i64::from(visits.service[i]),
                );
                let id = key_to_sql(visits.visit_id[i]);
                let n = insert
                    .execute(params![id, row.0, row.1, row.2, row.3, row.4, row.5, batch])
                    .map_err(sql("cannot store a visit"))?;
                if n == 1 {
                    added += 1;
                    keep[i] = true;
                } else {
                    let before: (i64, f64, f64, i64, i64, i64) = stored
                        .query_row(params![id], |r| {
                            Ok((
                                r.get(0)?,
                                r.get(1)?,
                                r.get(2)?,
                                r.get(3)?,
                                r.get(4)?,
                                r.get(5)?,
                            ))
                        })
                        .map_err(sql("cannot read a stored visit"))?;
                    if before == row {
                        duplicates += 1;
                    } else {
                        *rejected
                            .entry("conflict with a stored visit".into())
                            .or_default() += 1;
                        if examples.len() < crate::error::MAX_LISTED_PROBLEMS {
                            examples.push(format!(
                                "visit {}: already stored with other content (team, place, time, household or service differ); the stored visit is kept",
                                visits.visit_id[i]
                            ));
                        }
                    }
                }
                if i % 50_000 == 0 {
                    progress(Stage::Writing {
                        done: i as u64,
                        total,
                    });
                }
            }
            progress(Stage::Writing { done: total, total });
        }
        let rows_read = report.rows_read as u64;
        let rejected_total: u64 = rejected.values().sum();
        let source = &upload.source;
        let receipt = Receipt {
            batch,
            kind: "visits".into(),
            source: source.clone(),
            received_at: at,
            content_sha256: upload.sha256.clone(),
            rows_read,
            rows_accepted: added,
            duplicates,
            rejected,
            examples,
            already_received: false,
            message: format!(
                "{rows_read} rows read from {source}: {added} visits added, {duplicates} already received, {rejected_total} rejected"
            ),
            message_vi: format!(
                "đọc {rows_read} dòng từ {source}: thêm {added} lượt, {duplicates} đã nhận trước đó, {rejected_total} bị từ chối"
            ),
        };
        Self::finish_batch(&tx, &receipt, "import visits", upload.token)
            .map_err(sql("cannot record the receipt"))?;
        tx.commit().map_err(sql("cannot commit the import"))?;
        Ok(Stored::New(receipt, keep))
    }

    /// Imports a whole data directory (the bundled layout): wards, census, norms, neighbourhoods
    /// (when present), teams, visits (unless neither is there), in that order.
    ///
    /// # Errors
    /// The first input that cannot be used; what was committed before stays.
    pub fn import_dir(
        &mut self,
        dir: &Path,
        progress: &dyn Fn(Stage),
    ) -> Result<Vec<Receipt>, StoreError> {
        let p = crate::engine::DataPaths::in_dir(dir);
        let mut out = Vec::new();
        for (name, file) in [
            ("wards", &p.wards),
            ("census", &p.census),
            ("norms", &p.norms),
        ] {
            progress(Stage::Reading(name));
            out.push(self.import_document(name, file)?);
        }
        if p.neighbourhoods.exists() {
            progress(Stage::Reading("neighbourhoods"));
            out.push(self.import_document("neighbourhoods", &p.neighbourhoods)?);
        }
        if p.no_campaign_yet() {
            return Ok(out);
        }
        progress(Stage::Reading("teams"));
        out.push(self.import_teams(&p.teams)?);
        if p.visits.exists() {
            out.push(self.import_visits(&p.visits, progress)?);
        }
        Ok(out)
    }
}
