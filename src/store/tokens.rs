//! Access tokens: 256 random bits shown once at creation, stored only as their SHA-256, compared
//! in constant time. A role says what a token may do; an uploader's wards say where.

use rusqlite::params;
use serde::Serialize;

use super::{Store, StoreError, now, sha256_hex, sql_error};

/// What a token may do.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read aggregates (needed only when the server is not on loopback).
    Viewer,
    /// Post visits and rosters for the teams of its wards.
    Uploader,
    /// Plans, what-if, roster edits, saved plans.
    Planner,
    /// Everything, including tokens and areas.
    Admin,
}

impl Role {
    /// The name stored and shown.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Uploader => "uploader",
            Self::Planner => "planner",
            Self::Admin => "admin",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Viewer, Self::Uploader, Self::Planner, Self::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    /// True when the role may save plans and edit rosters.
    #[must_use]
    pub const fn may_plan(self) -> bool {
        matches!(self, Self::Planner | Self::Admin)
    }

    /// True when the role may read the write log and manage tokens and areas.
    #[must_use]
    pub const fn is_admin(self) -> bool {
        matches!(self, Self::Admin)
    }

    /// True when the role may upload visits and rosters.
    #[must_use]
    pub const fn may_upload(self) -> bool {
        matches!(self, Self::Uploader | Self::Admin)
    }
}

/// A token as the store knows it (never the secret).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// Id.
    pub id: i64,
    /// Who holds it, e.g. "UBND phường An Phú".
    pub label: String,
    /// What it may do.
    pub role: Role,
    /// Ward codes it may upload for (empty: every ward).
    pub wards: Vec<String>,
    /// When it was created.
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
    #[serde(skip)]
    sha256: String,
}

/// Equality of two byte strings in time that depends only on their lengths.
#[must_use]
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Store {
    /// Creates a token; returns its info and the secret (shown once, never stored).
    ///
    /// # Errors
    /// SQLite's.
    pub fn create_token(
        &mut self,
        role: Role,
        wards: &[String],
        label: &str,
    ) -> Result<(TokenInfo, String), StoreError> {
        use rand::Rng;
        let mut bits = [0_u8; 32];
        rand::rng().fill(&mut bits);
        let secret: String = std::iter::once("phs_".to_owned())
            .chain(bits.iter().map(|b| format!("{b:02x}")))
            .collect();
        let sha = sha256_hex(secret.as_bytes());
        let at = now();
        let create = sql_error(&self.path, "cannot create a token");
        let tx = self.conn.transaction().map_err(&create)?;
        tx.execute(
            "INSERT INTO tokens (label, role, wards, sha256, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![label, role.as_str(), wards.join(","), sha, at],
        )
        .map_err(&create)?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO write_log (at, actor, action, detail) VALUES (?1, 'cli', 'create token', ?2)",
            params![at, format!("token {id} ({}, {label})", role.as_str())],
        )
        .map_err(sql_error(&self.path, "cannot log the token"))?;
        tx.commit().map_err(&create)?;
        let info = TokenInfo {
            id,
            label: label.to_owned(),
            role,
            wards: wards.to_vec(),
            created_at: at,
            revoked_at: None,
            sha256: sha,
        };
        Ok((info, secret))
    }

    /// Every token, revoked ones included.
    ///
    /// # Errors
    /// SQLite's.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, label, role, wards, created_at, revoked_at, sha256 FROM tokens ORDER BY id")
            .map_err(|e| self.err("cannot read the tokens", e))?;
        stmt.query_map([], |r| {
            let role: String = r.get(2)?;
            let wards: String = r.get(3)?;
            Ok(TokenInfo {
                id: r.get(0)?,
                label: r.get(1)?,
                role: Role::parse(&role).unwrap_or(Role::Viewer),
                wards: wards
                    .split(',')
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect(),
                created_at: r.get(4)?,
                revoked_at: r.get(5)?,
                sha256: r.get(6)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.err("cannot read the tokens", e))
    }

    /// Revokes a token; true when it existed and was active.
    ///
    /// # Errors
    /// SQLite's.
    pub fn revoke_token(&mut self, id: i64) -> Result<bool, StoreError> {
        let at = now();
        let n = self
            .conn
            .execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, at],
            )
            .map_err(|e| self.err("cannot revoke the token", e))?;
        if n == 1 {
            self.conn
                .execute(
                    "INSERT INTO write_log (at, actor, action, detail) VALUES (?1, 'cli', 'revoke token', ?2)",
                    params![at, format!("token {id}")],
                )
                .map_err(|e| self.err("cannot log the revocation", e))?;
        }
        Ok(n == 1)
    }
}

/// The active token whose SHA-256 matches `secret`'s, comparing every stored hash in constant
/// time (no early exit on a match).
#[must_use]
pub fn find_token<'a>(tokens: &'a [TokenInfo], secret: &str) -> Option<&'a TokenInfo> {
    let sha = sha256_hex(secret.trim().as_bytes());
    let mut found = None;
    for t in tokens {
        if constant_time_eq(t.sha256.as_bytes(), sha.as_bytes()) && t.revoked_at.is_none() {
            found = Some(t);
        }
    }
    found
}
