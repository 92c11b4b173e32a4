//! A two-level lon/lat raster over the areas: the fast path of the point-in-area join.
//!
//! The bounding box of all areas is cut into square *coarse* cells; a coarse cell that no area
//! boundary touches is wholly inside one area (or in none) and stores that answer. A coarse cell
//! that a boundary touches points to a block of `2^shift × 2^shift` *fine* cells, classified the
//! same way. A fine cell that a boundary still touches stores a short candidate list: the areas
//! whose boundary touches it (in input order), ending at the first area that holds it wholly.
//! So a point costs two array reads, and only points in border cells (a few percent) need the
//! exact test of [`crate::prepared`].
//!
//! **Exactness.** A cell counts as "touched" when a boundary edge passes within [`EPS`] degrees
//! of its closed rectangle, far more than the rounding of `(x - x0) * cells_per_degree`
//! (≈1e-14°). Whether an untouched cell is inside is decided by the even–odd parity of the
//! crossings of its row's centre line, and no crossing can lie within that cell. Hence a point
//! placed in a resolved cell by a rounded index is on the same side of every boundary as the
//! cell, and the raster gives the same answer as the exact test for every point (also tested
//! against the brute-force oracle).

use geo::{Coord, MultiPolygon, Polygon};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// The stored value of a cell that is in no area.
const NONE: u32 = u32::MAX;
/// High bit of a stored value: coarse → index of a fine block; fine → index of a candidate list.
const FLAG: u32 = 1 << 31;
/// In a candidate list: the area holds the whole fine cell (no exact test needed).
pub const HOLDS: u32 = 1 << 31;
/// Points per [`Raster::lookup_batch`].
pub const BATCH: usize = 16;
/// How close (degrees) a boundary may come to a cell before the cell counts as touched.
pub const EPS: f64 = 1e-9;

/// Raster resolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RasterConfig {
    /// Coarse cell side in degrees (the raster uses at least this, see [`RasterConfig::fit`]).
    pub coarse_deg: f64,
    /// Fine cells per coarse cell along each axis: `2^shift`.
    pub shift: u32,
}

impl RasterConfig {
    /// 1,024 coarse cells along the longer side of the areas' box, but no coarser than 0.008°
    /// (≈900 m) for country-sized boxes, and at most ≈16M coarse cells (64 MB) in all. Touched
    /// coarse cells get 16 × 16 fine cells on boxes up to 4° (a province: ≈7 m cells on the
    /// former Bình Dương), 8 × 8 beyond (national wards: ≈110 m cells). Measured with
    /// `phuso join` on the national wards: 0.008° builds in 0.4 s (0.004°: 1.1 s) and joins
    /// 10M clustered points in 0.17 s (0.13 s).
    #[must_use]
    pub fn fit(width: f64, height: f64) -> Self {
        Self {
            coarse_deg: (width.max(height) / 1024.0)
                .min(0.008)
                .max((width * height / 16e6).sqrt())
                .max(1e-6),
            shift: if width.max(height) > 4.0 { 3 } else { 4 },
        }
    }
}

/// What the raster says about a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit<'a> {
    /// Wholly inside this area (position in input order).
    Area(u32),
    /// In no area.
    Outside,
    /// Test these areas exactly, in order; an entry with [`HOLDS`] set holds the point.
    Candidates(&'a [u32]),
}

/// The raster: see the module docs.
#[derive(Debug, Clone)]
pub struct Raster {
    x0: f64,
    y0: f64,
    /// Fine cells per degree.
    inv: f64,
    /// Fine columns and rows.
    nx: u32,
    ny: u32,
    /// Coarse columns.
    gx: u32,
    shift: u32,
    coarse: Vec<u32>,
    fine: Vec<u32>,
    /// Candidate lists, each `[len, entries…]`; a fine value `FLAG | i` points at `lists[i]`.
    lists: Vec<u32>,
}

