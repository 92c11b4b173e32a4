//! Mapbox Vector Tiles of every layer, with a TileJSON per layer, in the shape martin serves
//! them, so MapLibre and QGIS add them by URL.
//!
//! | route | answer |
//! |---|---|
//! | `GET /tiles` | the layers and their TileJSON URLs |
//! | `GET /tiles/{layer}.json` | TileJSON 3.0.0: tile URL, zooms, bounds, the fields of the features |
//! | `GET /tiles/{layer}/{z}/{x}/{y}.mvt` | one tile (204 when empty); `ETag`, `If-None-Match` → 304 |
//!
//! Layers: `province`, `districts`, `wards`, `neighbourhoods` (every figure of `/api/areas` as
//! feature properties, withheld ones absent) and `h3` (the cells of `/api/hexes`, resolution by
//! zoom: [`resolution_for_zoom`]). Geometry is simplified to half a tile unit at the tile's zoom
//! and cut to the tile with a 64-unit buffer ([`crate::spatial::tiles`]); the cut shapes are kept
//! across snapshots (visits do not move areas), the encoded tiles per snapshot, so an upload
//! changes exactly the tiles whose figures it changed (and their `ETag`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use geo::{Intersects, MultiPolygon};
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::{AppState, Snap, params, server};
use crate::engine::Engine;
use crate::model::Level;
use crate::spatial::tiles::{self as grid, BUFFER, DETAIL_ZOOM, EXTENT, TileId, TilePolygon};

/// The media type of a tile.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";
/// The highest zoom a TileJSON announces (clients over-zoom beyond; tiles are served to 22).
pub const MAX_ANNOUNCED_ZOOM: u8 = 16;

/// Below this zoom (the overview of a province or the country) area features carry only
/// [`OVERVIEW_PROPERTIES`]; from it on, every figure, the reasons and the names. A national
/// tile at zoom 5 holds over a thousand wards: with every figure and both reasons it weighs
/// more than 1 MB.
pub const OVERVIEW_ZOOM: u8 = grid::OVERVIEW_ZOOM;

/// What an area feature carries below [`OVERVIEW_ZOOM`]: what the map colours, labels and
/// ranks by.
pub const OVERVIEW_PROPERTIES: [&str; 15] = [
    "code",
    "name",
    "level",
    "parent_code",
    "rank",
    "population",
    "households_reached",
    "coverage_ratio",
    "density_per_km2",
    "residents_per_member",
    "members_needed",
    "days_to_target",
    "on_track",
    "pairs_short",
    "withheld",
];
/// Encoded tiles kept per snapshot, in bytes, before the cache starts again.
const TILE_CACHE_BYTES: usize = 256 << 20;
/// Cut shapes kept (tiles × level) before that cache starts again.
const CUT_CACHE_TILES: usize = 100_000;

/// A tile layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileLayer {
    /// The areas of a level.
    Areas(Level),
    /// H3 cells, resolution by zoom.
    Cells,
}

impl TileLayer {
    /// The layer's id in URLs and inside the tile.
    #[must_use]
    pub fn id(self) -> &'static str {
        match self {
            Self::Areas(level) => super::ogc::level_id(level),
            Self::Cells => "h3",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Self::Areas(Level::Country) => "The whole country, with every figure",
            Self::Areas(Level::Province) => "The province(s), with every figure",
            Self::Areas(Level::District) => "Former (pre-2025) districts, with every figure",
            Self::Areas(Level::Ward) => "Wards and communes of 2025, with every figure",
            Self::Areas(Level::Neighbourhood) => "Neighbourhoods (khu phố / ấp), with every figure",
            Self::Cells => {
                "H3 cells (resolution 6 up to zoom 7, 7 to 9, 8 to 11, 9 to 13, 10 beyond): visits, households, estimated residents, blind spots"
            }
        }
    }
}

/// The layers of `snap`: each level with areas, then the H3 cells.
#[must_use]
pub fn all(snap: &AppState) -> Vec<TileLayer> {
    super::ogc::levels(snap)
        .map(TileLayer::Areas)
        .chain([TileLayer::Cells])
        .collect()
}

