//! One layer of a boundary file whatever its format — GeoJSON, ESRI Shapefile, GeoPackage — in
//! WGS84 lon/lat, with its attributes as JSON values, ready for the boundary checks of
//! [`super::boundaries`]. Also what `phuso inspect` shows: fields, sample values, CRS, extent,
//! text encoding.

use std::path::{Path, PathBuf};

use geo::{BoundingRect, Coord, LineString, MultiPolygon, Polygon, Rect};
use serde_json::{Map, Value};

use super::legacy_text::{Detected, TextEncoding};
use crate::error::IngestError;
use crate::spatial::crs::{Crs, ToWgs84};

/// How to open a file.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// The CRS, when the file has none (or to override a wrong one).
    pub crs: Option<Crs>,
    /// The `.dbf` text encoding, when detection is not wanted.
    pub encoding: Option<TextEncoding>,
    /// The layer of a GeoPackage (default: the only one).
    pub layer: Option<String>,
}

/// The formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// GeoJSON (`.geojson`, `.json`).
    GeoJson,
    /// ESRI Shapefile (`.shp` with `.shx`, `.dbf`, `.prj`, `.cpg`).
    Shapefile,
    /// OGC GeoPackage (`.gpkg`).
    GeoPackage,
}

impl Format {
    /// The format of a path, by extension.
    ///
    /// # Errors
    /// [`IngestError::Format`] for any other extension.
    pub fn of(path: &Path) -> Result<Self, IngestError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("geojson" | "json") => Ok(Self::GeoJson),
            Some("shp") => Ok(Self::Shapefile),
            Some("gpkg") => Ok(Self::GeoPackage),
            other => Err(IngestError::format(
                path,
                format!(
                    "unsupported extension {:?}: expected .geojson, .shp or .gpkg",
                    other.unwrap_or("")
                ),
            )),
        }
    }
}

/// A field (attribute column) of a layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Its name as in the file.
    pub name: String,
    /// Its type as the file declares it (`C(40)`, `N(10,0)`, `TEXT`, `string`…).
    pub kind: String,
}

/// One feature: attributes and geometry (WGS84), or why the geometry could not be read.
#[derive(Debug, Clone)]
pub struct SourceFeature {
    /// Attributes.
    pub properties: Map<String, Value>,
    /// The geometry in WGS84; `Err` says what is wrong (null shape, not a polygon, a position
    /// the CRS cannot convert).
    pub geometry: Result<MultiPolygon<f64>, String>,
}

/// A layer read whole.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The file.
    pub path: PathBuf,
    /// The format.
    pub format: Format,
    /// The layer's name.
    pub name: String,
    /// Its fields, in file order.
    pub fields: Vec<Field>,
    /// Its features, in file order.
    pub features: Vec<SourceFeature>,
    /// Its CRS.
    pub crs: Crs,
    /// Where the CRS came from (".prj", "--crs", "GeoJSON (RFC 7946)", an assumption…).
    pub crs_source: String,
    /// Extent in the file's own coordinates.
    pub native_extent: Option<Rect<f64>>,
    /// The text encoding of a `.dbf`, and how it was decided.
    pub encoding: Option<(Detected, String)>,
    /// Anything the user should know (a TOWGS84 in the .prj that is not the decision's…).
    pub notes: Vec<String>,
}

impl Layer {
    /// Extent in WGS84 of the features that converted.
    #[must_use]
    pub fn wgs84_extent(&self) -> Option<Rect<f64>> {
        extent_of(
            self.features
                .iter()
                .filter_map(|f| f.geometry.as_ref().ok()),
        )
    }

    /// The layer as a GeoJSON FeatureCollection of WGS84 features (the form the boundary checks
    /// read); a feature whose geometry could not be read has `"geometry": null` and its reason
    /// in `properties["_geometry_problem"]`.
    #[must_use]
    pub fn to_feature_values(&self) -> Vec<Value> {
        self.features
            .iter()
            .map(|f| {
                let mut props = f.properties.clone();
                let geometry = match &f.geometry {
                    Ok(g) => {
                        serde_json::to_value(geojson::Geometry::from(g)).unwrap_or(Value::Null)
                    }
                    Err(why) => {
                        props.insert("_geometry_problem".into(), Value::String(why.clone()));
                        Value::Null
                    }
                };
                serde_json::json!({"type": "Feature", "properties": props, "geometry": geometry})
            })
            .collect()
    }
}

