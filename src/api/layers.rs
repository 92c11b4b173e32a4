//! GeoJSON documents served by the API, built once per level and detail tier at start-up
//! (areas) or per request from cached aggregates (H3 cells).

use geo::{MultiPolygon, Simplify};
use h3o::CellIndex;
use serde_json::{Map, Value, json};

use crate::engine::Engine;
use crate::hex::HexStats;
use crate::model::Level;
use crate::priority::Priority;

/// Geometry detail: tolerances of Ramer–Douglas–Peucker simplification, in degrees.
pub const TIERS: [(&str, f64); 3] = [("coarse", 5e-4), ("medium", 1e-4), ("full", 0.0)];

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

/// The properties of an area feature: every figure, the rank at its level and both reasons.
#[must_use]
pub fn properties(engine: &Engine, p: &Priority) -> Map<String, Value> {
    let mut props = match serde_json::to_value(p) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if let Some(i) = engine.position(&p.figures.code) {
        let a = &engine.areas()[i];
        let former: Vec<&str> = a.former_units.iter().map(|u| u.name.as_str()).collect();
        props.insert("former_names".into(), json!(former));
        let t = &engine.totals()[i];
        props.insert("residential_groups".into(), json!(t.residential_groups));
        props.insert("pairs".into(), json!(t.pairs));
        props.insert("pairs_short".into(), json!(t.pairs_short));
        // Where the page writes the name: a point inside the area (not the box's centre).
        if let Some(pt) = a
            .geometry
            .as_ref()
            .and_then(geo::InteriorPoint::interior_point)
        {
            props.insert(
                "label_point".into(),
                json!([round6(pt.x()), round6(pt.y())]),
            );
        }
    }
    props
}

/// A FeatureCollection of the areas at `level`, at detail `tolerance`.
#[must_use]
pub fn areas_document(engine: &Engine, level: Level, tolerance: f64) -> String {
    let features: Vec<Value> = engine
        .ranked(level)
        .iter()
        .filter_map(|p| {
            let i = engine.position(&p.figures.code)?;
            let g = engine.areas()[i].geometry.as_ref()?;
            Some(json!({
                "type": "Feature",
                "id": p.figures.code,
                "properties": properties(engine, p),
                "geometry": { "type": "MultiPolygon", "coordinates": coordinates(g, tolerance) },
            }))
        })
        .collect();
    json!({ "type": "FeatureCollection", "features": features }).to_string()
}

/// Cells with fewer distinct households than this have their counts withheld (`null`), so no
/// response singles out one or two homes.
pub const MIN_HOUSEHOLDS_SHOWN: u64 = 3;

/// A FeatureCollection of H3 cells.
#[must_use]
pub fn hex_document(cells: &[&HexStats], res: u8) -> String {
    let features: Vec<Value> = cells
        .iter()
        .map(|h| {
            let ring: Vec<Value> = ring(h.cell);
            let shown = h.households == 0 || h.households >= MIN_HOUSEHOLDS_SHOWN;
            json!({
                "type": "Feature",
                "id": h.cell.to_string(),
                "properties": {
                    "cell": h.cell.to_string(),
                    "visits": shown.then_some(h.visits),
                    "households": shown.then_some(h.households),
                    "suppressed": !shown,
                    "population_est": (h.population_est * 10.0).round() / 10.0,
                    "blind_spot": h.blind_spot,
                },
                "geometry": { "type": "Polygon", "coordinates": [ring] },
            })
        })
        .collect();
    json!({ "type": "FeatureCollection", "resolution": res, "features": features }).to_string()
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
