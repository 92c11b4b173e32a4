//! `POST /api/visits` through the router over a store: tokens, roles and scopes, content types,
//! idempotency keys, receipts, and figures that follow and equal a report over the export.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use phuso::api::live::{Live, ReadAccess};
use phuso::api::{AppState, router_live};

use phuso::store::Store;
use phuso::store::tokens::Role;
use phuso::{Engine, EngineConfig, PopulationSource};
use serde_json::Value;
use tower::ServiceExt;

use crate::{fixture, scratch};

struct Server {
    live: Arc<Live>,
    db: std::path::PathBuf,
    uploader: String,
    viewer: String,
    admin: String,
}

fn server(name: &str, read_access: ReadAccess) -> Server {
    let dir = scratch(name);
    let db = dir.join("s.db");
    let mut store = Store::open(&db, true).unwrap();
    store.import_dir(&fixture("tiny"), &|_| {}).unwrap();
    let (_, uploader) = store
        .create_token(Role::Uploader, &["90001".into()], "UBND 90001")
        .unwrap();
    let (_, viewer) = store.create_token(Role::Viewer, &[], "viewer").unwrap();
    let (_, admin) = store.create_token(Role::Admin, &[], "admin").unwrap();
    let live = Live::with_store(
        store,
        PopulationSource::default(),
        None,
        read_access,
        phuso::disclosure::DEFAULT_MIN_COUNT,
    )
    .unwrap();
    Server {
        live,
        db,
        uploader,
        viewer,
        admin,
    }
}

