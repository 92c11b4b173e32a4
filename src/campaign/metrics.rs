//! Per-area figures: density, staffing, coverage, pace, projection and the staffing norm.
//! Pure functions over additive totals; no I/O.
//!
//! # Formulas
//! With `as_of` the last day with data, `deadline = start + campaign_days`, and the *window* the
//! last `min(rate_window_days, days elapsed)` days up to `as_of`:
//!
//! | field | formula |
//! |---|---|
//! | `density_per_km2` | `population / area_km2` |
//! | `residents_per_member` | `population / members` (none when there are no members) |
//! | `coverage_ratio` | `min(1, households_reached / households)` (none when households = 0) |
//! | `visits_per_member_day` | `visits in window / member-days in window` (see `per_member_rate`) |
//! | `new_households_per_day` | `households first reached in window / window days` |
//! | `target_households` | `ceil(target_coverage × households)` |
//! | `remaining_households` | `max(0, target_households − households_reached)` |
//! | `days_to_target` | leaves: [`projection::days_to_finish`]`(remaining, per_member_rate, members)`: `0` when nothing remains; else `ceil(remaining / (per_member_rate × members))`; none without members. Parents: [`projection::slowest`] of their children (none if any child has none): an area is done when its last neighbourhood is |
//! | `projected_completion` | `as_of + days_to_target` |
//! | `completion_optimistic`, `completion_pessimistic` | the same with the window's mean daily pace ± one standard deviation (scaled by members / observed members in a what-if); parents: the slowest child's |
//! | `on_track` | leaves: `projected_completion ≤ deadline` (false when there is no projection); parents: every child on track |
//! | `per_member_rate` | `households first reached in window / member-days in window` (each day counts the members on that day's roster: `members × window days` when the roster did not change); when 0 or undefined, the configured fallback capacity |
//! | `days_left` | `deadline − as_of` (≥ 1: visits after the deadline are rejected) |
//! | `members_needed` | leaves: [`projection::members_needed`]: the smallest number of added members, in whole groups of `members_per_group` (pairs), with `days_to_target ≤ days_left`; parents: the sum of their children's |
//! | `norm_members_short` | neighbourhoods: `max(0, tntn_min_members − largest TNTN team)`; parents: the sum |
//!
//! The projection model (one for every command, level and the page) is stated in
//! [`crate::projection`].
//!
//! A household is *reached* once, in the area of its earliest visit inside any area.
//!
//! The *service funnel* (`households_<service>`) counts, in that same area, the households with
//! at least one visit (inside any area) of each service: VNeID installed → VNeID activated →
//! public-service (DVC) account → online bill payment → QR payment. A household counts for a
//! step once, however many such visits it had, and whether or not it counted for the steps
//! before; the conversion between steps is the ratio of their counts.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::model::{Level, Service};
use crate::projection;

/// Campaign settings and staffing norms (the `[campaign]` and `[norms]` of `norms.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// First day of the campaign (day 0).
    pub start: NaiveDate,
    /// Length in days; the deadline is `start + days`.
    pub days: u32,
    /// Share of households to reach, in 0..=1.
    pub target_coverage: f64,
    /// Days of recent history used for rates.
    pub rate_window_days: u32,
    /// New households per member per day assumed where no rate can be observed.
    pub fallback_households_per_member_day: f64,
    /// Minimum members of a TNTN team for the per-neighbourhood norm.
    pub tntn_min_members: u32,
    /// Households per residential group (tổ dân phố) when the neighbourhood file does not say.
    #[serde(default = "default_households_per_group")]
    pub households_per_residential_group: f64,
    /// Members per residential-group pair.
    #[serde(default = "default_members_per_group")]
    pub members_per_group: u32,
}

fn default_households_per_group() -> f64 {
    150.0
}

fn default_members_per_group() -> u32 {
    2
}

impl Default for Campaign {
    fn default() -> Self {
        Self {
            start: NaiveDate::from_ymd_opt(2025, 10, 1).expect("valid date"),
            days: 60,
            target_coverage: 0.8,
            rate_window_days: 7,
            fallback_households_per_member_day: 8.0,
            tntn_min_members: 20,
            households_per_residential_group: default_households_per_group(),
            members_per_group: default_members_per_group(),
        }
    }
}

