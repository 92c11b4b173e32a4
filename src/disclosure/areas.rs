//! The small-count rule over the areas: one [`Table`] holds, for every area (province, wards,
//! neighbourhoods), households reached, visits, visits per service, the recent window's new
//! households and visits, and per campaign day the new households, the cumulative households
//! and the visits. Its relations are the area tree (a parent is its children plus what lies in
//! it directly), the days (each day's cumulative count is the day before's plus that day's new
//! households; the totals and windows are sums of days) and the services (visits are the sum
//! over services). What the table withholds, [`AreaRule::apply`] turns into `null`s.

use serde_json::{Map, Value, json};

use super::Table;
use super::release::{Key, Release, key};
use crate::campaign::metrics::{Totals, window};
use crate::engine::Engine;
use crate::model::Service;

/// Property names withheld with households reached.
const WITH_HOUSEHOLDS: [&str; 3] = [
    "households_reached",
    "coverage_ratio",
    "remaining_households",
];

/// Property names withheld with the recent window's new households (the pace).
const WITH_WINDOW: [&str; 1] = ["new_households_per_day"];

/// Property names projected from both households reached and the pace: withheld with either.
const PROJECTED: [&str; 5] = [
    "days_to_target",
    "projected_completion",
    "on_track",
    "completion_optimistic",
    "completion_pessimistic",
];

/// The table's cells of one area.
struct Cells {
    households: usize,
    visits: usize,
    services: [usize; 5],
    funnel: [usize; 5],
    window_new: usize,
    window_visits: usize,
    daily_new: Vec<usize>,
    cumulative: Vec<usize>,
    daily_visits: Vec<usize>,
}

/// What is withheld of one area.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Withheld {
    /// Households reached and its ratios.
    pub households: bool,
    /// Visits.
    pub visits: bool,
    /// Visits per service ([`Service::ALL`] order).
    pub services: [bool; 5],
    /// The service funnel's households per service ([`Service::ALL`] order).
    pub funnel: [bool; 5],
    /// The pace of the recent window and the projections made from it.
    pub window_new: bool,
    /// Visits per member-day in the recent window.
    pub window_visits: bool,
    /// Per campaign day: new households.
    pub daily_new: Vec<bool>,
    /// Per campaign day: households reached so far.
    pub cumulative: Vec<bool>,
    /// Per campaign day: visits.
    pub daily_visits: Vec<bool>,
}

impl Withheld {
    /// True when what is projected from households reached and the pace (days to target,
    /// completion dates, on track) is withheld: with either of them.
    #[must_use]
    pub fn projected(&self) -> bool {
        self.households || self.window_new
    }

    fn nothing(days: usize) -> Self {
        Self {
            daily_new: vec![false; days],
            cumulative: vec![false; days],
            daily_visits: vec![false; days],
            ..Self::default()
        }
    }
}

/// The rule applied to one engine's areas.
#[derive(Debug, Clone)]
pub struct AreaRule {
    k: u64,
    /// No visit at all yet: the reasons say so instead of quoting the rule.
    no_visits: bool,
    days: usize,
    withheld: Vec<Withheld>,
}

/// The name of an area's count across snapshots: the area's code, whether it is the part of the
/// area outside its children, what is counted and the day.
fn name(code: &str, own: bool, what: &str, day: Option<usize>) -> Key {
    let day = day.map_or([0xff; 8], |d| (d as u64).to_le_bytes());
    key(&[code.as_bytes(), &[u8::from(own)], what.as_bytes(), &day])
}

fn add_cells(
    t: &mut Table,
    totals: &Totals,
    days: usize,
    w: (usize, usize),
    code: &str,
    published: bool,
) -> Cells {
    let sum = |s: &[u64], from: usize, n: usize| s.iter().skip(from).take(n).sum::<u64>();
    let own = !published;
    let cell = |t: &mut Table, v: u64, what: &str, day: Option<usize>| {
        let c = if published { t.cell(v) } else { t.rest(v) };
        t.name(c, name(code, own, what, day));
        c
    };
    let households = cell(t, totals.households_reached, "households", None);
    let visits = cell(t, totals.visits, "visits", None);
    let services = Service::ALL.map(|s| cell(t, totals.per_service[s.index()], s.as_str(), None));
    let funnel = Service::ALL.map(|s| {
        let what = format!("households_{}", s.as_str());
        cell(t, totals.funnel[s.index()], &what, None)
    });
    let window_new = cell(
        t,
        sum(&totals.daily_new_households, w.0, w.1),
        "window",
        None,
    );
    let window_visits = cell(
        t,
        sum(&totals.daily_visits, w.0, w.1),
        "window_visits",
        None,
    );
    let at = |s: &[u64], d: usize| s.get(d).copied().unwrap_or(0);
    let daily_new: Vec<usize> = (0..days)
        .map(|d| cell(t, at(&totals.daily_new_households, d), "new", Some(d)))
        .collect();
    let mut so_far = 0u64;
    let cumulative: Vec<usize> = (0..days)
        .map(|d| {
            so_far = so_far.saturating_add(at(&totals.daily_new_households, d));
            cell(t, so_far, "cumulative", Some(d))
        })
        .collect();
    let daily_visits: Vec<usize> = (0..days)
        .map(|d| cell(t, at(&totals.daily_visits, d), "visits", Some(d)))
        .collect();
    // Within the area: days, windows, services.
    for d in 0..days {
        let mut parts = vec![daily_new[d]];
        if d > 0 {
            parts.push(cumulative[d - 1]);
        }
        t.relate(cumulative[d], parts);
    }
    if let Some(&last) = cumulative.last() {
        t.relate(households, vec![last]);
    }
    t.relate(visits, daily_visits.clone());
    t.relate(visits, services.to_vec());
    t.relate(
        window_new,
        daily_new[w.0.min(days)..(w.0 + w.1).min(days)].to_vec(),
    );
    t.relate(
        window_visits,
        daily_visits[w.0.min(days)..(w.0 + w.1).min(days)].to_vec(),
    );
    t.follow(households, visits);
    for s in services.into_iter().chain(funnel) {
        t.follow(households, s);
    }
    Cells {
        households,
        visits,
        services,
        funnel,
        window_new,
        window_visits,
        daily_new,
        cumulative,
        daily_visits,
    }
}

