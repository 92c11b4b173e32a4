//! The roster's history in the store: changes of a team's members from a day on, from a file
//! (`phuso import roster-changes`), an upload (`POST /api/roster`) or one edit
//! (`PUT /api/teams/{team_id}`). Each is one batch with a receipt and a log line; nothing is
//! overwritten (for one team and day, the latest change counts).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use rusqlite::{OptionalExtension, params};

use super::import::Receipt;
use super::{Store, StoreError, sha256_hex, sql_error};
use crate::engine::Inputs;
use crate::ingest::teams::read_roster_changes;
use crate::model::RosterChange;

impl Store {
    /// The ids of the stored teams and the campaign's last day: what checking changes needs.
    ///
    /// # Errors
    /// SQLite's, or norms that cannot be read.
    pub fn roster_context(&self) -> Result<(HashSet<String>, chrono::NaiveDate), StoreError> {
        let ids = self.team_rows()?.into_iter().map(|(_, id)| id).collect();
        let campaign = self.norms()?;
        Ok((ids, campaign.deadline() - chrono::Days::new(1)))
    }

    /// Stores the changes of a file (CSV, XLSX or Parquet: `team_id`, `effective_from`,
    /// `members`), checked against the stored teams and the campaign window.
    ///
    /// # Errors
    /// The file's problems (nothing is stored), or SQLite's.
    pub fn import_roster_changes(&mut self, file: &Path) -> Result<Receipt, StoreError> {
        let (ids, last_day) = self.roster_context()?;
        let changes = read_roster_changes(file, &ids, last_day)?;
        let bytes = std::fs::read(file).map_err(|e| crate::IngestError::io(file, e))?;
        self.store_roster_changes(
            &changes,
            &file.display().to_string(),
            &sha256_hex(&bytes),
            None,
        )
    }

    /// Stores checked changes as one batch. A change equal to the one already in force for that
    /// team and day is counted as unchanged and not added again.
    ///
    /// # Errors
    /// SQLite's (nothing of the batch is stored).
    pub fn store_roster_changes(
        &mut self,
        changes: &[(String, RosterChange)],
        source: &str,
        sha: &str,
        token: Option<i64>,
    ) -> Result<Receipt, StoreError> {
        let path = self.path.clone();
        let sql = |what: &str| sql_error(&path, what);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql("cannot start the roster change"))?;
        let (batch, at) =
            Self::begin_batch(&tx, "teams", source, sha).map_err(sql("cannot record the batch"))?;
        tx.execute(
            "UPDATE batches SET token = ?2 WHERE id = ?1",
            params![batch, token],
        )
        .map_err(sql("cannot record the batch"))?;
        let mut added = 0_u64;
        {
            let mut current = tx
                .prepare(
                    "SELECT c.members FROM roster_changes c JOIN teams t ON t.id = c.team
                     WHERE t.team_id = ?1 AND c.effective_from = ?2 ORDER BY c.id DESC LIMIT 1",
                )
                .map_err(sql("cannot read the roster changes"))?;
            let mut insert = tx
                .prepare(
                    "INSERT INTO roster_changes (team, effective_from, members, batch)
                     SELECT id, ?2, ?3, ?4 FROM teams WHERE team_id = ?1",
                )
                .map_err(sql("cannot prepare the roster changes"))?;
            for (team, c) in changes {
                let day = c.from.to_string();
                let before: Option<i64> = current
                    .query_row(params![team, day], |r| r.get(0))
                    .optional()
                    .map_err(sql("cannot read the roster changes"))?;
                if before == Some(i64::from(c.members)) {
                    continue;
                }
                added += insert
                    .execute(params![team, day, i64::from(c.members), batch])
                    .map_err(sql("cannot store a roster change"))? as u64;
            }
        }
        let n = changes.len() as u64;
        let unchanged = n - added;
        let receipt = Receipt {
            batch,
            kind: "teams".into(),
            source: source.to_owned(),
            received_at: at,
            content_sha256: sha.to_owned(),
            rows_read: n,
            rows_accepted: added,
            duplicates: unchanged,
            rejected: BTreeMap::new(),
            examples: Vec::new(),
            already_received: false,
            message: format!(
                "{n} roster changes read from {source}: {added} stored, {unchanged} already in force"
            ),
            message_vi: format!(
                "đọc {n} thay đổi quân số từ {source}: lưu {added}, {unchanged} đã có hiệu lực"
            ),
        };
        Self::finish_batch(&tx, &receipt, "roster changes", token)
            .map_err(sql("cannot record the receipt"))?;
        tx.commit()
            .map_err(sql("cannot commit the roster change"))?;
        Ok(receipt)
    }

    /// Every stored change as (team id, change), oldest first.
    ///
    /// # Errors
    /// SQLite's, or a stored date that cannot be read.
    pub fn roster_changes(&self) -> Result<Vec<(String, RosterChange)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT t.team_id, c.effective_from, c.members FROM roster_changes c
                 JOIN teams t ON t.id = c.team ORDER BY c.id",
            )
            .map_err(sql_error(&self.path, "cannot read the roster changes"))?;
        let rows: Vec<(String, String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(Iterator::collect)
            .map_err(sql_error(&self.path, "cannot read the roster changes"))?;
        rows.into_iter()
            .map(|(team, day, members)| {
                let from = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d");
                match (from, u32::try_from(members)) {
                    (Ok(from), Ok(members)) => Ok((team, RosterChange { from, members })),
                    _ => Err(StoreError::Missing {
                        file: self.path.clone(),
                        what: format!(
                            "roster change of team {team:?}: date {day:?} or members {members} unreadable"
                        ),
                    }),
                }
            })
            .collect()
    }
}
