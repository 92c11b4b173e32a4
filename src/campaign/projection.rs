//! The one projection model: how long an area takes to reach its target, and how many more
//! members it needs to make the deadline. `report`, `audit`, `plan`, what-if, the API and the page
//! all read their completion dates and members needed from these functions.
//!
//! # The model
//! Members work in the *leaf* areas (neighbourhoods in the bundled data; wards where there are
//! no neighbourhood maps). A leaf with `remaining` households still to reach, a per-member pace
//! `rate` (households first reached per member per day: observed over the recent window, or the
//! configured fallback) and `members` members:
//!
//! | quantity | formula |
//! |---|---|
//! | days to target | `0` when nothing remains; none without members; else `ceil(remaining / (rate × members))` |
//! | projected completion | `as_of + days to target` |
//! | on track | `days to target ≤ days_left`, with `days_left = deadline − as_of` |
//! | members needed | the smallest multiple `a` of the group size (2: members are placed in pairs) with `days to target(members + a) ≤ days_left`; none when `days_left ≤ 0` and something remains (out of reach whatever the numbers) |
//!
//! A parent area (ward, former district, province) is done when its slowest leaf is: its days to
//! target is the largest of its children's (none when any child has none), it is on track when
//! every child is, and its members needed is the sum of its children's. Hence the sum of members
//! needed over the leaves is exactly the number of new volunteers that `plan` needs to finish every
//! area by the deadline ([`crate::plan`] places pairs on the same leaves with the same formula).

/// Days for `members` members at `rate` households per member per day to reach `remaining`
/// households: `Some(0)` when nothing remains, `None` when nobody works there (or the pace is 0).
#[must_use]
pub fn days_to_finish(remaining: u64, rate: f64, members: u64) -> Option<u64> {
    if remaining == 0 {
        return Some(0);
    }
    let t = continuous_days(remaining, rate, members);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "finite and positive here; saturates beyond u64"
    )]
    t.is_finite().then(|| t.ceil() as u64)
}

/// `remaining / (rate × members)` without rounding (∞ without members, 0 when nothing remains):
/// the quantity the planner minimises. [`days_to_finish`] is its ceiling.
#[must_use]
pub fn continuous_days(remaining: u64, rate: f64, members: u64) -> f64 {
    if remaining == 0 {
        0.0
    } else if members == 0 || rate.is_nan() || rate <= 0.0 {
        f64::INFINITY
    } else {
        #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let (r, m) = (remaining as f64, members as f64);
        r / (rate * m)
    }
}

/// True when the area reaches its target within `days_left` days.
#[must_use]
pub fn finishes_within(remaining: u64, rate: f64, members: u64, days_left: i64) -> bool {
    days_to_finish(remaining, rate, members)
        .is_some_and(|d| i64::try_from(d).is_ok_and(|d| d <= days_left))
}

/// The smallest multiple of `group` members to add so that the area finishes within `days_left`
/// days; `None` when no number of members can (no days left while households remain, or no pace).
#[must_use]
pub fn members_needed(
    remaining: u64,
    rate: f64,
    members: u64,
    days_left: i64,
    group: u64,
) -> Option<u64> {
    let group = group.max(1);
    if finishes_within(remaining, rate, members, days_left) {
        return Some(0);
    }
    if days_left <= 0 || rate.is_nan() || rate <= 0.0 || !rate.is_finite() {
        return None;
    }
    // Closed form (members + a ≥ remaining / (rate × days_left)), rounded up to whole groups,
    // then corrected by whole groups so that the answer agrees exactly with `finishes_within`
    // under floating-point rounding.
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let required = (remaining as f64 / (rate * days_left as f64)).ceil();
    if !required.is_finite() || required >= 1e15 {
        return None;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "finite, non-negative, below 1e15"
    )]
    let required = required as u64;
    let mut a = required.saturating_sub(members).div_ceil(group) * group;
    while a >= group && finishes_within(remaining, rate, members + a - group, days_left) {
        a -= group;
    }
    while !finishes_within(remaining, rate, members + a, days_left) {
        a += group;
    }
    Some(a)
}

/// A parent's days to target from its children's: the largest, or none when any child has none.
#[must_use]
pub fn slowest(children: impl IntoIterator<Item = Option<u64>>) -> Option<u64> {
    children
        .into_iter()
        .try_fold(0_u64, |acc, d| d.map(|d| acc.max(d)))
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn by_hand() {
        // 860 households at 7 per member-day with 10 members: 860 / 70 = 12.3 → 13 days.
        assert_eq!(days_to_finish(860, 7.0, 10), Some(13));
        assert_eq!(days_to_finish(0, 7.0, 0), Some(0));
        assert_eq!(days_to_finish(5, 7.0, 0), None);
        // 5 days left: 860 / (7 × 5) = 24.6 → 25 members, 15 more, in pairs → 16.
        assert_eq!(members_needed(860, 7.0, 10, 5, 1), Some(15));
        assert_eq!(members_needed(860, 7.0, 10, 5, 2), Some(16));
        assert!(finishes_within(860, 7.0, 26, 5));
        assert!(!finishes_within(860, 7.0, 24, 5));
        assert_eq!(members_needed(860, 7.0, 100, 5, 2), Some(0));
        // No days left: out of reach unless nothing remains.
        assert_eq!(members_needed(860, 7.0, 10, 0, 2), None);
        assert_eq!(members_needed(0, 7.0, 0, 0, 2), Some(0));
        assert_eq!(slowest([Some(3), Some(9), Some(0)]), Some(9));
        assert_eq!(slowest([Some(3), None]), None);
        assert_eq!(slowest([]), Some(0));
    }

    #[test]
    fn members_needed_is_the_smallest_that_finishes() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..20_000 {
            let remaining = rng.random_range(0..20_000_u64);
            let rate = rng.random_range(0.05..30.0);
            let members = rng.random_range(0..60_u64);
            let days_left = rng.random_range(1..70_i64);
            let group = rng.random_range(1..=3_u64);
            let a = members_needed(remaining, rate, members, days_left, group).unwrap();
            assert_eq!(a % group, 0);
            assert!(finishes_within(remaining, rate, members + a, days_left));
            if a > 0 {
                assert!(
                    !finishes_within(remaining, rate, members + a - group, days_left),
                    "{remaining} {rate} {members} {days_left} {group}: {a} is not the smallest"
                );
            }
        }
    }
}
