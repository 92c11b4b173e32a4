//! Allocation of new volunteers, in pairs, so that the latest projected completion across areas
//! is as early as possible (min–max), optionally with a few moves of existing pairs.
//!
//! Model: an area with `remaining` households to reach, a per-member pace `rate` (households per
//! member per day: observed, or the fallback) and `members` finishes in
//! `T = remaining / (rate × members)` days (0 when nothing remains; infinite without members).
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

use serde::Serialize;

/// One area as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanArea {
    /// Households still to reach for the target.
    pub remaining: f64,
    /// Households per member per day.
    pub rate: f64,
    /// Members now.
    pub members: u64,
    /// True when the area lacks a TNTN team of the norm size (preferred on ties).
    pub below_norm: bool,
    /// Residents per km² (preferred on ties, higher first).
    pub density: f64,
}

/// Days to finish with `members` members.
#[must_use]
pub fn completion_days(a: &PlanArea, members: u64) -> f64 {
    if a.remaining <= 0.0 {
        0.0
    } else if members == 0 || a.rate <= 0.0 {
        f64::INFINITY
    } else {
        #[allow(clippy::cast_precision_loss)]
        let m = members as f64;
        a.remaining / (a.rate * m)
    }
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

/// Gives `pairs` new pairs, then makes at most `max_moves` moves of existing pairs.
#[must_use]
pub fn allocate(areas: &[PlanArea], pairs: u64, max_moves: u64) -> Allocation {
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
        out.added[top.index] += 2;
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
        let b_after = completion_days(&areas[b], members_now(areas, &out, b) + 2);
        let b_now = completion_days(&areas[b], members_now(areas, &out, b));
        let donor = (0..n)
            .filter(|&d| d != b && members_now(areas, &out, d) >= 4)
            .map(|d| {
                (
                    completion_days(&areas[d], members_now(areas, &out, d) - 2),
                    d,
                )
            })
            .min_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        match donor {
            Some((d_after, d)) if d_after < b_now && b_after < b_now => {
                out.moved_out[d] += 2;
                out.moved_in[b] += 2;
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

    fn area(remaining: f64, rate: f64, members: u64) -> PlanArea {
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
        let areas = [area(100.0, 1.0, 2), area(30.0, 1.0, 2)];
        let a = allocate(&areas, 2, 0);
        // Pair 1 → A (25 days); pair 2 → A again (100 / 6 = 16.7 > 15).
        assert_eq!(a.added, vec![4, 0]);
        assert!((a.max_days_before - 50.0).abs() < 1e-12);
        assert!((a.max_days_after - 100.0 / 6.0).abs() < 1e-12);
        assert_eq!(a.added.iter().sum::<u64>() % 2, 0);
    }

    #[test]
    fn areas_without_members_come_first_and_done_areas_get_nobody() {
        let areas = [area(0.0, 1.0, 2), area(10.0, 1.0, 0), area(50.0, 1.0, 10)];
        let a = allocate(&areas, 1, 0);
        assert_eq!(a.added, vec![0, 2, 0]);
        let all_done = [area(0.0, 1.0, 2)];
        assert_eq!(allocate(&all_done, 5, 0).added, vec![0]);
    }

    #[test]
    fn greedy_matches_exhaustive_search() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for case in 0..300 {
            let n = rng.random_range(1..=4);
            let areas: Vec<PlanArea> = (0..n)
                .map(|_| {
                    area(
                        f64::from(rng.random_range(0..400_u32)),
                        rng.random_range(0.5..3.0),
                        rng.random_range(0..6_u64),
                    )
                })
                .collect();
            let pairs = rng.random_range(0..=6);
            let got = allocate(&areas, pairs, 0);
            let best = exhaustive(&areas, pairs);
            assert!(
                got.max_days_after == best || (got.max_days_after - best).abs() < 1e-9,
                "case {case}: {areas:?} pairs {pairs}: greedy {} vs best {best}",
                got.max_days_after
            );
            assert_eq!(
                got.added.iter().sum::<u64>(),
                if areas.iter().all(|a| a.remaining <= 0.0) {
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
        let areas = [area(50.0, 1.0, 10), area(200.0, 1.0, 2)];
        let a = allocate(&areas, 0, 3);
        assert_eq!(
            (a.moved_out.clone(), a.moved_in.clone()),
            (vec![6, 0], vec![0, 6])
        );
        // After 3 moves: A 4 members → 12.5 days; B 8 members → 25 days.
        assert!((a.max_days_after - 25.0).abs() < 1e-12);
        assert!(a.max_days_after < a.max_days_before);
    }
}

/// One area in a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRow {
    /// Area code.
    pub code: String,
    /// Display name.
    pub name: String,
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
    pub completion_before: Option<chrono::NaiveDate>,
    /// Projected completion after.
    pub completion_after: Option<chrono::NaiveDate>,
    /// Completion after on or before the deadline.
    pub on_track_after: bool,
    /// Why, in English.
    pub reason: String,
    /// Why, in Vietnamese.
    pub reason_vi: String,
}

/// A plan for the areas of one level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Level planned.
    pub level: crate::model::Level,
    /// Volunteers offered.
    pub volunteers: u64,
    /// Volunteers placed (pairs × 2; an odd one and any not needed are left over).
    pub volunteers_placed: u64,
    /// Moves allowed.
    pub max_moves: u64,
    /// Members moved.
    pub members_moved: u64,
    /// Latest completion across the level before the plan (none: some area has no pace).
    pub completion_before: Option<chrono::NaiveDate>,
    /// Latest completion after.
    pub completion_after: Option<chrono::NaiveDate>,
    /// The deadline.
    pub deadline: chrono::NaiveDate,
    /// Areas the plan changes, most members added first.
    pub rows: Vec<PlanRow>,
}

fn date_after(as_of: chrono::NaiveDate, days: f64) -> Option<chrono::NaiveDate> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let d = days.ceil() as u64;
    days.is_finite()
        .then(|| as_of.checked_add_days(chrono::Days::new(d)))
        .flatten()
}

/// Plans `volunteers` new members (in pairs) and at most `max_moves` moves over the areas of
/// `level`, with the engine's current figures.
#[must_use]
pub fn plan(
    engine: &crate::Engine,
    level: crate::model::Level,
    volunteers: u64,
    max_moves: u64,
) -> Plan {
    use crate::priority::{Lang, int};
    let campaign = engine.campaign();
    let as_of = engine.as_of();
    let positions: Vec<usize> = (0..engine.areas().len())
        .filter(|&i| engine.areas()[i].level == level)
        .collect();
    let areas: Vec<PlanArea> = positions
        .iter()
        .map(|&i| {
            let t = &engine.totals()[i];
            let f = &engine.figures()[i];
            PlanArea {
                #[allow(clippy::cast_precision_loss)]
                remaining: f.remaining_households as f64,
                rate: crate::metrics::per_member_rate(t, campaign, engine.as_of_day()).0,
                members: t.members,
                below_norm: t.neighbourhoods_below_norm > 0,
                density: f.density_per_km2,
            }
        })
        .collect();
    let a = allocate(&areas, volunteers / 2, max_moves);
    let deadline = campaign.deadline();
    let mut rows: Vec<PlanRow> = positions
        .iter()
        .enumerate()
        .filter(|(k, _)| a.added[*k] + a.moved_in[*k] + a.moved_out[*k] > 0)
        .map(|(k, &i)| {
            let after = areas[k].members + a.added[k] + a.moved_in[k] - a.moved_out[k];
            let before_date = date_after(as_of, completion_days(&areas[k], areas[k].members));
            let after_date = date_after(as_of, completion_days(&areas[k], after));
            let f = &engine.figures()[i];
            let show = |d: Option<chrono::NaiveDate>, l: Lang| {
                d.map_or_else(
                    || {
                        if l == Lang::En {
                            "never".to_owned()
                        } else {
                            "chưa xác định".to_owned()
                        }
                    },
                    |d| {
                        if l == Lang::En {
                            d.to_string()
                        } else {
                            d.format("%d/%m/%Y").to_string()
                        }
                    },
                )
            };
            #[allow(clippy::cast_precision_loss)]
            let change = |l: Lang| {
                let mut parts = Vec::new();
                if a.added[k] > 0 {
                    parts.push(if l == Lang::En {
                        format!("+{} new members ({} pairs)", a.added[k], a.added[k] / 2)
                    } else {
                        format!("+{} thành viên mới ({} cặp)", a.added[k], a.added[k] / 2)
                    });
                }
                if a.moved_in[k] > 0 {
                    parts.push(if l == Lang::En {
                        format!("+{} moved in", a.moved_in[k])
                    } else {
                        format!("+{} điều chuyển đến", a.moved_in[k])
                    });
                }
                if a.moved_out[k] > 0 {
                    parts.push(if l == Lang::En {
                        format!("−{} moved out (finishes early)", a.moved_out[k])
                    } else {
                        format!("−{} điều chuyển đi (xong sớm)", a.moved_out[k])
                    });
                }
                let cov = int(f.coverage_ratio.unwrap_or(0.0) * 100.0, l);
                let dens = int(f.density_per_km2, l);
                match l {
                    Lang::En => format!(
                        "{}: completion {} → {}; {cov}% reached, {dens} people/km²",
                        parts.join(", "),
                        show(before_date, l),
                        show(after_date, l)
                    ),
                    Lang::Vi => format!(
                        "{}: hoàn thành {} → {}; đã tiếp cận {cov}%, {dens} người/km²",
                        parts.join(", "),
                        show(before_date, l),
                        show(after_date, l)
                    ),
                }
            };
            PlanRow {
                code: f.code.clone(),
                name: f.name.clone(),
                members_before: areas[k].members,
                members_added: a.added[k],
                members_moved_in: a.moved_in[k],
                members_moved_out: a.moved_out[k],
                members_after: after,
                completion_before: before_date,
                completion_after: after_date,
                on_track_after: after_date.is_some_and(|d| d <= deadline),
                reason: change(Lang::En),
                reason_vi: change(Lang::Vi),
            }
        })
        .collect();
    rows.sort_by(|x, y| {
        y.members_added
            .cmp(&x.members_added)
            .then(y.members_moved_in.cmp(&x.members_moved_in))
            .then(x.code.cmp(&y.code))
    });
    Plan {
        level,
        volunteers,
        volunteers_placed: a.added.iter().sum(),
        max_moves,
        members_moved: a.moved_in.iter().sum(),
        completion_before: date_after(as_of, a.max_days_before),
        completion_after: date_after(as_of, a.max_days_after),
        deadline,
        rows,
    }
}