impl Campaign {
    /// `start + days`.
    #[must_use]
    pub fn deadline(&self) -> NaiveDate {
        self.start + Days::new(u64::from(self.days))
    }

    /// Checks ranges; the message names the field and value.
    ///
    /// # Errors
    /// A message for the first bad field.
    pub fn validate(&self) -> Result<(), String> {
        if self.days == 0 || self.days > 3_650 {
            return Err(format!("`days` = {}: expected 1..=3650", self.days));
        }
        if !(self.target_coverage > 0.0 && self.target_coverage <= 1.0) {
            return Err(format!(
                "`target_coverage` = {}: expected a share in (0, 1]",
                self.target_coverage
            ));
        }
        if self.rate_window_days == 0 {
            return Err("`rate_window_days` = 0: expected at least 1".into());
        }
        if !(self.fallback_households_per_member_day > 0.0
            && self.fallback_households_per_member_day.is_finite())
        {
            return Err(format!(
                "`fallback_households_per_member_day` = {}: expected a number > 0",
                self.fallback_households_per_member_day
            ));
        }
        if !(self.households_per_residential_group >= 1.0
            && self.households_per_residential_group.is_finite())
        {
            return Err(format!(
                "`households_per_residential_group` = {}: expected a number ≥ 1",
                self.households_per_residential_group
            ));
        }
        if self.members_per_group == 0 {
            return Err("`members_per_group` = 0: expected at least 1".into());
        }
        Ok(())
    }
}

/// Additive totals of one area; parents are the sums of their children.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// Residents.
    pub population: f64,
    /// Households.
    pub households: f64,
    /// Area in km² (geodesic).
    pub area_km2: f64,
    /// Teams homed here.
    pub teams: u64,
    /// Members of those teams.
    pub members: u64,
    /// Members when the visits were observed (differs from `members` only in a what-if).
    pub observed_members: u64,
    /// Members on each campaign day (the roster's history: a change counts from its day).
    pub daily_members: Vec<u64>,
    /// Visits located here.
    pub visits: u64,
    /// Visits per [`Service`], in [`Service::ALL`] order.
    pub per_service: [u64; 5],
    /// Households whose earliest visit is here.
    pub households_reached: u64,
    /// Visits per campaign day (index 0 = start).
    pub daily_visits: Vec<u64>,
    /// Households first reached per campaign day.
    pub daily_new_households: Vec<u64>,
    /// Visits per campaign day and service ([`Service::ALL`] order).
    pub daily_service: Vec<[u64; 5]>,
    /// The service funnel: households (counted where they are reached) with any visit of each
    /// service, in [`Service::ALL`] order.
    pub funnel: [u64; 5],
    /// Per campaign day and service: households whose first visit of that service was that day
    /// (their sum over days is `funnel`).
    pub daily_funnel: Vec<[u64; 5]>,
    /// Neighbourhoods at or below this area.
    pub neighbourhoods: u64,
    /// Of those, how many lack a TNTN team of ≥ `tntn_min_members`.
    pub neighbourhoods_below_norm: u64,
    /// Members missing to bring each such neighbourhood's largest TNTN team to the norm.
    pub norm_members_short: u64,
    /// Members needed to finish by the deadline (leaves by formula, parents by sum).
    pub members_needed: u64,
    /// Leaves that no number of members can finish by the deadline (no days left).
    pub out_of_reach: u64,
    /// Residential groups (tổ dân phố).
    pub residential_groups: u64,
    /// Pairs the members form (`members / members_per_group`, per neighbourhood).
    pub pairs: u64,
    /// Residential groups without a pair (per neighbourhood, summed).
    pub pairs_short: u64,
}

impl Totals {
    /// Empty totals with `days` days of daily series.
    #[must_use]
    pub fn with_days(days: usize) -> Self {
        Self {
            daily_visits: vec![0; days],
            daily_new_households: vec![0; days],
            daily_service: vec![[0; 5]; days],
            daily_funnel: vec![[0; 5]; days],
            daily_members: vec![0; days],
            ..Self::default()
        }
    }

