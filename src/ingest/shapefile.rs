//! ESRI Shapefiles: geometry from `.shp` (with `.shx`) by the `shapefile` crate, attributes from
//! `.dbf` by `dbase` (bytes kept as they are, then decoded by [`super::legacy_text`]: the `.cpg`
//! when it says UTF-8 or 1258, else detected), the CRS from the `.prj` ([`crate::spatial::crs`]).
//! Rings are nested by containment, not by their winding ([`super::layer::assemble_rings`]).

use std::path::Path;

use geo::{Coord, LineString, MultiPolygon};
use serde_json::{Map, Number, Value};

use super::layer::{Field, Format, Layer, OpenOptions, Read, assemble_rings, stem_of};
use super::legacy_text::{Detected, TextEncoding, detect};
use crate::error::IngestError;
use crate::spatial::crs::{self, Crs};

/// `.dbf` text is read as Windows-1252, which maps every byte to a character and back (WHATWG's
/// table), so the bytes come back exactly for [`super::legacy_text`] to decode.
fn bytes_of(s: &str) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(s);
    bytes.into_owned()
}

/// An attribute as read, before text is decoded.
enum Cell {
    Text(Vec<u8>),
    Value(Value),
}

/// Opens a Shapefile.
///
/// # Errors
/// [`IngestError`] naming the `.shp`, `.dbf` or `.prj` and what is wrong.
pub fn open(path: &Path, options: &OpenOptions) -> Result<Layer, IngestError> {
    let dbf = sidecar(path, "dbf");
    let prj = sidecar(path, "prj");
    let cpg = sidecar(path, "cpg");
    if !path.exists() {
        return Err(IngestError::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        ));
    }
    let Some(dbf) = dbf else {
        return Err(IngestError::format(
            path,
            "no .dbf beside it: a Shapefile's attributes (codes, names) are in the .dbf of the same name",
        ));
    };
    let mut shapes = shapefile::ShapeReader::from_path(path)
        .map_err(|e| IngestError::format(path, format!("not a readable Shapefile: {e}")))?;
    let mut table = dbase::ReaderBuilder::new()
        .with_encoding(dbase::encoding::EncodingRs::from(encoding_rs::WINDOWS_1252))
        .open(&dbf)
        .map_err(|e| IngestError::format(&dbf, format!("not a readable dBase file: {e}")))?;
    let fields: Vec<Field> = table
        .fields()
        .iter()
        .map(|f| Field {
            name: f.name().to_owned(),
            kind: format!("{:?}({})", f.field_type(), f.length()),
        })
        .collect();
    let mut rows: Vec<Vec<(String, Cell)>> = Vec::new();
    for (i, record) in table.iter_records().enumerate() {
        let record = record.map_err(|e| IngestError::format(&dbf, format!("record {i}: {e}")))?;
        let mut row = Vec::with_capacity(fields.len());
        // In the file's field order (a record is a map).
        for f in &fields {
            use dbase::FieldValue as F;
            let Some(value) = record.get(&f.name) else {
                continue;
            };
            let name = f.name.clone();
            let cell = match value.clone() {
                F::Character(Some(s)) | F::Memo(s) => Cell::Text(bytes_of(s.trim_end())),
                F::Character(None)
                | F::Numeric(None)
                | F::Float(None)
                | F::Logical(None)
                | F::Date(None) => Cell::Value(Value::Null),
                F::Numeric(Some(n)) | F::Double(n) | F::Currency(n) => Cell::Value(number(n)),
                F::Float(Some(n)) => Cell::Value(number(f64::from(n))),
                F::Integer(n) => Cell::Value(Value::from(n)),
                F::Logical(Some(b)) => Cell::Value(Value::Bool(b)),
                F::Date(Some(d)) => Cell::Value(Value::String(format!(
                    "{:04}-{:02}-{:02}",
                    d.year(),
                    d.month(),
                    d.day()
                ))),
                F::DateTime(d) => {
                    let (date, time) = (d.date(), d.time());
                    Cell::Value(Value::String(format!(
                        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                        date.year(),
                        date.month(),
                        date.day(),
                        time.hours(),
                        time.minutes(),
                        time.seconds()
                    )))
                }
            };
            row.push((name, cell));
        }
        rows.push(row);
    }

    // Text encoding: the user's, the .cpg's when it is decisive, else detected.
    let cpg_label = cpg
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned());
    let (candidates, how): (Vec<TextEncoding>, String) = if let Some(e) = options.encoding {
        (vec![e], "--encoding".into())
    } else {
        match cpg_label
            .as_deref()
            .map(|l| (l, TextEncoding::from_label(l)))
        {
            Some((
                l,
                Some(
                    e @ (TextEncoding::Utf8
                    | TextEncoding::Cp1258
                    | TextEncoding::Tcvn3
                    | TextEncoding::Vni),
                ),
            )) => (vec![e], format!(".cpg says {l:?}")),
            Some((l, Some(TextEncoding::Cp1252))) => (
                vec![
                    TextEncoding::Tcvn3,
                    TextEncoding::Vni,
                    TextEncoding::Cp1258,
                    TextEncoding::Cp1252,
                ],
                format!(
                    ".cpg says {l:?} (what TCVN3 and VNI files carry too): detected from the text"
                ),
            ),
            Some((l, None)) => {
                return Err(IngestError::format(
                    cpg.as_deref().unwrap_or(path),
                    format!(
                        "code page {l:?} is not one this tool reads; give --encoding utf-8, 1258, tcvn3, vni or 1252"
                    ),
                ));
            }
            None => (
                TextEncoding::ALL.to_vec(),
                "no .cpg: detected from the text".into(),
            ),
        }
    };
    let texts: Vec<&[u8]> = rows
        .iter()
        .flat_map(|r| {
            r.iter().filter_map(|(_, c)| {
                if let Cell::Text(t) = c {
                    Some(t.as_slice())
                } else {
                    None
                }
            })
        })
        .collect();
    let detected: Detected = match detect(texts.iter().copied(), &candidates) {
        Ok(d) => d,
        Err(tried) => return Err(undecodable(&dbf, &rows, &candidates, &tried, &how)),
    };
    let encoding = detected.encoding;
    let mut properties: Vec<Map<String, Value>> = Vec::with_capacity(rows.len());
    for (i, row) in rows.into_iter().enumerate() {
        let mut m = Map::new();
        for (name, cell) in row {
            let v = match cell {
                Cell::Value(v) => v,
                Cell::Text(t) if t.is_empty() => Value::Null,
                Cell::Text(t) => match encoding.decode(&t) {
                    Some(s) => Value::String(s),
                    None => {
                        return Err(IngestError::format(
                            &dbf,
                            format!(
                                "record {i}: field `{name}`: {} is not {encoding} text",
                                sample(&t)
                            ),
                        ));
                    }
                },
            };
            m.insert(name, v);
        }
        properties.push(m);
    }

    // Geometry, in the file's CRS first (for the extent and the CRS decision).
    let mut native: Vec<Result<MultiPolygon<f64>, String>> = Vec::new();
    for (i, shape) in shapes.iter_shapes().enumerate() {
        let shape = shape.map_err(|e| IngestError::format(path, format!("shape {i}: {e}")))?;
        native.push(polygons_of(shape));
    }
    if native.len() != properties.len() {
        return Err(IngestError::format(
            path,
            format!(
                "{} shapes but {} records in {}: the files do not belong together",
                native.len(),
                properties.len(),
                dbf.display()
            ),
        ));
    }
    let mut notes = Vec::new();
    let own = match &prj {
        None => None,
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| IngestError::io(p, e))?;
            let c = crs::from_wkt(&text).map_err(|e| {
                IngestError::format(p, format!("{e}; give the CRS with --crs EPSG:NNNN"))
            })?;
            if let Some(t) = crs::towgs84_of(&text)
                && matches!(
                    c,
                    Crs::Vn2000 | Crs::TransverseMercator { vn2000: true, .. }
                )
            {
                let ours: Vec<f64> = crs::VN2000_TOWGS84
                    .split(',')
                    .filter_map(|v| v.parse().ok())
                    .collect();
                if t.len() != ours.len() || t.iter().zip(&ours).any(|(a, b)| (a - b).abs() > 1e-9) {
                    notes.push(format!(
                        "the .prj carries TOWGS84{t:?}; VN-2000 is converted with Decision 05/2007/QĐ-BTNMT's parameters in PROJ's convention ({}) instead",
                        crs::VN2000_TOWGS84
                    ));
                }
            }
            Some((c, format!("{}", p.display())))
        }
    };
    Read {
        path: path.to_owned(),
        format: Format::Shapefile,
        name: stem_of(path),
        fields,
        rows: properties.into_iter().zip(native).collect(),
        own_crs: own,
        encoding: Some((detected, how)),
        notes,
    }
    .into_layer(options)
}

