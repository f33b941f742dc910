//! The shared wasmtime runtimes: an `Engine`, the component compiled once per
//! machine (cached on disk), and a pre-instantiated linker. There are two, built on
//! first use: one without per-call deadlines, and one with them (wasmtime's epoch
//! interruption), used only by databases opened with a call timeout. Epoch checks run at
//! every loop head and function entry of the compiled guest and cost 13-20% in
//! compute-bound calls (`docs/benchmarks.md`), so nobody pays for deadlines they did not ask for.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, OptLevel};

use crate::bindings::EnginePre;
use crate::error::{Error, Result};
use crate::state::HostState;

/// The engine component, built by `build.rs`.
pub static ENGINE_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/rem_engine.wasm"));

/// BLAKE3 of [`ENGINE_WASM`], the cache key of the compiled artifact.
pub const ENGINE_HASH: &str = env!("REM_ENGINE_HASH");

/// Everything needed to instantiate the engine cheaply.
pub struct Runtime {
    /// The wasmtime engine (shared config for compile and run).
    pub engine: Engine,
    /// Whether calls can have deadlines (the engine has epoch interruption and a ticker).
    pub deadlines: bool,
    /// Linker with WASI and REM imports, pre-instantiated against the component.
    pub pre: EnginePre<HostState>,
    /// Where the compiled artifact came from (for diagnostics).
    pub artifact: Artifact,
}

/// How the compiled component was obtained.
#[derive(Debug, Clone)]
pub enum Artifact {
    /// Loaded from the on-disk cache.
    Cached(PathBuf),
    /// Compiled now (and written to the cache if possible).
    Compiled(Option<PathBuf>),
}

fn config(deadlines: bool) -> Config {
    let mut c = Config::new();
    c.cranelift_opt_level(OptLevel::Speed);
    c.wasm_component_model(true);
    // Per-call deadlines: the guest checks the engine's epoch at loop heads and
    // function entries; a ticker thread advances it every `EPOCH_TICK`.
    c.epoch_interruption(deadlines);
    if std::env::var(crate::config::ENV_PROFILER).is_ok_and(|v| v == "perfmap") {
        c.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    c
}

/// The artifact's file name: the component's hash plus wasmtime's own
/// compatibility hash (wasmtime version and every setting that affects
/// compiled code), so no other build or configuration ever loads it.
fn cache_file(engine: &Engine, dir: &Path) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    dir.join(format!("rem-engine-{}-{:016x}.cwasm", &ENGINE_HASH[..16], h.finish()))
}

/// Load the compiled component from the cache, or compile and cache it.
fn load_component(engine: &Engine, dir: &Path) -> Result<(Component, Artifact)> {
    let file = cache_file(engine, dir);
    if file.exists() {
        // SAFETY: the file was written by `precompile_component` of this same
        // engine configuration (its name carries the component hash), renamed
        // into place atomically, and wasmtime checks its header for version and
        // configuration compatibility before use.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(engine, &file) };
        if let Ok(c) = loaded {
            return Ok((c, Artifact::Cached(file)));
        }
        // Incompatible or damaged: fall through and recompile over it.
    }
    let bytes = engine
        .precompile_component(ENGINE_WASM)
        .map_err(|e| Error::Internal(format!("compiling the engine: {e:#}")))?;
    #[allow(unsafe_code)]
    // SAFETY: `bytes` was produced just now by `precompile_component` on this engine.
    let component = unsafe { Component::deserialize(engine, &bytes) }
        .map_err(|e| Error::Internal(format!("loading the compiled engine: {e:#}")))?;
    let written = std::fs::create_dir_all(dir).ok().and_then(|_| {
        let tmp = dir.join(format!(".tmp-{}-{}", std::process::id(), ENGINE_HASH));
        std::fs::write(&tmp, &bytes).ok()?;
        std::fs::rename(&tmp, &file).ok()?;
        Some(file.clone())
    });
    Ok((component, Artifact::Compiled(written)))
}

/// How often the engine's epoch advances: the resolution of call deadlines.
pub const EPOCH_TICK: std::time::Duration = std::time::Duration::from_millis(5);

/// Advance `engine`'s epoch every [`EPOCH_TICK`] for the life of the process.
fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("rem-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .ok();
}

impl Runtime {
    /// Build a runtime, using the compiled-component cache in `cache_dir`; with `deadlines`,
    /// calls can be given a deadline (`Store::set_epoch_deadline`, in [`EPOCH_TICK`]s).
    /// The two kinds compile to different artifacts, cached side by side. Errors:
    /// `Internal` when wasmtime cannot build the engine, compile, load or link the component.
    pub fn new(cache_dir: &Path, deadlines: bool) -> Result<Runtime> {
        let engine = Engine::new(&config(deadlines)).map_err(|e| Error::Internal(format!("wasmtime engine: {e:#}")))?;
        let (component, artifact) = load_component(&engine, cache_dir)?;
        if deadlines {
            start_ticker(&engine);
        }
        let mut linker: Linker<HostState> = Linker::new(&engine);
        let link_err = |e: wasmtime::Error| Error::Internal(format!("linking the engine: {e:#}"));
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(link_err)?;
        crate::bindings::Engine::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).map_err(link_err)?;
        let pre = linker.instantiate_pre(&component).map_err(link_err)?;
        let pre = EnginePre::new(pre).map_err(link_err)?;
        Ok(Runtime { engine, deadlines, pre, artifact })
    }

    /// The process-wide runtime without deadlines (built on first use from
    /// [`crate::config::cache_dir`]). Errors: as [`Runtime::new`].
    pub fn shared() -> Result<&'static Runtime> {
        Runtime::shared_for(false)
    }

    /// The process-wide runtime with or without `deadlines`, each built on first use.
    /// Errors: as [`Runtime::new`].
    pub fn shared_for(deadlines: bool) -> Result<&'static Runtime> {
        static PLAIN: OnceLock<std::result::Result<Runtime, Error>> = OnceLock::new();
        static TIMED: OnceLock<std::result::Result<Runtime, Error>> = OnceLock::new();
        let cell = if deadlines { &TIMED } else { &PLAIN };
        cell.get_or_init(|| Runtime::new(&crate::config::cache_dir(), deadlines)).as_ref().map_err(Clone::clone)
    }
}
