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
//! on first sight (a tile itself is fitted when a point first falls in it). Points closer to a
//! border, points in tiles that touch a pentagon or two icosahedron faces, or whose fit is
//! poor, go to h3o. Equal answers are checked against h3o on
//! millions of points in the tests and in every benchmark run.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

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
const INV_SQRT3_2: f64 = 1.0 / SQRT3_2;
const SQRT3: f64 = 2.0 * SQRT3_2;
const INV_SQRT3: f64 = 1.0 / SQRT3;

/// h3o's answer, as a raw index (0 for coordinates h3o rejects).
#[inline]
fn exact(lon: f64, lat: f64, res: Resolution) -> u64 {
    cell_of(lon, lat, res).map_or(0, u64::from)
}

/// One tile's fitted map from (lon, lat) to lattice coordinates (x, y), where the lattice
/// points are `i·(1, 0) + j·(−½, √3⁄2)` for the local IJ coordinates (i, j) of the cells,
/// counted from the tile's anchor cell (the cell of its centre).
#[derive(Debug)]
struct Tile {
    cx: f64,
    cy: f64,
    scale: f64,
    fx: [f64; 6],
    fy: [f64; 6],
    /// Points nearer than this (lattice units) to a hexagon border go to h3o.
    bound: f64,
    /// The tile's lattice points: i in `imin..imin + w`, j in `jmin..jmin + h`, their cells at
    /// `table[(i − imin)·h + (j − jmin)]`.
    imin: i32,
    jmin: i32,
    w: i32,
    h: i32,
    /// Cell of each lattice point, 0 until first seen (filled by h3o from a point certain to be
    /// in it; every thread would store the same value).
    table: Box<[AtomicU64]>,
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
            table: Box::new([]),
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
        if tile.w > 4096 || tile.h > 4096 {
            return None;
        }
        tile.table = (0..tile.w * tile.h).map(|_| AtomicU64::new(0)).collect();
        Some(tile)
    }

    /// The fitted lattice position (x, y) of (lon, lat): the quadratic in nested form.
    #[inline]
    fn position(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (u, v) = ((lon - self.cx) * self.scale, (lat - self.cy) * self.scale);
        let (a, b) = (&self.fx, &self.fy);
        (
            a[0] + u * (a[1] + a[3] * u + a[4] * v) + v * (a[2] + a[5] * v),
            b[0] + u * (b[1] + b[3] * u + b[4] * v) + v * (b[2] + b[5] * v),
        )
    }

    /// Continuous lattice coordinates (i, j) of (lon, lat).
    #[inline]
    fn lattice(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (x, y) = self.position(lon, lat);
        let j = y * INV_SQRT3_2;
        (x + 0.5 * j, j)
    }

    /// The table slot of the lattice point whose hexagon holds (lon, lat), when it is certain.
    #[inline]
    fn slot(&self, lon: f64, lat: f64) -> Option<usize> {
        let (x, y) = self.position(lon, lat);
        // The lattice is two rectangular ones: (a, b·√3) (j = 2b, i = a + b) and the same moved
        // by (½, √3⁄2) (j = 2b + 1, i = a + b + 1). The nearer of the two rounded candidates is
        // the nearest lattice point; the choice is a select, not a branch. A wrong pick (a tie)
        // would only show as a negative margin below (and go to h3o).
        let yb = y * INV_SQRT3;
        let (a1, b1) = (nearest(x), nearest(yb));
        let (a2, b2) = (nearest(x - 0.5), nearest(yb - 0.5));
        let (dx1, dy1) = (x - a1, y - b1 * SQRT3);
        let (dx2, dy2) = (x - a2 - 0.5, y - b2 * SQRT3 - SQRT3_2);
        let second = dx2 * dx2 + dy2 * dy2 < dx1 * dx1 + dy1 * dy1;
        let (i, j, dx, dy) = if second {
            (a2 + b2 + 1.0, 2.0 * b2 + 1.0, dx2, dy2)
        } else {
            (a1 + b1, 2.0 * b1, dx1, dy1)
        };
        // Distance to the hexagon's border: ½ minus the largest projection on a neighbour axis.
        let reach = dx
            .abs()
            .max((0.5 * dx + SQRT3_2 * dy).abs())
            .max((-0.5 * dx + SQRT3_2 * dy).abs());
        let (di, dj) = (i as i32 - self.imin, j as i32 - self.jmin);
        (0.5 - reach > self.bound && (0..self.w).contains(&di) && (0..self.h).contains(&dj))
            .then(|| (di * self.h + dj) as usize)
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

/// The tiles over the points' box; a tile is fitted when a point first falls in it.
struct TileGrid {
    x0: f64,
    y0: f64,
    side: f64,
    inv_side: f64,
    nx: usize,
    ny: usize,
    res: Resolution,
    /// Each tile, fitted on first use (`None` inside: h3o answers there).
    tiles: Vec<OnceLock<Option<Box<Tile>>>>,
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
        Some(Self {
            x0: lo_x,
            y0: lo_y,
            side,
            inv_side: 1.0 / side,
            nx,
            ny,
            res,
            tiles: (0..nx * ny).map(|_| OnceLock::new()).collect(),
        })
    }

    /// Tile `t`, fitted on first use.
    #[inline]
    fn tile(&self, t: usize) -> Option<&Tile> {
        self.tiles[t]
            .get_or_init(|| {
                let (tx, ty) = (t % self.nx, t / self.nx);
                Tile::fit(
                    self.x0 + tx as f64 * self.side,
                    self.y0 + ty as f64 * self.side,
                    self.side,
                    self.res,
                )
                .map(Box::new)
            })
            .as_deref()
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
        let Some(tile) = self.tile(t) else {
            return exact(x, y, res);
        };
        let Some(slot) = tile.slot(x, y) else {
            return exact(x, y, res);
        };
        let known = tile.table[slot].load(Ordering::Relaxed);
        if known != 0 {
            return known;
        }
        let c = exact(x, y, res);
        tile.table[slot].store(c, Ordering::Relaxed);
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
                grid.tile(t).and_then(|tile| tile.slot(**x, **y)).is_some()
            })
            .count();
        assert!(certain * 100 > lon.len() * 97, "{certain} of {}", lon.len());
    }

    /// Where the time of [`cells`] goes on 10M clustered points (run by hand:
    /// `cargo test --release -p phuso-kernel -- --ignored --nocapture hexfast_profile`).
    #[test]
    #[ignore = "a measurement, run by hand in release"]
    fn hexfast_profile() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let centres: Vec<(f64, f64)> = (0..2_000)
            .map(|_| (rng.random_range(106.5..107.0), rng.random_range(10.9..11.4)))
            .collect();
        let mut n = 10_000_000;
        let (mut lon, mut lat): (Vec<f64>, Vec<f64>) = (0..n)
            .map(|_| {
                let (x, y) = centres[rng.random_range(0..centres.len())];
                (
                    x + rng.random_range(-0.004..0.004),
                    y + rng.random_range(-0.004..0.004),
                )
            })
            .unzip();
        // Or (lon, lat) pairs of little-endian f64 from a file (e.g. dumped from a visits file).
        if let Ok(path) = std::env::var("PHUSO_POINTS_F64") {
            let bytes = std::fs::read(path).unwrap();
            let v: Vec<f64> = bytes
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
                .collect();
            lon = v.iter().step_by(2).copied().collect();
            lat = v.iter().skip(1).step_by(2).copied().collect();
            n = lon.len();
        }
        let t = std::time::Instant::now();
        let mut floor = vec![0_u64; n];
        floor
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, dst)| {
                let start = c * CHUNK;
                for (k, slot) in dst.iter_mut().enumerate() {
                    *slot = (lon[start + k] + lat[start + k]).to_bits();
                }
            });
        println!(
            "memory floor (read both, write one): {:.3}s",
            t.elapsed().as_secs_f64()
        );
        for res in [Resolution::Eight, Resolution::Nine] {
            let grid = TileGrid::over(&lon, &lat, res).unwrap();
            let t = std::time::Instant::now();
            let mut out = vec![0_u64; n];
            out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, dst)| {
                let start = c * CHUNK;
                for (k, slot) in dst.iter_mut().enumerate() {
                    *slot = grid.tile_of(lon[start + k], lat[start + k]).unwrap_or(0) as u64;
                }
            });
            println!("tile_of only: {:.3}s", t.elapsed().as_secs_f64());
            let t = std::time::Instant::now();
            out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, dst)| {
                let start = c * CHUNK;
                for (k, slot) in dst.iter_mut().enumerate() {
                    let (x, y) = (lon[start + k], lat[start + k]);
                    *slot = grid
                        .tile_of(x, y)
                        .and_then(|t| grid.tile(t))
                        .and_then(|tile| tile.slot(x, y))
                        .unwrap_or(0) as u64;
                }
            });
            println!("slot only: {:.3}s", t.elapsed().as_secs_f64());
            let t = std::time::Instant::now();
            out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, dst)| {
                let start = c * CHUNK;
                for (k, slot) in dst.iter_mut().enumerate() {
                    *slot = grid.cell(lon[start + k], lat[start + k], res);
                }
            });
            println!("cell, grid built: {:.3}s", t.elapsed().as_secs_f64());
            drop(out);
            let t = std::time::Instant::now();
            let grid = TileGrid::over(&lon, &lat, res).unwrap();
            let over = t.elapsed().as_secs_f64();
            let t = std::time::Instant::now();
            let fast = cells(&lon, &lat, res);
            let all = t.elapsed().as_secs_f64();
            let uncertain = lon
                .iter()
                .zip(&lat)
                .filter(|(x, y)| {
                    grid.tile_of(**x, **y)
                        .and_then(|t| grid.tile(t))
                        .and_then(|tile| tile.slot(**x, **y))
                        .is_none()
                })
                .count();
            let t = std::time::Instant::now();
            let _ = cells(&lon, &lat, res);
            let again = t.elapsed().as_secs_f64();
            let fitted = grid.tiles.iter().filter_map(|t| t.get()?.as_ref()).count();
            let slots: usize = grid
                .tiles
                .iter()
                .filter_map(|t| t.get()?.as_ref())
                .map(|t| t.table.len())
                .sum();
            let mut distinct = fast.clone();
            distinct.par_sort_unstable();
            distinct.dedup();
            println!(
                "res {res:?}: cells {all:.3}s ({:.1}M/s), again {again:.3}s; grid {over:.3}s ({fitted} tiles, {} table slots); {uncertain} to h3o ({:.2}%); {} distinct cells",
                n as f64 / all / 1e6,
                slots,
                uncertain as f64 * 100.0 / n as f64,
                distinct.len()
            );
        }
    }
}
