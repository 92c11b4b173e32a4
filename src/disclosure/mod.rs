//! The small-count rule: what the API may say about few households.
//!
//! Every aggregate that leaves the server is a *cell* of one [`Table`]: households reached per
//! area, per area and day, per H3 cell and so on. A cell whose count is below `k` (0 included,
//! so that "withheld" says nothing more than "fewer than k") is withheld (*primary*
//! suppression). The published figures are tied by sums — a ward is the sum of its
//! neighbourhoods, a day's cumulative count is the day before's plus the day's new households,
//! an H3 cell holds about its seven children — and each such [`Relation`] would let a reader
//! recover a withheld cell as the total minus the shown parts. *Complementary* suppression
//! withholds more cells until, in every relation,
//!
//! - the unknowns (withheld total, withheld parts) are never exactly one, so no relation can be
//!   solved for a single cell, and
//! - when the total is shown and any part is withheld, the total minus the shown parts is at
//!   least `k`, so the withheld parts together hold at least `k` households; when nothing is
//!   withheld, that remainder (what the parts do not cover) is 0 or at least `k`.
//!
//! Cells are withheld smallest first (then by index, so the choice is deterministic and every
//! request of one snapshot sees the same cells withheld). A cell may have *followers*, withheld
//! whenever it is (the visits and services of an area follow its households).
//!
//! This is the classic heuristic of statistical offices (τ-ARGUS's "hypercube" family, in
//! spirit): it defeats differencing within one snapshot. Two snapshots (before and after an
//! upload) are two tables; what one withholds, the other may show.

pub mod areas;
pub mod cells;
pub mod release;

pub use release::{Key, Release};

/// The default `k`: counts of fewer than 5 households are withheld (a common choice of
/// statistics offices).
pub const DEFAULT_MIN_COUNT: u64 = 5;

/// A sum: `total = Σ parts + remainder`, the remainder (what no part covers) ≥ 0. H3 cells nest
/// only approximately, so there the remainder may be negative; it is then treated as 0.
#[derive(Debug, Clone)]
pub struct Relation {
    /// The total's cell.
    pub total: usize,
    /// The parts' cells.
    pub parts: Vec<usize>,
}

/// Cells, their sums and which are withheld.
#[derive(Debug, Clone, Default)]
pub struct Table {
    values: Vec<u64>,
    /// Whether the small-count rule applies to the cell itself (a count of households or
    /// visits); other cells are only withheld to protect one that is.
    checked: Vec<bool>,
    hidden: Vec<bool>,
    followers: Vec<Vec<usize>>,
    relations: Vec<Relation>,
    /// Unpublished cells, withheld when small but not 0 (see [`Table::rest`]).
    positive: Vec<usize>,
    /// Names across snapshots (see [`release`]).
    keys: Vec<Option<Key>>,
    /// Cells withheld by the last snapshot: taken first when one must be withheld for another.
    preferred: Vec<bool>,
    /// The sums of this snapshot itself (those after it are over steps).
    own_relations: usize,
    /// Each sum's name across snapshots (see [`release`]), once computed.
    relation_ids: Vec<Option<u64>>,
}

impl Table {
    /// An empty table.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a count; returns its cell.
    pub fn cell(&mut self, value: u64) -> usize {
        self.values.push(value);
        self.checked.push(true);
        self.hidden.push(false);
        self.followers.push(Vec::new());
        self.preferred.push(false);
        self.values.len() - 1
    }

    /// Adds a count that is never published but follows from others (what lies in a ward
    /// outside its neighbourhoods): withheld when it is 1 to `k − 1`; a 0 there says nothing
    /// about anyone.
    pub fn rest(&mut self, value: u64) -> usize {
        let c = self.cell(value);
        self.checked[c] = false;
        self.positive.push(c);
        c
    }

    /// Adds a sum over cells already added.
    pub fn relate(&mut self, total: usize, parts: Vec<usize>) {
        self.relations.push(Relation { total, parts });
    }

    /// `follower` is withheld whenever `leader` is.
    pub fn follow(&mut self, leader: usize, follower: usize) {
        self.followers[leader].push(follower);
    }

    /// A cell's count.
    #[must_use]
    pub fn value(&self, cell: usize) -> u64 {
        self.values[cell]
    }

