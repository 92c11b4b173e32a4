//! H3 aggregation (h3o): visits and distinct households per cell, population per cell estimated
//! by area weighting, and blind spots (populated cells that no visit reached).
//!
//! Coordinate order: inputs are (lon, lat) like GeoJSON and geo; [`cell_of`] is the one place that
//! turns them into h3o's `LatLng::new(lat, lng)`.

use std::collections::HashMap;

use geo::{Area, BooleanOps, MultiPolygon};
use h3o::geom::{ContainmentMode, TilerBuilder};
use h3o::{CellIndex, Resolution};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

/// Resolutions the API accepts: from ≈36 km² (6) to ≈0.015 km² (10) per cell.
pub const RESOLUTIONS: std::ops::RangeInclusive<u8> = 6..=10;

/// The default resolution (≈0.74 km² per cell).
pub const DEFAULT_RESOLUTION: Resolution = Resolution::Eight;

/// A populated cell with fewer estimated residents than this is never called a blind spot.
pub const BLIND_SPOT_MIN_POPULATION: f64 = 50.0;

pub use crate::hexfast::cell_of;

/// Figures for one H3 cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HexStats {
    /// The cell.
    #[serde(serialize_with = "ser_cell")]
    pub cell: CellIndex,
    /// Visits whose point lies in the cell.
    pub visits: u64,
    /// Distinct households among those visits.
    pub households: u64,
    /// Residents estimated by area weighting (see [`population_by_cell`]).
    pub population_est: f64,
    /// True when `population_est ≥ BLIND_SPOT_MIN_POPULATION` and no visit lies in the cell.
    pub blind_spot: bool,
}

fn ser_cell<S: serde::Serializer>(c: &CellIndex, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&c.to_string())
}

/// Visits and distinct households per cell, kept so that more visits can be added later (the
/// live server adds each accepted batch). Sharded by cell: each shard holds its cells' counts
/// and its distinct (cell, household) pairs, so memory grows with distinct pairs, not visits,
/// and the shards are filled in parallel.
#[derive(Debug, Clone)]
pub struct HexCounts {
    res: Resolution,
    shards: Vec<Shard>,
}

#[derive(Debug, Clone, Default)]
struct Shard {
    counts: FxHashMap<u64, (u64, u64)>,
    seen: FxHashSet<(u64, u64)>,
}

impl HexCounts {
    /// No visits yet, at `res`.
    #[must_use]
    pub fn new(res: Resolution) -> Self {
        let shards = rayon::current_num_threads().max(1);
        Self {
            res,
            shards: vec![Shard::default(); shards],
        }
    }

