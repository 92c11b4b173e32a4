//! Norm audit, projection, allocation and what-if on the hand-made fixture, through the library,
//! the CLI and the API.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use http_body_util::BodyExt;
use phuso::engine::Change;
use phuso::plan::Volunteers;
use phuso::{Engine, EngineConfig, Level};
use tower::ServiceExt;

use crate::fixture;

fn tiny() -> Engine {
    let dir = fixture("tiny");
    let mut config = EngineConfig::for_dir(&dir);
    config.paths.visits = dir.join("synthetic/visits.csv");
    Engine::load(&config).unwrap()
}

#[test]
fn audit_by_hand() {
    let e = tiny();
    let rows = e.audit(Level::Neighbourhood);
    // N2 has 3 residential groups (file) and 2 members = 1 pair → 2 pairs short, listed first.
    assert_eq!(rows[0].code, "90001-02");
    assert_eq!(
        (
            rows[0].residential_groups,
            rows[0].pairs,
            rows[0].pairs_short
        ),
        (3, 1, 2)
    );
    assert_eq!(
        rows[0].reason,
        "1 team, 2 members; needs 1 TNTN team of ≥20 (20 more members); 3 residential groups, 1 pair: 2 pairs short; to finish by the deadline at the current pace: 12 more members (report)"
    );
    // N1: ceil(60 / 150) = 1 group, 4 members = 2 pairs; N3 meets both norms.
    let n3 = rows.iter().find(|r| r.code == "90002-01").unwrap();
    assert!(n3.tntn_norm_met && n3.group_norm_met);
    let wards = e.audit(Level::Ward);
    let w1 = wards.iter().find(|r| r.code == "90001").unwrap();
    assert_eq!(
        (
            w1.neighbourhoods,
            w1.neighbourhoods_below_norm,
            w1.residential_groups,
            w1.pairs,
            w1.pairs_short
        ),
        (2, 2, 4, 3, 2)
    );
    assert!(
        w1.reason
            .starts_with("2 of 2 neighbourhoods lack a TNTN team of ≥20 (36 members short)"),
        "{}",
        w1.reason
    );
}

#[test]
fn plan_by_hand() {
    let e = tiny();
    // N1: 26 left at 0.25 per member-day × 4 → 26 days; N2: 28 left, 0.25 × 2 → 56 days;
    // N3: 35 left at the fallback 1 × 20 → 1.75 days. Pair 1 → N2 (28 days), pair 2 → N2 again
    // (28 > 26) → 18.7 days. Latest: N1, 26 days → 2025-10-29 (before: 56 → 2025-11-28).
    let p = phuso::plan::plan(&e, Level::Neighbourhood, Volunteers::Count(4), 0).unwrap();
    assert_eq!(p.volunteers_placed, 4);
    assert_eq!(p.rows.len(), 1);
    assert_eq!(
        (
            p.rows[0].code.as_str(),
            p.rows[0].members_added,
            p.rows[0].members_after
        ),
        ("90001-02", 4, 6)
    );
    assert_eq!(p.completion_before, NaiveDate::from_ymd_opt(2025, 11, 28));
    assert_eq!(p.completion_after, NaiveDate::from_ymd_opt(2025, 10, 29));
    assert_eq!(
        p.rows[0].completion_after,
        NaiveDate::from_ymd_opt(2025, 10, 22)
    );
    assert!(
        p.rows[0]
            .reason
            .starts_with("+4 new members (2 pairs): completion 2025-11-28 → 2025-10-22"),
        "{}",
        p.rows[0].reason
    );
    // Odd volunteers: the odd one is left over. Moves: N3 (20 members, 1.75 days) gives pairs.
    assert_eq!(
        phuso::plan::plan(&e, Level::Neighbourhood, Volunteers::Count(5), 0)
            .unwrap()
            .volunteers_placed,
        4
    );
    let moved = phuso::plan::plan(&e, Level::Neighbourhood, Volunteers::Count(0), 2).unwrap();
    assert_eq!(moved.members_moved, 4);
    assert!(moved.completion_after < moved.completion_before);
}

