//! Configuration: every environment variable REM reads, and the default paths.

use std::path::PathBuf;
use std::time::Duration;

/// Root of REM's per-user files (default `~/.p8`).
pub const ENV_HOME: &str = "P8_HOME";
/// The password of an encrypted database (and of `rem key-gen`'s private key).
pub const ENV_PASSWORD: &str = "P8_PASSWORD";
/// Database directory (default `$P8_HOME/db`).
pub const ENV_DB_PATH: &str = "P8_DB_PATH";
/// Directory for the compiled-component cache (default `$P8_HOME/cache`).
pub const ENV_CACHE_DIR: &str = "P8_CACHE_DIR";
/// Guest memory cap in MiB (default [`DEFAULT_MEMORY_LIMIT_MIB`]).
pub const ENV_MEMORY_LIMIT: &str = "P8_MEMORY_LIMIT_MIB";

/// Per-call deadline in milliseconds (default [`DEFAULT_CALL_TIMEOUT_MS`]; `0` or `off`: none).
/// A call still running then is stopped and rolled back; it covers the host's embedding calls too.
pub const ENV_CALL_TIMEOUT: &str = "P8_CALL_TIMEOUT_MS";

/// Default per-call deadline: 60 s, generous for one call (a 1,000-row batch embedded with
/// MiniLM on 2 cores takes about 7 s) and short of a hang.
pub const DEFAULT_CALL_TIMEOUT_MS: u64 = 60_000;

