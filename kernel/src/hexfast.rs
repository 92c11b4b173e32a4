//! H3 cells for many points at once, the same cells as h3o's `LatLng::to_cell` but mostly
//! without calling it.
//!
//! Within a small lon/lat *tile* (≈24 cell edges wide) the H3 grid is a regular hexagonal
//! lattice seen through a smooth map. Each tile fits that map — a quadratic in (lon, lat) —
//! to the lattice coordinates of the cells h3o gives at 25 sample points (local IJ coordinates
//! of the cell centres around an anchor cell), and keeps the largest misfit as its error bound.
//! A point then costs a few multiply–adds: its lattice position, the nearest lattice point
//! (whose hexagon is the cell: H3 cells are the lattice's Voronoi cells), and its distance to
//! that hexagon's border. When the distance exceeds the bound (×4, plus 1e-6 cell widths) the
//! answer is certain and comes from the tile's table of lattice point → cell, filled by h3o
//! on first sight. Points closer to a border, points in tiles that touch a pentagon or two
//! icosahedron faces, or whose fit is poor, go to h3o. Equal answers are checked against h3o on
//! millions of points in the tests and in every benchmark run.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use h3o::{CellIndex, LatLng, Resolution};
use rayon::prelude::*;

/// The cell holding (lon, lat) at `res`, or `None` for coordinates h3o rejects (non-finite).
#[must_use]
pub fn cell_of(lon: f64, lat: f64, res: Resolution) -> Option<CellIndex> {
    LatLng::new(lat, lon).ok().map(|ll| ll.to_cell(res))
}

/// Points per rayon task.
const CHUNK: usize = 64 * 1024;
/// Tile side in cell edge lengths.
const TILE_EDGES: f64 = 24.0;
/// At most this many tiles over the points' box; beyond, everything goes to h3o.
const MAX_TILES: usize = 1 << 24;
const SQRT3_2: f64 = 0.866_025_403_784_438_6;

/// h3o's answer, as a raw index (0 for coordinates h3o rejects).
#[inline]
fn exact(lon: f64, lat: f64, res: Resolution) -> u64 {
    cell_of(lon, lat, res).map_or(0, u64::from)
}

/// One tile's fitted map from (lon, lat) to lattice coordinates (x, y), where the lattice
/// points are `i·(1, 0) + j·(−½, √3⁄2)` for the local IJ coordinates (i, j) of the cells,
/// counted from the tile's anchor cell (the cell of its centre).
#[derive(Debug, Clone)]
struct Tile {
    cx: f64,
    cy: f64,
    scale: f64,
    fx: [f64; 6],
    fy: [f64; 6],
    /// Points nearer than this (lattice units) to a hexagon border go to h3o.
    bound: f64,
    /// The tile's lattice points: i in `imin..imin + w`, j in `jmin..jmin + h`, their cells at
    /// `table[base + (i − imin)·h + (j − jmin)]` of the grid.
    imin: i32,
    jmin: i32,
    w: i32,
    h: i32,
    base: usize,
}

fn basis(u: f64, v: f64) -> [f64; 6] {
    [1.0, u, v, u * u, u * v, v * v]
}

