//! The priority ranking: areas ordered by how many more members they need, each with a reason
//! sentence in English and Vietnamese.

use chrono::NaiveDate;
use serde::Serialize;

use crate::metrics::{Campaign, Figures};

/// One ranked area.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize)]
pub struct Priority {
    /// 1 = most in need.
    pub rank: usize,
    /// The area's figures.
    #[serde(flatten)]
    pub figures: Figures,
    /// Why, in English.
    pub reason: String,
    /// Why, in Vietnamese.
    pub reason_vi: String,
}

/// Orders areas by `members_needed` (most first), then lower coverage, then higher density,
/// then code; ties are therefore deterministic.
#[must_use]
pub fn rank(figures: &[Figures], campaign: &Campaign) -> Vec<Priority> {
    let mut sorted: Vec<&Figures> = figures.iter().collect();
    sorted.sort_by(|a, b| {
        b.members_needed
            .cmp(&a.members_needed)
            .then_with(|| {
                a.coverage_ratio
                    .unwrap_or(1.0)
                    .total_cmp(&b.coverage_ratio.unwrap_or(1.0))
            })
            .then_with(|| b.density_per_km2.total_cmp(&a.density_per_km2))
            .then_with(|| a.code.cmp(&b.code))
    });
    sorted
        .into_iter()
        .enumerate()
        .map(|(i, f)| Priority {
            rank: i + 1,
            figures: f.clone(),
            reason: reason(f, campaign, Lang::En),
            reason_vi: reason(f, campaign, Lang::Vi),
        })
        .collect()
}

/// Output language of sentences and numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English: 1,234.5 and 2025-11-30.
    En,
    /// Vietnamese: 1.234,5 and 30/11/2025.
    Vi,
}

/// Formats a whole number with the language's thousands separator.
#[must_use]
pub fn int(x: f64, lang: Lang) -> String {
    let n = x.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let sep = if lang == Lang::En { ',' } else { '.' };
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// `n` with the English singular or plural noun: "1 pair", "3 pairs" (thousands separated).
#[must_use]
pub fn plural(n: u64, one: &str, many: &str) -> String {
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let x = n as f64;
    format!("{} {}", int(x, Lang::En), if n == 1 { one } else { many })
}

fn date(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::En => d.format("%Y-%m-%d").to_string(),
        Lang::Vi => d.format("%d/%m/%Y").to_string(),
    }
}

