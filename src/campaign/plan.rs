//! Allocation of new volunteers, in pairs, so that the latest projected completion across areas
//! is as early as possible (min–max), optionally with a few moves of existing pairs.
//!
//! Model: the one of [`crate::projection`]. Pairs go to the *leaf* areas (neighbourhoods in the
//! bundled data), where members work; an area with `remaining` households to reach, a per-member
//! pace `rate` and `members` finishes in `T = remaining / (rate × members)` days (0 when nothing
//! remains; infinite without members), reported as `ceil(T)`. A plan asked at a coarser level
//! (ward, former district, province) places the same pairs on the leaves and reports each area of
//! that level as the sum of its leaves, with the completion of its slowest leaf: the same answer
//! whatever level is asked. A level finer than the leaves is refused.
//!
//! **Meeting the deadline**: the fewest new volunteers that finish every area by the deadline is
//! the sum of the leaves' `members_needed` (each the smallest number of pairs that brings that
//! leaf to the deadline); the greedy below, given exactly that many pairs, gives each leaf exactly
//! its `members_needed` (every pair goes to a leaf still late, hence still short of its need).
//!
//! **Allocation** is greedy on the bottleneck: each pair goes to the area with the largest `T`
//! (ties: areas below the TNTN norm first, then higher density, then input order). Because every
//! `T` falls as members are added and areas are independent, this minimises the maximum `T` for
//! any number of pairs (the test compares it with exhaustive search). O((n + pairs) log n).
//!
//! **Moves** (at most `max_moves`): while the bottleneck can be improved, one pair moves from the
//! area whose completion after losing it is earliest (it keeps at least one pair) to the
//! bottleneck, provided that donor still finishes before the bottleneck's new completion. Greedy,
//! not proven optimal.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::model::Level;
use crate::priority::{Lang, int, plural};

/// One area as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanArea {
    /// Households still to reach for the target.
    pub remaining: u64,
    /// Households per member per day.
    pub rate: f64,
    /// Members now.
    pub members: u64,
    /// True when the area lacks a TNTN team of the norm size (preferred on ties).
    pub below_norm: bool,
    /// Residents per km² (preferred on ties, higher first).
    pub density: f64,
}

/// Days to finish with `members` members, unrounded ([`crate::projection::continuous_days`]).
#[must_use]
pub fn completion_days(a: &PlanArea, members: u64) -> f64 {
    crate::projection::continuous_days(a.remaining, a.rate, members)
}

/// The planner's answer, per area in input order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Allocation {
    /// New members given (even: pairs).
    pub added: Vec<u64>,
    /// Existing members moved in.
    pub moved_in: Vec<u64>,
    /// Existing members moved out.
    pub moved_out: Vec<u64>,
    /// The largest completion in days, before and after.
    pub max_days_before: f64,
    /// See `max_days_before`.
    pub max_days_after: f64,
}

#[derive(PartialEq)]
struct Key {
    days: f64,
    below_norm: bool,
    density: f64,
    index: usize,
}

impl Eq for Key {}

