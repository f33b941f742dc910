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
use crate::private;
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
    /// The process whose ticker thread advances the epoch (0: none yet).
    ticker_pid: std::sync::atomic::AtomicU32,
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

/// The per-user key of the artifacts' MACs, 32 random bytes in the cache folder (`0600`).
pub const CACHE_KEY_FILE: &str = "cache.key";

/// The file beside an artifact holding its 32-byte MAC ([`artifact_mac`]).
fn mac_file(artifact: &Path) -> PathBuf {
    let mut name = artifact.as_os_str().to_owned();
    name.push(".mac");
    PathBuf::from(name)
}

/// BLAKE3 in keyed mode (the BLAKE3 paper's MAC construction) of the compiled artifact.
fn artifact_mac(key: &[u8; 32], artifact: &[u8]) -> blake3::Hash {
    blake3::keyed_hash(key, artifact)
}

/// The artifact at `file`, opened (no symlink followed) and checked against the MAC beside it,
/// streamed through a 64 KiB buffer so that checking costs no 20 MB allocation; `None` when
/// anything is missing or does not match. `blake3::Hash`'s `PartialEq` is constant-time.
fn verified_artifact(key: &[u8; 32], file: &Path) -> Option<std::fs::File> {
    use std::io::Read;
    let mac: [u8; 32] = private::read_file(&mac_file(file)).ok()?.try_into().ok()?;
    let mut f = private::open_regular(file).ok()?;
    let mut hasher = blake3::Hasher::new_keyed(key);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    (hasher.finalize() == blake3::Hash::from_bytes(mac)).then_some(f)
}

/// A fresh name in `dir` for a file being written.
fn temp_name(dir: &Path) -> std::result::Result<PathBuf, String> {
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| format!("no randomness: {e}"))?;
    Ok(dir.join(format!(".tmp-{}-{:016x}", std::process::id(), u64::from_le_bytes(nonce))))
}

/// The cache key of `dir`, made on first use: written whole under a temporary name, then linked
/// into place (`link` fails rather than replace, so two processes agree on one key). A key of
/// the wrong length (a crash of an older REM mid-write) is replaced. Errors: why no key can be had.
fn cache_key(dir: &Path) -> std::result::Result<[u8; 32], String> {
    let file = dir.join(CACHE_KEY_FILE);
    for _ in 0..3 {
        match private::read_file(&file) {
            Ok(bytes) => match <[u8; 32]>::try_from(bytes) {
                Ok(key) => return Ok(key),
                Err(_) => std::fs::remove_file(&file).map_err(|e| format!("cannot replace {}: {e}", file.display()))?,
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).map_err(|e| format!("no randomness for the cache key: {e}"))?;
                let tmp = temp_name(dir)?;
                private::write_new_file(&tmp, &key).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
                let linked = std::fs::hard_link(&tmp, &file);
                std::fs::remove_file(&tmp).ok();
                match linked {
                    Ok(()) => return Ok(key),
                    // Another process made it first: read theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(format!("cannot write {}: {e}", file.display())),
                }
            }
            Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
        }
    }
    Err(format!("{} keeps changing", file.display()))
}

/// The cache folder's key if the folder can be trusted (see [`private::make_private_dir`]: one of this user's that others can write is made `0700` first).
fn usable_cache(dir: &Path) -> std::result::Result<[u8; 32], String> {
    private::create_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    private::make_private_dir(dir)?;
    cache_key(dir)
}

