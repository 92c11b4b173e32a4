//! A crosswalk from the pre-2025 units (2019 census) to the 2025 wards, derived from each 2025
//! ward's published `formed_from` text ("Phường Quán Thánh, …, Phường Cửa Đông (phần còn lại sau
//! khi sáp nhập vào phường Hoàn Kiếm)").
//!
//! The text names the units of late 2024 (after the 2019–2024 mergers), so the census units are
//! first grouped into those (`gso_code_2024`). Each item of the text is matched to a 2024 unit of
//! the same province (its pre-2025 provinces) by name after [`fold`]ing case, diacritics,
//! tone-mark placement (Hoà/Hòa) and apostrophes: the full name with its type ("Phường …") first,
//! then the 2019 name, then the bare name with any type (many xã became phường before 2025). A
//! qualifier in brackets ("(huyện Sóc Sơn)") picks among same-named units; otherwise a unit of a
//! district the ward's other items come from. "giữ nguyên" (kept as it was) means the ward's own
//! name.
//!
//! **Split rule:** a unit named by several wards (usually "phần còn lại": what remained after part
//! of it went to another ward) goes to each of them in equal shares — the census reader's rule,
//! which keeps totals exact; the source does not say how the unit's people were divided.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use unicode_normalization::UnicodeNormalization;

/// `s` folded for matching names: lower case, no diacritics (đ → d), apostrophes and hyphens
/// dropped, spaces collapsed. "Phường Hoà Khánh" and "phuong hoa khanh" fold the same.
#[must_use]
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfd() {
        let c = match c {
            'đ' | 'Đ' => 'd',
            '\'' | '’' | 'ʼ' | '‘' | '`' => continue,
            '-' | '–' | '_' | '.' => ' ',
            c if unicode_normalization::char::is_combining_mark(c) => continue,
            c => c,
        };
        out.extend(c.to_lowercase());
    }
    // Numbered wards: "Phường 05" and "Phường 5" are one.
    out.split_whitespace()
        .map(|w| {
            if w.len() > 1 && w.bytes().all(|b| b.is_ascii_digit()) {
                let t = w.trim_start_matches('0');
                if t.is_empty() { "0" } else { t }
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `s` for matching names strictly: lower case, apostrophes dropped, spaces collapsed, and
/// the tone mark of each word moved to its end, so that tone placement does not matter
/// ("Hoà" and "Hòa" are one) but diacritics do ("Thạnh An" and "Thanh An" are two).
#[must_use]
pub fn exact(s: &str) -> String {
    const TONES: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];
    let mut words = Vec::new();
    for w in s.split_whitespace() {
        let mut base = String::new();
        let mut tones = String::new();
        for c in w.nfd() {
            match c {
                '\'' | '’' | 'ʼ' | '‘' | '`' => {}
                c if TONES.contains(&c) => tones.push(c),
                c => base.extend(c.to_lowercase()),
            }
        }
        if base.len() > 1 && base.bytes().all(|b| b.is_ascii_digit()) {
            base = base.trim_start_matches('0').to_owned();
        }
        base.push_str(&tones);
        words.push(base);
    }
    words.join(" ")
}

/// The unit-type words a name may start with (folded).
const TYPES: [&str; 8] = [
    "thi tran",
    "thi xa",
    "thanh pho",
    "dac khu",
    "phuong",
    "huyen",
    "quan",
    "xa",
];

/// A folded name without its type word ("phuong an phu" → "an phu").
fn bare(folded: &str) -> &str {
    for t in TYPES {
        if let Some(rest) = folded.strip_prefix(t).and_then(|r| r.strip_prefix(' ')) {
            return rest;
        }
    }
    folded
}

/// One 2019 census unit, as much as the crosswalk needs.
#[derive(Debug, Clone, PartialEq)]
pub struct OldUnit {
    /// GSO 2019 code (empty for the few rows without one).
    pub code_2019: String,
    /// Full name in 2019 ("Xã Bình Chuẩn").
    pub name_2019: String,
    /// GSO code of the unit it belonged to in late 2024 (empty: the 2019 code).
    pub code_2024: String,
    /// Full name of that unit ("Phường Bình Chuẩn").
    pub name_2024: String,
    /// Its district's name in 2024 ("Thành phố Thuận An").
    pub district_2024: String,
    /// 2019 households.
    pub households: f64,
}

/// One 2025 ward and its published text.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWard {
    /// GSO 2025 code.
    pub code: String,
    /// Full name ("Phường An Phú").
    pub name: String,
    /// The published `formed_from` text.
    pub formed_from: String,
}

/// An item of a `formed_from` text that matched no unit, or more than one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unmatched {
    /// The 2025 ward whose text it is.
    pub ward: String,
    /// The item as written.
    pub item: String,
    /// Why: "no unit of that name", or the candidates when they could not be told apart.
    pub why: String,
}

