//! A province's own files: VN-2000 against PROJ in every zone; a Shapefile in a TM-3 zone with
//! TCVN3 names, an Excel roster and CSV visits through `phuso inspect` and `phuso import --data`
//! into a data directory whose figures are counted by hand; the same layer from a GeoPackage
//! written by GDAL; areas whatever the winding; bad files refused with messages naming the place.
//!
//! Needs `projinfo` and `cct` (Debian's proj-bin) and `ogr2ogr` (gdal-bin): `scripts/test-all.sh` installs them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use geo::{
    BooleanOps, BoundingRect, Coord, GeodesicArea, InteriorPoint, LineString, MultiPolygon,
    Polygon, Rect,
};
use phuso::ingest::boundaries::{BoundaryFields, read_boundaries};
use phuso::ingest::layer::{OpenOptions, open};
use phuso::ingest::legacy_text::TCVN3_HIGH;
use phuso::spatial::crs::{Crs, ToWgs84, VN2000_TOWGS84, ZONES};
use phuso::{Engine, EngineConfig};
use unicode_normalization::UnicodeNormalization;

use super::{bundled, scratch};

/// Converts `points` with PROJ (the reference): the operation PROJ's registry builds from
/// `from` to `to` with Decision 05/2007/QĐ-BTNMT's parameters (EPSG:6960, "VN-2000 to WGS 84
/// (2)"), run by `cct`. Plain `cs2cs EPSG:9210 EPSG:4326` is not used: inside the bounding box of
/// EPSG:5194 (an oil-industry transformation for two Mekong delta blocks, 9.35–11.04° N,
/// 104.24–107.11° E, which takes in Hồ Chí Minh City) PROJ prefers that one, ≈ 0.8 m away.
/// Returns the first two numbers of each output line (EPSG:4326 answers latitude first).
fn proj(from: &str, to: &str, points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let listed = Command::new("projinfo")
        .args([
            "-s",
            from,
            "-t",
            to,
            "--spatial-test",
            "intersects",
            "-o",
            "PROJ",
            "--single-line",
            "-q",
        ])
        .output()
        .expect("projinfo (Debian's proj-bin) is installed: scripts/test-all.sh installs it");
    assert!(listed.status.success());
    let listed = String::from_utf8(listed.stdout).unwrap();
    let pipeline = listed
        .lines()
        .find(|l| l.contains("-191.90441429"))
        .or_else(|| listed.lines().next())
        .expect("PROJ has an operation")
        .to_owned();
    let wgs84_only = [from, to]
        .iter()
        .all(|c| *c == "EPSG:4326" || c.starts_with("EPSG:326"));
    if !wgs84_only {
        assert!(
            pipeline.contains("-191.90441429") && pipeline.contains("coordinate_frame"),
            "{from} → {to}: {pipeline}"
        );
    }
    let mut child = Command::new("cct")
        .args(["-d", "12"])
        .args(pipeline.split_whitespace())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = String::new();
    for (a, b) in points {
        input.push_str(&format!("{a:.12} {b:.12} 0 0\n"));
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<(f64, f64)> = text
        .lines()
        .map(|l| {
            let v: Vec<f64> = l
                .split_whitespace()
                .take(2)
                .map(|t| t.parse().unwrap())
                .collect();
            (v[0], v[1])
        })
        .collect();
    assert_eq!(rows.len(), points.len(), "PROJ answered every point");
    rows
}

/// Distance in metres between two lon/lat positions a few metres apart.
fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let k = 111_320.0;
    let dx = (a.0 - b.0) * k * a.1.to_radians().cos();
    let dy = (a.1 - b.1) * 110_574.0;
    dx.hypot(dy)
}

