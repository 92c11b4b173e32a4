//! Query-string parsing with messages that name the parameter, the value and what is accepted.

use std::collections::HashMap;

use h3o::Resolution;

use super::error::ApiError;
use crate::hex::RESOLUTIONS;
use crate::model::Level;

/// Rejects parameters not in `allowed`.
///
/// # Errors
/// A 400 naming the unknown parameter and the accepted ones.
pub fn only(q: &HashMap<String, String>, allowed: &[&str]) -> Result<(), ApiError> {
    let mut unknown: Vec<&String> = q
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .collect();
    unknown.sort();
    match unknown.first() {
        None => Ok(()),
        Some(k) => Err(ApiError::BadRequest(format!(
            "unknown parameter `{k}`; accepted: {}",
            allowed.join(", ")
        ))),
    }
}

/// `level`, default `default`.
///
/// # Errors
/// A 400 for an unknown level.
pub fn level(q: &HashMap<String, String>, default: Level) -> Result<Level, ApiError> {
    q.get("level").map_or(Ok(default), |v| {
        v.parse()
            .map_err(|e: String| ApiError::BadRequest(format!("parameter `level`: {e}")))
    })
}

/// A whole number in `range`, default `default`.
///
/// # Errors
/// A 400 naming the parameter, the value and the range.
pub fn number(
    q: &HashMap<String, String>,
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ApiError> {
    let Some(v) = q.get(name) else {
        return Ok(default);
    };
    v.parse::<u64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "parameter `{name}`: {v:?}; expected a whole number in {}..={}",
                range.start(),
                range.end()
            ))
        })
}

/// `res`, an H3 resolution in [`RESOLUTIONS`], default 8.
///
/// # Errors
/// A 400 for anything else.
pub fn resolution(q: &HashMap<String, String>) -> Result<Resolution, ApiError> {
    let n = number(
        q,
        "res",
        8,
        u64::from(*RESOLUTIONS.start())..=u64::from(*RESOLUTIONS.end()),
    )?;
    Resolution::try_from(u8::try_from(n).expect("checked range"))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// A lon/lat box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    /// West.
    pub min_lon: f64,
    /// South.
    pub min_lat: f64,
    /// East.
    pub max_lon: f64,
    /// North.
    pub max_lat: f64,
}

impl BBox {
    /// True when (lon, lat) is inside, edges included.
    #[must_use]
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        (self.min_lon..=self.max_lon).contains(&lon) && (self.min_lat..=self.max_lat).contains(&lat)
    }
}

/// `bbox=minLon,minLat,maxLon,maxLat` (GeoJSON order), if given.
///
/// # Errors
/// A 400 naming the value and the expected form.
pub fn bbox(q: &HashMap<String, String>) -> Result<Option<BBox>, ApiError> {
    // `bbox=` (empty) is no box, as a form with an empty field sends it.
    let Some(v) = q.get("bbox").filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::BadRequest(format!(
            "parameter `bbox`: {v:?}; expected minLon,minLat,maxLon,maxLat with -180 ≤ minLon < maxLon ≤ 180 and -90 ≤ minLat < maxLat ≤ 90"
        ))
    };
    let n: Vec<f64> = v
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let [min_lon, min_lat, max_lon, max_lat] = n[..] else {
        return Err(bad());
    };
    let ok = n.iter().all(|x| x.is_finite())
        && (-180.0..=180.0).contains(&min_lon)
        && (-180.0..=180.0).contains(&max_lon)
        && (-90.0..=90.0).contains(&min_lat)
        && (-90.0..=90.0).contains(&max_lat)
        && min_lon < max_lon
        && min_lat < max_lat;
    if ok {
        Ok(Some(BBox {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        }))
    } else {
        Err(bad())
    }
}

/// `as_of`: a day of the campaign as `YYYY-MM-DD`, or none.
///
/// # Errors
/// A 400 naming the value when it is not such a date.
pub fn as_of(q: &HashMap<String, String>) -> Result<Option<chrono::NaiveDate>, ApiError> {
    q.get("as_of")
        .map(|v| {
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                ApiError::BadRequest(format!(
                    "parameter `as_of`: {v:?}; expected a date YYYY-MM-DD"
                ))
            })
        })
        .transpose()
}
