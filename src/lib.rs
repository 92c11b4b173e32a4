//! # Phủ Số — digital coverage analytics
//!
//! Phủ Số measures how far community digital-technology teams (tổ CNSCĐ) and youth-volunteer
//! teams (TNTN) have got in helping households with VNeID, public-service accounts and online
//! payments, and where more helpers are needed.
//!
//! The layers, in dependency order (the folders of `src/`):
//! - [`model`]: domain types (area codes, levels, services, teams); [`error`]: ingest errors.
//! - [`ingest`]: boundaries (GeoJSON), census, teams and visits (CSV / Parquet), validated.
//! - [`spatial`]: the point-in-area join ([`raster`], [`prepared`], [`index`], [`join`]) and H3
//!   ([`hexfast`], [`hex`]).
//! - [`campaign`]: [`projection`] (the one model), [`metrics`], [`priority`], [`audit`], [`plan`].
//! - [`engine`]: load a data directory once, join, roll up, answer queries and what-ifs.
//! - [`generate`]: the seeded synthetic neighbourhoods, teams and visits.
//! - [`output`]: tables, JSON, CSV and Parquet rendering.
//! - [`bench`]: `phuso bench`: kernel throughput on generated points, checked against the exact paths.
//! - [`store`]: the campaign's record of truth in SQLite: imports with receipts, export, backup.
//! - [`api`]: the axum map API over a loaded engine (the only module that knows HTTP).
//!
//! The command line is the binary's `src/cli/`. The modules of `spatial` and `campaign` are also
//! at the crate root (`phuso::plan`, `crate::join`).
//!
//! Coordinates are WGS84 (lon, lat) everywhere, as in GeoJSON and geo; only [`hex::cell_of`]
//! turns them into h3o's (lat, lng).

pub mod api;
/// Ingest errors: in the kernel crate, shared with the Spark extension.
pub use phuso_kernel::error;
pub mod bench;
pub mod campaign;
pub mod disclosure;
pub mod engine;
pub mod fuzzing;
pub mod generate;
pub mod ingest;
pub mod model;
pub mod output;
pub mod spatial;
pub mod store;

// The layers' modules at the crate root too, so paths stay short (`phuso::plan`, `crate::join`).
pub use campaign::{audit, metrics, plan, priority, projection};
pub use spatial::{hex, hexfast, index, join, prepared, raster};

pub use engine::{DataPaths, Engine, EngineConfig, EngineError, PopulationSource};
pub use error::IngestError;
pub use index::AreaIndex;
pub use metrics::{Campaign, Figures};
pub use model::{AreaCode, Level, Service, Team, TeamKind};