async fn send(
    s: &Server,
    method: &str,
    uri: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router_live(Arc::clone(&s.live), None)
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn upload(s: &Server, token: &str, key: &str, kind: &str, body: &str) -> (StatusCode, Value) {
    send(
        s,
        "POST",
        "/api/visits",
        Some(token),
        &[("idempotency-key", key), ("content-type", kind)],
        body,
    )
    .await
}

/// Waits (bounded) until the snapshot has been rebuilt after the last batch.
async fn settled(s: &Server) {
    let until = Instant::now() + Duration::from_secs(60);
    while s.live.rebuilding() {
        assert!(Instant::now() < until, "rebuild did not finish in 60 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const CSV: &str = "visit_id,team_id,lon,lat,ts,household_id,service\n\
    201,T1,106.002,11.003,2025-10-03T10:00:00+07:00,h30,vneid_install\n\
    202,T2,106.007,11.003,2025-10-03T11:00:00+07:00,h31,dvc_account\n\
    203,T1,abc,11.003,2025-10-03T11:00:00+07:00,h32,dvc_account\n\
    204,T1,106.003,11.003,2025-10-03T11:00:00+07:00,h33,selfie\n";

#[tokio::test]
async fn uploads_count_once_and_the_figures_follow() {
    let s = server("upload_once", ReadAccess::Open);
    let (_, before) = send(&s, "GET", "/api/summary", None, &[], "").await;
    let visits_before = before["province"]["visits"].as_u64().unwrap();

    let (status, r) = upload(&s, &s.uploader, "batch-1", "text/csv", CSV).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (
            r["rows_read"].as_u64(),
            r["rows_accepted"].as_u64(),
            r["duplicates"].as_u64()
        ),
        (Some(4), Some(2), Some(0))
    );
    assert_eq!(r["rejected"]["bad coordinates"], 1);
    assert_eq!(r["rejected"]["unknown service"], 1);
    assert_eq!(r["already_received"], false);
    let examples = r["examples"].to_string();
    assert!(
        examples.contains("row 3: column `lon`: value \\\"abc\\\""),
        "{examples}"
    );
    assert!(
        r["message_vi"]
            .as_str()
            .unwrap()
            .starts_with("đọc 4 dòng từ POST /api/visits: thêm 2 lượt"),
        "{r}"
    );

    // The same key and content: the first receipt, nothing changes.
    let (status, again) = upload(&s, &s.uploader, "batch-1", "text/csv", CSV).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["already_received"], true);
    assert_eq!(again["batch"], r["batch"]);
    // The same key, other content: refused.
    let (status, err) = upload(
        &s,
        &s.uploader,
        "batch-1",
        "text/csv",
        &CSV.replace("h30", "h99"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("already used by batch"),
        "{err}"
    );
    // A new key with the same visits: duplicates, not added; a changed visit: a conflict row.
    let (status, r2) = upload(
        &s,
        &s.uploader,
        "batch-2",
        "text/csv",
        &CSV.replace("106.007,11.003", "106.008,11.004"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (r2["rows_accepted"].as_u64(), r2["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(r2["rejected"]["conflict with a stored visit"], 1);
    // JSON records.
    let json = r#"[{"visit_id": 205, "team_id": "T1", "lon": 106.004, "lat": 11.006, "ts": "2025-10-03T12:00:00+07:00", "household_id": "h40", "service": "qr_payment"}]"#;
    let (status, r3) = upload(&s, &s.uploader, "batch-3", "application/json", json).await;
    assert_eq!(status, StatusCode::OK, "{r3}");
    assert_eq!(r3["rows_accepted"], 1);

    settled(&s).await;
    let (_, after) = send(&s, "GET", "/api/summary", None, &[], "").await;
    // Three visits more: a step below k, so the public figure is withheld until it moves by k
    // or more since it was last shown (the small-count rule across snapshots).
    assert!(after["province"]["visits"].is_null(), "{after}");
    let current = s.live.current();
    let province = current
        .engine()
        .figures_at(phuso::Level::Province)
        .next()
        .unwrap();
    assert_eq!(province.visits, visits_before + 3);
    // The live figures equal a fresh report over the export of the store, field by field.
    let exported = scratch("upload_once_export");
    Store::open(&s.db, false)
        .unwrap()
        .export(&exported, true)
        .unwrap();
    let fresh = Engine::load(&EngineConfig::for_dir(&exported)).unwrap();
    let live = s.live.current();
    assert_eq!(live.engine().figures(), fresh.figures());
    // Every write is logged with its token.
    let log = Store::open(&s.db, false).unwrap().log().unwrap();
    assert!(
        log.iter().filter(|l| l.actor == "token 1").count() >= 3,
        "{log:?}"
    );
}

#[tokio::test]
async fn tokens_roles_and_scopes() {
    let s = server("upload_roles", ReadAccess::Open);
    let h = [("idempotency-key", "k"), ("content-type", "text/csv")];
    let (status, err) = send(&s, "POST", "/api/visits", None, &h, CSV).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
    let (status, _) = send(&s, "POST", "/api/visits", Some("phs_wrong"), &h, CSV).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, err) = send(&s, "POST", "/api/visits", Some(&s.viewer), &h, CSV).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        err["error"].as_str().unwrap().contains("role viewer"),
        "{err}"
    );
    // The uploader of ward 90001 may not send visits of T3 (homed in ward 90002).
    let other = "visit_id,team_id,lon,lat,ts,household_id,service\n301,T3,106.012,11.002,2025-10-03T10:00:00+07:00,h50,vneid_install\n";
    let (status, err) = upload(&s, &s.uploader, "k-other", "text/csv", other).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("teams T3 are homed elsewhere"),
        "{err}"
    );
    // The admin may.
    let (status, r) = upload(&s, &s.admin, "k-admin", "text/csv", other).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    // Missing key, wrong type, empty body.
    let (status, err) = send(
        &s,
        "POST",
        "/api/visits",
        Some(&s.uploader),
        &[("content-type", "text/csv")],
        CSV,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["error"].as_str().unwrap().contains("Idempotency-Key"),
        "{err}"
    );
    let (status, err) = upload(&s, &s.uploader, "k2", "text/plain", CSV).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{err}");
    let (status, err) = upload(
        &s,
        &s.uploader,
        "k3",
        "application/json",
        "{\"not\": \"an array\"}",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("not a JSON array of records"),
        "{err}"
    );
    // Revoked tokens stop working (within the token cache's few seconds).
    let id = Store::open(&s.db, false).unwrap().tokens().unwrap()[0].id;
    assert!(Store::open(&s.db, false).unwrap().revoke_token(id).unwrap());
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let (status, _) = upload(&s, &s.uploader, "k4", "text/csv", CSV).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn off_loopback_reads_need_a_token() {
    let s = server("upload_reads", ReadAccess::Token);
    let (status, _) = send(&s, "GET", "/api/summary", None, &[], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(&s, "GET", "/api/summary", Some(&s.viewer), &[], "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(&s, "GET", "/api/health", None, &[], "").await;
    assert_eq!(status, StatusCode::OK, "health stays open for monitors");
}

#[tokio::test]
async fn a_server_without_a_store_takes_no_uploads() {
    let tiny = fixture("tiny");
    let mut config = EngineConfig::for_dir(&tiny);
    config.paths.visits = tiny.join("synthetic/visits.csv");
    let state = Arc::new(AppState::new(
        Arc::new(Engine::load(&config).unwrap()),
        None,
    ));
    let s = Server {
        live: Arc::new(Live::read_only(state)),
        db: scratch("upload_none").join("none.db"),
        uploader: String::new(),
        viewer: String::new(),
        admin: String::new(),
    };
    let (status, err) = upload(&s, "x", "k", "text/csv", CSV).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{err}");
}

#[tokio::test]
async fn saved_plans_and_the_write_log() {
    let s = server("upload_plans", ReadAccess::Open);
    let planner = Store::open(&s.db, false)
        .unwrap()
        .create_token(Role::Planner, &[], "ban chỉ đạo")
        .unwrap()
        .1;
    // The planner of the whole province sees the plan in full.
    let (status, plan) = send(
        &s,
        "POST",
        "/api/plan",
        Some(&planner),
        &[("content-type", "application/json")],
        r#"{"meet_deadline": true, "level": "ward"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let body =
        serde_json::json!({ "name": "Quyết định 05/11", "date": "2025-11-05", "plan": plan })
            .to_string();
    let ct = [("content-type", "application/json")];
    let (status, _) = send(&s, "POST", "/api/plans", None, &ct, &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, err) = send(&s, "POST", "/api/plans", Some(&s.uploader), &ct, &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let (status, saved) = send(&s, "POST", "/api/plans", Some(&planner), &ct, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    assert_eq!(
        (saved["name"].as_str(), saved["decided_on"].as_str()),
        (Some("Quyết định 05/11"), Some("2025-11-05"))
    );
    let (status, bad) = send(
        &s,
        "POST",
        "/api/plans",
        Some(&planner),
        &ct,
        r#"{"name": "x", "plan": {}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        bad["error"].as_str().unwrap().contains("field `plan`"),
        "{bad}"
    );
    let (_, list) = send(&s, "GET", "/api/plans", None, &[], "").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let id = saved["id"].as_i64().unwrap();
    let (status, got) = send(
        &s,
        "GET",
        &format!("/api/plans/{id}"),
        Some(&planner),
        &[],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["plan"], plan, "the plan comes back as it was saved");
    assert!(plan["rows"][0]["completion_before"].is_string(), "{plan}");
    // Anyone else reads it under the small-count rule (the tiny wards are all below k).
    let (_, got) = send(&s, "GET", &format!("/api/plans/{id}"), None, &[], "").await;
    for row in got["plan"]["rows"].as_array().unwrap() {
        assert!(
            row["completion_before"].is_null() && row["completion_after"].is_null(),
            "{row}"
        );
        assert!(
            row["reason"]
                .as_str()
                .unwrap()
                .starts_with("Households reached and the projections withheld")
        );
    }
    let res = router_live(Arc::clone(&s.live), None)
        .oneshot(
            Request::get(format!("/api/plans/{id}?format=csv"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let csv =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(
        csv.starts_with("code,name,level,members_before,members_added"),
        "{csv}"
    );
    assert!(csv.contains("90001,"), "{csv}");
    let (status, _) = send(&s, "GET", "/api/plans/999", None, &[], "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The write log: admins only.
    let (status, _) = send(&s, "GET", "/api/admin/log", Some(&planner), &[], "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, log) = send(&s, "GET", "/api/admin/log", Some(&s.admin), &[], "").await;
    assert_eq!(status, StatusCode::OK);
    let last = log["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "save plan");
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .contains("Quyết định 05/11"),
        "{last}"
    );
    assert_eq!(last["actor"], "token 4");
}

#[tokio::test]
async fn an_xlsx_sheet_is_read_like_a_csv() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let s = server("upload_xlsx", ReadAccess::Open);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in [
        "visit_id",
        "team_id",
        "lon",
        "lat",
        "ts",
        "household_id",
        "service",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    // Row 1: text timestamp; row 2: an Excel date-time cell; row 3: a text where lon should be.
    let rows: [(f64, &str, &str); 3] = [
        (401.0, "106.002", "h60"),
        (402.0, "106.003", "h61"),
        (403.0, "abc", "h62"),
    ];
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (r, (id, lon, hh)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        ws.write_number(r, 0, *id).unwrap();
        ws.write_string(r, 1, "T1").unwrap();
        match lon.parse::<f64>() {
            Ok(x) => ws.write_number(r, 2, x).unwrap(),
            Err(_) => ws.write_string(r, 2, *lon).unwrap(),
        };
        ws.write_number(r, 3, 11.003).unwrap();
        if r == 2 {
            let dt = ExcelDateTime::parse_from_str("2025-10-03 11:00:00").unwrap();
            ws.write_datetime_with_format(r, 4, &dt, &when).unwrap();
        } else {
            ws.write_string(r, 4, "2025-10-03T10:00:00+07:00").unwrap();
        }
        ws.write_string(r, 5, *hh).unwrap();
        ws.write_string(r, 6, "vneid_install").unwrap();
    }
    let bytes = wb.save_to_buffer().unwrap();
    let res = router_live(Arc::clone(&s.live), None)
        .oneshot(
            Request::post("/api/visits")
                .header("authorization", format!("Bearer {}", s.uploader))
                .header("idempotency-key", "xlsx-1")
                .header("content-type", phuso::api::upload::XLSX)
                .body(Body::from(bytes))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let r: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (r["rows_read"].as_u64(), r["rows_accepted"].as_u64()),
        (Some(3), Some(2)),
        "{r}"
    );
    assert!(
        r["examples"][0]
            .as_str()
            .unwrap()
            .starts_with("row 3: column `lon`: value \"abc\""),
        "{r}"
    );
    // Not a workbook.
    let (status, err) = upload(
        &s,
        &s.uploader,
        "xlsx-2",
        phuso::api::upload::XLSX,
        "not a zip",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("not an XLSX workbook"),
        "{err}"
    );
}

#[tokio::test]
async fn roster_edits_change_the_members_from_their_day() {
    let s = server("roster_edits", ReadAccess::Open);
    let members = |v: &Value| v["province"]["members"].as_u64().unwrap();
    let (_, before) = send(&s, "GET", "/api/summary", None, &[], "").await;
    let put = |token: &str, team: &str, body: &str| {
        let (token, uri, body) = (
            token.to_owned(),
            format!("/api/teams/{team}"),
            body.to_owned(),
        );
        let s = &s;
        async move {
            send(
                s,
                "PUT",
                &uri,
                Some(&token),
                &[("content-type", "application/json")],
                &body,
            )
            .await
        }
    };
    let edit = r#"{"members": 9, "effective_from": "2025-10-02"}"#;
    // A viewer may not; an uploader only for the teams of its wards.
    let (status, err) = put(&s.viewer, "T1", edit).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let (status, err) = put(&s.uploader, "T3", edit).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("teams T3 are homed elsewhere"),
        "{err}"
    );
    let (status, err) = put(&s.admin, "T9", edit).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
    let (status, err) = put(
        &s.admin,
        "T1",
        r#"{"members": -3, "effective_from": "2025-10-02"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let (status, err) = put(
        &s.admin,
        "T1",
        r#"{"members": 3, "effective_from": "2026-01-01"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("after the campaign's last day 2025-10-10"),
        "{err}"
    );
    // T1: 4 → 9 members from 2 October.
    let (status, r) = put(&s.uploader, "T1", edit).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (r["rows_accepted"].as_u64(), r["kind"].as_str()),
        (Some(1), Some("teams"))
    );
    settled(&s).await;
    let (_, after) = send(&s, "GET", "/api/summary", None, &[], "").await;
    assert_eq!(members(&after), members(&before) + 5);
    // A roster upload: T2 stands down from 3 October.
    let (status, r) = send(
        &s,
        "POST",
        "/api/roster",
        Some(&s.admin),
        &[("content-type", "text/csv")],
        "team_id,effective_from,members\nT2,2025-10-03,0\n",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    settled(&s).await;
    let (_, after2) = send(&s, "GET", "/api/summary", None, &[], "").await;
    assert_eq!(members(&after2), members(&after) - 2);
    // The live figures equal a report over the export, roster history included.
    let exported = scratch("roster_edits_export");
    Store::open(&s.db, false)
        .unwrap()
        .export(&exported, true)
        .unwrap();
    let fresh = Engine::load(&EngineConfig::for_dir(&exported)).unwrap();
    assert_eq!(s.live.current().engine().figures(), fresh.figures());
}

#[tokio::test]
async fn a_planner_sees_their_ward_in_full_a_viewer_never_below_k() {
    let s = server("upload_full_view", ReadAccess::Open);
    let planner = Store::open(&s.db, false)
        .unwrap()
        .create_token(Role::Planner, &["90001".into()], "UBND 90001")
        .unwrap()
        .1;
    let e = s.live.current().engine().clone();
    let reached = |code: &str| e.totals()[e.position(code).unwrap()].households_reached;
    let rule = s.live.current();
    let withheld = |code: &str| rule.rule().withheld(e.position(code).unwrap()).households;
    assert!(
        withheld("90001") && withheld("90002"),
        "{} {}",
        reached("90001"),
        reached("90002")
    );
    let get = |code: &'static str, token: Option<String>| {
        let s = &s;
        async move {
            send(
                s,
                "GET",
                &format!("/api/areas/{code}"),
                token.as_deref(),
                &[],
                "",
            )
            .await
        }
    };
    for token in [None, Some(s.viewer.clone()), Some(s.uploader.clone())] {
        let (status, d) = get("90001", token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(d["full"], false);
        assert!(d["area"]["households_reached"].is_null(), "{d}");
    }
    let (_, d) = get("90001", Some(planner.clone())).await;
    assert_eq!(d["full"], true);
    assert_eq!(d["area"]["households_reached"], reached("90001"));
    assert!(
        d["series"]["households_reached"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_u64)
    );
    // Not the other ward.
    let (_, d) = get("90002", Some(planner)).await;
    assert_eq!(d["full"], false);
    assert!(d["area"]["households_reached"].is_null());
    let (_, d) = get("90002", Some(s.admin.clone())).await;
    assert_eq!(d["full"], true);
    assert_eq!(d["area"]["households_reached"], reached("90002"));
    // The map's layer is for everyone: under the rule.
    let (_, d) = send(&s, "GET", "/api/areas?level=ward", Some(&s.admin), &[], "").await;
    assert!(
        d["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["properties"]["households_reached"].is_null())
    );
}

/// Every tile (`layer`, zoom 16) over the tiny fixture: tile → (status, ETag, bytes).
async fn all_tiles(
    s: &Server,
    layer: &str,
) -> Vec<(phuso::spatial::tiles::TileId, StatusCode, String, Vec<u8>)> {
    let mut out = Vec::new();
    for t in crate::tiles::tiles_over([106.0, 11.0, 106.02, 11.01], 16) {
        let res = router_live(Arc::clone(&s.live), None)
            .oneshot(
                Request::get(format!("/tiles/{layer}/{}/{}/{}.mvt", t.z, t.x, t.y))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = res.status();
        let tag = res.headers()["etag"].to_str().unwrap().to_owned();
        let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        out.push((t, status, tag, bytes));
    }
    out
}

#[tokio::test]
async fn an_upload_changes_the_tiles_of_the_areas_it_changes_and_no_other() {
    let s = server("tiles_after_upload", ReadAccess::Open);
    let dir = scratch("tiles_after_upload_decoded");
    let mut before = Vec::new();
    let mut props_before = Vec::new();
    for (layer, level) in [("neighbourhoods", "neighbourhood"), ("wards", "ward")] {
        before.push(all_tiles(&s, layer).await);
        props_before.push(
            send(
                &s,
                "GET",
                &format!("/api/areas?level={level}"),
                None,
                &[],
                "",
            )
            .await
            .1,
        );
    }
    // Five households in 90001-01 (k = 5: shown at once).
    let csv = "visit_id,team_id,lon,lat,ts,household_id,service\n\
        301,T1,106.002,11.003,2025-10-03T10:00:00+07:00,h40,vneid_install\n\
        302,T1,106.002,11.003,2025-10-03T10:10:00+07:00,h41,vneid_install\n\
        303,T1,106.002,11.003,2025-10-03T10:20:00+07:00,h42,vneid_install\n\
        304,T1,106.002,11.003,2025-10-03T10:30:00+07:00,h43,vneid_install\n\
        305,T1,106.002,11.003,2025-10-03T10:40:00+07:00,h44,vneid_install\n";
    let (status, r) = upload(&s, &s.uploader, "tiles-1", "text/csv", csv).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    settled(&s).await;
    let (mut changed_tiles, mut same_tiles) = (0, 0);
    for (n, (layer, level)) in [("neighbourhoods", "neighbourhood"), ("wards", "ward")]
        .into_iter()
        .enumerate()
    {
        let props_after = send(
            &s,
            "GET",
            &format!("/api/areas?level={level}"),
            None,
            &[],
            "",
        )
        .await
        .1;
        let figures = |doc: &Value| -> std::collections::BTreeMap<String, Value> {
            doc["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["id"].as_str().unwrap().to_owned(),
                        f["properties"].clone(),
                    )
                })
                .collect()
        };
        let (a, b) = (figures(&props_before[n]), figures(&props_after));
        let moved: Vec<&String> = a.keys().filter(|c| a[*c] != b[*c]).collect();
        assert!(!moved.is_empty(), "{layer}: the upload changed nothing");
        let after = all_tiles(&s, layer).await;
        for ((t, s0, tag0, bytes0), (_, s1, tag1, bytes1)) in before[n].iter().zip(&after) {
            // Which areas the tile holds, as GDAL reads it.
            let holds: Vec<String> = if *s0 == StatusCode::OK {
                crate::tiles::gdal_decode(&dir, *t, bytes0)["features"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["properties"]["code"].as_str().unwrap().to_owned())
                    .collect()
            } else {
                Vec::new()
            };
            let should_change = holds.iter().any(|c| moved.contains(&c));
            assert_eq!(s0, s1, "{layer} {t:?}");
            assert_eq!(
                bytes0 != bytes1,
                should_change,
                "{layer} {t:?} holds {holds:?}, changed {moved:?}"
            );
            assert_eq!(tag0 != tag1, should_change, "{layer} {t:?}: ETag");
            // The old tag: 304 when unchanged, the new tile otherwise.
            let res = router_live(Arc::clone(&s.live), None)
                .oneshot(
                    Request::get(format!("/tiles/{layer}/{}/{}/{}.mvt", t.z, t.x, t.y))
                        .header("if-none-match", tag0.as_str())
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let want = if should_change {
                *s1
            } else {
                StatusCode::NOT_MODIFIED
            };
            assert_eq!(res.status(), want, "{layer} {t:?}");
            if should_change {
                changed_tiles += 1
            } else if *s0 == StatusCode::OK {
                same_tiles += 1
            }
        }
    }
    assert!(
        changed_tiles >= 2 && same_tiles >= 1,
        "{changed_tiles} changed, {same_tiles} unchanged"
    );
}