    /// Adds `other` into `self` (series of equal length).
    pub fn add(&mut self, other: &Self) {
        self.population += other.population;
        self.households += other.households;
        self.area_km2 += other.area_km2;
        self.teams += other.teams;
        self.members += other.members;
        self.observed_members += other.observed_members;
        self.visits += other.visits;
        for (a, b) in self.per_service.iter_mut().zip(other.per_service) {
            *a += b;
        }
        self.households_reached += other.households_reached;
        for (a, b) in self.daily_visits.iter_mut().zip(&other.daily_visits) {
            *a += b;
        }
        for (a, b) in self
            .daily_new_households
            .iter_mut()
            .zip(&other.daily_new_households)
        {
            *a += b;
        }
        for (a, b) in self.daily_service.iter_mut().zip(&other.daily_service) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (a, b) in self.funnel.iter_mut().zip(other.funnel) {
            *a += b;
        }
        for (a, b) in self.daily_funnel.iter_mut().zip(&other.daily_funnel) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (a, b) in self.daily_members.iter_mut().zip(&other.daily_members) {
            *a += b;
        }
        self.neighbourhoods += other.neighbourhoods;
        self.neighbourhoods_below_norm += other.neighbourhoods_below_norm;
        self.norm_members_short += other.norm_members_short;
        self.members_needed += other.members_needed;
        self.out_of_reach += other.out_of_reach;
        self.residential_groups += other.residential_groups;
        self.pairs += other.pairs;
        self.pairs_short += other.pairs_short;
    }
}

/// The recent window: `(first day index, number of days)` for `as_of_day` (0-based day index).
#[must_use]
pub fn window(campaign: &Campaign, as_of_day: u32) -> (usize, usize) {
    let days = campaign.rate_window_days.min(as_of_day + 1);
    ((as_of_day + 1 - days) as usize, days as usize)
}

fn sum_window(series: &[u64], (first, days): (usize, usize)) -> u64 {
    series.iter().skip(first).take(days).sum()
}

/// Households first reached per member per day in the window, or the fallback when that is 0
/// or undefined: `new households in window / member-days in window`, where each day counts the
/// members on that day's roster. Returns the rate and whether it was observed.
#[must_use]
pub fn per_member_rate(t: &Totals, campaign: &Campaign, as_of_day: u32) -> (f64, bool) {
    let w = window(campaign, as_of_day);
    let new = sum_window(&t.daily_new_households, w) as f64;
    let member_days = sum_window(&t.daily_members, w) as f64;
    if member_days > 0.0 && new > 0.0 {
        (new / member_days, true)
    } else {
        (campaign.fallback_households_per_member_day, false)
    }
}

/// `ceil(target × households) − reached`, at least 0.
#[must_use]
pub fn remaining_households(t: &Totals, campaign: &Campaign) -> u64 {
    let target = (campaign.target_coverage * t.households).ceil().max(0.0) as u64;
    target.saturating_sub(t.households_reached)
}

/// Days from `as_of` to the deadline.
#[must_use]
pub fn days_left(campaign: &Campaign, as_of: NaiveDate) -> i64 {
    (campaign.deadline() - as_of).num_days()
}

/// Members needed by a leaf area to finish by the deadline ([`projection::members_needed`] with
/// this area's remaining households, pace and members; whole groups of `members_per_group`).
/// `None` when no number of members can (no days left while households remain).
#[must_use]
pub fn leaf_members_needed(
    t: &Totals,
    campaign: &Campaign,
    as_of: NaiveDate,
    as_of_day: u32,
) -> Option<u64> {
    let (rate, _) = per_member_rate(t, campaign, as_of_day);
    projection::members_needed(
        remaining_households(t, campaign),
        rate,
        t.members,
        days_left(campaign, as_of),
        u64::from(campaign.members_per_group),
    )
}

