//! A benchmark hook: the same operations the Python benchmark times, run
//! through the Rust host API with no Python between calls, in the same process
//! and on the same database, so `host-python/bench/bench.py` can report what
//! the Python layer adds per call as a difference measured in one run.

use std::time::Instant;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rem_host::{SearchOptions, SearchQuery};

use crate::database::Database;
use crate::{error, json};

/// Run `op` through the Rust host API and return the elapsed seconds (inputs are
/// converted before the clock starts). `op`: `insert` (each of `items`, dicts, into
/// `table`), `insert_batch` (all `items` in one call), `get` (each id of `items`),
/// `query` (`items[0]`, a SQL string, `reps` times), `search` (`items`, a vector, top-10
/// in `table`, `reps` times), `loads` (`items[0]`, JSON text, built as Python objects `reps`
/// times, as results are). Errors: `ValueError` for an unknown `op`; `rem_db` errors.
#[pyfunction]
#[pyo3(signature = (db, op, table, items, reps=1))]
pub fn bench_loop(
    py: Python<'_>,
    db: &Database,
    op: &str,
    table: String,
    items: &Bound<'_, PyAny>,
    reps: usize,
) -> PyResult<f64> {
    let host = db.host(py)?;
    let map = |e: rem_host::Error| error::to_py(py, e, None);
    match op {
        "insert" | "insert_batch" => {
            let rows = json::dumps_each(items)?;
            py.detach(|| {
                let t = Instant::now();
                if op == "insert" {
                    for r in &rows {
                        let entity = host.insert(&table, r)?;
                        crate::database::entity_id(&entity)?;
                    }
                } else {
                    host.insert_batch(&table, &rows)?;
                }
                Ok(t.elapsed().as_secs_f64())
            })
            .map_err(map)
        }
        "get" => {
            let ids: Vec<String> = items.extract()?;
            py.detach(|| {
                let t = Instant::now();
                for id in &ids {
                    host.get(id)?;
                }
                Ok(t.elapsed().as_secs_f64())
            })
            .map_err(map)
        }
        "query" => {
            let sql: String = items.get_item(0)?.extract()?;
            py.detach(|| {
                let t = Instant::now();
                for _ in 0..reps {
                    host.query(&sql)?;
                }
                Ok(t.elapsed().as_secs_f64())
            })
            .map_err(map)
        }
        "loads" => {
            let text: String = items.get_item(0)?.extract()?;
            let t = Instant::now();
            for _ in 0..reps {
                json::loads(py, &text)?;
            }
            Ok(t.elapsed().as_secs_f64())
        }
        "search" => {
            let query = SearchQuery::Vector(items.extract()?);
            let options = SearchOptions { min_score: -1.0, ..SearchOptions::default() };
            py.detach(|| {
                let t = Instant::now();
                for _ in 0..reps {
                    host.search(&table, &query, &options)?;
                }
                Ok(t.elapsed().as_secs_f64())
            })
            .map_err(map)
        }
        other => {
            Err(PyValueError::new_err(format!("unknown op {other:?}: use insert, insert_batch, get, query or search")))
        }
    }
}