/// Per-fine-cell state of one polygon part (or one area once parts are merged).
const OUT: u8 = 0;
const IN: u8 = 1;
const EDGE: u8 = 2;

/// What one area (or one of its parts) is in one coarse cell.
enum CellState {
    /// Holds the whole coarse cell.
    Holds,
    /// Touched: one state per fine cell, row-major.
    Block(Box<[u8]>),
}

/// The fine grid geometry shared by the build and the lookups.
#[derive(Clone, Copy)]
struct Grid {
    x0: f64,
    y0: f64,
    /// Fine cell side in degrees, and its inverse.
    h: f64,
    inv: f64,
    nx: u32,
    ny: u32,
    shift: u32,
}

impl Grid {
    /// The fine column holding x (clamped to the grid).
    fn col(&self, x: f64) -> u32 {
        clamp_cell((x - self.x0) * self.inv, self.nx)
    }
    fn row(&self, y: f64) -> u32 {
        clamp_cell((y - self.y0) * self.inv, self.ny)
    }
    fn row_centre(&self, r: u32) -> f64 {
        self.y0 + (f64::from(r) + 0.5) * self.h
    }
    fn col_centre(&self, c: u32) -> f64 {
        self.x0 + (f64::from(c) + 0.5) * self.h
    }
    fn row_bottom(&self, r: u32) -> f64 {
        self.y0 + f64::from(r) * self.h
    }
}

fn clamp_cell(v: f64, n: u32) -> u32 {
    if v <= 0.0 {
        0
    } else if v >= f64::from(n - 1) {
        n - 1
    } else {
        v as u32
    }
}

impl Raster {
    /// Builds the raster of `areas` (positions are input order), sized by [`RasterConfig::fit`]
    /// unless `config` is given. Parts are rasterised in
    /// parallel; the merge applies the border rule (first area in input order wins).
    ///
    /// # Panics
    /// When there are `2^31` areas or more.
    #[must_use]
    pub fn new(areas: &[MultiPolygon<f64>], config: Option<RasterConfig>) -> Self {
        assert!(areas.len() < FLAG as usize, "too many areas for the raster");
        let (mut lo, mut hi) = (
            Coord {
                x: f64::INFINITY,
                y: f64::INFINITY,
            },
            Coord {
                x: f64::NEG_INFINITY,
                y: f64::NEG_INFINITY,
            },
        );
        for c in areas
            .iter()
            .flat_map(|a| a.0.iter())
            .flat_map(rings)
            .flat_map(|r| r.0.iter())
        {
            lo = Coord {
                x: lo.x.min(c.x),
                y: lo.y.min(c.y),
            };
            hi = Coord {
                x: hi.x.max(c.x),
                y: hi.y.max(c.y),
            };
        }
        if !lo.x.is_finite() {
            (lo, hi) = (Coord { x: 0.0, y: 0.0 }, Coord { x: 0.0, y: 0.0 });
        }
        let config = config.unwrap_or_else(|| RasterConfig::fit(hi.x - lo.x, hi.y - lo.y));
        let shift = config.shift;
        let side = 1_u32 << shift;
        let coarse_deg = config.coarse_deg;
        let h = coarse_deg / f64::from(side);
        // One fine cell of margin on every side: points beyond the grid are in no area.
        let (x0, y0) = (lo.x - h, lo.y - h);
        let gx = (((hi.x + h - x0) / coarse_deg).floor() as u32 + 1).max(1);
        let gy = (((hi.y + h - y0) / coarse_deg).floor() as u32 + 1).max(1);
        let grid = Grid {
            x0,
            y0,
            h,
            inv: 1.0 / h,
            nx: gx << shift,
            ny: gy << shift,
            shift,
        };

        let parts: Vec<(u32, &Polygon<f64>)> = areas
            .iter()
            .enumerate()
            .flat_map(|(a, mp)| mp.0.iter().map(move |p| (a as u32, p)))
            .collect();
        let mut cells: Vec<(u32, u32, CellState)> = parts
            .par_iter()
            .flat_map_iter(|&(a, p)| {
                rasterise(p, &grid, gx)
                    .into_iter()
                    .map(move |(c, s)| (c, a, s))
            })
            .collect();
        cells.par_sort_unstable_by_key(|(c, a, _)| (*c, *a));

        // Merge coarse cells in parallel batches, then stitch the batches' blocks and lists.
        let mut groups: Vec<&mut [(u32, u32, CellState)]> =
            cells.chunk_by_mut(|p, q| p.0 == q.0).collect();
        let batches: Vec<Batch> = groups
            .par_chunks_mut(4_096)
            .map(|groups| {
                let mut batch = Batch::default();
                for group in groups.iter_mut() {
                    let value = batch.merge_cell(group, side);
                    batch.coarse.push((group[0].0, value));
                }
                batch
            })
            .collect();
        let mut raster = Self {
            x0,
            y0,
            inv: grid.inv,
            nx: grid.nx,
            ny: grid.ny,
            gx,
            shift,
            coarse: vec![NONE; gx as usize * gy as usize],
            fine: Vec::new(),
            lists: Vec::new(),
        };
        let n = 1_usize << (2 * shift);
        for batch in batches {
            let blocks = u32::try_from(raster.fine.len() / n).expect("fine blocks fit u32");
            let lists = u32::try_from(raster.lists.len()).expect("candidate lists fit u32");
            assert!(blocks < FLAG && lists < FLAG, "raster too large");
            let shifted = |v: u32, by: u32| {
                if v != NONE && v & FLAG != 0 {
                    v + by
                } else {
                    v
                }
            };
            for (c, v) in batch.coarse {
                raster.coarse[c as usize] = shifted(v, blocks);
            }
            raster
                .fine
                .extend(batch.fine.into_iter().map(|v| shifted(v, lists)));
            raster.lists.extend(batch.lists);
        }
        raster
    }

