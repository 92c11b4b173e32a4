//! GeoJSON documents served by the API, built once per level and detail tier at start-up
//! (areas) or per request from cached aggregates (H3 cells).

use std::collections::HashMap;

use geo::{MultiPolygon, Simplify};
use h3o::CellIndex;
use serde_json::{Map, Value, json};

use crate::disclosure::areas::AreaRule;
use crate::disclosure::cells::ShownCell;
use crate::engine::Engine;
use crate::model::Level;
use crate::priority::Priority;

/// Geometry detail: tolerances of Ramer–Douglas–Peucker simplification, in degrees.
pub const TIERS: [(&str, f64); 3] = [("coarse", 5e-4), ("medium", 1e-4), ("full", 0.0)];

/// The document form after the [`TIERS`]: each area as its label point, with its bounding box
/// (`bbox`), for a page that draws the shapes from the vector tiles and needs only the figures.
pub const POINT_TIER: usize = TIERS.len();

/// The tier for a map zoom: coarse (≈55 m) up to zoom 10, medium (≈11 m) to 13, full beyond.
#[must_use]
pub fn tier_for_zoom(zoom: u64) -> usize {
    match zoom {
        0..=10 => 0,
        11..=13 => 1,
        _ => 2,
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// GeoJSON coordinates of a multipolygon, simplified with `tolerance` (degrees), rounded to 1e-6°.
#[must_use]
pub fn coordinates(g: &MultiPolygon<f64>, tolerance: f64) -> Value {
    let simplified;
    let g = if tolerance > 0.0 {
        simplified = g.simplify(tolerance);
        &simplified
    } else {
        g
    };
    Value::Array(
        g.0.iter()
            .filter(|p| p.exterior().0.len() >= 4)
            .map(|p| {
                Value::Array(
                    std::iter::once(p.exterior())
                        .chain(p.interiors().iter().filter(|r| r.0.len() >= 4))
                        .map(|r| {
                            Value::Array(
                                r.0.iter()
                                    .map(|c| json!([round6(c.x), round6(c.y)]))
                                    .collect(),
                            )
                        })
                        .collect(),
                )
            })
            .collect(),
    )
}

/// What visits never change in the area documents: each area's geometry at every tier (as
/// GeoJSON text, written for all areas on the first use of the tier) and its label point. Built
/// once per load and shared by the snapshots that batches produce, so a batch costs only the
/// properties.
pub struct Shapes {
    /// `coordinates[tier][area]`: the GeoJSON `coordinates` member, or `None` without geometry.
    coordinates: [std::sync::OnceLock<Vec<Option<String>>>; TIERS.len()],
    /// Where the page writes the name: a point inside the area (not the box's centre).
    labels: Vec<Option<[f64; 2]>>,
    /// Each area's bounding box (for `bbox` filters and collection extents).
    extents: Vec<Option<geo::Rect<f64>>>,
    /// The areas cut into vector tiles, as asked for.
    pub tiles: super::tiles::TileGeometry,
    /// Residents per H3 cell, per resolution of [`crate::hex::RESOLUTIONS`], once asked for.
    population: Vec<std::sync::OnceLock<std::sync::Arc<HashMap<CellIndex, f64>>>>,
}

impl Shapes {
    /// The label points and boxes of every area of `engine` (the tiers come when asked for).
    #[must_use]
    pub fn new(engine: &Engine) -> Self {
        use rayon::prelude::*;
        let extents = engine
            .areas()
            .iter()
            .map(|a| {
                a.geometry
                    .as_ref()
                    .and_then(geo::BoundingRect::bounding_rect)
            })
            .collect();
        let labels = engine
            .areas()
            .par_iter()
            .map(|a| {
                let g = a.geometry.as_ref()?;
                geo::InteriorPoint::interior_point(g).map(|pt| [round6(pt.x()), round6(pt.y())])
            })
            .collect();
        Self {
            coordinates: Default::default(),
            labels,
            tiles: super::tiles::TileGeometry::new(engine.areas().len()),
            extents,
            population: crate::hex::RESOLUTIONS
                .map(|_| Default::default())
                .collect(),
        }
    }

    /// The GeoJSON `coordinates` of area `i` of `engine` at detail tier `tier` (an index of
    /// [`TIERS`]); the first call for a tier writes it for every area, in parallel.
    #[must_use]
    pub fn coordinates_of(&self, engine: &Engine, i: usize, tier: usize) -> Option<&str> {
        use rayon::prelude::*;
        let tolerance = TIERS.get(tier)?.1;
        let all = self.coordinates[tier].get_or_init(|| {
            engine
                .areas()
                .par_iter()
                .map(|a| {
                    a.geometry
                        .as_ref()
                        .map(|g| coordinates(g, tolerance).to_string())
                })
                .collect()
        });
        all.get(i)?.as_deref()
    }

    /// The bounding box of area `i`.
    #[must_use]
    pub fn extent_of(&self, i: usize) -> Option<geo::Rect<f64>> {
        self.extents.get(i).copied().flatten()
    }

    /// The box around every area of `level`.
    #[must_use]
    pub fn level_extent(&self, engine: &Engine, level: Level) -> Option<geo::Rect<f64>> {
        engine
            .areas()
            .iter()
            .enumerate()
            .filter(|(_, a)| a.level == level)
            .filter_map(|(i, _)| self.extent_of(i))
            .reduce(|a, b| {
                geo::Rect::new(
                    geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                    geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
                )
            })
    }

    /// Residents per H3 cell at `res` (one of [`crate::hex::RESOLUTIONS`]), computed once.
    #[must_use]
    pub fn population(
        &self,
        engine: &Engine,
        res: h3o::Resolution,
    ) -> std::sync::Arc<HashMap<CellIndex, f64>> {
        let slot =
            usize::from(u8::from(res)).checked_sub(usize::from(*crate::hex::RESOLUTIONS.start()));
        match slot.and_then(|i| self.population.get(i)) {
            Some(cell) => std::sync::Arc::clone(
                cell.get_or_init(|| std::sync::Arc::new(engine.hex_population(res))),
            ),
            None => std::sync::Arc::new(engine.hex_population(res)),
        }
    }
}

/// The H3 layers the API serves, one per resolution of [`crate::hex::RESOLUTIONS`], under the
/// small-count rule with threshold `k` (all resolutions at once: see
/// [`crate::disclosure::cells`]).
#[must_use]
pub fn hex_layers(
    engine: &Engine,
    shapes: &Shapes,
    k: u64,
    prev: &crate::disclosure::Release,
) -> (
    crate::disclosure::cells::ShownLayers,
    crate::disclosure::Release,
) {
    // One resolution after the other: counting is parallel inside, and only one resolution's
    // distinct (cell, household) pairs are held at a time (about a household's worth each, so
    // five at once would be five times the memory on a 100M-visit store).
    // The engine keeps one resolution up to date with every batch: that one is taken as it is.
    let layers: HashMap<u8, Vec<crate::hex::HexStats>> = crate::hex::RESOLUTIONS
        .filter_map(|r| {
            let res = h3o::Resolution::try_from(r).ok()?;
            if res == engine.hex_resolution() {
                return Some((r, engine.hexes().to_vec()));
            }
            let population = shapes.population(engine, res);
            Some((
                r,
                crate::hex::hex_layer(&engine.hex_counts(res), &population),
            ))
        })
        .collect();
    crate::disclosure::cells::ShownLayers::after(&layers, k, prev)
}

/// `value` as a JSON object (empty when it does not serialise to one).
pub fn object(value: &impl serde::Serialize) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The properties of an area feature: every figure, the rank at its level and both reasons,
/// with what `rule` withholds set to `null` (no rule: a role that sees the area in full).
#[must_use]
pub fn properties(
    engine: &Engine,
    shapes: &Shapes,
    rule: Option<&AreaRule>,
    p: &Priority,
) -> Map<String, Value> {
    let mut props = object(p);
    if let Some(i) = engine.position(&p.figures.code) {
        let a = &engine.areas()[i];
        let former: Vec<&str> = a.former_units.iter().map(|u| u.name.as_str()).collect();
        props.insert("former_names".into(), json!(former));
        let t = &engine.totals()[i];
        props.insert("residential_groups".into(), json!(t.residential_groups));
        props.insert("pairs".into(), json!(t.pairs));
        props.insert("pairs_short".into(), json!(t.pairs_short));
        if let Some(pt) = shapes.labels.get(i).copied().flatten() {
            props.insert("label_point".into(), json!(pt));
        }
        if let Some(rule) = rule {
            rule.apply(i, &mut props);
        }
    }
    props
}

/// A FeatureCollection of the areas at `level`, at detail tier `tier` (an index of [`TIERS`], or
/// [`POINT_TIER`] for label points with bounding boxes), in ranking order, under `rule`.
#[must_use]
pub fn areas_document(
    engine: &Engine,
    shapes: &Shapes,
    rule: &AreaRule,
    level: Level,
    tier: usize,
) -> String {
    let mut out = String::from(r#"{"type":"FeatureCollection","features":["#);
    let mut first = true;
    for p in engine.ranked(level) {
        let Some(i) = engine.position(&p.figures.code) else {
            continue;
        };
        let geometry = if tier == POINT_TIER {
            let (Some(pt), Some(b)) = (shapes.labels[i], shapes.extents[i]) else {
                continue;
            };
            let bbox = [b.min().x, b.min().y, b.max().x, b.max().y].map(round6);
            format!(
                r#""bbox":{},"geometry":{{"type":"Point","coordinates":{}}}"#,
                json!(bbox),
                json!(pt)
            )
        } else {
            let Some(coords) = shapes.coordinates_of(engine, i, tier) else {
                continue;
            };
            format!(r#""geometry":{{"type":"MultiPolygon","coordinates":{coords}}}"#)
        };
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(r#"{"type":"Feature","id":"#);
        out.push_str(&Value::from(p.figures.code.as_str()).to_string());
        out.push_str(r#","properties":"#);
        out.push_str(&Value::Object(properties(engine, shapes, Some(rule), p)).to_string());
        out.push(',');
        out.push_str(&geometry);
        out.push('}');
    }
    out.push_str("]}");
    out
}

/// A FeatureCollection of H3 cells, the small-count rule applied (see
/// [`crate::disclosure::cells`]).
#[must_use]
pub fn hex_document(cells: &[&ShownCell], res: u8) -> String {
    let features: Vec<Value> = cells
        .iter()
        .map(|h| {
            json!({
                "type": "Feature",
                "id": h.cell.to_string(),
                "properties": h,
                "geometry": { "type": "Polygon", "coordinates": [ring(h.cell)] },
            })
        })
        .collect();
    json!({ "type": "FeatureCollection", "resolution": res, "features": features }).to_string()
}

/// A cell's boundary as a polygon (longitude, latitude).
#[must_use]
pub fn cell_polygon(cell: CellIndex) -> geo::Polygon<f64> {
    let ring: Vec<geo::Coord<f64>> = cell
        .boundary()
        .iter()
        .map(|ll| geo::coord! { x: ll.lng(), y: ll.lat() })
        .collect();
    geo::Polygon::new(geo::LineString::from(ring), vec![])
}

fn ring(cell: CellIndex) -> Vec<Value> {
    let boundary = cell.boundary();
    let mut out: Vec<Value> = boundary
        .iter()
        .map(|ll| json!([round6(ll.lng()), round6(ll.lat())]))
        .collect();
    if let Some(first) = out.first().cloned() {
        out.push(first);
    }
    out
}
