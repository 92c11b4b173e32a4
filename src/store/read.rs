//! The store as the engine's inputs: documents are parsed and checked as files are; the roster
//! and the visits come from their tables. Messages name the store and the document, e.g.
//! `data/phuso.db#wards v1`.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use rusqlite::params;

use super::{Store, StoreError, key_from_sql};
use crate::IngestError;
use crate::engine::{Engine, EngineError, Inputs, PopulationSource, parse_norms};
use crate::ingest::boundaries::{AreaFeature, BoundaryFields, parse_boundaries};
use crate::ingest::census::{Census, parse_census};
use crate::ingest::visits::{Extent, VisitReport, Visits};
use crate::metrics::Campaign;
use crate::model::{AreaCode, Team, TeamKind};

impl Store {
    /// A document's name in messages: `STORE#name vN`.
    fn label(&self, name: &str, version: i64) -> PathBuf {
        PathBuf::from(format!("{}#{name} v{version}", self.path.display()))
    }

    fn required(&self, name: &str) -> Result<(PathBuf, Vec<u8>), IngestError> {
        match self.document(name) {
            Ok(Some((v, bytes))) => Ok((self.label(name, v), bytes)),
            Ok(None) => Err(IngestError::Empty {
                file: self.label(name, 0),
                expected: format!(
                    "the {name} document (import it with `phuso import {name} FILE`)"
                ),
            }),
            Err(e) => Err(IngestError::format(&self.path, e.to_string())),
        }
    }

    /// The roster as stored, in id order: (team id, area code, kind, members).
    pub(crate) fn roster_rows(&self) -> Result<Vec<(String, String, String, i64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT team_id, area_code, kind, members FROM teams ORDER BY id")
            .map_err(|e| self.err("cannot read the roster", e))?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .and_then(Iterator::collect)
            .map_err(|e| self.err("cannot read the roster", e))
    }

    /// The roster's store ids and team ids, in id order.
    pub(crate) fn team_rows(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, team_id FROM teams ORDER BY id")
            .map_err(|e| self.err("cannot read the roster", e))?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(Iterator::collect)
            .map_err(|e| self.err("cannot read the roster", e))
    }
}

fn sql_err(store: &Store, what: &str) -> impl Fn(rusqlite::Error) -> IngestError {
    let file = store.path.clone();
    let what = what.to_owned();
    move |e| IngestError::format(&file, format!("{what}: {e}{}", super::sqlite_hint(&e)))
}

impl Store {
    /// The engine over the store as it is now, and the tally to apply later batches with. Read
    /// in one read transaction, so it is one consistent state: every batch up to
    /// [`crate::engine::Tally::last_batch`] and none after, even while a writer commits.
    ///
    /// # Errors
    /// What [`Engine::load_live`] reports, or SQLite's.
    pub fn load_engine(
        &self,
        population: PopulationSource,
        res: h3o::Resolution,
    ) -> Result<(Engine, crate::engine::Tally), StoreError> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(super::sql_error(&self.path, "cannot start reading"))?;
        let loaded = Engine::load_live(self, population, res)?;
        tx.finish()
            .map_err(super::sql_error(&self.path, "cannot finish reading"))?;
        Ok(loaded)
    }
}

impl Inputs for Store {
    fn last_batch(&self) -> Result<i64, IngestError> {
        self.conn
            .query_row("SELECT coalesce(max(id), 0) FROM batches", [], |r| r.get(0))
            .map_err(sql_err(self, "cannot read the batches"))
    }

    fn norms(&self) -> Result<Campaign, EngineError> {
        let (label, bytes) = self.required("norms")?;
        parse_norms(&label, &String::from_utf8_lossy(&bytes))
    }

    fn wards(&self) -> Result<(PathBuf, Vec<AreaFeature>), IngestError> {
        let (label, bytes) = self.required("wards")?;
        let wards = parse_boundaries(&label, &bytes, &BoundaryFields::default())?;
        Ok((label, wards))
    }

    fn census(&self, wards: &HashSet<AreaCode>) -> Result<Census, IngestError> {
        let (label, bytes) = self.required("census")?;
        parse_census(&label, &bytes, wards)
    }

