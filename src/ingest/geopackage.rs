//! OGC GeoPackage (1.x) feature layers, read with the store's SQLite (rusqlite, read-only): the
//! layers from `gpkg_contents`, the geometry column and its SRS from `gpkg_geometry_columns` and
//! `gpkg_spatial_ref_sys` (an EPSG code, or its WKT definition), each geometry a GeoPackage
//! binary header followed by WKB (the `wkb` crate). Text is UTF-8 by the standard.

use std::path::Path;

use geo::{Geometry, MultiPolygon};
use geo_traits::to_geo::ToGeoGeometry;
use rusqlite::{Connection, OpenFlags, types::ValueRef};
use serde_json::{Map, Number, Value};

use super::layer::{Field, Format, Layer, OpenOptions, Read, Row};
use crate::error::IngestError;
use crate::spatial::crs::{self, Crs};

fn connect(path: &Path) -> Result<Connection, IngestError> {
    if !path.exists() {
        return Err(IngestError::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        ));
    }
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| IngestError::format(path, format!("not a readable GeoPackage: {e}")))
}

fn sql_err(path: &Path, what: &str, e: &rusqlite::Error) -> IngestError {
    IngestError::format(path, format!("{what}: {e} (is it a GeoPackage?)"))
}

/// The feature layers of a GeoPackage.
///
/// # Errors
/// When it is not a GeoPackage.
pub fn layer_names(path: &Path) -> Result<Vec<String>, IngestError> {
    let db = connect(path)?;
    let mut st = db
        .prepare(
            "SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name",
        )
        .map_err(|e| sql_err(path, "gpkg_contents", &e))?;
    st.query_map([], |r| r.get::<_, String>(0))
        .and_then(Iterator::collect)
        .map_err(|e| sql_err(path, "gpkg_contents", &e))
}

/// Opens the layer `options.layer` (or the only one).
///
/// # Errors
/// [`IngestError`] naming the file and layer.
pub fn open(path: &Path, options: &OpenOptions) -> Result<Layer, IngestError> {
    let names = layer_names(path)?;
    let name = match (&options.layer, names.as_slice()) {
        (Some(l), _) if names.contains(l) => l.clone(),
        (Some(l), _) => {
            return Err(IngestError::format(
                path,
                format!(
                    "--layer {l:?}: no such feature layer; layers: {}",
                    names.join(", ")
                ),
            ));
        }
        (None, [one]) => one.clone(),
        (None, []) => {
            return Err(IngestError::format(
                path,
                "no feature layer in gpkg_contents",
            ));
        }
        (None, many) => {
            return Err(IngestError::format(
                path,
                format!(
                    "{} feature layers; choose one with --layer: {}",
                    many.len(),
                    many.join(", ")
                ),
            ));
        }
    };
    let db = connect(path)?;
    let at = |what: &str| format!("layer {name:?}: {what}");
    let (geom_col, srs_id): (String, i64) = db
        .query_row(
            "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?1",
            [&name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(|e| sql_err(path, &at("gpkg_geometry_columns"), &e))?;
    let (org, org_id, definition): (String, i64, String) = db
        .query_row(
            "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
            [srs_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| sql_err(path, &at(&format!("srs_id {srs_id} in gpkg_spatial_ref_sys")), &e))?;
    let own = if org.eq_ignore_ascii_case("EPSG")
        && let Some(c) = u32::try_from(org_id).ok().and_then(Crs::from_epsg)
    {
        Some((c, format!("gpkg_spatial_ref_sys: EPSG:{org_id}")))
    } else if srs_id <= 0 {
        // 0 and -1 are "undefined" by the standard.
        None
    } else {
        let c = crs::from_wkt(&definition).map_err(|e| {
            IngestError::format(
                path,
                format!(
                    "{}: {e}; give the CRS with --crs EPSG:NNNN",
                    at(&format!("srs {org}:{org_id}"))
                ),
            )
        })?;
        Some((
            c,
            format!("gpkg_spatial_ref_sys definition of {org}:{org_id}"),
        ))
    };

    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    let mut fields: Vec<Field> = Vec::new();
    {
        let mut st = db
            .prepare(&format!(
                "SELECT name, type FROM pragma_table_info({})",
                sql_text(&name)
            ))
            .map_err(|e| sql_err(path, &at("columns"), &e))?;
        let cols = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| sql_err(path, &at("columns"), &e))?;
        for (n, t) in cols {
            if n != geom_col {
                fields.push(Field { name: n, kind: t });
            }
        }
    }
    let mut st = db
        .prepare(&format!("SELECT * FROM {quoted}"))
        .map_err(|e| sql_err(path, &at("rows"), &e))?;
    let columns: Vec<String> = st.column_names().map(str::to_owned).collect();
    let mut rows = st.query([]).map_err(|e| sql_err(path, &at("rows"), &e))?;
    let mut raw: Vec<Row> = Vec::new();
    while let Some(row) = rows.next().map_err(|e| sql_err(path, &at("rows"), &e))? {
        let mut props = Map::new();
        let mut geometry: Result<MultiPolygon<f64>, String> = Err("null geometry".into());
        for (i, c) in columns.iter().enumerate() {
            let v = row.get_ref(i).map_err(|e| sql_err(path, &at("rows"), &e))?;
            if *c == geom_col {
                geometry = match v {
                    ValueRef::Blob(b) => polygons_of(b),
                    ValueRef::Null => Err("null geometry".into()),
                    _ => Err("geometry column holds no blob".into()),
                };
                continue;
            }
            let value = match v {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::from(n),
                ValueRef::Real(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
                ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).trim().to_owned()),
                ValueRef::Blob(b) => Value::String(format!("<{} bytes>", b.len())),
            };
            props.insert(c.clone(), value);
        }
        raw.push((props, geometry));
    }
    Read {
        path: path.to_owned(),
        format: Format::GeoPackage,
        name,
        fields,
        rows: raw,
        own_crs: own,
        encoding: None,
        notes: Vec::new(),
    }
    .into_layer(options)
}

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A GeoPackage geometry blob: "GP", version, flags (byte order, envelope kind, empty), srs id,
/// envelope, then WKB.
fn polygons_of(blob: &[u8]) -> Result<MultiPolygon<f64>, String> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err("not a GeoPackage geometry (no GP header)".into());
    }
    let flags = blob[3];
    if flags & 0b0010_0000 != 0 {
        return Err("extended GeoPackage geometry: not supported".into());
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        k => return Err(format!("envelope indicator {k}: invalid")),
    };
    let wkb = blob
        .get(8 + envelope..)
        .ok_or("blob shorter than its header")?;
    let geom = wkb::reader::read_wkb(wkb).map_err(|e| format!("invalid WKB: {e}"))?;
    match geom.try_to_geometry() {
        Some(Geometry::Polygon(p)) => Ok(MultiPolygon(vec![p])),
        Some(Geometry::MultiPolygon(m)) => Ok(m),
        Some(other) => Err(format!(
            "geometry type {}; expected Polygon or MultiPolygon",
            kind(&other)
        )),
        None => Err("empty geometry".into()),
    }
}

fn kind(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) | Geometry::LineString(_) => "LineString",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        _ => "other",
    }
}
