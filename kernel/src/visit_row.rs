//! One visit row: the checks that keep or leave it out, in the order the engine applies them,
//! and the keys it is counted by (campaign day, service, pseudonymous ids). The single-node
//! reader (`phuso::ingest::visits`) and the Spark workers call the same functions, so a row is
//! kept or left out, for the same reason, on both.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Offset of Asia/Ho_Chi_Minh from UTC, in milliseconds (UTC+7 all year).
pub const VN_OFFSET_MS: i64 = 7 * 3_600_000;

/// Milliseconds per day.
pub const DAY_MS: i64 = 86_400_000;

/// The services a visit helps with, in the order of every per-service count.
pub const SERVICES: [&str; 5] = [
    "vneid_install",
    "vneid_activation",
    "dvc_account",
    "online_payment",
    "qr_payment",
];

/// A lon/lat box used to tell swapped coordinates from points that are merely outside.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extent {
    /// Minimum longitude.
    pub min_lon: f64,
    /// Minimum latitude.
    pub min_lat: f64,
    /// Maximum longitude.
    pub max_lon: f64,
    /// Maximum latitude.
    pub max_lat: f64,
}

impl Extent {
    /// True when (`lon`, `lat`) is inside the box or on its edge.
    #[must_use]
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        (self.min_lon..=self.max_lon).contains(&lon) && (self.min_lat..=self.max_lat).contains(&lat)
    }
}

/// Why a row is left out (row-level problems; each is counted by [`Rejection::kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Rejection {
    /// Not a number where a coordinate should be, or out of range.
    BadCoordinates = 1,
    /// Far outside every area, but inside with lon and lat swapped.
    Swapped = 2,
    /// A team that is not on the roster.
    UnknownTeam = 3,
    /// A timestamp that cannot be read.
    BadTimestamp = 4,
    /// A service that is not one of [`SERVICES`].
    UnknownService = 5,
    /// No household id.
    MissingHousehold = 6,
    /// No visit id.
    MissingVisitId = 7,
    /// The same visit id as an earlier row (decided over all rows, not by [`check`]).
    DuplicateVisitId = 8,
    /// A day outside the campaign window (decided after the duplicates).
    OutsideWindow = 9,
}

impl Rejection {
    /// Every rejection, by code.
    pub const ALL: [Self; 9] = [
        Self::BadCoordinates,
        Self::Swapped,
        Self::UnknownTeam,
        Self::BadTimestamp,
        Self::UnknownService,
        Self::MissingHousehold,
        Self::MissingVisitId,
        Self::DuplicateVisitId,
        Self::OutsideWindow,
    ];

    /// The name it is counted under in a visit report.
    #[must_use]
    pub const fn kind(self) -> &'static str {
        match self {
            Self::BadCoordinates => "bad coordinates",
            Self::Swapped => "lat/lon swapped",
            Self::UnknownTeam => "unknown team",
            Self::BadTimestamp => "bad timestamp",
            Self::UnknownService => "unknown service",
            Self::MissingHousehold => "missing household id",
            Self::MissingVisitId => "missing visit id",
            Self::DuplicateVisitId => "duplicate visit id",
            Self::OutsideWindow => "outside campaign window",
        }
    }

    /// The rejection with code `code` (`self as u8`).
    #[must_use]
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|r| *r as u8 == code)
    }
}

/// The fields of one row as read (`None`: null or unreadable).
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// Longitude (NaN when missing).
    pub lon: f64,
    /// Latitude (NaN when missing).
    pub lat: f64,
    /// True when the team id is on the roster.
    pub team_known: bool,
    /// Wall-clock milliseconds in Asia/Ho_Chi_Minh.
    pub ts_local_ms: Option<i64>,
    /// Position of the service in [`SERVICES`].
    pub service: Option<u8>,
    /// Household key ([`id_key`]).
    pub household: Option<u64>,
    /// Visit id key ([`id_key`]).
    pub visit_id: Option<u64>,
}

/// Keeps or leaves out a row: the first problem in the engine's order (swapped coordinates,
/// then invalid ones, team, timestamp, service, household, visit id). `extent` is the box of
/// every area.
///
/// # Errors
/// The first problem of the row.
pub fn check(row: &Row, extent: &Extent) -> Result<(), Rejection> {
    let (x, y) = (row.lon, row.lat);
    let valid = x.is_finite()
        && y.is_finite()
        && (-180.0..=180.0).contains(&x)
        && (-90.0..=90.0).contains(&y);
    if !extent.contains(x, y) && extent.contains(y, x) {
        return Err(Rejection::Swapped);
    }
    if !valid {
        return Err(Rejection::BadCoordinates);
    }
    if !row.team_known {
        return Err(Rejection::UnknownTeam);
    }
    if row.ts_local_ms.is_none() {
        return Err(Rejection::BadTimestamp);
    }
    if row.service.is_none() {
        return Err(Rejection::UnknownService);
    }
    if row.household.is_none() {
        return Err(Rejection::MissingHousehold);
    }
    if row.visit_id.is_none() {
        return Err(Rejection::MissingVisitId);
    }
    Ok(())
}

