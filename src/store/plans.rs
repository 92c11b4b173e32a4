//! The committee's decisions: plans saved with a name and a date, kept as the JSON the planner
//! (or an edit of it) gave.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Store, StoreError, now, sql_error};

/// A saved plan, without its content.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize)]
pub struct SavedPlan {
    /// Id.
    pub id: i64,
    /// Name given by the committee.
    pub name: String,
    /// Date of the decision (YYYY-MM-DD).
    pub decided_on: String,
    /// When it was saved (RFC 3339 UTC).
    pub created_at: String,
    /// The token that saved it.
    pub token: Option<i64>,
}

impl Store {
    /// Saves a plan; returns its record.
    ///
    /// # Errors
    /// SQLite's.
    pub fn save_plan(
        &mut self,
        name: &str,
        decided_on: &str,
        plan: &serde_json::Value,
        token: Option<i64>,
    ) -> Result<SavedPlan, StoreError> {
        let at = now();
        let sql = sql_error(&self.path, "cannot save the plan");
        let tx = self.conn.transaction().map_err(&sql)?;
        tx.execute(
            "INSERT INTO plans (name, decided_on, created_at, token, plan) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![name, decided_on, at, token, plan.to_string()],
        )
        .map_err(&sql)?;
        let id = tx.last_insert_rowid();
        let actor = token.map_or_else(|| "cli".to_owned(), |t| format!("token {t}"));
        tx.execute(
            "INSERT INTO write_log (at, actor, action, detail, token) VALUES (?1, ?2, 'save plan', ?3, ?4)",
            params![at, actor, format!("plan {id} {name:?} ({decided_on})"), token],
        )
        .map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(SavedPlan {
            id,
            name: name.to_owned(),
            decided_on: decided_on.to_owned(),
            created_at: at,
            token,
        })
    }

    /// Every saved plan, newest first.
    ///
    /// # Errors
    /// SQLite's.
    pub fn plans(&self) -> Result<Vec<SavedPlan>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, name, decided_on, created_at, token FROM plans ORDER BY id DESC")
            .map_err(|e| self.err("cannot read the plans", e))?;
        stmt.query_map([], |r| {
            Ok(SavedPlan {
                id: r.get(0)?,
                name: r.get(1)?,
                decided_on: r.get(2)?,
                created_at: r.get(3)?,
                token: r.get(4)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.err("cannot read the plans", e))
    }

    /// One saved plan with its content.
    ///
    /// # Errors
    /// SQLite's.
    pub fn plan(&self, id: i64) -> Result<Option<(SavedPlan, serde_json::Value)>, StoreError> {
        let row: Option<(SavedPlan, String)> = self
            .conn
            .query_row(
                "SELECT id, name, decided_on, created_at, token, plan FROM plans WHERE id = ?1",
                params![id],
                |r| {
                    Ok((
                        SavedPlan {
                            id: r.get(0)?,
                            name: r.get(1)?,
                            decided_on: r.get(2)?,
                            created_at: r.get(3)?,
                            token: r.get(4)?,
                        },
                        r.get(5)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err("cannot read the plan", e))?;
        Ok(row.map(|(p, json)| {
            (
                p,
                serde_json::from_str(&json).unwrap_or(serde_json::Value::Null),
            )
        }))
    }
}
