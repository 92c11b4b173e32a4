//! Reading inputs into validated model values: boundaries (GeoJSON, and Shapefile / GeoPackage in
//! WGS84 or VN-2000 through [`layer`]), census, teams and visits (CSV, Parquet or Excel).
//! Depends on `model`, `error` and `spatial::crs` only.

/// GeoJSON boundaries: in the kernel crate, shared with the Spark extension.
pub use phuso_kernel::boundaries;
pub mod census;
pub mod crosswalk;
pub mod geopackage;
pub mod layer;
pub mod legacy_text;
pub mod national;
pub mod own_boundaries;
pub mod provinces;
pub mod roster_sheet;
pub mod shapefile;
pub mod sheet;
pub mod table;
pub mod teams;
pub mod visits;