impl AreaRule {
    /// Builds and protects the table of `engine`'s areas with threshold `k`, with nothing
    /// published before.
    #[must_use]
    pub fn new(engine: &Engine, k: u64) -> Self {
        Self::after(engine, k, &Release::default()).0
    }

    /// Builds and protects the table of `engine`'s areas with threshold `k`, against what was
    /// published before (see [`super::release`]); returns the rule and what it publishes.
    #[must_use]
    pub fn after(engine: &Engine, k: u64, prev: &Release) -> (Self, Release) {
        Self::build(engine, k, prev, false)
    }

    /// The rule for `engine` as of a past day ([`Engine::until`]), which is not published into
    /// the release chain: protected against `current` (the release of the newest snapshot: a
    /// count of a past day is shown only when it equals the newest one shown or differs from
    /// it by at least k, and what the newest withholds stays withheld), with the per-service
    /// counts (visits and funnel) withheld, since two past days apart would give one day's
    /// per-service counts, which no release protects.
    #[must_use]
    pub fn past(engine: &Engine, k: u64, current: &Release) -> Self {
        Self::build(engine, k, current, true).0
    }

    fn build(engine: &Engine, k: u64, prev: &Release, past: bool) -> (Self, Release) {
        let days = (engine.as_of_day() + 1) as usize;
        let w = window(engine.campaign(), engine.as_of_day());
        let mut t = Table::new();
        let cells: Vec<Cells> = engine
            .totals()
            .iter()
            .zip(engine.areas())
            .map(|(totals, a)| add_cells(&mut t, totals, days, w, a.code.as_str(), true))
            .collect();
        // The tree: a parent is its children plus what lies in it directly (its own cells, never
        // published, but a reader can subtract).
        for (i, a) in engine.areas().iter().enumerate() {
            if a.children.is_empty() {
                continue;
            }
            let own = add_cells(
                &mut t,
                &engine.own_totals()[i],
                days,
                w,
                a.code.as_str(),
                false,
            );
            let kids = || {
                a.children
                    .iter()
                    .map(|&j| &cells[j])
                    .chain(std::iter::once(&own))
            };
            let mut relate = |total: usize, parts: Vec<usize>| t.relate(total, parts);
            let p = &cells[i];
            relate(p.households, kids().map(|c| c.households).collect());
            relate(p.visits, kids().map(|c| c.visits).collect());
            relate(p.window_new, kids().map(|c| c.window_new).collect());
            relate(p.window_visits, kids().map(|c| c.window_visits).collect());
            for s in 0..5 {
                relate(p.services[s], kids().map(|c| c.services[s]).collect());
                relate(p.funnel[s], kids().map(|c| c.funnel[s]).collect());
            }
            for d in 0..days {
                relate(p.daily_new[d], kids().map(|c| c.daily_new[d]).collect());
                relate(p.cumulative[d], kids().map(|c| c.cumulative[d]).collect());
                relate(
                    p.daily_visits[d],
                    kids().map(|c| c.daily_visits[d]).collect(),
                );
            }
        }
        t.against(prev, false);
        if past {
            t.keep_withheld(prev);
        }
        t.protect(k);
        let hidden = |c: &[usize]| c.iter().map(|&c| t.hidden(c)).collect::<Vec<_>>();
        let withheld = cells
            .iter()
            .map(|c| Withheld {
                households: t.hidden(c.households),
                visits: t.hidden(c.visits),
                services: c.services.map(|s| past || t.hidden(s)),
                funnel: c.funnel.map(|s| past || t.hidden(s)),
                window_new: t.hidden(c.window_new),
                window_visits: t.hidden(c.window_visits),
                daily_new: hidden(&c.daily_new),
                cumulative: hidden(&c.cumulative),
                daily_visits: hidden(&c.daily_visits),
            })
            .collect();
        let release = t.release(prev);
        let no_visits = !engine.has_visits();
        (
            Self {
                k,
                no_visits,
                days,
                withheld,
            },
            release,
        )
    }

