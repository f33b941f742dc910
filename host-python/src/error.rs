//! Every [`rem_host::Error`] becomes an exception of `rem_db.errors` (all
//! rooted at `RemError`); this is the only place that mapping lives.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyInt, PyList, PyString, PyTuple};
use rem_host::embed::ProviderFailure;
use rem_host::{Error, PathSegment};

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The class `name` of `rem_db.errors`.
fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    let module = ERRORS.get_or_try_init(py, || py.import("rem_db.errors").map(Bound::unbind))?;
    module.bind(py).getattr(name)
}

/// The `rem_db.errors` class name for `e`.
fn class_name(e: &Error) -> &'static str {
    match e {
        Error::NotFound(_) => "NotFoundError",
        Error::SchemaNotFound(_) => "SchemaNotFoundError",
        Error::InvalidSchema(_) | Error::SchemaConflict(_) => "SchemaError",
        Error::Validation(_) => "ValidationError",
        Error::InvalidQuery { .. } => "QueryError",
        Error::Unsupported(_) => "UnsupportedError",
        Error::InvalidArgument(_) => "InvalidArgumentError",
        Error::Storage(_) | Error::Io { .. } => "StorageError",
        Error::Locked { .. } => "DatabaseLockedError",
        Error::DatabaseNotFound { .. } => "DatabaseNotFoundError",
        Error::Connection(_) => "ServerConnectionError",
        Error::Unauthorized(_) => "UnauthorizedError",
        Error::Password(_) => "PasswordError",
        Error::Embedding(_) => "EmbeddingError",
        Error::EmbeddingProvider { failure, .. } => match failure {
            ProviderFailure::Connection => "EmbeddingConnectionError",
            ProviderFailure::Authentication => "EmbeddingAuthenticationError",
            ProviderFailure::RateLimited => "EmbeddingRateLimitError",
        },
        Error::Llm(_) => "LlmError",
        Error::ResourceExhausted(_) => "ResourceExhaustedError",
        Error::Timeout(_) => "CallTimeoutError",
        Error::Forked { .. } => "DatabaseForkedError",
        Error::Trap(_) | Error::Internal(_) => "EngineError",
        _ => "RemError",
    }
}

fn issues<'py>(py: Python<'py>, list: &[rem_host::Issue]) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for i in list {
        let loc: Vec<Bound<'py, PyAny>> = i
            .loc
            .iter()
            .map(|s| match s {
                PathSegment::Field(f) => PyString::new(py, f).into_any(),
                PathSegment::Index(n) => PyInt::new(py, *n).into_any(),
            })
            .collect();
        let d = PyDict::new(py);
        d.set_item("loc", PyTuple::new(py, loc)?)?;
        d.set_item("type", i.kind.as_str())?;
        d.set_item("msg", &i.msg)?;
        out.append(d)?;
    }
    Ok(out)
}

/// Build the Python exception for `e` (`cause`, if any, becomes its `__cause__`).
pub fn to_py(py: Python<'_>, e: Error, cause: Option<PyErr>) -> PyErr {
    match build(py, &e) {
        Ok(err) => {
            if cause.is_some() {
                err.set_cause(py, cause);
            }
            err
        }
        // Only if rem_db.errors itself cannot be imported (a broken install).
        Err(import) => {
            let err = PyRuntimeError::new_err(format!("{e} (and rem_db.errors failed to import)"));
            err.set_cause(py, Some(import));
            err
        }
    }
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let cls = class(py, class_name(e))?;
    let message = e.to_string();
    let obj = match e {
        Error::Validation(list) => cls.call1((message, issues(py, list)?))?,
        Error::InvalidQuery { line, column, .. } => cls.call1((message, *line, *column))?,
        Error::Locked { path, holder } => cls.call1((message, path.display().to_string(), *holder))?,
        Error::EmbeddingProvider { retry_after, failure: ProviderFailure::RateLimited, .. } => {
            cls.call1((message, *retry_after))?
        }
        _ => cls.call1((message,))?,
    };
    obj.setattr("kind", e.kind())?;
    Ok(PyErr::from_value(obj))
}

/// An exception of `rem_db.errors` that no host error becomes (`DatabaseClosedError`,
/// `SerializationError`): class `name` with `message`. Falls back to `RuntimeError` only when
/// `rem_db.errors` cannot be imported (a broken install).
pub fn own(py: Python<'_>, name: &str, message: String) -> PyErr {
    match class(py, name).and_then(|cls| cls.call1((message.clone(),))) {
        Ok(obj) => PyErr::from_value(obj),
        Err(import) => {
            let err = PyRuntimeError::new_err(format!("{message} (and rem_db.errors failed to import)"));
            err.set_cause(py, Some(import));
            err
        }
    }
}

/// Raise the exception a WIT `error` case (`case`, its WIT name) becomes, carrying `message`:
/// the case goes through the host's conversion and this module's mapping, as an engine error
/// does. For the test that walks every case (`tests/test_errors.py`); not public API.
/// Errors: `ValueError` when `case` is not a WIT error case.
#[pyfunction]
pub fn _raise_wit_error(py: Python<'_>, case: &str, message: &str) -> PyResult<()> {
    match Error::from_wit_case(case, message) {
        Some(e) => Err(to_py(py, e, None)),
        None => Err(pyo3::exceptions::PyValueError::new_err(format!("{case:?} is not a WIT error case"))),
    }
}

/// The exception an error answer of a REM server (`status`, JSON `body`; `docs/server.md`)
/// stands for: the same class, message and details as the in-process call raises. For the
/// asyncio client of a served database (`rem_db._remote`); not public API.
#[pyfunction]
pub fn _error_from_wire(py: Python<'_>, status: u16, body: &str) -> Py<PyAny> {
    to_py(py, rem_host::remote::wire::error_from_wire(status, body), None).into_value(py).into_any()
}

/// The exception for a connection failure to a REM server (`ServerConnectionError`) saying
/// `message`. Not public API.
#[pyfunction]
pub fn _connection_error(py: Python<'_>, message: &str) -> Py<PyAny> {
    to_py(py, Error::Connection(message.to_string()), None).into_value(py).into_any()
}