    /// Appends the grid and the tables to `out` (see [`crate::index_file`]).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        for v in [self.x0, self.y0, self.inv] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in [self.nx, self.ny, self.gx, self.shift] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for table in [&self.coarse, &self.fine, &self.lists] {
            out.extend_from_slice(
                &u32::try_from(table.len())
                    .expect("table fits u32")
                    .to_le_bytes(),
            );
            for v in table {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }

    /// Reads what [`Raster::encode`] wrote, for `areas` areas, and checks that every lookup
    /// stays inside the tables and names an area that exists.
    pub(crate) fn decode(
        r: &mut crate::index_file::Reader<'_>,
        areas: usize,
    ) -> Result<Self, String> {
        let bad = |what: &str| Err(format!("raster: {what}"));
        let (x0, y0, inv) = (r.f64()?, r.f64()?, r.f64()?);
        let (nx, ny, gx, shift) = (r.u32()?, r.u32()?, r.u32()?, r.u32()?);
        let (coarse, fine, lists) = (r.u32s()?, r.u32s()?, r.u32s()?);
        if !(x0.is_finite() && y0.is_finite() && inv.is_finite() && inv > 0.0) {
            return bad("the grid's origin or cell size is not a number");
        }
        if shift > 8 || nx == 0 || ny == 0 || gx == 0 {
            return bad("an empty grid or blocks too large");
        }
        let gy = coarse.len() / gx as usize;
        if coarse.len() % gx as usize != 0
            || ((nx - 1) >> shift) >= gx
            || ((ny - 1) >> shift) as usize >= gy
        {
            return bad("the coarse table does not fit the grid");
        }
        let block = 1_usize << (2 * shift);
        if fine.len() % block != 0 {
            return bad("the fine table is not whole blocks");
        }
        let area = |v: u32| (v as usize) < areas;
        for &c in &coarse {
            if c != NONE
                && (if c & FLAG == 0 {
                    !area(c)
                } else {
                    ((c & !FLAG) as usize + 1) * block > fine.len()
                })
            {
                return bad("a coarse cell points beyond the areas or the fine table");
            }
        }
        for &v in &fine {
            if v == NONE {
                continue;
            }
            if v & FLAG == 0 {
                if !area(v) {
                    return bad("a fine cell names an area that does not exist");
                }
                continue;
            }
            let at = (v & !FLAG) as usize;
            let Some(&len) = lists.get(at) else {
                return bad("a fine cell points beyond the candidate lists");
            };
            let Some(entries) = lists.get(at + 1..at + 1 + len as usize) else {
                return bad("a candidate list runs beyond its table");
            };
            if entries.iter().any(|&e| !area(e & !HOLDS)) {
                return bad("a candidate names an area that does not exist");
            }
        }
        Ok(Self {
            x0,
            y0,
            inv,
            nx,
            ny,
            gx,
            shift,
            coarse,
            fine,
            lists,
        })
    }

