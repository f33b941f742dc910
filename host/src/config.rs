//! Configuration: every environment variable REM reads, and the default paths.

use std::path::PathBuf;

/// Root of REM's per-user files (default `~/.p8`).
pub const ENV_HOME: &str = "P8_HOME";
/// Database directory (default `$P8_HOME/db`).
pub const ENV_DB_PATH: &str = "P8_DB_PATH";
/// Directory for the compiled-component cache (default `$P8_HOME/cache`).
pub const ENV_CACHE_DIR: &str = "P8_CACHE_DIR";
/// Guest memory cap in MiB (default [`DEFAULT_MEMORY_LIMIT_MIB`]).
pub const ENV_MEMORY_LIMIT: &str = "P8_MEMORY_LIMIT_MIB";

/// Per-call deadline in milliseconds (default: none). A call still running then is stopped.
pub const ENV_CALL_TIMEOUT: &str = "P8_CALL_TIMEOUT_MS";

/// The per-call deadline from `$P8_CALL_TIMEOUT_MS`, if set to a positive number.
pub fn call_timeout_from_env() -> Option<std::time::Duration> {
    std::env::var(ENV_CALL_TIMEOUT)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(std::time::Duration::from_millis)
}

/// `0`, `off` or `false` turns the write pipeline off (see `kv::pipeline`); default on. Off
/// is faster when the machine's other core is busy (`docs/benchmarks.md`, issue 2).
pub const ENV_WRITE_PIPELINE: &str = "P8_WRITE_PIPELINE";

/// Whether `$P8_WRITE_PIPELINE` leaves the write pipeline on (unset, or anything but `0`/`off`/`false`).
pub fn write_pipeline_from_env() -> bool {
    std::env::var(ENV_WRITE_PIPELINE).map_or(true, |v| !matches!(v.trim(), "0" | "off" | "false"))
}

/// Set to `perfmap` to write `/tmp/perf-<pid>.map` so `perf` can name guest functions.
pub const ENV_PROFILER: &str = "P8_PROFILER";

/// Default guest linear-memory cap: 2 GiB (wasm32 allows at most 4 GiB).
pub const DEFAULT_MEMORY_LIMIT_MIB: u64 = 2048;

/// File holding the redb database inside a database directory.
pub const DB_FILE: &str = "rem.redb";

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// `$P8_HOME`, else `~/.p8` (else `./.p8` when there is no home directory).
pub fn home() -> PathBuf {
    env_path(ENV_HOME).unwrap_or_else(|| std::env::home_dir().unwrap_or_else(|| PathBuf::from(".")).join(".p8"))
}

/// The default database directory: `$P8_DB_PATH`, else `$P8_HOME/db`, else `~/.p8/db`.
pub fn default_db_path() -> PathBuf {
    env_path(ENV_DB_PATH).unwrap_or_else(|| home().join("db"))
}

/// The compiled-component cache directory: `$P8_CACHE_DIR`, else `$P8_HOME/cache`.
pub fn cache_dir() -> PathBuf {
    env_path(ENV_CACHE_DIR).unwrap_or_else(|| home().join("cache"))
}

/// The guest memory cap in bytes from `$P8_MEMORY_LIMIT_MIB`, if set and valid.
pub fn memory_limit_from_env() -> Option<u64> {
    std::env::var(ENV_MEMORY_LIMIT).ok().and_then(|v| v.trim().parse::<u64>().ok()).map(|mib| mib * 1024 * 1024)
}