/// Opens the one layer of `path` (a GeoPackage's `options.layer`, or its only one).
///
/// # Errors
/// [`IngestError`] naming the file (and the `.prj`, `.dbf`, field or layer) when it cannot be
/// read, its CRS is unknown, or its text is in no encoding known.
pub fn open(path: &Path, options: &OpenOptions) -> Result<Layer, IngestError> {
    match Format::of(path)? {
        Format::GeoJson => open_geojson(path, options),
        Format::Shapefile => super::shapefile::open(path, options),
        Format::GeoPackage => super::geopackage::open(path, options),
    }
}

/// The names of the layers of `path` (one, but for a GeoPackage).
///
/// # Errors
/// As [`open`].
pub fn layer_names(path: &Path) -> Result<Vec<String>, IngestError> {
    match Format::of(path)? {
        Format::GeoPackage => super::geopackage::layer_names(path),
        _ => Ok(vec![
            path.file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("layer")
                .to_owned(),
        ]),
    }
}

/// A layer's attributes and its geometry (in the file's own coordinates, or why it could not be
/// read), one row per feature.
pub(crate) type Row = (Map<String, Value>, Result<MultiPolygon<f64>, String>);

/// What a format reader found, before the CRS is decided and the geometry converted.
pub(crate) struct Read {
    pub path: PathBuf,
    pub format: Format,
    pub name: String,
    pub fields: Vec<Field>,
    pub rows: Vec<Row>,
    /// The file's own CRS and where it says so.
    pub own_crs: Option<(Crs, String)>,
    pub encoding: Option<(Detected, String)>,
    pub notes: Vec<String>,
}

impl Read {
    /// Decides the CRS ([`decide_crs`]) and converts every geometry to WGS84.
    pub(crate) fn into_layer(self, options: &OpenOptions) -> Result<Layer, IngestError> {
        let native_extent = extent_of(self.rows.iter().filter_map(|(_, g)| g.as_ref().ok()));
        let mut notes = self.notes;
        let (crs, crs_source) =
            decide_crs(&self.path, self.own_crs, options, native_extent, &mut notes)?;
        let t = crs
            .to_wgs84()
            .map_err(|e| IngestError::format(&self.path, e))?;
        let features = self
            .rows
            .into_iter()
            .map(|(properties, g)| SourceFeature {
                properties,
                geometry: g.and_then(|g| {
                    if crs == Crs::Wgs84 {
                        Ok(g)
                    } else {
                        to_wgs84(g, &t)
                    }
                }),
            })
            .collect();
        Ok(Layer {
            path: self.path,
            format: self.format,
            name: self.name,
            fields: self.fields,
            features,
            crs,
            crs_source,
            native_extent,
            encoding: self.encoding,
            notes,
        })
    }
}

/// The bounding box of the exteriors of `geoms`.
pub(crate) fn extent_of<'a>(
    geoms: impl Iterator<Item = &'a MultiPolygon<f64>>,
) -> Option<Rect<f64>> {
    geoms
        .filter_map(BoundingRect::bounding_rect)
        .reduce(|a, b| {
            Rect::new(
                Coord {
                    x: a.min().x.min(b.min().x),
                    y: a.min().y.min(b.min().y),
                },
                Coord {
                    x: a.max().x.max(b.max().x),
                    y: a.max().y.max(b.max().y),
                },
            )
        })
}

/// A file's name without its extension, as a layer name.
pub(crate) fn stem_of(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("layer")
        .to_owned()
}