    /// Where (x, y) is, as far as the raster knows. NaN and points beyond the grid are outside.
    #[inline]
    #[must_use]
    pub fn lookup(&self, x: f64, y: f64) -> Hit<'_> {
        let fx = (x - self.x0) * self.inv;
        let fy = (y - self.y0) * self.inv;
        if !(fx >= 0.0 && fy >= 0.0 && fx < f64::from(self.nx) && fy < f64::from(self.ny)) {
            return Hit::Outside;
        }
        let (ix, iy) = (fx as u32, fy as u32);
        let s = self.shift;
        let c = self.coarse[((iy >> s) * self.gx + (ix >> s)) as usize];
        let v = if c == NONE || c & FLAG == 0 {
            c
        } else {
            let m = (1 << s) - 1;
            let block = ((c & !FLAG) as usize) << (2 * s);
            self.fine[block + (((iy & m) << s) | (ix & m)) as usize]
        };
        self.hit(v)
    }

    /// The stored values of up to [`BATCH`] points: every coarse load is issued before any fine
    /// load, so the cache misses of a batch overlap. Decode each with [`Raster::hit`].
    #[inline]
    pub fn lookup_batch(&self, xs: &[f64], ys: &[f64], out: &mut [u32; BATCH]) {
        let n = xs.len().min(ys.len()).min(BATCH);
        let s = self.shift;
        let m = (1 << s) - 1;
        let mut coarse = [u32::MAX; BATCH];
        let mut local = [0_u32; BATCH];
        for i in 0..n {
            let fx = (xs[i] - self.x0) * self.inv;
            let fy = (ys[i] - self.y0) * self.inv;
            if fx >= 0.0 && fy >= 0.0 && fx < f64::from(self.nx) && fy < f64::from(self.ny) {
                let (ix, iy) = (fx as u32, fy as u32);
                coarse[i] = (iy >> s) * self.gx + (ix >> s);
                local[i] = ((iy & m) << s) | (ix & m);
            }
        }
        for i in 0..n {
            out[i] = if coarse[i] == u32::MAX {
                NONE
            } else {
                self.coarse[coarse[i] as usize]
            };
        }
        for i in 0..n {
            let c = out[i];
            if c != NONE && c & FLAG != 0 {
                out[i] = self.fine[(((c & !FLAG) as usize) << (2 * s)) + local[i] as usize];
            }
        }
    }

    /// What a stored value from [`Raster::lookup_batch`] says.
    #[inline]
    #[must_use]
    pub fn hit(&self, v: u32) -> Hit<'_> {
        if v == NONE {
            Hit::Outside
        } else if v & FLAG == 0 {
            Hit::Area(v)
        } else {
            let at = (v & !FLAG) as usize;
            let len = self.lists[at] as usize;
            Hit::Candidates(&self.lists[at + 1..at + 1 + len])
        }
    }

    /// Coarse cells, fine blocks, candidate-list entries: for logs and benchmarks.
    #[must_use]
    pub fn shape(&self) -> (usize, usize, usize) {
        (
            self.coarse.len(),
            self.fine.len() >> (2 * self.shift),
            self.lists.len(),
        )
    }

    /// The south-west corner of the grid: fine cell (i, j) spans `origin + (i, j) × side`.
    #[must_use]
    pub fn origin(&self) -> (f64, f64) {
        (self.x0, self.y0)
    }

    /// Fine cell side in degrees.
    #[must_use]
    pub fn fine_cell_deg(&self) -> f64 {
        1.0 / self.inv
    }
}