#[test]
fn vn2000_matches_proj_in_every_zone_to_the_centimetre() {
    // A grid over each zone's Vietnam: eastings 200–800 km, northings 950–2 550 km (8.6°–23°N).
    let grid: Vec<(f64, f64)> = [200_000.0, 350_000.0, 500_000.0, 650_000.0, 800_000.0]
        .iter()
        .flat_map(|&x| {
            [
                950_000.0,
                1_300_000.0,
                1_700_000.0,
                2_100_000.0,
                2_550_000.0,
            ]
            .map(|y| (x, y))
        })
        .collect();
    let mut checked = 0;
    for z in ZONES {
        // PROJ from its own EPSG registry (EPSG:4326 answers latitude first).
        let reference = proj(&format!("EPSG:{}", z.epsg), "EPSG:4326", &grid);
        let ours = Crs::from_epsg(u32::from(z.epsg))
            .unwrap()
            .to_wgs84()
            .unwrap();
        for (&(x, y), &(lat, lon)) in grid.iter().zip(&reference) {
            let got = ours.convert(x, y).unwrap();
            let d = metres(got, (lon, lat));
            assert!(
                d < 0.01,
                "EPSG:{} ({x}, {y}): ours {got:?}, PROJ ({lon}, {lat}): {d:.4} m",
                z.epsg
            );
            checked += 1;
        }
    }
    // VN-2000 degrees (EPSG:4756 takes latitude first too).
    let degrees: Vec<(f64, f64)> = [102.2, 104.0, 105.8, 107.6, 109.4]
        .iter()
        .flat_map(|&lon| [8.7, 12.0, 16.0, 20.0, 23.3].map(|lat| (lon, lat)))
        .collect();
    let swapped: Vec<(f64, f64)> = degrees.iter().map(|&(lon, lat)| (lat, lon)).collect();
    let reference = proj("EPSG:4756", "EPSG:4326", &swapped);
    let ours = Crs::Vn2000.to_wgs84().unwrap();
    for (&(lon, lat), &(rlat, rlon)) in degrees.iter().zip(&reference) {
        let got = ours.convert(lon, lat).unwrap();
        assert!(
            metres(got, (rlon, rlat)) < 0.01,
            "EPSG:4756 ({lon}, {lat}): {got:?} vs ({rlon}, {rlat})"
        );
        checked += 1;
    }
    assert_eq!(checked, 22 * 25 + 25);

    // The reference tells the sign conventions apart: the decision's rotation signs as printed
    // put points about a metre off (1.3 m here; the rotations' effect grows with the distance from
    // the Earth's axis they turn about), no datum shift ≈ 224 m off.
    let z = Crs::from_epsg(9210).unwrap();
    let point = (600_000.0, 1_220_000.0);
    let (rlat, rlon) = proj("EPSG:9210", "EPSG:4326", &[point])[0];
    let printed = z.proj_string().replace(
        VN2000_TOWGS84,
        "-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278",
    );
    let off = |proj: &str| {
        let t = ToWgs84::from_proj_string(proj, z.clone()).unwrap();
        metres(t.convert(point.0, point.1).unwrap(), (rlon, rlat))
    };
    let wrong_signs = off(&printed);
    assert!(
        (0.3..2.0).contains(&wrong_signs),
        "printed signs: {wrong_signs} m"
    );
    let no_shift = off(&z.proj_string().replace(
        &format!("+ellps=WGS84 +towgs84={VN2000_TOWGS84}"),
        "+datum=WGS84",
    ));
    assert!((200.0..250.0).contains(&no_shift), "no shift: {no_shift} m");
}

/// TCVN3 bytes of a text (the VN1 table, as offices' ABC fonts write it).
fn tcvn3(s: &str) -> Vec<u8> {
    s.nfc()
        .map(|c| {
            if c.is_ascii() {
                c as u8
            } else {
                0x80 + u8::try_from(
                    TCVN3_HIGH
                        .iter()
                        .position(|&t| t == c)
                        .unwrap_or_else(|| panic!("{c} in TCVN3")),
                )
                .unwrap()
            }
        })
        .collect()
}

/// A fixture feature: its rings as written, and its attributes.
type Feature = (Vec<Vec<(f64, f64)>>, Vec<Attr>);

/// One attribute value of a fixture record.
enum Attr {
    /// Raw bytes of a character field.
    Text(Vec<u8>),
    Number(f64),
}

/// Writes `stem.shp`, `.shx` and `.dbf` byte by byte (rings exactly as given, so the winding is
/// the caller's), and `.prj` when given. Fields: (name, 'C' or 'N').
fn write_shapefile(stem: &Path, fields: &[(&str, char)], features: &[Feature], prj: Option<&str>) {
    let mut shp: Vec<u8> = Vec::new();
    let mut shx: Vec<u8> = Vec::new();
    let mut records: Vec<Vec<u8>> = Vec::new();
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (rings, _) in features {
        let pts: Vec<&(f64, f64)> = rings.iter().flatten().collect();
        let (a, b, c, d) = pts
            .iter()
            .fold((f64::MAX, f64::MAX, f64::MIN, f64::MIN), |o, p| {
                (o.0.min(p.0), o.1.min(p.1), o.2.max(p.0), o.3.max(p.1))
            });
        (x0, y0, x1, y1) = (x0.min(a), y0.min(b), x1.max(c), y1.max(d));
        let mut r = Vec::new();
        r.extend(5i32.to_le_bytes());
        for v in [a, b, c, d] {
            r.extend(v.to_le_bytes());
        }
        r.extend((rings.len() as i32).to_le_bytes());
        r.extend((pts.len() as i32).to_le_bytes());
        let mut start = 0i32;
        for ring in rings {
            r.extend(start.to_le_bytes());
            start += ring.len() as i32;
        }
        for p in pts {
            r.extend(p.0.to_le_bytes());
            r.extend(p.1.to_le_bytes());
        }
        records.push(r);
    }
    let header = |len_words: usize| {
        let mut h = Vec::new();
        h.extend(9994i32.to_be_bytes());
        h.extend([0u8; 20]);
        h.extend((len_words as i32).to_be_bytes());
        h.extend(1000i32.to_le_bytes());
        h.extend(5i32.to_le_bytes());
        for v in [x0, y0, x1, y1, 0.0, 0.0, 0.0, 0.0] {
            h.extend(v.to_le_bytes());
        }
        h
    };
    let shp_len = 50 + records.iter().map(|r| 4 + r.len() / 2).sum::<usize>();
    shp.extend(header(shp_len));
    shx.extend(header(50 + 4 * records.len()));
    for (i, r) in records.iter().enumerate() {
        shx.extend(((shp.len() / 2) as i32).to_be_bytes());
        shx.extend(((r.len() / 2) as i32).to_be_bytes());
        shp.extend((i as i32 + 1).to_be_bytes());
        shp.extend(((r.len() / 2) as i32).to_be_bytes());
        shp.extend(r);
    }
    std::fs::write(stem.with_extension("shp"), shp).unwrap();
    std::fs::write(stem.with_extension("shx"), shx).unwrap();
    // dBase III: header, field descriptors, records (deletion flag, fixed-width fields).
    let widths: Vec<usize> = fields
        .iter()
        .map(|(_, t)| if *t == 'C' { 40 } else { 12 })
        .collect();
    let record_len = 1 + widths.iter().sum::<usize>();
    let mut dbf = vec![0x03, 125, 1, 1];
    dbf.extend((features.len() as u32).to_le_bytes());
    dbf.extend(((32 + 32 * fields.len() + 1) as u16).to_le_bytes());
    dbf.extend((record_len as u16).to_le_bytes());
    dbf.extend([0u8; 20]);
    for ((name, t), w) in fields.iter().zip(&widths) {
        let mut d = [0u8; 32];
        d[..name.len()].copy_from_slice(name.as_bytes());
        d[11] = *t as u8;
        d[16] = *w as u8;
        dbf.extend(d);
    }
    dbf.push(0x0D);
    for (_, attrs) in features {
        dbf.push(b' ');
        for (a, w) in attrs.iter().zip(&widths) {
            let mut cell = match a {
                Attr::Text(b) => b.clone(),
                Attr::Number(n) => format!("{n:>width$}", width = *w).into_bytes(),
            };
            cell.resize(*w, b' ');
            dbf.extend(cell);
        }
    }
    dbf.push(0x1A);
    std::fs::write(stem.with_extension("dbf"), dbf).unwrap();
    if let Some(p) = prj {
        std::fs::write(stem.with_extension("prj"), p).unwrap();
    }
}

