//! The counts of `phuso join`: points per area, in no area, in no area but inside one with lon
//! and lat swapped, and unusable, with the file that says them. The single-node command and the
//! Spark job both count through [`join_counts`] and write through [`write_counts`], so their
//! files are equal byte for byte.

use std::io::Write;

use crate::index::AreaIndex;
use crate::join::{OUTSIDE, assign, count_points, in_range};

/// What a join of one set of points counts; sums of these are the counts of their union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinCounts {
    /// `per_area[a]`: points in area `a` (the file's feature order).
    pub per_area: Vec<u64>,
    /// Usable points in no area, not counted as swapped.
    pub outside: u64,
    /// Points in no area that fall inside one with lon and lat exchanged.
    pub swapped: u64,
    /// Points with a coordinate that is not a number or out of range (and not swapped).
    pub invalid: u64,
}

impl JoinCounts {
    /// Nothing counted, for `areas` areas.
    #[must_use]
    pub fn zero(areas: usize) -> Self {
        Self {
            per_area: vec![0; areas],
            outside: 0,
            swapped: 0,
            invalid: 0,
        }
    }

    /// Adds the counts of another set of points over the same areas.
    ///
    /// # Panics
    /// When the two count different numbers of areas.
    pub fn add(&mut self, other: &Self) {
        assert_eq!(self.per_area.len(), other.per_area.len(), "different areas");
        for (a, b) in self.per_area.iter_mut().zip(&other.per_area) {
            *a += b;
        }
        self.outside += other.outside;
        self.swapped += other.swapped;
        self.invalid += other.invalid;
    }

    /// Every point counted once: inside an area, outside, swapped or invalid.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.per_area.iter().sum::<u64>() + self.outside + self.swapped + self.invalid
    }

    /// The counts as one flat slot list: the areas, then outside, swapped and invalid (the form
    /// a distributed job sums slot by slot).
    #[must_use]
    pub fn to_slots(&self) -> Vec<u64> {
        let mut v = self.per_area.clone();
        v.extend([self.outside, self.swapped, self.invalid]);
        v
    }

    /// The counts from [`Self::to_slots`]' form; `None` when `slots` is not `areas + 3` long.
    #[must_use]
    pub fn from_slots(slots: &[u64], areas: usize) -> Option<Self> {
        if slots.len() != areas + 3 {
            return None;
        }
        Some(Self {
            per_area: slots[..areas].to_vec(),
            outside: slots[areas],
            swapped: slots[areas + 1],
            invalid: slots[areas + 2],
        })
    }
}

/// A join of points to areas: the counts, the rows (0-based) counted as swapped, and each
/// point's area when the swapped check had to place every point (else `None`).
#[derive(Debug)]
pub struct Joined {
    /// The counts.
    pub counts: JoinCounts,
    /// The 0-based rows counted as swapped, ascending.
    pub swapped_rows: Vec<usize>,
    /// Each point's area or [`OUTSIDE`], when it was computed.
    pub assigned: Option<Vec<u32>>,
}

/// Joins the points (`lon`, `lat`, WGS84 degrees; NaN for a missing value) to the areas of
/// `index` with the border rule, and counts them. A point in no area whose exchanged coordinates
/// fall inside an area counts as swapped, not as outside or invalid.
///
/// # Panics
/// When the columns differ in length.
#[must_use]
pub fn join_counts(index: &AreaIndex, lon: &[f64], lat: &[f64]) -> Joined {
    let counts = count_points(index, lon, lat);
    let mut joined = Joined {
        counts: JoinCounts {
            per_area: counts.per_area,
            outside: counts.outside,
            swapped: 0,
            invalid: counts.invalid,
        },
        swapped_rows: Vec::new(),
        assigned: None,
    };
    if joined.counts.outside + joined.counts.invalid == 0 {
        return joined;
    }
    let a = assign(index, lon, lat);
    let candidates: Vec<usize> = (0..lon.len())
        .filter(|&i| a[i] == OUTSIDE && in_range(lat[i], lon[i]))
        .collect();
    let sx: Vec<f64> = candidates.iter().map(|&i| lat[i]).collect();
    let sy: Vec<f64> = candidates.iter().map(|&i| lon[i]).collect();
    let back = assign(index, &sx, &sy);
    joined.swapped_rows = candidates
        .iter()
        .zip(&back)
        .filter(|(_, b)| **b != OUTSIDE)
        .map(|(&i, _)| i)
        .collect();
    for &i in &joined.swapped_rows {
        if in_range(lon[i], lat[i]) {
            joined.counts.outside -= 1;
        } else {
            joined.counts.invalid -= 1;
        }
    }
    joined.counts.swapped = joined.swapped_rows.len() as u64;
    joined.assigned = Some(a);
    joined
}

