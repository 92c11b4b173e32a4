//! The indexed join against the brute-force oracle and against an independent ray-casting
//! implementation, on fixtures and on the real 36-ward and 3,321-ward boundary files.

use geo::{BoundingRect, Coord, Distance, Euclidean, LineString, MultiPolygon, Point};
use phuso::AreaIndex;
use phuso::ingest::boundaries::{BoundaryFields, read_boundaries};
use phuso::join::{OUTSIDE, assign, brute_force, count};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{bundled, fixture};

/// Independent point-in-polygon: even–odd ray casting over every ring (written here, shares no
/// code with geo). Boundary points may go either way; callers skip points near a border.
fn ray_cast(areas: &[MultiPolygon<f64>], x: f64, y: f64) -> u32 {
    for (i, mp) in areas.iter().enumerate() {
        let mut inside = false;
        for poly in &mp.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                let c = &ring.0;
                for k in 0..c.len().saturating_sub(1) {
                    let (a, b) = (c[k], c[k + 1]);
                    if (a.y > y) != (b.y > y) && x < a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y) {
                        inside = !inside;
                    }
                }
            }
        }
        if inside {
            return u32::try_from(i).unwrap();
        }
    }
    OUTSIDE
}

/// Distance in degrees from (x, y) to the nearest ring of any area whose box is near.
fn distance_to_border(areas: &[MultiPolygon<f64>], x: f64, y: f64) -> f64 {
    let p = Point::new(x, y);
    let mut best = f64::INFINITY;
    for mp in areas {
        let Some(r) = mp.bounding_rect() else {
            continue;
        };
        if x < r.min().x - 1e-3
            || x > r.max().x + 1e-3
            || y < r.min().y - 1e-3
            || y > r.max().y + 1e-3
        {
            continue;
        }
        for poly in &mp.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                best = best.min(Euclidean.distance(&p, ring as &LineString<f64>));
            }
        }
    }
    best
}

fn random_points(areas: &[MultiPolygon<f64>], n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rects: Vec<_> = areas
        .iter()
        .filter_map(BoundingRect::bounding_rect)
        .collect();
    let (mut lon, mut lat) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        // Half the points near a random area (dense near borders), half anywhere in the extent.
        let r = if i % 2 == 0 {
            rects[rng.random_range(0..rects.len())]
        } else {
            rects
                .iter()
                .copied()
                .reduce(|a, b| {
                    geo::Rect::new(
                        Coord {
                            x: a.min().x.min(b.min().x),
                            y: a.min().y.min(b.min().y),
                        },
                        Coord {
                            x: a.max().x.max(b.max().x),
                            y: a.max().y.max(b.max().y),
                        },
                    )
                })
                .unwrap()
        };
        lon.push(rng.random_range(r.min().x - 0.01..r.max().x + 0.01));
        lat.push(rng.random_range(r.min().y - 0.01..r.max().y + 0.01));
    }
    (lon, lat)
}

fn check_file(path: &std::path::Path, points: usize, seed: u64) {
    let areas: Vec<MultiPolygon<f64>> = read_boundaries(path, &BoundaryFields::default())
        .unwrap()
        .into_iter()
        .map(|f| f.geometry)
        .collect();
    let index = AreaIndex::new(areas.clone());
    let (lon, lat) = random_points(&areas, points, seed);
    let got = assign(&index, &lon, &lat);
    assert_eq!(
        got,
        brute_force(&areas, &lon, &lat),
        "indexed join differs from brute force on {}",
        path.display()
    );
    let mut compared = 0;
    for i in 0..lon.len() {
        // 1e-5° ≈ 1.1 m: further than that from every border, both implementations must agree.
        if distance_to_border(&areas, lon[i], lat[i]) > 1e-5 {
            compared += 1;
            assert_eq!(
                got[i],
                ray_cast(&areas, lon[i], lat[i]),
                "point {i} ({}, {}) on {}",
                lon[i],
                lat[i],
                path.display()
            );
        }
    }
    assert!(
        compared > points * 9 / 10,
        "only {compared} points compared"
    );
    // Each point is in at most one area, and counts add up.
    let (counts, outside) = count(&got, areas.len());
    assert_eq!(counts.iter().sum::<u64>() + outside, points as u64);
    assert!(outside > 0 && outside < points as u64);
}

#[test]
fn indexed_join_equals_oracles_on_the_36_real_wards() {
    check_file(&bundled().join("wards_2025.geojson"), 6_000, 36);
}

#[test]
fn indexed_join_equals_oracles_on_the_3321_national_wards() {
    check_file(
        &bundled().join("national/vietnam_wards_2025.geojson"),
        600,
        3_321,
    );
}

#[test]
fn fixture_with_holes_multipolygons_edges_and_vertices() {
    let areas: Vec<MultiPolygon<f64>> =
        read_boundaries(&fixture("join_cases.geojson"), &BoundaryFields::default())
            .unwrap()
            .into_iter()
            .map(|f| f.geometry)
            .collect();
    let index = AreaIndex::new(areas.clone());
    // (lon, lat, expected area position) — see the fixture's descriptions.
    let cases: [(f64, f64, u32); 11] = [
        (0.5, 0.5, 0),       // inside A
        (1.0, 0.5, 0),       // on the edge shared by A and B: first in input order
        (1.0, 1.0, 0),       // on the vertex shared by A and B
        (1.5, 0.5, OUTSIDE), // in B's hole
        (1.25, 0.5, 1),      // in B, beside the hole
        (1.4, 0.5, 1),       // on the hole's edge: the boundary belongs to B
        (5.5, 5.5, 2),       // in the second part of multipolygon C
        (3.5, 3.5, 2),       // in the first part of C
        (4.5, 4.5, OUTSIDE), // between C's parts
        (2.0, 0.0, 1),       // B's outer corner
        (-1.0, -1.0, OUTSIDE),
    ];
    let lon: Vec<f64> = cases.iter().map(|c| c.0).collect();
    let lat: Vec<f64> = cases.iter().map(|c| c.1).collect();
    let want: Vec<u32> = cases.iter().map(|c| c.2).collect();
    assert_eq!(assign(&index, &lon, &lat), want);
    assert_eq!(brute_force(&areas, &lon, &lat), want);
}

