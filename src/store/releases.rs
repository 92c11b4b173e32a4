//! What the server last published under the small-count rule ([`crate::disclosure::Release`]),
//! kept so that the next snapshot is protected against it even after a restart.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::disclosure::Release;

/// The tables a release is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// The areas' figures and daily series.
    Areas,
    /// The H3 layers.
    Hexes,
}

impl Published {
    fn name(self) -> &'static str {
        match self {
            Self::Areas => "areas",
            Self::Hexes => "hexes",
        }
    }
}

impl Store {
    /// The last release of `which` (empty when none was kept, or when the kept one cannot be
    /// read: then the next snapshot is protected as a first one, and a warning says so).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn release(&self, which: Published) -> Result<Release, StoreError> {
        let body: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT body FROM releases WHERE name = ?1",
                params![which.name()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err("cannot read the last release", e))?;
        Ok(match body {
            None => Release::default(),
            Some(b) => Release::from_bytes(&b).unwrap_or_else(|| {
                tracing::warn!(
                    file = %self.path.display(),
                    table = which.name(),
                    "the last release kept in the store cannot be read; starting afresh"
                );
                Release::default()
            }),
        })
    }

    /// Keeps `release` as the last of `which`.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn save_release(&self, which: Published, release: &Release) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO releases (name, saved_at, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET saved_at = excluded.saved_at, body = excluded.body",
                params![
                    which.name(),
                    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    release.to_bytes()
                ],
            )
            .map(|_| ())
            .map_err(|e| self.err("cannot keep the release", e))
    }
}
