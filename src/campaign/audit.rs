//! The staffing-norm audit: per area, does it meet the TNTN norm (at least one TNTN team of
//! `tntn_min_members` per neighbourhood) and the residential-group norm (one group of
//! `members_per_group` members per tổ dân phố), and if not, why, in words.

use serde::Serialize;

use crate::metrics::{Campaign, Totals};
use crate::model::Level;
use crate::priority::{Lang, int, plural};

/// One audited area.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize)]
pub struct AuditRow {
    /// 1 = furthest from the norms (most TNTN members short, then most pairs short).
    pub rank: usize,
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
    /// The report's figure, for comparison: more members needed to finish by the deadline at the
    /// current pace (a pace question, not a norm).
    pub members_needed: u64,
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
            "{}, {}; needs 1 TNTN team of ≥{min} ({})",
            plural(t.teams, "team", "teams"),
            plural(t.members, "member", "members"),
            plural(t.norm_members_short, "more member", "more members")
        ),
        (Level::Neighbourhood, _, Lang::Vi) => format!(
            "{} tổ, {} thành viên; cần 1 tổ TNTN ≥{min} người (thiếu {} người)",
            t.teams, t.members, t.norm_members_short
        ),
        (_, below, Lang::En) => format!(
            "{below} of {} lack a TNTN team of ≥{min} ({} short)",
            plural(t.neighbourhoods, "neighbourhood", "neighbourhoods"),
            plural(t.norm_members_short, "member", "members")
        ),
        (_, below, Lang::Vi) => format!(
            "{below}/{} khu phố/ấp chưa có tổ TNTN ≥{min} người (thiếu {} người)",
            t.neighbourhoods,
            n(t.norm_members_short, l)
        ),
    };
    let groups = |l: Lang| match (t.pairs_short, l) {
        (0, Lang::En) => format!(
            "{}, {}: norm met",
            plural(
                t.residential_groups,
                "residential group",
                "residential groups"
            ),
            plural(t.pairs, "pair", "pairs")
        ),
        (0, Lang::Vi) => format!(
            "{} tổ dân phố, {} cặp: đạt định mức",
            n(t.residential_groups, l),
            n(t.pairs, l)
        ),
        (short, Lang::En) => format!(
            "{}, {}: {} short",
            plural(
                t.residential_groups,
                "residential group",
                "residential groups"
            ),
            plural(t.pairs, "pair", "pairs"),
            plural(short, "pair", "pairs")
        ),
        (short, Lang::Vi) => format!(
            "{} tổ dân phố, {} cặp: thiếu {} cặp",
            n(t.residential_groups, l),
            n(t.pairs, l),
            n(short, l)
        ),
    };
    let pace = |l: Lang| match l {
        Lang::En => format!(
            "to finish by the deadline at the current pace: {} (report)",
            plural(t.members_needed, "more member", "more members")
        ),
        Lang::Vi => format!(
            "để kịp hạn theo tiến độ hiện tại: thêm {} thành viên (báo cáo)",
            n(t.members_needed, l)
        ),
    };
    AuditRow {
        rank: 0,
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
        members_needed: t.members_needed,
        reason: format!(
            "{}; {}; {}",
            tntn(Lang::En),
            groups(Lang::En),
            pace(Lang::En)
        ),
        reason_vi: format!(
            "{}; {}; {}",
            tntn(Lang::Vi),
            groups(Lang::Vi),
            pace(Lang::Vi)
        ),
    }
}

