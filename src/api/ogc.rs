//! OGC API – Features, Part 1: Core (1.0.1) at `/ogc`, so QGIS, GDAL (`OAPIF:`) and ArcGIS read
//! the layers without knowing this API.
//!
//! | route | answer |
//! |---|---|
//! | `GET /ogc` | landing page: links to the API description, the conformance classes, the data |
//! | `GET /ogc/conformance` | core, GeoJSON, OpenAPI 3.0 |
//! | `GET /ogc/collections` | one collection per level (`province`, `districts`, `wards`, `neighbourhoods`) and per H3 resolution (`h3_r6` … `h3_r10`) |
//! | `GET /ogc/collections/{id}` | one collection: title, extent, links |
//! | `GET /ogc/collections/{id}/items?bbox=&limit=&offset=` | a page of features (GeoJSON), `numberMatched`, `numberReturned`, `next` / `prev` links |
//! | `GET /ogc/collections/{id}/items/{featureId}` | one feature |
//!
//! Features carry the figures of `/api/areas` (areas) or `/api/hexes` (cells) under the same
//! small-count rule, at full geometry. Pages are in a fixed order (area code, cell index), so
//! following `next` gives each feature once. `bbox` (CRS84; 4 or 6 numbers; west > east crosses
//! the antimeridian) keeps the features whose geometry intersects the box (exactly, not by their
//! boxes). Any other query parameter is refused (400), as the standard requires.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use geo::{Intersects, Rect, coord};
use serde_json::{Value, json};

use super::error::ApiError;
use super::{AppState, Snap, params, server};
use crate::disclosure::cells::ShownCell;
use crate::model::Level;

/// The coordinate reference system of every answer (longitude, latitude on WGS 84).
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// Features per page at most (`limit`), and by default.
pub const MAX_LIMIT: u64 = 10_000;
/// Features per page when `limit` is not given.
pub const DEFAULT_LIMIT: u64 = 10;

/// The conformance classes this implements.
pub const CONFORMS_TO: [&str; 3] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
];

/// The id of a level's collection and tile layer.
#[must_use]
pub fn level_id(level: Level) -> &'static str {
    match level {
        Level::Country => "country",
        Level::Province => "province",
        Level::District => "districts",
        Level::Ward => "wards",
        Level::Neighbourhood => "neighbourhoods",
    }
}

/// The levels of `snap` that have areas.
pub(super) fn levels(snap: &AppState) -> impl Iterator<Item = Level> + '_ {
    Level::ALL
        .into_iter()
        .filter(|l| snap.engine.figures_at(*l).next().is_some())
}

/// A collection: the areas of one level, or the H3 cells of one resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    /// Areas of a level.
    Areas(Level),
    /// H3 cells at a resolution of [`crate::hex::RESOLUTIONS`].
    Cells(u8),
}

impl Collection {
    /// The collection's id in URLs.
    #[must_use]
    pub fn id(self) -> String {
        match self {
            Self::Areas(level) => level_id(level).into(),
            Self::Cells(r) => format!("h3_r{r}"),
        }
    }

    fn titles(self) -> (String, String) {
        match self {
            Self::Areas(Level::Country) => (
                "Country".into(),
                "The whole country: every figure of the campaign".into(),
            ),
            Self::Areas(Level::Province) => (
                "Province".into(),
                "The province: every figure of the campaign".into(),
            ),
            Self::Areas(Level::District) => (
                "Former districts".into(),
                "Pre-2025 districts (each 2025 ward in the one holding most of its area), with every figure".into(),
            ),
            Self::Areas(Level::Ward) => (
                "Wards and communes (2025)".into(),
                "Phường / xã of 2025 with every figure: households reached, coverage, pace, staffing, members needed, rank and reasons".into(),
            ),
            Self::Areas(Level::Neighbourhood) => (
                "Neighbourhoods".into(),
                "Khu phố / ấp with every figure".into(),
            ),
            Self::Cells(r) => (
                format!("H3 cells, resolution {r}"),
                format!("H3 cells of resolution {r}: visits, distinct households, estimated residents, blind spots (counts below the small-count threshold withheld)"),
            ),
        }
    }

