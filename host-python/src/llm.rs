//! The chat model of `query_natural_language` and `dream`: a Python callable (`llm=`), a
//! model name, or `$P8_DEFAULT_LLM` (see `rem_host::llm`).
//!
//! The callable is called as `llm(messages, schema)` (`messages`: a list of
//! `{"role", "content"}` dicts; `schema`: the JSON Schema the answer must follow, or `None`)
//! on the thread of the database call, taking the GIL back; it returns the assistant's text
//! (a `str`) or the answer itself (a `dict`). A Python exception it raises is kept (per
//! thread) so the `LlmError` that comes out carries it as `__cause__`.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use rem_host::llm::{ChatModel, ChatReply, ChatRequest};

/// A Python callable as a [`ChatModel`].
pub struct PyChat {
    func: Py<PyAny>,
    name: String,
}

impl ChatModel for PyChat {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn chat(&self, request: &ChatRequest) -> Result<ChatReply, String> {
        Python::attach(|py| {
            let call = || -> PyResult<String> {
                let messages = serde_json::to_string(&request.messages).unwrap_or_else(|_| "[]".into());
                let messages = crate::json::loads(py, &messages)?;
                let schema = match &request.schema {
                    Some((_, s)) => crate::json::loads(py, &s.to_string())?,
                    None => py.None().into_bound(py),
                };
                let out = self.func.bind(py).call1((messages, schema))?;
                if let Ok(text) = out.cast::<PyString>() {
                    return Ok(text.to_string());
                }
                if out.cast::<PyDict>().is_ok() {
                    return crate::json::dumps(&out);
                }
                Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "the llm callable must return a str or a dict, not {}",
                    out.get_type().name()?
                )))
            };
            call().map(|content| ChatReply { content, ..ChatReply::default() }).map_err(|err| {
                let message = format!("the llm callable raised {err}");
                crate::database::keep_callback_error(py, err);
                message
            })
        })
    }
}

/// The chat model for a call: `func` (named `name`), else the model `name`, else `$P8_DEFAULT_LLM`.
pub fn choose(func: Option<Py<PyAny>>, name: Option<String>) -> rem_host::Result<Box<dyn ChatModel>> {
    match (func, name) {
        (Some(func), name) => Ok(Box::new(PyChat { func, name: name.unwrap_or_else(|| "python".into()) })),
        (None, Some(name)) => rem_host::llm::named(&name),
        (None, None) => rem_host::llm::from_env(),
    }
}
