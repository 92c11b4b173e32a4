//! Web Mercator tiles (EPSG:3857, the XYZ scheme of OpenStreetMap, MapLibre and QGIS): a tile's
//! bounds, and a polygon cut to a tile in its integer coordinates, ready for a Mapbox Vector Tile.
//!
//! The projection is the spherical one every web map uses (radius 6,378,137 m, latitude clamped
//! to ±85.0511°); it is four lines, so it is written here rather than taken from a projection
//! crate (checked against PROJ's EPSG:3857 in the tests).

use geo::{
    BooleanOps, BoundingRect, Contains, Intersects, MultiPolygon, Polygon, Rect, Simplify, coord,
};

/// Units across a tile (the MVT default).
pub const EXTENT: u32 = 4096;
/// Units kept beyond each edge, so strokes and labels do not stop at the tile's edge.
pub const BUFFER: u32 = 64;
/// Half the width of the world in Web Mercator metres.
pub const HALF_WORLD: f64 = std::f64::consts::PI * 6_378_137.0;
/// Zooms served: 0 (the world in one tile) to 22.
pub const MAX_ZOOM: u8 = 22;
/// From this zoom on, geometry is no longer simplified further (≈ 2.4 m per tile unit).
pub const DETAIL_ZOOM: u8 = 14;
/// The latitude Web Mercator stops at.
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// Longitude, latitude (degrees) to Web Mercator metres.
#[must_use]
pub fn mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    let x = lon / 180.0 * HALF_WORLD;
    let y = (std::f64::consts::FRAC_PI_4 + lat / 2.0).tan().ln() * 6_378_137.0;
    (x, y)
}

/// Web Mercator metres to longitude, latitude (degrees).
#[must_use]
pub fn lonlat(x: f64, y: f64) -> (f64, f64) {
    let lon = x / HALF_WORLD * 180.0;
    let lat = (2.0 * (y / 6_378_137.0).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees();
    (lon, lat)
}

/// A tile of the XYZ scheme (y counted from the north).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Zoom.
    pub z: u8,
    /// Column, from the west.
    pub x: u32,
    /// Row, from the north.
    pub y: u32,
}

impl TileId {
    /// The tile, if `z` ≤ [`MAX_ZOOM`] and `x`, `y` < 2^z.
    #[must_use]
    pub fn new(z: u8, x: u32, y: u32) -> Option<Self> {
        let n = 1u64 << z;
        (z <= MAX_ZOOM && u64::from(x) < n && u64::from(y) < n).then_some(Self { z, x, y })
    }

    /// The tile's width in metres.
    #[must_use]
    pub fn size(self) -> f64 {
        2.0 * HALF_WORLD / f64::from(1u32 << self.z)
    }

    /// The tile's bounds in Web Mercator metres, widened by `units` tile units on each side.
    #[must_use]
    pub fn bounds(self, units: u32) -> Rect<f64> {
        let size = self.size();
        let pad = size * f64::from(units) / f64::from(EXTENT);
        let west = -HALF_WORLD + f64::from(self.x) * size;
        let north = HALF_WORLD - f64::from(self.y) * size;
        Rect::new(
            coord! { x: west - pad, y: north - size - pad },
            coord! { x: west + size + pad, y: north + pad },
        )
    }

    /// The bounds (widened by `units`) in longitude, latitude.
    #[must_use]
    pub fn lonlat_bounds(self, units: u32) -> Rect<f64> {
        let b = self.bounds(units);
        let (w, s) = lonlat(b.min().x, b.min().y);
        let (e, n) = lonlat(b.max().x, b.max().y);
        Rect::new(coord! { x: w, y: s }, coord! { x: e, y: n })
    }
}

/// `g` (longitude, latitude) in Web Mercator metres.
#[must_use]
pub fn project(g: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    use geo::MapCoords;
    g.map_coords(|c| {
        let (x, y) = mercator(c.x, c.y);
        coord! { x: x, y: y }
    })
}

