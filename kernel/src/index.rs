//! Filter phase of the point-in-area join: a lon/lat raster ([`crate::raster`]) that answers most
//! points outright, and an R-tree (rstar) over the envelopes of every polygon part of every area
//! for the rest. Built once; queries take `&self` and are safe to share across threads.

use geo::{BoundingRect, MultiPolygon};
use rstar::RTree;

use crate::prepared::PreparedPolygon;
use crate::raster::{Raster, RasterConfig};
use geo::Coord;
use geo::coordinate_position::CoordPos;
use rstar::primitives::{GeomWithData, Rectangle};

/// One polygon part's envelope, tagged with its area's position.
type Entry = GeomWithData<Rectangle<[f64; 2]>, (u32, u32)>;

/// Areas indexed for point lookups. Area positions are the order of `areas` given to
/// [`AreaIndex::new`].
pub struct AreaIndex {
    areas: Vec<MultiPolygon<f64>>,
    /// `parts[a][p]`: part `p` of area `a`, with its edges binned for the refine phase.
    parts: Vec<Vec<PreparedPolygon>>,
    tree: RTree<Entry>,
    /// The fast path: cells wholly inside one area answer without a polygon test.
    raster: Option<Raster>,
}

impl AreaIndex {
    /// Indexes the areas: the R-tree (bulk-loaded in O(n log n) over all polygon parts) and the
    /// raster sized by [`RasterConfig::fit`].
    ///
    /// # Panics
    /// When there are `2^31` areas or more.
    #[must_use]
    pub fn new(areas: Vec<MultiPolygon<f64>>) -> Self {
        Self::with_raster(areas, Some(None))
    }

    /// Indexes the areas with a chosen raster: `None` for none (R-tree and exact tests only),
    /// `Some(None)` for the fitted one, `Some(Some(config))` for a given resolution.
    ///
    /// # Panics
    /// When there are `2^31` areas or more.
    #[must_use]
    pub fn with_raster(
        areas: Vec<MultiPolygon<f64>>,
        raster: Option<Option<RasterConfig>>,
    ) -> Self {
        let mut entries = Vec::new();
        for (a, mp) in areas.iter().enumerate() {
            for (p, poly) in mp.0.iter().enumerate() {
                if let Some(r) = poly.bounding_rect() {
                    let rect =
                        Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
                    entries.push(GeomWithData::new(
                        rect,
                        (
                            u32::try_from(a).expect("area count fits u32"),
                            u32::try_from(p).expect("part count fits u32"),
                        ),
                    ));
                }
            }
        }
        let parts = areas
            .iter()
            .map(|mp| mp.0.iter().map(PreparedPolygon::new).collect())
            .collect();
        let raster = raster.map(|config| Raster::new(&areas, config));
        Self {
            areas,
            parts,
            tree: RTree::bulk_load(entries),
            raster,
        }
    }

    /// Indexes the areas with a raster already built for them (read back by
    /// [`crate::index_file::decode`]); the R-tree and the binned edges are built here.
    ///
    /// # Panics
    /// When there are `2^31` areas or more.
    #[must_use]
    pub(crate) fn with_built_raster(areas: Vec<MultiPolygon<f64>>, raster: Option<Raster>) -> Self {
        let mut index = Self::with_raster(areas, None);
        index.raster = raster;
        index
    }

    /// Number of areas.
    #[must_use]
    pub fn len(&self) -> usize {
        self.areas.len()
    }

    /// True when no area is indexed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// The geometry of the area at `position`.
    #[must_use]
    pub fn geometry(&self, position: usize) -> &MultiPolygon<f64> {
        &self.areas[position]
    }

    /// All geometries, in position order.
    #[must_use]
    pub fn geometries(&self) -> &[MultiPolygon<f64>] {
        &self.areas
    }

    /// The raster, when built.
    #[must_use]
    pub fn raster(&self) -> Option<&Raster> {
        self.raster.as_ref()
    }

    /// True when the closed area at `position` holds `c` (any of its parts).
    #[must_use]
    pub fn holds(&self, position: u32, c: Coord<f64>) -> bool {
        self.parts[position as usize]
            .iter()
            .any(|p| p.position(c) != CoordPos::Outside)
    }

    /// Calls `f(area, part)` for every polygon part whose envelope contains (lon, lat),
    /// boundary included. O(log n + candidates).
    pub fn for_each_candidate(&self, lon: f64, lat: f64, mut f: impl FnMut(u32, &PreparedPolygon)) {
        for entry in self.tree.locate_all_at_point(&[lon, lat]) {
            let (a, p) = entry.data;
            f(a, &self.parts[a as usize][p as usize]);
        }
    }
}