fn env_setting(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// The per-call deadline from `$P8_CALL_TIMEOUT_MS`: unset gives the default, `0`/`off`/`none`
/// no deadline. Errors: anything but a whole number of milliseconds or those words.
pub fn call_timeout_from_env() -> Result<Option<std::time::Duration>, String> {
    parse_call_timeout(env_setting(ENV_CALL_TIMEOUT))
}

fn parse_call_timeout(v: Option<String>) -> Result<Option<std::time::Duration>, String> {
    let Some(v) = v else {
        return Ok(Some(std::time::Duration::from_millis(DEFAULT_CALL_TIMEOUT_MS)));
    };
    match v.as_str() {
        "0" | "off" | "none" => Ok(None),
        _ => v.parse::<u64>().map(|ms| Some(std::time::Duration::from_millis(ms))).map_err(|_| {
            format!("{ENV_CALL_TIMEOUT}={v:?} is not a deadline: give whole milliseconds (e.g. 60000), or 0 for none")
        }),
    }
}

/// `0`, `off` or `false` turns the write pipeline off (see `kv::pipeline`); default on. Off
/// is faster when the machine's other core is busy (`docs/benchmarks.md`).
pub const ENV_WRITE_PIPELINE: &str = "P8_WRITE_PIPELINE";

/// Whether `$P8_WRITE_PIPELINE` leaves the write pipeline on (unset: on).
/// Errors: anything but `1`/`on`/`true`/`0`/`off`/`false`.
pub fn write_pipeline_from_env() -> Result<bool, String> {
    parse_write_pipeline(env_setting(ENV_WRITE_PIPELINE))
}

fn parse_write_pipeline(v: Option<String>) -> Result<bool, String> {
    match v.as_deref() {
        None | Some("1" | "on" | "true") => Ok(true),
        Some("0" | "off" | "false") => Ok(false),
        Some(v) => Err(format!("{ENV_WRITE_PIPELINE}={v:?} is not a switch: use on or off")),
    }
}

/// How long opening a database another process holds waits for it, in milliseconds (default
/// [`DEFAULT_BUSY_TIMEOUT_MS`]; `0`: fail at once), as SQLite's `busy_timeout` does.
pub const ENV_BUSY_TIMEOUT: &str = "P8_BUSY_TIMEOUT_MS";

/// Default wait for a database another process holds: 5 s.
pub const DEFAULT_BUSY_TIMEOUT_MS: u64 = 5_000;

/// The wait for a held database from `$P8_BUSY_TIMEOUT_MS` (unset: the default).
/// Errors: anything but whole milliseconds.
pub fn busy_timeout_from_env() -> Result<std::time::Duration, String> {
    parse_busy_timeout(env_setting(ENV_BUSY_TIMEOUT))
}

fn parse_busy_timeout(v: Option<String>) -> Result<std::time::Duration, String> {
    let Some(v) = v else { return Ok(std::time::Duration::from_millis(DEFAULT_BUSY_TIMEOUT_MS)) };
    v.parse::<u64>()
        .map(std::time::Duration::from_millis)
        .map_err(|_| format!("{ENV_BUSY_TIMEOUT}={v:?} is not a wait: give whole milliseconds (e.g. 5000), or 0"))
}

/// A served database's URL (`http://host:port`, `unix:/path/to.sock`): clients use it instead of
/// opening the file (see `docs/server.md`).
pub const ENV_SERVER: &str = "P8_SERVER";

/// The chat model of `rem ask`, `rem dream` and the MCP server's `ask`: a model name as the
/// OpenAI-compatible endpoint (`P8_OPENAI_BASE_URL`) knows it, `openai:` prefix optional
/// (see `crate::llm`). Unset: no LLM is configured.
pub const ENV_DEFAULT_LLM: &str = "P8_DEFAULT_LLM";

/// Second embedding model of tables with embedding fields that name no `embedding_provider_alt`
/// (each row then also keeps an `embedding_alt` vector); unset: none.
pub const ENV_ALT_EMBEDDING: &str = "P8_ALT_EMBEDDING";

/// The bearer token clients send to a server and `rem serve` requires (else `--token-file`).
pub const ENV_SERVER_TOKEN: &str = "P8_SERVER_TOKEN";

/// The file `rem serve` writes in the database directory while it serves it (JSON: `url`,
/// `pid`, `tenant`, `token_file`; never the token itself).
pub const ENDPOINT_FILE: &str = "rem.server.json";

/// The file naming the process that holds the database open (its process id), written at open.
pub const HOLDER_FILE: &str = "rem.holder";

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

/// Calls taking at least this many milliseconds are logged at `debug` (logger `rem`) with their
/// timing (default [`DEFAULT_SLOW_CALL_MS`]).
pub const ENV_SLOW_CALL: &str = "P8_SLOW_CALL_MS";

/// Default threshold of a slow call: 100 ms.
pub const DEFAULT_SLOW_CALL_MS: u64 = 100;

/// The slow-call threshold from `$P8_SLOW_CALL_MS` (read once; a bad value falls back to the default).
pub fn slow_call() -> Duration {
    static SLOW: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *SLOW.get_or_init(|| {
        let ms = std::env::var(ENV_SLOW_CALL).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(DEFAULT_SLOW_CALL_MS);
        Duration::from_millis(ms)
    })
}

/// Where `make setup` (and anyone) may put the all-MiniLM-L6-v2 weights for REM to find them
/// from any shell: `$P8_HOME/models/all-MiniLM-L6-v2` (after `P8_MODEL_DIR`).
pub fn minilm_dir() -> PathBuf {
    home().join("models").join("all-MiniLM-L6-v2")
}

/// The guest memory cap in bytes from `$P8_MEMORY_LIMIT_MIB` (`None` when unset).
/// Errors: anything but a whole number of MiB from 16 to 4096 (wasm32's whole address space).
pub fn memory_limit_from_env() -> Result<Option<u64>, String> {
    parse_memory_limit(env_setting(ENV_MEMORY_LIMIT))
}

fn parse_memory_limit(v: Option<String>) -> Result<Option<u64>, String> {
    let Some(v) = v else { return Ok(None) };
    match v.parse::<u64>() {
        Ok(mib) if (16..=4096).contains(&mib) => Ok(Some(mib * 1024 * 1024)),
        _ => Err(format!("{ENV_MEMORY_LIMIT}={v:?} is not a memory cap: give whole MiB from 16 to 4096")),
    }
}

/// Every problem with REM's settings in the environment, one sentence each (empty when all are
/// usable). `Database::open` refuses to open while any remains.
pub fn check_env() -> Vec<String> {
    [
        call_timeout_from_env().err(),
        write_pipeline_from_env().err(),
        memory_limit_from_env().err(),
        busy_timeout_from_env().err(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_errors_naming_the_variable_and_good_ones_parse() {
        let v = |s: &str| Some(s.to_string());
        for bad in ["-5", "soon", "1.5", "99999999999999999999999"] {
            assert!(parse_call_timeout(v(bad)).unwrap_err().contains(ENV_CALL_TIMEOUT), "{bad}");
        }
        for bad in ["lots", "0", "99999", "-1"] {
            assert!(parse_memory_limit(v(bad)).unwrap_err().contains(ENV_MEMORY_LIMIT), "{bad}");
        }
        assert!(parse_write_pipeline(v("maybe")).unwrap_err().contains(ENV_WRITE_PIPELINE));
        assert!(parse_busy_timeout(v("5s")).unwrap_err().contains(ENV_BUSY_TIMEOUT));
        assert_eq!(parse_busy_timeout(None), Ok(std::time::Duration::from_millis(DEFAULT_BUSY_TIMEOUT_MS)));
        assert_eq!(parse_busy_timeout(v("0")), Ok(std::time::Duration::ZERO));
        let default = std::time::Duration::from_millis(DEFAULT_CALL_TIMEOUT_MS);
        assert_eq!(parse_call_timeout(None), Ok(Some(default)));
        assert_eq!(parse_call_timeout(v("2500")), Ok(Some(std::time::Duration::from_millis(2500))));
        assert_eq!(parse_call_timeout(v("off")), Ok(None));
        assert_eq!(parse_call_timeout(v("0")), Ok(None));
        assert_eq!(parse_memory_limit(None), Ok(None));
        assert_eq!(parse_memory_limit(v("512")), Ok(Some(512 << 20)));
        assert_eq!(parse_write_pipeline(None), Ok(true));
        assert_eq!(parse_write_pipeline(v("off")), Ok(false));
    }
}
