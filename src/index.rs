//! Filter phase of the point-in-area join: an R-tree (rstar) over the envelopes of every polygon
//! part of every area. Built once; queries take `&self` and are safe to share across threads.

use geo::{BoundingRect, MultiPolygon};
use rstar::RTree;

use crate::prepared::PreparedPolygon;
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
}

impl AreaIndex {
    /// Indexes the areas, bulk-loading the R-tree in O(n log n) over all polygon parts.
    ///
    /// # Panics
    /// When there are more than `u32::MAX` areas or parts.
    #[must_use]
    pub fn new(areas: Vec<MultiPolygon<f64>>) -> Self {
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
        Self {
            areas,
            parts,
            tree: RTree::bulk_load(entries),
        }
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

    /// Calls `f(area, part)` for every polygon part whose envelope contains (lon, lat),
    /// boundary included. O(log n + candidates).
    pub fn for_each_candidate(&self, lon: f64, lat: f64, mut f: impl FnMut(u32, &PreparedPolygon)) {
        for entry in self.tree.locate_all_at_point(&[lon, lat]) {
            let (a, p) = entry.data;
            f(a, &self.parts[a as usize][p as usize]);
        }
    }
}
