//! The staffing-norm audit: per area, does it meet the TNTN norm (at least one TNTN team of
//! `tntn_min_members` per neighbourhood) and the residential-group norm (one group of
//! `members_per_group` members per tổ dân phố), and if not, why, in words.

use serde::Serialize;

use crate::metrics::{Campaign, Totals};
use crate::model::Level;
use crate::priority::{Lang, int};

/// One audited area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRow {
    /// Area code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Level.
    pub level: Level,
    /// Teams homed here.
    pub teams: u64,
    /// Their members.
    pub members: u64,
    /// Neighbourhoods at or below this area.
    pub neighbourhoods: u64,
    /// Of those, how many lack a TNTN team of the norm size.
    pub neighbourhoods_below_norm: u64,
    /// Members missing to bring each one's largest TNTN team to the norm.
    pub norm_members_short: u64,
    /// True when every neighbourhood meets the TNTN norm.
    pub tntn_norm_met: bool,
    /// Residential groups.
    pub residential_groups: u64,
    /// Pairs available (per neighbourhood: members / members per group).
    pub pairs: u64,
    /// Groups without a pair.
    pub pairs_short: u64,
    /// True when every group has a pair.
    pub group_norm_met: bool,
    /// Why, in English.
    pub reason: String,
    /// Why, in Vietnamese.
    pub reason_vi: String,
}

/// Audits one area from its rolled-up totals.
#[must_use]
pub fn audit(code: &str, name: &str, level: Level, t: &Totals, c: &Campaign) -> AuditRow {
    let n = |x: u64, l| int(x as f64, l);
    let min = c.tntn_min_members;
    let tntn = |l: Lang| match (level, t.neighbourhoods_below_norm, l) {
        (_, 0, Lang::En) => format!("TNTN norm met (a team of ≥{min} in every neighbourhood)"),
        (_, 0, Lang::Vi) => format!("đạt định mức TNTN (mỗi khu phố/ấp có tổ ≥{min} người)"),
        (Level::Neighbourhood, _, Lang::En) => format!(
            "{} teams, {} members; needs 1 TNTN team of ≥{min} ({} more members)",
            t.teams, t.members, t.norm_members_short
        ),
        (Level::Neighbourhood, _, Lang::Vi) => format!(
            "{} tổ, {} thành viên; cần 1 tổ TNTN ≥{min} người (thiếu {} người)",
            t.teams, t.members, t.norm_members_short
        ),
        (_, below, Lang::En) => format!(
            "{below} of {} neighbourhoods lack a TNTN team of ≥{min} ({} members short)",
            t.neighbourhoods,
            n(t.norm_members_short, l)
        ),
        (_, below, Lang::Vi) => format!(
            "{below}/{} khu phố/ấp chưa có tổ TNTN ≥{min} người (thiếu {} người)",
            t.neighbourhoods,
            n(t.norm_members_short, l)
        ),
    };
    let groups = |l: Lang| match (t.pairs_short, l) {
        (0, Lang::En) => format!(
            "{} residential groups, {} pairs: norm met",
            n(t.residential_groups, l),
            n(t.pairs, l)
        ),
        (0, Lang::Vi) => format!(
            "{} tổ dân phố, {} cặp: đạt định mức",
            n(t.residential_groups, l),
            n(t.pairs, l)
        ),
        (short, Lang::En) => format!(
            "{} residential groups, {} pairs: {} pairs short",
            n(t.residential_groups, l),
            n(t.pairs, l),
            n(short, l)
        ),
        (short, Lang::Vi) => format!(
            "{} tổ dân phố, {} cặp: thiếu {} cặp",
            n(t.residential_groups, l),
            n(t.pairs, l),
            n(short, l)
        ),
    };
    AuditRow {
        code: code.to_owned(),
        name: name.to_owned(),
        level,
        teams: t.teams,
        members: t.members,
        neighbourhoods: t.neighbourhoods,
        neighbourhoods_below_norm: t.neighbourhoods_below_norm,
        norm_members_short: t.norm_members_short,
        tntn_norm_met: t.neighbourhoods_below_norm == 0,
        residential_groups: t.residential_groups,
        pairs: t.pairs,
        pairs_short: t.pairs_short,
        group_norm_met: t.pairs_short == 0,
        reason: format!("{}; {}", tntn(Lang::En), groups(Lang::En)),
        reason_vi: format!("{}; {}", tntn(Lang::Vi), groups(Lang::Vi)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbourhood_sentences() {
        let mut t = Totals::with_days(1);
        (
            t.teams,
            t.members,
            t.neighbourhoods,
            t.neighbourhoods_below_norm,
            t.norm_members_short,
        ) = (2, 14, 1, 1, 6);
        (t.residential_groups, t.pairs, t.pairs_short) = (38, 11, 27);
        let r = audit("N", "KP 1", Level::Neighbourhood, &t, &Campaign::default());
        assert_eq!(
            r.reason,
            "2 teams, 14 members; needs 1 TNTN team of ≥20 (6 more members); 38 residential groups, 11 pairs: 27 pairs short"
        );
        assert_eq!(
            r.reason_vi,
            "2 tổ, 14 thành viên; cần 1 tổ TNTN ≥20 người (thiếu 6 người); 38 tổ dân phố, 11 cặp: thiếu 27 cặp"
        );
        assert!(!r.tntn_norm_met && !r.group_norm_met);
    }
}