/// Below this zoom (overviews of a province or the country) [`simplify_for`] drops vertices
/// within [`OVERVIEW_TOLERANCE`] units instead of half a unit: a quarter of a pixel of a
/// 512-pixel tile, where thousands of wards share a tile.
pub const OVERVIEW_ZOOM: u8 = 8;

/// The tolerance below [`OVERVIEW_ZOOM`], in tile units.
pub const OVERVIEW_TOLERANCE: f64 = 2.0;

/// `g` (Web Mercator) simplified for zoom `z`: vertices within half a tile unit of the line
/// dropped (none from [`DETAIL_ZOOM`] on: 1.2 m; [`OVERVIEW_TOLERANCE`] below
/// [`OVERVIEW_ZOOM`]).
#[must_use]
pub fn simplify_for(g: &MultiPolygon<f64>, z: u8) -> MultiPolygon<f64> {
    let units = if z < OVERVIEW_ZOOM {
        OVERVIEW_TOLERANCE
    } else {
        0.5
    };
    let z = z.min(DETAIL_ZOOM);
    let unit = 2.0 * HALF_WORLD / f64::from(1u32 << z) / f64::from(EXTENT);
    g.simplify(unit * units)
}

/// A polygon in tile units: rings of integer points (not closed), the exterior first with a
/// positive area by the surveyor's formula in tile coordinates (y down), holes negative, as the
/// MVT specification (4.3.4.4) requires.
pub type TilePolygon = Vec<Vec<(i32, i32)>>;

/// `g` (Web Mercator, simplified for the tile's zoom) cut to `tile` and its buffer, in tile units.
/// Rings that collapse to no area at this zoom are dropped (and a polygon whose exterior does).
#[must_use]
pub fn cut(g: &MultiPolygon<f64>, tile: TileId) -> Vec<TilePolygon> {
    let clip = tile.bounds(BUFFER);
    let Some(extent) = g.bounding_rect() else {
        return Vec::new();
    };
    if !clip.intersects(&extent) {
        return Vec::new();
    }
    let clipped;
    let g = if clip.contains(&extent) {
        g
    } else {
        clipped = g.intersection(&MultiPolygon::new(vec![clip.to_polygon()]));
        &clipped
    };
    let frame = tile.bounds(0);
    let scale = f64::from(EXTENT) / tile.size();
    let to_units = |c: &geo::Coord<f64>| {
        (
            ((c.x - frame.min().x) * scale).round() as i32,
            ((frame.max().y - c.y) * scale).round() as i32,
        )
    };
    g.0.iter()
        .filter_map(|p| polygon_units(p, &to_units))
        .collect()
}

fn polygon_units(
    p: &Polygon<f64>,
    to_units: &impl Fn(&geo::Coord<f64>) -> (i32, i32),
) -> Option<TilePolygon> {
    let ring = |r: &geo::LineString<f64>, exterior: bool| -> Option<Vec<(i32, i32)>> {
        let mut pts: Vec<(i32, i32)> = Vec::with_capacity(r.0.len());
        for c in &r.0 {
            let q = to_units(c);
            if pts.last() != Some(&q) {
                pts.push(q);
            }
        }
        // Not closed in MVT: the ClosePath command closes it.
        while pts.len() > 1 && pts.first() == pts.last() {
            pts.pop();
        }
        let area = twice_area(&pts);
        if pts.len() < 3 || area == 0 {
            return None;
        }
        if (area > 0) != exterior {
            pts.reverse();
        }
        Some(pts)
    };
    let mut out = vec![ring(p.exterior(), true)?];
    out.extend(p.interiors().iter().filter_map(|r| ring(r, false)));
    Some(out)
}

