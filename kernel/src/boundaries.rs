//! Area boundaries from a GeoJSON FeatureCollection of Polygon / MultiPolygon features.
//!
//! Every feature is checked (code present and unique, geometry type, ring closure, ring size,
//! finite in-range coordinates, no self-intersection); all problems are reported together, each
//! naming the feature index, its code, the field and the value.

use rayon::prelude::*;
use std::collections::HashMap;
use std::path::Path;

use geo::orient::{Direction, Orient};
use geo::{Coord, Line, LineString, MultiPolygon, Polygon};
use geojson::GeometryValue;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::AreaCode;
use crate::error::{IngestError, Problems};

/// Which feature properties hold what. Defaults fit the bundled files.
#[derive(Debug, Clone)]
pub struct BoundaryFields {
    /// Property with the area code (default `code`); a feature without it falls back to the
    /// feature's `id`.
    pub code: String,
    /// Property with the display name (default `full_name`, then `name`).
    pub name: Vec<String>,
    /// Property with the parent's code, if the file has one (default none).
    pub parent: Option<String>,
}

impl Default for BoundaryFields {
    fn default() -> Self {
        Self {
            code: "code".into(),
            name: vec!["full_name".into(), "name".into()],
            parent: None,
        }
    }
}

impl BoundaryFields {
    /// The fields of a data directory's neighbourhood file: `code`, `name`, `ward_code`.
    #[must_use]
    pub fn neighbourhoods() -> Self {
        Self {
            code: "code".into(),
            name: vec!["name".into()],
            parent: Some("ward_code".into()),
        }
    }

    /// Fields with the given code property and the default name properties.
    #[must_use]
    pub fn with_code(code: &str) -> Self {
        Self {
            code: code.to_owned(),
            ..Self::default()
        }
    }
}

/// One validated boundary feature.
#[derive(Debug, Clone)]
pub struct AreaFeature {
    /// The area code, unique in the file.
    pub code: AreaCode,
    /// Display name (the code when the file has no name).
    pub name: String,
    /// The parent's code, when [`BoundaryFields::parent`] is set and the feature has it.
    pub parent_code: Option<AreaCode>,
    /// All properties, as read.
    pub properties: Map<String, Value>,
    /// The geometry, lon/lat (x = lon, y = lat), WGS84.
    pub geometry: MultiPolygon<f64>,
}

/// Reads and validates a boundary file.
///
/// # Errors
/// [`IngestError::Io`] when unreadable, [`IngestError::Format`] when not a FeatureCollection,
/// [`IngestError::Empty`] when it has no features, and [`IngestError::Features`] listing every
/// invalid feature.
pub fn read_boundaries(
    path: &Path,
    fields: &BoundaryFields,
) -> Result<Vec<AreaFeature>, IngestError> {
    let bytes = std::fs::read(path).map_err(|e| IngestError::io(path, e))?;
    parse_boundaries(path, &bytes, fields)
}

/// Parses and validates boundary GeoJSON held in memory; `path` is only used in messages.
///
/// # Errors
/// As [`read_boundaries`].
pub fn parse_boundaries(
    path: &Path,
    bytes: &[u8],
    fields: &BoundaryFields,
) -> Result<Vec<AreaFeature>, IngestError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(IngestError::Empty {
            file: path.to_owned(),
            expected: "a GeoJSON FeatureCollection".into(),
        });
    }
    // One pass finds the features without building them; each is then parsed in parallel.
    let root: RawCollection<'_> = serde_json::from_slice(bytes)
        .map_err(|e| IngestError::format(path, format!("not valid JSON: {e}")))?;
    if root.kind.as_deref() != Some("FeatureCollection") {
        return Err(IngestError::format(
            path,
            format!(
                "expected a GeoJSON FeatureCollection, found type {:?}",
                root.kind.as_deref().unwrap_or("(none)")
            ),
        ));
    }
    let features: Vec<&RawValue> = root
        .features
        .and_then(|f| serde_json::from_str(f.get()).ok())
        .ok_or_else(|| IngestError::format(path, "FeatureCollection without a `features` array"))?;
    if features.is_empty() {
        return Err(IngestError::Empty {
            file: path.to_owned(),
            expected: "at least one Polygon or MultiPolygon feature".into(),
        });
    }
    validate(path, features.len(), fields, |index| {
        let value: Value = serde_json::from_str(features[index].get())
            .map_err(|e| format!("feature {index}: not valid JSON: {e}"))?;
        parse_feature(index, &value, fields)
    })
}

