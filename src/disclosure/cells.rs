//! The small-count rule over the H3 layers: the five resolutions the API serves (6–10) are one
//! [`Table`], so that a coarse cell minus its shown children (a cell holds about its seven
//! children; the points of its edges may fall in a neighbour's child) cannot recover a withheld
//! child. Households are the checked counts; visits are checked too and follow their cell's
//! households, and the estimated population is withheld with them. A cell's figures never
//! depend on the box asked for, so differencing two boxes only yields whole cells.

use std::collections::HashMap;

use h3o::{CellIndex, Resolution};
use serde::Serialize;

use super::Table;
use super::release::{Release, key};
use crate::hex::{BLIND_SPOT_MIN_POPULATION, HexStats, RESOLUTIONS};

/// One H3 cell as served: counts and the population estimate are `None` when withheld.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize)]
pub struct ShownCell {
    /// The cell.
    #[serde(serialize_with = "ser_cell")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{15}$")]
    pub cell: CellIndex,
    /// Visits whose point lies in the cell.
    pub visits: Option<u64>,
    /// Distinct households among them.
    pub households: Option<u64>,
    /// Residents estimated by area weighting.
    pub population_est: Option<f64>,
    /// True when the counts are withheld.
    pub suppressed: bool,
    /// A populated cell (≥ [`BLIND_SPOT_MIN_POPULATION`] estimated residents) where fewer than
    /// `k` households were reached: the band says nothing more than "fewer than k".
    pub blind_spot: bool,
}

fn ser_cell<S: serde::Serializer>(c: &CellIndex, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&c.to_string())
}

/// The protected layers, by resolution, each sorted by cell.
#[derive(Debug, Clone, Default)]
pub struct ShownLayers {
    layers: HashMap<u8, Vec<ShownCell>>,
}

impl ShownLayers {
    /// Protects `layers` (one per resolution in [`RESOLUTIONS`], each sorted by cell) with
    /// threshold `k`, with nothing published before.
    #[must_use]
    pub fn new(layers: &HashMap<u8, Vec<HexStats>>, k: u64) -> Self {
        Self::after(layers, k, &Release::default()).0
    }

    /// Protects `layers` with threshold `k` against what was published before (an H3 cell not
    /// listed then held no visit: see [`super::release`]); returns the layers and what they
    /// publish.
    #[must_use]
    pub fn after(layers: &HashMap<u8, Vec<HexStats>>, k: u64, prev: &Release) -> (Self, Release) {
        let mut t = Table::new();
        let mut cells: HashMap<u8, Vec<(CellIndex, usize, usize)>> = HashMap::new();
        let mut index: HashMap<CellIndex, (usize, usize)> = HashMap::new();
        for r in RESOLUTIONS {
            let Some(layer) = layers.get(&r) else {
                continue;
            };
            let list: Vec<(CellIndex, usize, usize)> = layer
                .iter()
                .map(|h| {
                    let households = t.cell(h.households);
                    let visits = t.cell(h.visits);
                    t.follow(households, visits);
                    let id = u64::from(h.cell).to_le_bytes();
                    t.name(households, key(&[&id, b"households"]));
                    t.name(visits, key(&[&id, b"visits"]));
                    index.insert(h.cell, (households, visits));
                    (h.cell, households, visits)
                })
                .collect();
            cells.insert(r, list);
        }
        // Each coarse cell and its children present one resolution finer.
        for r in RESOLUTIONS {
            let (Some(list), Ok(coarse)) = (cells.get(&(r + 1)), Resolution::try_from(r)) else {
                continue;
            };
            let mut children: HashMap<CellIndex, (Vec<usize>, Vec<usize>)> = HashMap::new();
            for &(cell, h, v) in list {
                if let Some(parent) = cell.parent(coarse) {
                    let e = children.entry(parent).or_default();
                    e.0.push(h);
                    e.1.push(v);
                }
            }
            let mut parents: Vec<_> = children.into_iter().collect();
            parents.sort_unstable_by_key(|(c, _)| *c);
            for (parent, (hs, vs)) in parents {
                if let Some(&(ph, pv)) = index.get(&parent) {
                    t.relate(ph, hs);
                    t.relate(pv, vs);
                }
            }
        }
        t.against(prev, true);
        t.protect(k);
        let shown = layers
            .iter()
            .map(|(&r, layer)| {
                let list = layer
                    .iter()
                    .map(|h| {
                        let hidden = index.get(&h.cell).is_none_or(|&(c, _)| t.hidden(c));
                        let visits_hidden = index.get(&h.cell).is_none_or(|&(_, c)| t.hidden(c));
                        ShownCell {
                            cell: h.cell,
                            visits: (!visits_hidden).then_some(h.visits),
                            households: (!hidden).then_some(h.households),
                            population_est: (!hidden)
                                .then(|| (h.population_est * 10.0).round() / 10.0),
                            suppressed: hidden,
                            blind_spot: h.households < k
                                && h.population_est >= BLIND_SPOT_MIN_POPULATION,
                        }
                    })
                    .collect();
                (r, list)
            })
            .collect();
        (Self { layers: shown }, t.release(prev))
    }

    /// The protected layer at resolution `r` (empty when not computed).
    #[must_use]
    pub fn layer(&self, r: u8) -> &[ShownCell] {
        self.layers.get(&r).map_or(&[], Vec::as_slice)
    }
}
