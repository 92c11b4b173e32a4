//! Shapes of the JSON answers that handlers assemble from several parts, for the OpenAPI
//! document ([`super::openapi`]). The parts themselves (figures, plans, audit rows, receipts…)
//! derive their schemas where they are defined. Schemathesis checks every answer against these
//! in CI (`scripts/schemathesis.sh`), so a shape that drifts from the handler fails there.

#![allow(dead_code, reason = "read only by the OpenAPI derive")]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use utoipa::ToSchema;

use crate::audit::{AuditRow, AuditSummary};
use crate::disclosure::cells::ShownCell;
use crate::metrics::Figures;
use crate::model::Level;
use crate::priority::Priority;

/// Every error: one message, at most 1,000 characters.
#[derive(ToSchema)]
pub struct Error {
    /// What went wrong and how to put it right.
    error: String,
}

/// `GET /api/health`.
#[derive(ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(pattern = "^ok$")]
    status: String,
}

/// An area's figures under the small-count rule, with whether any is withheld.
#[derive(ToSchema)]
pub struct ShownFigures {
    #[serde(flatten)]
    figures: Figures,
    /// True when the rule withholds a figure of this area (`null` in the answer).
    withheld: bool,
}

/// A ranked area under the small-count rule (its reasons then quote no withheld figure).
#[derive(ToSchema)]
pub struct ShownPriority {
    #[serde(flatten)]
    priority: Priority,
    /// True when the rule withholds a figure of this area.
    withheld: bool,
}

/// The properties of an area feature.
#[derive(ToSchema)]
pub struct AreaProperties {
    #[serde(flatten)]
    priority: Priority,
    /// True when the rule withholds a figure of this area.
    withheld: bool,
    /// Names of the pre-2025 units it was formed from.
    former_names: Vec<String>,
    /// Residential groups (tổ dân phố).
    residential_groups: u64,
    /// Pairs its members form.
    pairs: u64,
    /// Residential groups without a pair.
    pairs_short: u64,
    /// Where the page writes its name: `[lon, lat]`.
    label_point: Option<[f64; 2]>,
}

/// A GeoJSON MultiPolygon.
#[derive(ToSchema)]
pub struct MultiPolygon {
    #[serde(rename = "type")]
    #[schema(pattern = "^MultiPolygon$")]
    kind: String,
    /// Polygons of rings of `[lon, lat]`.
    coordinates: Vec<Vec<Vec<[f64; 2]>>>,
}

/// A GeoJSON Polygon.
#[derive(ToSchema)]
pub struct Polygon {
    #[serde(rename = "type")]
    #[schema(pattern = "^Polygon$")]
    kind: String,
    /// Rings of `[lon, lat]`.
    coordinates: Vec<Vec<[f64; 2]>>,
}

/// One area.
#[derive(ToSchema)]
pub struct AreaFeature {
    #[serde(rename = "type")]
    #[schema(pattern = "^Feature$")]
    kind: String,
    /// The area's code.
    id: String,
    properties: AreaProperties,
    /// With `geometry=point`: the area's box, `[west, south, east, north]`.
    bbox: Option<[f64; 4]>,
    geometry: AreaGeometry,
}

/// An area's shape, or with `geometry=point` its label point.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum AreaGeometry {
    MultiPolygon(MultiPolygon),
    Point(Point),
}

/// A GeoJSON Point.
#[derive(ToSchema)]
pub struct Point {
    #[serde(rename = "type")]
    #[schema(pattern = "^Point$")]
    kind: String,
    /// `[lon, lat]`.
    coordinates: [f64; 2],
}

/// `GET /api/areas`: the areas of one level, in ranking order.
#[derive(ToSchema)]
pub struct AreaCollection {
    #[serde(rename = "type")]
    #[schema(pattern = "^FeatureCollection$")]
    kind: String,
    features: Vec<AreaFeature>,
}

/// One H3 cell.
#[derive(ToSchema)]
pub struct CellFeature {
    #[serde(rename = "type")]
    #[schema(pattern = "^Feature$")]
    kind: String,
    /// The cell's index.
    id: String,
    properties: ShownCell,
    geometry: Polygon,
}

