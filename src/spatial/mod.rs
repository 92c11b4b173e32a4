//! The spatial layer: which area holds a point, and which H3 cell. Knows geometry, not campaigns.
//!
//! - [`raster`]: lon/lat cells wholly inside one area, so most points need no polygon test.
//! - [`prepared`]: polygons with latitude-binned edges for the exact point test.
//! - [`index`]: the filter phase: the raster, and an R-tree over area envelopes.
//! - [`join`]: the refine phase (exact point-in-polygon, border rule) and the brute-force oracle.
//! - [`hexfast`]: H3 cells for many points, equal to h3o's, mostly without calling it.
//! - [`crs`]: WGS84 and VN-2000 (UTM, TM-3) coordinates to WGS84 lon/lat (proj4rs).
//! - [`hex`]: H3 aggregation with h3o: visits, households, population and blind spots per cell.

//!
//! The join and `hexfast` live in the kernel crate (`kernel/`, no polars), which the Spark
//! extension links too; they are re-exported here under their usual paths.

pub mod crs;
pub mod hex;
pub mod tiles;

pub use phuso_kernel::{hexfast, index, join, prepared, raster};