/// The derived crosswalk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Crosswalk {
    /// For each 2019 unit (index into the input), the 2025 wards it went into.
    pub wards_of: Vec<Vec<String>>,
    /// Items that matched nothing, or ambiguously (the first candidate is then used).
    pub unmatched: Vec<Unmatched>,
}

impl Crosswalk {
    /// Households of the 2019 units that reached no 2025 ward, and of all units.
    #[must_use]
    pub fn unmatched_households(&self, old: &[OldUnit]) -> (f64, f64) {
        let total: f64 = 0.0 + old.iter().map(|u| u.households).sum::<f64>();
        let lost: f64 = 0.0
            + old
                .iter()
                .zip(&self.wards_of)
                .filter(|(_, w)| w.is_empty())
                .map(|(u, _)| u.households)
                .sum::<f64>();
        (lost, total)
    }
}

/// A unit of late 2024: its names as written (2024, then 2019) and its district, folded.
struct Unit {
    names: [String; 2],
    district: String,
}

/// An item of the text: the unit's name and, in brackets, a district qualifier.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    text: String,
    name: String,
    district: Option<String>,
}

/// Splits a `formed_from` text at the commas outside brackets.
fn items(text: &str) -> Vec<Item> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    let mut push = |cur: &mut String| {
        let t = cur.trim().to_owned();
        cur.clear();
        if t.is_empty() {
            return;
        }
        let name = t.split('(').next().unwrap_or_default().trim().to_owned();
        let district = t
            .split('(')
            .skip(1)
            .map(|q| fold(q.trim_end_matches([')', ' '])))
            .find(|q| {
                ["huyen ", "quan ", "thanh pho ", "thi xa "]
                    .iter()
                    .any(|p| q.starts_with(p))
            });
        out.push(Item {
            text: t,
            name,
            district,
        });
    };
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if (c == ',' || c == ';') && depth <= 0 {
            push(&mut cur);
        } else {
            cur.push(c);
        }
    }
    push(&mut cur);
    out
}

