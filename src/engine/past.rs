//! The campaign as of a past day: every figure computed from the visits up to that day, exactly
//! as if the data had ended there (the time slider of the page, `as_of=` in the API).
//!
//! Truncating is exact because each count is kept per campaign day in the direct totals: a
//! household's first visit up to day d is its first visit overall when that falls on or before
//! d (and in the same area), and its first visit of a service likewise. The roster is taken as
//! of the last day with a visit, as a load of the truncated visits would take it.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Days, NaiveDate};

use super::{Engine, aggregate, load};
use crate::hex;
use crate::metrics::Totals;

/// Keeps the first `keep` days of `t`'s daily series and sets its totals from them.
fn truncate(t: &mut Totals, keep: usize) {
    let cut = |v: &mut Vec<u64>| v.iter_mut().skip(keep).for_each(|x| *x = 0);
    cut(&mut t.daily_visits);
    cut(&mut t.daily_new_households);
    for v in [&mut t.daily_service, &mut t.daily_funnel] {
        v.iter_mut().skip(keep).for_each(|x| *x = [0; 5]);
    }
    t.visits = t.daily_visits.iter().sum();
    t.households_reached = t.daily_new_households.iter().sum();
    t.per_service = [0; 5];
    t.funnel = [0; 5];
    for (s, f) in t.daily_service.iter().zip(&t.daily_funnel) {
        for i in 0..5 {
            t.per_service[i] += s[i];
            t.funnel[i] += f[i];
        }
    }
}

impl Engine {
    /// The engine as of `date`: the visits of the days up to `date` only (none before the
    /// campaign start: the campaign as it was before its first day). `None` when `date` is this
    /// engine's last day with data or later (nothing to leave out).
    #[must_use]
    pub fn until(&self, date: NaiveDate) -> Option<Self> {
        let c = &self.campaign;
        if date >= self.as_of {
            return None;
        }
        // Days kept: 0 before the start; `as_of` is inside the window, so this fits.
        let keep = u16::try_from((date - c.start).num_days() + 1).unwrap_or(0);
        // The last day with a visit (inside an area or not) up to `date`, as a load would see.
        let mut accepted = 0usize;
        let mut last = None::<u16>;
        for p in &self.points {
            for &d in p.day.iter().filter(|&&d| d < keep) {
                accepted += 1;
                last = Some(last.map_or(d, |l| l.max(d)));
            }
        }
        let as_of_day = u32::from(last.unwrap_or(0));
        let as_of = c.start + Days::new(u64::from(as_of_day));
        let mut own = self.own.clone();
        for t in &mut own {
            truncate(t, usize::from(keep));
        }
        load::staff(
            &mut own,
            &self.areas,
            &self.by_code,
            &self.teams,
            c,
            as_of_day,
        );
        let (totals, figures) = aggregate(&self.areas, &self.leaves, &own, c, as_of, as_of_day);
        let inside = totals.first().map_or(0, |t| t.visits);
        let mut visit_report = self.visit_report.clone();
        visit_report.rows_read = accepted;
        visit_report.rows_accepted = accepted;
        visit_report.rejected.clear();
        visit_report.examples.clear();
        let mut past = Self {
            areas: Arc::clone(&self.areas),
            by_code: Arc::clone(&self.by_code),
            teams: Arc::clone(&self.teams),
            campaign: c.clone(),
            as_of,
            as_of_day,
            totals,
            figures,
            visit_report,
            outside: accepted as u64 - inside,
            hexes: Vec::new(),
            population: self.population,
            own,
            points: self.points.clone(),
            leaves: self.leaves.clone(),
            hex_resolution: self.hex_resolution,
            synthetic: self.synthetic,
            ranked: Default::default(),
            until: Some(keep),
        };
        // Residents per cell do not depend on visits: this engine's layer has every populated
        // cell.
        let population: HashMap<h3o::CellIndex, f64> = self
            .hexes
            .iter()
            .filter(|h| h.population_est > 0.0)
            .map(|h| (h.cell, h.population_est))
            .collect();
        past.hexes = hex::hex_layer(&past.hex_counts(self.hex_resolution), &population);
        Some(past)
    }
}
