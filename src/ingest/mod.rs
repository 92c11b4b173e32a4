//! Reading inputs into validated model values: boundaries (GeoJSON), census, teams and visits
//! (CSV or Parquet through polars). Depends on `model` and `error` only.

pub mod boundaries;
pub mod census;
pub mod crosswalk;
pub mod national;
pub mod provinces;
pub mod table;
pub mod teams;
pub mod visits;
