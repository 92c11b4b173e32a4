//! Domain types shared by every module: area codes and levels, services, teams.
//!
//! No I/O and no dependencies on other modules of the crate.

use std::fmt;

use serde::{Deserialize, Serialize};

pub use phuso_kernel::AreaCode;

/// The administrative level of an area, coarsest first.
#[derive(
    utoipa::ToSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The whole country: the root of a national data directory (`phuso init --province all`).
    Country,
    /// The (former) province: Bình Dương.
    Province,
    /// A former (pre-2025) district; 2025 wards are assigned to the one holding most of their area.
    District,
    /// A 2025 ward or commune (phường / xã).
    Ward,
    /// A neighbourhood (khu phố / ấp): synthetic in the bundled data.
    Neighbourhood,
}

impl Level {
    /// All levels, coarsest first.
    pub const ALL: [Self; 5] = [
        Self::Country,
        Self::Province,
        Self::District,
        Self::Ward,
        Self::Neighbourhood,
    ];

    /// The snake_case name used in CLI arguments, JSON and CSV.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Country => "country",
            Self::Province => "province",
            Self::District => "district",
            Self::Ward => "ward",
            Self::Neighbourhood => "neighbourhood",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown level {s:?}: expected one of country, province, district, ward, neighbourhood"
                )
            })
    }
}

/// What a visit helped the household with.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// Installing the VNeID app.
    VneidInstall,
    /// Activating a level-2 electronic identity in VNeID.
    VneidActivation,
    /// Opening an account on the national public-service portal (DVC).
    DvcAccount,
    /// Paying a bill online.
    OnlinePayment,
    /// Paying by QR code.
    QrPayment,
}

impl Service {
    /// All services, in the order used for per-service count arrays.
    pub const ALL: [Self; 5] = [
        Self::VneidInstall,
        Self::VneidActivation,
        Self::DvcAccount,
        Self::OnlinePayment,
        Self::QrPayment,
    ];

    /// The snake_case name used in files and output (the kernel's list, which the Spark
    /// workers read services with).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        phuso_kernel::visit_row::SERVICES[self as usize]
    }

    /// Parses the snake_case name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        phuso_kernel::visit_row::service_index(s).map(|i| Self::ALL[usize::from(i)])
    }

    /// Position in [`Service::ALL`].
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// The kind of a volunteer team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TeamKind {
    /// Tổ công nghệ số cộng đồng: community digital-technology team.
    #[serde(rename = "CNSCD")]
    Cnscd,
    /// Thanh niên tình nguyện: youth-volunteer team.
    #[serde(rename = "TNTN")]
    Tntn,
}

impl TeamKind {
    /// The name used in files: `CNSCD` or `TNTN`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Cnscd => "CNSCD",
            Self::Tntn => "TNTN",
        }
    }

    /// Parses `CNSCD`/`CNSCĐ` or `TNTN`, ignoring case.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_uppercase().as_str() {
            "CNSCD" | "CNSCĐ" => Some(Self::Cnscd),
            "TNTN" => Some(Self::Tntn),
            _ => None,
        }
    }
}

/// A volunteer team and its home area (a neighbourhood in the bundled data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    /// Team id, unique in the roster.
    pub team_id: String,
    /// Code of the area the team is responsible for.
    pub area_code: AreaCode,
    /// CNSCĐ or TNTN.
    pub kind: TeamKind,
    /// Number of members (≥ 1) from the campaign start.
    pub members: u32,
    /// Later changes, by date (the roster's history): from `from` on, the team has `members`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<RosterChange>,
}

/// A change of a team's members, effective from a day on (0 members: the team stood down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RosterChange {
    /// The first day with the new number.
    pub from: chrono::NaiveDate,
    /// Members from that day on.
    pub members: u32,
}

impl Team {
    /// Members on `day`: the last change dated on or before it, else the roster's number.
    /// `changes` must be sorted by date (for one date, the last one counts).
    #[must_use]
    pub fn members_on(&self, day: chrono::NaiveDate) -> u32 {
        self.changes
            .iter()
            .take_while(|c| c.from <= day)
            .last()
            .map_or(self.members, |c| c.members)
    }
}
