//! Releases: the rule across snapshots. Every upload makes a new snapshot, and a reader who kept
//! the figures of the last one can subtract: a ward's 1,204 households yesterday and 1,206 now
//! say that two households were reached in between, which the rule of either snapshot alone
//! would withhold. A [`Release`] remembers what a snapshot published, cell by cell (a stable
//! [`Key`] names a cell from one snapshot to the next), and the next table is protected
//! against it ([`Table::against`]):
//!
//! - **Steps of k.** A cell shown before may be shown again only when its count is the same or
//!   has moved by k or more since it was last shown (the cell and its *step*, an unpublished
//!   cell holding the difference, are withheld together; a step of 1 to k − 1 is withheld).
//!   Counts only grow (visits are never taken back), so any two values of a cell that were ever
//!   shown differ by 0 or by k or more.
//! - **Sums of steps.** The difference of two snapshots keeps their sums: a ward's step is its
//!   neighbourhoods' steps added up. Those sums go into the table too, over the steps of the
//!   cells shown last time (the cells withheld last time count as one unknown: their old total
//!   followed from the old sum), so that what the withheld steps of a sum add up to is never 1
//!   to k − 1 (0, or k or more, says no more than a shown step would).
//! - **Stable choices.** Among cells to withhold for another's sake, those withheld last time
//!   come first, so the withheld set moves as little as possible.
//!
//! What this protects is one snapshot against the one before (and each cell against every
//! earlier showing); a reader who combines many snapshots, each against its own predecessor,
//! sums constraints this does not model.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::Table;

/// A cell's name from one snapshot to the next (a hash of what the cell counts: see
/// [`key`]).
pub type Key = u64;

/// A stable 64-bit hash (FNV-1a) of `parts`, separated so that ("ab", "c") ≠ ("a", "bc").
#[must_use]
pub fn key(parts: &[&[u8]]) -> Key {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in p.iter().chain(std::iter::once(&0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// What one snapshot published.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Release {
    /// Every keyed cell: its count and whether it was withheld.
    cells: HashMap<Key, (u64, bool)>,
    /// The last count shown of every cell ever shown.
    last_shown: HashMap<Key, u64>,
    /// The sums the snapshot's table held (hashes of their cells' keys).
    relations: HashSet<u64>,
}

impl Release {
    /// True before anything was published.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty() && self.last_shown.is_empty()
    }

    /// The count shown last of `key`, if it was ever shown.
    #[must_use]
    pub fn last_shown(&self, key: Key) -> Option<u64> {
        self.last_shown.get(&key).copied()
    }

    /// As bytes, for the store: three counted lists of little-endian integers.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            24 + self.cells.len() * 17 + self.last_shown.len() * 16 + self.relations.len() * 8,
        );
        let mut cells: Vec<_> = self.cells.iter().collect();
        cells.sort_unstable();
        out.extend((cells.len() as u64).to_le_bytes());
        for (k, (v, h)) in cells {
            out.extend(k.to_le_bytes());
            out.extend(v.to_le_bytes());
            out.push(u8::from(*h));
        }
        let mut shown: Vec<_> = self.last_shown.iter().collect();
        shown.sort_unstable();
        out.extend((shown.len() as u64).to_le_bytes());
        for (k, v) in shown {
            out.extend(k.to_le_bytes());
            out.extend(v.to_le_bytes());
        }
        let mut rels: Vec<_> = self.relations.iter().collect();
        rels.sort_unstable();
        out.extend((rels.len() as u64).to_le_bytes());
        for r in rels {
            out.extend(r.to_le_bytes());
        }
        out
    }

    /// Reads [`Release::to_bytes`]; `None` when the bytes are not one.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let mut at = 0usize;
        let u64_at = |at: &mut usize| -> Option<u64> {
            let b = bytes.get(*at..*at + 8)?;
            *at += 8;
            Some(u64::from_le_bytes(b.try_into().ok()?))
        };
        let mut r = Self::default();
        let n = u64_at(&mut at)?;
        for _ in 0..n {
            let k = u64_at(&mut at)?;
            let v = u64_at(&mut at)?;
            let h = *bytes.get(at)?;
            at += 1;
            r.cells.insert(k, (v, h != 0));
        }
        let n = u64_at(&mut at)?;
        for _ in 0..n {
            let k = u64_at(&mut at)?;
            let v = u64_at(&mut at)?;
            r.last_shown.insert(k, v);
        }
        let n = u64_at(&mut at)?;
        for _ in 0..n {
            let h = u64_at(&mut at)?;
            r.relations.insert(h);
        }
        (at == bytes.len()).then_some(r)
    }
}

