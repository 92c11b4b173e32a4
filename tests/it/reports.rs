//! Excel reports, read back with calamine: every cell of every sheet of `priorities.xlsx`,
//! `audit.xlsx` and `plan.xlsx` equals the JSON the API serves for the same level (withheld
//! figures empty, dates as dates, yes/no in Vietnamese), under a title block naming the province,
//! the data date and the deadline; the CLI's workbook equals its JSON; refusals.

use std::io::Cursor;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use calamine::{Data, Reader, Xlsx};
use http_body_util::BodyExt;
use phuso::api::{AppState, router};
use phuso::output::xlsx::{AUDIT_COLUMNS, Column, Kind, PLAN_COLUMNS, PRIORITY_COLUMNS};
use serde_json::Value;
use tower::ServiceExt;

use super::{bundled, bundled_engine, phuso, scratch};

fn state() -> Arc<AppState> {
    static STATE: OnceLock<Arc<AppState>> = OnceLock::new();
    STATE
        .get_or_init(|| Arc::new(AppState::new(bundled_engine(), None)))
        .clone()
}

async fn send(req: Request<Body>) -> (StatusCode, String, Vec<u8>) {
    let res = router(state(), None).oneshot(req).await.unwrap();
    let status = res.status();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        ctype,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

async fn get(uri: &str) -> (StatusCode, String, Vec<u8>) {
    send(Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn json(uri: &str) -> Value {
    let (status, _, body) = get(uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}");
    serde_json::from_slice(&body).unwrap()
}

/// The sheets of a workbook: name → rows of cells.
fn sheets(bytes: Vec<u8>) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    wb.sheet_names()
        .into_iter()
        .map(|name| {
            let range = wb.worksheet_range(&name).unwrap();
            assert_eq!(range.start(), Some((0, 0)), "{name}: starts at A1");
            (name, range.rows().map(<[Data]>::to_vec).collect())
        })
        .collect()
}

fn dmy(iso: &str) -> String {
    let d: chrono::NaiveDate = iso.parse().unwrap();
    d.format("%d/%m/%Y").to_string()
}

/// Checks the title block and header of `rows`; returns the data rows.
fn body<'a>(
    rows: &'a [Vec<Data>],
    summary: &Value,
    columns: &[Column],
    what: &str,
) -> &'a [Vec<Data>] {
    let text = |r: usize| match &rows[r][0] {
        Data::String(s) => s.clone(),
        other => panic!("{what}: row {r}: {other:?}"),
    };
    assert!(text(0).contains(what), "{}", text(0));
    let line = text(1);
    let c = &summary["campaign"];
    assert!(
        line.contains(summary["province"]["name"].as_str().unwrap()),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "Số liệu đến hết ngày {}",
            dmy(c["as_of"].as_str().unwrap())
        )),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "Hạn hoàn thành {}",
            dmy(c["deadline"].as_str().unwrap())
        )),
        "{line}"
    );
    let header = rows
        .iter()
        .position(|r| matches!(&r[0], Data::String(s) if s == columns[0].header))
        .unwrap_or_else(|| panic!("{what}: no header row"));
    let headers: Vec<String> = rows[header]
        .iter()
        .take(columns.len())
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        headers,
        columns.iter().map(|c| c.header).collect::<Vec<_>>()
    );
    &rows[header + 1..]
}

/// Every cell of `rows` against the JSON `items`, column by column.
fn same_cells(rows: &[Vec<Data>], items: &[Value], columns: &[Column], what: &str) -> usize {
    assert_eq!(rows.len(), items.len(), "{what}: rows");
    let mut cells = 0;
    for (r, (row, item)) in rows.iter().zip(items).enumerate() {
        for (c, column) in columns.iter().enumerate() {
            let want = &item[column.key];
            let got = row.get(c).unwrap_or(&Data::Empty);
            let ok = match (want, column.kind, got) {
                (Value::Null, _, Data::Empty) => true,
                (Value::Bool(b), _, Data::String(s)) => s == if *b { "có" } else { "không" },
                // Excel keeps 15 significant digits; the file holds the last one or two ulps off.
                (Value::Number(n), _, Data::Float(x)) => n
                    .as_f64()
                    .is_some_and(|y| (x - y).abs() <= 1e-13 * y.abs().max(1.0)),
                (Value::String(s), Kind::Date, Data::DateTime(d)) => {
                    d.as_datetime().map(|t| t.date()) == s.parse().ok()
                }
                (Value::String(s), _, Data::String(t)) => s == t,
                _ => false,
            };
            assert!(
                ok,
                "{what}: row {r} ({}) column {} ({}): JSON {want}, cell {got:?}",
                item["code"], column.key, column.header
            );
            cells += 1;
        }
    }
    cells
}

