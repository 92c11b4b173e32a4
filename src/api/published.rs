//! What this server has published under the small-count rule: the last [`Release`] of the areas
//! and of the H3 layers, which every new snapshot is protected against (see
//! [`crate::disclosure::release`]), kept in the store when there is one so that a restart does
//! not forget it.

use std::path::Path;
use std::sync::Mutex;

use crate::disclosure::Release;
use crate::store::releases::Published;
use crate::store::{Store, StoreError};

/// The last releases, and where they are kept.
pub struct Publisher {
    areas: Mutex<Release>,
    hexes: Mutex<Release>,
    /// A connection of its own to the store, for keeping them.
    store: Option<Mutex<Store>>,
}

impl Publisher {
    /// Nothing published yet, nothing kept (a server without a store, or a test).
    #[must_use]
    pub fn in_memory() -> Self {
        Self {
            areas: Mutex::new(Release::default()),
            hexes: Mutex::new(Release::default()),
            store: None,
        }
    }

    /// The releases kept in the store at `path`, kept there again after each new one.
    ///
    /// # Errors
    /// When the store cannot be opened or read.
    pub fn with_store(path: &Path) -> Result<Self, StoreError> {
        let store = Store::open(path, false)?;
        Ok(Self {
            areas: Mutex::new(store.release(Published::Areas)?),
            hexes: Mutex::new(store.release(Published::Hexes)?),
            store: Some(Mutex::new(store)),
        })
    }

    /// The last release of `which`.
    #[must_use]
    pub fn last(&self, which: Published) -> Release {
        let memory = match which {
            Published::Areas => &self.areas,
            Published::Hexes => &self.hexes,
        };
        memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Runs `protect` against the last release of `which` and keeps the release it returns as
    /// the last. One at a time per table, so releases follow each other.
    pub fn publish<T>(
        &self,
        which: Published,
        protect: impl FnOnce(&Release) -> (T, Release),
    ) -> T {
        let memory = match which {
            Published::Areas => &self.areas,
            Published::Hexes => &self.hexes,
        };
        let mut last = memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (out, next) = protect(&last);
        if next != *last {
            if let Some(store) = &self.store {
                let store = store
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Err(e) = store.save_release(which, &next) {
                    tracing::error!(%e, "the release could not be kept: after a restart, the next snapshot is protected only against what is kept");
                }
            }
            *last = next;
        }
        out
    }
}