/// Decides the CRS of a file: the user's, else the file's own, else WGS84 when every coordinate
/// is plainly degrees (with a note), else an error saying how to give one.
pub(crate) fn decide_crs(
    path: &Path,
    own: Option<(Crs, String)>,
    options: &OpenOptions,
    native: Option<Rect<f64>>,
    notes: &mut Vec<String>,
) -> Result<(Crs, String), IngestError> {
    if let Some(c) = &options.crs {
        if let Some((file_crs, from)) = &own
            && file_crs != c
        {
            notes.push(format!("--crs {c} used instead of {file_crs} ({from})"));
        }
        return Ok((c.clone(), "--crs".into()));
    }
    if let Some(own) = own {
        return Ok(own);
    }
    let degrees = native.is_some_and(|r| {
        (-180.0..=180.0).contains(&r.min().x)
            && (-180.0..=180.0).contains(&r.max().x)
            && (-90.0..=90.0).contains(&r.min().y)
            && (-90.0..=90.0).contains(&r.max().y)
    });
    if degrees {
        notes.push("no CRS in the file; its coordinates are degrees, read as WGS 84 (give --crs EPSG:4756 if they are VN-2000)".into());
        return Ok((Crs::Wgs84, "assumed: no CRS, coordinates in degrees".into()));
    }
    let r = native.map_or_else(
        || "none".to_owned(),
        |r| {
            format!(
                "x {:.1}…{:.1}, y {:.1}…{:.1}",
                r.min().x,
                r.max().x,
                r.min().y,
                r.max().y
            )
        },
    );
    Err(IngestError::format(
        path,
        format!(
            "no coordinate system: the file has none (no .prj) and its coordinates ({r}) are not degrees; \
             give one with --crs EPSG:NNNN — VN-2000 TM-3 zones are EPSG:5896–5899 and 9205–9218, \
             UTM EPSG:3405/3406 (`phuso inspect` lists them with their central meridians)"
        ),
    ))
}