/// The H3 resolution the `h3` layer shows at zoom `z`: cells of a few pixels to a few dozen.
#[must_use]
pub fn resolution_for_zoom(z: u8) -> u8 {
    match z {
        0..=7 => 6,
        8..=9 => 7,
        10..=11 => 8,
        12..=13 => 9,
        _ => 10,
    }
}

/// The areas of one level in one tile: (area position, its polygons in tile units).
pub type Cut = Arc<Vec<(usize, Vec<TilePolygon>)>>;

/// Area shapes in tiles: projected once, simplified once per zoom, cut once per tile. Shared by
/// the snapshots of one set of areas.
pub struct TileGeometry {
    projected: Vec<OnceLock<MultiPolygon<f64>>>,
    simplified: Vec<Vec<OnceLock<MultiPolygon<f64>>>>,
    cut: Mutex<HashMap<(Level, TileId), Cut>>,
}

impl TileGeometry {
    /// Empty caches for `n` areas.
    #[must_use]
    pub fn new(n: usize) -> Self {
        Self {
            projected: (0..n).map(|_| OnceLock::new()).collect(),
            simplified: (0..n)
                .map(|_| (0..=DETAIL_ZOOM).map(|_| OnceLock::new()).collect())
                .collect(),
            cut: Mutex::new(HashMap::new()),
        }
    }

    fn simplified(&self, engine: &Engine, i: usize, z: u8) -> Option<&MultiPolygon<f64>> {
        let g = engine.areas()[i].geometry.as_ref()?;
        let projected = self.projected.get(i)?.get_or_init(|| grid::project(g));
        let slot = self
            .simplified
            .get(i)?
            .get(usize::from(z.min(DETAIL_ZOOM)))?;
        Some(slot.get_or_init(|| grid::simplify_for(projected, z)))
    }

    /// The areas of `level` in `tile`, cut, in tile units.
    pub fn cut(
        &self,
        engine: &Engine,
        extents: impl Fn(usize) -> Option<geo::Rect<f64>>,
        level: Level,
        tile: TileId,
    ) -> Cut {
        if let Some(hit) = self
            .cut
            .lock()
            .ok()
            .and_then(|c| c.get(&(level, tile)).cloned())
        {
            return hit;
        }
        let window = tile.lonlat_bounds(BUFFER);
        let parts: Vec<(usize, Vec<TilePolygon>)> = engine
            .areas()
            .iter()
            .enumerate()
            .filter(|(i, a)| a.level == level && extents(*i).is_some_and(|r| r.intersects(&window)))
            .filter_map(|(i, _)| {
                let polys = grid::cut(self.simplified(engine, i, tile.z)?, tile);
                (!polys.is_empty()).then_some((i, polys))
            })
            .collect();
        let parts = Arc::new(parts);
        if let Ok(mut c) = self.cut.lock() {
            if c.len() >= CUT_CACHE_TILES {
                c.clear();
            }
            c.insert((level, tile), Arc::clone(&parts));
        }
        parts
    }
}

/// A tile as served: its bytes (empty for no feature) and its entity tag.
#[derive(Clone)]
pub struct Encoded {
    bytes: Bytes,
    etag: HeaderValue,
}

/// The encoded tiles of one snapshot.
#[derive(Default)]
pub struct TileCache {
    tiles: Mutex<Stored>,
}

/// Tiles and their total size.
#[derive(Default)]
struct Stored {
    bytes: usize,
    tiles: HashMap<(TileLayer, TileId), Encoded>,
}

impl TileCache {
    fn get(&self, key: &(TileLayer, TileId)) -> Option<Encoded> {
        self.tiles.lock().ok()?.tiles.get(key).cloned()
    }

    fn put(&self, key: (TileLayer, TileId), tile: Encoded) {
        if let Ok(mut t) = self.tiles.lock() {
            if t.bytes + tile.bytes.len() > TILE_CACHE_BYTES {
                *t = Stored::default();
            }
            t.bytes += tile.bytes.len();
            t.tiles.insert(key, tile);
        }
    }
}

