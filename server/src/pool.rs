//! The engine handles of a served database: one [`Database`] per request in flight, each with
//! its own engine instance over the one open redb file, kept for reuse per tenant.
//!
//! Reads run in parallel up to the pool's size, each in its own read snapshot. Writes take the
//! one writer permit first, while waiting holding no thread and no handle, so queued writes
//! never use up the handles reads need (redb has one writer; a long write never blocks reads).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rem_host::Database;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The handles of one served database.
pub struct Pool {
    /// The handle opened first: it holds the file (and others are made from it).
    root: Database,
    free: Mutex<HashMap<String, Vec<Database>>>,
    readers: Arc<Semaphore>,
    writer: Arc<Semaphore>,
    /// Most idle instances kept for reuse, all tenants together.
    keep: usize,
    /// Reader permits (calls at once).
    size: u32,
}

/// A handle lent for one call: given back to the pool when dropped.
pub struct Lease {
    pool: Arc<Pool>,
    db: Option<Database>,
    _permit: OwnedSemaphorePermit,
}

impl std::ops::Deref for Lease {
    type Target = Database;
    fn deref(&self) -> &Database {
        self.db.as_ref().expect("a lease holds its handle until dropped")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(db) = self.db.take() else { return };
        let Ok(mut free) = self.pool.free.lock() else { return };
        // Idle instances are kept up to the pool's size in all, so that many tenants served
        // one after another do not each keep an engine instance (and its caches) alive.
        if free.values().map(Vec::len).sum::<usize>() < self.pool.keep {
            free.entry(db.tenant().to_string()).or_default().push(db);
        }
    }
}

impl Pool {
    /// A pool over `root` (an open database) with at most `size` calls at once (at least 1).
    pub fn new(root: Database, size: usize) -> Pool {
        Pool {
            root,
            free: Mutex::new(HashMap::new()),
            readers: Arc::new(Semaphore::new(size.max(1))),
            writer: Arc::new(Semaphore::new(1)),
            keep: size.max(1) + 1,
            size: u32::try_from(size.max(1)).unwrap_or(u32::MAX),
        }
    }

    /// Run `f` on the root handle with the file to itself: takes the writer permit and every
    /// reader permit (so the calls in flight finish first and new ones wait), drops the spare
    /// handles, then runs `f` on the blocking pool. For compaction, which needs the only handle
    /// on the file. Errors: `Internal` (shutting down, or `f` panicked); `f`'s own.
    pub async fn exclusive<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Database) -> rem_host::Result<T> + Send + 'static,
    ) -> rem_host::Result<T> {
        let _writer = self.writer.clone().acquire_owned().await.map_err(|_| closing())?;
        let _readers = self.readers.clone().acquire_many_owned(self.size).await.map_err(|_| closing())?;
        self.clear();
        let pool = self.clone();
        tokio::task::spawn_blocking(move || f(&pool.root))
            .await
            .map_err(|e| rem_host::Error::Internal(format!("the call failed: {e}")))?
    }

    /// A handle for `tenant`, once a permit is free (the writer's for a `write` call, else a
    /// reader's). Blocking work (making an engine instance) runs on the blocking pool.
    /// Errors: `InvalidArgument` (bad tenant name), `Internal` (the engine failed to load).
    pub async fn lease(self: &Arc<Self>, tenant: &str, write: bool) -> rem_host::Result<Lease> {
        let semaphore = if write { self.writer.clone() } else { self.readers.clone() };
        let permit = semaphore.acquire_owned().await.map_err(|_| closing())?;
        let found = self.free.lock().map_err(|_| closing())?.get_mut(tenant).and_then(Vec::pop);
        let db = match found {
            Some(db) => db,
            None => {
                let pool = self.clone();
                let tenant = tenant.to_string();
                tokio::task::spawn_blocking(move || pool.root.for_tenant(&tenant))
                    .await
                    .map_err(|e| rem_host::Error::Internal(format!("making an engine instance: {e}")))??
            }
        };
        Ok(Lease { pool: self.clone(), db: Some(db), _permit: permit })
    }

    /// Drop every spare handle (at shutdown, before the root closes the file).
    pub fn clear(&self) {
        if let Ok(mut free) = self.free.lock() {
            free.clear();
        }
    }
}

fn closing() -> rem_host::Error {
    rem_host::Error::Internal("the server is shutting down".into())
}