/// The figures of one area, with exactly the field names of the JSON and CSV outputs.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Area code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Level.
    pub level: Level,
    /// Parent's code (none for the province).
    pub parent_code: Option<String>,
    /// Residents (from the configured population source).
    pub population: f64,
    /// Households (2019 census via the crosswalk).
    pub households: f64,
    /// Geodesic area, km².
    pub area_km2: f64,
    /// Residents per km².
    pub density_per_km2: f64,
    /// Teams homed here.
    pub teams: u64,
    /// Members of those teams.
    pub members: u64,
    /// Residents per member (none without members).
    pub residents_per_member: Option<f64>,
    /// Visits located here.
    #[schema(nullable)]
    pub visits: u64,
    /// Distinct households reached.
    #[schema(nullable)]
    pub households_reached: u64,
    /// `households_reached / households`, in 0..=1.
    pub coverage_ratio: Option<f64>,
    /// Visits of the service, per service.
    #[schema(nullable)]
    pub visits_vneid_install: u64,
    /// See `visits_vneid_install`.
    #[schema(nullable)]
    pub visits_vneid_activation: u64,
    /// See `visits_vneid_install`.
    #[schema(nullable)]
    pub visits_dvc_account: u64,
    /// See `visits_vneid_install`.
    #[schema(nullable)]
    pub visits_online_payment: u64,
    /// See `visits_vneid_install`.
    #[schema(nullable)]
    pub visits_qr_payment: u64,
    /// The service funnel: distinct households reached here with any visit installing VNeID.
    #[schema(nullable)]
    pub households_vneid_install: u64,
    /// ... with any visit activating VNeID (level 2).
    #[schema(nullable)]
    pub households_vneid_activation: u64,
    /// ... with any visit opening a public-service (DVC) account.
    #[schema(nullable)]
    pub households_dvc_account: u64,
    /// ... with any visit paying a bill online.
    #[schema(nullable)]
    pub households_online_payment: u64,
    /// ... with any visit paying by QR code.
    #[schema(nullable)]
    pub households_qr_payment: u64,
    /// Visits per member per day in the recent window.
    pub visits_per_member_day: Option<f64>,
    /// Households first reached per day in the recent window.
    #[schema(nullable)]
    pub new_households_per_day: f64,
    /// Households still to reach for the target.
    #[schema(nullable)]
    pub remaining_households: u64,
    /// Days to reach the target at the recent pace.
    pub days_to_target: Option<u64>,
    /// `as_of + days_to_target`.
    pub projected_completion: Option<NaiveDate>,
    /// Projected completion on or before the deadline.
    #[schema(nullable)]
    pub on_track: bool,
    /// Completion at the mean daily pace of the window plus one standard deviation.
    pub completion_optimistic: Option<NaiveDate>,
    /// Completion at the mean daily pace minus one standard deviation (none when that is ≤ 0).
    pub completion_pessimistic: Option<NaiveDate>,
    /// More members needed to finish by the deadline.
    pub members_needed: u64,
    /// Neighbourhoods without a TNTN team of the norm size.
    pub neighbourhoods_below_norm: u64,
    /// Members missing for the TNTN norm.
    pub norm_members_short: u64,
}

