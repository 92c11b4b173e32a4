//! End to end on a hand-made data directory whose every figure is computed by hand in the
//! comments (tests/fixtures/tiny: two wards, three neighbourhoods, three teams, 14 visit rows).

use chrono::NaiveDate;
use phuso::{Engine, EngineConfig, Level};

use crate::fixture;

fn load() -> Engine {
    let dir = fixture("tiny");
    let mut config = EngineConfig::for_dir(&dir);
    config.paths.visits = dir.join("synthetic/visits.csv");
    Engine::load(&config).unwrap()
}

fn fig<'a>(e: &'a Engine, code: &str) -> &'a phuso::Figures {
    &e.figures()[e.position(code).unwrap()]
}

#[test]
fn visit_rows_are_kept_or_reported() {
    let e = load();
    let r = e.visit_report();
    assert_eq!(r.rows_read, 14);
    // Rows 1–7 and 10 are good; 10 lies outside every area.
    assert_eq!(r.rows_accepted, 8);
    assert_eq!(e.outside(), 1);
    let kinds: Vec<(&str, usize)> = r.rejected.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        kinds,
        [
            ("bad timestamp", 1),
            ("duplicate visit id", 1),
            ("lat/lon swapped", 1),
            ("outside campaign window", 1),
            ("unknown service", 1),
            ("unknown team", 1)
        ]
    );
    assert!(
        r.examples
            .iter()
            .any(|m| m.contains("row 9") && m.contains("T9")),
        "{:?}",
        r.examples
    );
    assert!(
        r.examples
            .iter()
            .any(|m| m.contains("row 11") && m.contains("yesterday")),
        "{:?}",
        r.examples
    );
}

#[test]
fn population_and_households_follow_the_crosswalk_split_rule() {
    let e = load();
    // Ward 90001: Phường Cũ (1000 people, 100 households) + half of Phường Chia (200, 40) = 1100, 120.
    assert!((fig(&e, "90001").population - 1_100.0).abs() < 1e-9);
    assert!((fig(&e, "90001").households - 120.0).abs() < 1e-9);
    // Ward 90002: Xã Hai Cũ (500, 50) + the other half of Phường Chia = 600, 70.
    assert!((fig(&e, "90002").population - 600.0).abs() < 1e-9);
    assert!((fig(&e, "90002").households - 70.0).abs() < 1e-9);
    // Neighbourhood shares 3:1 of population and 1:1 of households.
    assert!((fig(&e, "90001-01").population - 825.0).abs() < 1e-9);
    assert!((fig(&e, "90001-02").households - 60.0).abs() < 1e-9);
    // The province is the sum; the district comes from the census rows.
    assert!((fig(&e, "99").population - 1_700.0).abs() < 1e-9);
    assert_eq!(fig(&e, "90001").parent_code.as_deref(), Some("901"));
}

#[test]
fn area_and_density() {
    let e = load();
    let w = fig(&e, "90001");
    // A 0.01° square at 11°N: 1.1058 km (north) × 1.0927 km (east) ≈ 1.2084 km².
    assert!((w.area_km2 - 1.2084).abs() < 0.005, "{}", w.area_km2);
    assert!((w.density_per_km2 - 1_100.0 / w.area_km2).abs() < 1e-9);
}

