//! Figures that must agree with each other and with independent values, on the bundled data:
//! every area's size against the file's own `area_km2`, neighbourhoods against their ward, and
//! one projection model across report, plan (at every level), meet-deadline and what-if.

use std::collections::HashMap;

use phuso::ingest::boundaries::{BoundaryFields, read_boundaries};
use phuso::plan::{Volunteers, plan};
use phuso::{Level, projection};

use crate::{bundled, bundled_engine};

#[test]
fn every_ward_area_matches_its_published_area_km2() {
    let e = bundled_engine();
    let wards = read_boundaries(
        &bundled().join("wards_2025.geojson"),
        &BoundaryFields::default(),
    )
    .unwrap();
    assert_eq!(wards.len(), 36);
    for w in &wards {
        let expected = w.properties["area_km2"].as_f64().unwrap();
        let got = e.figures()[e.position(&w.code.0).unwrap()].area_km2;
        assert!(
            (got / expected - 1.0).abs() < 0.005,
            "{} {}: {got} km² vs area_km2 {expected}",
            w.code,
            w.name
        );
    }
    // Parents are sums, and nothing is negative or zero anywhere.
    for f in e.figures() {
        assert!(
            f.area_km2 > 0.0 && f.area_km2 < 10_000.0,
            "{} {}: {}",
            f.code,
            f.name,
            f.area_km2
        );
        assert!(f.density_per_km2 > 0.0, "{} {}", f.code, f.name);
    }
}

#[test]
fn every_national_ward_area_matches_its_area_km2() {
    // The national file is simplified (see data/README.md); `area_km2` was computed before
    // simplification. All but 9 small coastal and island wards (0.6–1.5% smaller: shoreline
    // detail removed) agree within 0.5%; all agree within 2%.
    let wards = read_boundaries(
        &bundled().join("national/vietnam_wards_2025.geojson"),
        &BoundaryFields::default(),
    )
    .unwrap();
    assert_eq!(wards.len(), 3_321);
    let mut off = Vec::new();
    for w in &wards {
        use geo::GeodesicArea;
        let expected = w.properties["area_km2"].as_f64().unwrap();
        let got = w.geometry.geodesic_area_unsigned() / 1e6;
        let rel = (got / expected - 1.0).abs();
        assert!(
            rel < 0.02,
            "{} {}: {got:.3} km² vs area_km2 {expected}",
            w.code,
            w.name
        );
        if rel >= 0.005 {
            off.push(w.code.0.clone());
        }
    }
    assert_eq!(
        off,
        [
            "00082", "06652", "06685", "06688", "19742", "27286", "30781", "30811", "30814"
        ],
        "wards off by ≥ 0.5%"
    );
}

#[test]
fn neighbourhoods_sum_to_their_ward() {
    let e = bundled_engine();
    let mut sums: HashMap<&str, f64> = HashMap::new();
    for f in e.figures_at(Level::Neighbourhood) {
        *sums.entry(f.parent_code.as_deref().unwrap()).or_default() += f.area_km2;
    }
    assert_eq!(sums.len(), 36);
    for (ward, sum) in sums {
        let w = &e.figures()[e.position(ward).unwrap()];
        assert!(
            (sum / w.area_km2 - 1.0).abs() < 1e-6,
            "{ward}: neighbourhoods {sum} km² vs ward {}",
            w.area_km2
        );
    }
    // The neighbourhood whose hole winds like its exterior (25807-09) once came out as the rest
    // of the Earth.
    let n = &e.figures()[e.position("25807-09").unwrap()];
    assert!(n.area_km2 > 1.0 && n.area_km2 < 100.0, "{}", n.area_km2);
}

