//! The HTTP side of `rem serve`: the routes (`GET /v1/health`, `POST /v1/<call>`), bearer-token
//! checks, request ids and logs, the body limit, error answers and NDJSON streaming.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rem_host::Error;
use rem_host::remote::wire;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::calls;
use crate::pool::Pool;

/// What every request handler shares.
pub struct AppState {
    /// The engine handles.
    pub pool: Arc<Pool>,
    /// The bearer token every request must carry, if any.
    pub token: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body: usize,
    /// The served database directory.
    pub path: PathBuf,
    /// The engine's version text, for `/v1/health`.
    pub engine: String,
    /// Request ids made here (when the client sent none).
    pub next_id: AtomicU64,
}

/// The router of the whole API over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.max_body;
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/{name}", post(call))
        .fallback(no_route)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// The error answer for `e`, with its own status.
fn error(e: &Error) -> Response {
    error_with(StatusCode::from_u16(wire::status_of(e)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), e)
}

fn error_with(status: StatusCode, e: &Error) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], wire::error_to_wire(e).to_string()).into_response()
}

fn json_body(text: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// Token check, request id and one log line per request. Runs before the body is read, so a
/// request without the token gets 401 and nothing else.
async fn guard(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(wire::REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .map(str::to_string)
        .unwrap_or_else(|| format!("{:x}-{}", std::process::id(), state.next_id.fetch_add(1, Ordering::Relaxed)));
    let started = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let mut resp = match &state.token {
        Some(token) if !authorized(req.headers(), token) => error(&Error::Unauthorized(
            "this server needs `Authorization: Bearer <token>` with its token (P8_SERVER_TOKEN or --token-file)".into(),
        )),
        _ => next.run(req).await,
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(wire::REQUEST_ID_HEADER, v);
    }
    let status = resp.status().as_u16();
    let micros = started.elapsed().as_micros() as u64;
    if status >= 500 {
        tracing::warn!(request_id = %id, %method, path = %path, status, micros, "request failed");
    } else {
        tracing::info!(request_id = %id, %method, path = %path, status, micros, "request");
    }
    resp
}

/// Whether `headers` carry `Authorization: Bearer <token>` (compared in constant time).
fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return false };
    let Some(given) = given.strip_prefix("Bearer ") else { return false };
    given.len() == token.len() && bool::from(given.as_bytes().ct_eq(token.as_bytes()))
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    json_body(
        json!({"status": "ok", "engine": state.engine, "pid": std::process::id(),
               "path": state.path.display().to_string(), "calls": wire::CALLS})
        .to_string(),
    )
}

async fn no_route(req: Request) -> Response {
    error(&Error::NotFound(format!(
        "no route {} {}: the API is GET /v1/health and POST /v1/<call> (docs/server.md)",
        req.method(),
        req.uri().path()
    )))
}

/// `POST /v1/<name>`: one engine call on a pooled handle.
async fn call(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let mib = state.max_body as f64 / (1024.0 * 1024.0);
            return error_with(
                StatusCode::PAYLOAD_TOO_LARGE,
                &Error::InvalidArgument(format!(
                    "the request body is larger than this server accepts ({mib:.0} MiB, `rem serve --max-body-mib`); \
                     send the batch in smaller parts"
                )),
            );
        }
        Err(rejection) => return error(&Error::InvalidArgument(format!("cannot read the request body: {rejection}"))),
    };
    if !wire::CALLS.contains(&name.as_str()) {
        return error(&Error::NotFound(format!(
            "no call named {name:?} in /v1; the calls are: {}",
            wire::CALLS.join(", ")
        )));
    }
    let args: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                return error(&Error::InvalidArgument("the request body must be a JSON object of arguments".into()));
            }
            Err(e) => {
                return error(&Error::InvalidArgument(format!(
                    "the request body is not JSON: {e} (line {}, column {})",
                    e.line(),
                    e.column()
                )));
            }
        }
    };
    let tenant = match headers.get(wire::TENANT_HEADER).map(|v| v.to_str()) {
        None => "default".to_string(),
        Some(Ok(t)) => match wire::decode_tenant(t) {
            Ok(t) => t,
            Err(e) => return error(&e),
        },
        Some(Err(_)) => {
            return error(&Error::InvalidArgument(format!(
                "the {} header must be percent-encoded UTF-8 (visible ASCII)",
                wire::TENANT_HEADER
            )));
        }
    };
    let stream = matches!(name.as_str(), "query" | "query-with-params" | "list" | "lookup")
        && headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains(wire::NDJSON));
    tracing::debug!(call = %name, %tenant, bytes = body.len(), "call started");
    if name == "compact" {
        return match state.pool.exclusive(|root| root.compact()).await {
            Ok(report) => match serde_json::to_string(&report) {
                Ok(text) => json_body(text),
                Err(e) => error(&Error::Internal(e.to_string())),
            },
            Err(e) => error(&e),
        };
    }
    let lease = match state.pool.lease(&tenant, calls::writes(&name)).await {
        Ok(l) => l,
        Err(e) => return error(&e),
    };
    // The call runs to its end even if the client goes away: it commits or rolls back whole.
    let done = if calls::quick(&name) {
        Ok(tokio::task::block_in_place(|| calls::run(&lease, &name, &args)))
    } else {
        tokio::task::spawn_blocking(move || {
            let out = calls::run(&lease, &name, &args);
            drop(lease);
            out
        })
        .await
    };
    match done {
        Ok(Ok(text)) if stream => ndjson(text),
        Ok(Ok(text)) => json_body(text),
        Ok(Err(e)) => error(&e),
        Err(join) => error(&Error::Internal(format!("the call failed: {join}"))),
    }
}

/// A JSON array answer streamed as NDJSON, one element per line, each a slice of the one
/// answer text (the rows are not copied again).
fn ndjson(text: String) -> Response {
    let bytes = Bytes::from(text);
    let ranges: Vec<std::ops::Range<usize>> = match serde_json::from_slice::<Vec<&RawValue>>(&bytes) {
        Ok(items) => items
            .iter()
            .map(|r| {
                let start = r.get().as_ptr() as usize - bytes.as_ptr() as usize;
                start..start + r.get().len()
            })
            .collect(),
        Err(e) => return error(&Error::Internal(format!("the engine's answer is not a JSON array: {e}"))),
    };
    let lines =
        ranges.into_iter().flat_map(move |r| [Ok::<_, Infallible>(bytes.slice(r)), Ok(Bytes::from_static(b"\n"))]);
    ([(header::CONTENT_TYPE, wire::NDJSON)], Body::from_stream(futures_util::stream::iter(lines))).into_response()
}