/// `GET /api/hexes`.
#[derive(ToSchema)]
pub struct CellCollection {
    #[serde(rename = "type")]
    #[schema(pattern = "^FeatureCollection$")]
    kind: String,
    /// The H3 resolution.
    #[schema(minimum = 6, maximum = 10)]
    resolution: u8,
    features: Vec<CellFeature>,
}

/// A link to an area.
#[derive(ToSchema)]
pub struct AreaLink {
    code: String,
    name: String,
    level: Level,
}

/// A pre-2025 unit an area was formed from, with the share of it that went there.
#[derive(ToSchema)]
pub struct FormerUnit {
    code: String,
    name: String,
    share: f64,
}

/// An area's campaign days, from the start to today; `null` where the small-count rule
/// withholds a day.
#[derive(ToSchema)]
pub struct Series {
    dates: Vec<NaiveDate>,
    visits: Vec<Option<u64>>,
    new_households: Vec<Option<u64>>,
    /// Households reached by the end of each day.
    households_reached: Vec<Option<u64>>,
    /// Households of the target coverage.
    target_households: f64,
    deadline: NaiveDate,
}

/// `GET /api/areas/{code}`.
#[derive(ToSchema)]
pub struct AreaDetail {
    area: AreaProperties,
    /// True when the token may see this area without the small-count rule (an admin, or a
    /// planner of its ward).
    full: bool,
    /// The rule's threshold k.
    min_count: u64,
    parent: Option<AreaLink>,
    /// The areas above it, from the root down to its parent (the page's breadcrumb).
    ancestors: Vec<AreaLink>,
    children: Vec<AreaLink>,
    former_units: Vec<FormerUnit>,
    series: Series,
    /// The service funnel, one step per service in order.
    funnel: Vec<FunnelStep>,
}

/// One step of an area's service funnel (see README, "Service funnel").
#[derive(ToSchema)]
pub struct FunnelStep {
    /// The service.
    service: crate::model::Service,
    /// Households with any visit of the service (null when withheld).
    households: Option<u64>,
    /// `households` over the step before's (none for the first step, or when unknown or 0).
    of_previous: Option<f64>,
    /// `households` over the households reached.
    of_reached: Option<f64>,
}

/// `GET /api/priorities`.
#[derive(ToSchema)]
pub struct Priorities {
    level: Level,
    as_of: NaiveDate,
    items: Vec<ShownPriority>,
}

/// The campaign's calendar.
#[derive(ToSchema)]
pub struct CampaignDays {
    start: NaiveDate,
    deadline: NaiveDate,
    days: u32,
    target_coverage: f64,
    as_of: NaiveDate,
    /// Campaign day of `as_of` (1 = start).
    day: u32,
    days_left: i64,
    rate_window_days: u32,
    tntn_min_members: u32,
}

/// Visit rows read (not households: province-wide data quality).
#[derive(ToSchema)]
pub struct VisitRows {
    rows_read: u64,
    rows_accepted: u64,
    /// Rows left out, per kind of problem.
    rejected: BTreeMap<String, u64>,
    /// Accepted visits outside every area.
    outside: u64,
}

/// Population vintages.
#[derive(ToSchema)]
pub struct Population {
    /// `census2019` or `published2025`.
    #[schema(pattern = "^(census2019|published2025)$")]
    in_use: String,
    census_2019: f64,
    published_2025: f64,
}

/// `GET /api/summary`.
#[derive(ToSchema)]
pub struct Summary {
    province: ShownFigures,
    campaign: CampaignDays,
    visits: VisitRows,
    population: Population,
    /// Areas per level.
    counts: BTreeMap<String, u64>,
    services: Vec<String>,
    basemap_url: Option<String>,
    /// When this snapshot was built (RFC 3339).
    data_changed_at: String,
    /// The small-count rule's threshold k.
    min_count: u64,
    /// The neighbourhoods, teams and visits are the generator's (the bundled demo).
    synthetic: bool,
    /// What the province has so far.
    data: DataHeld,
}