impl Table {
    /// Names `cell` across snapshots.
    pub fn name(&mut self, cell: usize, key: Key) {
        if self.keys.len() < self.values.len() {
            self.keys.resize(self.values.len(), None);
        }
        self.keys[cell] = Some(key);
    }

    fn key_of(&self, cell: usize) -> Option<Key> {
        self.keys.get(cell).copied().flatten()
    }

    /// The hash of a sum's cells' keys, when all are named (computed once per sum).
    fn relation_id(&mut self, r: usize) -> Option<u64> {
        if self.relation_ids.len() <= r {
            let from = self.relation_ids.len();
            let ids: Vec<Option<u64>> = (from..=r).map(|i| self.compute_relation_id(i)).collect();
            self.relation_ids.extend(ids);
        }
        self.relation_ids[r]
    }

    fn compute_relation_id(&self, r: usize) -> Option<u64> {
        let rel = &self.relations[r];
        let mut parts: Vec<[u8; 8]> = Vec::with_capacity(rel.parts.len() + 1);
        parts.push(self.key_of(rel.total)?.to_le_bytes());
        for &p in &rel.parts {
            parts.push(self.key_of(p)?.to_le_bytes());
        }
        let refs: Vec<&[u8]> = parts.iter().map(<[u8; 8]>::as_slice).collect();
        Some(key(&refs))
    }

    /// Adds the steps since `prev` and their sums (see the module documentation); call it after
    /// every cell and sum of this snapshot is in, before [`Table::protect`]. With
    /// `absent_is_zero`, a named cell that `prev` does not hold was a published 0 (an H3 cell
    /// no visit fell in is not listed); otherwise it was not published (a day not yet begun).
    pub fn against(&mut self, prev: &Release, absent_is_zero: bool) {
        self.own_relations = self.relations.len();
        if prev.is_empty() {
            return;
        }
        let n = self.values.len();
        self.keys.resize(n, None);
        // Each named cell's step, when it takes part in the sums (the cell was shown by the last
        // snapshot itself).
        let mut step: Vec<Option<usize>> = vec![None; n];
        for (c, slot) in step.iter_mut().enumerate() {
            let Some(k) = self.keys[c] else {
                continue;
            };
            let before = prev.cells.get(&k);
            if before.is_some_and(|&(_, hidden)| hidden) {
                self.preferred[c] = true;
            }
            let last = prev
                .last_shown(k)
                .or_else(|| (before.is_none() && absent_is_zero).then_some(0));
            let Some(last) = last else {
                continue;
            };
            let s = self.rest(self.values[c].abs_diff(last));
            self.follow(c, s);
            self.follow(s, c);
            let shown_last_time = before.map_or(absent_is_zero, |&(_, hidden)| !hidden);
            if shown_last_time {
                *slot = Some(s);
            }
        }
        for r in 0..self.own_relations {
            let Some(id) = self.relation_id(r) else {
                continue;
            };
            let total = self.relations[r].total;
            let total_before = self.key_of(total).and_then(|k| prev.cells.get(&k));
            let same_sum =
                prev.relations.contains(&id) || (absent_is_zero && total_before.is_some());
            // A total withheld last time makes the difference of the two sums the sum itself.
            let (true, Some(total_step)) = (same_sum, step[total]) else {
                continue;
            };
            let mut parts = Vec::new();
            let mut unknown_before = Vec::new();
            for &p in &self.relations[r].parts {
                match step[p] {
                    Some(s) => parts.push(s),
                    None => unknown_before.push(p),
                }
            }
            if !unknown_before.is_empty() {
                // The cells withheld last time: one unknown, the step of their sum.
                let now: u64 = unknown_before.iter().map(|&p| self.values[p]).sum();
                let then: u64 = unknown_before
                    .iter()
                    .filter_map(|&p| self.key_of(p).and_then(|k| prev.cells.get(&k)))
                    .map(|&(v, _)| v)
                    .sum();
                let g = self.rest(now.abs_diff(then));
                for &p in &unknown_before {
                    self.follow(p, g);
                }
                self.follow(g, unknown_before[0]);
                parts.push(g);
            }
            self.relate(total_step, parts);
        }
    }

    /// Withholds every named cell that `prev` withheld (for a table that must show no more of
    /// those cells than `prev` did).
    pub fn keep_withheld(&mut self, prev: &Release) {
        for c in 0..self.keys.len() {
            if self.keys[c]
                .and_then(|k| prev.cells.get(&k))
                .is_some_and(|&(_, h)| h)
            {
                self.hide(c);
            }
        }
    }