impl Tile {
    /// Fits the tile whose south-west corner is (x0, y0); `None` when h3o's grid there is not a
    /// plain lattice (pentagon, face edge) or the fit is poor.
    fn fit(x0: f64, y0: f64, side: f64, res: Resolution) -> Option<Self> {
        let (cx, cy) = (x0 + side / 2.0, y0 + side / 2.0);
        let anchor = cell_of(cx, cy, res)?;
        if anchor.is_pentagon() || anchor.icosahedron_faces().len() != 1 {
            return None;
        }
        // Local IJ coordinates count from the base cell's origin: re-centre them on the anchor.
        let origin = anchor.to_local_ij(anchor).ok()?.coord;
        let scale = 2.0 / side;
        let mut rows: Vec<([f64; 6], f64, f64)> = Vec::with_capacity(25);
        for a in 0..5 {
            for b in 0..5 {
                let (x, y) = (
                    x0 + side * f64::from(a) / 4.0,
                    y0 + side * f64::from(b) / 4.0,
                );
                let cell = cell_of(x, y, res)?;
                if cell.is_pentagon() || cell.icosahedron_faces().len() != 1 {
                    return None;
                }
                let ij = cell.to_local_ij(anchor).ok()?.coord;
                let centre = LatLng::from(cell);
                let (i, j) = (f64::from(ij.i - origin.i), f64::from(ij.j - origin.j));
                rows.push((
                    basis((centre.lng() - cx) * scale, (centre.lat() - cy) * scale),
                    i - 0.5 * j,
                    j * SQRT3_2,
                ));
            }
        }
        let fx = least_squares(&rows, |r| r.1)?;
        let fy = least_squares(&rows, |r| r.2)?;
        let misfit = rows
            .iter()
            .map(|(b, x, y)| (dot(&fx, b) - x).hypot(dot(&fy, b) - y))
            .fold(0.0, f64::max);
        let bound = 4.0 * misfit + 1e-6;
        if bound >= 0.05 {
            return None;
        }
        let mut tile = Self {
            cx,
            cy,
            scale,
            fx,
            fy,
            bound,
            imin: 0,
            jmin: 0,
            w: 0,
            h: 0,
            base: 0,
        };
        // The lattice window: the corners' lattice coordinates, widened by two.
        let (mut lo, mut hi) = ((i32::MAX, i32::MAX), (i32::MIN, i32::MIN));
        for (x, y) in [
            (x0, y0),
            (x0 + side, y0),
            (x0, y0 + side),
            (x0 + side, y0 + side),
        ] {
            let (i, j) = tile.lattice(x, y);
            let (i, j) = (i.round() as i32, j.round() as i32);
            lo = (lo.0.min(i), lo.1.min(j));
            hi = (hi.0.max(i), hi.1.max(j));
        }
        (tile.imin, tile.jmin) = (lo.0 - 2, lo.1 - 2);
        (tile.w, tile.h) = (hi.0 - lo.0 + 5, hi.1 - lo.1 + 5);
        (tile.w <= 4096 && tile.h <= 4096).then_some(tile)
    }

    /// Continuous lattice coordinates (i, j) of (lon, lat).
    #[inline]
    fn lattice(&self, lon: f64, lat: f64) -> (f64, f64) {
        let b = basis((lon - self.cx) * self.scale, (lat - self.cy) * self.scale);
        let (x, y) = (dot(&self.fx, &b), dot(&self.fy, &b));
        let j = y / SQRT3_2;
        (x + 0.5 * j, j)
    }

    /// The table slot of the lattice point whose hexagon holds (lon, lat), when it is certain.
    #[inline]
    fn slot(&self, lon: f64, lat: f64) -> Option<usize> {
        let (fi, fj) = self.lattice(lon, lat);
        let (x, y) = (fi - 0.5 * fj, fj * SQRT3_2);
        // Cube rounding in the 60° basis (1, 0), (½, √3⁄2): axial (q, r) = (i − j, j), s = −q − r;
        // the worst-rounded coordinate is recomputed from the other two. A wrong pick would only
        // show as a negative margin below (and go to h3o).
        let (q, r) = (fi - fj, fj);
        let s = -q - r;
        let (mut rq, mut rr, rs) = (nearest(q), nearest(r), nearest(s));
        let (eq, er, es) = ((rq - q).abs(), (rr - r).abs(), (rs - s).abs());
        if eq > er && eq > es {
            rq = -rr - rs;
        } else if er > es {
            rr = -rq - rs;
        }
        let (i, j) = (rq + rr, rr);
        let (dx, dy) = (x - (i - 0.5 * j), y - j * SQRT3_2);
        // Distance to the hexagon's border: ½ minus the largest projection on a neighbour axis.
        let reach = dx
            .abs()
            .max((0.5 * dx + SQRT3_2 * dy).abs())
            .max((-0.5 * dx + SQRT3_2 * dy).abs());
        let (di, dj) = (i as i32 - self.imin, j as i32 - self.jmin);
        (0.5 - reach > self.bound && (0..self.w).contains(&di) && (0..self.h).contains(&dj))
            .then(|| self.base + (di * self.h + dj) as usize)
    }
}

/// The integer nearest to `x` (halves up), for |x| < 2^52: truncation and a compare, not the
/// libm `round` call that `f64::round` becomes on baseline x86-64.
#[inline]
fn nearest(x: f64) -> f64 {
    let t = x + 0.5;
    let i = t as i64 as f64;
    if i > t { i - 1.0 } else { i }
}