/// Computes the figures of an area from its totals.
#[must_use]
#[expect(
    clippy::too_many_arguments,
    reason = "identity, totals and campaign state are all inputs of the formulas"
)]
pub fn figures(
    code: &str,
    name: &str,
    level: Level,
    parent_code: Option<&str>,
    t: &Totals,
    campaign: &Campaign,
    as_of: NaiveDate,
    as_of_day: u32,
) -> Figures {
    let w = window(campaign, as_of_day);
    let new_in_window = sum_window(&t.daily_new_households, w) as f64;
    let visits_in_window = sum_window(&t.daily_visits, w) as f64;
    let new_households_per_day = new_in_window / w.1 as f64;
    let remaining = remaining_households(t, campaign);
    // Projected pace: the per-member pace (observed, or the fallback) times today's members.
    let (rate, _) = per_member_rate(t, campaign, as_of_day);
    let days_to_target = projection::days_to_finish(remaining, rate, t.members);
    let scale = if t.observed_members > 0 {
        t.members as f64 / t.observed_members as f64
    } else {
        1.0
    };
    let projected_completion = days_to_target.and_then(|d| as_of.checked_add_days(Days::new(d)));
    Figures {
        code: code.to_owned(),
        name: name.to_owned(),
        level,
        parent_code: parent_code.map(str::to_owned),
        population: t.population,
        households: t.households,
        area_km2: t.area_km2,
        density_per_km2: if t.area_km2 > 0.0 {
            t.population / t.area_km2
        } else {
            0.0
        },
        teams: t.teams,
        members: t.members,
        residents_per_member: (t.members > 0).then(|| t.population / t.members as f64),
        visits: t.visits,
        households_reached: t.households_reached,
        coverage_ratio: (t.households > 0.0)
            .then(|| (t.households_reached as f64 / t.households).min(1.0)),
        visits_vneid_install: t.per_service[Service::VneidInstall.index()],
        visits_vneid_activation: t.per_service[Service::VneidActivation.index()],
        visits_dvc_account: t.per_service[Service::DvcAccount.index()],
        visits_online_payment: t.per_service[Service::OnlinePayment.index()],
        visits_qr_payment: t.per_service[Service::QrPayment.index()],
        households_vneid_install: t.funnel[Service::VneidInstall.index()],
        households_vneid_activation: t.funnel[Service::VneidActivation.index()],
        households_dvc_account: t.funnel[Service::DvcAccount.index()],
        households_online_payment: t.funnel[Service::OnlinePayment.index()],
        households_qr_payment: t.funnel[Service::QrPayment.index()],
        visits_per_member_day: {
            let member_days = sum_window(&t.daily_members, w);
            (member_days > 0).then(|| visits_in_window / member_days as f64)
        },
        new_households_per_day,
        remaining_households: remaining,
        days_to_target,
        projected_completion,
        on_track: projected_completion.is_some_and(|d| d <= campaign.deadline()),
        completion_optimistic: band_date(remaining, t, w, as_of, 1.0, scale),
        completion_pessimistic: band_date(remaining, t, w, as_of, -1.0, scale),
        members_needed: t.members_needed,
        neighbourhoods_below_norm: t.neighbourhoods_below_norm,
        norm_members_short: t.norm_members_short,
    }
}

