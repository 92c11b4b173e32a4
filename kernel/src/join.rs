//! Refine phase of the point-in-area join (binned edges, see [`crate::prepared`]), and the
//! brute-force oracle it is tested against (geo's `CoordinatePosition` over every area).
//!
//! **Border rule.** Areas are closed sets: a point on an area's boundary is in that area. A point
//! that lies in several areas (on a border shared by neighbours, or where input polygons overlap)
//! belongs to the one that comes **first in input order**. So every point lands in exactly one
//! area or in none, and the answer does not depend on the index. Points in no area are
//! [`OUTSIDE`], and are counted, never dropped.
//!
//! Coordinates are two columns, `lon` (x) and `lat` (y), in WGS84 degrees. The join returns area
//! positions (`u32`), not copies of rows.

use geo::Coord;
use geo::coordinate_position::{CoordPos, CoordinatePosition};
use rayon::prelude::*;

use crate::index::AreaIndex;
use crate::raster::{BATCH, HOLDS, Hit};

/// The assignment of a point that is in no area.
pub const OUTSIDE: u32 = u32::MAX;

/// Points per rayon task: large enough to amortise scheduling, small enough to balance 2+ cores.
const CHUNK: usize = 16 * 1024;

/// Assigns one point: the first area (in input order) whose closed polygon holds it. The raster
/// answers most points; the rest are tested exactly against the raster's candidates.
#[must_use]
#[inline]
pub fn locate(index: &AreaIndex, lon: f64, lat: f64) -> u32 {
    let Some(raster) = index.raster() else {
        return locate_filtered(index, lon, lat);
    };
    resolve(index, raster.lookup(lon, lat), lon, lat)
}

/// The area of a point from what the raster says about it.
#[inline]
fn resolve(index: &AreaIndex, hit: Hit<'_>, lon: f64, lat: f64) -> u32 {
    match hit {
        Hit::Area(a) => a,
        Hit::Outside => OUTSIDE,
        Hit::Candidates(list) => {
            let coord = Coord { x: lon, y: lat };
            list.iter()
                .find(|&&e| e & HOLDS != 0 || index.holds(e, coord))
                .map_or(OUTSIDE, |e| e & !HOLDS)
        }
    }
}

/// [`locate`] without the raster: R-tree candidates, each tested exactly.
#[must_use]
pub fn locate_filtered(index: &AreaIndex, lon: f64, lat: f64) -> u32 {
    let coord = Coord { x: lon, y: lat };
    let mut best = OUTSIDE;
    index.for_each_candidate(lon, lat, |area, polygon| {
        if area < best && polygon.position(coord) != CoordPos::Outside {
            best = area;
        }
    });
    best
}

/// Assigns every point, in parallel. `lon` and `lat` must have the same length.
///
/// # Panics
/// When the columns differ in length.
#[must_use]
pub fn assign(index: &AreaIndex, lon: &[f64], lat: &[f64]) -> Vec<u32> {
    assert_eq!(lon.len(), lat.len(), "lon and lat columns differ in length");
    let mut out = vec![OUTSIDE; lon.len()];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, dst)| {
        let start = c * CHUNK;
        for (i, slot) in dst.iter_mut().enumerate() {
            *slot = locate(index, lon[start + i], lat[start + i]);
        }
    });
    out
}

/// The oracle: tests every point against every area in input order, with no index.
/// O(points × vertices); for tests only.
#[must_use]
pub fn brute_force(areas: &[geo::MultiPolygon<f64>], lon: &[f64], lat: &[f64]) -> Vec<u32> {
    lon.iter()
        .zip(lat)
        .map(|(&x, &y)| {
            let c = Coord { x, y };
            areas
                .iter()
                .position(|a| a.coordinate_position(&c) != CoordPos::Outside)
                .map_or(OUTSIDE, |p| u32::try_from(p).expect("area count fits u32"))
        })
        .collect()
}

/// Points per area of a whole point set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    /// `per_area[a]`: points in area `a`.
    pub per_area: Vec<u64>,
    /// Valid points in no area.
    pub outside: u64,
    /// Points with a coordinate that is not a number or out of range (lon −180..=180,
    /// lat −90..=90); never located.
    pub invalid: u64,
}