    /// The collection with id `id`, if `snap` has it.
    fn find(snap: &AppState, id: &str) -> Result<Self, ApiError> {
        all(snap).into_iter().find(|c| c.id() == id).ok_or_else(|| {
            ApiError::NotFound(format!(
                "no collection {id:?}; see /ogc/collections ({})",
                all(snap)
                    .iter()
                    .map(|c| c.id())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }
}

/// The collections of `snap`: each level that has areas, then each H3 resolution.
#[must_use]
pub fn all(snap: &AppState) -> Vec<Collection> {
    levels(snap)
        .map(Collection::Areas)
        .chain(crate::hex::RESOLUTIONS.map(Collection::Cells))
        .collect()
}

/// `http://host/ogc` of the request.
fn base(headers: &HeaderMap) -> String {
    format!("{}/ogc", host_url(headers))
}

/// `http://host` of the request, for absolute links (GDAL follows them as given). A `Host`
/// with anything but host-name characters is replaced by `localhost`.
pub(crate) fn host_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

fn link(href: String, rel: &str, kind: &str, title: &str) -> Value {
    json!({ "href": href, "rel": rel, "type": kind, "title": title })
}

type Q = Query<HashMap<String, String>>;

#[utoipa::path(get, path = "/ogc", tag = "ogc", summary = "OGC API – Features landing page",
    responses((status = 200, body = super::schema::OgcLanding), (status = 400, body = super::schema::Error)))]
pub(crate) async fn landing(Query(q): Q, headers: HeaderMap) -> Result<Response, ApiError> {
    params::only(&q, &[])?;
    let b = base(&headers);
    Ok(super::json_answer(&json!({
        "title": "Phủ Số",
        "description": "Coverage of the community digital-technology campaign: areas and H3 cells with every figure, under the small-count rule.",
        "links": [
            link(b.clone(), "self", "application/json", "this document"),
            link(
                format!("{}/api/openapi.json", host_url(&headers)),
                "service-desc",
                "application/vnd.oai.openapi+json;version=3.0",
                "the API definition (OpenAPI 3.1)",
            ),
            link(format!("{b}/conformance"), "conformance", "application/json", "conformance classes"),
            link(format!("{b}/collections"), "data", "application/json", "the collections"),
        ],
    })))
}

#[utoipa::path(get, path = "/ogc/conformance", tag = "ogc", summary = "OGC API – Features conformance classes",
    responses((status = 200, body = super::schema::OgcConformance), (status = 400, body = super::schema::Error)))]
pub(crate) async fn conformance(Query(q): Q) -> Result<Response, ApiError> {
    params::only(&q, &[])?;
    Ok(super::json_answer(&json!({ "conformsTo": CONFORMS_TO })))
}

/// The description of collection `c`.
fn describe(snap: &AppState, c: Collection, b: &str) -> Value {
    let (title, description) = c.titles();
    let id = c.id();
    let extent = match c {
        Collection::Areas(level) => snap.shapes.level_extent(&snap.engine, level),
        // The cells cover the areas.
        Collection::Cells(_) => snap
            .shapes
            .level_extent(&snap.engine, snap.engine.leaf_level()),
    };
    let bbox = extent.map_or_else(
        || json!([-180.0, -90.0, 180.0, 90.0]),
        |r| json!([r.min().x, r.min().y, r.max().x, r.max().y]),
    );
    json!({
        "id": id,
        "title": title,
        "description": description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": { "spatial": { "bbox": [bbox], "crs": CRS84 } },
        "links": [
            link(format!("{b}/collections/{id}"), "self", "application/json", &title),
            link(format!("{b}/collections/{id}/items"), "items", "application/geo+json", &title),
        ],
    })
}

#[utoipa::path(get, path = "/ogc/collections", tag = "ogc", summary = "OGC API – Features collections: one per level, one per H3 resolution",
    responses((status = 200, body = super::schema::OgcCollections), (status = 400, body = super::schema::Error)))]
pub(crate) async fn collections(
    Snap(s): Snap,
    Query(q): Q,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    params::only(&q, &[])?;
    let b = base(&headers);
    let list: Vec<Value> = all(&s).into_iter().map(|c| describe(&s, c, &b)).collect();
    Ok(super::json_answer(&json!({
        "links": [link(format!("{b}/collections"), "self", "application/json", "the collections")],
        "collections": list,
    })))
}

