//! Coordinate reference systems of the files Vietnamese offices hold, and their conversion to
//! WGS84 lon/lat: WGS84 itself (EPSG:4326, and UTM 48N/49N), and VN-2000 (EPSG:4756) in degrees,
//! in UTM (EPSG:3405/3406) and in every TM-3 zone EPSG lists (5896–5899, 9205–9218).
//!
//! VN-2000 → WGS84 is the 7-parameter transformation of Decision 05/2007/QĐ-BTNMT. The decision
//! prints the rotations in the coordinate-frame convention (−0.00928836″, +0.01975479″,
//! −0.00427372″); a PROJ-style `+towgs84` takes them in the position-vector convention, i.e. with
//! the signs flipped ([`VN2000_TOWGS84`]). With the decision's signs as printed the result is
//! ≈ 0.75 m off, with no datum shift ≈ 224 m off. The projection arithmetic is proj4rs (pure Rust,
//! a transcript of PROJ); the tests compare with PROJ's own `cs2cs` for every zone.
//!
//! A file's CRS comes from its `.prj` (ESRI or OGC WKT: an EPSG authority code when it has one,
//! else the datum, projection and parameters) or from the user (`--crs EPSG:NNNN`).

use std::fmt;

/// The Decision 05/2007/QĐ-BTNMT parameters as a PROJ `+towgs84` (metres, arc-seconds with the
/// signs of the position-vector convention, ppm).
pub const VN2000_TOWGS84: &str =
    "-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278";

/// One projected zone: EPSG code, name, central meridian, scale factor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Zone {
    /// EPSG code.
    pub epsg: u16,
    /// EPSG's name.
    pub name: &'static str,
    /// Central meridian, degrees east.
    pub lon_0: f64,
    /// Scale factor on the central meridian.
    pub k: f64,
    /// True for WGS84 UTM zones (no datum shift).
    pub wgs84: bool,
}

const fn zone(epsg: u16, name: &'static str, lon_0: f64, k: f64) -> Zone {
    Zone {
        epsg,
        name,
        lon_0,
        k,
        wgs84: false,
    }
}

/// Every projected CRS recognised: VN-2000 UTM and TM-3 zones (central meridians as in EPSG's
/// registry, read with PROJ 9.1's `projinfo`), and WGS84 UTM 48N/49N. False easting 500 000 m,
/// false northing 0, latitude of origin 0 for all.
pub const ZONES: [Zone; 22] = [
    zone(3405, "VN-2000 / UTM zone 48N", 105.0, 0.9996),
    zone(3406, "VN-2000 / UTM zone 49N", 111.0, 0.9996),
    zone(5896, "VN-2000 / TM-3 zone 481", 102.0, 0.9999),
    zone(5897, "VN-2000 / TM-3 zone 482", 105.0, 0.9999),
    zone(5898, "VN-2000 / TM-3 zone 491", 108.0, 0.9999),
    zone(5899, "VN-2000 / TM-3 Da Nang zone", 107.75, 0.9999),
    zone(9205, "VN-2000 / TM-3 103-00", 103.0, 0.9999),
    zone(9206, "VN-2000 / TM-3 104-00", 104.0, 0.9999),
    zone(9207, "VN-2000 / TM-3 104-30", 104.5, 0.9999),
    zone(9208, "VN-2000 / TM-3 104-45", 104.75, 0.9999),
    zone(9209, "VN-2000 / TM-3 105-30", 105.5, 0.9999),
    zone(9210, "VN-2000 / TM-3 105-45", 105.75, 0.9999),
    zone(9211, "VN-2000 / TM-3 106-00", 106.0, 0.9999),
    zone(9212, "VN-2000 / TM-3 106-15", 106.25, 0.9999),
    zone(9213, "VN-2000 / TM-3 106-30", 106.5, 0.9999),
    zone(9214, "VN-2000 / TM-3 107-00", 107.0, 0.9999),
    zone(9215, "VN-2000 / TM-3 107-15", 107.25, 0.9999),
    zone(9216, "VN-2000 / TM-3 107-30", 107.5, 0.9999),
    zone(9217, "VN-2000 / TM-3 108-15", 108.25, 0.9999),
    zone(9218, "VN-2000 / TM-3 108-30", 108.5, 0.9999),
    Zone {
        epsg: 32648,
        name: "WGS 84 / UTM zone 48N",
        lon_0: 105.0,
        k: 0.9996,
        wgs84: true,
    },
    Zone {
        epsg: 32649,
        name: "WGS 84 / UTM zone 49N",
        lon_0: 111.0,
        k: 0.9996,
        wgs84: true,
    },
];