#[test]
fn national_file_loads_with_only_zero_area_slivers_left_out() {
    // 09676 Xã Bất Bạt carries degenerate parts (a ring [a, a, b, a]) from simplification.
    let features = read_boundaries(
        &bundled().join("national/vietnam_wards_2025.geojson"),
        &BoundaryFields::default(),
    )
    .unwrap();
    assert_eq!(features.len(), 3_321);
}

/// Points where a raster is most likely to go wrong: every vertex, edge midpoints, points a
/// hair (1e-10°, well inside the raster's 1e-9° margin) and a little (1e-7°) off the boundary.
fn hard_points(areas: &[MultiPolygon<f64>], every: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut lon, mut lat) = (Vec::new(), Vec::new());
    for mp in areas {
        for poly in &mp.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for (k, l) in ring.lines().enumerate().filter(|(k, _)| k % every == 0) {
                    let mid = (l.start + l.end) / 2.0;
                    let d = if k % 2 == 0 { 1e-10 } else { 1e-7 };
                    for (x, y) in [
                        (l.start.x, l.start.y),
                        (mid.x, mid.y),
                        (
                            mid.x + rng.random_range(-d..d),
                            mid.y + rng.random_range(-d..d),
                        ),
                    ] {
                        lon.push(x);
                        lat.push(y);
                    }
                }
            }
        }
    }
    (lon, lat)
}

/// The 36 bundled wards, in file order.
fn bundled_wards() -> Vec<MultiPolygon<f64>> {
    read_boundaries(
        &bundled().join("wards_2025.geojson"),
        &BoundaryFields::default(),
    )
    .unwrap()
    .into_iter()
    .map(|f| f.geometry)
    .collect()
}

#[test]
fn raster_join_equals_the_oracle_on_boundaries_at_every_resolution() {
    use phuso::raster::RasterConfig;
    let areas = bundled_wards();
    let (mut lon, mut lat) = hard_points(&areas, 7, 1);
    let (rl, ra) = random_points(&areas, 20_000, 2);
    lon.extend(rl);
    lat.extend(ra);
    // Points exactly on cell lines and corners of the fitted raster.
    let fitted = AreaIndex::new(areas.clone());
    let (x0, y0) = fitted.raster().unwrap().origin();
    let h = fitted.raster().unwrap().fine_cell_deg();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for k in 0..lon.len() / 4 {
        let (x, y) = (lon[k], lat[k]);
        let (i, j) = (((x - x0) / h).round(), ((y - y0) / h).round());
        lon.push(x0 + i * h);
        lat.push(if rng.random_bool(0.5) { y0 + j * h } else { y });
    }
    let plain = AreaIndex::with_raster(areas.clone(), None);
    let want = assign(&plain, &lon, &lat);
    let sample: Vec<usize> = (0..lon.len()).step_by(25).collect();
    let (sl, sa): (Vec<f64>, Vec<f64>) = sample.iter().map(|&i| (lon[i], lat[i])).unzip();
    assert_eq!(
        sample.iter().map(|&i| want[i]).collect::<Vec<_>>(),
        brute_force(&areas, &sl, &sa),
        "R-tree path differs from brute force"
    );
    let on_boundary = want.iter().filter(|a| **a != OUTSIDE).count();
    assert!(
        on_boundary > lon.len() / 2,
        "{on_boundary} of {}",
        lon.len()
    );
    for config in [
        None,
        Some(RasterConfig {
            coarse_deg: 0.01,
            shift: 2,
        }),
        Some(RasterConfig {
            coarse_deg: 0.002,
            shift: 5,
        }),
        Some(RasterConfig {
            coarse_deg: 0.5,
            shift: 0,
        }),
    ] {
        let index = AreaIndex::with_raster(areas.clone(), Some(config));
        assert!(index.raster().is_some());
        let got = assign(&index, &lon, &lat);
        let wrong = (0..lon.len()).filter(|&i| got[i] != want[i]).count();
        assert_eq!(
            wrong,
            0,
            "{config:?}: {wrong} of {} points differ",
            lon.len()
        );
    }
}

#[test]
fn raster_resolves_most_points_without_a_polygon_test() {
    use phuso::raster::Hit;
    let areas = bundled_wards();
    let index = AreaIndex::new(areas.clone());
    let raster = index.raster().unwrap();
    let (lon, lat) = random_points(&areas, 50_000, 3);
    let tested = lon
        .iter()
        .zip(&lat)
        .filter(|(x, y)| matches!(raster.lookup(**x, **y), Hit::Candidates(_)))
        .count();
    // Fine cells are ≈7 m: only points within a few metres of a border need the exact test.
    assert!(
        tested * 100 < lon.len(),
        "{tested} of {} points tested exactly",
        lon.len()
    );
}