#[utoipa::path(get, path = "/ogc/collections/{collectionId}", tag = "ogc", summary = "One OGC API – Features collection",
    params(("collectionId" = String, Path, description = "a collection id from /ogc/collections")),
    responses((status = 200, body = super::schema::OgcCollection), (status = 400, body = super::schema::Error), (status = 404, body = super::schema::Error)))]
pub(crate) async fn collection(
    Snap(s): Snap,
    Path(id): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    params::only(&q, &[])?;
    let c = Collection::find(&s, &id)?;
    Ok(super::json_answer(&describe(&s, c, &base(&headers))))
}

/// A `bbox` in CRS84 as one box, or two when it crosses the antimeridian (west > east).
///
/// # Errors
/// A 400 naming the value and the accepted form.
pub fn parse_bbox(q: &HashMap<String, String>) -> Result<Option<Vec<Rect<f64>>>, ApiError> {
    let Some(v) = q.get("bbox") else {
        return Ok(None);
    };
    let bad = || {
        ApiError::BadRequest(format!(
            "parameter `bbox`: {v:?}; expected 4 numbers west,south,east,north (or 6 with heights) in CRS84, -180 ≤ lon ≤ 180, -90 ≤ south ≤ north ≤ 90"
        ))
    };
    let n: Vec<f64> = v
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let (w, s, e, n_) = match n[..] {
        [w, s, e, n] => (w, s, e, n),
        [w, s, _, e, n, _] => (w, s, e, n),
        _ => return Err(bad()),
    };
    let lon = -180.0..=180.0;
    let lat = -90.0..=90.0;
    if !(n.iter().all(|x| x.is_finite())
        && lon.contains(&w)
        && lon.contains(&e)
        && lat.contains(&s)
        && lat.contains(&n_)
        && s <= n_)
    {
        return Err(bad());
    }
    let rect = |w: f64, e: f64| Rect::new(coord! { x: w, y: s }, coord! { x: e, y: n_ });
    Ok(Some(if w <= e {
        vec![rect(w, e)]
    } else {
        vec![rect(w, 180.0), rect(-180.0, e)]
    }))
}

/// The page asked for: `limit`, `offset` and the box.
struct Page {
    limit: usize,
    offset: usize,
    bbox: Option<Vec<Rect<f64>>>,
    as_of: Option<chrono::NaiveDate>,
}

impl Page {
    fn parse(q: &HashMap<String, String>) -> Result<Self, ApiError> {
        params::only(q, &["limit", "offset", "bbox", "as_of"])?;
        let limit = params::number(q, "limit", DEFAULT_LIMIT, 1..=MAX_LIMIT)?;
        let offset = params::number(q, "offset", 0, 0..=u64::from(u32::MAX))?;
        Ok(Self {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            offset: usize::try_from(offset).unwrap_or(usize::MAX),
            bbox: parse_bbox(q)?,
            as_of: params::as_of(q)?,
        })
    }

    /// The links to this page and its neighbours, with the same box and limit.
    fn links(&self, items: &str, matched: usize) -> Vec<Value> {
        let href = |offset: usize| {
            let mut h = format!("{items}?limit={}&offset={offset}", self.limit);
            if let Some(boxes) = &self.bbox {
                let (w, e) = match boxes[..] {
                    [one] => (one.min().x, one.max().x),
                    [east, west] => (east.min().x, west.max().x),
                    _ => (-180.0, 180.0),
                };
                let _ = write!(h, "&bbox={w},{},{e},{}", boxes[0].min().y, boxes[0].max().y);
            }
            if let Some(d) = self.as_of {
                let _ = write!(h, "&as_of={d}");
            }
            h
        };
        let kind = "application/geo+json";
        let mut links = vec![link(href(self.offset), "self", kind, "this page")];
        if self.offset.saturating_add(self.limit) < matched {
            links.push(link(
                href(self.offset + self.limit),
                "next",
                kind,
                "next page",
            ));
        }
        if self.offset > 0 {
            links.push(link(
                href(self.offset.saturating_sub(self.limit)),
                "prev",
                kind,
                "previous page",
            ));
        }
        links
    }
}