/// JSON properties as MVT tags: numbers as integers when whole, lists as JSON text; `null`
/// (a figure withheld) is left out, as MVT has no null.
fn add_tags(f: &mut mvt::Feature, props: &Map<String, Value>) {
    for (k, v) in props {
        match v {
            Value::Null => {}
            Value::Bool(b) => f.add_tag_bool(k, *b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    f.add_tag_uint(k, u);
                } else if let Some(i) = n.as_i64() {
                    f.add_tag_sint(k, i);
                } else if let Some(x) = n.as_f64() {
                    f.add_tag_double(k, x);
                }
            }
            Value::String(s) => f.add_tag_string(k, s),
            Value::Array(_) | Value::Object(_) => f.add_tag_string(k, &v.to_string()),
        }
    }
}

fn geometry(polys: &[TilePolygon]) -> Result<mvt::GeomData, mvt::Error> {
    let mut enc = mvt::GeomEncoder::new(mvt::GeomType::Polygon);
    for poly in polys {
        for ring in poly {
            for &(x, y) in ring {
                enc.add_point(x, y)?;
            }
            enc.complete_geom()?;
        }
    }
    enc.encode()
}

/// Encodes tile `tile` of `layer` for snapshot `s`.
fn encode(s: &AppState, layer: TileLayer, tile: TileId) -> Result<Encoded, ApiError> {
    let internal = |e: mvt::Error| ApiError::Internal(e.to_string());
    let mut out = mvt::Tile::new(EXTENT);
    let mut l = out.create_layer(layer.id());
    match layer {
        TileLayer::Areas(level) => {
            let e = &s.engine;
            let parts = s
                .shapes
                .tiles
                .cut(e, |i| s.shapes.extent_of(i), level, tile);
            for (i, polys) in parts.iter() {
                let Some(p) = s.priority_of(*i) else { continue };
                let mut props = super::layers::properties(e, &s.shapes, Some(&s.rule), p);
                if tile.z < OVERVIEW_ZOOM {
                    props.retain(|k, _| OVERVIEW_PROPERTIES.contains(&k.as_str()));
                }
                let mut f = l.into_feature(geometry(polys).map_err(internal)?);
                f.set_id(*i as u64);
                add_tags(&mut f, &props);
                l = f.into_layer();
            }
        }
        TileLayer::Cells => {
            let layers = s.hex_layers();
            let res = resolution_for_zoom(tile.z);
            let window = tile.lonlat_bounds(BUFFER);
            let margin =
                h3o::Resolution::try_from(res).map_or(0.1, |r| r.edge_length_km() / 100.0 * 2.0);
            for h in layers.layer(res) {
                let ll = h3o::LatLng::from(h.cell);
                if ll.lng() < window.min().x - margin
                    || ll.lng() > window.max().x + margin
                    || ll.lat() < window.min().y - margin
                    || ll.lat() > window.max().y + margin
                {
                    continue;
                }
                let polys = grid::cut(
                    &grid::project(&MultiPolygon::new(vec![super::layers::cell_polygon(
                        h.cell,
                    )])),
                    tile,
                );
                if polys.is_empty() {
                    continue;
                }
                let mut f = l.into_feature(geometry(&polys).map_err(internal)?);
                f.set_id(u64::from(h.cell));
                add_tags(&mut f, &super::layers::object(h));
                l = f.into_layer();
            }
        }
    }
    let bytes = if l.num_features() == 0 {
        Bytes::new()
    } else {
        out.add_layer(l).map_err(internal)?;
        Bytes::from(out.to_bytes().map_err(internal)?)
    };
    Ok(Encoded {
        etag: etag(&bytes),
        bytes,
    })
}

/// A strong entity tag: the first 16 bytes of the tile's SHA-256.
fn etag(bytes: &[u8]) -> HeaderValue {
    use sha2::Digest;
    let d = sha2::Sha256::digest(bytes);
    let hex: String = d[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

fn find(s: &AppState, id: &str) -> Result<TileLayer, ApiError> {
    all(s).into_iter().find(|l| l.id() == id).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no tile layer {id:?}; see /tiles ({})",
            all(s).iter().map(|l| l.id()).collect::<Vec<_>>().join(", ")
        ))
    })
}

type Q = Query<HashMap<String, String>>;

