//! Prepared polygons for the refine phase: every ring's edges binned by latitude, so a point
//! test reads only the edges of its bin (a few) instead of all of them (≈1,700 on a real ward).
//!
//! The answer is exactly geo's `CoordinatePosition` for valid polygons: even–odd crossing
//! parity over all rings with a half-open rule, and "on the boundary" when the point is
//! collinear with an edge and within its box. Both tests use robust (exact) orientation.

use geo::coordinate_position::CoordPos;
use geo::{Coord, CoordinatePosition, Polygon};
use robust::orient2d;

/// A polygon (with holes) whose edges are binned by y.
#[derive(Debug, Clone)]
pub struct PreparedPolygon {
    edges: Vec<(Coord<f64>, Coord<f64>)>,
    /// Bin b holds `ids[offsets[b]..offsets[b + 1]]`.
    offsets: Vec<u32>,
    ids: Vec<u32>,
    min_y: f64,
    max_y: f64,
    bin_height: f64,
}

fn rc(c: Coord<f64>) -> robust::Coord<f64> {
    robust::Coord { x: c.x, y: c.y }
}

impl PreparedPolygon {
    /// Bins the edges of every ring of `polygon`: about 4 edges per bin, at most 4,096 bins.
    #[must_use]
    pub fn new(polygon: &Polygon<f64>) -> Self {
        let edges: Vec<(Coord<f64>, Coord<f64>)> = std::iter::once(polygon.exterior())
            .chain(polygon.interiors())
            .flat_map(|r| r.lines().map(|l| (l.start, l.end)))
            .filter(|(a, b)| a != b)
            .collect();
        let (min_y, max_y) = edges
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (a, b)| {
                (lo.min(a.y).min(b.y), hi.max(a.y).max(b.y))
            });
        let bins = (edges.len() / 4).clamp(1, 4_096);
        let bin_height = ((max_y - min_y) / bins as f64).max(f64::MIN_POSITIVE);
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); bins];
        let bin_of = |y: f64| bin_index(y, min_y, bin_height, bins);
        for (i, (a, b)) in edges.iter().enumerate() {
            let (lo, hi) = (bin_of(a.y.min(b.y)), bin_of(a.y.max(b.y)));
            for list in &mut lists[lo..=hi] {
                list.push(u32::try_from(i).expect("edge count fits u32"));
            }
        }
        let mut offsets = Vec::with_capacity(bins + 1);
        let mut ids = Vec::new();
        offsets.push(0);
        for list in lists {
            ids.extend(list);
            offsets.push(u32::try_from(ids.len()).expect("edge count fits u32"));
        }
        Self {
            edges,
            offsets,
            ids,
            min_y,
            max_y,
            bin_height,
        }
    }

    /// Where `p` lies: inside, on the boundary, or outside (same answer as geo's
    /// `CoordinatePosition` for valid polygons). O(edges in the bin).
    #[must_use]
    pub fn position(&self, p: Coord<f64>) -> CoordPos {
        if !(self.min_y..=self.max_y).contains(&p.y) {
            return CoordPos::Outside;
        }
        let b = bin_index(p.y, self.min_y, self.bin_height, self.offsets.len() - 1);
        let mut inside = false;
        for &i in &self.ids[self.offsets[b] as usize..self.offsets[b + 1] as usize] {
            let (a, c) = self.edges[i as usize];
            if (a.y > p.y) == (c.y > p.y) {
                // No crossing; only a point on the edge's line within its box counts (horizontal
                // edges and edges ending at p's height).
                if p.y >= a.y.min(c.y)
                    && p.y <= a.y.max(c.y)
                    && p.x >= a.x.min(c.x)
                    && p.x <= a.x.max(c.x)
                    && orient2d(rc(a), rc(c), rc(p)) == 0.0
                {
                    return CoordPos::OnBoundary;
                }
                continue;
            }
            let o = orient2d(rc(a), rc(c), rc(p));
            if o == 0.0 {
                return CoordPos::OnBoundary;
            }
            // The ray to +x crosses an upward edge when p is left of it, a downward edge when right.
            if (o > 0.0) == (c.y > a.y) {
                inside = !inside;
            }
        }
        if inside {
            CoordPos::Inside
        } else {
            CoordPos::Outside
        }
    }
}

fn bin_index(y: f64, min_y: f64, height: f64, bins: usize) -> usize {
    // Truncation is the floor here (b > 0), and avoids a libm call on baseline x86-64.
    let b = (y - min_y) / height;
    if b <= 0.0 {
        0
    } else {
        (b as usize).min(bins - 1)
    }
}

/// For tests and benches: the same question answered by geo.
#[must_use]
pub fn geo_position(polygon: &Polygon<f64>, p: Coord<f64>) -> CoordPos {
    polygon.coordinate_position(&p)
}

#[cfg(test)]
mod tests {
    use geo::polygon;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn agrees_with_geo_on_vertices_edges_holes_and_random_points() {
        let poly = polygon!(
            exterior: [(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 3.), (x: 2., y: 1.), (x: 0., y: 3.), (x: 0., y: 0.)],
            interiors: [[(x: 1., y: 0.5), (x: 3., y: 0.5), (x: 3., y: 0.8), (x: 1., y: 0.5)]],
        );
        let prepared = PreparedPolygon::new(&poly);
        let mut points: Vec<Coord<f64>> = poly
            .exterior()
            .0
            .iter()
            .chain(poly.interiors()[0].0.iter())
            .copied()
            .collect();
        points.extend([
            Coord { x: 2., y: 0. },
            Coord { x: 3., y: 2. },
            Coord { x: 2., y: 0.5 },
            Coord { x: 2., y: 0.6 },
            Coord { x: 2., y: 2. },
            Coord { x: -1., y: 0. },
            Coord { x: 5., y: 3. },
        ]);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..20_000 {
            // Snap to a 1/8 grid so many points fall exactly on edges and vertices.
            points.push(Coord {
                x: (rng.random_range(-1.0..5.0_f64) * 8.0).round() / 8.0,
                y: (rng.random_range(-1.0..4.0_f64) * 8.0).round() / 8.0,
            });
        }
        for p in points {
            assert_eq!(prepared.position(p), geo_position(&poly, p), "{p:?}");
        }
    }
}