#[test]
fn hand_computed_progress_and_projection() {
    let e = load();
    // as_of = last day with data = 2025-10-03 (day 2); deadline = 2025-10-11; window = days 1–2.
    assert_eq!(e.as_of(), NaiveDate::from_ymd_opt(2025, 10, 3).unwrap());
    let n1 = fig(&e, "90001-01");
    // Visits 1, 2, 4, 5, 7 (7 lies on the N1/N2 border: first area in input order, N1).
    assert_eq!(n1.visits, 5);
    assert_eq!(
        (
            n1.visits_vneid_install,
            n1.visits_dvc_account,
            n1.visits_online_payment
        ),
        (3, 1, 1)
    );
    // Households h1, h2, h4, h6 → 4 of 60.
    assert_eq!(n1.households_reached, 4);
    assert!((n1.coverage_ratio.unwrap() - 4.0 / 60.0).abs() < 1e-12);
    // Window: visits 4, 5, 7 → 3 / (4 members × 2 days) = 0.375; new h4, h6 → 1 per day.
    assert!((n1.visits_per_member_day.unwrap() - 0.375).abs() < 1e-12);
    assert!((n1.new_households_per_day - 1.0).abs() < 1e-12);
    // Target ceil(0.5 × 60) = 30, remaining 26 → 26 days → 2025-10-29, after the deadline.
    assert_eq!(n1.remaining_households, 26);
    assert_eq!(n1.days_to_target, Some(26));
    assert_eq!(
        n1.projected_completion,
        NaiveDate::from_ymd_opt(2025, 10, 29)
    );
    assert!(!n1.on_track);
    // Per-member rate 2 / (4 × 2) = 0.25; 8 days left; ceil(26 / 2) = 13 members; 13 − 4 = 9,
    // placed in pairs → 10.
    assert_eq!(n1.members_needed, 10);
    assert!((n1.residents_per_member.unwrap() - 206.25).abs() < 1e-9);

    let n2 = fig(&e, "90001-02");
    // h3 (day 0), h5 (day 1): remaining 28; 0.5 per day → 56 days; rate 1 / (2 × 2) = 0.25 →
    // ceil(28 / 2) = 14 members; 14 − 2 = 12.
    assert_eq!(
        (
            n2.visits,
            n2.households_reached,
            n2.days_to_target,
            n2.members_needed
        ),
        (2, 2, Some(56), 12)
    );

    let n3 = fig(&e, "90002-01");
    // No visits: the fallback pace, 1 household per member-day × 20 members → ceil(35 / 20) = 2
    // days; members needed ceil(35 / (1 × 8)) = 5 ≤ 20 → 0.
    assert_eq!(
        (n3.visits, n3.days_to_target, n3.on_track, n3.members_needed),
        (0, Some(2), true, 0)
    );

    // Roll-ups: sums of the children.
    let w1 = fig(&e, "90001");
    assert_eq!(
        (
            w1.visits,
            w1.households_reached,
            w1.members,
            w1.teams,
            w1.members_needed
        ),
        (7, 6, 6, 2, 22)
    );
    assert!((w1.coverage_ratio.unwrap() - 0.05).abs() < 1e-12);
    let p = fig(&e, "99");
    assert_eq!(
        (p.visits, p.households_reached, p.members, p.members_needed),
        (7, 6, 26, 22)
    );
}

#[test]
fn tntn_norm_audit() {
    let e = load();
    // N1: TNTN of 4 → 16 short; N2: no TNTN → 20 short; N3: TNTN of 20 → meets the norm.
    assert_eq!(
        (
            fig(&e, "90001-01").neighbourhoods_below_norm,
            fig(&e, "90001-01").norm_members_short
        ),
        (1, 16)
    );
    assert_eq!(fig(&e, "90001-02").norm_members_short, 20);
    assert_eq!(fig(&e, "90002-01").neighbourhoods_below_norm, 0);
    assert_eq!(
        (
            fig(&e, "99").neighbourhoods_below_norm,
            fig(&e, "99").norm_members_short
        ),
        (2, 36)
    );
}

#[test]
fn ranking_explains_itself() {
    let e = load();
    let ranked = e.priorities(Level::Ward);
    assert_eq!(ranked[0].figures.code, "90001");
    // Ranked once per level, then served from memory.
    assert!(std::ptr::eq(e.ranked(Level::Ward), e.ranked(Level::Ward)));
    assert_eq!(e.ranked(Level::Ward), ranked.as_slice());
    assert_ne!(e.ranked(Level::Neighbourhood), ranked.as_slice());
    assert_eq!(
        ranked[0].reason,
        format!(
            "{} people/km², 1 helper per 183 residents, 5% of households reached; needs 22 more members to reach 50% by 2025-10-11",
            phuso::priority::int(
                1_100.0 / ranked[0].figures.area_km2,
                phuso::priority::Lang::En
            )
        )
    );
    assert!(
        ranked[0]
            .reason_vi
            .contains("cần thêm 22 thành viên để đạt 50% trước 11/10/2025"),
        "{}",
        ranked[0].reason_vi
    );
}