const TM3_105_45: &str = r#"PROJCS["VN_2000_TM_3_105_45",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.75],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

/// Rings of a polygon set, exteriors clockwise and holes counter-clockwise (the Shapefile rule)
/// or the other way round.
fn rings_of(m: &MultiPolygon<f64>, spec_winding: bool) -> Vec<Vec<(f64, f64)>> {
    use geo::Winding;
    let mut out = Vec::new();
    for p in &m.0 {
        for (k, ring) in std::iter::once(p.exterior())
            .chain(p.interiors())
            .enumerate()
        {
            let mut r = ring.clone();
            let want_cw = (k == 0) == spec_winding;
            if want_cw {
                r.make_cw_winding()
            } else {
                r.make_ccw_winding()
            }
            out.push(r.0.iter().map(|c| (c.x, c.y)).collect());
        }
    }
    out
}

/// Converts every position of `rings` (WGS84 lon/lat) to EPSG:9210 with PROJ.
fn to_tm3(rings: &[Vec<(f64, f64)>]) -> Vec<Vec<(f64, f64)>> {
    let flat: Vec<(f64, f64)> = rings
        .iter()
        .flatten()
        .map(|&(lon, lat)| (lat, lon))
        .collect();
    let mut conv = proj("EPSG:4326", "EPSG:9210", &flat).into_iter();
    rings
        .iter()
        .map(|r| r.iter().map(|_| conv.next().unwrap()).collect())
        .collect()
}

fn phuso(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_phuso"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn half(m: &MultiPolygon<f64>, left: bool) -> MultiPolygon<f64> {
    let r = m.bounding_rect().unwrap();
    let mid = (r.min().x + r.max().x) / 2.0;
    let cut = if left {
        Rect::new(
            Coord {
                x: r.min().x - 1.0,
                y: r.min().y - 1.0,
            },
            Coord {
                x: mid,
                y: r.max().y + 1.0,
            },
        )
    } else {
        Rect::new(
            Coord {
                x: mid,
                y: r.min().y - 1.0,
            },
            Coord {
                x: r.max().x + 1.0,
                y: r.max().y + 1.0,
            },
        )
    };
    m.intersection(&MultiPolygon(vec![cut.to_polygon()]))
}

/// A data directory of the bundled wards, census and norms, with no campaign yet.
fn province_dir(name: &str) -> PathBuf {
    let dir = scratch(name);
    for f in ["wards_2025.geojson", "census_2019.csv", "norms.toml"] {
        std::fs::copy(bundled().join(f), dir.join(f)).unwrap();
    }
    dir
}