impl Ord for Key {
    fn cmp(&self, o: &Self) -> Ordering {
        self.days
            .total_cmp(&o.days)
            .then(self.below_norm.cmp(&o.below_norm))
            .then(self.density.total_cmp(&o.density))
            .then(o.index.cmp(&self.index))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

fn members_now(areas: &[PlanArea], a: &Allocation, i: usize) -> u64 {
    areas[i].members + a.added[i] + a.moved_in[i] - a.moved_out[i]
}

fn max_days(areas: &[PlanArea], a: &Allocation) -> f64 {
    (0..areas.len())
        .map(|i| completion_days(&areas[i], members_now(areas, a, i)))
        .fold(0.0, f64::max)
}

/// Gives `pairs` new groups of `group` members (pairs: 2), then makes at most `max_moves` moves of
/// existing groups.
#[must_use]
pub fn allocate(areas: &[PlanArea], pairs: u64, max_moves: u64, group: u64) -> Allocation {
    let group = group.max(1);
    let n = areas.len();
    let mut out = Allocation {
        added: vec![0; n],
        moved_in: vec![0; n],
        moved_out: vec![0; n],
        max_days_before: 0.0,
        max_days_after: 0.0,
    };
    out.max_days_before = max_days(areas, &out);
    let key = |i: usize, members: u64| Key {
        days: completion_days(&areas[i], members),
        below_norm: areas[i].below_norm,
        density: areas[i].density,
        index: i,
    };
    let mut heap: BinaryHeap<Key> = (0..n).map(|i| key(i, areas[i].members)).collect();
    for _ in 0..pairs {
        let Some(top) = heap.pop() else { break };
        if top.days <= 0.0 {
            heap.push(top);
            break; // every area is done: extra volunteers would change nothing
        }
        out.added[top.index] += group;
        heap.push(key(
            top.index,
            areas[top.index].members + out.added[top.index],
        ));
    }
    for _ in 0..max_moves {
        let Some(b) = (0..n).max_by(|&x, &y| {
            key(x, members_now(areas, &out, x)).cmp(&key(y, members_now(areas, &out, y)))
        }) else {
            break;
        };
        let b_after = completion_days(&areas[b], members_now(areas, &out, b) + group);
        let b_now = completion_days(&areas[b], members_now(areas, &out, b));
        let donor = (0..n)
            .filter(|&d| d != b && members_now(areas, &out, d) >= 2 * group)
            .map(|d| {
                (
                    completion_days(&areas[d], members_now(areas, &out, d) - group),
                    d,
                )
            })
            .min_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        match donor {
            Some((d_after, d)) if d_after < b_now && b_after < b_now => {
                out.moved_out[d] += group;
                out.moved_in[b] += group;
            }
            _ => break,
        }
    }
    out.max_days_after = max_days(areas, &out);
    out
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn area(remaining: u64, rate: f64, members: u64) -> PlanArea {
        PlanArea {
            remaining,
            rate,
            members,
            below_norm: true,
            density: 1.0,
        }
    }

    /// The best possible maximum completion over every way to place `pairs` pairs.
    fn exhaustive(areas: &[PlanArea], pairs: u64) -> f64 {
        fn go(areas: &[PlanArea], i: usize, left: u64, given: &mut Vec<u64>, best: &mut f64) {
            if i == areas.len() {
                let worst = (0..areas.len())
                    .map(|k| completion_days(&areas[k], areas[k].members + 2 * given[k]))
                    .fold(0.0, f64::max);
                *best = best.min(worst);
                return;
            }
            for p in 0..=left {
                given[i] = p;
                go(areas, i + 1, left - p, given, best);
            }
            given[i] = 0;
        }
        let mut best = f64::INFINITY;
        go(areas, 0, pairs, &mut vec![0; areas.len()], &mut best);
        best
    }

    #[test]
    fn hand_checked_allocation() {
        // A: 100 left at 1/member/day with 2 members → 50 days; B: 30 left, 2 members → 15 days.
        let areas = [area(100, 1.0, 2), area(30, 1.0, 2)];
        let a = allocate(&areas, 2, 0, 2);
        // Pair 1 → A (25 days); pair 2 → A again (100 / 6 = 16.7 > 15).
        assert_eq!(a.added, vec![4, 0]);
        assert!((a.max_days_before - 50.0).abs() < 1e-12);
        assert!((a.max_days_after - 100.0 / 6.0).abs() < 1e-12);
        assert_eq!(a.added.iter().sum::<u64>() % 2, 0);
    }

    #[test]
    fn areas_without_members_come_first_and_done_areas_get_nobody() {
        let areas = [area(0, 1.0, 2), area(10, 1.0, 0), area(50, 1.0, 10)];
        let a = allocate(&areas, 1, 0, 2);
        assert_eq!(a.added, vec![0, 2, 0]);
        let all_done = [area(0, 1.0, 2)];
        assert_eq!(allocate(&all_done, 5, 0, 2).added, vec![0]);
    }

    #[test]
    fn greedy_matches_exhaustive_search() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for case in 0..300 {
            let n = rng.random_range(1..=4);
            let areas: Vec<PlanArea> = (0..n)
                .map(|_| {
                    area(
                        rng.random_range(0..400_u64),
                        rng.random_range(0.5..3.0),
                        rng.random_range(0..6_u64),
                    )
                })
                .collect();
            let pairs = rng.random_range(0..=6);
            let got = allocate(&areas, pairs, 0, 2);
            let best = exhaustive(&areas, pairs);
            assert!(
                got.max_days_after == best || (got.max_days_after - best).abs() < 1e-9,
                "case {case}: {areas:?} pairs {pairs}: greedy {} vs best {best}",
                got.max_days_after
            );
            assert_eq!(
                got.added.iter().sum::<u64>(),
                if areas.iter().all(|a| a.remaining == 0) {
                    0
                } else {
                    2 * pairs
                }
            );
        }
    }

    #[test]
    fn moves_shift_pairs_from_early_finishers_to_the_bottleneck() {
        // A finishes in 5 days with 10 members; B needs 100 days with 2 members.
        let areas = [area(50, 1.0, 10), area(200, 1.0, 2)];
        let a = allocate(&areas, 0, 3, 2);
        assert_eq!(
            (a.moved_out.clone(), a.moved_in.clone()),
            (vec![6, 0], vec![0, 6])
        );
        // After 3 moves: A 4 members → 12.5 days; B 8 members → 25 days.
        assert!((a.max_days_after - 25.0).abs() < 1e-12);
        assert!(a.max_days_after < a.max_days_before);
    }

    /// On random instances: the sum of the leaves' members needed is exactly the number of
    /// volunteers the planner needs to finish every area within the days left.
    #[test]
    fn members_needed_sum_is_the_volunteers_that_meet_the_deadline() {
        use crate::projection::{finishes_within, members_needed};
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for case in 0..2_000 {
            let n = rng.random_range(1..=12);
            let days_left = rng.random_range(1..=40_i64);
            let areas: Vec<PlanArea> = (0..n)
                .map(|_| {
                    area(
                        rng.random_range(0..3_000_u64),
                        rng.random_range(0.2..12.0),
                        rng.random_range(0..12_u64),
                    )
                })
                .collect();
            let needed: Vec<u64> = areas
                .iter()
                .map(|a| members_needed(a.remaining, a.rate, a.members, days_left, 2).unwrap())
                .collect();
            let k: u64 = needed.iter().sum();
            let all_finish = |al: &Allocation| {
                areas.iter().enumerate().all(|(i, a)| {
                    finishes_within(a.remaining, a.rate, a.members + al.added[i], days_left)
                })
            };
            let got = allocate(&areas, k / 2, 0, 2);
            assert!(all_finish(&got), "case {case}: K = {k} does not finish");
            assert_eq!(
                got.added, needed,
                "case {case}: each area gets exactly its need"
            );
            if k > 0 {
                let fewer = allocate(&areas, k / 2 - 1, 0, 2);
                assert!(
                    !all_finish(&fewer),
                    "case {case}: K − 2 = {} finishes",
                    k - 2
                );
            }
        }
    }
}

/// One area in a plan.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize)]
pub struct PlanRow {
    /// Area code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Level of the area.
    pub level: Level,
    /// Members before the plan.
    pub members_before: u64,
    /// New members (pairs).
    pub members_added: u64,
    /// Existing members moved in.
    pub members_moved_in: u64,
    /// Existing members moved out.
    pub members_moved_out: u64,
    /// Members after the plan.
    pub members_after: u64,
    /// Projected completion before (none: no projection).
    pub completion_before: Option<NaiveDate>,
    /// Projected completion after.
    pub completion_after: Option<NaiveDate>,
    /// Completion after on or before the deadline.
    #[schema(nullable)]
    pub on_track_after: bool,
    /// Why, in English.
    pub reason: String,
    /// Why, in Vietnamese.
    pub reason_vi: String,
}

/// A leaf area that no number of volunteers brings to the deadline.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize)]
pub struct OutOfReach {
    /// Area code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Why, in English.
    pub reason: String,
    /// Why, in Vietnamese.
    pub reason_vi: String,
}

/// How many new volunteers to place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Volunteers {
    /// Exactly this many (an odd one is left over).
    Count(u64),
    /// The fewest that finish every area by the deadline.
    MeetDeadline,
}