    /// The relations (for tests that play the adversary).
    #[must_use]
    pub fn relations(&self) -> &[Relation] {
        &self.relations
    }

    /// True when the cell is withheld (after [`Table::protect`]).
    #[must_use]
    pub fn hidden(&self, cell: usize) -> bool {
        self.hidden[cell]
    }

    fn hide(&mut self, cell: usize) {
        let mut stack = vec![cell];
        while let Some(c) = stack.pop() {
            if !self.hidden[c] {
                self.hidden[c] = true;
                stack.extend(self.followers[c].iter().copied());
            }
        }
    }

    /// Applies the rule with threshold `k`: primary suppression, then complementary suppression
    /// until every relation holds (see the module documentation). `k = 0` or 1 withholds
    /// nothing below it (only a 0 when k = 1).
    pub fn protect(&mut self, k: u64) {
        for c in 0..self.values.len() {
            if self.checked[c] && self.values[c] < k {
                self.hide(c);
            }
        }
        for i in 0..self.positive.len() {
            let c = self.positive[i];
            if self.values[c] > 0 && self.values[c] < k {
                self.hide(c);
            }
        }
        if k == 0 {
            return;
        }
        loop {
            let mut changed = false;
            for r in 0..self.relations.len() {
                while let Some(c) = self.violation(r, k) {
                    self.hide(c);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The next cell to withhold for relation `r` to hold, if it does not.
    fn violation(&self, r: usize, k: u64) -> Option<usize> {
        let rel = &self.relations[r];
        let mut hidden_parts = 0usize;
        let mut shown_sum = 0u64;
        // Smallest shown part, and smallest shown part with a positive count.
        let mut smallest: Option<usize> = None;
        let mut smallest_positive: Option<usize> = None;
        let order = |c: usize| (!self.preferred[c], self.values[c], c);
        let smaller = |a: Option<usize>, b: usize| match a {
            Some(a) if order(a) <= order(b) => Some(a),
            _ => Some(b),
        };

        for &p in &rel.parts {
            if self.hidden[p] {
                hidden_parts += 1;
            } else {
                shown_sum = shown_sum.saturating_add(self.values[p]);
                smallest = smaller(smallest, p);
                if self.values[p] > 0 {
                    smallest_positive = smaller(smallest_positive, p);
                }
            }
        }
        let withhold_a_part = |prefer_positive: bool| {
            let pick = if prefer_positive {
                smallest_positive.or(smallest)
            } else {
                smallest
            };
            // No part left to withhold: withhold the total itself.
            Some(pick.unwrap_or(rel.total))
        };
        if self.hidden[rel.total] {
            // The total is unknown: with every part shown it would be the only unknown.
            return if hidden_parts == 0 { smallest } else { None };
        }
        let rest = self.values[rel.total].saturating_sub(shown_sum);
        if hidden_parts == 0 {
            return (rest > 0 && rest < k)
                .then(|| withhold_a_part(true))
                .flatten();
        }
        if self.own_relations > 0 && r >= self.own_relations {
            // A sum of steps: what its withheld steps add up to may be learnt when it is 0 or k
            // or more (a step that size would be shown anyway), never when it is 1 to k − 1.
            return (rest > 0 && rest < k)
                .then(|| withhold_a_part(true))
                .flatten();
        }
        if rest < k {
            return withhold_a_part(true);
        }
        if hidden_parts == 1 {
            return withhold_a_part(false);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parent and its children: `[total, parts…]`.
    fn family(values: &[u64]) -> (Table, Vec<usize>) {
        let mut t = Table::new();
        let cells: Vec<usize> = values.iter().map(|&v| t.cell(v)).collect();
        t.relate(cells[0], cells[1..].to_vec());
        (t, cells)
    }

    fn hidden(t: &Table, cells: &[usize]) -> Vec<bool> {
        cells.iter().map(|&c| t.hidden(c)).collect()
    }

    #[test]
    fn nothing_small_nothing_withheld() {
        let (mut t, c) = family(&[30, 10, 20]);
        t.protect(5);
        assert_eq!(hidden(&t, &c), [false, false, false]);
    }

    #[test]
    fn one_small_child_takes_its_smallest_sibling_with_it() {
        // 2 alone would be 40 − 10 − 28; with 10 withheld too the pair holds 12 ≥ 5.
        let (mut t, c) = family(&[40, 2, 10, 28]);
        t.protect(5);
        assert_eq!(hidden(&t, &c), [false, true, true, false]);
    }

    #[test]
    fn two_small_children_that_sum_below_k_take_a_third() {
        // 1 + 2 = 3 < 5 would still be a small count: 6 goes too (1 + 2 + 6 = 9).
        let (mut t, c) = family(&[40, 1, 2, 6, 31]);
        t.protect(5);
        assert_eq!(hidden(&t, &c), [false, true, true, true, false]);
    }

    #[test]
    fn zero_is_in_the_band() {
        let (mut t, c) = family(&[20, 0, 20]);
        t.protect(5);
        // 0 is withheld, and so is the other 20 (else 20 − 20 = 0 recovers it).
        assert_eq!(hidden(&t, &c), [false, true, true]);
    }

    #[test]
    fn a_small_remainder_is_protected_too() {
        // 33 − 10 − 20 = 3 households that no part covers.
        let (mut t, c) = family(&[33, 10, 20]);
        t.protect(5);
        assert_eq!(hidden(&t, &c), [false, true, true]);
    }

    #[test]
    fn a_withheld_total_needs_a_withheld_part() {
        let mut t = Table::new();
        let grand = t.cell(100);
        let small = t.cell(3);
        let big = t.cell(60);
        let other = t.cell(37);
        t.relate(grand, vec![small, big, other]);
        let kids: Vec<usize> = [25, 35].iter().map(|&v| t.cell(v)).collect();
        t.relate(big, kids.clone());
        t.protect(5);
        // 3 takes its smallest sibling, 37.
        assert!(t.hidden(small) && t.hidden(other) && !t.hidden(big));
        assert!(!t.hidden(kids[0]) && !t.hidden(kids[1]));
        // With 60 withheld instead, one of its parts must be too (else 25 + 35 recovers it).
        let mut t2 = Table::new();
        let grand = t2.cell(100);
        let small = t2.cell(3);
        let big = t2.cell(60);
        let other = t2.cell(37);
        t2.relate(grand, vec![small, big, other]);
        let kids: Vec<usize> = [25, 35].iter().map(|&v| t2.cell(v)).collect();
        t2.relate(big, kids.clone());
        t2.hide(big);
        t2.protect(5);
        assert!(t2.hidden(kids[0]) && !t2.hidden(kids[1]));
    }

    #[test]
    fn followers_go_with_their_leader() {
        let mut t = Table::new();
        let households = t.cell(3);
        let visits = t.cell(12);
        t.follow(households, visits);
        t.protect(5);
        assert!(t.hidden(visits));
    }

    #[test]
    fn no_relation_is_left_with_one_unknown_or_a_small_gap() {
        // A pseudo-random three-level tree, checked against the two conditions directly.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % 9
        };
        let mut t = Table::new();
        let mut leaves = Vec::new();
        let mut mids = Vec::new();
        for _ in 0..6 {
            let kids: Vec<u64> = (0..4).map(|_| next()).collect();
            let sum: u64 = kids.iter().sum();
            let cells: Vec<usize> = kids.iter().map(|&v| t.cell(v)).collect();
            let mid = t.cell(sum);
            t.relate(mid, cells.clone());
            leaves.extend(cells);
            mids.push(mid);
        }
        let top_value = mids.iter().map(|&m| t.value(m)).sum();
        let top = t.cell(top_value);
        t.relate(top, mids.clone());
        t.protect(5);
        for r in t.relations() {
            let unknown =
                usize::from(t.hidden(r.total)) + r.parts.iter().filter(|&&p| t.hidden(p)).count();
            assert_ne!(unknown, 1);
            if !t.hidden(r.total) && unknown > 0 {
                let shown: u64 = r
                    .parts
                    .iter()
                    .filter(|&&p| !t.hidden(p))
                    .map(|&p| t.value(p))
                    .sum();
                assert!(t.value(r.total) - shown >= 5);
            }
        }
        for &c in &leaves {
            if t.value(c) < 5 {
                assert!(t.hidden(c));
            }
        }
    }
}
