//! A Python callable as an embedding provider (`custom:<name>` models).
//!
//! The engine calls the provider on the thread that made the database call,
//! with the GIL released; the provider takes the GIL back to call Python. A
//! Python exception raised by the callable is kept (per thread) so the
//! `EmbeddingError` that comes out of the database call carries it as
//! `__cause__`.

use std::sync::Arc;

use pyo3::prelude::*;
use rem_host::embed::CustomEmbedder;

/// Wrap `func` (`list[str] -> list[list[float]]`, already normalised by the Python layer).
pub fn custom(func: Py<PyAny>) -> CustomEmbedder {
    Arc::new(move |texts: &[String]| {
        Python::attach(|py| {
            let result = func.call1(py, (texts.to_vec(),)).and_then(|out| out.extract::<Vec<Vec<f32>>>(py));
            result.map_err(|err| {
                let message = format!("the embedding function raised {err}");
                crate::database::keep_callback_error(py, err);
                message
            })
        })
    })
}