/// One parallel batch of merged coarse cells: values, fine blocks and candidate lists numbered
/// from zero (the stitch in [`Raster::new`] shifts them).
#[derive(Default)]
struct Batch {
    coarse: Vec<(u32, u32)>,
    fine: Vec<u32>,
    lists: Vec<u32>,
    interned: FxHashMap<Vec<u32>, u32>,
}

impl Batch {
    /// The stored coarse value for one coarse cell from its areas' states (sorted by area).
    fn merge_cell(&mut self, cells: &mut [(u32, u32, CellState)], side: u32) -> u32 {
        // Combine the parts of each area: holding the cell (or a fine cell) wins over touching.
        let mut areas: Vec<(u32, CellState)> = Vec::new();
        for (_, a, s) in cells.iter_mut() {
            let s = std::mem::replace(s, CellState::Holds);
            match areas.last_mut() {
                Some((last, prev)) if *last == *a => {
                    let merged = match (std::mem::replace(prev, CellState::Holds), s) {
                        (CellState::Holds, _) | (_, CellState::Holds) => CellState::Holds,
                        (CellState::Block(mut x), CellState::Block(y)) => {
                            for (u, v) in x.iter_mut().zip(y.iter()) {
                                *u = if *u == IN || *v == IN {
                                    IN
                                } else {
                                    (*u).max(*v)
                                };
                            }
                            CellState::Block(x)
                        }
                    };
                    *prev = merged;
                }
                _ => areas.push((*a, s)),
            }
        }
        if let Some((a, CellState::Holds)) = areas.first() {
            return *a;
        }
        let n = (side * side) as usize;
        let mut block = Vec::with_capacity(n);
        let mut list = Vec::new();
        for f in 0..n {
            list.clear();
            let mut value = NONE;
            for (a, s) in &areas {
                let state = match s {
                    CellState::Holds => IN,
                    CellState::Block(b) => b[f],
                };
                match state {
                    OUT => {}
                    IN if list.is_empty() => {
                        value = *a;
                        break;
                    }
                    IN => {
                        list.push(a | HOLDS);
                        break;
                    }
                    _ => list.push(*a),
                }
            }
            if !list.is_empty() {
                value = self.intern(&list);
            }
            block.push(value);
        }
        if block.iter().all(|v| *v == block[0]) && block[0] & FLAG == 0 {
            return block[0];
        }
        let at = (self.fine.len() / n) as u32;
        self.fine.extend_from_slice(&block);
        FLAG | at
    }

    /// The value pointing at `list` in this batch's lists, storing the list once.
    fn intern(&mut self, list: &[u32]) -> u32 {
        if let Some(&v) = self.interned.get(list) {
            return v;
        }
        let v = FLAG | self.lists.len() as u32;
        self.lists.push(list.len() as u32);
        self.lists.extend_from_slice(list);
        self.interned.insert(list.to_vec(), v);
        v
    }
}

fn rings(p: &Polygon<f64>) -> impl Iterator<Item = &geo::LineString<f64>> {
    std::iter::once(p.exterior()).chain(p.interiors())
}