#[test]
fn whatif_recomputes_without_touching_the_data() {
    let e = tiny();
    let before = e.figures()[e.position("90001-02").unwrap()].clone();
    let (_, after) = e
        .whatif(&[Change::AddMembers {
            code: "90001-02".into(),
            members: 4,
        }])
        .unwrap();
    let n2 = &after[e.position("90001-02").unwrap()];
    // Same per-member pace (0.25) × 6 members = 1.5 per day → ceil(28 / 1.5) = 19 days.
    assert_eq!(n2.days_to_target, Some(19));
    assert_eq!(n2.members, 6);
    // Members needed: ceil(28 / (0.25 × 8)) = 14 − 6 = 8 (was 12).
    assert_eq!((before.members_needed, n2.members_needed), (12, 8));
    assert_eq!(
        e.figures()[e.position("90001-02").unwrap()],
        before,
        "stored figures unchanged"
    );
    // Deadline and target.
    let (c, f) = e
        .whatif(&[
            Change::SetTarget { value: 0.1 },
            Change::SetDeadline {
                date: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
            },
        ])
        .unwrap();
    assert_eq!(c.deadline(), NaiveDate::from_ymd_opt(2025, 12, 31).unwrap());
    // Target 10% of 60 = 6 households; N1 has 4 → 2 left at 1 per day → 2 days.
    assert_eq!(f[e.position("90001-01").unwrap()].days_to_target, Some(2));
    for (changes, needle) in [
        (
            vec![Change::AddMembers {
                code: "nope".into(),
                members: 2,
            }],
            "change 0: field `code`: unknown code \"nope\"",
        ),
        (
            vec![Change::AddMembers {
                code: "90001".into(),
                members: 2,
            }],
            "\"90001\" is a ward; members belong to neighbourhoods",
        ),
        (
            vec![Change::AddMembers {
                code: "90001-02".into(),
                members: -3,
            }],
            "fewer than 0 members (it has 2)",
        ),
        (
            vec![Change::MoveMembers {
                from: "90001-02".into(),
                to: "90001-01".into(),
                members: 9,
            }],
            "expected 1..=2",
        ),
        (vec![Change::SetTarget { value: 1.5 }], "field `value`: 1.5"),
        (
            vec![Change::SetDeadline {
                date: NaiveDate::from_ymd_opt(2025, 10, 2).unwrap(),
            }],
            "field `date`: 2025-10-02",
        ),
    ] {
        let err = e.whatif(&changes).unwrap_err();
        assert!(err.contains(needle), "{err}");
    }
}

