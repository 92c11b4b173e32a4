//! The seeded generator and the bundled campaign: totals, tiling, determinism and invariants.

use std::collections::HashMap;

use geo::Area;
use phuso::Level;
use phuso::engine::read_norms;
use phuso::generate::{GenerateConfig, generate};
use phuso::ingest::boundaries::{BoundaryFields, read_boundaries};

use crate::{bundled, scratch};

fn small(out: &std::path::Path, seed: u64) -> GenerateConfig {
    let data = bundled();
    let mut c = GenerateConfig::bundled(&data, out, read_norms(&data.join("norms.toml")).unwrap());
    c.seed = seed;
    c.visits = 20_000;
    c.batch_rows = 7_000; // several Parquet batches
    c
}

#[test]
fn generator_is_deterministic_and_keeps_the_province_totals() {
    let (a, b) = (scratch("gen_a"), scratch("gen_b"));
    let sa = generate(&small(&a, 7)).unwrap();
    generate(&small(&b, 7)).unwrap();
    assert_eq!(
        (sa.neighbourhoods, sa.teams, sa.members, sa.visits),
        (586, 586, 3_329, 20_000)
    );
    for f in ["neighbourhoods.geojson", "teams.csv", "visits.parquet"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between two runs with one seed"
        );
    }
    let c = scratch("gen_c");
    generate(&small(&c, 8)).unwrap();
    assert_ne!(
        std::fs::read(a.join("teams.csv")).unwrap(),
        std::fs::read(c.join("teams.csv")).unwrap()
    );

    // Neighbourhoods tile their wards: areas add up (to 1e-6) and every ward has at least 3.
    let wards = read_boundaries(
        &bundled().join("wards_2025.geojson"),
        &BoundaryFields::default(),
    )
    .unwrap();
    let fields = BoundaryFields {
        code: "code".into(),
        name: vec!["name".into()],
        parent: Some("ward_code".into()),
    };
    let nbs = read_boundaries(&a.join("neighbourhoods.geojson"), &fields).unwrap();
    let mut sums: HashMap<String, (f64, usize)> = HashMap::new();
    for n in &nbs {
        let e = sums.entry(n.parent_code.clone().unwrap().0).or_default();
        e.0 += n.geometry.unsigned_area();
        e.1 += 1;
    }
    for w in &wards {
        let (area, count) = sums[&w.code.0];
        let want = w.geometry.unsigned_area();
        assert!(
            ((area - want) / want).abs() < 1e-6,
            "ward {}: {area} vs {want}",
            w.code
        );
        assert!(count >= 3);
    }
}

#[test]
fn bundled_campaign_totals_and_invariants() {
    let e = crate::bundled_engine();
    let province = &e.figures_at(Level::Province).next().unwrap().clone();
    assert_eq!((province.teams, province.members), (586, 3_329));
    assert_eq!(e.figures_at(Level::Ward).count(), 36);
    assert_eq!(e.figures_at(Level::Neighbourhood).count(), 586);
    assert_eq!(e.figures_at(Level::District).count(), 9);
    let r = e.visit_report();
    assert_eq!(r.rows_read, 1_600_000);
    assert_eq!(r.rows_accepted + r.rows_rejected(), r.rows_read);
    // Every accepted visit is in exactly one neighbourhood or outside.
    assert_eq!(province.visits + e.outside(), r.rows_accepted as u64);
    // Each level sums to the province.
    for level in [Level::District, Level::Ward, Level::Neighbourhood] {
        let s: u64 = e.figures_at(level).map(|f| f.visits).sum();
        let h: u64 = e.figures_at(level).map(|f| f.households_reached).sum();
        let p: f64 = e.figures_at(level).map(|f| f.population).sum();
        assert_eq!(
            (s, h),
            (province.visits, province.households_reached),
            "{level}"
        );
        assert!((p - province.population).abs() < 1e-3, "{level}");
    }
    // Census totals of former Bình Dương, split exactly.
    assert!(
        (province.population - 2_426_561.0).abs() < 1e-3,
        "{}",
        province.population
    );
    assert!((province.households - 832_087.0).abs() < 1e-3);
    for f in e.figures() {
        let c = f.coverage_ratio.unwrap();
        assert!((0.0..=1.0).contains(&c), "{} {c}", f.code);
        assert_eq!(
            f.visits,
            f.visits_vneid_install
                + f.visits_vneid_activation
                + f.visits_dvc_account
                + f.visits_online_payment
                + f.visits_qr_payment
        );
    }
    // H3 cells: visits sum to the accepted total; estimated population to the province's.
    let hexes = e.hexes();
    assert_eq!(
        hexes.iter().map(|h| h.visits).sum::<u64>(),
        r.rows_accepted as u64
    );
    let pop: f64 = hexes.iter().map(|h| h.population_est).sum();
    assert!((pop - province.population).abs() < 1.0, "{pop}");
    assert!(hexes.iter().any(|h| h.blind_spot));
    // The dense Thuận An / Dĩ An wards are among the five most in need.
    let top: Vec<String> = e
        .priorities(Level::Ward)
        .iter()
        .take(5)
        .map(|p| p.figures.code.clone())
        .collect();
    assert!(
        top.iter()
            .any(|c| ["25942", "25969", "25975", "25987"].contains(&c.as_str())),
        "{top:?}"
    );
}
