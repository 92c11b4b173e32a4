//! The store: the campaign's record of truth in one SQLite file (rusqlite, SQLite compiled in).
//!
//! What it holds (schema in [`schema`]): the documents a data directory has (2025 wards, 2019
//! census, norms, neighbourhood polygons: validated, versioned, kept whole), the roster, every
//! accepted visit, the upload batches with their receipts, and a log of every write.
//!
//! One writer; `journal_mode=WAL` (readers never block the writer), `synchronous=FULL` (a commit
//! is on disk before it is acknowledged), foreign keys on. The file carries an application id and
//! a schema version (`user_version`); forward migrations run when the store is opened, and a file
//! that is not a Phủ Số store, or from a newer version, is refused with a clear error.
//!
//! - [`import`]: files (a data directory, or one file of visits or teams) into the store, each a
//!   batch with a receipt; re-sent visits count once.
//! - [`read`]: the store as the engine's [`crate::engine::Inputs`].
//! - [`export`]: the store back out as a data directory, and the online backup.

pub mod export;
pub mod import;
pub mod plans;
pub mod read;
pub mod releases;
pub mod roster;
pub mod schema;
pub mod tokens;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

/// `PRAGMA application_id` of a Phủ Số store ("PHSO").
pub const APPLICATION_ID: i32 = 0x5048_534F;

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed (disk full, I/O error, locked, …).
    #[error("{}: {what}: {source}{}", file.display(), sqlite_hint(source))]
    Sqlite {
        /// The store file.
        file: PathBuf,
        /// What was being done.
        what: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file is not a Phủ Số store (another database, or not a database at all).
    #[error("{}: not a Phủ Số store ({reason}); give another --db, or move this file away", file.display())]
    Foreign {
        /// The file.
        file: PathBuf,
        /// What was found.
        reason: String,
    },
    /// The store was written by a newer Phủ Số.
    #[error("{}: schema version {found} is newer than this program's {supported}; use a newer phuso (nothing was changed)", file.display())]
    Newer {
        /// The file.
        file: PathBuf,
        /// The file's version.
        found: i64,
        /// The newest this program knows.
        supported: i64,
    },
    /// The store has no data of a kind the engine needs.
    #[error("{}: {what}", file.display())]
    Missing {
        /// The file.
        file: PathBuf,
        /// What is missing.
        what: String,
    },
    /// An input file could not be used.
    #[error(transparent)]
    Ingest(#[from] crate::IngestError),
    /// The norms are invalid.
    #[error(transparent)]
    Engine(#[from] crate::EngineError),
    /// A file was valid on its own but refused because of what the store already holds.
    #[error("{}: {message}", file.display())]
    Refused {
        /// The file.
        file: PathBuf,
        /// Why, naming what it contradicts.
        message: String,
    },
    /// Writing an export failed.
    #[error("{}: cannot write: {message}", file.display())]
    Write {
        /// The file.
        file: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// The (wards, norms) document versions, and the wards' box and campaign read from them.
type WindowChecks = (
    (i64, i64),
    crate::ingest::visits::Extent,
    crate::metrics::Campaign,
);

/// An open store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The wards' box and the campaign, with the (wards, norms) document versions they were
    /// read from: every upload checks against them, and parsing the wards GeoJSON again each
    /// time cost 30–50 ms under the writer's lock.
    checks: std::sync::Mutex<Option<WindowChecks>>,
}

/// What to do about an SQLite error, when there is something to say.
pub(crate) fn sqlite_hint(e: &rusqlite::Error) -> &'static str {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => {
            " (the disk is full: nothing of this write was stored; free space, then send it again)"
        }
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            " (the store file is damaged: restore the last backup (`phuso backup` writes one) or re-create it with `phuso import`)"
        }
        Some(rusqlite::ErrorCode::SystemIoFailure) => {
            " (the disk failed to read or write: nothing of this write was stored; check the disk, then send it again)"
        }
        Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen) => {
            " (the file or its folder cannot be written: check permissions)"
        }
        _ => "",
    }
}

impl StoreError {
    /// True when the machine failed (disk full, I/O error), not the input or the store's
    /// content: the command line exits with 1 for these, 2 for the others.
    #[must_use]
    pub fn is_system(&self) -> bool {
        match self {
            Self::Sqlite { source, .. } => matches!(
                source.sqlite_error_code(),
                Some(
                    rusqlite::ErrorCode::DiskFull
                        | rusqlite::ErrorCode::SystemIoFailure
                        | rusqlite::ErrorCode::ReadOnly
                        | rusqlite::ErrorCode::CannotOpen
                        | rusqlite::ErrorCode::DatabaseBusy
                        | rusqlite::ErrorCode::DatabaseLocked
                )
            ),
            Self::Write { .. } => true,
            _ => false,
        }
    }
}

/// Maps SQLite errors to [`StoreError::Sqlite`] naming `file` and what was being done; owns its
/// parts, so it can be used while a transaction borrows the connection.
pub(crate) fn sql_error(file: &Path, what: &str) -> impl Fn(rusqlite::Error) -> StoreError + use<> {
    let (file, what) = (file.to_owned(), what.to_owned());
    move |source| StoreError::Sqlite {
        file: file.clone(),
        what: what.clone(),
        source,
    }
}

