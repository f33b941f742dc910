//! A Python callable as an embedding provider (`custom:<name>` models).
//!
//! The engine calls the provider on the thread that made the database call,
//! with the GIL released; the provider takes the GIL back to call Python. A
//! Python exception raised by the callable is kept (per thread) so the
//! `EmbeddingError` that comes out of the database call carries it as
//! `__cause__`.

use std::cell::RefCell;
use std::sync::Arc;

use pyo3::prelude::*;
use rem_host::embed::CustomEmbedder;

thread_local! {
    static LAST_ERROR: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// The Python exception the embedding callable raised during the last call on this thread, if any.
pub fn take_error() -> Option<PyErr> {
    LAST_ERROR.with(|e| e.borrow_mut().take())
}

/// Wrap `func` (`list[str] -> list[list[float]]`, already normalised by the Python layer).
pub fn custom(func: Py<PyAny>) -> CustomEmbedder {
    Arc::new(move |texts: &[String]| {
        Python::attach(|py| {
            let result = func.call1(py, (texts.to_vec(),)).and_then(|out| out.extract::<Vec<Vec<f32>>>(py));
            result.map_err(|err| {
                let message = format!("the embedding function raised {err}");
                // KeyboardInterrupt, SystemExit: not the function's failure but the program's; raised
                // as they are when the database call returns.
                if !err.is_instance_of::<pyo3::exceptions::PyException>(py) {
                    crate::database::keep_signal(err);
                } else {
                    LAST_ERROR.with(|e| *e.borrow_mut() = Some(err));
                }
                message
            })
        })
    })
}