/// `z`, `x`, `y` (with `.mvt`) as a tile.
fn tile_of(z: &str, x: &str, y: &str) -> Result<TileId, ApiError> {
    let bad = || {
        ApiError::BadRequest(format!(
            "tile {z}/{x}/{y}: expected z in 0..={} and x, y in 0..2^z, as /tiles/{{layer}}/{{z}}/{{x}}/{{y}}.mvt",
            grid::MAX_ZOOM
        ))
    };
    let y = y.strip_suffix(".mvt").ok_or_else(bad)?;
    let (z, x, y) = (
        z.parse::<u8>().map_err(|_| bad())?,
        x.parse::<u32>().map_err(|_| bad())?,
        y.parse::<u32>().map_err(|_| bad())?,
    );
    TileId::new(z, x, y).ok_or_else(bad)
}

#[utoipa::path(get, path = "/tiles/{layer}/{z}/{x}/{y}", tag = "tiles", summary = "One Mapbox Vector Tile (204 when empty); ETag and If-None-Match",
    params(
        ("layer" = String, Path, description = "a layer id from /tiles"),
        ("z" = u8, Path, minimum = 0, maximum = 22, description = "zoom"),
        ("x" = u32, Path, description = "column, 0 … 2^z − 1"),
        ("y" = String, Path, description = "row, 0 … 2^z − 1, then `.mvt`"),
        ("as_of" = Option<String>, Query, format = Date, description = "figures as of this campaign day (YYYY-MM-DD)"),
    ),
    responses((status = 200, body = Vec<u8>, content_type = "application/vnd.mapbox-vector-tile"), (status = 204, description = "no feature in this tile"), (status = 304, description = "unchanged since the ETag sent"), (status = 400, body = super::schema::Error), (status = 404, body = super::schema::Error)))]
pub(super) async fn tile(
    Snap(s): Snap,
    Path((layer, z, x, y)): Path<(String, String, String, String)>,
    Query(q): Q,
    headers: HeaderMap,
    axum::Extension(expensive): axum::Extension<server::Expensive>,
) -> Result<Response, ApiError> {
    params::only(&q, &["as_of"])?;
    let s = super::asked(s, &q).await?;
    let layer = find(&s, &layer)?;
    let tile = tile_of(&z, &x, &y)?;
    let key = (layer, tile);
    let encoded = match s.tiles.get(&key) {
        Some(hit) => hit,
        None => {
            // The H3 layers are computed once per snapshot, within the bound on expensive work.
            if layer == TileLayer::Cells
                && let Err(busy) = super::hex_layers_bounded(&s, &expensive).await?
            {
                return Ok(busy);
            }
            let snap = Arc::clone(&s);
            let encoded = tokio::task::spawn_blocking(move || encode(&snap, layer, tile))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))??;
            s.tiles.put(key, encoded.clone());
            encoded
        }
    };
    let unchanged = headers.get(header::IF_NONE_MATCH).is_some_and(|v| {
        v.as_bytes()
            .split(|b| *b == b',')
            .any(|t| t.trim_ascii() == encoded.etag.as_bytes() || t.trim_ascii() == b"*")
    });
    let mut res = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else if encoded.bytes.is_empty() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        ([(header::CONTENT_TYPE, MVT)], encoded.bytes).into_response()
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, encoded.etag);
    // Cached, but asked again each time: an upload changes tiles.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(res)
}

/// The properties of an H3 cell feature ([`crate::disclosure::cells::ShownCell`]), by example.
static CELL_FIELDS: std::sync::LazyLock<Vec<(&str, Value)>> = std::sync::LazyLock::new(|| {
    vec![
        ("cell", json!("")),
        ("visits", json!(0)),
        ("households", json!(0)),
        ("population_est", json!(0.0)),
        ("suppressed", json!(false)),
        ("blind_spot", json!(false)),
    ]
});

/// The fields of `layer`'s features and their TileJSON types.
fn fields(s: &AppState, layer: TileLayer) -> Map<String, Value> {
    let props = match layer {
        TileLayer::Areas(level) => s
            .engine
            .ranked(level)
            .first()
            .map(|p| super::layers::properties(&s.engine, &s.shapes, None, p))
            .unwrap_or_default(),
        TileLayer::Cells => CELL_FIELDS
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    };
    props
        .into_iter()
        .map(|(k, v)| {
            let kind = match v {
                Value::Bool(_) => "Boolean",
                Value::Number(_) => "Number",
                _ => "String",
            };
            (k, json!(kind))
        })
        .collect()
}

