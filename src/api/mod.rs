//! The HTTP layer (axum only): routes, query parsing, JSON / GeoJSON / CSV / Parquet responses.
//! Handlers read the current snapshot ([`live::Live::current`]: an engine and its prebuilt
//! layers); an accepted upload builds the next snapshot from the store and swaps it in whole.
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/health` | `{"status":"ok"}` |
//! | `GET /api/summary` | province totals, campaign day and deadline, visit row counts, population vintages |
//! | `GET /api/areas?level=&zoom=` | GeoJSON FeatureCollection of areas with every figure as properties |
//! | `GET /api/areas/{code}` | one area: figures, reasons, parent, children, daily series |
//! | `GET /api/priorities?level=&limit=` | the ranked list with reasons (en, vi) |
//! | `GET /api/hexes?res=&bbox=` | GeoJSON of H3 cells: visits, households, estimated population, blind spots |
//! | `GET /api/export/areas.csv?level=`, `.parquet` | every figure per area |
//! | `GET /api/export/priorities.xlsx`, `audit.xlsx`, `plan.xlsx?volunteers=` | Excel reports (see [`reports`]) |
//! | `GET /api/audit?level=` | the staffing-norm audit with reasons |
//! | `POST /api/plan` | `{volunteers, max_moves, level}` → where new pairs go, and moves |
//! | `POST /api/whatif` | `{changes: [...], level}` → recomputed figures; stored data untouched |
//! | `POST /api/plans`, `GET /api/plans`, `GET /api/plans/{id}?format=json\|csv` | saved plans (saving needs a planner token) |
//! | `GET /api/admin/log` | every write, for an admin token |
//! | `GET /api/me` | the bearer token's id, label, role and wards (401 without a valid one) |
//! | `POST /api/visits` | a batch of visits (CSV or JSON) with an `Idempotency-Key`, for an uploader token: the receipt |
//! | `GET /api/openapi.json` | the OpenAPI 3.1 document of these routes |
//! | `GET /ogc/…` | OGC API – Features (see [`ogc`]) |
//! | `GET /tiles/…` | Mapbox Vector Tiles and TileJSON (see [`tiles`]) |
//!
//! Visit records never leave the engine: every answer is an aggregate per area or H3 cell, under
//! the small-count rule of [`crate::disclosure`] (counts below `k` withheld, with what would let a
//! reader work them out).

pub mod decisions;
pub mod error;
pub mod guard;
pub mod layers;
pub mod live;
pub mod ogc;
pub mod openapi;
pub mod params;
pub mod planning;
pub mod published;
pub mod rate;
pub mod reports;
pub mod roster;
pub mod schema;
pub mod server;
pub mod tiles;
pub mod upload;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::{Json, Router};
use serde_json::{Value, json};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;

use self::error::ApiError;
use crate::disclosure::DEFAULT_MIN_COUNT;
use crate::disclosure::areas::AreaRule;
use crate::disclosure::cells::{ShownCell, ShownLayers};
use crate::engine::Engine;
use crate::model::{Level, Service};
use crate::store::releases::Published;

/// Cells per `/api/hexes` response at most.
pub const MAX_CELLS: usize = 20_000;

/// Rows per `/api/priorities` response at most.
pub const MAX_PRIORITIES: u64 = 5_000;

/// One snapshot: an engine and its prebuilt layers, never changed once built.
pub struct AppState {
    engine: Arc<Engine>,
    /// When this snapshot was built (RFC 3339 UTC): when the data last changed.
    built_at: String,
    /// `areas[level][tier]`: GeoJSON, prebuilt for the newest snapshot, built on first use for
    /// a past day's.
    areas: HashMap<Level, Vec<std::sync::OnceLock<Doc>>>,
    /// Geometries and label points, shared with the snapshots that follow (visits do not move
    /// them).
    shapes: Arc<layers::Shapes>,
    /// What the small-count rule withholds of the areas.
    rule: AreaRule,
    /// The threshold `k` of the rule.
    min_count: u64,
    /// What the server published before this snapshot (shared by the snapshots that follow).
    publisher: Arc<published::Publisher>,
    /// The H3 layers of every resolution under the rule, computed once (single flight:
    /// concurrent first requests wait for the one computation, which finishes and stays cached
    /// even if its client has gone).
    hexes: Arc<std::sync::OnceLock<Arc<ShownLayers>>>,
    /// The whole layer's GeoJSON per resolution, once built.
    hex_docs: Mutex<HashMap<u8, Arc<Doc>>>,
    /// How many times this snapshot computed its H3 layers (for tests of the single flight).
    hex_computations: std::sync::atomic::AtomicUsize,
    basemap: Option<String>,
    /// The vector tiles encoded so far.
    tiles: tiles::TileCache,
    /// Area position → its position in `engine.ranked(its level)`, once asked for.
    ranked_at: std::sync::OnceLock<Vec<Option<u32>>>,
    /// True for a snapshot as of a past day (`as_of=`): its rule is not published.
    past: bool,
    /// The snapshots as of past days asked for lately (newest use last).
    days: Mutex<Vec<(chrono::NaiveDate, Arc<AppState>)>>,
}

/// Past days' snapshots kept per snapshot (a replay of the campaign asks for each day in turn).
const PAST_DAYS_KEPT: usize = 8;

impl AppState {
    /// Prebuilds the area documents (every level, every detail tier) under the small-count rule
    /// with the default threshold ([`DEFAULT_MIN_COUNT`]).
    #[must_use]
    pub fn new(engine: Arc<Engine>, basemap: Option<String>) -> Self {
        Self::with_min_count(engine, basemap, DEFAULT_MIN_COUNT)
    }

    /// Like [`AppState::new`], withholding counts of fewer than `k` households.
    #[must_use]
    pub fn with_min_count(engine: Arc<Engine>, basemap: Option<String>, k: u64) -> Self {
        Self::with_publisher(
            engine,
            basemap,
            k,
            Arc::new(published::Publisher::in_memory()),
        )
    }

    /// Like [`AppState::with_min_count`], protected against what `publisher` published before
    /// (and publishing through it).
    #[must_use]
    pub fn with_publisher(
        engine: Arc<Engine>,
        basemap: Option<String>,
        k: u64,
        publisher: Arc<published::Publisher>,
    ) -> Self {
        let shapes = Arc::new(layers::Shapes::new(&engine));
        Self::with_shapes(engine, shapes, basemap, k, publisher, false)
    }

    /// The snapshot after this one: `engine` with this snapshot's shapes when its areas are
    /// the same (an applied batch), else new ones.
    #[must_use]
    pub fn next(&self, engine: Arc<Engine>) -> Self {
        let shapes = if engine.shares_areas(&self.engine) {
            Arc::clone(&self.shapes)
        } else {
            Arc::new(layers::Shapes::new(&engine))
        };
        Self::with_shapes(
            engine,
            shapes,
            self.basemap.clone(),
            self.min_count,
            Arc::clone(&self.publisher),
            false,
        )
    }

    /// The snapshot as of `date` (every figure from the visits up to that day; none before the
    /// campaign start): this one when `date` is its last day with data or later, else built
    /// (or taken from the last few asked for).
    #[must_use]
    pub fn on(self: &Arc<Self>, date: chrono::NaiveDate) -> Arc<Self> {
        let mut days = self
            .days
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(k) = days.iter().position(|(d, _)| *d == date) {
            let hit = days.remove(k);
            let snap = Arc::clone(&hit.1);
            days.push(hit);
            return snap;
        }
        let Some(engine) = self.engine.until(date) else {
            return Arc::clone(self);
        };
        let snap = Arc::new(Self::with_shapes(
            Arc::new(engine),
            Arc::clone(&self.shapes),
            self.basemap.clone(),
            self.min_count,
            Arc::clone(&self.publisher),
            true,
        ));
        if days.len() >= PAST_DAYS_KEPT {
            days.remove(0);
        }
        days.push((date, Arc::clone(&snap)));
        snap
    }

    fn with_shapes(
        engine: Arc<Engine>,
        shapes: Arc<layers::Shapes>,
        basemap: Option<String>,
        min_count: u64,
        publisher: Arc<published::Publisher>,
        past: bool,
    ) -> Self {
        let rule = if past {
            AreaRule::past(&engine, min_count, &publisher.last(Published::Areas))
        } else {
            publisher.publish(Published::Areas, |prev| {
                AreaRule::after(&engine, min_count, prev)
            })
        };
        let mut areas = HashMap::new();
        for level in Level::ALL {
            let docs = (0..=layers::POINT_TIER)
                .map(|_| std::sync::OnceLock::new())
                .collect();
            areas.insert(level, docs);
        }
        let snap = Self {
            engine,
            built_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            areas,
            shapes,
            rule,
            min_count,
            publisher,
            hexes: Arc::default(),
            hex_docs: Mutex::new(HashMap::new()),
            hex_computations: std::sync::atomic::AtomicUsize::new(0),
            basemap,
            tiles: tiles::TileCache::default(),
            ranked_at: std::sync::OnceLock::new(),
            past,
            days: Mutex::new(Vec::new()),
        };
        if !past {
            // Every document of the newest snapshot before it serves: a cheap route must never
            // wait for the shapes to be written (they are, once per load, on the first snapshot).
            for level in Level::ALL {
                for tier in 0..=layers::POINT_TIER {
                    snap.area_doc(level, tier);
                }
            }
        }
        snap
    }

    /// The GeoJSON of the areas at `level` and detail `tier`, built on first use.
    fn area_doc(&self, level: Level, tier: usize) -> Option<&Doc> {
        let cell = self.areas.get(&level)?.get(tier)?;
        Some(cell.get_or_init(|| {
            Doc::new(layers::areas_document(
                &self.engine,
                &self.shapes,
                &self.rule,
                level,
                tier,
            ))
        }))
    }

    /// The H3 layers of every resolution under the small-count rule: computed on the first call
    /// (which blocks; concurrent callers wait for it), then kept with the snapshot.
    #[must_use]
    pub fn hex_layers(&self) -> Arc<ShownLayers> {
        Arc::clone(self.hexes.get_or_init(|| {
            self.hex_computations
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if self.past {
                let current = self.publisher.last(Published::Hexes);
                Arc::new(layers::hex_layers(&self.engine, &self.shapes, self.min_count, &current).0)
            } else {
                Arc::new(self.publisher.publish(Published::Hexes, |prev| {
                    layers::hex_layers(&self.engine, &self.shapes, self.min_count, prev)
                }))
            }
        }))
    }

    /// Area `i`'s ranked figures (rank, reasons) in this snapshot.
    #[must_use]
    pub fn priority_of(&self, i: usize) -> Option<&crate::priority::Priority> {
        let e = &self.engine;
        let at = self.ranked_at.get_or_init(|| {
            let mut at = vec![None; e.areas().len()];
            for level in Level::ALL {
                for (r, p) in e.ranked(level).iter().enumerate() {
                    if let Some(i) = e.position(&p.figures.code) {
                        at[i] = u32::try_from(r).ok();
                    }
                }
            }
            at
        });
        let r = usize::try_from((*at.get(i)?)?).ok()?;
        e.ranked(e.areas().get(i)?.level).get(r)
    }

    /// What the small-count rule withholds of the areas.
    #[must_use]
    pub fn rule(&self) -> &AreaRule {
        &self.rule
    }

    /// An area's figures (its `Figures`, or its `Priority` with rank and reasons) under the rule,
    /// without the map's extras.
    fn shown(&self, code: &str, value: &impl serde::Serialize) -> serde_json::Map<String, Value> {
        let mut m = layers::object(value);
        if let Some(i) = self.engine.position(code) {
            self.rule.apply(i, &mut m);
        }
        m
    }

    /// A plan's rows (and placements) under the rule for whoever asks: an area whose households
    /// or pace are withheld gets no completion dates and the rule's sentence as its reason,
    /// unless the token may see it in full.
    pub(crate) fn mask_plan(
        &self,
        plan: &mut Value,
        live: &live::Live,
        headers: &axum::http::HeaderMap,
    ) {
        for list in ["rows", "placements"] {
            let Some(Value::Array(rows)) = plan.get_mut(list) else {
                continue;
            };
            for row in rows {
                let Some(i) = row
                    .get("code")
                    .and_then(Value::as_str)
                    .and_then(|c| self.engine.position(c))
                else {
                    continue;
                };
                if self.rule.withheld(i).projected()
                    && !sees_in_full(live, headers, &self.engine, i)
                    && let Value::Object(m) = row
                {
                    for name in ["completion_before", "completion_after", "on_track_after"] {
                        m.insert(name.into(), Value::Null);
                    }
                    m.insert("reason".into(), json!(self.rule.withheld_reason(false)));
                    m.insert("reason_vi".into(), json!(self.rule.withheld_reason(true)));
                }
            }
        }
    }

    /// The properties of area `p` as served: under the rule unless `full`.
    fn area_properties(
        &self,
        p: &crate::priority::Priority,
        full: bool,
    ) -> serde_json::Map<String, Value> {
        layers::properties(&self.engine, &self.shapes, (!full).then_some(&self.rule), p)
    }

    /// The snapshot's engine.
    #[must_use]
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// How many times the H3 layers were computed (once per snapshot at most).
    #[must_use]
    pub fn hex_computations(&self) -> usize {
        self.hex_computations
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A prebuilt document, and its gzip form, made on the first request that accepts it (off the
/// async workers) and kept with the snapshot.
struct Doc {
    plain: Bytes,
    gzip: Arc<std::sync::OnceLock<Bytes>>,
}

impl Doc {
    fn new(text: String) -> Self {
        Self {
            plain: Bytes::from(text),
            gzip: Arc::default(),
        }
    }
}

/// True when the request accepts a gzip body.
fn accepts_gzip(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|e| {
                let mut parts = e.split(';');
                let name = parts.next().unwrap_or("").trim();
                let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
                (name == "gzip" || name == "*") && !refused
            })
        })
}

/// `bytes` gzipped at `level` (1 fast … 9 small).
fn gzip(bytes: &[u8], level: u32) -> Bytes {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    Bytes::from(enc.finish().unwrap_or_default())
}

/// A GeoJSON answer, already gzipped when `gzipped` (the compression layer leaves it alone).
fn geojson_bytes(body: Bytes, gzipped: bool) -> Response {
    let mut res = ([(header::CONTENT_TYPE, "application/geo+json")], body).into_response();
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzipped {
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    res
}

/// A JSON answer from a value built by hand.
fn json_answer(value: &Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// The H3 layers of `s`, computed off the async workers (once per snapshot) within the bound on
/// expensive work: `Err` is the 503 to send when that bound is reached.
async fn hex_layers_bounded(
    s: &Arc<AppState>,
    expensive: &server::Expensive,
) -> Result<Result<Arc<ShownLayers>, Response>, ApiError> {
    if let Some(l) = s.hexes.get() {
        return Ok(Ok(Arc::clone(l)));
    }
    let Ok(_permit) = expensive.0.try_acquire() else {
        return Ok(Err(server::busy(
            "too many H3 layers, plans, what-ifs or exports at once",
        )));
    };
    let snap = Arc::clone(s);
    tokio::task::spawn_blocking(move || snap.hex_layers())
        .await
        .map(Ok)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// The snapshot a read asks for: as of the day of its `as_of` parameter (built off the async
/// workers when not kept), else `s`.
async fn asked(s: Arc<AppState>, q: &HashMap<String, String>) -> Result<Arc<AppState>, ApiError> {
    let Some(date) = params::as_of(q)? else {
        return Ok(s);
    };
    tokio::task::spawn_blocking(move || s.on(date))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// The current snapshot, for a handler.
pub struct Snap(pub Arc<AppState>);

impl axum::extract::FromRequestParts<Arc<live::Live>> for Snap {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        _parts: &mut axum::http::request::Parts,
        live: &Arc<live::Live>,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(live.current()))
    }
}

/// Reads need a token when the server is not open to its network (see [`live::ReadAccess`]).
async fn read_guard(
    State(live): State<Arc<live::Live>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    let exempt = path == "/api/health"
        || !["/api", "/ogc", "/tiles"]
            .iter()
            .any(|p| path == *p || path.starts_with(&format!("{p}/")));
    if live.read_access == live::ReadAccess::Token && !exempt {
        match upload::bearer(req.headers()) {
            Some(secret) if live.token(secret).is_some() => {}
            Some(_) => {
                return ApiError::Unauthorized("unknown or revoked token".into()).into_response();
            }
            None => {
                return ApiError::Unauthorized(
                    "this server is not on loopback: reads need a token (Authorization: Bearer …)"
                        .into(),
                )
                .into_response();
            }
        }
    }
    next.run(req).await
}

/// The application over one snapshot that never changes (no store, no writes).
pub fn router(state: Arc<AppState>, web_dir: Option<PathBuf>) -> Router {
    router_live(Arc::new(live::Live::read_only(state)), web_dir)
}

/// The application with the default [`server::Limits`].
pub fn router_live(live: Arc<live::Live>, web_dir: Option<PathBuf>) -> Router {
    router_with(live, web_dir, server::Limits::default())
}

/// The application: API routes, the web page from `web_dir` at `/`; around them (outermost
/// first) the access log, the bound on requests in flight, the guard (security headers, JSON
/// bodies, `Origin`, JSON errors), the request timeout and compression. Expensive routes share
/// one smaller bound.
pub fn router_with(
    live: Arc<live::Live>,
    web_dir: Option<PathBuf>,
    limits: server::Limits,
) -> Router {
    let csp = guard::content_security_policy(live.current().basemap.as_deref());
    let csp = HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static("default-src 'self'"));
    let expensive = server::Expensive(Arc::new(tokio::sync::Semaphore::new(limits.expensive)));
    let per_client = rate::RateLimit::new(limits.client_burst, limits.client_per_second);
    let costly = || {
        tower::ServiceBuilder::new()
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&per_client),
                rate::limit,
            ))
            .layer(axum::middleware::from_fn_with_state(
                expensive.clone(),
                server::expensive,
            ))
    };
    let api = Router::new()
        .route("/api/health", get(health))
        .route("/api/summary", get(summary))
        .route("/api/areas", get(areas))
        .route("/api/areas/{code}", get(area))
        .route("/api/priorities", get(priorities))
        // Bounded inside: a cached document is served without a permit.
        .route("/api/hexes", get(hexes))
        .route("/api/export/areas.csv", get(export_csv).layer(costly()))
        .route(
            "/api/export/areas.parquet",
            get(export_parquet).layer(costly()),
        )
        .route(
            "/api/export/priorities.xlsx",
            get(reports::priorities).layer(costly()),
        )
        .route(
            "/api/export/audit.xlsx",
            get(reports::audit).layer(costly()),
        )
        .route("/api/export/plan.xlsx", get(reports::plan).layer(costly()))
        .route("/api/openapi.json", get(openapi))
        .route("/api/audit", get(audit).layer(costly()))
        .route("/api/plan", post(planning::plan).layer(costly()))
        // Up to 10,000 changes: more than the default 64 KiB.
        .route(
            "/api/whatif",
            post(planning::whatif)
                .layer(DefaultBodyLimit::max(4 << 20))
                .layer(costly()),
        )
        .route("/api/me", get(upload::me))
        .route(
            "/api/plans",
            get(decisions::list)
                .post(decisions::save)
                .layer(DefaultBodyLimit::max(4 << 20)),
        )
        .route("/api/plans/{id}", get(decisions::one))
        .route("/api/admin/log", get(decisions::log))
        .route("/api/teams/{team_id}", put(roster::put_team))
        .route(
            "/api/roster",
            post(roster::post_roster).layer(DefaultBodyLimit::max(upload::MAX_UPLOAD_BYTES)),
        )
        .route(
            "/api/visits",
            post(upload::visits).layer(DefaultBodyLimit::max(upload::MAX_UPLOAD_BYTES)),
        )
        .route("/ogc", get(ogc::landing))
        .route("/ogc/conformance", get(ogc::conformance))
        .route("/ogc/collections", get(ogc::collections))
        .route("/ogc/collections/{collectionId}", get(ogc::collection))
        .route("/ogc/collections/{collectionId}/items", get(ogc::items))
        .route(
            "/ogc/collections/{collectionId}/items/{featureId}",
            get(ogc::item),
        )
        .route("/ogc/{*rest}", any(ogc::unknown))
        .route("/tiles", get(tiles::catalog))
        .route("/tiles/{layer}", get(tiles::tilejson_route))
        .route("/tiles/{layer}/{z}/{x}/{y}", get(tiles::tile))
        .route("/api", any(unknown_route))
        .route("/api/{*rest}", any(unknown_route))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&live),
            read_guard,
        ))
        .with_state(live)
        .layer(axum::Extension(expensive))
        .layer(axum::Extension(per_client))
        .layer(DefaultBodyLimit::max(64 * 1024));
    let app = match web_dir {
        Some(dir) => api.fallback_service(ServeDir::new(dir)),
        None => api,
    };
    let in_flight = Arc::new(tokio::sync::Semaphore::new(limits.in_flight));
    app.layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.request,
        ))
        .layer(axum::middleware::from_fn_with_state(csp, guard::guard))
        .layer(axum::middleware::from_fn_with_state(
            in_flight,
            server::in_flight,
        ))
        .layer(axum::middleware::from_fn(server::access_log))
}

/// Serves until Ctrl-C (graceful shutdown) with the default [`server::Limits`]. `on_ready`
/// gets the bound address.
///
/// # Errors
/// When the address cannot be bound or the server fails.
pub async fn serve(
    state: Arc<live::Live>,
    web_dir: Option<PathBuf>,
    listener: std::net::TcpListener,
    on_ready: impl FnOnce(std::net::SocketAddr),
) -> std::io::Result<()> {
    serve_with(
        state,
        web_dir,
        listener,
        server::Limits::default(),
        on_ready,
    )
    .await
}

/// As [`serve`], with `limits`.
///
/// # Errors
/// As [`serve`].
pub async fn serve_with(
    state: Arc<live::Live>,
    web_dir: Option<PathBuf>,
    listener: std::net::TcpListener,
    limits: server::Limits,
    on_ready: impl FnOnce(std::net::SocketAddr),
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    on_ready(listener.local_addr()?);
    server::run(router_with(state, web_dir, limits), listener, limits).await
}

type Q = Query<HashMap<String, String>>;

async fn unknown_route() -> ApiError {
    ApiError::NotFound("no such API route; see /api/openapi.json".into())
}

#[utoipa::path(get, path = "/api/health", tag = "read", summary = "Liveness (never refused, even when shedding load)",
    responses((status = 200, body = schema::Health)))]
async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

#[utoipa::path(get, path = "/api/summary", tag = "read", summary = "Province totals, campaign day and deadline, visit row counts, population vintages",
    params(("as_of" = Option<String>, Query, format = Date, description = "figures as of this campaign day (YYYY-MM-DD): from the visits up to that day only; a day at or after the last day with data gives today's")),
    responses((status = 200, body = schema::Summary), (status = 400, body = schema::Error)))]
async fn summary(Snap(s): Snap, Query(q): Q) -> Result<Json<Value>, ApiError> {
    params::only(&q, &["as_of"])?;
    let s = asked(s, &q).await?;
    let e = &s.engine;
    let c = e.campaign();
    // The root: the province (the whole country for a national directory).
    let province = e
        .figures()
        .first()
        .map(|f| Value::Object(s.shown(&f.code, f)))
        .ok_or_else(|| ApiError::Internal("no province".into()))?;
    let r = e.visit_report();
    let (census, published, used) = e.population_vintages();
    let days_left = (c.deadline() - e.as_of()).num_days();
    Ok(Json(json!({
        "province": province,
        "campaign": {
            "start": c.start, "deadline": c.deadline(), "days": c.days, "target_coverage": c.target_coverage,
            "as_of": e.as_of(), "day": e.as_of_day() + 1, "days_left": days_left,
            "rate_window_days": c.rate_window_days, "tntn_min_members": c.tntn_min_members,
        },
        "visits": { "rows_read": r.rows_read, "rows_accepted": r.rows_accepted, "rejected": r.rejected, "outside": e.outside() },
        "population": { "in_use": used, "census_2019": census, "published_2025": published },
        "counts": Level::ALL.iter().map(|l| (l.as_str(), e.figures_at(*l).count())).collect::<HashMap<_, _>>(),
        "services": Service::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "basemap_url": s.basemap,
        "data_changed_at": s.built_at,
        "min_count": s.min_count,
        "synthetic": e.synthetic(),
        "data": {
            "neighbourhoods": e.figures_at(Level::Neighbourhood).count(),
            "teams": e.teams().len(),
            "visits": e.has_visits(),
        },
    })))
}

#[utoipa::path(get, path = "/api/areas", tag = "read", summary = "Areas of one level as a GeoJSON FeatureCollection, every figure under the small-count rule",
    params(("level" = Option<Level>, Query, description = "the level (default ward)"), ("zoom" = Option<u8>, Query, maximum = 24, description = "map zoom: geometry ≈55 m up to 10, ≈11 m up to 13, full beyond; ≈11 m when absent"), ("geometry" = Option<String>, Query, pattern = "^(polygon|point)$", description = "polygon (default): the shapes; point: each area as its label point with its bounding box (`bbox`), for a page that draws the shapes from the vector tiles"), ("as_of" = Option<String>, Query, format = Date, description = "figures as of this campaign day (YYYY-MM-DD): from the visits up to that day only; a day at or after the last day with data gives today's")),
    responses((status = 200, body = schema::AreaCollection, content_type = "application/geo+json"), (status = 400, body = schema::Error)))]
async fn areas(
    Snap(s): Snap,
    Query(q): Q,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    params::only(&q, &["level", "zoom", "as_of", "geometry"])?;
    let s = asked(s, &q).await?;
    let level = params::level(&q, Level::Ward)?;
    // `zoom` is checked even where it does not matter (with `geometry=point`).
    let zoom = match q.get("zoom") {
        Some(_) => Some(params::number(&q, "zoom", 12, 0..=24)?),
        None => None,
    };
    let tier = match (q.get("geometry").map(String::as_str), zoom) {
        (Some("point"), _) => layers::POINT_TIER,
        (Some(other), _) if other != "polygon" => {
            return Err(ApiError::BadRequest(format!(
                "geometry={other:?}: expected polygon (the default) or point"
            )));
        }
        (_, Some(z)) => layers::tier_for_zoom(z),
        (_, None) => 1,
    };
    let doc = s
        .area_doc(level, tier)
        .ok_or_else(|| ApiError::Internal("missing layer".into()))?;
    serve_doc(doc, accepts_gzip(&headers)).await
}

#[utoipa::path(get, path = "/api/areas/{code}", tag = "read", summary = "One area: figures, reasons, parent, children, former units, daily series (in full for an admin or a planner of its ward)",
    params(("code" = String, Path, description = "area code"), ("as_of" = Option<String>, Query, format = Date, description = "figures and series as of this campaign day (YYYY-MM-DD)")),
    responses((status = 200, body = schema::AreaDetail), (status = 400, body = schema::Error), (status = 404, body = schema::Error)))]
async fn area(
    Snap(s): Snap,
    State(live): State<Arc<live::Live>>,
    Path(code): Path<String>,
    Query(q): Q,
    headers: axum::http::HeaderMap,
) -> Result<Json<Value>, ApiError> {
    params::only(&q, &["as_of"])?;
    let s = asked(s, &q).await?;
    let e = &s.engine;
    let i = e
        .position(&code)
        .ok_or_else(|| ApiError::NotFound(format!("no area with code {code:?}")))?;
    let a = &e.areas()[i];
    let ranked = e.ranked(a.level);
    let p = ranked
        .iter()
        .find(|p| p.figures.code == code)
        .ok_or_else(|| ApiError::Internal("unranked area".into()))?;
    let full = sees_in_full(&live, &headers, e, i);
    let link = |j: usize| json!({ "code": e.areas()[j].code, "name": e.areas()[j].name, "level": e.areas()[j].level });
    let props = s.area_properties(p, full);
    let mut ancestors: Vec<Value> = std::iter::successors(a.parent, |&j| e.areas()[j].parent)
        .map(link)
        .collect();
    ancestors.reverse();
    Ok(Json(json!({
        "area": props,
        "full": full,
        "min_count": s.min_count,
        "parent": a.parent.map(link),
        "ancestors": ancestors,
        "children": a.children.iter().map(|&j| link(j)).collect::<Vec<_>>(),
        "former_units": a.former_units.iter().map(|u| json!({ "code": u.code, "name": u.name, "share": u.share })).collect::<Vec<_>>(),
        "series": s.rule.series(e, i, full),
        "funnel": funnel(&props),
    })))
}

/// The service funnel of an area from its served properties: per step (in [`Service::ALL`]
/// order) the households (null when withheld), the share of the step before (from the second
/// step) and the share of the households reached.
fn funnel(props: &serde_json::Map<String, Value>) -> Value {
    let reached = props.get("households_reached").and_then(Value::as_u64);
    let mut before: Option<Option<u64>> = None;
    let steps: Vec<Value> = Service::ALL
        .iter()
        .map(|s| {
            let n = props
                .get(&format!("households_{}", s.as_str()))
                .and_then(Value::as_u64);
            let share = |of: Option<u64>| match (n, of) {
                (Some(n), Some(d)) if d > 0 => json!(n as f64 / d as f64),
                _ => Value::Null,
            };
            let step = json!({
                "service": s.as_str(),
                "households": n,
                "of_previous": before.map_or(Value::Null, share),
                "of_reached": share(reached),
            });
            before = Some(n);
            step
        })
        .collect();
    Value::Array(steps)
}

/// True when the request's token may see area `i` without the small-count rule: an admin, a
/// planner of the whole province, or a planner of the area's ward (the ward and what is in it).
fn sees_in_full(live: &live::Live, headers: &axum::http::HeaderMap, e: &Engine, i: usize) -> bool {
    let Some(token) = upload::bearer(headers).and_then(|secret| live.token(secret)) else {
        return false;
    };
    if token.role.is_admin() {
        return true;
    }
    if !token.role.may_plan() {
        return false;
    }
    if token.wards.is_empty() {
        return true;
    }
    let mut at = Some(i);
    while let Some(j) = at {
        let area = &e.areas()[j];
        if area.level == Level::Ward {
            return token.wards.iter().any(|w| w == area.code.as_str());
        }
        at = area.parent;
    }
    false
}

#[utoipa::path(get, path = "/api/priorities", tag = "read", summary = "Areas ranked by members needed, with reasons in English and Vietnamese",
    params(("level" = Option<Level>, Query, description = "the level (default ward)"), ("limit" = Option<u64>, Query, minimum = 1, maximum = 5000, description = "rows (default 20)"), ("as_of" = Option<String>, Query, format = Date, description = "figures as of this campaign day (YYYY-MM-DD): from the visits up to that day only; a day at or after the last day with data gives today's")),
    responses((status = 200, body = schema::Priorities), (status = 400, body = schema::Error)))]
async fn priorities(Snap(s): Snap, Query(q): Q) -> Result<Json<Value>, ApiError> {
    params::only(&q, &["level", "limit", "as_of"])?;
    let s = asked(s, &q).await?;
    let level = params::level(&q, Level::Ward)?;
    let limit = params::number(&q, "limit", 20, 1..=MAX_PRIORITIES)?;
    let items: Vec<Value> = s
        .engine
        .ranked(level)
        .iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|p| Value::Object(s.shown(&p.figures.code, p)))
        .collect();
    Ok(Json(
        json!({ "level": level, "as_of": s.engine.as_of(), "items": items }),
    ))
}

#[utoipa::path(get, path = "/api/hexes", tag = "read", summary = "H3 cells under the small-count rule: visits, distinct households, estimated population, blind spots",
    params(("res" = Option<u8>, Query, minimum = 6, maximum = 10, description = "H3 resolution (default 8)"), ("bbox" = Option<String>, Query, description = "minLon,minLat,maxLon,maxLat; at most 20,000 cells per answer")),
    responses((status = 200, body = schema::CellCollection, content_type = "application/geo+json"), (status = 400, body = schema::Error), (status = 429, body = schema::Error)))]
async fn hexes(
    Snap(s): Snap,
    Query(q): Q,
    headers: axum::http::HeaderMap,
    axum::Extension(expensive): axum::Extension<server::Expensive>,
    axum::Extension(per_client): axum::Extension<Arc<rate::RateLimit>>,
    peer: Option<axum::Extension<rate::Peer>>,
) -> Result<Response, ApiError> {
    params::only(&q, &["res", "bbox"])?;
    let res = params::resolution(&q)?;
    let bbox = params::bbox(&q)?;
    let key = u8::from(res);
    let zip = accepts_gzip(&headers);
    // The whole layer's document, once built, is served like the prebuilt area documents.
    let whole = if bbox.is_none() {
        s.hex_docs
            .lock()
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .get(&key)
            .cloned()
    } else {
        None
    };
    if let Some(doc) = whole {
        return serve_doc(&doc, zip).await;
    }
    // Anything else is computed, within the client's rate and the bound on expensive work.
    if let Some(axum::Extension(rate::Peer(ip))) = peer
        && let Err(wait) = per_client.take(ip, std::time::Instant::now())
    {
        return Ok(rate::too_many(&per_client, ip, wait));
    }
    let Ok(_permit) = expensive.0.try_acquire() else {
        return Ok(server::busy(
            "too many H3 layers, plans, what-ifs or exports at once",
        ));
    };
    // Refuse before computing: the layer covers the areas, so the cells in the box are about the
    // areas' km² in the box over a cell's km² (counted exactly below once computed).
    if s.hexes.get().is_none() {
        let estimate = estimated_cells(&s.engine, bbox, res);
        if estimate > 2.0 * MAX_CELLS as f64 {
            return Err(ApiError::BadRequest(format!(
                "about {} cells at resolution {key} in this box exceed the limit of {MAX_CELLS}; pass a smaller bbox or a coarser res",
                crate::priority::int(estimate, crate::priority::Lang::En)
            )));
        }
    }
    // Off the async workers: the layers (once, for every waiting request), the document and its
    // compression.
    let snap = Arc::clone(&s);
    let doc = tokio::task::spawn_blocking(move || {
        let layers = snap.hex_layers();
        let cells: Vec<&ShownCell> = layers
            .layer(key)
            .iter()
            .filter(|h| {
                bbox.is_none_or(|b| {
                    let ll = h3o::LatLng::from(h.cell);
                    b.contains(ll.lng(), ll.lat())
                })
            })
            .collect();
        if cells.len() > MAX_CELLS {
            return Err(ApiError::BadRequest(format!(
                "{} cells at resolution {key} exceed the limit of {MAX_CELLS}; pass a smaller bbox or a coarser res",
                cells.len()
            )));
        }
        let doc = layers::hex_document(&cells, key);
        if bbox.is_none() {
            let doc = Arc::new(Doc::new(doc));
            if let Ok(mut docs) = snap.hex_docs.lock() {
                docs.insert(key, Arc::clone(&doc));
            }
            return Ok(Err(doc));
        }
        Ok(Ok(if zip {
            gzip(doc.as_bytes(), 1)
        } else {
            Bytes::from(doc)
        }))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    match doc {
        Ok(bytes) => Ok(geojson_bytes(bytes, zip)),
        Err(whole) => serve_doc(&whole, zip).await,
    }
}

/// A prebuilt document, gzipped (once, off the async workers) when the client accepts it.
async fn serve_doc(doc: &Doc, zip: bool) -> Result<Response, ApiError> {
    if !zip {
        return Ok(geojson_bytes(doc.plain.clone(), false));
    }
    let zipped = match doc.gzip.get() {
        Some(z) => z.clone(),
        None => {
            let (plain, slot) = (doc.plain.clone(), Arc::clone(&doc.gzip));
            tokio::task::spawn_blocking(move || slot.get_or_init(|| gzip(&plain, 6)).clone())
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
        }
    };
    Ok(geojson_bytes(zipped, true))
}

/// About how many H3 cells at `res` the area layer has inside `bbox`: the province's area times
/// the share of its bounding box that `bbox` covers, over the mean cell area.
fn estimated_cells(engine: &Engine, bbox: Option<params::BBox>, res: h3o::Resolution) -> f64 {
    use geo::BoundingRect;
    let province = &engine.figures()[0];
    let Some(extent) = engine.areas()[0]
        .geometry
        .as_ref()
        .and_then(BoundingRect::bounding_rect)
    else {
        return 0.0;
    };
    let share = bbox.map_or(1.0, |b| {
        let w = (b.max_lon.min(extent.max().x) - b.min_lon.max(extent.min().x)).max(0.0);
        let h = (b.max_lat.min(extent.max().y) - b.min_lat.max(extent.min().y)).max(0.0);
        (w * h / (extent.width() * extent.height()).max(1e-12)).min(1.0)
    });
    province.area_km2 * share / res.area_km2()
}

fn export_rows(s: &AppState, q: &HashMap<String, String>) -> Result<Vec<Value>, ApiError> {
    params::only(q, &["level"])?;
    let level = params::level(q, Level::Ward)?;
    Ok(s.engine
        .ranked(level)
        .iter()
        .map(|p| Value::Object(s.shown(&p.figures.code, p)))
        .collect())
}

#[utoipa::path(get, path = "/api/export/areas.csv", tag = "read", summary = "Every figure per area as CSV (withheld figures empty)",
    params(("level" = Option<Level>, Query, description = "the level (default ward)")),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 400, body = schema::Error)))]
async fn export_csv(Snap(s): Snap, Query(q): Q) -> Result<Response, ApiError> {
    let rows = export_rows(&s, &q)?;
    let body = crate::output::csv(&rows).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"areas.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/export/areas.parquet", tag = "read", summary = "Every figure per area as Parquet (withheld figures null)",
    params(("level" = Option<Level>, Query, description = "the level (default ward)")),
    responses((status = 200, body = Vec<u8>, content_type = "application/vnd.apache.parquet"), (status = 400, body = schema::Error)))]
async fn export_parquet(Snap(s): Snap, Query(q): Q) -> Result<Response, ApiError> {
    let rows = export_rows(&s, &q)?;
    let body = crate::output::parquet(&rows).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/vnd.apache.parquet"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"areas.parquet\"",
            ),
        ],
        body,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/openapi.json", tag = "read", summary = "This document",
    responses((status = 200, body = Object)))]
async fn openapi(Snap(s): Snap) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi::document(
            &s.engine,
            &ogc::all(&s)
                .into_iter()
                .map(ogc::Collection::id)
                .collect::<Vec<_>>(),
            &tiles::all(&s)
                .into_iter()
                .map(tiles::TileLayer::id)
                .collect::<Vec<_>>(),
        ),
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/audit", tag = "read", summary = "Staffing-norm audit (a TNTN team of ≥20 per neighbourhood; a pair per residential group), worst first",
    params(("level" = Option<Level>, Query, description = "the level (default ward)")),
    responses((status = 200, body = schema::Audit), (status = 400, body = schema::Error)))]
async fn audit(Snap(s): Snap, Query(q): Q) -> Result<Json<Value>, ApiError> {
    params::only(&q, &["level"])?;
    let level = params::level(&q, Level::Ward)?;
    Ok(Json({
        let (summary, items) = s.engine.audit_with_summary(level);
        json!({ "level": level, "summary": summary, "items": items })
    }))
}