    /// What this table publishes, after [`Table::protect`], for the next snapshot to be protected
    /// against.
    #[must_use]
    pub fn release(&self, prev: &Release) -> Release {
        let mut next = Release {
            last_shown: prev.last_shown.clone(),
            ..Release::default()
        };
        for (c, k) in self.keys.iter().enumerate() {
            let Some(k) = *k else {
                continue;
            };
            next.cells.insert(k, (self.values[c], self.hidden[c]));
            if !self.hidden[c] {
                next.last_shown.insert(k, self.values[c]);
            }
        }
        let own = if self.own_relations == 0 {
            self.relations.len()
        } else {
            self.own_relations
        };
        next.relations = (0..own)
            .filter_map(|r| {
                self.relation_ids
                    .get(r)
                    .copied()
                    .unwrap_or_else(|| self.compute_relation_id(r))
            })
            .collect();
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ward of three neighbourhoods and what lies outside them, named `w`, `a`, `b`, `c`, `o`.
    fn ward(values: [u64; 4], prev: &Release) -> (Table, Vec<usize>) {
        let mut t = Table::new();
        let total: u64 = values.iter().sum();
        let w = t.cell(total);
        let mut kids: Vec<usize> = values[..3].iter().map(|&v| t.cell(v)).collect();
        kids.push(t.rest(values[3]));
        t.relate(w, kids.clone());
        for (c, name) in std::iter::once(w)
            .chain(kids.iter().copied())
            .zip(["w", "a", "b", "c", "o"])
        {
            t.name(c, key(&[name.as_bytes()]));
        }
        t.against(prev, false);
        t.protect(5);
        let mut cells = vec![w];
        cells.extend(kids);
        (t, cells)
    }

    fn hidden(t: &Table, cells: &[usize]) -> Vec<bool> {
        cells.iter().map(|&c| t.hidden(c)).collect()
    }

    #[test]
    fn a_small_step_is_withheld_with_the_sums_it_changes() {
        let (t, c) = ward([50, 30, 20, 0], &Release::default());
        assert_eq!(hidden(&t, &c), [false; 5]);
        let r1 = t.release(&Release::default());
        // Two households reached in `a`: `a` and the ward moved by 2, `b`, `c` did not.
        let (t2, c2) = ward([52, 30, 20, 0], &r1);
        assert_eq!(hidden(&t2, &c2), [true, true, false, false, false]);
        let r2 = t2.release(&r1);
        // Three more: 5 since `a` and the ward were last shown, so they are shown again.
        let (t3, c3) = ward([55, 30, 20, 0], &r2);
        assert_eq!(hidden(&t3, &c3), [false; 5]);
        assert_eq!(t3.release(&r2).last_shown(key(&[b"a"])), Some(55));
    }

    #[test]
    fn steps_cannot_be_worked_out_as_the_total_step_minus_shown_steps() {
        let (t, _) = ward([50, 30, 20, 0], &Release::default());
        let r1 = t.release(&Release::default());
        // The ward moves by 7: `a` by 5, `b` by 2 (withheld). The outside part (0) would do for
        // the sum of this snapshot, but then the ward's step minus `a`'s says that `b` and the
        // outside part moved by 2 together: `a` goes too.
        let (t2, c2) = ward([55, 32, 20, 0], &r1);
        assert_eq!(hidden(&t2, &c2), [false, true, true, false, true]);
    }

    #[test]
    fn an_unchanged_table_publishes_the_same() {
        let (t, c) = ward([50, 3, 20, 0], &Release::default());
        let r1 = t.release(&Release::default());
        let (t2, c2) = ward([50, 3, 20, 0], &r1);
        assert_eq!(hidden(&t, &c), hidden(&t2, &c2));
        assert_eq!(t2.release(&r1), r1);
    }

    #[test]
    fn the_cells_withheld_last_time_are_withheld_first() {
        // `b` (3) takes `c` (20, smaller than `a`) with it.
        let (t, c) = ward([50, 3, 20, 0], &Release::default());
        assert_eq!(hidden(&t, &c), [false, false, true, true, false]);
        let r1 = t.release(&Release::default());
        // Now `a` is the smallest sibling, but `c`, withheld last time, is taken again.
        let (t2, c2) = ward([9, 3, 20, 0], &r1);
        assert_eq!(hidden(&t2, &c2), [false, false, true, true, false]);
    }

    #[test]
    fn bytes_round_trip() {
        let (t, _) = ward([50, 3, 20, 1], &Release::default());
        let r = t.release(&Release::default());
        assert_eq!(Release::from_bytes(&r.to_bytes()), Some(r.clone()));
        assert_eq!(Release::from_bytes(&r.to_bytes()[1..]), None);
        assert_eq!(Release::from_bytes(&[]), None);
    }

    #[test]
    fn key_separates_its_parts() {
        assert_ne!(key(&[b"ab", b"c"]), key(&[b"a", b"bc"]));
        assert_eq!(key(&[b"a"]), key(&[b"a"]));
    }
}