/// One part's states per coarse cell: the cells it holds wholly, and a fine block for each cell
/// its boundary touches. Coarse cells it does not reach are absent.
fn rasterise(polygon: &Polygon<f64>, g: &Grid, gx: u32) -> Vec<(u32, CellState)> {
    let edges: Vec<(Coord<f64>, Coord<f64>)> = rings(polygon)
        .flat_map(|r| r.lines().map(|l| (l.start, l.end)))
        .filter(|(a, b)| a != b)
        .collect();
    if edges.is_empty() {
        return Vec::new();
    }
    let s = g.shift;
    let side = 1_u32 << s;

    // Fine cells touched by an edge (within EPS), keyed (coarse cell << 16 | fine cell in block).
    let mut touched: Vec<u64> = Vec::new();
    // Crossings of fine-row centre lines: (row, x).
    let mut crossings: Vec<(u32, f64)> = Vec::new();
    let (mut r_lo, mut r_hi, mut c_lo, mut c_hi) = (u32::MAX, 0, u32::MAX, 0);
    let m = side - 1;
    for &(a, b) in &edges {
        let (ylo, yhi) = (a.y.min(b.y), a.y.max(b.y));
        let (first, last) = (g.row(ylo - EPS), g.row(yhi + EPS));
        r_lo = r_lo.min(first);
        r_hi = r_hi.max(last);
        for r in first..=last {
            // The part of the edge within the row's band widened by EPS, as an x-interval.
            let band_lo = (g.row_bottom(r) - EPS).max(ylo);
            let band_hi = (g.row_bottom(r + 1) + EPS).min(yhi);
            let (xa, xb) = if a.y == b.y {
                (a.x, b.x)
            } else {
                let at = |y: f64| a.x + (b.x - a.x) * ((y - a.y) / (b.y - a.y)).clamp(0.0, 1.0);
                (at(band_lo), at(band_hi))
            };
            let (c0, c1) = (g.col(xa.min(xb) - EPS), g.col(xa.max(xb) + EPS));
            c_lo = c_lo.min(c0);
            c_hi = c_hi.max(c1);
            for c in c0..=c1 {
                let cell = u64::from(((r >> s) * gx) + (c >> s));
                touched.push(cell << 16 | u64::from(((r & m) << s) | (c & m)));
            }
            if a.y != b.y {
                let yc = g.row_centre(r);
                if (a.y > yc) != (b.y > yc) {
                    crossings.push((r, a.x + (yc - a.y) * (b.x - a.x) / (b.y - a.y)));
                }
            }
        }
    }
    touched.sort_unstable();
    touched.dedup();
    crossings.sort_unstable_by(|p, q| p.0.cmp(&q.0).then(p.1.total_cmp(&q.1)));
    // starts[r - r_lo]..starts[r - r_lo + 1]: the crossings of row r, sorted by x.
    let mut starts = vec![0_usize; (r_hi - r_lo + 2) as usize];
    for &(r, _) in &crossings {
        starts[(r - r_lo + 1) as usize] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let row_crossings = |r: u32| -> &[(u32, f64)] {
        if r < r_lo || r > r_hi {
            return &[];
        }
        let i = (r - r_lo) as usize;
        &crossings[starts[i]..starts[i + 1]]
    };

    let mut out: Vec<(u32, CellState)> = Vec::new();
    // Touched coarse cells: one fine block each.
    let mut i = 0;
    while i < touched.len() {
        let cell = (touched[i] >> 16) as u32;
        let mut j = i;
        let mut block = vec![OUT; (side * side) as usize].into_boxed_slice();
        let (cr, cc) = (cell / gx, cell % gx);
        while j < touched.len() && (touched[j] >> 16) as u32 == cell {
            block[(touched[j] & 0xffff) as usize] = EDGE;
            j += 1;
        }
        for fr in 0..side {
            let r = (cr << s) + fr;
            let xs = row_crossings(r);
            let left = g.col_centre(cc << s);
            let mut k = xs.partition_point(|c| c.1 < left);
            let mut inside = k % 2 == 1;
            for fc in 0..side {
                let xc = g.col_centre((cc << s) + fc);
                while k < xs.len() && xs[k].1 < xc {
                    inside = !inside;
                    k += 1;
                }
                let slot = &mut block[((fr << s) | fc) as usize];
                if *slot != EDGE && inside {
                    *slot = IN;
                }
            }
        }
        out.push((cell, CellState::Block(block)));
        i = j;
    }
    // Untouched coarse cells within the part's box: held wholly when their centre is inside.
    let touched_cells: Vec<u32> = {
        let mut v: Vec<u32> = out.iter().map(|(c, _)| *c).collect();
        v.sort_unstable();
        v
    };
    for cr in (r_lo >> s)..=(r_hi >> s) {
        let r = (cr << s) + side / 2;
        let xs = row_crossings(r);
        let mut k = 0;
        let mut inside = false;
        for cc in (c_lo >> s)..=(c_hi >> s) {
            let xc = g.col_centre((cc << s) + side / 2);
            while k < xs.len() && xs[k].1 < xc {
                inside = !inside;
                k += 1;
            }
            let cell = cr * gx + cc;
            if inside && touched_cells.binary_search(&cell).is_err() {
                out.push((cell, CellState::Holds));
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use geo::polygon;

    use super::*;

    /// Two unit squares sharing the edge x = 1, the second with a hole (also used by `join`).
    pub(crate) fn squares() -> Vec<MultiPolygon<f64>> {
        vec![
            MultiPolygon(vec![
                polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.), (x: 0., y: 0.)],
            ]),
            MultiPolygon(vec![polygon!(
                exterior: [(x: 1., y: 0.), (x: 2., y: 0.), (x: 2., y: 1.), (x: 1., y: 1.), (x: 1., y: 0.)],
                interiors: [[(x: 1.4, y: 0.4), (x: 1.6, y: 0.4), (x: 1.6, y: 0.6), (x: 1.4, y: 0.6), (x: 1.4, y: 0.4)]],
            )]),
        ]
    }

    #[test]
    fn resolves_interiors_and_lists_border_candidates() {
        let r = Raster::new(
            &squares(),
            Some(RasterConfig {
                coarse_deg: 0.25,
                shift: 2,
            }),
        );
        assert_eq!(r.lookup(0.5, 0.5), Hit::Area(0));
        assert_eq!(r.lookup(1.8, 0.2), Hit::Area(1));
        assert_eq!(r.lookup(1.5, 0.5), Hit::Outside, "in the hole");
        assert_eq!(r.lookup(5.0, 5.0), Hit::Outside);
        assert_eq!(r.lookup(f64::NAN, 0.5), Hit::Outside);
        // On the shared edge x = 1 both squares are candidates, A first.
        assert_eq!(r.lookup(1.0, 0.5), Hit::Candidates(&[0, 1]));
        // On the hole's edge only B is.
        assert_eq!(r.lookup(1.4, 0.5), Hit::Candidates(&[1]));
    }

    #[test]
    fn a_cell_held_by_an_earlier_overlapping_area_needs_no_test() {
        // A (first) covers B's boundary entirely: every point of B is A's.
        let big = MultiPolygon(vec![
            polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.), (x: 0., y: 0.)],
        ]);
        let small = MultiPolygon(vec![
            polygon![(x: 1., y: 1.), (x: 2., y: 1.), (x: 2., y: 2.), (x: 1., y: 2.), (x: 1., y: 1.)],
        ]);
        let r = Raster::new(
            &[big.clone(), small.clone()],
            Some(RasterConfig {
                coarse_deg: 0.5,
                shift: 2,
            }),
        );
        assert_eq!(r.lookup(1.0, 1.5), Hit::Area(0));
        // Only A's own boundary is refined: the 9 × 4 − 4 coarse cells around the big square.
        assert_eq!(r.shape().1, 32);
        // In the other order, B's border cells list B then A (which holds them).
        let r = Raster::new(
            &[small, big],
            Some(RasterConfig {
                coarse_deg: 0.5,
                shift: 2,
            }),
        );
        assert_eq!(r.lookup(1.0, 1.5), Hit::Candidates(&[0, 1 | HOLDS]));
        assert_eq!(r.lookup(1.5, 1.5), Hit::Area(0));
    }
}
