//! Per-store host state and the host side of the WIT imports.

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::rem::engine::{embeddings, storage, types};
use crate::embed::Embeddings;
use crate::kv::Txn;

/// A check run about every [`crate::INTERRUPT_POLL`] while an engine call runs; when it answers
/// `true` the call is stopped and rolled back with [`crate::Error::Interrupted`] (the Python
/// wheel checks for Ctrl-C here).
#[derive(Clone)]
pub struct InterruptCheck(pub std::sync::Arc<dyn Fn() -> bool + Send + Sync>);

impl std::fmt::Debug for InterruptCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InterruptCheck(..)")
    }
}

/// What one wasmtime `Store` carries.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// Memory cap for the guest.
    pub limiter: Limiter,
    /// The transaction of the export call in progress, if any.
    pub txn: Option<Txn>,
    /// Embedding providers.
    pub embeddings: Embeddings,
    /// Engine calls that returned `Ok` in the transaction in progress.
    pub ok_calls: u32,
    /// When the call in progress must stop (host-side embedding included).
    pub deadline: Option<std::time::Instant>,
    /// The handle's interrupt check, asked by the epoch callback.
    pub interrupt: Option<InterruptCheck>,
    /// Why the call in progress was stopped, if it was.
    pub stop: Option<Stop>,
    /// The kind of the last embedding provider failure of the call in progress, with the
    /// seconds it asked to wait: the engine's `embedding` error carries only a message, so the
    /// host puts the kind back on the error it returns.
    pub embed_failure: Option<(crate::embed::ProviderFailure, Option<f64>)>,
}

/// Why a call was stopped before it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// It ran past its deadline.
    Deadline,
    /// The interrupt check answered `true`.
    Interrupted,
}

impl HostState {
    /// A state with no filesystem, network or environment, stderr inherited
    /// (guest panic messages), and linear memory capped at `memory_limit` bytes.
    pub fn new(memory_limit: u64, embeddings: Embeddings) -> HostState {
        let wasi = WasiCtx::builder().inherit_stderr().build();
        let limiter = Limiter { max: usize::try_from(memory_limit).unwrap_or(usize::MAX), hit: false };
        HostState {
            wasi,
            table: ResourceTable::new(),
            limiter,
            txn: None,
            embeddings,
            ok_calls: 0,
            deadline: None,
            interrupt: None,
            stop: None,
            embed_failure: None,
        }
    }

    fn txn(&mut self) -> Result<&mut Txn, types::Error> {
        self.txn.as_mut().ok_or_else(|| types::Error::Storage("storage used outside an engine call".into()))
    }
}

/// Caps guest linear memory and records whether the cap was hit.
pub struct Limiter {
    /// Cap in bytes.
    pub max: usize,
    /// Set when the guest asked to grow past `max` during the current call.
    pub hit: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max {
            self.hit = true;
            return Ok(false);
        }
        Ok(true)
    }
    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl types::Host for HostState {}

impl storage::Host for HostState {
    fn get(&mut self, key: Vec<u8>) -> Result<Option<Vec<u8>>, types::Error> {
        self.txn()?.get(&key).map_err(types::Error::Storage)
    }

    fn get_many(&mut self, keys: storage::Keys) -> Result<storage::Values, types::Error> {
        let keys = crate::kv::unpack(&keys.data, &keys.ends).map_err(types::Error::Storage)?;
        let (data, ends) = self.txn()?.get_many(&keys).map_err(types::Error::Storage)?;
        Ok(storage::Values { data, ends })
    }

    fn scan(
        &mut self,
        start: Vec<u8>,
        end: Option<Vec<u8>>,
        limit: u32,
        reverse: bool,
    ) -> Result<storage::Page, types::Error> {
        let (data, ends) = self.txn()?.scan(&start, end.as_deref(), limit, reverse).map_err(types::Error::Storage)?;
        Ok(storage::Page { data, ends })
    }

    fn write(&mut self, batch: storage::WriteBatch) -> Result<(), types::Error> {
        let batch =
            crate::kv::Batch::new(batch.data, batch.key_ends, batch.value_ends).map_err(types::Error::Storage)?;
        self.txn()?.apply(batch).map_err(types::Error::Storage)
    }
}

impl embeddings::Host for HostState {
    /// Embeds within the call's deadline: a provider still working then is given up on (the
    /// OpenAI client's timeout is cut to what is left), and the call fails with `Timeout`.
    /// MiniLM also stops between its batches when the handle's interrupt check answers `true`.
    fn embed(&mut self, model: String, texts: Vec<String>) -> Result<Vec<Vec<f32>>, types::Error> {
        let past = |d: &Option<std::time::Instant>| d.is_some_and(|d| std::time::Instant::now() >= d);
        let check = self.interrupt.clone();
        let hit = std::cell::Cell::new(false);
        let interrupted = || {
            let yes = check.as_ref().is_some_and(|c| (c.0)());
            hit.set(hit.get() || yes);
            yes
        };
        let result = if past(&self.deadline) {
            Err(String::from("no time left").into())
        } else {
            self.embeddings.embed_before(&model, &texts, self.deadline, &interrupted)
        };
        if hit.get() {
            self.stop = Some(Stop::Interrupted);
            return Err(types::Error::Embedding("the embedding call was interrupted".into()));
        }
        if past(&self.deadline) {
            self.stop = Some(Stop::Deadline);
            return Err(types::Error::Embedding("the embedding call ran past the call's deadline".into()));
        }
        result.map_err(|e| {
            self.embed_failure = e.failure.map(|f| (f, e.retry_after));
            types::Error::Embedding(e.message)
        })
    }

    fn default_model(&mut self) -> String {
        self.embeddings.default_model().to_string()
    }

    fn alt_model(&mut self) -> Option<String> {
        self.embeddings.alt_model().map(str::to_string)
    }
}
