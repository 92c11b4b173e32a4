//! Area codes, compared as text.

use std::fmt;

/// An area's code: a GSO code for real units ("25975"), a generated code for synthetic
/// neighbourhoods ("25975-07"). Compared as text: codes are zero-padded and never parsed as numbers.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct AreaCode(pub String);

impl AreaCode {
    /// The code as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for AreaCode {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}