/// Validates features already read as GeoJSON values (WGS84), e.g. from a Shapefile or a
/// GeoPackage (`phuso::ingest::layer::Layer::to_feature_values`); `path` names the source.
///
/// # Errors
/// As [`read_boundaries`].
pub fn parse_features(
    path: &Path,
    features: &[Value],
    fields: &BoundaryFields,
) -> Result<Vec<AreaFeature>, IngestError> {
    if features.is_empty() {
        return Err(IngestError::Empty {
            file: path.to_owned(),
            expected: "at least one Polygon or MultiPolygon feature".into(),
        });
    }
    validate(path, features.len(), fields, |index| {
        parse_feature(index, &features[index], fields)
    })
}

/// Parses feature `0..n` in parallel with `parse`, then checks codes are unique, in input order.
fn validate(
    path: &Path,
    n: usize,
    fields: &BoundaryFields,
    parse: impl Fn(usize) -> Result<AreaFeature, String> + Sync + Send,
) -> Result<Vec<AreaFeature>, IngestError> {
    let mut problems = Problems::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(n);
    let parsed: Vec<Result<AreaFeature, String>> = (0..n).into_par_iter().map(parse).collect();
    for (index, result) in parsed.into_iter().enumerate() {
        match result {
            Ok(feature) => {
                if let Some(first) = seen.insert(feature.code.0.clone(), index) {
                    problems.push(format!(
                        "feature {index}: field `{}`: duplicate code {:?} (first used by feature {first}); codes must be unique",
                        fields.code, feature.code.0
                    ));
                } else {
                    out.push(feature);
                }
            }
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(IngestError::Features {
            file: path.to_owned(),
            problems: problems.into_lines(),
        })
    }
}

/// A FeatureCollection with its features left unparsed.
#[derive(serde::Deserialize)]
struct RawCollection<'a> {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(borrow, default)]
    features: Option<&'a RawValue>,
}