/// A coordinate reference system this module converts from.
#[derive(Debug, Clone, PartialEq)]
pub enum Crs {
    /// WGS84 lon/lat degrees (EPSG:4326, CRS84).
    Wgs84,
    /// VN-2000 lon/lat degrees (EPSG:4756).
    Vn2000,
    /// A Transverse Mercator grid in metres: one of [`ZONES`], or one read from a `.prj` with
    /// parameters no EPSG zone has (`epsg` 0).
    TransverseMercator {
        /// EPSG code (0 when none matched).
        epsg: u16,
        /// A name for messages.
        name: String,
        /// VN-2000 (true) or WGS84 (false) datum.
        vn2000: bool,
        /// Central meridian, degrees.
        lon_0: f64,
        /// Scale factor.
        k: f64,
        /// False easting, metres.
        x_0: f64,
        /// False northing, metres.
        y_0: f64,
    },
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wgs84 => f.write_str("EPSG:4326 (WGS 84, degrees)"),
            Self::Vn2000 => f.write_str("EPSG:4756 (VN-2000, degrees)"),
            Self::TransverseMercator {
                epsg: 0,
                name,
                lon_0,
                k,
                ..
            } => {
                write!(
                    f,
                    "{name} (Transverse Mercator, central meridian {lon_0}°, k {k}; no EPSG code)"
                )
            }
            Self::TransverseMercator { epsg, name, .. } => write!(f, "EPSG:{epsg} ({name})"),
        }
    }
}

impl Crs {
    /// The CRS of an EPSG code this module knows.
    #[must_use]
    pub fn from_epsg(code: u32) -> Option<Self> {
        match code {
            4326 => Some(Self::Wgs84),
            4756 => Some(Self::Vn2000),
            _ => {
                ZONES
                    .iter()
                    .find(|z| u32::from(z.epsg) == code)
                    .map(|z| Self::TransverseMercator {
                        epsg: z.epsg,
                        name: z.name.to_owned(),
                        vn2000: !z.wgs84,
                        lon_0: z.lon_0,
                        k: z.k,
                        x_0: 500_000.0,
                        y_0: 0.0,
                    })
            }
        }
    }

    /// Parses `EPSG:NNNN` (or a bare number), as given with `--crs`.
    ///
    /// # Errors
    /// A sentence naming the value and listing the codes known.
    pub fn parse_user(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let digits = t
            .strip_prefix("EPSG:")
            .or_else(|| t.strip_prefix("epsg:"))
            .unwrap_or(t);
        digits
            .parse::<u32>()
            .ok()
            .and_then(Self::from_epsg)
            .ok_or_else(|| {
                format!(
                    "--crs {text:?}: not a coordinate system this tool knows; {}",
                    known_codes()
                )
            })
    }

    /// True for lon/lat in degrees.
    #[must_use]
    pub fn is_degrees(&self) -> bool {
        matches!(self, Self::Wgs84 | Self::Vn2000)
    }