/// What a province has so far (one set up with `phuso init` has wards and the census only).
#[derive(ToSchema)]
pub struct DataHeld {
    /// Neighbourhood polygons.
    neighbourhoods: u64,
    /// Teams on the roster.
    teams: u64,
    /// Whether any visit has been counted: until then, coverage, pace and projections are
    /// "no data yet".
    visits: bool,
}

/// `GET /api/audit`.
#[derive(ToSchema)]
pub struct Audit {
    level: Level,
    summary: AuditSummary,
    items: Vec<AuditRow>,
}

/// The campaign a what-if assumed.
#[derive(ToSchema)]
pub struct WhatIfCampaign {
    deadline: NaiveDate,
    target_coverage: f64,
}

/// `POST /api/whatif`.
#[derive(ToSchema)]
pub struct WhatIf {
    campaign: WhatIfCampaign,
    province: Option<ShownFigures>,
    level: Level,
    items: Vec<ShownPriority>,
}

/// `GET /api/plans`.
#[derive(ToSchema)]
pub struct PlanList {
    items: Vec<crate::store::plans::SavedPlan>,
}

/// `GET /api/plans/{id}`.
#[derive(ToSchema)]
pub struct SavedPlanDetail {
    saved: crate::store::plans::SavedPlan,
    /// The plan as it was saved.
    #[schema(value_type = Object)]
    plan: serde_json::Value,
}

/// `GET /api/admin/log`.
#[derive(ToSchema)]
pub struct Log {
    items: Vec<crate::store::LogEntry>,
}

/// A link of the OGC API.
#[derive(ToSchema)]
pub struct OgcLink {
    /// Absolute URL.
    href: String,
    /// `self`, `next`, `prev`, `items`, `service-desc`, …
    rel: String,
    /// Media type of the target.
    #[serde(rename = "type")]
    kind: String,
    title: String,
}

/// `GET /ogc`.
#[derive(ToSchema)]
pub struct OgcLanding {
    title: String,
    description: String,
    links: Vec<OgcLink>,
}

/// `GET /ogc/conformance`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OgcConformance {
    conforms_to: Vec<String>,
}

/// A collection's spatial extent.
#[derive(ToSchema)]
pub struct OgcSpatial {
    /// One box: west, south, east, north.
    bbox: Vec<[f64; 4]>,
    crs: String,
}

/// A collection's extent.
#[derive(ToSchema)]
pub struct OgcExtent {
    spatial: OgcSpatial,
}

/// `GET /ogc/collections/{collectionId}`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OgcCollection {
    id: String,
    title: String,
    description: String,
    /// Always `feature`.
    #[schema(pattern = "^feature$")]
    item_type: String,
    crs: Vec<String>,
    extent: OgcExtent,
    links: Vec<OgcLink>,
}

/// `GET /ogc/collections`.
#[derive(ToSchema)]
pub struct OgcCollections {
    links: Vec<OgcLink>,
    collections: Vec<OgcCollection>,
}

/// A feature of the OGC API: an area (properties as in `/api/areas`) or an H3 cell (as in
/// `/api/hexes`).
#[derive(ToSchema)]
pub struct OgcFeature {
    #[serde(rename = "type")]
    #[schema(pattern = "^Feature$")]
    kind: String,
    /// The area code or the cell index.
    id: String,
    /// A MultiPolygon (areas) or a Polygon (cells).
    geometry: Option<serde_json::Value>,
    properties: BTreeMap<String, serde_json::Value>,
    /// On a single feature: `self` and `collection`.
    links: Option<Vec<OgcLink>>,
}

/// `GET /ogc/collections/{collectionId}/items`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OgcItems {
    #[serde(rename = "type")]
    #[schema(pattern = "^FeatureCollection$")]
    kind: String,
    /// Features matching the query, on every page.
    number_matched: u64,
    /// Features in this page.
    number_returned: u64,
    /// When the data last changed (RFC 3339).
    time_stamp: String,
    links: Vec<OgcLink>,
    features: Vec<OgcFeature>,
}