/// A plan for the areas of one level.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Level the rows are given at.
    pub level: Level,
    /// Level the pairs are placed at (the leaves: where members work).
    pub placed_at: Level,
    /// True when the number of volunteers is the fewest that meet the deadline.
    pub meet_deadline: bool,
    /// Volunteers offered (with `meet_deadline`: the fewest that finish every area in time).
    pub volunteers: u64,
    /// Volunteers placed (whole pairs; an odd one and any not needed are left over).
    pub volunteers_placed: u64,
    /// Moves allowed.
    pub max_moves: u64,
    /// Members moved.
    pub members_moved: u64,
    /// Latest completion across every area before the plan (none: some area has no pace).
    pub completion_before: Option<NaiveDate>,
    /// Latest completion after.
    pub completion_after: Option<NaiveDate>,
    /// The deadline.
    pub deadline: NaiveDate,
    /// True when every area finishes by the deadline after the plan.
    pub on_time_after: bool,
    /// Leaf areas still late after the plan.
    pub areas_late_after: u64,
    /// Leaf areas that no number of volunteers brings to the deadline, and why.
    pub out_of_reach: Vec<OutOfReach>,
    /// The answer in one sentence, in English.
    pub summary: String,
    /// The answer in one sentence, in Vietnamese.
    pub summary_vi: String,
    /// Areas of `level` the plan changes, most members added first.
    pub rows: Vec<PlanRow>,
    /// When `level` is coarser than `placed_at`: the leaf areas the plan changes, in the same
    /// order (empty otherwise).
    pub placements: Vec<PlanRow>,
}