/// Completion at `mean + sign × sd` of the window's daily new households.
fn band_date(
    remaining: u64,
    t: &Totals,
    (first, days): (usize, usize),
    as_of: NaiveDate,
    sign: f64,
    scale: f64,
) -> Option<NaiveDate> {
    if remaining == 0 {
        return Some(as_of);
    }
    let daily: Vec<f64> = t
        .daily_new_households
        .iter()
        .skip(first)
        .take(days)
        .map(|&n| n as f64)
        .collect();
    let n = daily.len() as f64;
    let mean = daily.iter().sum::<f64>() / n;
    let sd = (daily.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    let rate = (mean + sign * sd) * scale;
    (rate > 0.0)
        .then(|| (remaining as f64 / rate).ceil() as u64)
        .and_then(|d| as_of.checked_add_days(Days::new(d)))
}

/// Replaces the projection of every parent by that of its slowest child (see the formulas).
/// `children[i]` lists the positions of area `i`'s children; children come after parents.
pub fn roll_up_projection(figures: &mut [Figures], children: &[&[usize]], as_of: NaiveDate) {
    for i in (0..figures.len()).rev() {
        if children[i].is_empty() {
            continue;
        }
        let days = projection::slowest(children[i].iter().map(|&c| figures[c].days_to_target));
        let mut on_track = true;
        let (mut optimistic, mut pessimistic) = (Some(as_of), Some(as_of));
        let slowest = |a: Option<NaiveDate>, b: Option<NaiveDate>| match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        for &c in children[i] {
            on_track &= figures[c].on_track;
            optimistic = slowest(optimistic, figures[c].completion_optimistic);
            pessimistic = slowest(pessimistic, figures[c].completion_pessimistic);
        }
        figures[i].completion_optimistic = optimistic;
        figures[i].completion_pessimistic = pessimistic;
        figures[i].days_to_target = days;
        figures[i].projected_completion = days.and_then(|d| as_of.checked_add_days(Days::new(d)));
        figures[i].on_track = on_track;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign() -> Campaign {
        Campaign::default() // start 2025-10-01, 60 days → deadline 2025-11-30, target 0.8, window 7
    }

    /// A hand-made ward: 10,000 residents, 2,500 households on 2 km², 2 teams of 5 members,
    /// 20 days of data (as_of = 2025-10-20, day 19), 70 new households a day in the last 7 days.
    fn ward() -> Totals {
        let mut t = Totals::with_days(60);
        t.population = 10_000.0;
        t.households = 2_500.0;
        t.area_km2 = 2.0;
        t.teams = 2;
        t.members = 10;
        t.observed_members = 10;
        t.daily_members = vec![10; 60];
        for d in 0..20 {
            t.daily_visits[d] = 100;
            t.daily_new_households[d] = if d >= 13 { 70 } else { 50 };
        }
        t.visits = 2_000;
        t.households_reached = 13 * 50 + 7 * 70; // 1,140
        t
    }

    #[test]
    fn hand_computed_figures() {
        let c = campaign();
        let as_of = NaiveDate::from_ymd_opt(2025, 10, 20).unwrap();
        let t = ward();
        let f = figures("1", "W", Level::Ward, None, &t, &c, as_of, 19);
        assert_eq!(c.deadline(), NaiveDate::from_ymd_opt(2025, 11, 30).unwrap());
        assert!((f.density_per_km2 - 5_000.0).abs() < 1e-9);
        assert_eq!(f.residents_per_member, Some(1_000.0));
        assert!((f.coverage_ratio.unwrap() - 1_140.0 / 2_500.0).abs() < 1e-12);
        // window = 7 days: 700 visits / (10 members × 7) = 10; 490 new / 7 = 70.
        assert!((f.visits_per_member_day.unwrap() - 10.0).abs() < 1e-12);
        assert!((f.new_households_per_day - 70.0).abs() < 1e-12);
        // target = ceil(0.8 × 2500) = 2000; remaining 860; 860 / 70 = 12.29 → 13 days.
        assert_eq!(f.remaining_households, 860);
        assert_eq!(f.days_to_target, Some(13));
        assert_eq!(f.projected_completion, NaiveDate::from_ymd_opt(2025, 11, 2));
        assert!(f.on_track);
    }

    #[test]
    fn members_needed_by_hand() {
        let c = campaign();
        let mut t = ward();
        // Late in the campaign: as_of 2025-11-25 (day 55), 5 days left.
        let as_of = NaiveDate::from_ymd_opt(2025, 11, 25).unwrap();
        t.daily_new_households = vec![0; 60];
        for d in 49..56 {
            t.daily_new_households[d] = 70;
        }
        // per-member rate = 490 / (10 × 7) = 7; remaining 860; 860 / (7 × 5) = 24.57 → 25
        // members; 25 − 10 = 15, in pairs → 16.
        assert_eq!(per_member_rate(&t, &c, 55), (7.0, true));
        assert_eq!(leaf_members_needed(&t, &c, as_of, 55), Some(16));
        // No members at all: fallback 8 per member-day; 860 / (8 × 5) = 21.5 → 22 (11 pairs).
        t.members = 0;
        t.observed_members = 0;
        t.daily_members = vec![0; 60];
        assert_eq!(per_member_rate(&t, &c, 55), (8.0, false));
        assert_eq!(leaf_members_needed(&t, &c, as_of, 55), Some(22));
    }

    #[test]
    fn pace_counts_the_members_of_each_day() {
        let c = campaign();
        let mut t = ward();
        // The team grew from 10 to 20 members on day 16: the 7-day window (days 13–19) holds
        // 3 × 10 + 4 × 20 = 110 member-days; 490 new households / 110 = 4.4545… per member-day.
        for d in 16..60 {
            t.daily_members[d] = 20;
        }
        t.members = 20;
        t.observed_members = 20;
        let (rate, observed) = per_member_rate(&t, &c, 19);
        assert!(observed);
        assert!((rate - 490.0 / 110.0).abs() < 1e-12, "{rate}");
        // 700 visits in the window / 110 member-days.
        let as_of = NaiveDate::from_ymd_opt(2025, 10, 20).unwrap();
        let f = figures("1", "W", Level::Ward, None, &t, &c, as_of, 19);
        assert!((f.visits_per_member_day.unwrap() - 700.0 / 110.0).abs() < 1e-12);
        // Remaining 860 at 4.4545… × 20 = 89.09 a day → ceil(9.65) = 10 days.
        assert_eq!(f.days_to_target, Some(10));
    }

    #[test]
    fn no_members_means_no_projection() {
        let c = campaign();
        let mut t = ward();
        t.daily_new_households = vec![0; 60];
        let at = |t: &Totals| {
            figures(
                "1",
                "W",
                Level::Ward,
                None,
                t,
                &c,
                NaiveDate::from_ymd_opt(2025, 10, 20).unwrap(),
                19,
            )
        };
        // With members but no recent progress, the fallback pace applies: 860 / (8 × 10) → 11 days.
        assert_eq!(at(&t).days_to_target, Some(11));
        t.members = 0;
        t.observed_members = 0;
        t.daily_members = vec![0; 60];
        let f = at(&t);
        assert_eq!(f.days_to_target, None);
        assert!(!f.on_track);
    }

    #[test]
    fn parents_take_their_slowest_child() {
        let c = campaign();
        let as_of = NaiveDate::from_ymd_opt(2025, 10, 20).unwrap();
        let mut a = ward();
        let b = ward();
        a.daily_new_households = vec![0; 60];
        a.daily_new_households[19] = 7; // 1 per day over the 7-day window → 860 days
        let fa = figures("a", "A", Level::Neighbourhood, Some("w"), &a, &c, as_of, 19);
        let fb = figures("b", "B", Level::Neighbourhood, Some("w"), &b, &c, as_of, 19);
        let fw = figures(
            "w",
            "W",
            Level::Ward,
            None,
            &Totals::with_days(60),
            &c,
            as_of,
            19,
        );
        let mut all = vec![fw, fa, fb];
        let children: Vec<&[usize]> = vec![&[1, 2], &[], &[]];
        roll_up_projection(&mut all, &children, as_of);
        assert_eq!(all[0].days_to_target, Some(860));
        assert!(!all[0].on_track);
        all[1].days_to_target = None;
        roll_up_projection(&mut all, &children, as_of);
        assert_eq!(all[0].days_to_target, None);
    }

    #[test]
    fn projection_bands_by_hand() {
        let c = campaign();
        let mut t = ward();
        // Last 7 days: 40, 100, 40, 100, 40, 100, 70 → mean 70, sd = sqrt(6 × 30² / 7) = 27.77.
        for (d, n) in (13..20).zip([40, 100, 40, 100, 40, 100, 70]) {
            t.daily_new_households[d] = n;
        }
        let as_of = NaiveDate::from_ymd_opt(2025, 10, 20).unwrap();
        let f = figures("1", "W", Level::Ward, None, &t, &c, as_of, 19);
        // 860 / 97.77 = 8.8 → 9 days; 860 / 42.23 = 20.4 → 21 days; central 860 / 70 → 13.
        assert_eq!(
            f.completion_optimistic,
            NaiveDate::from_ymd_opt(2025, 10, 29)
        );
        assert_eq!(
            f.completion_pessimistic,
            NaiveDate::from_ymd_opt(2025, 11, 10)
        );
        assert_eq!(f.projected_completion, NaiveDate::from_ymd_opt(2025, 11, 2));
        // Twice the members in a what-if: twice the pace.
        t.members = 20;
        let f = figures("1", "W", Level::Ward, None, &t, &c, as_of, 19);
        assert_eq!(f.days_to_target, Some(7));
    }

    #[test]
    fn window_is_clipped_at_the_start() {
        assert_eq!(window(&campaign(), 2), (0, 3));
        assert_eq!(window(&campaign(), 19), (13, 7));
    }

    #[test]
    fn coverage_is_capped_at_one() {
        let mut t = ward();
        t.households_reached = 3_000;
        let f = figures(
            "1",
            "W",
            Level::Ward,
            None,
            &t,
            &campaign(),
            NaiveDate::from_ymd_opt(2025, 10, 20).unwrap(),
            19,
        );
        assert_eq!(f.coverage_ratio, Some(1.0));
        assert_eq!(f.days_to_target, Some(0));
    }
}