fn hits(boxes: &[Rect<f64>], g: &impl Intersects<Rect<f64>>) -> bool {
    boxes.iter().any(|b| g.intersects(b))
}

fn boxes_meet(boxes: &[Rect<f64>], r: Rect<f64>) -> bool {
    boxes.iter().any(|b| b.intersects(&r))
}

/// The areas of `level` in code order (positions in the engine), those meeting `bbox` only.
fn matching_areas(s: &AppState, level: Level, bbox: Option<&[Rect<f64>]>) -> Vec<usize> {
    let e = &s.engine;
    let mut found: Vec<usize> = e
        .areas()
        .iter()
        .enumerate()
        .filter(|(_, a)| a.level == level)
        .filter(|(i, a)| {
            bbox.is_none_or(|boxes| {
                s.shapes.extent_of(*i).is_some_and(|r| boxes_meet(boxes, r))
                    && a.geometry.as_ref().is_some_and(|g| hits(boxes, g))
            })
        })
        .map(|(i, _)| i)
        .collect();
    found.sort_by(|&a, &b| e.areas()[a].code.as_str().cmp(e.areas()[b].code.as_str()));
    found
}

/// Area `i` as a GeoJSON feature (text), under the rule.
fn area_feature(s: &AppState, i: usize, out: &mut String) {
    let e = &s.engine;
    let code = e.areas()[i].code.as_str();
    let Some(p) = s.priority_of(i) else {
        return;
    };
    let props = super::layers::properties(e, &s.shapes, Some(&s.rule), p);
    out.push_str(r#"{"type":"Feature","id":"#);
    out.push_str(&Value::from(code).to_string());
    out.push_str(r#","geometry":"#);
    match s
        .shapes
        .coordinates_of(e, i, super::layers::TIERS.len() - 1)
    {
        Some(c) => {
            out.push_str(r#"{"type":"MultiPolygon","coordinates":"#);
            out.push_str(c);
            out.push('}');
        }
        None => out.push_str("null"),
    }
    out.push_str(r#","properties":"#);
    out.push_str(&Value::Object(props).to_string());
    out.push('}');
}

fn cell_feature(h: &ShownCell) -> Value {
    let mut ring: Vec<Value> = h
        .cell
        .boundary()
        .iter()
        .map(|ll| json!([ll.lng(), ll.lat()]))
        .collect();
    if let Some(first) = ring.first().cloned() {
        ring.push(first);
    }
    json!({
        "type": "Feature",
        "id": h.cell.to_string(),
        "geometry": { "type": "Polygon", "coordinates": [ring] },
        "properties": h,
    })
}

#[utoipa::path(get, path = "/ogc/collections/{collectionId}/items", tag = "ogc", summary = "A page of features of a collection (GeoJSON), with numberMatched, numberReturned and next/prev links",
    params(
        ("collectionId" = String, Path, description = "a collection id from /ogc/collections"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 10000, description = "features per page (default 10)"),
        ("offset" = Option<u64>, Query, minimum = 0, maximum = 4294967295u64, description = "features skipped (the `next` link sets it)"),
        ("bbox" = Option<String>, Query, description = "west,south,east,north in CRS84 (or 6 numbers with heights): features whose geometry intersects the box"),
        ("as_of" = Option<String>, Query, format = Date, description = "figures as of this campaign day (YYYY-MM-DD)"),
    ),
    responses((status = 200, body = super::schema::OgcItems, content_type = "application/geo+json"), (status = 400, body = super::schema::Error), (status = 404, body = super::schema::Error)))]
pub(super) async fn items(
    Snap(s): Snap,
    Path(id): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
    axum::Extension(expensive): axum::Extension<server::Expensive>,
) -> Result<Response, ApiError> {
    let page = Page::parse(&q)?;
    let s = super::asked(s, &q).await?;
    let c = Collection::find(&s, &id)?;
    let items = format!("{}/collections/{id}/items", base(&headers));
    let stamp = s.built_at.clone();
    let head = move |matched: usize, returned: usize, links: Vec<Value>| {
        format!(
            r#"{{"type":"FeatureCollection","numberMatched":{matched},"numberReturned":{returned},"timeStamp":{},"links":{},"features":["#,
            Value::from(stamp.as_str()),
            Value::from(links)
        )
    };
    let body = match c {
        Collection::Areas(level) => {
            let snap = Arc::clone(&s);
            tokio::task::spawn_blocking(move || {
                let found = matching_areas(&snap, level, page.bbox.as_deref());
                let chosen: Vec<usize> = found
                    .iter()
                    .copied()
                    .skip(page.offset)
                    .take(page.limit)
                    .collect();
                let mut out = head(found.len(), chosen.len(), page.links(&items, found.len()));
                for (n, &i) in chosen.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    area_feature(&snap, i, &mut out);
                }
                out.push_str("]}");
                out
            })
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
        }
        Collection::Cells(r) => {
            let layers = match super::hex_layers_bounded(&s, &expensive).await? {
                Ok(l) => l,
                Err(busy) => return Ok(busy),
            };
            tokio::task::spawn_blocking(move || {
                let found: Vec<&ShownCell> = layers
                    .layer(r)
                    .iter()
                    .filter(|h| {
                        page.bbox
                            .as_deref()
                            .is_none_or(|boxes| hits(boxes, &super::layers::cell_polygon(h.cell)))
                    })
                    .collect();
                let chosen: Vec<&ShownCell> = found
                    .iter()
                    .copied()
                    .skip(page.offset)
                    .take(page.limit)
                    .collect();
                let mut out = head(found.len(), chosen.len(), page.links(&items, found.len()));
                for (n, h) in chosen.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    out.push_str(&cell_feature(h).to_string());
                }
                out.push_str("]}");
                out
            })
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
        }
    };
    Ok(super::geojson_bytes(body.into(), false))
}

