//! The server's live state: the current snapshot (engine and prebuilt layers) behind a lock that
//! readers hold only to clone an `Arc`, the store that uploads write to, and the tokens.
//!
//! After a batch is committed, its added visits go to one applier thread, which owns the
//! engine's [`Tally`] and makes the next engine with [`Engine::apply`] (only the leaves, days and
//! H3 cells the batch touches change; the figures are rolled up again) and swaps the new snapshot
//! in whole: readers see the data before a batch or after it, never half of it. Batches that
//! arrive while one is applied are applied together. Writes that are not visits (rosters) ask for
//! a full reload from the store instead; batches the reload already holds (by batch id) are not
//! applied again.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, mpsc};
use std::time::{Duration, Instant};

use super::AppState;
use crate::engine::{Engine, PopulationSource, Tally, drop_outside_window};
use crate::ingest::visits::{VisitReport, Visits};
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
    tokens: RwLock<(Option<Instant>, Vec<TokenInfo>)>,
    applier: Option<mpsc::Sender<Work>>,
    /// Work sent to the applier and not yet visible.
    pending: AtomicUsize,
    /// Who may read.
    pub read_access: ReadAccess,
}

/// What the applier thread does next.
enum Work {
    /// The visits a committed store batch added.
    Batch(i64, Visits),
    /// Reload everything from the store (after a roster change).
    Reload,
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
            tokens: RwLock::new((None, Vec::new())),
            applier: None,
            pending: AtomicUsize::new(0),
            read_access: ReadAccess::Open,
        }
    }

    /// A server over `store`: loads its engine and starts the applier thread.
    ///
    /// # Errors
    /// When the store cannot be loaded.
    pub fn with_store(
        store: Store,
        population: PopulationSource,
        basemap: Option<String>,
        read_access: ReadAccess,
        min_count: u64,
    ) -> Result<Arc<Self>, StoreError> {
        let (engine, tally) = store.load_engine(population, crate::hex::DEFAULT_RESOLUTION)?;
        let publisher = Arc::new(super::published::Publisher::with_store(store.path())?);
        let state = Arc::new(AppState::with_publisher(
            Arc::new(engine),
            basemap,
            min_count,
            publisher,
        ));
        let (tx, rx) = mpsc::channel();
        let live = Arc::new(Self {
            current: RwLock::new(state),
            store_path: Some(store.path().to_owned()),
            store: Some(Mutex::new(store)),
            population,
            tokens: RwLock::new((None, Vec::new())),
            applier: Some(tx),
            pending: AtomicUsize::new(0),
            read_access,
        });
        // The thread holds the state weakly: it ends when the server is dropped.
        let weak = Arc::downgrade(&live);
        std::thread::Builder::new()
            .name("phuso-applier".into())
            .spawn(move || apply_loop(&weak, &rx, tally))
            .map_err(|e| StoreError::Missing {
                file: live.store_path.clone().unwrap_or_default(),
                what: format!("cannot start the applier thread: {e}"),
            })?;
        Ok(live)
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

    /// Makes a committed batch's added visits visible (soon, on the applier thread). Call it
    /// while still holding the store's lock, so batches reach the applier in commit order.
    pub fn batch_committed(&self, batch: i64, added: Visits) {
        if added.is_empty() {
            return;
        }
        self.send(Work::Batch(batch, added));
    }

    /// Asks for a full reload from the store (after a write that is not visits); returns at once.
    pub fn request_reload(&self) {
        self.send(Work::Reload);
    }

    fn send(&self, work: Work) {
        if let Some(tx) = &self.applier {
            self.pending.fetch_add(1, Ordering::SeqCst);
            if tx.send(work).is_err() {
                self.pending.fetch_sub(1, Ordering::SeqCst);
                tracing::error!(
                    "the applier thread has stopped; figures no longer follow the store"
                );
            }
        }
    }

    /// True while committed work is not yet visible.
    #[must_use]
    pub fn rebuilding(&self) -> bool {
        self.pending.load(Ordering::SeqCst) > 0
    }

    fn swap(&self, engine: Engine) {
        let next = Arc::new(self.current().next(Arc::new(engine)));
        if let Ok(mut cur) = self.current.write() {
            *cur = next;
        }
    }

    /// The engine and tally over the store as it is now (a second, read-only connection: WAL
    /// readers never block the writer).
    fn reload(&self) -> Result<(Engine, Tally), StoreError> {
        let path = self
            .store_path
            .as_ref()
            .ok_or_else(|| StoreError::Missing {
                file: std::path::PathBuf::new(),
                what: "no store".into(),
            })?;
        Store::open(path, false)?.load_engine(self.population, crate::hex::DEFAULT_RESOLUTION)
    }
}

/// The applier thread: takes all work waiting, reloads if any of it asks to, applies the batches
/// the engine does not hold yet, swaps the snapshot.
fn apply_loop(live: &std::sync::Weak<Live>, rx: &mpsc::Receiver<Work>, mut tally: Tally) {
    while let Ok(first) = rx.recv() {
        let mut work = vec![first];
        work.extend(rx.try_iter());
        let Some(live) = live.upgrade() else {
            return;
        };
        let started = Instant::now();
        let n = work.len();
        let mut engine = None;
        if work.iter().any(|w| matches!(w, Work::Reload)) {
            match live.reload() {
                Ok((e, t)) => {
                    engine = Some(e);
                    tally = t;
                }
                Err(e) => tracing::error!(%e, "cannot reload the figures from the store"),
            }
        }
        let mut added = Visits::default();
        let mut newest = 0;
        for w in work {
            if let Work::Batch(batch, visits) = w
                && batch > tally.last_batch()
            {
                added.extend(&visits);
                newest = newest.max(batch);
            }
        }
        if !added.is_empty() {
            let current = live.current();
            let base = engine.as_ref().unwrap_or_else(|| current.engine());
            // Dated inside the window of the store's norms when uploaded; the engine's norms
            // are the same unless they were replaced while serving (then a reload catches up).
            drop_outside_window(&mut added, &mut VisitReport::default(), base.campaign());
            let next = base.apply(&mut tally, &added, newest);
            engine = Some(next);
        }
        if let Some(e) = engine {
            live.swap(e);
        }
        live.pending.fetch_sub(n, Ordering::SeqCst);
        tracing::info!(
            elapsed_s = started.elapsed().as_secs_f64(),
            work = n,
            visits = added.len(),
            "figures updated"
        );
    }
}