#[test]
fn published_population_can_be_chosen() {
    let dir = fixture("tiny");
    let mut config = EngineConfig::for_dir(&dir);
    config.paths.visits = dir.join("synthetic/visits.csv");
    config.population = phuso::PopulationSource::Published2025;
    let e = Engine::load(&config).unwrap();
    assert!((fig(&e, "90001").population - 1_300.0).abs() < 1e-9);
    // Households stay those of the census.
    assert!((fig(&e, "90001").households - 120.0).abs() < 1e-9);
}

#[test]
fn hex_invariants() {
    let e = load();
    let hexes = e.hexes();
    // Every accepted visit (including the one outside every area) is in exactly one cell.
    assert_eq!(hexes.iter().map(|h| h.visits).sum::<u64>(), 8);
    let pop: f64 = hexes.iter().map(|h| h.population_est).sum();
    assert!((pop - 1_700.0).abs() < 1e-6, "{pop}");
}

#[test]
fn hand_computed_service_funnel() {
    let e = load();
    let funnel = |code: &str| {
        let f = fig(&e, code);
        [
            f.households_vneid_install,
            f.households_vneid_activation,
            f.households_dvc_account,
            f.households_online_payment,
            f.households_qr_payment,
        ]
    };
    // N1: h1 (install, then DVC), h2 and h4 (install), h6 (online payment).
    assert_eq!(funnel("90001-01"), [3, 0, 1, 1, 0]);
    // N2: h3 (activation), h5 (QR).
    assert_eq!(funnel("90001-02"), [0, 1, 0, 0, 1]);
    assert_eq!(funnel("90002-01"), [0; 5]);
    assert_eq!(funnel("90001"), [3, 1, 1, 1, 1]);
    assert_eq!(funnel("99"), [3, 1, 1, 1, 1]);
}

#[test]
fn hand_computed_figures_as_of_a_past_day() {
    let e = load();
    let day = |d: u32| NaiveDate::from_ymd_opt(2025, 10, d).unwrap();
    assert!(e.until(day(3)).is_none(), "the last day with data");
    assert!(e.until(day(9)).is_none(), "after it");
    // Before the start: the campaign before its first visit.
    let before = e
        .until(NaiveDate::from_ymd_opt(2025, 9, 30).unwrap())
        .unwrap();
    assert!(!before.has_visits());
    assert_eq!(before.as_of(), day(1));
    assert_eq!(
        (
            fig(&before, "99").visits,
            fig(&before, "99").households_reached
        ),
        (0, 0)
    );
    assert_eq!(before.hexes().iter().map(|h| h.visits).sum::<u64>(), 0);

    // Up to 2 October: N1 has visits 1, 2, 4, 5 (h1, h2, h4; h1 installed then DVC), N2 has 3
    // and 6 (h3, h5).
    let p = e.until(day(2)).unwrap();
    assert_eq!(p.as_of(), day(2));
    let n1 = fig(&p, "90001-01");
    assert_eq!(
        (
            n1.visits,
            n1.households_reached,
            n1.visits_vneid_install,
            n1.visits_dvc_account,
            n1.visits_online_payment
        ),
        (4, 3, 3, 1, 0)
    );
    assert_eq!(
        (
            n1.households_vneid_install,
            n1.households_dvc_account,
            n1.households_online_payment
        ),
        (3, 1, 0)
    );
    // Window (2 days): days 0–1, 3 new households → 1.5 a day; rate 3 / (4 × 2) = 0.375;
    // remaining 30 − 3 = 27; 9 days left: ceil(27 / (0.375 × 9)) = 8 members, 8 − 4 = 4.
    assert!((n1.new_households_per_day - 1.5).abs() < 1e-12);
    assert_eq!(n1.remaining_households, 27);
    assert_eq!(n1.members_needed, 4);
    let w1 = fig(&p, "90001");
    assert_eq!((w1.visits, w1.households_reached), (6, 5));
    assert_eq!(p.outside(), 0);
    // Up to 1 October: visits 1, 2 in N1 and 3 in N2.
    let p = e.until(day(1)).unwrap();
    assert_eq!(p.as_of(), day(1));
    assert_eq!(
        (
            fig(&p, "90001-01").visits,
            fig(&p, "90001-02").visits,
            fig(&p, "99").households_reached
        ),
        (2, 1, 3)
    );
}
