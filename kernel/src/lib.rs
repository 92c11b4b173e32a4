//! # Phủ Số's kernel
//!
//! The parts of Phủ Số that every runtime shares, without polars or I/O beyond reading one
//! boundary file: the single-node engine (crate `phuso`) and the Spark extension (`python/`) link
//! this same code, so a point lands in the same area and the same H3 cell on both.
//!
//! - [`boundaries`]: a GeoJSON FeatureCollection → validated areas (codes, names, rings).
//! - [`raster`], [`prepared`], [`index`], [`join`]: the exact point-in-area join with the border
//!   rule (a point on a shared edge goes to the area listed first), and its brute-force oracle.
//! - [`hexfast`]: H3 cells for many points, equal to h3o's.
//! - [`index_file`]: validated areas and their index as bytes (the join cache, Spark's
//!   broadcast).
//! - [`counts`]: the counts file of `phuso join` (points per area, outside, swapped, invalid).
//! - [`visit_row`]: the checks that keep or leave out a visit row, and its keys (day, service,
//!   ids).
//! - [`error`]: ingest errors naming the file, feature, field and value.
//!
//! Coordinates are WGS84 (lon, lat) everywhere, as in GeoJSON and geo.

#![forbid(unsafe_code)]

pub mod boundaries;
pub mod counts;
pub mod error;
pub mod hexfast;
pub mod index;
pub mod index_file;
pub mod join;
pub mod prepared;
pub mod raster;
pub mod visit_row;

mod area_code;

pub use area_code::AreaCode;
pub use error::IngestError;
pub use index::AreaIndex;