/// Derives the crosswalk of `old` (one province's 2019 units) to `new` (its 2025 wards).
#[must_use]
pub fn derive(new: &[NewWard], old: &[OldUnit]) -> Crosswalk {
    // The 2024 units: 2019 rows grouped by their 2024 code (or name, without one).
    let mut unit_of_row: Vec<usize> = Vec::with_capacity(old.len());
    let mut units: Vec<Unit> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for u in old {
        let id = if !u.code_2024.is_empty() {
            u.code_2024.clone()
        } else if !u.code_2019.is_empty() {
            u.code_2019.clone()
        } else {
            format!("name:{}|{}", u.district_2024, u.name_2024)
        };
        let i = *index.entry(id).or_insert_with(|| {
            units.push(Unit {
                names: [u.name_2024.clone(), u.name_2019.clone()],
                district: fold(&u.district_2024),
            });
            units.len() - 1
        });
        unit_of_row.push(i);
    }
    // Three tiers of names, strictest first: diacritics kept (tone placement unified), folded,
    // folded without the type word. A unit is found by its 2024 or its 2019 name.
    let tiers: [fn(&str) -> String; 3] = [exact, fold, |n| bare(&fold(n)).to_owned()];
    let mut maps: Vec<HashMap<String, Vec<usize>>> = vec![HashMap::new(); tiers.len()];
    for (i, unit) in units.iter().enumerate() {
        for (map, key) in maps.iter_mut().zip(tiers) {
            for n in &unit.names {
                let e = map.entry(key(n)).or_default();
                if !e.contains(&i) {
                    e.push(i);
                }
            }
        }
    }
    let in_district = |u: usize, d: &str| {
        let ud = &units[u].district;
        ud == d || bare(ud) == bare(d) || ud.ends_with(bare(d))
    };
    // The units an item may name: the strictest tier that has any; when the item names a
    // district, the strictest tier with a unit in it.
    let candidates = |it: &Item| -> Vec<usize> {
        let hits = || {
            maps.iter()
                .zip(tiers)
                .filter_map(|(map, key)| map.get(&key(&it.name)))
        };
        let first = hits().next().cloned().unwrap_or_default();
        let Some(d) = &it.district else {
            return first;
        };
        hits()
            .map(|c| {
                c.iter()
                    .copied()
                    .filter(|&u| in_district(u, d))
                    .collect::<Vec<_>>()
            })
            .find(|c| !c.is_empty())
            // No unit of that name in the district named: only a name found once is taken
            // (the district may go by another name in the census).
            .unwrap_or(if first.len() == 1 { first } else { Vec::new() })
    };
    let mut out = Crosswalk {
        wards_of: vec![Vec::new(); old.len()],
        unmatched: Vec::new(),
    };
    let mut wards_of_unit: Vec<BTreeSet<String>> = vec![BTreeSet::new(); units.len()];
    // Items no unit's name matches: (ward, item, the districts of the ward's other items).
    let mut pending: Vec<(String, Item, BTreeSet<String>)> = Vec::new();
    for w in new {
        let mut list = items(&w.formed_from);
        if list.len() == 1 && fold(&list[0].name).starts_with("giu nguyen") {
            list[0].name.clone_from(&w.name);
        }
        // First the items with one candidate; their districts then pick among same-named units.
        let found: Vec<Vec<usize>> = list.iter().map(candidates).collect();
        let districts: BTreeSet<&str> = found
            .iter()
            .filter(|c| c.len() == 1)
            .map(|c| units[c[0]].district.as_str())
            .collect();
        for (it, c) in list.iter().zip(found) {
            let chosen = match c.len() {
                0 => {
                    pending.push((
                        w.code.clone(),
                        it.clone(),
                        districts.iter().map(|d| (*d).to_owned()).collect(),
                    ));
                    continue;
                }
                1 => c[0],
                _ => {
                    let near: Vec<usize> = c
                        .iter()
                        .copied()
                        .filter(|&u| districts.contains(units[u].district.as_str()))
                        .collect();
                    if near.len() == 1 {
                        near[0]
                    } else {
                        out.unmatched.push(Unmatched {
                            ward: w.code.clone(),
                            item: it.text.clone(),
                            why: format!(
                                "{} units of that name ({}); the first is used",
                                c.len(),
                                c.iter()
                                    .map(|&u| units[u].district.clone())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        });
                        c[0]
                    }
                }
            };
            wards_of_unit[chosen].insert(w.code.clone());
        }
    }
    // Then names made of units no ward claimed: two merged in early 2025, after the census'
    // change list ("Văn Miếu Quốc Tử Giám" of Văn Miếu and Quốc Tử Giám).
    for (ward, it, districts) in pending {
        let free: Vec<usize> = (0..units.len())
            .filter(|&u| wards_of_unit[u].is_empty())
            .collect();
        match composed(&fold(&it.name), &units, &free, &districts) {
            Some(parts) => {
                for u in parts {
                    wards_of_unit[u].insert(ward.clone());
                }
            }
            None => out.unmatched.push(Unmatched {
                ward,
                item: it.text,
                why: "no unit of that name in the province's 2019 census".into(),
            }),
        }
    }
    for (row, &u) in unit_of_row.iter().enumerate() {
        out.wards_of[row] = wards_of_unit[u].iter().cloned().collect();
    }
    out
}

/// The units among `free` whose names make up `name`: two or three names one after the other
/// ("van mieu quoc tu giam"), or two names sharing their last or first word ("cao xuan duong" of
/// Cao Dương and Xuân Dương), all of one district — the district of the ward's other items when
/// there is one. `None` unless exactly one such set exists.
fn composed(
    name: &str,
    units: &[Unit],
    free: &[usize],
    districts: &BTreeSet<String>,
) -> Option<Vec<usize>> {
    let words: Vec<&str> = bare(name).split(' ').collect();
    let n = words.len();
    if n < 2 {
        return None;
    }
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for &u in free {
        by_name
            .entry(bare(&fold(&units[u].names[0])).to_owned())
            .or_default()
            .push(u);
    }
    let join = |w: &[&str]| w.join(" ");
    let mut spellings: Vec<Vec<String>> = Vec::new();
    for i in 1..n {
        spellings.push(vec![join(&words[..i]), join(&words[i..])]);
        for j in i + 1..n {
            spellings.push(vec![
                join(&words[..i]),
                join(&words[i..j]),
                join(&words[j..]),
            ]);
        }
    }
    if n == 3 {
        spellings.push(vec![
            join(&[words[0], words[2]]),
            join(&[words[1], words[2]]),
        ]);
        spellings.push(vec![
            join(&[words[0], words[1]]),
            join(&[words[0], words[2]]),
        ]);
    }
    let mut found: Vec<Vec<usize>> = Vec::new();
    for names in spellings {
        // Every way of taking one unit per name, within one district.
        let lists: Vec<&Vec<usize>> = match names.iter().map(|n| by_name.get(n)).collect() {
            Some(l) => l,
            None => continue,
        };
        let mut sets: Vec<Vec<usize>> = vec![Vec::new()];
        for l in lists {
            sets = sets
                .into_iter()
                .flat_map(|s| {
                    l.iter().filter_map(move |&u| {
                        let same = s
                            .first()
                            .is_none_or(|&f| units[f].district == units[u].district);
                        (same && !s.contains(&u)).then(|| {
                            let mut s = s.clone();
                            s.push(u);
                            s
                        })
                    })
                })
                .collect();
        }
        found.extend(sets);
    }
    if found.len() > 1 && !districts.is_empty() {
        found.retain(|s| districts.contains(&units[s[0]].district));
    }
    (found.len() == 1).then(|| found.remove(0))
}

/// Households per 2025 ward under the split rule (equal shares).
#[must_use]
pub fn households_per_ward(old: &[OldUnit], cw: &Crosswalk) -> BTreeMap<String, f64> {
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    for (u, wards) in old.iter().zip(&cw.wards_of) {
        for w in wards {
            *out.entry(w.clone()).or_default() += u.households / wards.len() as f64;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(code: &str, name: &str, district: &str, households: f64) -> OldUnit {
        OldUnit {
            code_2019: code.into(),
            name_2019: name.into(),
            code_2024: code.into(),
            name_2024: name.into(),
            district_2024: district.into(),
            households,
        }
    }

    fn ward(code: &str, name: &str, text: &str) -> NewWard {
        NewWard {
            code: code.into(),
            name: name.into(),
            formed_from: text.into(),
        }
    }

    #[test]
    fn names_fold_case_diacritics_tone_placement_and_apostrophes() {
        assert_eq!(fold("Phường Hoà Khánh"), fold("phường hòa khánh"));
        assert_eq!(fold("Phường Hoà Khánh"), "phuong hoa khanh");
        assert_eq!(fold("Xã Ea M'Drắk"), fold("Xã Ea M’drắk"));
        assert_eq!(fold("Đông  Hòa"), "dong hoa");
        assert_eq!(fold("Phường 05"), fold("phường 5"));
        assert_eq!(exact("Phường Hoà Khánh"), exact("phường hòa khánh"));
        assert_ne!(exact("Xã Thạnh An"), exact("Xã Thanh An"));
        assert_eq!(fold("Xã Thạnh An"), fold("Xã Thanh An"));
        assert_eq!(bare("phuong an phu"), "an phu");
        assert_eq!(bare("thi tran lai thieu"), "lai thieu");
    }

    #[test]
    fn items_split_outside_brackets() {
        let it = items(
            "Phường Kim Liên, Phường Quang Trung (quận Đống Đa) (phần còn lại sau khi sáp nhập vào phường Đống Đa, phường Kim Liên), Xã Hưng Đạo (thành phố Cao Bằng)",
        );
        assert_eq!(it.len(), 3);
        assert_eq!(it[1].name, "Phường Quang Trung");
        assert_eq!(it[1].district.as_deref(), Some("quan dong da"));
        assert_eq!(it[2].district.as_deref(), Some("thanh pho cao bang"));
        assert_eq!(it[0].district, None);
    }

    #[test]
    fn a_split_unit_goes_to_each_ward_in_equal_shares() {
        // Bình Chuẩn went partly into An Phú, the rest into Thuận Giao.
        let old = [
            unit("25975", "Phường An Phú", "Thành phố Thuận An", 42_974.0),
            unit("25969", "Phường Bình Chuẩn", "Thành phố Thuận An", 32_615.0),
            unit("25972", "Phường Thuận Giao", "Thành phố Thuận An", 45_593.0),
        ];
        let new = [
            ward("25975", "Phường An Phú", "Phường An Phú, Phường Bình Chuẩn"),
            ward(
                "25969",
                "Phường Thuận Giao",
                "Phường Thuận Giao, Phường Bình Chuẩn (phần còn lại sau khi sáp nhập vào phường An Phú)",
            ),
        ];
        let cw = derive(&new, &old);
        assert!(cw.unmatched.is_empty(), "{:?}", cw.unmatched);
        assert_eq!(cw.wards_of[1], ["25969", "25975"]);
        let h = households_per_ward(&old, &cw);
        assert_eq!(h["25975"], 42_974.0 + 16_307.5);
        assert_eq!(h["25969"], 45_593.0 + 16_307.5);
        assert_eq!(cw.unmatched_households(&old), (0.0, 121_182.0));
    }

    #[test]
    fn same_names_are_told_apart_by_qualifier_or_by_the_other_items() {
        let old = [
            unit("1", "Xã Tân Phú", "Huyện Đồng Phú", 10.0),
            unit("2", "Xã Tân Phú", "Huyện Bù Đăng", 20.0),
            unit("3", "Xã Tân Lợi", "Huyện Đồng Phú", 30.0),
            unit("4", "Xã Thọ Sơn", "Huyện Bù Đăng", 40.0),
        ];
        let new = [
            ward("A", "Xã Đồng Phú", "Xã Tân Lợi, Xã Tân Phú"),
            ward("B", "Xã Thọ Sơn", "Xã Tân Phú (huyện Bù Đăng), Xã Thọ Sơn"),
        ];
        let cw = derive(&new, &old);
        assert!(cw.unmatched.is_empty(), "{:?}", cw.unmatched);
        assert_eq!(cw.wards_of, [vec!["A"], vec!["B"], vec!["A"], vec!["B"]]);
    }

    #[test]
    fn what_does_not_match_is_reported_and_kept_is_the_ward_itself() {
        let old = [
            unit("1", "Xã Ngọc Long", "Huyện Yên Minh", 10.0),
            unit("2", "Xã Lạc", "Huyện Yên Minh", 5.0),
        ];
        let new = [
            ward("A", "Xã Ngọc Long", "giữ nguyên"),
            ward("B", "Xã Mới", "Xã Không Có"),
        ];
        let cw = derive(&new, &old);
        assert_eq!(cw.wards_of[0], ["A"]);
        assert!(cw.wards_of[1].is_empty());
        assert_eq!(cw.unmatched.len(), 1);
        assert_eq!(cw.unmatched[0].item, "Xã Không Có");
        assert_eq!(cw.unmatched_households(&old), (5.0, 15.0));
    }

    #[test]
    fn a_xa_that_became_a_phuong_matches_by_its_bare_name() {
        let mut u = unit("1", "Xã Bình Nhâm", "Thị xã Thuận An", 7.0);
        u.name_2024 = "Phường Bình Nhâm".into();
        let cw = derive(&[ward("A", "Phường Lái Thiêu", "Xã Bình Nhâm")], &[u]);
        assert_eq!(cw.wards_of[0], ["A"]);
    }

    #[test]
    fn a_name_made_of_two_unclaimed_units_takes_both() {
        let old = [
            unit("1", "Phường Văn Miếu", "Quận Đống Đa", 10.0),
            unit("2", "Phường Quốc Tử Giám", "Quận Đống Đa", 20.0),
            unit("3", "Xã Cao Dương", "Huyện Thanh Oai", 30.0),
            unit("4", "Xã Xuân Dương", "Huyện Thanh Oai", 40.0),
            unit("5", "Phường Khâm Thiên", "Quận Đống Đa", 50.0),
        ];
        let new = [
            ward(
                "A",
                "Phường Văn Miếu - Quốc Tử Giám",
                "Phường Khâm Thiên, Phường Văn Miếu Quốc Tử Giám",
            ),
            ward("B", "Xã Dân Hoà", "Xã Cao Xuân Dương"),
        ];
        let cw = derive(&new, &old);
        assert!(cw.unmatched.is_empty(), "{:?}", cw.unmatched);
        assert_eq!(
            cw.wards_of,
            [vec!["A"], vec!["A"], vec!["B"], vec!["B"], vec!["A"]]
        );
    }
}
