//! `phuso bench`: reproducible throughput numbers for the join and H3 kernels on points
//! generated in memory (or read from a file), each checked against the slow exact path.
//!
//! Every result is one JSON object: task, points, seconds, points per second, the process's
//! peak resident memory so far, and whether the answer equalled the reference.

use std::time::Instant;

use geo::{BoundingRect, MultiPolygon};
use h3o::Resolution;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::Serialize;

use crate::hexfast;
use crate::index::AreaIndex;
use crate::join::{assign, count_points};

/// One measurement.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// What ran: `index`, `join`, `join_rtree_only`, `h3_resN`, `h3o_resN`.
    pub task: String,
    /// Points processed (areas indexed for `index`).
    pub points: usize,
    /// Wall seconds.
    pub seconds: f64,
    /// Points per second (0 for `index`).
    pub points_per_s: f64,
    /// Peak resident memory of the process so far (MiB; Linux `VmHWM`, 0 elsewhere).
    pub peak_rss_mib: f64,
    /// True when the answer equalled the reference (the R-tree path on a sample for the join,
    /// h3o for every point for H3); `None` when there is nothing to compare.
    pub equal_to_reference: Option<bool>,
}

/// Peak resident set size of this process in MiB (Linux), 0 where unknown.
#[must_use]
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// `n` points in clusters (σ ≈ 1 km) around 400 centres inside the areas' box, plus 2 %
/// spread uniformly: like household visits, dense in towns. Same seed, same points.
#[must_use]
pub fn clustered_points(areas: &[MultiPolygon<f64>], n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let bbox = MultiPolygon(areas.iter().flat_map(|a| a.0.iter().cloned()).collect())
        .bounding_rect()
        .expect("areas are not empty");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let index = AreaIndex::with_raster(areas.to_vec(), None);
    let mut centres = Vec::new();
    while centres.len() < 400 {
        let (x, y) = (
            rng.random_range(bbox.min().x..=bbox.max().x),
            rng.random_range(bbox.min().y..=bbox.max().y),
        );
        if crate::join::locate(&index, x, y) != crate::join::OUTSIDE {
            centres.push((x, y));
        }
    }
    let spread = Normal::new(0.0, 0.01).expect("valid σ");
    (0..n)
        .map(|_| {
            if rng.random_bool(0.02) {
                (
                    rng.random_range(bbox.min().x..=bbox.max().x),
                    rng.random_range(bbox.min().y..=bbox.max().y),
                )
            } else {
                let (x, y) = centres[rng.random_range(0..centres.len())];
                (x + spread.sample(&mut rng), y + spread.sample(&mut rng))
            }
        })
        .unzip()
}

fn measure<T>(task: &str, points: usize, f: impl FnOnce() -> T) -> (T, Measurement) {
    let t = Instant::now();
    let out = f();
    let seconds = t.elapsed().as_secs_f64();
    (
        out,
        Measurement {
            task: task.to_owned(),
            points,
            seconds,
            points_per_s: if points == 0 {
                0.0
            } else {
                points as f64 / seconds
            },
            peak_rss_mib: peak_rss_mib(),
            equal_to_reference: None,
        },
    )
}

/// Runs the join kernel (index build, raster join, and the R-tree-only join on a sample) and
/// the H3 kernel at each resolution (fast path and h3o alone, compared point by point).
#[must_use]
pub fn run(
    areas: Vec<MultiPolygon<f64>>,
    lon: &[f64],
    lat: &[f64],
    resolutions: &[Resolution],
) -> Vec<Measurement> {
    let n = lon.len();
    let mut out = Vec::new();
    let plain = AreaIndex::with_raster(areas.clone(), None);
    let m = areas.len();
    let (index, mut built) = measure("index", 0, || AreaIndex::new(areas));
    built.points = m;
    out.push(built);
    let (counts, mut join) = measure("join", n, || count_points(&index, lon, lat));
    // Reference: the R-tree path on the first 1M points (it runs at ≈3M points/s).
    let k = n.min(1_000_000);
    let (reference, mut slow) = measure("join_rtree_only", k, || {
        assign(&plain, &lon[..k], &lat[..k])
    });
    let sample = count_points(&index, &lon[..k], &lat[..k]);
    let want = crate::join::count(&reference, m);
    let equal = sample.per_area == want.0 && sample.outside == want.1 - sample.invalid;
    join.equal_to_reference = Some(equal);
    slow.equal_to_reference = Some(equal);
    debug_assert_eq!(
        counts.per_area.iter().sum::<u64>() + counts.outside + counts.invalid,
        n as u64
    );
    out.push(join);
    out.push(slow);
    for &res in resolutions {
        let r = u8::from(res);
        let (fast, mut a) = measure(&format!("h3_res{r}"), n, || hexfast::cells(lon, lat, res));
        let (exact, mut b) = measure(&format!("h3o_res{r}"), n, || {
            hexfast::cells_h3o(lon, lat, res)
        });
        let equal = fast == exact;
        a.equal_to_reference = Some(equal);
        b.equal_to_reference = Some(equal);
        out.push(a);
        out.push(b);
    }
    out
}