/// Converts every ring of `polygons` (in the file's CRS) to WGS84.
pub(crate) fn to_wgs84(
    polygons: MultiPolygon<f64>,
    t: &ToWgs84,
) -> Result<MultiPolygon<f64>, String> {
    let ring = |ls: &LineString<f64>| -> Result<LineString<f64>, String> {
        ls.0.iter()
            .enumerate()
            .map(|(i, c)| {
                t.convert(c.x, c.y)
                    .map(|(x, y)| Coord { x, y })
                    .ok_or_else(|| {
                        format!(
                            "position {i} [{}, {}] cannot be converted from {}",
                            c.x,
                            c.y,
                            t.crs()
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(LineString)
    };
    polygons
        .0
        .iter()
        .map(|p| {
            Ok(Polygon::new(
                ring(p.exterior())?,
                p.interiors().iter().map(ring).collect::<Result<_, _>>()?,
            ))
        })
        .collect::<Result<Vec<_>, String>>()
        .map(MultiPolygon)
}

/// Builds polygons from rings whatever their winding: a ring inside an even number of others is
/// an exterior, inside an odd number a hole of the smallest ring around it (the even-odd rule,
/// as GDAL reads Shapefiles). Rings with fewer than 4 positions are left to the checks.
#[must_use]
pub fn assemble_rings(rings: Vec<LineString<f64>>) -> MultiPolygon<f64> {
    use geo::{Area, Contains};
    let mut order: Vec<usize> = (0..rings.len()).collect();
    let area = |r: &LineString<f64>| Polygon::new(r.clone(), vec![]).unsigned_area();
    let areas: Vec<f64> = rings.iter().map(area).collect();
    order.sort_by(|&a, &b| areas[b].total_cmp(&areas[a]));
    // For each ring by decreasing area: its depth and the exterior it belongs to.
    let mut placed: Vec<(usize, usize)> = Vec::new(); // (ring, depth)
    let mut polygon_of: Vec<Option<usize>> = vec![None; rings.len()];
    let mut polygons: Vec<(LineString<f64>, Vec<LineString<f64>>)> = Vec::new();
    for &i in &order {
        let probe = rings[i].0.first().copied();
        let parent = probe.and_then(|p| {
            placed
                .iter()
                .rev()
                .find(|(j, _)| {
                    rings[*j].0.len() >= 4 && Polygon::new(rings[*j].clone(), vec![]).contains(&p)
                })
                .copied()
        });
        let depth = parent.map_or(0, |(_, d)| d + 1);
        if depth % 2 == 0 {
            polygon_of[i] = Some(polygons.len());
            polygons.push((rings[i].clone(), Vec::new()));
        } else if let Some((j, _)) = parent
            && let Some(k) = polygon_of[j]
        {
            polygons[k].1.push(rings[i].clone());
            polygon_of[i] = Some(k);
        }
        placed.push((i, depth));
    }
    MultiPolygon(
        polygons
            .into_iter()
            .map(|(e, h)| Polygon::new(e, h))
            .collect(),
    )
}

fn open_geojson(path: &Path, options: &OpenOptions) -> Result<Layer, IngestError> {
    let bytes = std::fs::read(path).map_err(|e| IngestError::io(path, e))?;
    let root: Value = serde_json::from_slice(&bytes)
        .map_err(|e| IngestError::format(path, format!("not valid JSON: {e}")))?;
    if root.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(IngestError::format(
            path,
            "expected a GeoJSON FeatureCollection",
        ));
    }
    // RFC 7946 is WGS84; files from older tools may name another CRS (`crs.properties.name`).
    let named = root
        .pointer("/crs/properties/name")
        .and_then(Value::as_str)
        .map(|n| (n, n.rsplit(':').next().and_then(|c| c.parse::<u32>().ok())));
    let own = match named {
        None => Some((Crs::Wgs84, "GeoJSON (RFC 7946: WGS 84)".to_owned())),
        Some((n, _)) if n.ends_with("CRS84") => Some((Crs::Wgs84, format!("GeoJSON crs {n}"))),
        Some((n, code)) => match code.and_then(Crs::from_epsg) {
            Some(c) => Some((c, format!("GeoJSON crs {n}"))),
            None => {
                return Err(IngestError::format(
                    path,
                    format!(
                        "field `crs`: {n:?} is not a coordinate system this tool knows; {}",
                        crate::spatial::crs::known_codes()
                    ),
                ));
            }
        },
    };
    let features = root
        .get("features")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut fields: Vec<Field> = Vec::new();
    let mut raw: Vec<(Map<String, Value>, Option<geojson::Geometry>)> = Vec::new();
    for f in features {
        let props = f
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (k, v) in &props {
            if !fields.iter().any(|x| &x.name == k) {
                fields.push(Field {
                    name: k.clone(),
                    kind: json_kind(v).into(),
                });
            }
        }
        let geometry = f
            .get("geometry")
            .cloned()
            .and_then(|g| serde_json::from_value::<geojson::Geometry>(g).ok());
        raw.push((props, geometry));
    }
    let rows: Vec<Row> = raw
        .into_iter()
        .map(|(properties, g)| {
            let geometry = match g.map(|g| g.value) {
                None => Err("null geometry".into()),
                Some(v @ geojson::GeometryValue::Polygon { .. }) => {
                    geo::Polygon::<f64>::try_from(v)
                        .map(|p| MultiPolygon(vec![p]))
                        .map_err(|e| e.to_string())
                }
                Some(v @ geojson::GeometryValue::MultiPolygon { .. }) => {
                    MultiPolygon::<f64>::try_from(v).map_err(|e| e.to_string())
                }
                Some(other) => Err(format!(
                    "geometry type {}; expected Polygon or MultiPolygon",
                    other.type_name()
                )),
            };
            (properties, geometry)
        })
        .collect();
    Read {
        path: path.to_owned(),
        format: Format::GeoJson,
        name: stem_of(path),
        fields,
        rows,
        own_crs: own,
        encoding: None,
        notes: Vec::new(),
    }
    .into_layer(options)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: f64, y0: f64, s: f64, ccw: bool) -> LineString<f64> {
        let mut c = vec![
            (x0, y0),
            (x0 + s, y0),
            (x0 + s, y0 + s),
            (x0, y0 + s),
            (x0, y0),
        ];
        if !ccw {
            c.reverse();
        }
        LineString::from(c)
    }

    #[test]
    fn rings_nest_by_containment_not_winding() {
        use geo::Area;
        for (a, b, c) in [
            (true, true, true),
            (false, false, false),
            (true, false, true),
            (false, true, false),
        ] {
            // An outer square, a hole in it, an island in the hole, and a separate square.
            let m = assemble_rings(vec![
                square(2.0, 2.0, 1.0, c),
                square(0.0, 0.0, 10.0, a),
                square(1.0, 1.0, 5.0, b),
                square(20.0, 0.0, 1.0, a),
            ]);
            assert_eq!(m.0.len(), 3, "{m:?}");
            assert!((m.unsigned_area() - (100.0 - 25.0 + 1.0 + 1.0)).abs() < 1e-9);
            let outer =
                m.0.iter()
                    .find(|p| {
                        p.exterior().0[0] == Coord { x: 0.0, y: 0.0 }
                            || p.exterior().0.contains(&Coord { x: 10.0, y: 10.0 })
                    })
                    .unwrap();
            assert_eq!(outer.interiors().len(), 1);
        }
    }
}