/// The reason sentence for an area, e.g. "9,762 people/km², 1 helper per 4,100 residents, 31% of
/// households reached; needs 46 more members to reach 80% by 2025-11-30".
#[must_use]
pub fn reason(f: &Figures, campaign: &Campaign, lang: Lang) -> String {
    let target = int(campaign.target_coverage * 100.0, lang);
    let deadline = date(campaign.deadline(), lang);
    let density = int(f.density_per_km2, lang);
    let coverage = int(f.coverage_ratio.unwrap_or(0.0) * 100.0, lang);
    let staff = match (f.residents_per_member, lang) {
        (Some(r), Lang::En) => format!("1 helper per {} residents", int(r, lang)),
        (Some(r), Lang::Vi) => format!("1 người hỗ trợ / {} dân", int(r, lang)),
        (None, Lang::En) => "no helpers".to_owned(),
        (None, Lang::Vi) => "chưa có người hỗ trợ".to_owned(),
    };
    let outlook = match (f.members_needed, f.projected_completion, lang) {
        _ if f.remaining_households == 0 && lang == Lang::En => {
            format!("the {target}% target is already reached")
        }
        _ if f.remaining_households == 0 => format!("đã đạt mục tiêu {target}%"),
        (0, Some(p), Lang::En) => format!("on track to reach {target}% by {}", date(p, lang)),
        (0, Some(p), Lang::Vi) => format!("dự kiến đạt {target}% vào {}", date(p, lang)),
        (0, None, Lang::En) => format!("enough members, but no recent progress towards {target}%"),
        (0, None, Lang::Vi) => {
            format!("đủ thành viên nhưng chưa có tiến độ gần đây để đạt {target}%")
        }
        (n, _, Lang::En) => format!(
            "needs {} to reach {target}% by {deadline}",
            plural(n, "more member", "more members")
        ),
        (n, _, Lang::Vi) => format!(
            "cần thêm {} thành viên để đạt {target}% trước {deadline}",
            int(n as f64, lang)
        ),
    };
    match lang {
        Lang::En => {
            format!("{density} people/km², {staff}, {coverage}% of households reached; {outlook}")
        }
        Lang::Vi => format!("{density} người/km², {staff}, đã tiếp cận {coverage}% hộ; {outlook}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Level;

    fn fig(code: &str, needed: u64, coverage: f64, density: f64) -> Figures {
        Figures {
            code: code.into(),
            name: format!("Phường {code}"),
            level: Level::Ward,
            parent_code: None,
            population: 162_930.0,
            households: 50_000.0,
            area_km2: 16.69,
            density_per_km2: density,
            teams: 10,
            members: 40,
            residents_per_member: Some(4_073.25),
            visits: 0,
            households_reached: 0,
            coverage_ratio: Some(coverage),
            visits_vneid_install: 0,
            visits_vneid_activation: 0,
            visits_dvc_account: 0,
            visits_online_payment: 0,
            visits_qr_payment: 0,
            households_vneid_install: 0,
            households_vneid_activation: 0,
            households_dvc_account: 0,
            households_online_payment: 0,
            households_qr_payment: 0,
            visits_per_member_day: None,
            new_households_per_day: 0.0,
            remaining_households: 1_000,
            days_to_target: None,
            projected_completion: None,
            on_track: false,
            completion_optimistic: None,
            completion_pessimistic: None,
            members_needed: needed,
            neighbourhoods_below_norm: 0,
            norm_members_short: 0,
        }
    }

    #[test]
    fn numbers_follow_the_locale() {
        assert_eq!(int(9_762.4, Lang::En), "9,762");
        assert_eq!(int(9_762.4, Lang::Vi), "9.762");
        assert_eq!(int(1_234_567.0, Lang::En), "1,234,567");
        assert_eq!(int(999.0, Lang::Vi), "999");
    }

    #[test]
    fn reason_sentences() {
        let c = Campaign::default();
        let f = fig("25975", 46, 0.31, 9_762.0);
        assert_eq!(
            reason(&f, &c, Lang::En),
            "9,762 people/km², 1 helper per 4,073 residents, 31% of households reached; needs 46 more members to reach 80% by 2025-11-30"
        );
        assert_eq!(
            reason(&f, &c, Lang::Vi),
            "9.762 người/km², 1 người hỗ trợ / 4.073 dân, đã tiếp cận 31% hộ; cần thêm 46 thành viên để đạt 80% trước 30/11/2025"
        );
    }

    #[test]
    fn ranking_order_and_ties() {
        let c = Campaign::default();
        let ranked = rank(
            &[
                fig("a", 5, 0.5, 100.0),
                fig("b", 9, 0.9, 100.0),
                fig("c", 5, 0.2, 100.0),
                fig("d", 5, 0.2, 900.0),
            ],
            &c,
        );
        let order: Vec<&str> = ranked.iter().map(|p| p.figures.code.as_str()).collect();
        assert_eq!(order, ["b", "d", "c", "a"]);
        assert_eq!(ranked[0].rank, 1);
    }

    #[test]
    fn plurals_and_a_reached_target() {
        assert_eq!(plural(1, "pair", "pairs"), "1 pair");
        assert_eq!(plural(0, "pair", "pairs"), "0 pairs");
        assert_eq!(plural(1_500, "pair", "pairs"), "1,500 pairs");
        let c = Campaign::default();
        let mut f = fig("a", 2, 0.3, 100.0);
        assert!(
            reason(&f, &c, Lang::En).ends_with("needs 2 more members to reach 80% by 2025-11-30")
        );
        f.members_needed = 0;
        f.remaining_households = 0;
        f.projected_completion = NaiveDate::from_ymd_opt(2025, 10, 20);
        let r = reason(&f, &c, Lang::En);
        assert!(r.ends_with("the 80% target is already reached"), "{r}");
        assert!(reason(&f, &c, Lang::Vi).ends_with("đã đạt mục tiêu 80%"));
    }
}