#[test]
fn tm3_shapefile_with_tcvn3_names_excel_roster_and_csv_visits_make_a_working_directory() {
    let dir = province_dir("own_files_e2e");
    let wards =
        read_boundaries(&dir.join("wards_2025.geojson"), &BoundaryFields::default()).unwrap();
    let (a, b, c, d) = (&wards[0], &wards[1], &wards[2], &wards[3]);
    // Two wards cut into halves, a third with only its western half mapped; KP-C1 also has a
    // small square in a fourth ward (it sticks out of its own).
    let square = {
        let p = d.geometry.interior_point().unwrap();
        let s = 0.002;
        Rect::new(
            Coord {
                x: p.x() - s,
                y: p.y() - s,
            },
            Coord {
                x: p.x() + s,
                y: p.y() + s,
            },
        )
        .to_polygon()
    };
    let mut c_west = half(&c.geometry, true);
    c_west.0.push(square.clone());
    // (code, name, its ward's geometry, its own, residents, households)
    type Nb<'a> = (
        &'a str,
        &'a str,
        &'a MultiPolygon<f64>,
        MultiPolygon<f64>,
        f64,
        f64,
    );
    let nbs: Vec<Nb<'_>> = vec![
        (
            "KP-A1",
            "Khu phố 1",
            &a.geometry,
            half(&a.geometry, true),
            4100.0,
            1020.0,
        ),
        (
            "KP-A2",
            "Khu phố 2",
            &a.geometry,
            half(&a.geometry, false),
            3900.0,
            980.0,
        ),
        (
            "KP-B1",
            "Khu phố 1",
            &b.geometry,
            half(&b.geometry, true),
            2500.0,
            640.0,
        ),
        (
            "KP-B2",
            "Khu phố 2",
            &b.geometry,
            half(&b.geometry, false),
            2700.0,
            700.0,
        ),
        ("KP-C1", "Ấp Bình Đức", &c.geometry, c_west, 1800.0, 450.0),
    ];
    let ward_name = |w: &geo::MultiPolygon<f64>| {
        [a, b, c]
            .into_iter()
            .find(|x| &x.geometry == w)
            .unwrap()
            .name
            .clone()
    };
    let features: Vec<Feature> = nbs
        .iter()
        .enumerate()
        .map(|(i, (code, name, ward, g, pop, hh))| {
            // KP-A2 is written with the opposite winding (exteriors counter-clockwise).
            let rings = to_tm3(&rings_of(g, i != 1));
            (
                rings,
                vec![
                    Attr::Text(code.as_bytes().to_vec()),
                    Attr::Text(tcvn3(name)),
                    Attr::Text(tcvn3(&ward_name(ward))),
                    Attr::Number(*pop),
                    Attr::Number(*hh),
                ],
            )
        })
        .collect();
    let shp = dir.join("src/khupho.shp");
    std::fs::create_dir_all(shp.parent().unwrap()).unwrap();
    let fields = [
        ("MA_KP", 'C'),
        ("TEN_KP", 'C'),
        ("PHUONG", 'C'),
        ("DAN_SO", 'N'),
        ("SO_HO", 'N'),
    ];
    write_shapefile(&shp, &fields, &features, Some(TM3_105_45));
    let shp_s = shp.to_str().unwrap();
    let dir_s = dir.to_str().unwrap();

    // 1. Inspect shows what the file holds and the guesses.
    let (ok, out, err) = phuso(&["inspect", shp_s]);
    assert!(ok, "{err}");
    for want in [
        "5 features",
        "EPSG:9210",
        "text encoding: TCVN3",
        "\"Khu phố 1\"",
        "MA_KP",
        "guessed --code-field",
        "guessed --ward-field",
        "guessed --population-field",
        "guessed --households-field",
    ] {
        assert!(out.contains(want), "inspect lacks {want:?}:\n{out}");
    }

    // 2. Import: wards by name, the uncovered half of C and the square outside it reported.
    let (ok, out, err) = phuso(&[
        "import",
        "neighbourhoods",
        shp_s,
        "--data",
        dir_s,
        "--tolerance",
        "0.001",
    ]);
    assert!(ok, "{err}\n{out}");
    assert!(out.contains("5 neighbourhoods in 3 of 36 wards"), "{out}");
    assert!(out.contains("by code 0, by name 5, by location 0"), "{out}");
    assert!(out.contains("text TCVN3"), "{out}");
    assert!(
        out.contains(&format!(
            "neighbourhood KP-C1 sticks out of ward {}",
            c.code.0
        )),
        "{out}"
    );
    let uncovered_line = out
        .lines()
        .find(|l| {
            l.contains(&format!("of ward {} ", c.code.0)) && l.contains("is in no neighbourhood")
        })
        .unwrap_or_else(|| panic!("{out}"));
    let share: f64 = uncovered_line
        .split('(')
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let expected_share = 100.0 * half(&c.geometry, false).geodesic_area_unsigned()
        / c.geometry.geodesic_area_unsigned();
    assert!(
        (share - expected_share).abs() < 0.2,
        "{uncovered_line} vs {expected_share:.1} %"
    );
    assert_eq!(out.matches("warning:").count(), 2, "{out}");

    // The written neighbourhoods: names in Unicode, areas of the originals (within 0.5 %, in fact
    // far closer: PROJ's forward and our inverse), whatever the winding.
    let written = read_boundaries(
        &dir.join("neighbourhoods.geojson"),
        &BoundaryFields {
            code: "code".into(),
            name: vec!["name".into()],
            parent: Some("ward_code".into()),
        },
    )
    .unwrap();
    assert_eq!(written.len(), 5);
    for ((code, name, ward, g, pop, hh), w) in nbs.iter().zip(&written) {
        assert_eq!(w.code.0, *code);
        assert_eq!(w.name, *name);
        let ward_code = &[a, b, c]
            .into_iter()
            .find(|x| &x.geometry == *ward)
            .unwrap()
            .code;
        assert_eq!(w.parent_code.as_ref(), Some(ward_code));
        let (want, got) = (
            g.geodesic_area_unsigned(),
            w.geometry.geodesic_area_unsigned(),
        );
        assert!(
            (got / want - 1.0).abs() < 1e-6,
            "{code}: {got} m² vs {want} m²"
        );
        assert_eq!(w.properties["population"].as_f64(), Some(*pop));
        assert_eq!(w.properties["households"].as_f64(), Some(*hh));
        // The largest part's corner where it was (PROJ forward, ours back: under 1 cm). Slivers
        // the cut left (zero area) are dropped by the checks, so the whole extent may differ.
        let largest = |m: &MultiPolygon<f64>| {
            m.0.iter()
                .max_by(|p, q| {
                    p.geodesic_area_unsigned()
                        .total_cmp(&q.geodesic_area_unsigned())
                })
                .and_then(BoundingRect::bounding_rect)
                .unwrap()
        };
        let (r0, r1) = (largest(g), largest(&w.geometry));
        let d = metres((r0.min().x, r0.min().y), (r1.min().x, r1.min().y));
        assert!(d < 0.01, "{code}: corner {d} m: {r0:?} vs {r1:?}");
    }

    // 2b. Residential groups (tổ dân phố): three in KP-A1, two in KP-B1, one in the unmapped half
    // of ward C, counted per neighbourhood.
    let squares_at = |(x, y): (f64, f64), n: usize| -> Vec<MultiPolygon<f64>> {
        (0..n)
            .map(|k| {
                let (x, y, s) = (x + 0.0004 * k as f64, y, 0.00015);
                MultiPolygon(vec![
                    Rect::new(Coord { x: x - s, y: y - s }, Coord { x: x + s, y: y + s })
                        .to_polygon(),
                ])
            })
            .collect()
    };
    let centre = |g: &MultiPolygon<f64>| {
        let p = g.interior_point().unwrap();
        (p.x(), p.y())
    };
    let tdp: Vec<MultiPolygon<f64>> = [
        squares_at(centre(&nbs[0].3), 3),
        squares_at(centre(&nbs[2].3), 2),
        squares_at(centre(&half(&c.geometry, false)), 1),
    ]
    .concat();
    let tdp_shp = dir.join("src/to_dan_pho.shp");
    let tdp_features: Vec<Feature> = tdp
        .iter()
        .enumerate()
        .map(|(i, g)| {
            (
                to_tm3(&rings_of(g, true)),
                vec![Attr::Text(tcvn3(&format!("Tổ {}", i + 1)))],
            )
        })
        .collect();
    write_shapefile(
        &tdp_shp,
        &[("TEN_TO", 'C')],
        &tdp_features,
        Some(TM3_105_45),
    );
    let (ok, out, err) = phuso(&[
        "import",
        "groups",
        tdp_shp.to_str().unwrap(),
        "--data",
        dir_s,
    ]);
    assert!(ok, "{err}\n{out}");
    assert!(
        out.contains("5 residential groups in 2 of 5 neighbourhoods"),
        "{out}"
    );
    assert!(
        out.contains("warning: 1 groups lie in no neighbourhood (features 5)"),
        "{out}"
    );

    // 3. The roster from Excel: a title above the headers, Vietnamese headers, kinds in words,
    // neighbourhoods by name within their ward (or by code).
    let xlsx = dir.join("src/to_cong_nghe_so.xlsx");
    {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet().set_name("Danh sách").unwrap();
        ws.write(0, 0, "DANH SÁCH TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG")
            .unwrap();
        for (k, h) in ["STT", "Mã tổ", "Khu phố", "Phường", "Loại", "Số thành viên"]
            .iter()
            .enumerate()
        {
            ws.write(2, k as u16, *h).unwrap();
        }
        // Ward names in full ("Phường Thủ Dầu Một") or short ("Thủ Dầu Một").
        let short = |w: &phuso::ingest::boundaries::AreaFeature| {
            w.properties["name"].as_str().unwrap().to_owned()
        };
        let rows: [(&str, &str, String, &str, f64); 4] = [
            (
                "T-A1",
                "Khu phố 1",
                a.name.clone(),
                "Tổ công nghệ số cộng đồng",
                5.0,
            ),
            ("T-A2", "Khu phố 2", short(a), "TNTN", 20.0),
            ("T-B1", "khu pho 1", short(b), "CNSCĐ", 3.0),
            ("T-C1", "KP-C1", String::new(), "Đội TNTN", 22.0),
        ];
        for (i, (id, kp, ward, kind, members)) in rows.iter().enumerate() {
            let r = 3 + i as u32;
            ws.write(r, 0, (i + 1) as f64).unwrap();
            ws.write(r, 1, *id).unwrap();
            ws.write(r, 2, *kp).unwrap();
            if !ward.is_empty() {
                ws.write(r, 3, ward.as_str()).unwrap();
            }
            ws.write(r, 4, *kind).unwrap();
            ws.write(r, 5, *members).unwrap();
        }
        wb.save(&xlsx).unwrap();
    }
    let (ok, out, err) = phuso(&["import", "teams", xlsx.to_str().unwrap(), "--data", dir_s]);
    assert!(ok, "{err}\n{out}");
    assert!(out.contains("4 teams, 50 members"), "{out}");
    assert!(out.contains("B \"Mã tổ\" → team_id"), "{out}");

    // 4. Visits (CSV): households at each neighbourhood's interior point, one revisit, and two
    // households in the unmapped half of ward C (they count for the ward).
    let at = |g: &MultiPolygon<f64>| {
        let p = g.interior_point().unwrap();
        (p.x(), p.y())
    };
    let c_east = at(&half(&c.geometry, false));
    let plan: [(&str, (f64, f64), usize); 5] = [
        ("T-A1", at(&nbs[0].3), 7),
        ("T-A2", at(&nbs[1].3), 3),
        ("T-B1", at(&nbs[2].3), 5),
        ("T-C1", at(&half(&c.geometry, true)), 4),
        ("T-C1", c_east, 2),
    ];
    let mut csv = String::from("visit_id,team_id,lon,lat,ts,household_id,service\n");
    let mut id = 0;
    for (k, (team, (lon, lat), n)) in plan.iter().enumerate() {
        for h in 0..*n {
            id += 1;
            csv.push_str(&format!(
                "{id},{team},{lon},{lat},2025-10-0{}T09:00:00+07:00,h{k}-{h},vneid_install\n",
                1 + h % 5
            ));
        }
    }
    id += 1;
    csv.push_str(&format!(
        "{id},T-A1,{},{},2025-10-06T10:00:00+07:00,h0-0,dvc_account\n",
        plan[0].1.0, plan[0].1.1
    ));
    let visits = dir.join("src/visits.csv");
    std::fs::write(&visits, csv).unwrap();
    let (ok, out, err) = phuso(&[
        "import",
        "visits",
        visits.to_str().unwrap(),
        "--data",
        dir_s,
    ]);
    assert!(ok, "{err}\n{out}");
    assert!(
        out.contains("22 of 22 rows accepted (0 outside every area)"),
        "{out}"
    );

    // 5. The directory loads, and its figures are the hand counts.
    let engine = Engine::load(&EngineConfig::for_dir(&dir)).unwrap();
    let fig = |code: &str| &engine.figures()[engine.position(code).unwrap()];
    for (code, reached, visits, members) in [
        ("KP-A1", 7, 8, 5),
        ("KP-A2", 3, 3, 20),
        ("KP-B1", 5, 5, 3),
        ("KP-B2", 0, 0, 0),
        ("KP-C1", 4, 4, 22),
        (a.code.0.as_str(), 10, 11, 25),
        (b.code.0.as_str(), 5, 5, 3),
        (c.code.0.as_str(), 6, 6, 22),
    ] {
        let f = fig(code);
        assert_eq!(
            (f.households_reached, f.visits, f.members),
            (reached, visits, members),
            "{code}"
        );
    }
    // Groups counted from the map; elsewhere estimated from households (norms.toml).
    let own = |code: &str| engine.own_totals()[engine.position(code).unwrap()].residential_groups;
    assert_eq!((own("KP-A1"), own("KP-B1")), (3, 2));
    let per_group: f64 = std::fs::read_to_string(dir.join("norms.toml"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("households_per_residential_group = "))
        .map_or(f64::NAN, |v| v.trim().parse().unwrap());
    assert_eq!(
        own("KP-A2"),
        (fig("KP-A2").households / per_group).ceil() as u64
    );
    let province = &engine.figures()[0];
    assert_eq!((province.households_reached, province.visits), (21, 22));
    assert_eq!(engine.outside(), 0);
    // The ward's census households are shared by its neighbourhoods in proportion to theirs.
    let (fa1, fa2, fa) = (fig("KP-A1"), fig("KP-A2"), fig(&a.code.0));
    assert!((fa1.households / fa.households - 1020.0 / 2000.0).abs() < 1e-9);
    assert!((fa1.households + fa2.households - fa.households).abs() < 1e-6);

    // 6. `phuso report` works on it.
    let (ok, out, err) = phuso(&[
        "report",
        "--data",
        dir_s,
        "--level",
        "neighbourhood",
        "--format",
        "csv",
    ]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 1 + 5, "{out}");
}