    fn neighbourhoods(
        &self,
        fields: &BoundaryFields,
    ) -> Result<Option<(PathBuf, Vec<AreaFeature>)>, IngestError> {
        match self.document("neighbourhoods") {
            Ok(None) => Ok(None),
            Ok(Some((v, bytes))) => {
                let label = self.label("neighbourhoods", v);
                let features = parse_boundaries(&label, &bytes, fields)?;
                Ok(Some((label, features)))
            }
            Err(e) => Err(IngestError::format(&self.path, e.to_string())),
        }
    }

    fn teams(
        &self,
        leaves: &HashSet<AreaCode>,
        parents: &HashSet<AreaCode>,
    ) -> Result<Vec<Team>, IngestError> {
        let label = PathBuf::from(format!("{}#teams", self.path.display()));
        let rows = self
            .roster_rows()
            .map_err(|e| IngestError::format(&self.path, e.to_string()))?;
        let mut problems = crate::error::Problems::default();
        let mut out = Vec::with_capacity(rows.len());
        for (team_id, area, kind, members) in rows {
            let code = AreaCode(area);
            if !leaves.contains(&code) {
                let why = if parents.contains(&code) {
                    "is an area with neighbourhoods; a team's home is one neighbourhood"
                } else {
                    "is not an area of the current boundaries"
                };
                problems.push(format!(
                    "team {team_id:?}: field `area_code`: {:?} {why}",
                    code.0
                ));
                continue;
            }
            let (Some(kind), Ok(members)) = (TeamKind::parse(&kind), u32::try_from(members)) else {
                problems.push(format!(
                    "team {team_id:?}: kind {kind:?} or members {members} out of range"
                ));
                continue;
            };
            out.push(Team {
                team_id,
                area_code: code,
                kind,
                members,
                changes: Vec::new(),
            });
        }
        let changes = self
            .roster_changes()
            .map_err(|e| IngestError::format(&self.path, e.to_string()))?;
        crate::ingest::teams::attach_changes(&mut out, changes);
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(IngestError::Rows {
                file: label,
                problems: problems.into_lines(),
            })
        }
    }

    fn visits(
        &self,
        teams: &HashMap<String, u32>,
        _extent: Extent,
    ) -> Result<(Visits, VisitReport), IngestError> {
        // Store team id → roster index.
        let rows = self
            .team_rows()
            .map_err(|e| IngestError::format(&self.path, e.to_string()))?;
        let index: HashMap<i64, u32> = rows
            .iter()
            .filter_map(|(id, team)| teams.get(team).map(|&i| (*id, i)))
            .collect();
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM visits", [], |r| r.get(0))
            .map_err(sql_err(self, "cannot count the visits"))?;
        let n = usize::try_from(n).unwrap_or(0);
        let mut v = Visits {
            lon: Vec::with_capacity(n),
            lat: Vec::with_capacity(n),
            team: Vec::with_capacity(n),
            household: Vec::with_capacity(n),
            ts_local_ms: Vec::with_capacity(n),
            service: Vec::with_capacity(n),
            visit_id: Vec::with_capacity(n),
        };
        let mut report = VisitReport::default();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT visit_id, team, lon, lat, ts_local_ms, household, service FROM visits ORDER BY visit_id",
            )
            .map_err(sql_err(self, "cannot read the visits"))?;
        let mut q = stmt
            .query(params![])
            .map_err(sql_err(self, "cannot read the visits"))?;
        while let Some(r) = q.next().map_err(sql_err(self, "cannot read the visits"))? {
            report.rows_read += 1;
            let get = |e: rusqlite::Error| {
                IngestError::format(&self.path, format!("cannot read a visit: {e}"))
            };
            let team: i64 = r.get(1).map_err(get)?;
            let Some(&t) = index.get(&team) else {
                report.reject("unknown team", || {
                    format!("stored visit of team row {team}: not in the roster")
                });
                continue;
            };
            let service: i64 = r.get(6).map_err(get)?;
            v.visit_id.push(key_from_sql(r.get(0).map_err(get)?));
            v.team.push(t);
            v.lon.push(r.get(2).map_err(get)?);
            v.lat.push(r.get(3).map_err(get)?);
            v.ts_local_ms.push(r.get(4).map_err(get)?);
            v.household.push(key_from_sql(r.get(5).map_err(get)?));
            v.service.push(u8::try_from(service).unwrap_or(0));
        }
        report.rows_accepted = v.len();
        Ok((v, report))
    }
}
