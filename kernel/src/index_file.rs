//! Validated areas and their index in a compact binary form: what `phuso join` keeps in its
//! cache (keyed by the boundary file's SHA-256) and what the Spark driver broadcasts, so neither a
//! second run nor a Spark worker parses, validates and rasterises the GeoJSON again.
//!
//! Layout (little-endian): the magic `PHUSOIX1`, the payload, then the payload's SHA-256. The
//! payload holds each area's code, name and rings, and the raster's grid and tables; the R-tree
//! and the binned edges are rebuilt from the rings on reading (linear, milliseconds). Reading
//! checks the magic, the checksum and every table against the grid and the area count, so a
//! damaged or foreign file is an error, never a panic or a wrong answer.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use sha2::{Digest, Sha256};

use crate::index::AreaIndex;
use crate::raster::Raster;

const MAGIC: &[u8; 8] = b"PHUSOIX1";

/// `(code, name)` of each area, in index order.
pub type Names = Vec<(String, String)>;

/// The areas' names, rings and raster as bytes (see the module documentation).
///
/// # Panics
/// When a count exceeds `u32` (more than 4 billion areas, rings or positions).
#[must_use]
pub fn encode(names: &[(String, String)], index: &AreaIndex) -> Vec<u8> {
    assert_eq!(names.len(), index.len(), "one name per area");
    let mut out = MAGIC.to_vec();
    put_u32(&mut out, names.len());
    for ((code, name), area) in names.iter().zip(index.geometries()) {
        put_str(&mut out, code);
        put_str(&mut out, name);
        put_u32(&mut out, area.0.len());
        for polygon in &area.0 {
            put_u32(&mut out, 1 + polygon.interiors().len());
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                put_u32(&mut out, ring.0.len());
                for c in &ring.0 {
                    out.extend_from_slice(&c.x.to_le_bytes());
                    out.extend_from_slice(&c.y.to_le_bytes());
                }
            }
        }
    }
    match index.raster() {
        Some(r) => {
            out.push(1);
            r.encode(&mut out);
        }
        None => out.push(0),
    }
    let sum = Sha256::digest(&out[MAGIC.len()..]);
    out.extend_from_slice(&sum);
    out
}

/// The names and the index from [`encode`]'s bytes.
///
/// # Errors
/// A sentence saying what is wrong: not this format, a checksum that does not match (a damaged
/// file), or tables that do not fit the grid or the areas.
pub fn decode(bytes: &[u8]) -> Result<(Names, AreaIndex), String> {
    if bytes.len() < MAGIC.len() + 32 || &bytes[..MAGIC.len()] != MAGIC {
        return Err("not an index file of this version of phuso".into());
    }
    let (payload, sum) = bytes[MAGIC.len()..].split_at(bytes.len() - MAGIC.len() - 32);
    if Sha256::digest(payload).as_slice() != sum {
        return Err("its checksum does not match: the file is damaged".into());
    }
    let mut r = Reader { bytes: payload };
    let n = r.u32()? as usize;
    let mut names = Vec::with_capacity(n.min(1 << 20));
    let mut areas = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let code = r.string()?;
        let name = r.string()?;
        let polygons = r.u32()?;
        let mut parts = Vec::new();
        for _ in 0..polygons {
            let rings = r.u32()?;
            let mut all = Vec::new();
            for _ in 0..rings {
                let len = r.u32()? as usize;
                let raw = r.take(len.checked_mul(16).ok_or("a ring too long")?)?;
                let coords: Vec<Coord<f64>> = raw
                    .chunks_exact(16)
                    .map(|c| Coord {
                        x: f64::from_le_bytes(c[..8].try_into().expect("8 bytes")),
                        y: f64::from_le_bytes(c[8..].try_into().expect("8 bytes")),
                    })
                    .collect();
                if coords.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
                    return Err(format!("area {code}: a position is not a number"));
                }
                all.push(LineString(coords));
            }
            let mut rings = all.into_iter();
            let exterior = rings
                .next()
                .ok_or_else(|| format!("area {code}: a polygon without rings"))?;
            parts.push(Polygon::new(exterior, rings.collect()));
        }
        names.push((code, name));
        areas.push(MultiPolygon(parts));
    }
    let raster = match r.u8()? {
        0 => None,
        1 => Some(Raster::decode(&mut r, n)?),
        k => return Err(format!("unknown raster marker {k}")),
    };
    if !r.bytes.is_empty() {
        return Err(format!("{} bytes after the raster", r.bytes.len()));
    }
    Ok((names, AreaIndex::with_built_raster(areas, raster)))
}