/// The position of a service name in [`SERVICES`].
#[must_use]
pub fn service_index(name: &str) -> Option<u8> {
    SERVICES
        .iter()
        .position(|s| *s == name)
        .and_then(|i| u8::try_from(i).ok())
}

/// The 64-bit FNV-1a hash of `bytes`.
#[must_use]
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The key of a text id: the number itself when it is one, else its FNV-1a hash (ids are
/// pseudonymous; only equality and order matter).
#[must_use]
pub fn id_key(text: &str) -> u64 {
    text.parse::<u64>()
        .unwrap_or_else(|_| fnv1a64(text.as_bytes()))
}

/// Parses a text timestamp to Asia/Ho_Chi_Minh wall-clock milliseconds: RFC 3339 with an offset,
/// or naive (read as wall time there).
#[must_use]
pub fn parse_local_ts(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis() + VN_OFFSET_MS);
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .map(|t| t.and_utc().timestamp_millis())
}

/// Days from 1970-01-01 to `date` (what [`day_of`] counts a campaign's start in).
#[must_use]
pub fn epoch_day(date: NaiveDate) -> i64 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    date.signed_duration_since(epoch).num_days()
}

/// The campaign day (0 = the start) of wall-clock milliseconds `ts` for a campaign starting on
/// day `start_day` since 1970-01-01; negative before the start.
#[must_use]
pub fn day_of(ts: i64, start_day: i64) -> i64 {
    ts.div_euclid(DAY_MS) - start_day
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOX: Extent = Extent {
        min_lon: 106.0,
        min_lat: 10.0,
        max_lon: 107.0,
        max_lat: 11.5,
    };

    fn good() -> Row {
        Row {
            lon: 106.5,
            lat: 11.0,
            team_known: true,
            ts_local_ms: Some(0),
            service: Some(0),
            household: Some(1),
            visit_id: Some(2),
        }
    }

    #[test]
    fn the_first_problem_in_the_engines_order_decides() {
        assert_eq!(check(&good(), &BOX), Ok(()));
        let r = |f: fn(&mut Row)| {
            let mut row = good();
            f(&mut row);
            check(&row, &BOX)
        };
        // 11.0, 106.5 is far outside but inside swapped; swapped wins over a missing team.
        assert_eq!(
            r(|w| {
                (w.lon, w.lat, w.team_known) = (11.0, 106.5, false);
            }),
            Err(Rejection::Swapped)
        );
        assert_eq!(r(|w| w.lon = f64::NAN), Err(Rejection::BadCoordinates));
        assert_eq!(r(|w| w.lat = 91.0), Err(Rejection::BadCoordinates));
        // Outside the box but valid: kept (it is counted outside every area later).
        assert_eq!(r(|w| w.lon = 150.0), Ok(()));
        assert_eq!(
            r(|w| {
                (w.team_known, w.service) = (false, None);
            }),
            Err(Rejection::UnknownTeam)
        );
        assert_eq!(r(|w| w.ts_local_ms = None), Err(Rejection::BadTimestamp));
        assert_eq!(r(|w| w.service = None), Err(Rejection::UnknownService));
        assert_eq!(r(|w| w.household = None), Err(Rejection::MissingHousehold));
        assert_eq!(r(|w| w.visit_id = None), Err(Rejection::MissingVisitId));
        for k in Rejection::ALL {
            assert_eq!(Rejection::from_code(k as u8), Some(k));
        }
        assert_eq!(Rejection::from_code(0), None);
    }

    #[test]
    fn keys_services_and_days() {
        assert_eq!(id_key("42"), 42);
        // FNV-1a test vectors: "" and "a".
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(id_key("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(service_index("qr_payment"), Some(4));
        assert_eq!(service_index("QR_payment"), None);
        // 2025-10-01 is day 20362 since 1970-01-01; 08:15 is 29,700 s into it.
        let local = parse_local_ts("2025-10-01T01:15:00Z").unwrap();
        assert_eq!(local, 20_362 * DAY_MS + 29_700_000);
        assert_eq!(parse_local_ts("2025-10-01 08:15"), Some(local));
        assert_eq!(day_of(local, 20_360), 2);
        assert_eq!(
            epoch_day(NaiveDate::from_ymd_opt(2025, 10, 1).unwrap()),
            20_362
        );
        assert_eq!(day_of(20_360 * DAY_MS - 1, 20_360), -1);
    }
}