/// Load the compiled component from the cache, or compile it (and cache it when the cache
/// folder can be trusted; otherwise say why on stderr, once, and keep it in memory only).
fn load_component(engine: &Engine, dir: &Path) -> Result<(Component, Artifact)> {
    let key = match usable_cache(dir) {
        Ok(key) => Some(key),
        Err(why) => {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                eprintln!(
                    "warning: not using the compiled-engine cache: {why}. The engine is compiled in memory on \
                     every start; set {} to a private folder to cache it.",
                    crate::config::ENV_CACHE_DIR
                )
            });
            None
        }
    };
    let file = cache_file(engine, dir);
    if let Some(key) = &key
        && let Some(opened) = verified_artifact(key, &file)
    {
        // Loaded through the descriptor just verified, so the bytes mapped are those checked even
        // if the name were replaced meanwhile.
        let by_fd = PathBuf::from(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&opened)));
        let path = if by_fd.exists() { by_fd } else { file.clone() };
        // SAFETY: `deserialize_file` runs the artifact as native code, so it must be what
        // `precompile_component` produced. It is: it was opened as a regular file (no symlink
        // followed) in a folder that only this user can write, and its keyed MAC matches, under a
        // key only this user can read, which only this code writes, right after compiling
        // (docs/design.md, "Failure model"). wasmtime also checks the header for its version and
        // configuration. An artifact failing any check is compiled anew and replaced.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(engine, &path) };
        drop(opened);
        if let Ok(c) = loaded {
            return Ok((c, Artifact::Cached(file)));
        }
    }
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprintln!("compiling the REM engine for this machine, once (a few seconds)...");
    }
    let bytes = engine
        .precompile_component(ENGINE_WASM)
        .map_err(|e| Error::Internal(format!("compiling the engine: {e:#}")))?;
    #[allow(unsafe_code)]
    // SAFETY: `bytes` was produced just now by `precompile_component` on this engine.
    let component = unsafe { Component::deserialize(engine, &bytes) }
        .map_err(|e| Error::Internal(format!("loading the compiled engine: {e:#}")))?;
    let written = key.and_then(|key| {
        // The artifact first, then its MAC: a reader between the two sees a MAC that does not
        // match and compiles anew, never a match for bytes it was not computed over.
        let put = |path: &Path, bytes: &[u8]| -> Option<()> {
            let tmp = temp_name(dir).ok()?;
            private::write_new_file(&tmp, bytes).ok()?;
            // rename replaces whatever is at `path` (a symlink included) without following it.
            if std::fs::rename(&tmp, path).is_err() {
                std::fs::remove_file(&tmp).ok();
                return None;
            }
            Some(())
        };
        put(&file, &bytes)?;
        put(&mac_file(&file), artifact_mac(&key, &bytes).as_bytes())?;
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
        let mut linker: Linker<HostState> = Linker::new(&engine);
        let link_err = |e: wasmtime::Error| Error::Internal(format!("linking the engine: {e:#}"));
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(link_err)?;
        crate::bindings::Engine::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).map_err(link_err)?;
        let pre = linker.instantiate_pre(&component).map_err(link_err)?;
        let pre = EnginePre::new(pre).map_err(link_err)?;
        let rt = Runtime { engine, deadlines, pre, artifact, ticker_pid: Default::default() };
        rt.ensure_ticker();
        Ok(rt)
    }

    /// Make sure this process has the ticker thread that advances the epoch (a runtime with
    /// deadlines only). Threads do not survive `fork()`: a child using a runtime its parent built
    /// starts its own here, or its deadlines and interrupt checks would never fire.
    pub fn ensure_ticker(&self) {
        use std::sync::atomic::Ordering;
        let pid = std::process::id();
        if self.deadlines && self.ticker_pid.swap(pid, Ordering::AcqRel) != pid {
            start_ticker(&self.engine);
        }
    }

    /// Where the compiled artifact of the runtime with or without `deadlines` is cached in
    /// `cache_dir` (whether or not it exists). Errors: `Internal` when wasmtime cannot build the engine.
    pub fn artifact_path(cache_dir: &Path, deadlines: bool) -> Result<PathBuf> {
        let engine = Engine::new(&config(deadlines)).map_err(|e| Error::Internal(format!("wasmtime engine: {e:#}")))?;
        Ok(cache_file(&engine, cache_dir))
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