/// Orders rows furthest from the norms first (TNTN members short, then pairs short, then code)
/// and numbers them.
pub fn rank(rows: &mut [AuditRow]) {
    rows.sort_by(|a, b| {
        b.norm_members_short
            .cmp(&a.norm_members_short)
            .then(b.pairs_short.cmp(&a.pairs_short))
            .then(a.code.cmp(&b.code))
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = i + 1;
    }
}

/// The audit of a level in a few numbers and one paragraph: how many areas fail each norm, the
/// province's totals short, and how the norms differ from the report's members needed.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize)]
pub struct AuditSummary {
    /// Level audited.
    pub level: Level,
    /// Areas at that level.
    pub areas: u64,
    /// Of those, areas with at least one neighbourhood below the TNTN norm.
    pub areas_below_tntn_norm: u64,
    /// Neighbourhoods in the province.
    pub neighbourhoods: u64,
    /// Of those, below the TNTN norm.
    pub neighbourhoods_below_norm: u64,
    /// Province total of TNTN members short of the norm.
    pub tntn_members_short: u64,
    /// Province total of pairs short of the residential-group norm.
    pub pairs_short: u64,
    /// Province total of members needed to finish by the deadline (the report's figure).
    pub members_needed: u64,
    /// The paragraph, in English.
    pub text: String,
    /// The paragraph, in Vietnamese.
    pub text_vi: String,
}

/// Summarises `rows` (one level) with the province's totals.
#[must_use]
pub fn summary(level: Level, rows: &[AuditRow], province: &Totals, c: &Campaign) -> AuditSummary {
    let min = c.tntn_min_members;
    let target = int(c.target_coverage * 100.0, Lang::En);
    let below = rows.iter().filter(|r| !r.tntn_norm_met).count() as u64;
    let n = |x: u64, l| int(x as f64, l);
    let worst = rows.first().filter(|r| r.norm_members_short > 0);
    let worst_en = worst.map_or_else(String::new, |r| {
        format!(
            " Furthest from it: {} ({} short).",
            r.name,
            plural(r.norm_members_short, "TNTN member", "TNTN members")
        )
    });
    let worst_vi = worst.map_or_else(String::new, |r| {
        format!(
            " Thiếu nhiều nhất: {} (thiếu {} người).",
            r.name,
            n(r.norm_members_short, Lang::Vi)
        )
    });
    let text = format!(
        "{below} of {} fall short of the TNTN norm (a team of ≥{min} in every neighbourhood): {} of {} neighbourhoods are below it, {} short in total.{worst_en} The residential-group norm (one pair per tổ dân phố) is {} short. These are staffing norms; the report's \"members needed\" ({}) is a different question: how many more members reach {target}% of households by the deadline at today's pace.",
        plural(rows.len() as u64, level.as_str(), &format!("{level}s")),
        n(province.neighbourhoods_below_norm, Lang::En),
        n(province.neighbourhoods, Lang::En),
        plural(province.norm_members_short, "TNTN member", "TNTN members"),
        plural(province.pairs_short, "pair", "pairs"),
        n(province.members_needed, Lang::En),
    );
    let text_vi = format!(
        "{below}/{} địa bàn chưa đạt định mức TNTN (mỗi khu phố/ấp có tổ ≥{min} người): {}/{} khu phố/ấp chưa đạt, thiếu tổng cộng {} người.{worst_vi} Định mức tổ dân phố (mỗi tổ một cặp) thiếu {} cặp. Đây là định mức nhân lực; \"số người cần thêm\" của báo cáo ({}) trả lời câu hỏi khác: cần thêm bao nhiêu người để tiếp cận {target}% số hộ trước hạn theo tiến độ hiện tại.",
        rows.len(),
        n(province.neighbourhoods_below_norm, Lang::Vi),
        n(province.neighbourhoods, Lang::Vi),
        n(province.norm_members_short, Lang::Vi),
        n(province.pairs_short, Lang::Vi),
        n(province.members_needed, Lang::Vi),
    );
    AuditSummary {
        level,
        areas: rows.len() as u64,
        areas_below_tntn_norm: below,
        neighbourhoods: province.neighbourhoods,
        neighbourhoods_below_norm: province.neighbourhoods_below_norm,
        tntn_members_short: province.norm_members_short,
        pairs_short: province.pairs_short,
        members_needed: province.members_needed,
        text,
        text_vi,
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
            "2 teams, 14 members; needs 1 TNTN team of ≥20 (6 more members); 38 residential groups, 11 pairs: 27 pairs short; to finish by the deadline at the current pace: 0 more members (report)"
        );
        assert_eq!(
            r.reason_vi,
            "2 tổ, 14 thành viên; cần 1 tổ TNTN ≥20 người (thiếu 6 người); 38 tổ dân phố, 11 cặp: thiếu 27 cặp; để kịp hạn theo tiến độ hiện tại: thêm 0 thành viên (báo cáo)"
        );
        assert!(!r.tntn_norm_met && !r.group_norm_met);
    }
}