/// Twice the signed area of a ring by the surveyor's formula (in tile coordinates, y down:
/// positive is clockwise on screen).
#[must_use]
pub fn twice_area(ring: &[(i32, i32)]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a.0) * i64::from(b.1) - i64::from(b.0) * i64::from(a.1)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_bounds_by_hand() {
        let t = TileId::new(0, 0, 0).unwrap();
        let b = t.bounds(0);
        assert_eq!((b.min().x, b.max().y), (-HALF_WORLD, HALF_WORLD));
        // Zoom 1, tile (1, 0): the north-east quarter.
        let b = TileId::new(1, 1, 0).unwrap().lonlat_bounds(0);
        assert!((b.min().x - 0.0).abs() < 1e-9 && (b.max().x - 180.0).abs() < 1e-9);
        assert!(b.min().y.abs() < 1e-9 && (b.max().y - MAX_LATITUDE).abs() < 1e-9);
        assert!(TileId::new(3, 8, 0).is_none());
        assert!(TileId::new(23, 0, 0).is_none());
        // Round trip.
        let (x, y) = mercator(106.65, 10.98);
        let (lon, lat) = lonlat(x, y);
        assert!((lon - 106.65).abs() < 1e-12 && (lat - 10.98).abs() < 1e-12);
    }

    #[test]
    fn cut_square_orients_and_clips() {
        // A square over the whole tile 1/0/0 and beyond: clipped to the buffer.
        let t = TileId::new(1, 0, 0).unwrap();
        let g = MultiPolygon::new(vec![
            Rect::new(
                coord! { x: -HALF_WORLD * 2.0, y: -HALF_WORLD },
                coord! { x: HALF_WORLD, y: HALF_WORLD * 2.0 },
            )
            .to_polygon(),
        ]);
        let parts = cut(&g, t);
        assert_eq!(parts.len(), 1);
        let ring = &parts[0][0];
        let xs: Vec<i32> = ring.iter().map(|p| p.0).collect();
        let ys: Vec<i32> = ring.iter().map(|p| p.1).collect();
        let b = i32::try_from(BUFFER).unwrap();
        let e = i32::try_from(EXTENT).unwrap();
        assert_eq!(xs.iter().min(), Some(&-b));
        assert_eq!(ys.iter().min(), Some(&-b));
        assert_eq!(xs.iter().max(), Some(&(e + b)));
        assert_eq!(ys.iter().max(), Some(&(e + b)));
        assert!(twice_area(ring) > 0);
        assert_eq!(twice_area(ring), 2 * i64::from(e + 2 * b).pow(2));
    }

    #[test]
    fn holes_negative_and_tiny_rings_dropped() {
        let t = TileId::new(10, 812, 483).unwrap();
        let f = t.bounds(0);
        let at = |u: f64, v: f64| {
            coord! { x: f.min().x + f.width() * u, y: f.max().y - f.height() * v }
        };
        let outer = geo::LineString::from(vec![
            at(0.1, 0.1),
            at(0.9, 0.1),
            at(0.9, 0.9),
            at(0.1, 0.9),
            at(0.1, 0.1),
        ]);
        let hole = geo::LineString::from(vec![
            at(0.4, 0.4),
            at(0.4, 0.6),
            at(0.6, 0.6),
            at(0.6, 0.4),
            at(0.4, 0.4),
        ]);
        // A speck far below a unit.
        let speck = geo::LineString::from(vec![
            at(0.95, 0.95),
            at(0.950_01, 0.95),
            at(0.950_01, 0.950_01),
            at(0.95, 0.95),
        ]);
        let g = MultiPolygon::new(vec![
            Polygon::new(outer, vec![hole]),
            Polygon::new(speck, vec![]),
        ]);
        let parts = cut(&g, t);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].len(), 2);
        assert!(twice_area(&parts[0][0]) > 0);
        assert!(twice_area(&parts[0][1]) < 0);
        // 0.8 × 4096 squared, less 0.2 × 4096 squared (to the rounding of the corners).
        let want = (0.8f64 * 4096.0).powi(2) as i64 * 2;
        assert!(
            (twice_area(&parts[0][0]) - want).abs() <= 2 * 2 * 3300,
            "{}",
            twice_area(&parts[0][0])
        );
    }
}