#[tokio::test]
async fn priorities_workbook_equals_the_api_cell_by_cell() {
    let (status, ctype, bytes) = get("/api/export/priorities.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ctype,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let summary = json("/api/summary").await;
    let book = sheets(bytes);
    let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Phường-xã", "Khu phố-ấp", "Huyện cũ"]);
    let mut cells = 0;
    let mut withheld = 0;
    for ((name, rows), level) in book.iter().zip(["ward", "neighbourhood", "district"]) {
        let items = json(&format!("/api/priorities?level={level}&limit=5000")).await;
        let items = items["items"].as_array().unwrap();
        withheld += items.iter().filter(|i| i["withheld"] == true).count();
        let data = body(rows, &summary, &PRIORITY_COLUMNS, "Danh sách ưu tiên");
        cells += same_cells(data, items, &PRIORITY_COLUMNS, name);
    }
    assert!(cells > 10_000, "{cells}");
    // The bundled data has withheld figures: they are the empty cells.
    assert!(withheld > 0);
    // An Vietnamese name with its diacritics.
    let wards = &book[0].1;
    assert!(
        wards
            .iter()
            .any(|r| r[2] == Data::String("Phường An Phú".into()))
    );
}

#[tokio::test]
async fn audit_and_plan_workbooks_equal_the_api() {
    let summary = json("/api/summary").await;
    let (status, _, bytes) = get("/api/export/audit.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    for ((name, rows), level) in sheets(bytes)
        .iter()
        .zip(["ward", "neighbourhood", "district"])
    {
        let items = json(&format!("/api/audit?level={level}")).await;
        let data = body(rows, &summary, &AUDIT_COLUMNS, "Rà soát định mức");
        same_cells(
            data,
            items["items"].as_array().unwrap(),
            &AUDIT_COLUMNS,
            name,
        );
    }
    // The plan the API computes for 60 volunteers at ward level, moves allowed.
    let (status, _, plan) = send(
        Request::post("/api/plan")
            .header("content-type", "application/json")
            .body(Body::from(
                r#"{"volunteers": 60, "max_moves": 10, "level": "ward"}"#,
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let plan: Value = serde_json::from_slice(&plan).unwrap();
    let (status, _, bytes) =
        get("/api/export/plan.xlsx?volunteers=60&max_moves=10&level=ward").await;
    assert_eq!(status, StatusCode::OK);
    let book = sheets(bytes);
    let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(&names[..3], ["Tóm tắt", "Kế hoạch", "Bố trí"]);
    let cell = |r: &Vec<Data>, c: usize| r.get(c).map(|d| d.to_string()).unwrap_or_default();
    let top = &book[0].1;
    let value_of = |item: &str| {
        top.iter()
            .find(|r| cell(r, 0) == item)
            .map(|r| cell(r, 1))
            .unwrap_or_default()
    };
    assert_eq!(value_of("Tóm tắt"), plan["summary_vi"].as_str().unwrap());
    assert_eq!(value_of("Tình nguyện viên mới"), "60");
    assert_eq!(value_of("Đã bố trí"), plan["volunteers_placed"].to_string());
    assert_eq!(
        value_of("Hạn hoàn thành"),
        plan["deadline"].as_str().unwrap()
    );
    for (sheet, key) in [(1, "rows"), (2, "placements")] {
        let (name, rows) = &book[sheet];
        let data = body(rows, &summary, &PLAN_COLUMNS, "Kế hoạch bổ sung");
        same_cells(data, plan[key].as_array().unwrap(), &PLAN_COLUMNS, name);
    }
    assert!(!plan["placements"].as_array().unwrap().is_empty());
    for (uri, says) in [
        ("/api/export/plan.xlsx", "volunteers"),
        (
            "/api/export/plan.xlsx?volunteers=2&meet_deadline=true",
            "give one",
        ),
        ("/api/export/plan.xlsx?volunteers=-1", "volunteers"),
        ("/api/export/plan.xlsx?meet_deadline=yes", "meet_deadline"),
        (
            "/api/export/priorities.xlsx?level=ward",
            "unknown parameter `level`",
        ),
    ] {
        let (status, _, body) = get(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(String::from_utf8_lossy(&body).contains(says), "{uri}");
    }
}

#[test]
fn cli_workbook_equals_its_json() {
    let dir = scratch("cli-xlsx");
    let out = dir.join("report.xlsx");
    let data = bundled();
    let data = data.to_str().unwrap();
    let (code, _, err) = phuso(&["report", "--data", data, "--format", "xlsx"]);
    assert_eq!(code, 2);
    assert!(err.contains("--out"), "{err}");
    let (code, _, err) = phuso(&[
        "report",
        "--data",
        data,
        "--format",
        "xlsx",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let book = sheets(std::fs::read(&out).unwrap());
    for ((name, rows), level) in book.iter().zip(["ward", "neighbourhood", "district"]) {
        let (code, text, _) = phuso(&[
            "report", "--data", data, "--format", "json", "--level", level,
        ]);
        assert_eq!(code, 0);
        let items: Vec<Value> = serde_json::from_str(&text).unwrap();
        let header = rows
            .iter()
            .position(|r| r[0] == Data::String("Hạng".into()))
            .unwrap();
        // The operator's file is in full: no withheld figure.
        same_cells(&rows[header + 1..], &items, &PRIORITY_COLUMNS, name);
    }
}