#[test]
fn area_does_not_depend_on_winding_on_the_shapefile_path() {
    // A 0.1° box with a 0.02° hole near Thủ Dầu Một, in EPSG:9210; the closed form of the box on
    // the ellipsoid is the independent reference.
    let a = 6_378_137.0_f64;
    let f: f64 = 1.0 / 298.257_223_563;
    let e2 = f * (2.0 - f);
    let e = e2.sqrt();
    let q = |lat: f64| {
        let s = lat.to_radians().sin();
        s / (1.0 - e2 * s * s) + (1.0 / (2.0 * e)) * ((1.0 + e * s) / (1.0 - e * s)).ln()
    };
    let boxed = |x0: f64, y0: f64, x1: f64, y1: f64| {
        a * a * (1.0 - e2) / 2.0 * (x1 - x0).to_radians() * (q(y1) - q(y0))
    };
    let expected = boxed(106.6, 11.0, 106.7, 11.1) - boxed(106.64, 11.04, 106.66, 11.06);
    // Densified edges, so that straight lines in the grid follow the parallels closely.
    let ring = |x0: f64, y0: f64, x1: f64, y1: f64| -> LineString<f64> {
        let n = 20;
        let mut c = Vec::new();
        for i in 0..n {
            c.push((x0 + (x1 - x0) * f64::from(i) / f64::from(n), y0));
        }
        for i in 0..n {
            c.push((x1, y0 + (y1 - y0) * f64::from(i) / f64::from(n)));
        }
        for i in 0..n {
            c.push((x1 - (x1 - x0) * f64::from(i) / f64::from(n), y1));
        }
        for i in 0..n {
            c.push((x0, y1 - (y1 - y0) * f64::from(i) / f64::from(n)));
        }
        c.push((x0, y0));
        LineString::from(c)
    };
    let m = MultiPolygon(vec![Polygon::new(
        ring(106.6, 11.0, 106.7, 11.1),
        vec![ring(106.64, 11.04, 106.66, 11.06)],
    )]);
    let dir = scratch("own_files_winding");
    for (outer_cw, hole_cw) in [(true, false), (false, true), (true, true), (false, false)] {
        use geo::Winding;
        let mut rings = Vec::new();
        for (k, r) in std::iter::once(m.0[0].exterior())
            .chain(m.0[0].interiors())
            .enumerate()
        {
            let mut r = r.clone();
            if (k == 0 && outer_cw) || (k > 0 && hole_cw) {
                r.make_cw_winding()
            } else {
                r.make_ccw_winding()
            }
            rings.push(r.0.iter().map(|c| (c.x, c.y)).collect::<Vec<_>>());
        }
        let stem = dir.join(format!("box_{outer_cw}_{hole_cw}"));
        write_shapefile(
            &stem,
            &[("MA", 'C')],
            &[(to_tm3(&rings), vec![Attr::Text(b"X".to_vec())])],
            Some(TM3_105_45),
        );
        let layer = open(&stem.with_extension("shp"), &OpenOptions::default()).unwrap();
        let got = layer.features[0].geometry.as_ref().unwrap();
        assert_eq!(got.0.len(), 1, "one polygon with one hole");
        assert_eq!(got.0[0].interiors().len(), 1);
        let features = phuso::ingest::boundaries::parse_features(
            &stem,
            &layer.to_feature_values(),
            &BoundaryFields::with_code("MA"),
        )
        .unwrap();
        let area = features[0].geometry.geodesic_area_unsigned();
        assert!(
            (area / expected - 1.0).abs() < 0.005,
            "outer cw {outer_cw}, hole cw {hole_cw}: {area} vs {expected}"
        );
        assert!((features[0].geometry.geodesic_area_signed() - area).abs() < 1e-6);
    }
}