#[test]
fn one_projection_model_everywhere() {
    let e = bundled_engine();
    let c = e.campaign();
    let days_left = phuso::metrics::days_left(c, e.as_of());
    // Leaves: members needed is the smallest whole number of pairs that meets the deadline.
    for &i in e.leaves() {
        let (f, t) = (&e.figures()[i], &e.totals()[i]);
        let rate = phuso::metrics::per_member_rate(t, c, e.as_of_day()).0;
        let need = f.members_needed;
        assert_eq!(need % 2, 0, "{}", f.code);
        assert!(projection::finishes_within(
            f.remaining_households,
            rate,
            f.members + need,
            days_left
        ));
        if need > 0 {
            assert!(!projection::finishes_within(
                f.remaining_households,
                rate,
                f.members + need - 2,
                days_left
            ));
        }
    }
    // Every area: nothing needed exactly when on track; parents are sums and slowest children.
    for (i, a) in e.areas().iter().enumerate() {
        let f = &e.figures()[i];
        assert_eq!(f.members_needed == 0, f.on_track, "{} {}", f.code, f.name);
        if a.children.is_empty() {
            continue;
        }
        let kids = || a.children.iter().map(|&c| &e.figures()[c]);
        assert_eq!(
            f.members_needed,
            kids().map(|k| k.members_needed).sum::<u64>(),
            "{}",
            f.code
        );
        assert_eq!(
            f.days_to_target,
            projection::slowest(kids().map(|k| k.days_to_target)),
            "{}",
            f.code
        );
        assert_eq!(f.on_track, kids().all(|k| k.on_track), "{}", f.code);
    }
    let province = &e.figures()[0];
    let k = province.members_needed;
    assert!(k > 0 && !province.on_track);

    // K = the province's members needed is exactly what the plan needs: with K every area
    // finishes by the deadline, with K − 2 some does not; each leaf gets exactly its need.
    let met = plan(&e, Level::Neighbourhood, Volunteers::MeetDeadline, 0).unwrap();
    assert_eq!(met.volunteers, k);
    assert_eq!(met.volunteers_placed, k);
    assert!(met.on_time_after && met.completion_after <= Some(c.deadline()));
    assert_eq!(met.completion_before, province.projected_completion);
    for r in &met.rows {
        assert_eq!(
            r.members_added,
            e.figures()[e.position(&r.code).unwrap()].members_needed,
            "{}",
            r.code
        );
    }
    let given = plan(&e, Level::Neighbourhood, Volunteers::Count(k), 0).unwrap();
    assert!(given.on_time_after);
    assert_eq!(given.rows, met.rows);
    let fewer = plan(&e, Level::Neighbourhood, Volunteers::Count(k - 2), 0).unwrap();
    assert!(!fewer.on_time_after && fewer.completion_after > Some(c.deadline()));

    // The same plan at every level: same latest completion; a level's rows are its leaves' sums
    // and its completion before is that level's projected completion in the report.
    for volunteers in [Volunteers::Count(200), Volunteers::MeetDeadline] {
        let at_nb = plan(&e, Level::Neighbourhood, volunteers, 0).unwrap();
        for level in [Level::Ward, Level::District, Level::Province] {
            let p = plan(&e, level, volunteers, 0).unwrap();
            assert_eq!((p.level, p.placed_at), (level, Level::Neighbourhood));
            assert_eq!(p.completion_after, at_nb.completion_after, "{level}");
            assert_eq!(p.completion_before, at_nb.completion_before, "{level}");
            assert_eq!(
                p.rows.iter().map(|r| r.members_added).sum::<u64>(),
                at_nb.volunteers_placed
            );
            assert_eq!(
                p.placements, at_nb.rows,
                "{level}: the placements are the leaf plan"
            );
            for r in &p.rows {
                let f = &e.figures()[e.position(&r.code).unwrap()];
                assert_eq!(
                    r.completion_before, f.projected_completion,
                    "{level} {}",
                    r.code
                );
                assert_eq!(r.members_before, f.members, "{level} {}", r.code);
                if volunteers == Volunteers::MeetDeadline {
                    assert_eq!(r.members_added, f.members_needed, "{level} {}", r.code);
                }
            }
        }
    }
}

#[test]
fn whatif_follows_the_same_model() {
    // Giving every leaf its members needed in a what-if puts every area on track.
    let e = bundled_engine();
    let changes: Vec<phuso::engine::Change> = e
        .leaves()
        .iter()
        .map(|&i| &e.figures()[i])
        .filter(|f| f.members_needed > 0)
        .map(|f| phuso::engine::Change::AddMembers {
            code: f.code.clone(),
            members: i64::try_from(f.members_needed).unwrap(),
        })
        .collect();
    let (_, after) = e.whatif(&changes).unwrap();
    assert!(after.iter().all(|f| f.on_track && f.members_needed == 0));
    assert!(after[0].projected_completion <= Some(e.campaign().deadline()));
}

#[test]
fn audit_picks_out_the_worst_when_every_neighbourhood_fails() {
    let e = bundled_engine();
    let (summary, rows) = e.audit_with_summary(Level::Neighbourhood);
    // Bundled teams have 3–10 members against a norm of 20: every neighbourhood fails.
    assert_eq!(summary.neighbourhoods_below_norm, 586);
    assert_eq!(summary.areas_below_tntn_norm, 586);
    let short: u64 = rows.iter().map(|r| r.norm_members_short).sum();
    assert_eq!(summary.tntn_members_short, short);
    assert_eq!(summary.members_needed, e.figures()[0].members_needed);
    assert!(
        rows.windows(2)
            .all(|w| w[0].norm_members_short >= w[1].norm_members_short)
    );
    assert_eq!(rows[0].rank, 1);
    assert!(rows[0].norm_members_short > rows[rows.len() - 1].norm_members_short);
    assert!(
        summary
            .text
            .contains("586 of 586 neighbourhoods are below it"),
        "{}",
        summary.text
    );
    assert!(summary.text.contains("members needed"), "{}", summary.text);
    let wards = e.audit(Level::Ward);
    assert_eq!(
        wards.iter().map(|r| r.norm_members_short).sum::<u64>(),
        short
    );
}