    /// The PROJ string of this CRS.
    #[must_use]
    pub fn proj_string(&self) -> String {
        match self {
            Self::Wgs84 => "+proj=longlat +datum=WGS84 +no_defs".to_owned(),
            Self::Vn2000 => {
                format!("+proj=longlat +ellps=WGS84 +towgs84={VN2000_TOWGS84} +no_defs")
            }
            Self::TransverseMercator {
                vn2000,
                lon_0,
                k,
                x_0,
                y_0,
                ..
            } => {
                let datum = if *vn2000 {
                    format!("+ellps=WGS84 +towgs84={VN2000_TOWGS84}")
                } else {
                    "+datum=WGS84".to_owned()
                };
                format!(
                    "+proj=tmerc +lat_0=0 +lon_0={lon_0} +k={k} +x_0={x_0} +y_0={y_0} {datum} +units=m +no_defs"
                )
            }
        }
    }

    /// A converter from this CRS to WGS84 lon/lat.
    ///
    /// # Errors
    /// When proj4rs refuses the definition (a bug here: every variant is a valid string).
    pub fn to_wgs84(&self) -> Result<ToWgs84, String> {
        ToWgs84::from_proj_string(&self.proj_string(), self.clone())
    }
}

/// The codes known, for messages.
#[must_use]
pub fn known_codes() -> String {
    format!(
        "known: EPSG:4326 (WGS 84 degrees), EPSG:4756 (VN-2000 degrees), {}",
        ZONES
            .iter()
            .map(|z| format!("EPSG:{} ({})", z.epsg, z.name))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Converts coordinates of one CRS to WGS84 lon/lat degrees.
#[derive(Clone)]
pub struct ToWgs84 {
    from: proj4rs::Proj,
    to: proj4rs::Proj,
    crs: Crs,
}

impl ToWgs84 {
    /// From a PROJ string (tests use it to try other parameters).
    ///
    /// # Errors
    /// proj4rs's message when it refuses the string.
    pub fn from_proj_string(proj: &str, crs: Crs) -> Result<Self, String> {
        let from = proj4rs::Proj::from_proj_string(proj).map_err(|e| format!("{proj}: {e}"))?;
        let to = proj4rs::Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs")
            .map_err(|e| e.to_string())?;
        Ok(Self { from, to, crs })
    }

    /// The source CRS.
    #[must_use]
    pub fn crs(&self) -> &Crs {
        &self.crs
    }

    /// One position (x, y in the source CRS: metres, or degrees lon/lat) to WGS84 (lon, lat)
    /// degrees; `None` when it cannot be converted (not finite, or outside the projection).
    #[must_use]
    pub fn convert(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        if !(x.is_finite() && y.is_finite()) {
            return None;
        }
        let mut p = if self.from.is_latlong() {
            (x.to_radians(), y.to_radians(), 0.0)
        } else {
            (x, y, 0.0)
        };
        proj4rs::transform::transform(&self.from, &self.to, &mut p).ok()?;
        let (lon, lat) = (p.0.to_degrees(), p.1.to_degrees());
        (lon.is_finite()
            && lat.is_finite()
            && (-180.0..=180.0).contains(&lon)
            && (-90.0..=90.0).contains(&lat))
        .then_some((lon, lat))
    }
}

/// A node of a WKT tree: `KEYWORD["text", number, CHILD[...], ...]`.
#[derive(Debug, Clone, PartialEq)]
enum Wkt {
    Node(String, Vec<Wkt>),
    Text(String),
    Number(f64),
    Word(String),
}

fn parse_wkt(text: &str) -> Option<Wkt> {
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    let node = wkt_value(&chars, &mut at, 0)?;
    Some(node)
}

/// Nodes nested deeper than this are refused (a real CRS nests 5 or 6 deep; a hostile `.prj`
/// must not overflow the stack).
const MAX_WKT_DEPTH: usize = 32;

fn wkt_value(c: &[char], at: &mut usize, depth: usize) -> Option<Wkt> {
    if depth > MAX_WKT_DEPTH {
        return None;
    }
    while *at < c.len() && c[*at].is_whitespace() {
        *at += 1;
    }
    let start = *at;
    if c.get(*at) == Some(&'"') {
        *at += 1;
        let mut s = String::new();
        while *at < c.len() {
            if c[*at] == '"' {
                // A doubled quote is a quote.
                if c.get(*at + 1) == Some(&'"') {
                    s.push('"');
                    *at += 2;
                    continue;
                }
                *at += 1;
                return Some(Wkt::Text(s));
            }
            s.push(c[*at]);
            *at += 1;
        }
        return None;
    }
    while *at < c.len() && !matches!(c[*at], '[' | '(' | ']' | ')' | ',') {
        *at += 1;
    }
    let word: String = c[start..*at].iter().collect::<String>().trim().to_owned();
    if word.is_empty() {
        return None;
    }
    if matches!(c.get(*at), Some('[' | '(')) {
        *at += 1;
        let mut children = Vec::new();
        loop {
            children.push(wkt_value(c, at, depth + 1)?);
            while *at < c.len() && c[*at].is_whitespace() {
                *at += 1;
            }
            match c.get(*at) {
                Some(',') => *at += 1,
                Some(']' | ')') => {
                    *at += 1;
                    break;
                }
                _ => return None,
            }
        }
        return Some(Wkt::Node(word.to_ascii_uppercase(), children));
    }
    Some(word.parse::<f64>().map_or(Wkt::Word(word), Wkt::Number))
}

impl Wkt {
    fn children(&self) -> &[Wkt] {
        match self {
            Self::Node(_, c) => c,
            _ => &[],
        }
    }
    fn keyword(&self) -> &str {
        match self {
            Self::Node(k, _) => k,
            _ => "",
        }
    }
    fn name(&self) -> &str {
        match self.children().first() {
            Some(Self::Text(s)) => s,
            _ => "",
        }
    }
    fn child(&self, keywords: &[&str]) -> Option<&Wkt> {
        self.children()
            .iter()
            .find(|c| keywords.contains(&c.keyword()))
    }
    fn epsg(&self) -> Option<u32> {
        let auth = self.child(&["AUTHORITY", "ID"])?;
        let c = auth.children();
        if !matches!(c.first(), Some(Wkt::Text(a)) if a.eq_ignore_ascii_case("EPSG")) {
            return None;
        }
        match c.get(1)? {
            Wkt::Text(s) => s.trim().parse().ok(),
            Wkt::Number(n) if n.fract() == 0.0 && *n > 0.0 => Some(*n as u32),
            _ => None,
        }
    }
    fn number(&self, i: usize) -> Option<f64> {
        match self.children().get(i)? {
            Wkt::Number(n) => Some(*n),
            Wkt::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// What the datum of a WKT geographic CRS is.
fn datum_of(geog: &Wkt) -> Option<bool> {
    let datum = geog.child(&["DATUM"])?;
    if let Some(code) = datum.epsg() {
        return match code {
            6326 => Some(false),
            6756 => Some(true),
            _ => None,
        };
    }
    let n: String = datum
        .name()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    if n.contains("vn2000") || n.contains("vietnam2000") {
        Some(true)
    } else if n.contains("wgs1984") || n.contains("wgs84") {
        Some(false)
    } else {
        None
    }
}

/// Recognises the CRS of a `.prj` (or any WKT1/WKT2) text.
///
/// # Errors
/// A sentence saying what was found and what is known.
pub fn from_wkt(text: &str) -> Result<Crs, String> {
    let root = parse_wkt(text.trim()).ok_or_else(|| "not WKT text".to_owned())?;
    let keyword = root.keyword().to_owned();
    if let Some(crs) = root.epsg().and_then(Crs::from_epsg) {
        return Ok(crs);
    }
    match keyword.as_str() {
        "GEOGCS" | "GEOGCRS" | "GEODCRS" => match datum_of(&root) {
            Some(true) => Ok(Crs::Vn2000),
            Some(false) => Ok(Crs::Wgs84),
            None => Err(format!(
                "geographic CRS {:?} with datum {:?}: only WGS 84 and VN-2000 are known",
                root.name(),
                root.child(&["DATUM"]).map_or("", Wkt::name)
            )),
        },
        "PROJCS" | "PROJCRS" => {
            let geog = root
                .child(&["GEOGCS", "BASEGEOGCRS", "BASEGEODCRS"])
                .ok_or_else(|| {
                    format!("projected CRS {:?} without a geographic CRS", root.name())
                })?;
            let vn2000 = datum_of(geog).ok_or_else(|| {
                format!(
                    "projected CRS {:?} on datum {:?}: only WGS 84 and VN-2000 are known",
                    root.name(),
                    geog.child(&["DATUM"]).map_or("", Wkt::name)
                )
            })?;
            let method = root
                .child(&["PROJECTION", "CONVERSION"])
                .map(|p| {
                    let m = if p.keyword() == "CONVERSION" {
                        p.child(&["METHOD"]).map_or("", Wkt::name)
                    } else {
                        p.name()
                    };
                    m.to_ascii_lowercase().replace([' ', '_'], "")
                })
                .unwrap_or_default();
            if !method.contains("transversemercator") {
                return Err(format!(
                    "projected CRS {:?} uses projection {method:?}: only Transverse Mercator (UTM, TM-3) is known",
                    root.name()
                ));
            }
            let params: Vec<(String, f64)> = params_of(&root);
            let get = |names: &[&str], default: f64| {
                params
                    .iter()
                    .find(|(n, _)| names.iter().any(|k| n == k))
                    .map_or(default, |(_, v)| *v)
            };
            let lon_0 = get(&["centralmeridian", "longitudeofnaturalorigin"], f64::NAN);
            if !lon_0.is_finite() {
                return Err(format!(
                    "projected CRS {:?} has no central meridian",
                    root.name()
                ));
            }
            let k = get(&["scalefactor", "scalefactoratnaturalorigin"], 1.0);
            let x_0 = get(&["falseeasting"], 0.0);
            let y_0 = get(&["falsenorthing"], 0.0);
            let lat_0 = get(&["latitudeoforigin", "latitudeofnaturalorigin"], 0.0);
            let unit = linear_unit(&root);
            if (unit - 1.0).abs() > 1e-12 || lat_0 != 0.0 {
                return Err(format!(
                    "projected CRS {:?}: unit {unit} m, latitude of origin {lat_0}: only metres and latitude of origin 0 are known",
                    root.name()
                ));
            }
            let matched = ZONES.iter().find(|z| {
                z.wgs84 != vn2000
                    && (z.lon_0 - lon_0).abs() < 1e-9
                    && (z.k - k).abs() < 1e-9
                    && x_0 == 500_000.0
                    && y_0 == 0.0
            });
            Ok(match matched {
                Some(z) => Crs::from_epsg(u32::from(z.epsg)).expect("a zone of the table"),
                None => Crs::TransverseMercator {
                    epsg: 0,
                    name: root.name().to_owned(),
                    vn2000,
                    lon_0,
                    k,
                    x_0,
                    y_0,
                },
            })
        }
        other => Err(format!("WKT of kind {other:?}: expected GEOGCS or PROJCS")),
    }
}

/// A projected CRS's parameters, names folded (lowercase, no spaces or underscores).
fn params_of(root: &Wkt) -> Vec<(String, f64)> {
    let fold = |s: &str| s.to_ascii_lowercase().replace([' ', '_'], "");
    let mut out: Vec<(String, f64)> = root
        .children()
        .iter()
        .filter(|c| c.keyword() == "PARAMETER")
        .filter_map(|c| Some((fold(c.name()), c.number(1)?)))
        .collect();
    if let Some(conv) = root.child(&["CONVERSION"]) {
        out.extend(
            conv.children()
                .iter()
                .filter(|c| c.keyword() == "PARAMETER")
                .filter_map(|c| Some((fold(c.name()), c.number(1)?))),
        );
    }
    out
}

fn linear_unit(root: &Wkt) -> f64 {
    // WKT1 has UNIT at the root; WKT2 has LENGTHUNIT there or under each AXIS.
    root.child(&["UNIT", "LENGTHUNIT"])
        .and_then(|u| u.number(1))
        .or_else(|| {
            root.children()
                .iter()
                .filter(|c| c.keyword() == "AXIS")
                .find_map(|a| a.child(&["LENGTHUNIT"]).and_then(|u| u.number(1)))
        })
        .unwrap_or(1.0)
}

/// The TOWGS84 values a WKT carries, if any (shown by `phuso inspect`: files in the wild often
/// carry the decision's rotations with the wrong sign; VN-2000 is always converted with
/// [`VN2000_TOWGS84`]).
#[must_use]
pub fn towgs84_of(text: &str) -> Option<Vec<f64>> {
    fn find(w: &Wkt) -> Option<Vec<f64>> {
        if w.keyword() == "TOWGS84" {
            return Some(
                (0..w.children().len())
                    .filter_map(|i| w.number(i))
                    .collect(),
            );
        }
        w.children().iter().find_map(find)
    }
    find(&parse_wkt(text.trim())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESRI_TM3: &str = r#"PROJCS["VN_2000_TM_3_105_45",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.75],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

    #[test]
    fn esri_prj_of_a_tm3_zone_is_recognised_by_its_parameters() {
        assert_eq!(from_wkt(ESRI_TM3).unwrap(), Crs::from_epsg(9210).unwrap());
        // A central meridian no EPSG zone has is kept with its parameters.
        let odd = ESRI_TM3.replace("105.75", "105.8");
        match from_wkt(&odd).unwrap() {
            Crs::TransverseMercator {
                epsg: 0,
                lon_0,
                vn2000: true,
                ..
            } => assert_eq!(lon_0, 105.8),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn authority_codes_win_and_unknown_datums_are_refused() {
        let gdal = r#"PROJCS["VN-2000 / TM-3 106-15",GEOGCS["VN-2000",DATUM["Vietnam_2000",SPHEROID["WGS 84",6378137,298.257223563],TOWGS84[-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4756"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",106.25],PARAMETER["scale_factor",0.9999],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1],AUTHORITY["EPSG","9212"]]"#;
        assert_eq!(from_wkt(gdal).unwrap(), Crs::from_epsg(9212).unwrap());
        assert_eq!(
            towgs84_of(gdal).unwrap(),
            vec![
                -191.90441429,
                -39.30318279,
                -111.45032835,
                -0.00928836,
                0.01975479,
                -0.00427372,
                0.252906278
            ]
        );
        assert_eq!(from_wkt(r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#).unwrap(), Crs::Wgs84);
        let indian = r#"GEOGCS["Indian 1960",DATUM["Indian_1960",SPHEROID["Everest 1830",6377276.345,300.8017]]]"#;
        assert!(from_wkt(indian).unwrap_err().contains("Indian_1960"));
        assert!(from_wkt("garbage").is_err());
        // Nesting far beyond any CRS is refused, not a stack overflow.
        let deep = format!("{}1{}", "A[".repeat(100_000), "]".repeat(100_000));
        assert!(from_wkt(&deep).is_err());
        assert!(
            Crs::parse_user("EPSG:9999")
                .unwrap_err()
                .contains("EPSG:9218")
        );
        assert_eq!(
            Crs::parse_user("epsg:3405").unwrap(),
            Crs::from_epsg(3405).unwrap()
        );
    }

    #[test]
    fn every_zone_converts_its_false_origin_to_its_central_meridian() {
        // On the central meridian, 500 000 m east; the datum shift moves it by ≈ 200 m (0.002°).
        for z in ZONES {
            let t = Crs::from_epsg(u32::from(z.epsg))
                .unwrap()
                .to_wgs84()
                .unwrap();
            let (lon, lat) = t.convert(500_000.0, 1_200_000.0).unwrap();
            assert!((lon - z.lon_0).abs() < 3e-3, "{}: {lon}", z.epsg);
            assert!((10.8..10.9).contains(&lat), "{}: {lat}", z.epsg);
        }
        let t = Crs::Wgs84.to_wgs84().unwrap();
        assert_eq!(t.convert(106.5, 11.0), Some((106.5, 11.0)));
        assert_eq!(t.convert(f64::NAN, 11.0), None);
    }
}
