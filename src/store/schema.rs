//! The store's schema, as forward migrations: `MIGRATIONS[i]` takes version `i` to `i + 1`.
//! Never edit a migration that has shipped; add the next one.

/// Every migration, oldest first.
pub const MIGRATIONS: &[&str] = &[
    // 1: documents, roster, visits, batches and the write log.
    "
    CREATE TABLE batches (
        id              INTEGER PRIMARY KEY,
        kind            TEXT NOT NULL CHECK (kind IN ('document', 'teams', 'visits')),
        source          TEXT NOT NULL,
        idempotency_key TEXT UNIQUE,
        content_sha256  TEXT NOT NULL,
        received_at     TEXT NOT NULL,
        rows_read       INTEGER NOT NULL,
        rows_accepted   INTEGER NOT NULL,
        receipt         TEXT NOT NULL
    );
    CREATE TABLE documents (
        name    TEXT PRIMARY KEY CHECK (name IN ('wards', 'census', 'norms', 'neighbourhoods')),
        version INTEGER NOT NULL CHECK (version >= 1),
        content BLOB NOT NULL,
        sha256  TEXT NOT NULL,
        batch   INTEGER NOT NULL REFERENCES batches (id)
    );
    CREATE TABLE document_history (
        name     TEXT NOT NULL,
        version  INTEGER NOT NULL,
        content  BLOB NOT NULL,
        sha256   TEXT NOT NULL,
        batch    INTEGER NOT NULL REFERENCES batches (id),
        PRIMARY KEY (name, version)
    );
    CREATE TABLE teams (
        id        INTEGER PRIMARY KEY,
        team_id   TEXT NOT NULL UNIQUE,
        area_code TEXT NOT NULL,
        kind      TEXT NOT NULL CHECK (kind IN ('CNSCD', 'TNTN')),
        members   INTEGER NOT NULL CHECK (members >= 1),
        batch     INTEGER NOT NULL REFERENCES batches (id)
    );
    CREATE TABLE visits (
        visit_id    INTEGER PRIMARY KEY,
        team        INTEGER NOT NULL REFERENCES teams (id),
        lon         REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
        lat         REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
        ts_local_ms INTEGER NOT NULL,
        household   INTEGER NOT NULL,
        service     INTEGER NOT NULL CHECK (service BETWEEN 0 AND 4),
        batch       INTEGER NOT NULL REFERENCES batches (id)
    );
    CREATE INDEX visits_batch ON visits (batch);
    CREATE TABLE write_log (
        id     INTEGER PRIMARY KEY,
        at     TEXT NOT NULL,
        actor  TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL,
        batch  INTEGER REFERENCES batches (id)
    );
    ",
    // 2: access tokens (only their SHA-256 is kept) and upload idempotency per token.
    "
    CREATE TABLE tokens (
        id         INTEGER PRIMARY KEY,
        label      TEXT NOT NULL,
        role       TEXT NOT NULL CHECK (role IN ('viewer', 'uploader', 'planner', 'admin')),
        wards      TEXT NOT NULL DEFAULT '',
        sha256     TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    ALTER TABLE batches ADD COLUMN token INTEGER REFERENCES tokens (id);
    ALTER TABLE write_log ADD COLUMN token INTEGER REFERENCES tokens (id);
    ",
    // 3: the committee's saved plans.
    "
    CREATE TABLE plans (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        decided_on TEXT NOT NULL,
        created_at TEXT NOT NULL,
        token      INTEGER REFERENCES tokens (id),
        plan       TEXT NOT NULL
    );
    ",
    // 4: the roster's history: changes of a team's members from a day on. All are kept; for
    // one team and day, the latest row counts.
    "
    CREATE TABLE roster_changes (
        id             INTEGER PRIMARY KEY,
        team           INTEGER NOT NULL REFERENCES teams (id),
        effective_from TEXT NOT NULL,
        members        INTEGER NOT NULL CHECK (members >= 0),
        batch          INTEGER NOT NULL REFERENCES batches (id)
    );
    CREATE INDEX roster_changes_team ON roster_changes (team, effective_from);
    ",
    // 5: what the server last published under the small-count rule (one release per kind of
    // table: 'areas', 'hexes'), so that a restart does not forget it.
    "
    CREATE TABLE releases (
        name     TEXT PRIMARY KEY CHECK (name IN ('areas', 'hexes')),
        saved_at TEXT NOT NULL,
        body     BLOB NOT NULL
    );
    ",
];