#[utoipa::path(get, path = "/ogc/collections/{collectionId}/items/{featureId}", tag = "ogc", summary = "One feature of a collection (GeoJSON)",
    params(
        ("collectionId" = String, Path, description = "a collection id from /ogc/collections"),
        ("featureId" = String, Path, description = "an area code, or an H3 cell index"),
        ("as_of" = Option<String>, Query, format = Date, description = "figures as of this campaign day (YYYY-MM-DD)"),
    ),
    responses((status = 200, body = super::schema::OgcFeature, content_type = "application/geo+json"), (status = 400, body = super::schema::Error), (status = 404, body = super::schema::Error)))]
pub(super) async fn item(
    Snap(s): Snap,
    Path((id, fid)): Path<(String, String)>,
    Query(q): Q,
    headers: HeaderMap,
    axum::Extension(expensive): axum::Extension<server::Expensive>,
) -> Result<Response, ApiError> {
    params::only(&q, &["as_of"])?;
    let s = super::asked(s, &q).await?;
    let c = Collection::find(&s, &id)?;
    let missing = || ApiError::NotFound(format!("no feature {fid:?} in collection {id:?}"));
    let mut feature = match c {
        Collection::Areas(level) => {
            let i = s
                .engine
                .position(&fid)
                .filter(|&i| s.engine.areas()[i].level == level)
                .ok_or_else(missing)?;
            let mut out = String::new();
            area_feature(&s, i, &mut out);
            serde_json::from_str::<Value>(&out).map_err(|e| ApiError::Internal(e.to_string()))?
        }
        Collection::Cells(r) => {
            let cell: h3o::CellIndex = fid.parse().map_err(|_| missing())?;
            let layers = match super::hex_layers_bounded(&s, &expensive).await? {
                Ok(l) => l,
                Err(busy) => return Ok(busy),
            };
            let layer = layers.layer(r);
            let h = layer
                .binary_search_by(|h| h.cell.cmp(&cell))
                .ok()
                .map(|at| &layer[at])
                .ok_or_else(missing)?;
            cell_feature(h)
        }
    };
    let b = base(&headers);
    feature["links"] = json!([
        link(
            format!("{b}/collections/{id}/items/{fid}"),
            "self",
            "application/geo+json",
            "this feature"
        ),
        link(
            format!("{b}/collections/{id}"),
            "collection",
            "application/json",
            "its collection"
        ),
    ]);
    Ok(super::geojson_bytes(feature.to_string().into(), false))
}

/// Anything else under `/ogc`.
pub(crate) async fn unknown() -> ApiError {
    ApiError::NotFound("no such OGC API route; see /ogc".into())
}