impl Counts {
    fn zero(areas: usize) -> Self {
        Self {
            per_area: vec![0; areas],
            outside: 0,
            invalid: 0,
        }
    }

    fn add(mut self, other: &Self) -> Self {
        for (a, b) in self.per_area.iter_mut().zip(&other.per_area) {
            *a += b;
        }
        self.outside += other.outside;
        self.invalid += other.invalid;
        self
    }
}

/// True for a usable coordinate: lon in −180..=180 and lat in −90..=90 (NaN is not).
#[must_use]
#[inline]
pub fn in_range(lon: f64, lat: f64) -> bool {
    (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)
}

/// Counts the points per area in parallel, each task with its own counters merged at the end:
/// nothing is stored per point. Same answers as [`count`] over [`assign`].
///
/// # Panics
/// When the columns differ in length.
#[must_use]
pub fn count_points(index: &AreaIndex, lon: &[f64], lat: &[f64]) -> Counts {
    assert_eq!(lon.len(), lat.len(), "lon and lat columns differ in length");
    let n = index.len();
    lon.par_chunks(CHUNK)
        .zip(lat.par_chunks(CHUNK))
        .fold(
            || Counts::zero(n),
            |mut acc, (xs, ys)| {
                let mut add = |a: u32| match a {
                    OUTSIDE => acc.outside += 1,
                    a => acc.per_area[a as usize] += 1,
                };
                let mut invalid = 0;
                if let Some(raster) = index.raster() {
                    let mut values = [0; BATCH];
                    for (bx, by) in xs.chunks(BATCH).zip(ys.chunks(BATCH)) {
                        raster.lookup_batch(bx, by, &mut values);
                        for ((&x, &y), &v) in bx.iter().zip(by).zip(&values) {
                            if in_range(x, y) {
                                add(resolve(index, raster.hit(v), x, y));
                            } else {
                                invalid += 1;
                            }
                        }
                    }
                } else {
                    for (&x, &y) in xs.iter().zip(ys) {
                        if in_range(x, y) {
                            add(locate(index, x, y));
                        } else {
                            invalid += 1;
                        }
                    }
                }
                acc.invalid += invalid;
                acc
            },
        )
        .reduce(|| Counts::zero(n), |a, b| a.add(&b))
}

/// Points per area: `counts[a]` for area `a`, and the number of [`OUTSIDE`] points.
#[must_use]
pub fn count(assignments: &[u32], areas: usize) -> (Vec<u64>, u64) {
    let mut counts = vec![0_u64; areas];
    let mut outside = 0;
    for &a in assignments {
        if a == OUTSIDE {
            outside += 1;
        } else {
            counts[a as usize] += 1;
        }
    }
    (counts, outside)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::tests::squares;

    #[test]
    fn hand_checked_points() {
        let areas = squares();
        let index = AreaIndex::new(areas.clone());
        let lon = [0.5, 1.5, 1.0, 1.5, 1.4, 3.0, 2.0, 0.0];
        let lat = [0.5, 0.2, 0.5, 0.5, 0.5, 3.0, 1.0, 0.0];
        // inside A, inside B, on the shared edge (first = A), in B's hole, on the hole's edge (B),
        // outside, B's outer corner, A's outer corner.
        let want = [0, 1, 0, OUTSIDE, 1, OUTSIDE, 1, 0];
        assert_eq!(assign(&index, &lon, &lat), want);
        assert_eq!(brute_force(&areas, &lon, &lat), want);
        assert_eq!(count(&want, 2), (vec![3, 3], 2));
        let mut lon = lon.to_vec();
        let mut lat = lat.to_vec();
        lon.extend([f64::NAN, 181.0, 0.5]);
        lat.extend([0.5, 0.5, -91.0]);
        assert_eq!(
            count_points(&index, &lon, &lat),
            Counts {
                per_area: vec![3, 3],
                outside: 2,
                invalid: 3
            }
        );
        let plain = AreaIndex::with_raster(areas, None);
        assert!(plain.raster().is_none());
        assert_eq!(assign(&plain, &lon[..8], &lat[..8]), want);
    }
}