    /// What is withheld of area `i`.
    #[must_use]
    pub fn withheld(&self, i: usize) -> Withheld {
        self.withheld
            .get(i)
            .cloned()
            .unwrap_or_else(|| Withheld::nothing(self.days))
    }

    /// Sets to `null` what is withheld of area `i` in its JSON properties (the names of
    /// [`crate::metrics::Figures`]), and rewrites the reasons so they quote no withheld figure.
    pub fn apply(&self, i: usize, props: &mut Map<String, Value>) {
        let Some(w) = self.withheld.get(i) else {
            return;
        };
        let mut null = |name: &str| {
            if let Some(v) = props.get_mut(name) {
                *v = Value::Null;
            }
        };
        if w.households {
            WITH_HOUSEHOLDS.iter().for_each(|n| null(n));
        }
        if w.visits {
            null("visits");
        }
        if w.window_new {
            WITH_WINDOW.iter().for_each(|n| null(n));
        }
        if w.projected() {
            PROJECTED.iter().for_each(|n| null(n));
        }
        if w.window_visits {
            null("visits_per_member_day");
        }
        for s in Service::ALL {
            if w.services[s.index()] {
                null(&format!("visits_{}", s.as_str()));
            }
            if w.funnel[s.index()] {
                null(&format!("households_{}", s.as_str()));
            }
        }
        props.insert("withheld".into(), json!(w.projected()));
        for (name, vi) in [("reason", false), ("reason_vi", true)] {
            let Some(Value::String(reason)) = props.get_mut(name) else {
                continue;
            };
            if self.no_visits {
                *reason = no_visits_reason(vi).to_owned();
            } else if w.households {
                *reason = self.withheld_reason(vi);
            } else if w.window_new {
                // Density, helpers and coverage stay; the outlook (from the pace) goes.
                let head = reason.split(';').next().unwrap_or_default().to_owned();
                *reason = format!("{head}; {}", self.withheld_pace(vi));
            }
        }
    }

    fn withheld_pace(&self, vi: bool) -> String {
        if vi {
            format!("tiến độ gần đây được ẩn (dưới {} hộ mới)", self.k)
        } else {
            format!(
                "recent pace withheld (fewer than {} new households)",
                self.k
            )
        }
    }

    /// The sentence that replaces an area's reason when its figures are withheld.
    #[must_use]
    pub fn withheld_reason(&self, vi: bool) -> String {
        if vi {
            format!(
                "Số hộ đã tiếp cận và các dự báo được ẩn (dưới {} hộ, hoặc để không suy ra được một số nhỏ)",
                self.k
            )
        } else {
            format!(
                "Households reached and the projections withheld (fewer than {} households, or withheld so that a small count cannot be worked out)",
                self.k
            )
        }
    }

    /// Area `i`'s daily series, withheld days as `null`: dates, visits, new households and the
    /// cumulative households reached.
    #[must_use]
    pub fn series(&self, engine: &Engine, i: usize, full: bool) -> Value {
        let t = &engine.totals()[i];
        let c = engine.campaign();
        let w = if full {
            Withheld::nothing(self.days)
        } else {
            self.withheld(i)
        };
        let show = |hidden: &[bool], values: &mut dyn Iterator<Item = u64>| -> Vec<Value> {
            hidden
                .iter()
                .map(|&h| {
                    let v = values.next().unwrap_or(0);
                    if h { Value::Null } else { json!(v) }
                })
                .collect()
        };
        let mut so_far = 0u64;
        let mut cumulative = t.daily_new_households.iter().map(|&n| {
            so_far = so_far.saturating_add(n);
            so_far
        });
        let dates: Vec<String> = (0..self.days)
            .map(|d| (c.start + chrono::Days::new(d as u64)).to_string())
            .collect();
        json!({
            "dates": dates,
            "visits": show(&w.daily_visits, &mut t.daily_visits.iter().copied()),
            "new_households": show(&w.daily_new, &mut t.daily_new_households.iter().copied()),
            "households_reached": show(&w.cumulative, &mut cumulative),
            "target_households": (c.target_coverage * t.households).ceil(),
            "deadline": c.deadline(),
        })
    }
}

/// The reason of every area before any visit is counted.
#[must_use]
pub fn no_visits_reason(vi: bool) -> &'static str {
    if vi {
        "Chưa có lượt hỗ trợ nào: độ phủ, tiến độ và dự báo sẽ có khi các tổ tải lượt hỗ trợ lên"
    } else {
        "No visits yet: coverage, pace and projections appear once teams upload their visits"
    }
}
