//! The 34 provinces of 1 July 2025 (Resolution 202/2025/QH15) and the 63 pre-2025 provinces each
//! was formed from, by GSO code: what `phuso init` needs to find a province's 2019 census units.

use super::crosswalk::fold;

/// A 2025 province: its GSO code and the pre-2025 provinces' codes it took in (its own first
/// when it kept one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Province {
    /// GSO code of the 2025 province.
    pub code: &'static str,
    /// Its name, as in the 2025 ward list.
    pub name: &'static str,
    /// GSO codes of the pre-2025 provinces it was formed from.
    pub formed_from: &'static [&'static str],
}

/// The 34 provinces.
pub const PROVINCES: [Province; 34] = [
    p("01", "Thành phố Hà Nội", &["01"]),
    p("04", "Tỉnh Cao Bằng", &["04"]),
    p("08", "Tỉnh Tuyên Quang", &["08", "02"]),
    p("11", "Tỉnh Điện Biên", &["11"]),
    p("12", "Tỉnh Lai Châu", &["12"]),
    p("14", "Tỉnh Sơn La", &["14"]),
    p("15", "Tỉnh Lào Cai", &["15", "10"]),
    p("19", "Tỉnh Thái Nguyên", &["19", "06"]),
    p("20", "Tỉnh Lạng Sơn", &["20"]),
    p("22", "Tỉnh Quảng Ninh", &["22"]),
    p("24", "Tỉnh Bắc Ninh", &["24", "27"]),
    p("25", "Tỉnh Phú Thọ", &["25", "26", "17"]),
    p("31", "Thành phố Hải Phòng", &["31", "30"]),
    p("33", "Tỉnh Hưng Yên", &["33", "34"]),
    p("37", "Tỉnh Ninh Bình", &["37", "35", "36"]),
    p("38", "Tỉnh Thanh Hóa", &["38"]),
    p("40", "Tỉnh Nghệ An", &["40"]),
    p("42", "Tỉnh Hà Tĩnh", &["42"]),
    p("44", "Tỉnh Quảng Trị", &["44", "45"]),
    p("46", "Thành phố Huế", &["46"]),
    p("48", "Thành phố Đà Nẵng", &["48", "49"]),
    p("51", "Tỉnh Quảng Ngãi", &["51", "62"]),
    p("52", "Tỉnh Gia Lai", &["52", "64"]),
    p("56", "Tỉnh Khánh Hòa", &["56", "58"]),
    p("66", "Tỉnh Đắk Lắk", &["66", "54"]),
    p("68", "Tỉnh Lâm Đồng", &["68", "67", "60"]),
    p("75", "Tỉnh Đồng Nai", &["75", "70"]),
    p("79", "Thành phố Hồ Chí Minh", &["79", "74", "77"]),
    p("80", "Tỉnh Tây Ninh", &["80", "72"]),
    p("82", "Tỉnh Đồng Tháp", &["82", "87"]),
    p("86", "Tỉnh Vĩnh Long", &["86", "83", "84"]),
    p("91", "Tỉnh An Giang", &["91", "89"]),
    p("92", "Thành phố Cần Thơ", &["92", "93", "94"]),
    p("96", "Tỉnh Cà Mau", &["96", "95"]),
];

const fn p(
    code: &'static str,
    name: &'static str,
    formed_from: &'static [&'static str],
) -> Province {
    Province {
        code,
        name,
        formed_from,
    }
}

/// The province named by `query`: its code ("1" or "01") or its name in any case, with or
/// without diacritics and the "Tỉnh"/"Thành phố" prefix ("ha noi", "TP Hồ Chí Minh", "hcm").
#[must_use]
pub fn find(query: &str) -> Option<&'static Province> {
    let q = query.trim();
    if !q.is_empty() && q.chars().all(|c| c.is_ascii_digit()) {
        let code = format!("{:0>2}", q);
        return PROVINCES.iter().find(|p| p.code == code);
    }
    let bare = |s: &str| {
        let f = fold(s);
        for prefix in ["thanh pho ", "tp. ", "tp ", "tinh "] {
            if let Some(rest) = f.strip_prefix(prefix) {
                return rest.to_owned();
            }
        }
        f
    };
    let q = bare(q);
    if q.is_empty() {
        return None;
    }
    if let Some(p) = PROVINCES.iter().find(|p| bare(p.name) == q) {
        return Some(p);
    }
    // Initials ("hcm", "hn"), when they name one province only.
    let initials = |s: &str| -> String {
        bare(s)
            .split(' ')
            .filter_map(|w| w.chars().next())
            .collect()
    };
    let mut hits = PROVINCES.iter().filter(|p| initials(p.name) == q);
    match (hits.next(), hits.next()) {
        (Some(p), None) => Some(p),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provinces_by_code_and_by_name() {
        assert_eq!(find("01").map(|p| p.code), Some("01"));
        assert_eq!(find("1").map(|p| p.code), Some("01"));
        assert_eq!(find("ha noi").map(|p| p.code), Some("01"));
        assert_eq!(find("Hà Nội").map(|p| p.code), Some("01"));
        assert_eq!(find("TP Hồ Chí Minh").map(|p| p.code), Some("79"));
        assert_eq!(find("hcm").map(|p| p.code), Some("79"));
        assert_eq!(find("khanh hoa").map(|p| p.code), Some("56"));
        assert_eq!(find("Khánh Hoà").map(|p| p.code), Some("56"));
        assert_eq!(find("dak lak").map(|p| p.code), Some("66"));
        assert_eq!(find("74"), None, "Bình Dương is no longer a province");
        assert_eq!(find(""), None);
        assert_eq!(find("xyz"), None);
    }

    #[test]
    fn the_63_old_provinces_go_into_one_new_each() {
        let mut old: Vec<&str> = PROVINCES
            .iter()
            .flat_map(|p| p.formed_from.iter().copied())
            .collect();
        old.sort_unstable();
        let n = old.len();
        old.dedup();
        assert_eq!((n, old.len()), (63, 63));
    }
}
