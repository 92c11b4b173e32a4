//! Criterion benchmarks: the join with and without the raster against brute force on the real
//! 36 wards, the join kernel on clustered points, the index build, H3 assignment (fast path
//! and h3o alone) by resolution, and the planner. Each asserts its answer before timing.
//!
//! Run: `cargo bench --bench join`. Throughput is reported in points per second.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use geo::BoundingRect;
use h3o::Resolution;
use phuso::AreaIndex;
use phuso::bench::clustered_points;
use phuso::hex::visit_counts;
use phuso::hexfast::{cells, cells_h3o};
use phuso::ingest::boundaries::{BoundaryFields, read_boundaries};
use phuso::join::{assign, brute_force, count_points};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn points(n: usize, bbox: geo::Rect<f64>) -> (Vec<f64>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    (0..n)
        .map(|_| {
            (
                rng.random_range(bbox.min().x..bbox.max().x),
                rng.random_range(bbox.min().y..bbox.max().y),
            )
        })
        .unzip()
}

fn join(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/wards_2025.geojson");
    let areas: Vec<_> = read_boundaries(&path, &BoundaryFields::default())
        .unwrap()
        .into_iter()
        .map(|f| f.geometry)
        .collect();
    let bbox = geo::MultiPolygon(areas.iter().flat_map(|a| a.0.clone()).collect())
        .bounding_rect()
        .unwrap();
    let raster = AreaIndex::new(areas.clone());
    let rtree = AreaIndex::with_raster(areas.clone(), None);
    let (lon, lat) = points(20_000, bbox);
    let want = brute_force(&areas, &lon, &lat);
    assert_eq!(assign(&raster, &lon, &lat), want);
    assert_eq!(assign(&rtree, &lon, &lat), want);

    // Uniform points over the box: the raster's worst case (many near borders of big wards).
    let mut g = c.benchmark_group("join_36_wards_uniform");
    g.throughput(Throughput::Elements(lon.len() as u64));
    g.sample_size(10);
    g.bench_function("raster", |b| {
        b.iter(|| assign(black_box(&raster), black_box(&lon), black_box(&lat)))
    });
    g.bench_function("rtree_only", |b| {
        b.iter(|| assign(black_box(&rtree), black_box(&lon), black_box(&lat)))
    });
    g.bench_function("brute_force", |b| {
        b.iter(|| {
            brute_force(
                black_box(&areas),
                black_box(&lon[..2_000]),
                black_box(&lat[..2_000]),
            )
        })
    });
    g.finish();

    // The kernel alone on 2M clustered points: coordinates in memory → counts per area.
    let (lon, lat) = clustered_points(&areas, 2_000_000, 42);
    let k = 200_000;
    assert_eq!(
        count_points(&raster, &lon[..k], &lat[..k]),
        count_points(&rtree, &lon[..k], &lat[..k])
    );
    let mut g = c.benchmark_group("join_kernel_36_wards_clustered");
    g.throughput(Throughput::Elements(lon.len() as u64));
    g.sample_size(10);
    g.bench_function("raster_count", |b| {
        b.iter(|| count_points(black_box(&raster), black_box(&lon), black_box(&lat)))
    });
    g.finish();

    let mut g = c.benchmark_group("index_build_36_wards");
    g.sample_size(10);
    g.bench_function("rtree_and_raster", |b| {
        b.iter(|| AreaIndex::new(black_box(areas.clone())))
    });
    g.bench_function("rtree_only", |b| {
        b.iter(|| AreaIndex::with_raster(black_box(areas.clone()), None))
    });
    g.finish();

    let (lon, lat) = (&lon[..1_000_000], &lat[..1_000_000]);
    let mut g = c.benchmark_group("h3_cells_clustered");
    g.throughput(Throughput::Elements(lon.len() as u64));
    g.sample_size(10);
    for res in [Resolution::Eight, Resolution::Nine] {
        assert_eq!(cells(lon, lat, res), cells_h3o(lon, lat, res));
        let r = u8::from(res);
        g.bench_function(format!("fast_res{r}"), |b| {
            b.iter(|| cells(black_box(lon), black_box(lat), res))
        });
        g.bench_function(format!("h3o_res{r}"), |b| {
            b.iter(|| cells_h3o(black_box(lon), black_box(lat), res))
        });
    }
    g.finish();

    let households: Vec<u64> = (0..lon.len() as u64).map(|i| i / 3).collect();
    let mut g = c.benchmark_group("h3_visit_counts");
    g.throughput(Throughput::Elements(lon.len() as u64));
    g.sample_size(10);
    let counts = visit_counts(lon, lat, &households, Resolution::Eight);
    assert_eq!(counts.values().map(|c| c.0).sum::<u64>(), lon.len() as u64);
    g.bench_function("res8", |b| {
        b.iter(|| {
            visit_counts(
                black_box(lon),
                black_box(lat),
                black_box(&households),
                Resolution::Eight,
            )
        })
    });
    g.finish();
}

/// The planner at national scale: 3,321 wards × 10 neighbourhoods, up to 10,000 volunteers.
fn plan(c: &mut Criterion) {
    use phuso::plan::{PlanArea, allocate};
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let areas: Vec<PlanArea> = (0..33_210)
        .map(|_| PlanArea {
            remaining: rng.random_range(0..2_000_u64),
            rate: rng.random_range(1.0..12.0),
            members: rng.random_range(0..12),
            below_norm: rng.random_bool(0.9),
            density: rng.random_range(50.0..20_000.0),
        })
        .collect();
    let mut g = c.benchmark_group("plan_national_33210_areas");
    g.sample_size(10);
    for volunteers in [200_u64, 10_000] {
        let a = allocate(&areas, volunteers / 2, 0, 2);
        assert_eq!(a.added.iter().sum::<u64>(), volunteers);
        assert!(a.max_days_after <= a.max_days_before);
        g.bench_function(format!("k{volunteers}"), |b| {
            b.iter(|| allocate(black_box(&areas), volunteers / 2, 0, 2))
        });
    }
    g.bench_function("k10000_moves100", |b| {
        b.iter(|| allocate(black_box(&areas), 5_000, 100, 2))
    });
    g.finish();
}

criterion_group!(benches, join, plan);
criterion_main!(benches);