/// A sidecar file of the same stem, any case of extension (`.DBF`, `.Prj`).
fn sidecar(shp: &Path, ext: &str) -> Option<std::path::PathBuf> {
    let stem = shp.file_stem()?.to_str()?;
    let dir = shp
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_stem().and_then(|s| s.to_str()) == Some(stem)
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.eq_ignore_ascii_case(ext))
        })
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

fn polygons_of(shape: shapefile::Shape) -> Result<MultiPolygon<f64>, String> {
    use shapefile::Shape as S;
    fn rings<P: shapefile::record::traits::HasXY>(
        rings: &[shapefile::PolygonRing<P>],
    ) -> Vec<LineString<f64>> {
        rings
            .iter()
            .map(|r| {
                LineString(
                    r.points()
                        .iter()
                        .map(|p| Coord { x: p.x(), y: p.y() })
                        .collect(),
                )
            })
            .collect()
    }
    match shape {
        S::Polygon(p) => Ok(assemble_rings(rings(p.rings()))),
        S::PolygonM(p) => Ok(assemble_rings(rings(p.rings()))),
        S::PolygonZ(p) => Ok(assemble_rings(rings(p.rings()))),
        S::NullShape => Err("null shape".into()),
        other => Err(format!(
            "shape type {}; expected Polygon",
            other.shapetype()
        )),
    }
}

