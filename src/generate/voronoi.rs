//! Neighbourhood polygons: a Voronoi diagram of seed points, each cell clipped to its ward.
//!
//! Each Voronoi cell is the intersection of half-planes (Sutherland–Hodgman clipping of a box),
//! then intersected with the ward by geo's boolean operations, so the cells tile the ward:
//! no gaps and no overlaps beyond floating-point noise (tested by area in `generate`).

use geo::{BooleanOps, Coord, LineString, MultiPolygon, Polygon, Rect};

/// Clips a convex ring (open: last point ≠ first) to the half-plane `a·x + b·y ≤ c`.
fn clip(ring: &[Coord<f64>], a: f64, b: f64, c: f64) -> Vec<Coord<f64>> {
    let inside = |p: &Coord<f64>| a * p.x + b * p.y <= c;
    let mut out = Vec::with_capacity(ring.len() + 1);
    for i in 0..ring.len() {
        let (p, q) = (ring[i], ring[(i + 1) % ring.len()]);
        let (pin, qin) = (inside(&p), inside(&q));
        if pin {
            out.push(p);
        }
        if pin != qin {
            let (fp, fq) = (a * p.x + b * p.y - c, a * q.x + b * q.y - c);
            let t = fp / (fp - fq);
            out.push(Coord {
                x: p.x + t * (q.x - p.x),
                y: p.y + t * (q.y - p.y),
            });
        }
    }
    out
}

/// The Voronoi cell of `seeds[i]` within `bounds`, as a convex polygon.
#[must_use]
pub fn cell(seeds: &[Coord<f64>], i: usize, bounds: Rect<f64>) -> Polygon<f64> {
    let (min, max) = (bounds.min(), bounds.max());
    let mut ring = vec![
        min,
        Coord { x: max.x, y: min.y },
        max,
        Coord { x: min.x, y: max.y },
    ];
    let s = seeds[i];
    for (j, o) in seeds.iter().enumerate() {
        if j == i || ring.is_empty() {
            continue;
        }
        // Points closer to s than to o: (o − s)·x ≤ (|o|² − |s|²) / 2.
        let (a, b) = (o.x - s.x, o.y - s.y);
        let c = (o.x * o.x + o.y * o.y - s.x * s.x - s.y * s.y) / 2.0;
        ring = clip(&ring, a, b, c);
    }
    if let Some(&first) = ring.first() {
        ring.push(first);
    }
    Polygon::new(LineString(ring), vec![])
}

/// Splits `region` into one piece per seed (the seed's Voronoi cell clipped to the region).
/// Pieces can be empty when a seed lies outside the region.
#[must_use]
pub fn split(
    region: &MultiPolygon<f64>,
    seeds: &[Coord<f64>],
    bounds: Rect<f64>,
) -> Vec<MultiPolygon<f64>> {
    (0..seeds.len())
        .map(|i| region.intersection(&MultiPolygon(vec![cell(seeds, i, bounds)])))
        .collect()
}

#[cfg(test)]
mod tests {
    use geo::{Area, polygon};

    use super::*;

    #[test]
    fn two_seeds_halve_a_square() {
        let square = MultiPolygon(vec![
            polygon![(x: 0., y: 0.), (x: 2., y: 0.), (x: 2., y: 2.), (x: 0., y: 2.), (x: 0., y: 0.)],
        ]);
        let seeds = [Coord { x: 0.5, y: 1.0 }, Coord { x: 1.5, y: 1.0 }];
        let bounds = Rect::new(Coord { x: -1., y: -1. }, Coord { x: 3., y: 3. });
        let parts = split(&square, &seeds, bounds);
        assert!((parts[0].unsigned_area() - 2.0).abs() < 1e-12);
        assert!((parts[1].unsigned_area() - 2.0).abs() < 1e-12);
    }
}
