//! # Phủ Số — digital coverage analytics
//!
//! Phủ Số measures how far community digital-technology teams (tổ CNSCĐ) and youth-volunteer
//! teams (TNTN) have got in helping households with VNeID, public-service accounts and online
//! payments, and where more helpers are needed.
//!
//! The catalogue, in dependency order:
//! - [`model`]: domain types (area codes, levels, services, teams).
//! - [`ingest`]: boundaries (GeoJSON), census, teams and visits (CSV / Parquet via polars), validated.
//! - [`raster`]: lon/lat cells wholly inside one area, so most points need no polygon test.
//! - [`index`]: the filter phase: the raster, and an R-tree over area envelopes.
//! - [`prepared`]: polygons with latitude-binned edges for the exact point test.
//! - [`join`]: the refine phase (exact point-in-polygon, border rule) and the brute-force oracle.
//! - [`hexfast`]: H3 cells for many points, equal to h3o's, mostly without calling it.
//! - [`hex`]: H3 aggregation with h3o: visits, households, population and blind spots per cell.
//! - [`projection`]: the one projection model: days to target, completion, members needed.
//! - [`metrics`]: per-area figures and their formulas.
//! - [`priority`]: the ranking with reason sentences in English and Vietnamese.
//! - [`engine`]: load a data directory once, join, roll up, answer queries and what-ifs.
//! - [`audit`]: the staffing-norm audit (TNTN teams, residential-group pairs) with reasons.
//! - [`plan`]: min–max allocation of new volunteers in pairs, and moves of existing pairs.
//! - [`generate`]: the seeded synthetic neighbourhoods, teams and visits.
//! - [`output`]: tables, JSON, CSV and Parquet rendering.
//! - [`bench`]: `phuso bench`: kernel throughput on generated points, checked against the exact paths.
//! - [`api`]: the axum map API over a loaded engine (the only module that knows HTTP).
//!
//! Coordinates are WGS84 (lon, lat) everywhere, as in GeoJSON and geo; only [`hex::cell_of`]
//! turns them into h3o's (lat, lng).

pub mod api;
pub mod audit;
pub mod bench;
pub mod engine;
pub mod error;
pub mod generate;
pub mod hex;
pub mod hexfast;
pub mod index;
pub mod ingest;
pub mod join;
pub mod metrics;
pub mod model;
pub mod output;
pub mod plan;
pub mod prepared;
pub mod priority;
pub mod projection;
pub mod raster;

pub use engine::{DataPaths, Engine, EngineConfig, EngineError, PopulationSource};
pub use error::IngestError;
pub use index::AreaIndex;
pub use metrics::{Campaign, Figures};
pub use model::{AreaCode, Level, Service, Team, TeamKind};
