//! The server's live state: the current snapshot (engine and prebuilt layers) behind a lock that
//! readers hold only to clone an `Arc`, the store that uploads write to, and the tokens.
//!
//! After an accepted batch, a new engine is built from the store on a blocking thread (a second,
//! read-only connection: WAL readers never block the writer) and swapped in whole, so readers
//! see the data before the batch or after it, never half of it. Batches arriving during a
//! rebuild are picked up by one more rebuild.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::AppState;
use crate::engine::{Engine, PopulationSource};
use crate::store::tokens::{TokenInfo, find_token};
use crate::store::{Store, StoreError};

/// Who may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAccess {
    /// Anyone who reaches the port (loopback, or `--public-read`).
    Open,
    /// Only holders of a token (any role).
    Token,
}

/// The state behind the router.
pub struct Live {
    current: RwLock<Arc<AppState>>,
    store: Option<Mutex<Store>>,
    store_path: Option<std::path::PathBuf>,
    population: PopulationSource,
    basemap: Option<String>,
    tokens: RwLock<(Option<Instant>, Vec<TokenInfo>)>,
    reload: Mutex<(bool, bool)>,
    /// Who may read.
    pub read_access: ReadAccess,
}

/// How often the token list is read again from the store (revocations take effect within it).
const TOKENS_TTL: Duration = Duration::from_secs(2);

/// On an unknown token, the list is read again if it is older than this.
const TOKENS_MISS_TTL: Duration = Duration::from_millis(100);

impl Live {
    /// A server without a store: the snapshot never changes and nothing can be written.
    #[must_use]
    pub fn read_only(state: Arc<AppState>) -> Self {
        Self {
            current: RwLock::new(state),
            store: None,
            store_path: None,
            population: PopulationSource::default(),
            basemap: None,
            tokens: RwLock::new((None, Vec::new())),
            reload: Mutex::new((false, false)),
            read_access: ReadAccess::Open,
        }
    }

    /// A server over `store`, starting with `state` (built from that store).
    #[must_use]
    pub fn with_store(
        store: Store,
        state: Arc<AppState>,
        population: PopulationSource,
        basemap: Option<String>,
        read_access: ReadAccess,
    ) -> Self {
        Self {
            current: RwLock::new(state),
            store_path: Some(store.path().to_owned()),
            store: Some(Mutex::new(store)),
            population,
            basemap,
            tokens: RwLock::new((None, Vec::new())),
            reload: Mutex::new((false, false)),
            read_access,
        }
    }

    /// The current snapshot.
    #[must_use]
    pub fn current(&self) -> Arc<AppState> {
        self.current
            .read()
            .map_or_else(|p| Arc::clone(&p.into_inner()), |g| Arc::clone(&g))
    }

    /// The store, for writes (one writer at a time).
    pub(crate) fn store(&self) -> Option<&Mutex<Store>> {
        self.store.as_ref()
    }

    /// The active token matching `secret`. The token list is read again from the store when it
    /// is older than [`TOKENS_TTL`] (so revocations take effect), and on a miss when older than
    /// [`TOKENS_MISS_TTL`] (so a token just created works at once).
    pub fn token(&self, secret: &str) -> Option<TokenInfo> {
        let age = self
            .tokens
            .read()
            .ok()
            .and_then(|t| t.0)
            .map_or(Duration::MAX, |at| at.elapsed());
        if age >= TOKENS_TTL {
            self.refresh_tokens();
        }
        let found = {
            let t = self.tokens.read().ok()?;
            find_token(&t.1, secret).cloned()
        };
        if found.is_none() && age >= TOKENS_MISS_TTL && age < TOKENS_TTL {
            self.refresh_tokens();
            let t = self.tokens.read().ok()?;
            return find_token(&t.1, secret).cloned();
        }
        found
    }

    fn refresh_tokens(&self) {
        if let Some(store) = &self.store {
            let list = store.lock().ok().and_then(|s| s.tokens().ok());
            if let (Some(list), Ok(mut t)) = (list, self.tokens.write()) {
                *t = (Some(Instant::now()), list);
            }
        }
    }

    /// Rebuilds the snapshot from the store, now, on this thread.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub fn rebuild(&self) -> Result<(), StoreError> {
        let Some(path) = &self.store_path else {
            return Ok(());
        };
        let reader = Store::open(path, false)?;
        let engine = Engine::load_from(&reader, self.population, crate::hex::DEFAULT_RESOLUTION)?;
        let state = Arc::new(AppState::new(Arc::new(engine), self.basemap.clone()));
        if let Ok(mut cur) = self.current.write() {
            *cur = state;
        }
        Ok(())
    }

    /// Asks for a rebuild after a batch; returns at once. One rebuild runs at a time; batches
    /// that arrive meanwhile are covered by one more.
    pub fn request_rebuild(self: &Arc<Self>) {
        {
            let Ok(mut r) = self.reload.lock() else {
                return;
            };
            r.0 = true; // dirty
            if r.1 {
                return; // running: it will see `dirty`
            }
            r.1 = true;
        }
        let live = Arc::clone(self);
        std::thread::spawn(move || {
            loop {
                {
                    let Ok(mut r) = live.reload.lock() else {
                        return;
                    };
                    if !r.0 {
                        r.1 = false;
                        return;
                    }
                    r.0 = false;
                }
                let started = Instant::now();
                match live.rebuild() {
                    Ok(()) => tracing::info!(
                        elapsed_s = started.elapsed().as_secs_f64(),
                        "figures rebuilt from the store"
                    ),
                    Err(e) => tracing::error!(%e, "cannot rebuild the figures from the store"),
                }
            }
        });
    }

    /// True while a rebuild is pending or running.
    #[must_use]
    pub fn rebuilding(&self) -> bool {
        self.reload.lock().is_ok_and(|r| r.0 || r.1)
    }
}