#[test]
fn plan_and_audit_on_the_command_line() {
    let tiny = fixture("tiny");
    let data = tiny.to_str().unwrap();
    let (code, text, err) = crate::phuso(&[
        "plan",
        "--data",
        data,
        "--volunteers",
        "4",
        "--format",
        "csv",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(text.starts_with("code,name,level,members_before,members_added,members_moved_in,members_moved_out,members_after,completion_before,completion_after"), "{text}");
    assert!(
        text.contains("90001-02,Khu phố 2,neighbourhood,2,4,0,0,6,2025-11-28,2025-10-22"),
        "{text}"
    );
    let (_, text, _) = crate::phuso(&["audit", "--data", data, "--level", "neighbourhood"]);
    assert!(
        text.contains("3 residential groups, 1 pair: 2 pairs short"),
        "{text}"
    );
    let bad = crate::scratch("bad_norms_cli");
    std::fs::write(bad.join("norms.toml"), "[campaign]\nstart = \"2025-10-01\"\ndays = 0\ntarget_coverage = 0.8\nrate_window_days = 7\nfallback_households_per_member_day = 8.0\ntntn_min_members = 20\n").unwrap();
    let (code, _, err) = crate::phuso(&[
        "plan",
        "--data",
        data,
        "--norms",
        bad.join("norms.toml").to_str().unwrap(),
        "--volunteers",
        "2",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("`days` = 0: expected 1..=3650"));
}

async fn post(
    app: axum::Router,
    uri: &str,
    body: impl Into<Body>,
) -> (StatusCode, serde_json::Value) {
    let res = app
        .oneshot(
            Request::post(uri)
                .header("content-type", "application/json")
                .body(body.into())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn plan_whatif_and_audit_over_http() {
    let state = Arc::new(phuso::api::AppState::new(Arc::new(tiny()), None));
    let app = || phuso::api::router(state.clone(), None);
    let (status, p) = post(
        app(),
        "/api/plan",
        r#"{"volunteers": 4, "max_moves": 0, "level": "neighbourhood"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(p["rows"][0]["code"], "90001-02");
    assert_eq!(p["completion_after"], "2025-10-29");
    let (status, w) = post(app(), "/api/whatif", r#"{"changes": [{"op": "add_members", "code": "90001-02", "members": 4}], "level": "neighbourhood"}"#).await;
    assert_eq!(status, StatusCode::OK);
    let n2 = w["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "90001-02")
        .unwrap();
    assert_eq!(n2["members_needed"], 8);
    for (uri, body, needle) in [
        (
            "/api/plan",
            r#"{"volunteers": -1}"#,
            "request body: -1: expected a whole number ≥ 0",
        ),
        (
            "/api/plan",
            r#"{"volunteers": 2, "moves": 1}"#,
            "unknown field `moves`",
        ),
        (
            "/api/plan",
            r#"{"volunteers": 2000000}"#,
            "field `volunteers`: 2000000",
        ),
        ("/api/plan", "not json", "request body: expected"),
        (
            "/api/whatif",
            r#"{"changes": [{"op": "fly"}]}"#,
            "unknown variant `fly`",
        ),
        (
            "/api/whatif",
            r#"{"changes": [{"op": "set_target", "value": 2}]}"#,
            "field `value`: 2",
        ),
    ] {
        let (status, err) = post(app(), uri, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri} {body}");
        assert!(
            err["error"].as_str().unwrap().contains(needle),
            "{uri} {body}: {err}"
        );
    }
    let (status, _) = post(app(), "/api/plan", vec![b' '; 1 << 20]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let res = app()
        .oneshot(
            Request::get("/api/audit?level=neighbourhood")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let a: serde_json::Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(a["items"][0]["pairs_short"], 2);
}

#[test]
fn a_plan_runs_at_the_level_asked_or_is_refused() {
    // The tiny wards without neighbourhood maps: the wards are the leaves.
    let dir = crate::scratch("no_neighbourhoods");
    let tiny = fixture("tiny");
    for f in ["wards_2025.geojson", "census_2019.csv", "norms.toml"] {
        std::fs::copy(tiny.join(f), dir.join(f)).unwrap();
    }
    std::fs::create_dir_all(dir.join("synthetic")).unwrap();
    std::fs::write(
        dir.join("synthetic/teams.csv"),
        "team_id,area_code,kind,members\nT1,90001,TNTN,4\nT2,90001,CNSCD,2\nT3,90002,TNTN,20\n",
    )
    .unwrap();
    std::fs::copy(
        tiny.join("synthetic/visits.csv"),
        dir.join("synthetic/visits.csv"),
    )
    .unwrap();
    let e = Engine::load(&EngineConfig::for_dir(&dir)).unwrap();
    assert_eq!(e.leaf_level(), Level::Ward);
    let err = phuso::plan::plan(&e, Level::Neighbourhood, Volunteers::Count(4), 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "level neighbourhood: this data has no neighbourhood areas below the wards (no neighbourhood boundaries were loaded); plan at level ward or coarser"
    );
    let p = phuso::plan::plan(&e, Level::Ward, Volunteers::MeetDeadline, 0).unwrap();
    assert_eq!((p.level, p.placed_at), (Level::Ward, Level::Ward));
    assert!(p.placements.is_empty() && p.on_time_after);
    assert_eq!(p.volunteers, e.figures()[0].members_needed);
    let err = phuso::plan::plan(&e, Level::Ward, Volunteers::MeetDeadline, 3).unwrap_err();
    assert!(err.to_string().contains("moves"), "{err}");
    // A level this data does not have (found by schemathesis: it was a 500).
    let err = phuso::plan::plan(&e, Level::Country, Volunteers::MeetDeadline, 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "level country: this data has no country; plan at one of the levels it has: province, district, ward"
    );
}

#[tokio::test]
async fn meet_deadline_over_http() {
    let state = Arc::new(phuso::api::AppState::new(Arc::new(tiny()), None));
    let app = || phuso::api::router(state.clone(), None);
    let (status, p) = post(
        app(),
        "/api/plan",
        r#"{"meet_deadline": true, "level": "ward"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    // N1 needs 10, N2 12, N3 0 (see tiny.rs): 22 volunteers, both rows in ward 90001.
    assert_eq!(p["volunteers"], 22);
    assert_eq!(p["on_time_after"], true);
    assert_eq!(p["rows"][0]["code"], "90001");
    assert_eq!(p["rows"][0]["members_added"], 22);
    assert_eq!(p["placements"].as_array().unwrap().len(), 2);
    assert!(
        p["summary"]
            .as_str()
            .unwrap()
            .starts_with("22 new volunteers (11 pairs) is the fewest that meets the deadline"),
        "{p}"
    );
    for (body, needle) in [
        (r#"{"volunteers": 2, "meet_deadline": true}"#, "give one"),
        (r#"{}"#, "field `volunteers`: missing"),
        (r#"{"meet_deadline": true, "max_moves": 2}"#, "moves"),
    ] {
        let (status, err) = post(app(), "/api/plan", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            err["error"].as_str().unwrap().contains(needle),
            "{body}: {err}"
        );
    }
}
