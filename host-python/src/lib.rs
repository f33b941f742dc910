//! `rem_db._rem`: the native half of the `rem_db` Python package.
//!
//! It exposes one class, [`database::Database`], a thin, GIL-releasing wrapper
//! over [`rem_host::Database`] that speaks JSON text; the public, typed API
//! (`REMDatabase`, `AsyncREMDatabase`, `MemoryEngine`, the exceptions) is
//! written in Python in `python/rem_db/` and documented in `rem_db/__init__.pyi`.

mod bench;
mod database;
mod embed;
mod error;
mod json;
mod llm;

use pyo3::prelude::*;

/// The native module `rem_db._rem`.
#[pymodule]
fn _rem(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<database::Database>()?;
    // The host's log records go to Python's `logging` (logger `rem`); levels are read from
    // Python's configuration (cached; `rem_db` sets the `rem` logger from `P8_LOG`).
    pyo3_log::init();
    database::note_main_thread(m.py())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("ENGINE_HASH", rem_host::ENGINE_HASH)?;
    m.add("DEFAULT_EMBEDDING_MODEL", rem_host::embed::DEFAULT_MODEL)?;
    m.add_function(wrap_pyfunction!(database::default_db_path, m)?)?;
    m.add_function(wrap_pyfunction!(database::restore, m)?)?;
    m.add_function(wrap_pyfunction!(bench::bench_loop, m)?)?;
    m.add_function(wrap_pyfunction!(error::_raise_wit_error, m)?)?;
    m.add_function(wrap_pyfunction!(error::_error_from_wire, m)?)?;
    m.add_function(wrap_pyfunction!(error::_connection_error, m)?)?;
    m.add_function(wrap_pyfunction!(json::_dumps, m)?)?;
    m.add_function(wrap_pyfunction!(_cli, m)?)?;
    m.add_function(wrap_pyfunction!(json::_splice_vectors, m)?)?;
    Ok(())
}

/// Run the `rem` command line with `argv` (the program name first) in this process, without
/// the GIL: the `rem` console script of the wheel (`rem_db._cli.main`). Returns the exit code.
#[pyfunction]
fn _cli(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.detach(|| rem_cli::run(argv))
}