/// Writes the counts file: `code,name,count` per area in the areas' order, then `_outside`,
/// `_swapped` and `_invalid`.
///
/// # Errors
/// When writing fails.
///
/// # Panics
/// When `names` and the counts differ in length.
pub fn write_counts<W: Write>(
    out: W,
    names: &[(String, String)],
    counts: &JoinCounts,
) -> csv::Result<()> {
    assert_eq!(
        names.len(),
        counts.per_area.len(),
        "names and counts differ"
    );
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["code", "name", "count"])?;
    for ((code, name), n) in names.iter().zip(&counts.per_area) {
        w.write_record([code.as_str(), name.as_str(), &n.to_string()])?;
    }
    w.write_record(["_outside", "in no area", &counts.outside.to_string()])?;
    w.write_record([
        "_swapped",
        "in no area; inside one with lon and lat swapped",
        &counts.swapped.to_string(),
    ])?;
    w.write_record([
        "_invalid",
        "not a number or out of range",
        &counts.invalid.to_string(),
    ])?;
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use geo::{MultiPolygon, polygon};

    use super::*;

    fn two_squares() -> AreaIndex {
        let a = polygon![(x: 100.0, y: 10.0), (x: 101.0, y: 10.0), (x: 101.0, y: 11.0), (x: 100.0, y: 11.0)];
        let b = polygon![(x: 101.0, y: 10.0), (x: 102.0, y: 10.0), (x: 102.0, y: 11.0), (x: 101.0, y: 11.0)];
        AreaIndex::new(vec![MultiPolygon(vec![a]), MultiPolygon(vec![b])])
    }

    #[test]
    fn every_kind_of_point_by_hand() {
        let index = two_squares();
        // In a; on the shared edge (a, listed first); in b; outside; swapped (10.5, 100.5 lies in
        // a with lon and lat exchanged); swapped and out of range (lat 101.5 > 90); NaN; out of
        // range and not swapped.
        let lon = [100.5, 101.0, 101.5, 50.0, 10.5, 10.5, f64::NAN, 500.0];
        let lat = [10.5, 10.5, 10.5, 10.0, 100.5, 101.5, 10.0, 10.0];
        let j = join_counts(&index, &lon, &lat);
        assert_eq!(
            j.counts,
            JoinCounts {
                per_area: vec![2, 1],
                outside: 1,
                swapped: 2,
                invalid: 2
            }
        );
        assert_eq!(j.swapped_rows, vec![4, 5]);
        assert_eq!(j.counts.total(), lon.len() as u64);
        let mut out = Vec::new();
        let names = vec![
            ("1".to_owned(), "A, the first".to_owned()),
            ("2".to_owned(), "B".to_owned()),
        ];
        write_counts(&mut out, &names, &j.counts).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "code,name,count\n1,\"A, the first\",2\n2,B,1\n_outside,in no area,1\n\
             _swapped,in no area; inside one with lon and lat swapped,2\n\
             _invalid,not a number or out of range,2\n"
        );
    }

    #[test]
    fn counts_of_parts_add_up_to_the_whole() {
        let index = two_squares();
        let lon = [100.5, 10.5, 101.5, f64::NAN, 100.2];
        let lat = [10.5, 100.5, 10.5, 1.0, 10.9];
        let whole = join_counts(&index, &lon, &lat).counts;
        let mut sum = JoinCounts::zero(2);
        for (xs, ys) in [
            (&lon[..2], &lat[..2]),
            (&lon[2..2], &lat[2..2]),
            (&lon[2..], &lat[2..]),
        ] {
            sum.add(&join_counts(&index, xs, ys).counts);
        }
        assert_eq!(sum, whole);
        let slots = whole.to_slots();
        assert_eq!(slots, vec![2, 1, 0, 1, 1]);
        assert_eq!(JoinCounts::from_slots(&slots, 2), Some(whole));
        assert_eq!(JoinCounts::from_slots(&slots, 3), None);
    }
}