/// Why a plan cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The level asked is finer than the areas members are counted in.
    #[error(
        "level {asked}: this data has no {asked} areas below the {leaf}s (no {asked} boundaries were loaded); plan at level {leaf} or coarser"
    )]
    LevelBelowLeaves {
        /// Level asked.
        asked: Level,
        /// The leaf level.
        leaf: Level,
    },
    /// No area at the level asked (a country level for one province's data).
    #[error("level {asked}: this data has no {asked}; plan at one of the levels it has: {have}")]
    NoAreasAtLevel {
        /// Level asked.
        asked: Level,
        /// The levels with areas, coarsest first.
        have: String,
    },
    /// `meet_deadline` with moves.
    #[error(
        "meet_deadline counts new volunteers only; moves of existing pairs cannot be combined with it (ask without moves, or give a number of volunteers with moves)"
    )]
    MeetDeadlineWithMoves,
}

fn date_after(as_of: NaiveDate, days: Option<u64>) -> Option<NaiveDate> {
    days.and_then(|d| as_of.checked_add_days(chrono::Days::new(d)))
}

fn show_date(d: Option<NaiveDate>, l: Lang) -> String {
    match (d, l) {
        (None, Lang::En) => "never (no members)".to_owned(),
        (None, Lang::Vi) => "chưa xác định (chưa có thành viên)".to_owned(),
        (Some(d), Lang::En) => d.to_string(),
        (Some(d), Lang::Vi) => d.format("%d/%m/%Y").to_string(),
    }
}

