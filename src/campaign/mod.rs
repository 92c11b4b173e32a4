//! The campaign layer: figures, projection, ranking, norms and plans. Pure: no I/O, no geometry.
//!
//! - [`projection`]: the one projection model: days to target, completion, members needed.
//! - [`metrics`]: per-area figures and their formulas.
//! - [`priority`]: the ranking with reason sentences in English and Vietnamese.
//! - [`audit`]: the staffing-norm audit (TNTN teams, residential-group pairs) with reasons.
//! - [`plan`]: min–max allocation of new volunteers in pairs, meet-deadline, moves of pairs.

pub mod audit;
pub mod metrics;
pub mod plan;
pub mod priority;
pub mod projection;