/// A layer's TileJSON 3.0.0.
fn tilejson(s: &AppState, layer: TileLayer, base: &str, as_of: Option<chrono::NaiveDate>) -> Value {
    let query = as_of.map_or_else(String::new, |d| format!("?as_of={d}"));
    let id = layer.id();
    let level = match layer {
        TileLayer::Areas(l) => l,
        TileLayer::Cells => s.engine.leaf_level(),
    };
    let bounds = s
        .shapes
        .level_extent(&s.engine, level)
        .map_or([-180.0, -85.0, 180.0, 85.0], |r| {
            [r.min().x, r.min().y, r.max().x, r.max().y]
        });
    // The zoom at which the bounds fill about one 512-pixel view.
    let span = (bounds[2] - bounds[0]).max(bounds[3] - bounds[1]).max(1e-6);
    let zoom = (360.0 / span).log2().floor().clamp(0.0, 14.0);
    json!({
        "tilejson": "3.0.0",
        "name": id,
        "description": layer.description(),
        "attribution": "Phủ Số; boundaries: see /api/summary and data/README.md",
        "version": "1.0.0",
        "scheme": "xyz",
        "format": "pbf",
        "tiles": [format!("{base}/tiles/{id}/{{z}}/{{x}}/{{y}}.mvt{query}")],
        "minzoom": 0,
        "maxzoom": MAX_ANNOUNCED_ZOOM,
        "bounds": bounds,
        "center": [(bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0, zoom],
        "vector_layers": [{
            "id": id,
            "description": layer.description(),
            "minzoom": 0,
            "maxzoom": MAX_ANNOUNCED_ZOOM,
            "fields": fields(s, layer),
        }],
    })
}

#[utoipa::path(get, path = "/tiles/{layer}", tag = "tiles", summary = "A layer's TileJSON 3.0.0 (`/tiles/wards.json`)",
    params(("layer" = String, Path, description = "a layer id from /tiles, then `.json`"), ("as_of" = Option<String>, Query, format = Date, description = "tiles as of this campaign day (YYYY-MM-DD)")),
    responses((status = 200, body = Object), (status = 400, body = super::schema::Error), (status = 404, body = super::schema::Error)))]
pub(super) async fn tilejson_route(
    Snap(s): Snap,
    Path(name): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    params::only(&q, &["as_of"])?;
    let as_of = params::as_of(&q)?;
    let id = name.strip_suffix(".json").ok_or_else(|| {
        ApiError::NotFound(format!(
            "no {name:?}: a layer's TileJSON is /tiles/{{layer}}.json"
        ))
    })?;
    let layer = find(&s, id)?;
    Ok(super::json_answer(&tilejson(
        &s,
        layer,
        &super::ogc::host_url(&headers),
        as_of,
    )))
}

#[utoipa::path(get, path = "/tiles", tag = "tiles", summary = "The tile layers, with their TileJSON URLs",
    responses((status = 200, body = Object), (status = 400, body = super::schema::Error)))]
pub(super) async fn catalog(
    Snap(s): Snap,
    Query(q): Q,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    params::only(&q, &[])?;
    let base = super::ogc::host_url(&headers);
    let tiles: Map<String, Value> = all(&s)
        .into_iter()
        .map(|l| {
            (
                l.id().to_owned(),
                json!({ "content_type": MVT, "description": l.description(), "tilejson": format!("{base}/tiles/{}.json", l.id()) }),
            )
        })
        .collect();
    Ok(super::json_answer(&json!({ "tiles": tiles })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_fields_are_those_of_a_shown_cell() {
        let cell = h3o::LatLng::new(10.98, 106.65)
            .map(|ll| ll.to_cell(h3o::Resolution::Eight))
            .ok();
        let Some(cell) = cell else { panic!("a cell") };
        let shown = crate::disclosure::cells::ShownCell {
            cell,
            visits: None,
            households: None,
            population_est: None,
            suppressed: true,
            blind_spot: false,
        };
        let keys: Vec<String> = super::super::layers::object(&shown)
            .keys()
            .cloned()
            .collect();
        let want: Vec<&str> = CELL_FIELDS.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, want);
    }

    #[test]
    fn zoom_to_resolution() {
        assert_eq!(
            (0..=22).map(resolution_for_zoom).collect::<Vec<_>>(),
            [
                6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 10, 10, 10, 10, 10, 10, 10
            ]
        );
    }
}