fn dot(a: &[f64; 6], b: &[f64; 6]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// Least-squares coefficients of `target` over the 6 basis functions (normal equations,
/// Gaussian elimination with partial pivoting). `None` when singular.
fn least_squares<R>(
    rows: &[([f64; 6], R, R)],
    target: impl Fn(&([f64; 6], R, R)) -> f64,
) -> Option<[f64; 6]>
where
    R: Copy,
{
    let mut m = [[0.0_f64; 7]; 6];
    for row in rows {
        let (b, t) = (&row.0, target(row));
        for r in 0..6 {
            for c in 0..6 {
                m[r][c] += b[r] * b[c];
            }
            m[r][6] += b[r] * t;
        }
    }
    for col in 0..6 {
        let pivot = (col..6).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        let pivot_row = m[col];
        for (r, row) in m.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (v, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *v -= f * p;
                }
            }
        }
    }
    let mut out = [0.0; 6];
    for (r, o) in out.iter_mut().enumerate() {
        *o = m[r][6] / m[r][r];
    }
    Some(out)
}

/// The H3 cell of every point at `res` as a raw index, 0 where h3o rejects the coordinates:
/// exactly `LatLng::new(lat, lon)?.to_cell(res)` for each point, in parallel.
///
/// # Panics
/// When the columns differ in length.
#[must_use]
pub fn cells(lon: &[f64], lat: &[f64], res: Resolution) -> Vec<u64> {
    assert_eq!(lon.len(), lat.len(), "lon and lat columns differ in length");
    let Some(grid) = TileGrid::over(lon, lat, res) else {
        return cells_h3o(lon, lat, res);
    };
    let mut out = vec![0_u64; lon.len()];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, dst)| {
        let start = c * CHUNK;
        for (k, slot) in dst.iter_mut().enumerate() {
            *slot = grid.cell(lon[start + k], lat[start + k], res);
        }
    });
    out
}

/// The tiles over the points' box; only tiles holding points are fitted.
struct TileGrid {
    x0: f64,
    y0: f64,
    inv_side: f64,
    nx: usize,
    ny: usize,
    tiles: Vec<Option<Tile>>,
    /// Cell of each lattice point of each fitted tile, 0 until first seen (filled by h3o from a
    /// point certain to be in it; every thread would store the same value).
    table: Vec<AtomicU64>,
}

impl TileGrid {
    fn over(lon: &[f64], lat: &[f64], res: Resolution) -> Option<Self> {
        let usable = |x: f64, y: f64| (-180.0..=180.0).contains(&x) && (-85.0..=85.0).contains(&y);
        let (lo_x, lo_y, hi_x, hi_y) = lon
            .par_iter()
            .zip(lat)
            .filter(|(x, y)| usable(**x, **y))
            .fold(
                || {
                    (
                        f64::INFINITY,
                        f64::INFINITY,
                        f64::NEG_INFINITY,
                        f64::NEG_INFINITY,
                    )
                },
                |a, (&x, &y)| (a.0.min(x), a.1.min(y), a.2.max(x), a.3.max(y)),
            )
            .reduce(
                || {
                    (
                        f64::INFINITY,
                        f64::INFINITY,
                        f64::NEG_INFINITY,
                        f64::NEG_INFINITY,
                    )
                },
                |a, b| (a.0.min(b.0), a.1.min(b.1), a.2.max(b.2), a.3.max(b.3)),
            );
        if !lo_x.is_finite() {
            return None;
        }
        // Edge length in degrees of latitude (the grid is coarser than this towards the poles,
        // which only makes tiles hold more cells).
        let side = TILE_EDGES * res.edge_length_km() / 111.32;
        let nx = ((hi_x - lo_x) / side) as usize + 1;
        let ny = ((hi_y - lo_y) / side) as usize + 1;
        if nx.saturating_mul(ny) > MAX_TILES {
            return None;
        }
        let mut grid = Self {
            x0: lo_x,
            y0: lo_y,
            inv_side: 1.0 / side,
            nx,
            ny,
            tiles: Vec::new(),
            table: Vec::new(),
        };
        let used: Vec<AtomicBool> = (0..nx * ny).map(|_| AtomicBool::new(false)).collect();
        lon.par_iter().zip(lat).for_each(|(&x, &y)| {
            if let Some(t) = grid.tile_of(x, y)
                && !used[t].load(Ordering::Relaxed)
            {
                used[t].store(true, Ordering::Relaxed);
            }
        });
        grid.tiles = used
            .par_iter()
            .enumerate()
            .map(|(t, u)| {
                u.load(Ordering::Relaxed).then(|| {
                    let (tx, ty) = (t % nx, t / nx);
                    Tile::fit(
                        grid.x0 + tx as f64 * side,
                        grid.y0 + ty as f64 * side,
                        side,
                        res,
                    )
                })?
            })
            .collect();
        let mut size = 0;
        for tile in grid.tiles.iter_mut().flatten() {
            tile.base = size;
            size += (tile.w * tile.h) as usize;
        }
        grid.table = (0..size).map(|_| AtomicU64::new(0)).collect();
        Some(grid)
    }