/// Bytes shown for a message: as a Western font shows them, and in hex.
fn sample(t: &[u8]) -> String {
    let shown: String = t.iter().take(40).map(|&b| char::from(b)).collect();
    let hex: Vec<String> = t.iter().take(12).map(|b| format!("{b:02X}")).collect();
    format!("{shown:?} (bytes {})", hex.join(" "))
}

fn undecodable(
    dbf: &Path,
    rows: &[Vec<(String, Cell)>],
    candidates: &[TextEncoding],
    tried: &[(TextEncoding, Option<super::legacy_text::Score>)],
    how: &str,
) -> IngestError {
    // The first non-ASCII value, with what each candidate makes of it.
    let first = rows.iter().enumerate().find_map(|(i, r)| {
        r.iter().find_map(|(name, c)| match c {
            Cell::Text(t) if !t.is_ascii() => Some((i, name.clone(), t.clone())),
            _ => None,
        })
    });
    let (record, field, bytes) = first.unwrap_or((0, String::new(), Vec::new()));
    let attempts: Vec<String> = candidates
        .iter()
        .map(|e| match e.decode(&bytes) {
            Some(s) => format!("{e} {s:?}"),
            None => format!("{e}: not valid"),
        })
        .collect();
    let scores: Vec<String> = tried
        .iter()
        .map(|(e, s)| match s {
            Some(s) => format!(
                "{e}: {} of {} words impossible, {} known",
                s.impossible, s.words, s.known
            ),
            None => format!("{e}: bytes not valid"),
        })
        .collect();
    IngestError::format(
        dbf,
        format!(
            "text is in no encoding known ({how}): record {record}, field `{field}`: {}; read as {}; over all text: {}. \
             Give the encoding with --encoding utf-8|1258|tcvn3|vni|1252, or save the .dbf as UTF-8 with a .cpg",
            sample(&bytes),
            attempts.join(", "),
            scores.join("; ")
        ),
    )
}