/// Plans new members (in pairs) and at most `max_moves` moves with the engine's current figures,
/// and reports it at `level`.
///
/// # Errors
/// [`PlanError`] when the level is finer than the leaves, or `meet_deadline` is asked with moves.
#[expect(
    clippy::too_many_lines,
    reason = "one pass: leaves, allocation, roll-up to the level, sentences"
)]
pub fn plan(
    engine: &crate::Engine,
    level: Level,
    volunteers: Volunteers,
    max_moves: u64,
) -> Result<Plan, PlanError> {
    let leaf_level = engine.leaf_level();
    if level > leaf_level {
        return Err(PlanError::LevelBelowLeaves {
            asked: level,
            leaf: leaf_level,
        });
    }
    if engine.figures_at(level).next().is_none() {
        let have: Vec<&str> = Level::ALL
            .into_iter()
            .filter(|l| engine.figures_at(*l).next().is_some())
            .map(Level::as_str)
            .collect();
        return Err(PlanError::NoAreasAtLevel {
            asked: level,
            have: have.join(", "),
        });
    }
    if volunteers == Volunteers::MeetDeadline && max_moves > 0 {
        return Err(PlanError::MeetDeadlineWithMoves);
    }
    let campaign = engine.campaign();
    let as_of = engine.as_of();
    let deadline = campaign.deadline();
    let group = u64::from(campaign.members_per_group);
    let leaves = engine.leaves();
    let areas: Vec<PlanArea> = leaves
        .iter()
        .map(|&i| {
            let t = &engine.totals()[i];
            let f = &engine.figures()[i];
            PlanArea {
                remaining: f.remaining_households,
                rate: crate::metrics::per_member_rate(t, campaign, engine.as_of_day()).0,
                members: t.members,
                below_norm: t.neighbourhoods_below_norm > 0,
                density: f.density_per_km2,
            }
        })
        .collect();
    let asked = match volunteers {
        Volunteers::Count(k) => k,
        Volunteers::MeetDeadline => leaves
            .iter()
            .map(|&i| engine.figures()[i].members_needed)
            .sum(),
    };
    let a = allocate(&areas, asked / group, max_moves, group);
    let days = |k: usize, members: u64| {
        crate::projection::days_to_finish(areas[k].remaining, areas[k].rate, members)
    };
    let after_members = |k: usize| areas[k].members + a.added[k] + a.moved_in[k] - a.moved_out[k];
    let before_days: Vec<Option<u64>> = (0..areas.len())
        .map(|k| days(k, areas[k].members))
        .collect();
    let after_days: Vec<Option<u64>> = (0..areas.len())
        .map(|k| days(k, after_members(k)))
        .collect();
    let days_left = crate::metrics::days_left(campaign, as_of);
    let late = |d: &Option<u64>| !d.is_some_and(|d| i64::try_from(d).is_ok_and(|d| d <= days_left));

    // The leaves' rows, then the same rolled up to `level` (each leaf's ancestor at `level`).
    let ancestor = |mut p: usize| {
        while engine.areas()[p].level > level {
            p = engine.areas()[p]
                .parent
                .expect("a leaf below `level` has an ancestor there");
        }
        p
    };
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut slot: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for (k, &leaf) in leaves.iter().enumerate() {
        let anc = ancestor(leaf);
        let g = *slot.entry(anc).or_insert_with(|| {
            groups.push((anc, Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(k);
    }
    let row = |area: usize, ks: &[usize]| -> PlanRow {
        let sum = |v: &dyn Fn(usize) -> u64| ks.iter().map(|&k| v(k)).sum::<u64>();
        let before = date_after(
            as_of,
            crate::projection::slowest(ks.iter().map(|&k| before_days[k])),
        );
        let after = date_after(
            as_of,
            crate::projection::slowest(ks.iter().map(|&k| after_days[k])),
        );
        let f = &engine.figures()[area];
        let (added, moved_in, moved_out) = (
            sum(&|k| a.added[k]),
            sum(&|k| a.moved_in[k]),
            sum(&|k| a.moved_out[k]),
        );
        let members_before = sum(&|k| areas[k].members);
        let change = |l: Lang| {
            let mut parts = Vec::new();
            if added > 0 {
                parts.push(match l {
                    Lang::En => format!(
                        "+{} ({})",
                        plural(added, "new member", "new members"),
                        plural(added / group, "pair", "pairs")
                    ),
                    Lang::Vi => format!("+{added} thành viên mới ({} cặp)", added / group),
                });
            }
            if moved_in > 0 {
                parts.push(match l {
                    Lang::En => format!("+{moved_in} moved in"),
                    Lang::Vi => format!("+{moved_in} điều chuyển đến"),
                });
            }
            if moved_out > 0 {
                parts.push(match l {
                    Lang::En => format!("−{moved_out} moved out (finishes early)"),
                    Lang::Vi => format!("−{moved_out} điều chuyển đi (xong sớm)"),
                });
            }
            let cov = int(f.coverage_ratio.unwrap_or(0.0) * 100.0, l);
            let dens = int(f.density_per_km2, l);
            match l {
                Lang::En => format!(
                    "{}: completion {} → {}; {cov}% reached, {dens} people/km²",
                    parts.join(", "),
                    show_date(before, l),
                    show_date(after, l)
                ),
                Lang::Vi => format!(
                    "{}: hoàn thành {} → {}; đã tiếp cận {cov}%, {dens} người/km²",
                    parts.join(", "),
                    show_date(before, l),
                    show_date(after, l)
                ),
            }
        };
        PlanRow {
            code: f.code.clone(),
            name: f.name.clone(),
            level: f.level,
            members_before,
            members_added: added,
            members_moved_in: moved_in,
            members_moved_out: moved_out,
            members_after: members_before + added + moved_in - moved_out,
            completion_before: before,
            completion_after: after,
            on_track_after: after.is_some_and(|d| d <= deadline),
            reason: change(Lang::En),
            reason_vi: change(Lang::Vi),
        }
    };
    let changed = |ks: &[usize]| {
        ks.iter()
            .any(|&k| a.added[k] + a.moved_in[k] + a.moved_out[k] > 0)
    };
    let order = |rows: &mut Vec<PlanRow>| {
        rows.sort_by(|x, y| {
            y.members_added
                .cmp(&x.members_added)
                .then(y.members_moved_in.cmp(&x.members_moved_in))
                .then(x.code.cmp(&y.code))
        });
    };
    let mut rows: Vec<PlanRow> = groups
        .iter()
        .filter(|(_, ks)| changed(ks))
        .map(|(anc, ks)| row(*anc, ks))
        .collect();
    order(&mut rows);
    let mut placements: Vec<PlanRow> = if level == leaf_level {
        Vec::new()
    } else {
        (0..leaves.len())
            .filter(|&k| changed(&[k]))
            .map(|k| row(leaves[k], &[k]))
            .collect()
    };
    order(&mut placements);
    let out_of_reach: Vec<OutOfReach> = leaves
        .iter()
        .filter(|&&i| engine.totals()[i].out_of_reach > 0)
        .map(|&i| {
            let f = &engine.figures()[i];
            OutOfReach {
                code: f.code.clone(),
                name: f.name.clone(),
                reason: format!(
                    "{} households still to reach and no day left before the deadline {deadline} (data as of {as_of})",
                    int(f.remaining_households as f64, Lang::En)
                ),
                reason_vi: format!(
                    "còn {} hộ chưa tiếp cận và không còn ngày nào trước hạn {} (số liệu đến {})",
                    int(f.remaining_households as f64, Lang::Vi),
                    deadline.format("%d/%m/%Y"),
                    as_of.format("%d/%m/%Y")
                ),
            }
        })
        .collect();
    let completion_before = date_after(
        as_of,
        crate::projection::slowest(before_days.iter().copied()),
    );
    let completion_after = date_after(
        as_of,
        crate::projection::slowest(after_days.iter().copied()),
    );
    let areas_late_after = after_days.iter().filter(|d| late(d)).count() as u64;
    let placed: u64 = a.added.iter().sum();
    let wards_touched = rows.len();
    let (summary, summary_vi) = summary_sentences(
        volunteers,
        placed,
        wards_touched,
        level,
        completion_after,
        deadline,
        areas_late_after,
        out_of_reach.len(),
        leaf_level,
    );
    Ok(Plan {
        level,
        placed_at: leaf_level,
        meet_deadline: volunteers == Volunteers::MeetDeadline,
        volunteers: asked,
        volunteers_placed: placed,
        max_moves,
        members_moved: a.moved_in.iter().sum(),
        completion_before,
        completion_after,
        deadline,
        on_time_after: areas_late_after == 0,
        areas_late_after,
        out_of_reach,
        summary,
        summary_vi,
        rows,
        placements,
    })
}

#[expect(clippy::too_many_arguments, reason = "the facts the sentence states")]
fn summary_sentences(
    volunteers: Volunteers,
    placed: u64,
    areas_changed: usize,
    level: Level,
    completion_after: Option<NaiveDate>,
    deadline: NaiveDate,
    late: u64,
    out_of_reach: usize,
    leaf: Level,
) -> (String, String) {
    let areas_en = plural(areas_changed as u64, level.as_str(), &format!("{level}s"));
    let when_en = show_date(completion_after, Lang::En);
    let when_vi = show_date(completion_after, Lang::Vi);
    let dl_vi = deadline.format("%d/%m/%Y");
    let tail_en = if late == 0 {
        format!("every area finishes by {when_en} (deadline {deadline})")
    } else {
        format!(
            "{} still late; the last finishes {when_en} (deadline {deadline})",
            plural(late, &format!("{leaf} is"), &format!("{leaf}s are"))
        )
    };
    let tail_vi = if late == 0 {
        format!("mọi địa bàn hoàn thành trước {when_vi} (hạn {dl_vi})")
    } else {
        format!("còn {late} địa bàn trễ hạn; địa bàn cuối xong {when_vi} (hạn {dl_vi})")
    };
    match volunteers {
        Volunteers::MeetDeadline if out_of_reach > 0 => (
            format!(
                "The deadline is out of reach for {} whatever the number of volunteers (no day left); for the others, {} new volunteers in {areas_en}",
                plural(out_of_reach as u64, "area", "areas"),
                int(placed as f64, Lang::En)
            ),
            format!(
                "{out_of_reach} địa bàn không thể kịp hạn dù thêm bao nhiêu người (không còn ngày nào); các địa bàn khác cần {} tình nguyện viên mới tại {areas_changed} địa bàn",
                int(placed as f64, Lang::Vi)
            ),
        ),
        Volunteers::MeetDeadline if placed == 0 => (
            format!("No new volunteers are needed: {tail_en}"),
            format!("Không cần thêm tình nguyện viên: {tail_vi}"),
        ),
        Volunteers::MeetDeadline => (
            format!(
                "{} new volunteers ({}) is the fewest that meets the deadline: they go to {areas_en}, and {tail_en}",
                int(placed as f64, Lang::En),
                plural(placed / 2, "pair", "pairs")
            ),
            format!(
                "Cần ít nhất {} tình nguyện viên mới ({} cặp) để kịp hạn, bố trí tại {areas_changed} địa bàn; {tail_vi}",
                int(placed as f64, Lang::Vi),
                placed / 2
            ),
        ),
        Volunteers::Count(k) => {
            let left = k.saturating_sub(placed);
            let (left_en, left_vi) = if left > 0 {
                (
                    format!(
                        " ({} left over: volunteers go in pairs, and only where still late)",
                        int(left as f64, Lang::En)
                    ),
                    format!(" (còn dư {left}: bố trí theo cặp, chỉ nơi còn trễ hạn)"),
                )
            } else {
                (String::new(), String::new())
            };
            (
                format!(
                    "{} of {} placed in {areas_en}{left_en}: {tail_en}",
                    int(placed as f64, Lang::En),
                    plural(k, "volunteer", "volunteers")
                ),
                format!(
                    "Đã bố trí {} / {k} tình nguyện viên tại {areas_changed} địa bàn{left_vi}: {tail_vi}",
                    int(placed as f64, Lang::Vi)
                ),
            )
        }
    }
}