fn put_u32(out: &mut Vec<u8>, v: usize) {
    out.extend_from_slice(&u32::try_from(v).expect("fits u32").to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// Reads the payload front to back; every read checks that the bytes are there.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.bytes.len() {
            return Err("the file ends early".into());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    pub(crate) fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    pub(crate) fn u32s(&mut self) -> Result<Vec<u32>, String> {
        let n = self.u32()? as usize;
        let raw = self.take(n.checked_mul(4).ok_or("a table too long")?)?;
        Ok(raw
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect())
    }

    fn string(&mut self) -> Result<String, String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| "a name is not UTF-8".into())
    }
}

#[cfg(test)]
mod tests {
    use geo::polygon;

    use super::*;
    use crate::join::{assign, brute_force};

    fn areas() -> (Names, Vec<MultiPolygon<f64>>) {
        let a = polygon![(x: 100.0, y: 10.0), (x: 101.0, y: 10.0), (x: 101.0, y: 11.0), (x: 100.0, y: 11.0)];
        let b = polygon!(
            exterior: [(x: 101.0, y: 10.0), (x: 102.0, y: 10.0), (x: 102.0, y: 11.0), (x: 101.0, y: 11.0)],
            interiors: [[(x: 101.4, y: 10.4), (x: 101.6, y: 10.4), (x: 101.6, y: 10.6), (x: 101.4, y: 10.6)]],
        );
        let c = polygon![(x: 103.0, y: 12.0), (x: 104.0, y: 12.5), (x: 103.2, y: 13.0)];
        (
            vec![
                ("1".into(), "A".into()),
                ("2".into(), "Bê".into()),
                ("3".into(), "C".into()),
            ],
            vec![
                MultiPolygon(vec![a]),
                MultiPolygon(vec![b]),
                MultiPolygon(vec![c]),
            ],
        )
    }

    #[test]
    fn a_decoded_index_answers_as_the_built_one_and_encodes_the_same() {
        let (names, geoms) = areas();
        let built = AreaIndex::new(geoms.clone());
        let coarse = small(geoms.clone());
        let bytes = encode(&names, &built);
        let (names2, decoded) = decode(&bytes).unwrap();
        assert_eq!(names2, names);
        assert_eq!(encode(&names2, &decoded), bytes);
        // A grid over the areas, their vertices and edges included: the same answers, and the
        // brute-force oracle's.
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for i in 0..=200 {
            for j in 0..=150 {
                xs.push(99.5 + f64::from(i) * 0.025);
                ys.push(9.5 + f64::from(j) * 0.025);
            }
        }
        let want = assign(&built, &xs, &ys);
        assert_eq!(assign(&decoded, &xs, &ys), want);
        let (_, coarse_back) = decode(&encode(&names, &coarse)).unwrap();
        assert_eq!(assign(&coarse_back, &xs, &ys), want);
        assert_eq!(brute_force(&geoms, &xs, &ys), want);
        assert!(want.iter().filter(|&&a| a != crate::join::OUTSIDE).count() > 1000);
    }

    fn err(bytes: &[u8]) -> String {
        match decode(bytes) {
            Err(e) => e,
            Ok(_) => panic!("decoded"),
        }
    }

    /// A coarse raster, so the file is a few kilobytes.
    fn small(geoms: Vec<MultiPolygon<f64>>) -> AreaIndex {
        let config = crate::raster::RasterConfig {
            coarse_deg: 0.1,
            shift: 2,
        };
        AreaIndex::with_raster(geoms, Some(Some(config)))
    }

    #[test]
    fn damaged_or_foreign_bytes_are_errors() {
        let (names, geoms) = areas();
        let bytes = encode(&names, &small(geoms));
        assert!(bytes.len() < 20_000, "{}", bytes.len());
        assert!(err(b"PHUSOIX0...").contains("not an index file"));
        assert!(err(&bytes[..bytes.len() - 1]).contains("damaged"));
        let mut flipped = bytes.clone();
        flipped[40] ^= 1;
        assert!(err(&flipped).contains("damaged"));
        // Every truncation is refused, never a panic.
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn checksummed_tables_that_do_not_fit_are_errors() {
        // A payload with a valid checksum but a raster pointing beyond its tables.
        let (names, geoms) = areas();
        let bytes = encode(&names, &small(geoms));
        let payload = &bytes[MAGIC.len()..bytes.len() - 32];
        // The last u32 of the payload is the last entry of the candidate lists (or the fine
        // table): make it point far away, then re-sign.
        let mut p = payload.to_vec();
        let at = p.len() - 4;
        p[at..].copy_from_slice(&0x7fff_fff0_u32.to_le_bytes());
        let mut forged = MAGIC.to_vec();
        forged.extend_from_slice(&p);
        forged.extend_from_slice(&Sha256::digest(&p));
        let e = err(&forged);
        assert!(e.contains("raster"), "{e}");
    }
}