    #[inline]
    fn tile_of(&self, x: f64, y: f64) -> Option<usize> {
        let (fx, fy) = ((x - self.x0) * self.inv_side, (y - self.y0) * self.inv_side);
        if fx >= 0.0 && fy >= 0.0 && fx < self.nx as f64 && fy < self.ny as f64 {
            Some(fy as usize * self.nx + fx as usize)
        } else {
            None
        }
    }

    #[inline]
    fn cell(&self, x: f64, y: f64, res: Resolution) -> u64 {
        let Some(t) = self.tile_of(x, y) else {
            return exact(x, y, res);
        };
        let Some(slot) = self.tiles[t].as_ref().and_then(|tile| tile.slot(x, y)) else {
            return exact(x, y, res);
        };
        let known = self.table[slot].load(Ordering::Relaxed);
        if known != 0 {
            return known;
        }
        let c = exact(x, y, res);
        self.table[slot].store(c, Ordering::Relaxed);
        c
    }
}

/// For tests and benchmarks: h3o alone, in parallel.
#[must_use]
pub fn cells_h3o(lon: &[f64], lat: &[f64], res: Resolution) -> Vec<u64> {
    lon.par_iter()
        .zip(lat)
        .map(|(&x, &y)| exact(x, y, res))
        .collect()
}

/// The cell as h3o's type (None for 0).
#[must_use]
pub fn to_cell(raw: u64) -> Option<CellIndex> {
    CellIndex::try_from(raw).ok()
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn same_cells_as_h3o_at_every_resolution_including_cell_borders() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let (mut lon, mut lat): (Vec<f64>, Vec<f64>) = (0..200_000)
            .map(|_| (rng.random_range(106.3..107.0), rng.random_range(10.8..11.5)))
            .unzip();
        for res in [6_u8, 7, 8, 9, 10, 12] {
            let res = Resolution::try_from(res).unwrap();
            // Cell vertices: points exactly on borders.
            let seeds: Vec<u64> = cells_h3o(&lon[..2_000], &lat[..2_000], res);
            let (mut bl, mut ba) = (lon.clone(), lat.clone());
            for c in seeds.iter().filter_map(|&c| to_cell(c)) {
                for v in c.boundary().iter() {
                    bl.push(v.lng());
                    ba.push(v.lat());
                }
            }
            bl.extend([f64::NAN, 200.0]);
            ba.extend([10.9, 10.9]);
            let fast = cells(&bl, &ba, res);
            let slow = cells_h3o(&bl, &ba, res);
            let wrong = fast.iter().zip(&slow).filter(|(a, b)| a != b).count();
            assert_eq!(wrong, 0, "res {res:?}: {wrong} of {} differ", bl.len());
            assert_eq!(fast[fast.len() - 2], 0, "NaN has no cell");
        }
        // Anywhere on Earth (pentagons, face edges, poles, the antimeridian).
        lon = (0..20_000)
            .map(|_| rng.random_range(-180.0..180.0))
            .collect();
        lat = (0..20_000).map(|_| rng.random_range(-90.0..90.0)).collect();
        for res in [Resolution::Two, Resolution::Eight] {
            assert_eq!(cells(&lon, &lat, res), cells_h3o(&lon, &lat, res));
        }
    }

    #[test]
    fn most_points_skip_h3o() {
        let mut rng = ChaCha8Rng::seed_from_u64(10);
        let (lon, lat): (Vec<f64>, Vec<f64>) = (0..50_000)
            .map(|_| (rng.random_range(106.5..106.8), rng.random_range(10.9..11.2)))
            .unzip();
        let grid = TileGrid::over(&lon, &lat, Resolution::Nine).unwrap();
        let certain = lon
            .iter()
            .zip(&lat)
            .filter(|(x, y)| {
                let t = grid.tile_of(**x, **y).unwrap();
                grid.tiles[t]
                    .as_ref()
                    .and_then(|tile| tile.slot(**x, **y))
                    .is_some()
            })
            .count();
        assert!(certain * 100 > lon.len() * 97, "{certain} of {}", lon.len());
    }
}