fn property_text(props: &Map<String, Value>, key: &str) -> Option<String> {
    match props.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_feature(
    index: usize,
    value: &Value,
    fields: &BoundaryFields,
) -> Result<AreaFeature, String> {
    let feature: geojson::Feature = serde_json::from_value(value.clone())
        .map_err(|e| format!("feature {index}: not a valid GeoJSON Feature: {e}"))?;
    let properties = feature.properties.clone().unwrap_or_default();
    let code = property_text(&properties, &fields.code)
        .or_else(|| feature.id.as_ref().map(|id| match id {
            geojson::feature::Id::String(s) => s.clone(),
            geojson::feature::Id::Number(n) => n.to_string(),
        }))
        .ok_or_else(|| {
            format!(
                "feature {index}: field `{}`: missing or empty (value {}); expected the area code as text",
                fields.code,
                properties.get(&fields.code).map_or_else(|| "absent".to_owned(), Value::to_string)
            )
        })?;
    let at = format!("feature {index} (code {code:?})");
    let name = fields
        .name
        .iter()
        .find_map(|k| property_text(&properties, k))
        .unwrap_or_else(|| code.clone());
    let parent_code = fields
        .parent
        .as_ref()
        .and_then(|k| property_text(&properties, k))
        .map(AreaCode);
    let geometry =
        feature
            .geometry
            .as_ref()
            .ok_or_else(|| match properties.get("_geometry_problem") {
                // Set by the Shapefile and GeoPackage readers when a shape could not be read.
                Some(Value::String(why)) => format!("{at}: field `geometry`: {why}"),
                _ => format!("{at}: field `geometry`: null; expected a Polygon or MultiPolygon"),
            })?;
    let polygons = match &geometry.value {
        GeometryValue::Polygon { coordinates } => vec![coordinates],
        GeometryValue::MultiPolygon { coordinates } => coordinates.iter().collect(),
        other => {
            return Err(format!(
                "{at}: field `geometry.type`: {:?}; expected Polygon or MultiPolygon",
                other.type_name()
            ));
        }
    };
    if polygons.is_empty() {
        return Err(format!(
            "{at}: field `geometry.coordinates`: empty MultiPolygon; expected at least one polygon"
        ));
    }
    let mut out = Vec::with_capacity(polygons.len());
    for (p, rings) in polygons.into_iter().enumerate() {
        if rings.is_empty() {
            return Err(format!(
                "{at}: polygon {p}: no rings; expected an exterior ring"
            ));
        }
        let mut converted = Vec::with_capacity(rings.len());
        for (r, ring) in rings.iter().enumerate() {
            let where_ = format!("{at}: polygon {p} ring {r}");
            match convert_ring(&where_, ring)? {
                Some(ring) => converted.push(ring),
                // A zero-area exterior (fewer than 3 distinct positions) holds no point: drop the
                // part. A zero-area hole removes nothing: drop the hole.
                None if r == 0 => {
                    tracing::warn!(
                        "{where_}: fewer than 3 distinct positions (zero area); polygon part left out"
                    );
                    break;
                }
                None => tracing::warn!(
                    "{where_}: fewer than 3 distinct positions (zero area); hole left out"
                ),
            }
        }
        if converted.is_empty() {
            continue;
        }
        let exterior = converted.remove(0);
        // RFC 7946 winding (exterior counter-clockwise, holes clockwise) whatever the file says:
        // the geodesic area, and everything derived from it, depends on it.
        out.push(Polygon::new(exterior, converted).orient(Direction::Default));
    }
    if out.is_empty() {
        return Err(format!(
            "{at}: field `geometry`: every polygon has zero area; expected at least one ring with 3 distinct positions"
        ));
    }
    Ok(AreaFeature {
        code: AreaCode(code),
        name,
        parent_code,
        properties,
        geometry: MultiPolygon(out),
    })
}

/// Checks and converts one ring; `Ok(None)` for a closed ring with fewer than 3 distinct
/// positions (zero area). Consecutive repeated positions are merged.
fn convert_ring(
    where_: &str,
    ring: &[geojson::Position],
) -> Result<Option<LineString<f64>>, String> {
    let mut coords = Vec::with_capacity(ring.len());
    for (i, pos) in ring.iter().enumerate() {
        let s = pos.as_slice();
        if s.len() < 2 {
            return Err(format!(
                "{where_}: position {i}: {s:?}; expected [lon, lat]"
            ));
        }
        let (lon, lat) = (s[0], s[1]);
        if !(lon.is_finite()
            && lat.is_finite()
            && (-180.0..=180.0).contains(&lon)
            && (-90.0..=90.0).contains(&lat))
        {
            return Err(format!(
                "{where_}: position {i}: [{lon}, {lat}]; expected finite lon in -180..=180 and lat in -90..=90"
            ));
        }
        coords.push(Coord { x: lon, y: lat });
    }
    if coords.len() < 4 {
        return Err(format!(
            "{where_}: {} positions; a closed ring needs at least 4",
            coords.len()
        ));
    }
    if coords.first() != coords.last() {
        let (a, b) = (coords[0], coords[coords.len() - 1]);
        return Err(format!(
            "{where_}: not closed: first position [{}, {}] differs from last [{}, {}]; GeoJSON rings must end where they start",
            a.x, a.y, b.x, b.y
        ));
    }
    coords.dedup();
    if coords.len() < 4 {
        return Ok(None);
    }
    let ring = LineString(coords);
    if let Some(at) = self_intersection(&ring) {
        return Err(format!(
            "{where_}: self-intersects near [{}, {}]; expected a simple ring (repair it, e.g. with make_valid)",
            at.x, at.y
        ));
    }
    Ok(Some(ring))
}

/// Finds a point where a closed ring crosses itself, in O(n log n + k) with a sweep over
/// segments sorted by their minimum x. Adjacent segments may share their common vertex; any other
/// contact (crossing, touching, collinear overlap, a repeated vertex) counts, as in geo's
/// `Validation`.
fn self_intersection(ring: &LineString<f64>) -> Option<Coord<f64>> {
    use geo::Intersects;
    let lines: Vec<Line<f64>> = ring.lines().filter(|l| l.start != l.end).collect();
    let n = lines.len();
    let mut order: Vec<usize> = (0..n).collect();
    let min_x = |l: &Line<f64>| l.start.x.min(l.end.x);
    order.sort_by(|&a, &b| min_x(&lines[a]).total_cmp(&min_x(&lines[b])));
    for (k, &i) in order.iter().enumerate() {
        let a = lines[i];
        let a_max_x = a.start.x.max(a.end.x);
        let (a_min_y, a_max_y) = (a.start.y.min(a.end.y), a.start.y.max(a.end.y));
        for &j in &order[k + 1..] {
            let b = lines[j];
            if min_x(&b) > a_max_x {
                break;
            }
            if b.start.y.min(b.end.y) > a_max_y || b.start.y.max(b.end.y) < a_min_y {
                continue;
            }
            let adjacent = (i + 1) % n == j || (j + 1) % n == i;
            if adjacent {
                // Consecutive segments share one vertex; they are only invalid if they fold back
                // onto each other (a spike), which shows as a shared point other than the joint.
                let joint = if a.end == b.start { a.end } else { a.start };
                let (other_a, other_b) = (
                    if a.start == joint { a.end } else { a.start },
                    if b.start == joint { b.end } else { b.start },
                );
                if geo::Line::new(joint, other_a).intersects(&other_b)
                    || geo::Line::new(joint, other_b).intersects(&other_a)
                {
                    return Some(joint);
                }
                continue;
            }
            if a.intersects(&b) {
                return Some(if b.intersects(&a.start) {
                    a.start
                } else if b.intersects(&a.end) {
                    a.end
                } else {
                    b.start
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(points: &[(f64, f64)]) -> LineString<f64> {
        LineString(points.iter().map(|&(x, y)| Coord { x, y }).collect())
    }

    #[test]
    fn square_is_simple() {
        assert_eq!(
            self_intersection(&ring(&[(0., 0.), (1., 0.), (1., 1.), (0., 1.), (0., 0.)])),
            None
        );
    }

    #[test]
    fn bow_tie_self_intersects() {
        let found = self_intersection(&ring(&[(0., 0.), (1., 1.), (1., 0.), (0., 1.), (0., 0.)]));
        assert!(found.is_some());
    }

    #[test]
    fn spike_is_invalid() {
        // Goes out to (2,0) and straight back along the same line.
        let found = self_intersection(&ring(&[
            (0., 0.),
            (1., 0.),
            (2., 0.),
            (1., 0.),
            (1., 1.),
            (0., 0.),
        ]));
        assert!(found.is_some());
    }

    #[test]
    fn ring_touching_itself_at_a_vertex_is_invalid() {
        // Figure-eight through (1,1): two loops sharing a vertex that is not a joint of adjacent edges.
        let found = self_intersection(&ring(&[
            (0., 0.),
            (1., 1.),
            (2., 0.),
            (2., 2.),
            (1., 1.),
            (0., 2.),
            (0., 0.),
        ]));
        assert!(found.is_some());
    }

    /// Area of the box between two parallels and two meridians on the WGS84 ellipsoid (closed
    /// form with the authalic function), km²: an independent reference for small boxes, whose
    /// geodesic edges differ from parallels by well under a metre.
    fn ellipsoid_box_km2(lon0: f64, lat0: f64, lon1: f64, lat1: f64) -> f64 {
        let a = 6_378_137.0_f64;
        let f: f64 = 1.0 / 298.257_223_563;
        let e2 = f * (2.0 - f);
        let e = e2.sqrt();
        let q = |lat: f64| {
            let s = lat.to_radians().sin();
            s / (1.0 - e2 * s * s) + (1.0 / (2.0 * e)) * ((1.0 + e * s) / (1.0 - e * s)).ln()
        };
        a * a * (1.0 - e2) / 2.0 * (lon1 - lon0).to_radians() * (q(lat1) - q(lat0)) / 1e6
    }

    #[test]
    fn area_does_not_depend_on_ring_winding() {
        use geo::GeodesicArea;
        let square = |x0: f64, y0: f64, x1: f64, y1: f64, ccw: bool| {
            let mut r = vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]];
            if !ccw {
                r.reverse();
            }
            serde_json::json!(r)
        };
        let expected = ellipsoid_box_km2(106.0, 11.0, 106.1, 11.1)
            - ellipsoid_box_km2(106.04, 11.04, 106.06, 11.06);
        for (outer_ccw, hole_ccw) in [(true, false), (true, true), (false, false), (false, true)] {
            let doc = serde_json::json!({"type": "FeatureCollection", "features": [{
                "type": "Feature", "properties": {"code": "A"},
                "geometry": {"type": "Polygon", "coordinates": [
                    square(106.0, 11.0, 106.1, 11.1, outer_ccw),
                    square(106.04, 11.04, 106.06, 11.06, hole_ccw)]}}]});
            let f = parse_boundaries(
                Path::new("t.geojson"),
                doc.to_string().as_bytes(),
                &BoundaryFields::with_code("code"),
            )
            .unwrap();
            let km2 = f[0].geometry.geodesic_area_unsigned() / 1e6;
            assert!(
                (km2 / expected - 1.0).abs() < 1e-5,
                "exterior ccw {outer_ccw}, hole ccw {hole_ccw}: {km2} km² vs {expected}"
            );
            assert!((f[0].geometry.geodesic_area_signed() / 1e6 - km2).abs() < 1e-9);
        }
    }
}