/// SHA-256 of `bytes` as lowercase hex.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Now, as RFC 3339 UTC text.
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Store {
    /// Opens the store at `path`, creating it when `create` and the file does not exist; runs the
    /// forward migrations.
    ///
    /// # Errors
    /// [`StoreError::Foreign`] for a file that is not a Phủ Số store, [`StoreError::Newer`] for
    /// a newer schema, [`StoreError::Missing`] when the file is absent and `create` is false,
    /// [`StoreError::Sqlite`] for anything SQLite refuses.
    pub fn open(path: &Path, create: bool) -> Result<Self, StoreError> {
        let exists = path.exists();
        if !exists && !create {
            return Err(StoreError::Missing {
                file: path.to_owned(),
                what: "no such store (create it with `phuso serve` or `phuso import`)".into(),
            });
        }
        if !exists && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Write {
                file: dir.to_owned(),
                message: e.to_string(),
            })?;
        }
        let sql = |what: &str| sql_error(path, what);
        let conn = Connection::open(path).map_err(sql("cannot open"))?;
        // A file that is not a database fails on its first read.
        let app: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| StoreError::Foreign {
                file: path.to_owned(),
                reason: e.to_string(),
            })?;
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(sql("cannot read the schema"))?;
        if app != APPLICATION_ID && (app != 0 || tables > 0) {
            return Err(StoreError::Foreign {
                file: path.to_owned(),
                reason: format!(
                    "application id {app:#x}, {tables} schema objects; a Phủ Số store has {APPLICATION_ID:#x}"
                ),
            });
        }
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(sql("cannot switch to WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Foreign {
                file: path.to_owned(),
                reason: format!("journal mode {mode}; expected wal"),
            });
        }
        conn.execute_batch(
            "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
        )
        .map_err(sql("cannot set the pragmas"))?;
        let mut store = Self {
            conn,
            path: path.to_owned(),
            checks: std::sync::Mutex::new(None),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The store's file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Schema version of the open store.
    ///
    /// # Errors
    /// When SQLite cannot say.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err("cannot read the schema version", e))
    }

    fn err(&self, what: &str, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            file: self.path.clone(),
            what: what.to_owned(),
            source,
        }
    }

    /// Runs every migration newer than the file's version, each in its own transaction.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let found = self.schema_version()?;
        let supported = schema::MIGRATIONS.len() as i64;
        if found > supported {
            return Err(StoreError::Newer {
                file: self.path.clone(),
                found,
                supported,
            });
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(found as usize) {
            let version = i as i64 + 1;
            let tx = self
                .conn
                .transaction()
                .map_err(sql_error(&self.path, "cannot start a migration"))?;
            tx.execute_batch(sql)
                .and_then(|()| tx.pragma_update(None, "application_id", APPLICATION_ID))
                .and_then(|()| tx.pragma_update(None, "user_version", version))
                .map_err(|e| StoreError::Sqlite {
                    file: self.path.clone(),
                    what: format!("migration to schema version {version} failed"),
                    source: e,
                })?;
            tx.commit().map_err(|e| StoreError::Sqlite {
                file: self.path.clone(),
                what: "cannot commit a migration".into(),
                source: e,
            })?;
        }
        Ok(())
    }

    /// True when the store holds no wards yet (a new store).
    ///
    /// # Errors
    /// When SQLite cannot say.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM documents WHERE name = 'wards'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err("cannot read the documents", e))?;
        Ok(n == 0)
    }

    /// The current version of a document (`wards`, `census`, `norms`, `neighbourhoods`).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn document(&self, name: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        self.conn
            .query_row(
                "SELECT version, content FROM documents WHERE name = ?1",
                params![name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(&format!("cannot read document {name}"), e))
    }

    /// Counts of what the store holds: (teams, visits, batches).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn counts(&self) -> Result<(u64, u64, u64), StoreError> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM teams), (SELECT count(*) FROM visits), (SELECT count(*) FROM batches)",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64)),
            )
            .map_err(|e| self.err("cannot count", e))
    }

    /// The write log, oldest first: (time, actor, action, detail, batch).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn log(&self) -> Result<Vec<LogEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, actor, action, detail, batch FROM write_log ORDER BY id")
            .map_err(|e| self.err("cannot read the log", e))?;
        stmt.query_map([], |r| {
            Ok(LogEntry {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                detail: r.get(3)?,
                batch: r.get(4)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.err("cannot read the log", e))
    }
}

/// One line of the write log.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, serde::Serialize)]
pub struct LogEntry {
    /// When (RFC 3339 UTC).
    pub at: String,
    /// Who (for now the command line: `cli`).
    pub actor: String,
    /// What kind of write.
    pub action: String,
    /// What exactly.
    pub detail: String,
    /// The batch it belongs to.
    pub batch: Option<i64>,
}

/// Keys are stored as SQLite integers (i64) by their bits.
#[must_use]
pub(crate) const fn key_to_sql(k: u64) -> i64 {
    i64::from_ne_bytes(k.to_ne_bytes())
}

/// The inverse of [`key_to_sql`].
#[must_use]
pub(crate) const fn key_from_sql(k: i64) -> u64 {
    u64::from_ne_bytes(k.to_ne_bytes())
}