#[test]
fn geopackage_written_by_gdal_reads_as_the_shapefile_does() {
    // GDAL converts the same features (in EPSG:9210) from GeoJSON into a GeoPackage.
    let dir = scratch("own_files_gpkg");
    let wards = read_boundaries(
        &bundled().join("wards_2025.geojson"),
        &BoundaryFields::default(),
    )
    .unwrap();
    let g = half(&wards[5].geometry, true);
    let rings = to_tm3(&rings_of(&g, false));
    let doc = serde_json::json!({"type": "FeatureCollection", "features": [{"type": "Feature",
        "properties": {"ma_kp": "KP-9", "ten_kp": "Khu phố Chín", "dan_so": 1200, "so_ho": 300},
        "geometry": {"type": "Polygon", "coordinates": rings.iter().map(|r| r.iter().map(|p| vec![p.0, p.1]).collect::<Vec<_>>()).collect::<Vec<_>>()}}]});
    let src = dir.join("src.geojson");
    std::fs::write(&src, doc.to_string()).unwrap();
    let gpkg = dir.join("khupho.gpkg");
    let status = Command::new("ogr2ogr")
        .args(["-f", "GPKG", "-a_srs", "EPSG:9210", "-nln", "khu_pho"])
        .arg(&gpkg)
        .arg(&src)
        .status()
        .expect("ogr2ogr (Debian's gdal-bin) is installed: scripts/test-all.sh installs it");
    assert!(status.success());
    let layer = open(&gpkg, &OpenOptions::default()).unwrap();
    assert_eq!(layer.name, "khu_pho");
    assert_eq!(layer.crs, Crs::from_epsg(9210).unwrap());
    assert_eq!(layer.features.len(), 1);
    assert_eq!(layer.features[0].properties["ten_kp"], "Khu phố Chín");
    assert_eq!(layer.features[0].properties["so_ho"], 300);
    // Through the checks (which wind the rings; GDAL's own winding is its choice).
    let checked = phuso::ingest::boundaries::parse_features(
        &gpkg,
        &layer.to_feature_values(),
        &BoundaryFields::with_code("ma_kp"),
    )
    .unwrap();
    let got = &checked[0].geometry;
    let (ga, wa) = (got.geodesic_area_unsigned(), g.geodesic_area_unsigned());
    assert!(
        (ga / wa - 1.0).abs() < 1e-6,
        "{ga} m² vs {wa} m²; {:?} vs {:?}",
        got.bounding_rect(),
        g.bounding_rect()
    );
    // A layer that does not exist is named with the ones that do.
    let err = open(
        &gpkg,
        &OpenOptions {
            layer: Some("ap".into()),
            ..OpenOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("--layer \"ap\"") && err.contains("khu_pho"),
        "{err}"
    );
}

#[test]
fn bad_own_files_are_refused_naming_the_place() {
    let dir = province_dir("own_files_bad");
    let dir_s = dir.to_str().unwrap();
    let wards =
        read_boundaries(&dir.join("wards_2025.geojson"), &BoundaryFields::default()).unwrap();
    let g = half(&wards[0].geometry, true);
    let rings = to_tm3(&rings_of(&g, true));

    // No .prj and coordinates in metres: refused, saying how to give the CRS; --crs works.
    let stem = dir.join("noprj");
    let attrs = || {
        vec![
            Attr::Text(b"KP-1".to_vec()),
            Attr::Text(b"Khu pho 1".to_vec()),
            Attr::Number(100.0),
            Attr::Number(30.0),
        ]
    };
    let fields = [
        ("MA_KP", 'C'),
        ("TEN_KP", 'C'),
        ("DAN_SO", 'N'),
        ("SO_HO", 'N'),
    ];
    write_shapefile(&stem, &fields, &[(rings.clone(), attrs())], None);
    let shp = stem.with_extension("shp");
    let (ok, _, err) = phuso(&[
        "import",
        "neighbourhoods",
        shp.to_str().unwrap(),
        "--data",
        dir_s,
    ]);
    assert!(!ok);
    assert!(
        err.contains("noprj.shp")
            && err.contains("no coordinate system")
            && err.contains("--crs EPSG:NNNN"),
        "{err}"
    );
    assert!(!dir.join("neighbourhoods.geojson").exists());
    let (ok, out, err) = phuso(&[
        "import",
        "neighbourhoods",
        shp.to_str().unwrap(),
        "--data",
        dir_s,
        "--crs",
        "EPSG:9210",
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("by location 1"),
        "no ward field: placed by location\n{out}"
    );
    let before = std::fs::read(dir.join("neighbourhoods.geojson")).unwrap();

    // Text in no Vietnamese encoding: refused naming the field with a sample; nothing replaced.
    let stem = dir.join("junk");
    let junk = vec![
        Attr::Text(b"KP-1".to_vec()),
        Attr::Text(vec![0x8F, 0x81, 0x9D, b'x', 0xFF, 0x90]),
        Attr::Number(100.0),
        Attr::Number(30.0),
    ];
    write_shapefile(&stem, &fields, &[(rings.clone(), junk)], Some(TM3_105_45));
    let (ok, _, err) = phuso(&[
        "import",
        "neighbourhoods",
        stem.with_extension("shp").to_str().unwrap(),
        "--data",
        dir_s,
    ]);
    assert!(!ok);
    assert!(
        err.contains("junk.dbf")
            && err.contains("field `TEN_KP`")
            && err.contains("bytes 8F 81 9D")
            && err.contains("--encoding"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.join("neighbourhoods.geojson")).unwrap(),
        before
    );

    // A .prj of a datum this tool does not know.
    let stem = dir.join("indian");
    write_shapefile(
        &stem,
        &fields,
        &[(rings, attrs())],
        Some(
            r#"PROJCS["Indian 1960 / UTM zone 48N",GEOGCS["Indian 1960",DATUM["Indian_1960",SPHEROID["Everest 1830",6377276.345,300.8017]]],PROJECTION["Transverse_Mercator"],PARAMETER["central_meridian",105],UNIT["metre",1]]"#,
        ),
    );
    let (ok, _, err) = phuso(&[
        "import",
        "neighbourhoods",
        stem.with_extension("shp").to_str().unwrap(),
        "--data",
        dir_s,
    ]);
    assert!(!ok);
    assert!(
        err.contains("indian.prj") && err.contains("Indian_1960"),
        "{err}"
    );

    // A roster row with a bad member count: the sheet, row, column letter, header and value.
    let xlsx = dir.join("roster.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("Tổ").unwrap();
    for (k, h) in ["Mã tổ", "Khu phố", "Loại", "Số thành viên"]
        .iter()
        .enumerate()
    {
        ws.write(0, k as u16, *h).unwrap();
    }
    ws.write(1, 0, "T1").unwrap();
    ws.write(1, 1, "KP-1").unwrap();
    ws.write(1, 2, "TNTN").unwrap();
    ws.write(1, 3, 4.0).unwrap();
    ws.write(3, 0, "T2").unwrap();
    ws.write(3, 1, "KP-1").unwrap();
    ws.write(3, 2, "TNTN").unwrap();
    ws.write(3, 3, "bốn").unwrap();
    ws.write(4, 0, "T3").unwrap();
    ws.write(4, 1, "Khu phố 99").unwrap();
    ws.write(4, 2, "Tổ bảo vệ").unwrap();
    ws.write(4, 3, 2.0).unwrap();
    wb.save(&xlsx).unwrap();
    let (ok, _, err) = phuso(&["import", "teams", xlsx.to_str().unwrap(), "--data", dir_s]);
    assert!(!ok);
    assert!(
        err.contains("sheet \"Tổ\", row 4, column D (\"Số thành viên\"): value \"bốn\""),
        "{err}"
    );
    assert!(err.contains("sheet \"Tổ\", row 5, column B (\"Khu phố\"): \"Khu phố 99\" is neither a code nor a name"), "{err}");
    assert!(!dir.join("teams.csv").exists());
    // An unknown --crs is a usage error.
    let (ok, _, err) = phuso(&["inspect", shp.to_str().unwrap(), "--crs", "EPSG:2000"]);
    assert!(!ok && err.contains("EPSG:9218"), "{err}");
}