    /// Adds visits. Points with coordinates h3o rejects are skipped (ingest has already
    /// rejected them). Cells come from [`crate::hexfast::cells`].
    ///
    /// # Panics
    /// When the columns differ in length.
    pub fn add(&mut self, lon: &[f64], lat: &[f64], household: &[u64]) {
        assert_eq!(lon.len(), household.len(), "columns differ in length");
        let cells = crate::hexfast::cells(lon, lat, self.res);
        let n = self.shards.len() as u64;
        let shard_of = |c: u64| {
            usize::try_from((c.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % n).unwrap_or(0)
        };
        let add_to = |s: usize, shard: &mut Shard| {
            for (&c, &h) in cells.iter().zip(household) {
                if c == 0 || shard_of(c) != s {
                    continue;
                }
                let e = shard.counts.entry(c).or_default();
                e.0 += 1;
                if shard.seen.insert((c, h)) {
                    e.1 += 1;
                }
            }
        };
        if cells.len() < 100_000 {
            for (s, shard) in self.shards.iter_mut().enumerate() {
                add_to(s, shard);
            }
        } else {
            self.shards
                .par_iter_mut()
                .enumerate()
                .for_each(|(s, shard)| add_to(s, shard));
        }
    }

    /// Visits and distinct households per cell.
    #[must_use]
    pub fn counts(&self) -> HashMap<CellIndex, (u64, u64)> {
        self.shards
            .iter()
            .flat_map(|s| s.counts.iter())
            .map(|(&c, &v)| (CellIndex::try_from(c).expect("came from a CellIndex"), v))
            .collect()
    }
}

/// Visits and distinct households per cell of `res` (see [`HexCounts`]).
#[must_use]
pub fn visit_counts(
    lon: &[f64],
    lat: &[f64],
    household: &[u64],
    res: Resolution,
) -> HashMap<CellIndex, (u64, u64)> {
    let mut counts = HexCounts::new(res);
    counts.add(lon, lat, household);
    counts.counts()
}

/// Population per cell, spreading each area's population uniformly over its area: a cell gets
/// `population × area(cell ∩ polygon) / area(polygon)` (planar areas in degrees², which is exact
/// enough at ward scale). The per-cell figures sum to the total population of the areas.
#[must_use]
pub fn population_by_cell(
    areas: &[(&MultiPolygon<f64>, f64)],
    res: Resolution,
) -> HashMap<CellIndex, f64> {
    let parts: Vec<Vec<(CellIndex, f64)>> = areas
        .par_iter()
        .map(|(geometry, population)| {
            let total = geometry.unsigned_area();
            if total <= 0.0 || *population <= 0.0 {
                return Vec::new();
            }
            let mut tiler = TilerBuilder::new(res)
                .containment_mode(ContainmentMode::Covers)
                .build();
            for polygon in &geometry.0 {
                if tiler.add(polygon.clone()).is_err() {
                    return Vec::new();
                }
            }
            let mut out = Vec::new();
            for annotated in tiler.into_annotated_coverage() {
                let cell_shape = MultiPolygon::from(annotated.cell);
                let overlap = if annotated.is_fully_contained {
                    cell_shape.unsigned_area()
                } else {
                    geometry.intersection(&cell_shape).unsigned_area()
                };
                if overlap > 0.0 {
                    out.push((annotated.cell, population * overlap / total));
                }
            }
            // Rescale so that rounding in the clipping never creates or loses residents.
            let sum: f64 = out.iter().map(|(_, p)| p).sum();
            if sum > 0.0 {
                for (_, p) in &mut out {
                    *p *= population / sum;
                }
            }
            out
        })
        .collect();
    let mut out: HashMap<CellIndex, f64> = HashMap::new();
    for (cell, p) in parts.into_iter().flatten() {
        *out.entry(cell).or_default() += p;
    }
    out
}

/// Joins visit counts and population estimates into one list of cells, sorted by cell index.
#[must_use]
pub fn hex_layer(
    visits: &HashMap<CellIndex, (u64, u64)>,
    population: &HashMap<CellIndex, f64>,
) -> Vec<HexStats> {
    let mut cells: Vec<CellIndex> = visits.keys().chain(population.keys()).copied().collect();
    cells.sort_unstable();
    cells.dedup();
    cells
        .into_iter()
        .map(|cell| {
            let (v, h) = visits.get(&cell).copied().unwrap_or_default();
            let p = population.get(&cell).copied().unwrap_or_default();
            HexStats {
                cell,
                visits: v,
                households: h,
                population_est: p,
                blind_spot: v == 0 && p >= BLIND_SPOT_MIN_POPULATION,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use geo::polygon;

    use super::*;

    #[test]
    fn counts_sum_to_the_total_and_distinct_households_are_counted_once() {
        // Three visits at one spot (households 1, 1, 2) and one far away.
        let lon = [106.70, 106.70, 106.70, 106.80];
        let lat = [10.90, 10.90, 10.90, 10.95];
        let hh = [1, 1, 2, 3];
        let counts = visit_counts(&lon, &lat, &hh, Resolution::Eight);
        assert_eq!(counts.len(), 2);
        let here = cell_of(106.70, 10.90, Resolution::Eight).unwrap();
        assert_eq!(counts[&here], (3, 2));
        assert_eq!(counts.values().map(|c| c.0).sum::<u64>(), 4);
    }

    #[test]
    fn counts_added_in_batches_equal_counts_of_all_at_once() {
        let lon = [106.70, 106.70, 106.70, 106.80, 106.70, 106.80];
        let lat = [10.90, 10.90, 10.90, 10.95, 10.90, 10.95];
        let hh = [1, 1, 2, 3, 2, 4];
        let mut parts = HexCounts::new(Resolution::Eight);
        parts.add(&lon[..2], &lat[..2], &hh[..2]);
        parts.add(&lon[2..5], &lat[2..5], &hh[2..5]);
        parts.add(&lon[5..], &lat[5..], &hh[5..]);
        let here = cell_of(106.70, 10.90, Resolution::Eight).unwrap();
        let there = cell_of(106.80, 10.95, Resolution::Eight).unwrap();
        assert_eq!(parts.counts()[&here], (4, 2));
        assert_eq!(parts.counts()[&there], (2, 2));
        assert_eq!(
            parts.counts(),
            visit_counts(&lon, &lat, &hh, Resolution::Eight)
        );
    }

    #[test]
    fn population_is_conserved() {
        let square = MultiPolygon(vec![
            polygon![(x: 106.6, y: 10.9), (x: 106.65, y: 10.9), (x: 106.65, y: 10.95), (x: 106.6, y: 10.95), (x: 106.6, y: 10.9)],
        ]);
        let cells = population_by_cell(&[(&square, 10_000.0)], Resolution::Eight);
        let total: f64 = cells.values().sum();
        assert!((total - 10_000.0).abs() < 1e-6, "{total}");
        // A 0.05° square (≈30 km²) holds dozens of res-8 cells (≈0.74 km² each).
        assert!(cells.len() > 30, "{}", cells.len());
    }
}
