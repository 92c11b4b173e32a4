//! Criterion benchmarks: the indexed join against brute force on the real 36 wards, and H3
//! assignment by resolution. Each asserts its answer inside the timing loop's setup.
//!
//! Run: `cargo bench --bench join`. Throughput is reported in points per second.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use geo::BoundingRect;
use h3o::Resolution;
use phuso::AreaIndex;
use phuso::hex::visit_counts;
use phuso::ingest::boundaries::{BoundaryFields, read_boundaries};
use phuso::join::{assign, brute_force};
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
    let index = AreaIndex::new(areas.clone());
    let (lon, lat) = points(20_000, bbox);
    assert_eq!(assign(&index, &lon, &lat), brute_force(&areas, &lon, &lat));

    let mut g = c.benchmark_group("join_36_wards");
    g.throughput(Throughput::Elements(lon.len() as u64));
    g.sample_size(10);
    g.bench_function("indexed", |b| {
        b.iter(|| assign(black_box(&index), black_box(&lon), black_box(&lat)))
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

    let (lon, lat) = points(200_000, bbox);
    let households: Vec<u64> = (0..lon.len() as u64).collect();
    let mut g = c.benchmark_group("h3_cells");
    g.throughput(Throughput::Elements(lon.len() as u64));
    g.sample_size(10);
    for res in [Resolution::Eight, Resolution::Nine] {
        let counts = visit_counts(&lon, &lat, &households, res);
        assert_eq!(counts.values().map(|c| c.0).sum::<u64>(), lon.len() as u64);
        g.bench_function(format!("res{}", u8::from(res)), |b| {
            b.iter(|| {
                visit_counts(
                    black_box(&lon),
                    black_box(&lat),
                    black_box(&households),
                    res,
                )
            })
        });
    }
    g.finish();
}

/// The planner at national scale: 3,321 wards × 10 neighbourhoods, up to 10,000 volunteers.
fn plan(c: &mut Criterion) {
    use phuso::plan::{PlanArea, allocate};
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let areas: Vec<PlanArea> = (0..33_210)
        .map(|_| PlanArea {
            remaining: f64::from(rng.random_range(0..2_000_u32)),
            rate: rng.random_range(1.0..12.0),
            members: rng.random_range(0..12),
            below_norm: rng.random_bool(0.9),
            density: rng.random_range(50.0..20_000.0),
        })
        .collect();
    let mut g = c.benchmark_group("plan_national_33210_areas");
    g.sample_size(10);
    for volunteers in [200_u64, 10_000] {
        let a = allocate(&areas, volunteers / 2, 0);
        assert_eq!(a.added.iter().sum::<u64>(), volunteers);
        assert!(a.max_days_after <= a.max_days_before);
        g.bench_function(format!("k{volunteers}"), |b| {
            b.iter(|| allocate(black_box(&areas), volunteers / 2, 0))
        });
    }
    g.bench_function("k10000_moves100", |b| {
        b.iter(|| allocate(black_box(&areas), 5_000, 100))
    });
    g.finish();
}

criterion_group!(benches, join, plan);
criterion_main!(benches);
