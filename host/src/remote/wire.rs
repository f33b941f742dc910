//! The served API's wire format, shared by the server (`rem serve`, crate `rem-server`) and
//! the client ([`super::Remote`]): the route of each call, the HTTP status of each error case,
//! and the JSON an error travels as. `docs/server.md` documents all of it.
//!
//! An error body is `{"error": {"kind", "message", ...}}`: `kind` is [`Error::kind`], `message`
//! the case's own text (without the prefix `Display` adds), plus `issues` (validation:
//! `[{loc, type, msg}]`), `line`/`column` (invalid query), `path`/`holder` (locked),
//! `context` (io), `opened_in`/`now` (forked). [`error_from_wire`] reads it back into the
//! same [`Error`], so a client raises exactly what the in-process call would.

use serde_json::{Value, json};

use crate::error::{Error, Issue, IssueKind, PathSegment};

/// The version prefix of every route.
pub const PREFIX: &str = "/v1";

/// The request header naming the tenant (default `default`), percent-encoded UTF-8
/// ([`encode_tenant`]), as a tenant may hold any character and a header only visible ASCII.
pub const TENANT_HEADER: &str = "x-rem-tenant";

/// `tenant` as the [`TENANT_HEADER`] carries it: every byte but ASCII letters and digits
/// percent-encoded (RFC 3986, section 2.1).
pub fn encode_tenant(tenant: &str) -> String {
    percent_encoding::utf8_percent_encode(tenant, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The tenant a [`TENANT_HEADER`] value names. Errors: `InvalidArgument` when the decoded
/// bytes are not UTF-8.
pub fn decode_tenant(header: &str) -> Result<String, Error> {
    percent_encoding::percent_decode_str(header)
        .decode_utf8()
        .map(|t| t.into_owned())
        .map_err(|_| Error::InvalidArgument(format!("the {TENANT_HEADER} header is not percent-encoded UTF-8")))
}

/// The response header carrying the request id (also logged by the server).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The media type of a streamed result: one JSON value per line (NDJSON).
pub const NDJSON: &str = "application/x-ndjson";

/// Every call route (`POST /v1/<name>`), one per export of `wit/engine.wit` plus the host's
/// multi-call units (`register-schemas`, `write-document`, `write-set`, `delete-batch`). Checked
/// against the WIT by a test.
pub const CALLS: &[&str] = &[
    "version",
    "register-schema",
    "register-schemas",
    "list-schemas",
    "get-schema",
    "insert",
    "insert-batch",
    "get",
    "get-many",
    "get-vectors",
    "update",
    "delete",
    "lookup",
    "list",
    "count",
    "add-edge",
    "add-edges",
    "get-edges",
    "delete-edge",
    "traverse",
    "shortest-path",
    "query",
    "query-with-params",
    "prepare",
    "query-page",
    "execute",
    "search",
    "index-stats",
    "rebuild-index",
    "stats",
    "check",
    "backup",
    "compact",
    "write-document",
    "write-set",
    "delete-batch",
];

/// One JSON array made of JSON texts (entities as the engine returns them), without parsing
/// them: `[a,b,...]`.
pub fn json_array(items: Vec<String>) -> String {
    let mut out = String::with_capacity(items.iter().map(|s| s.len() + 1).sum::<usize>() + 2);
    out.push('[');
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
    out
}

/// The HTTP status an error case answers with.
pub fn status_of(e: &Error) -> u16 {
    match e {
        Error::NotFound(_) | Error::SchemaNotFound(_) | Error::DatabaseNotFound { .. } => 404,
        Error::Validation(_) => 422,
        Error::InvalidQuery { .. } | Error::InvalidArgument(_) | Error::InvalidSchema(_) => 400,
        Error::SchemaConflict(_) => 409,
        Error::Unsupported(_) => 501,
        Error::Locked { .. } => 423,
        Error::Unauthorized(_) | Error::Password(_) => 401,
        Error::Timeout(_) => 504,
        Error::Interrupted(_) | Error::Connection(_) => 503,
        Error::Embedding(_) | Error::EmbeddingProvider { .. } | Error::Llm(_) => 502,
        Error::ResourceExhausted(_) => 507,
        _ => 500,
    }
}

/// The text a case carries (what `Display` shows without its prefix).
fn own_message(e: &Error) -> String {
    match e {
        Error::NotFound(m)
        | Error::SchemaNotFound(m)
        | Error::InvalidSchema(m)
        | Error::SchemaConflict(m)
        | Error::Unsupported(m)
        | Error::InvalidArgument(m)
        | Error::Storage(m)
        | Error::Embedding(m)
        | Error::ResourceExhausted(m)
        | Error::Connection(m)
        | Error::Unauthorized(m)
        | Error::Password(m)
        | Error::Llm(m)
        | Error::Timeout(m)
        | Error::Interrupted(m)
        | Error::Trap(m)
        | Error::Internal(m) => m.clone(),
        Error::InvalidQuery { message, .. } | Error::EmbeddingProvider { message, .. } => message.clone(),
        Error::Io { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// `e` as its wire body (see the module documentation).
pub fn error_to_wire(e: &Error) -> Value {
    let mut body = json!({"kind": e.kind(), "message": own_message(e), "display": e.to_string()});
    match e {
        Error::Validation(issues) => body["issues"] = serde_json::to_value(issues).unwrap_or(Value::Null),
        Error::InvalidQuery { line, column, .. } => {
            body["line"] = (*line).into();
            body["column"] = (*column).into();
        }
        Error::Locked { path, holder } => {
            body["path"] = path.display().to_string().into();
            body["holder"] = json!(holder);
        }
        Error::DatabaseNotFound { path } => body["path"] = path.display().to_string().into(),
        Error::Io { context, .. } => body["context"] = context.clone().into(),
        Error::EmbeddingProvider { failure, retry_after, .. } => {
            body["failure"] = json!(failure);
            body["retry_after"] = json!(retry_after);
        }
        Error::Forked { opened_in, now } => {
            body["opened_in"] = (*opened_in).into();
            body["now"] = (*now).into();
        }
        _ => {}
    }
    json!({ "error": body })
}

/// The [`Error`] an error body (`body`, answered with `status`) stands for. A body that is not
/// one (a proxy's page, say) becomes `Connection` naming the status.
pub fn error_from_wire(status: u16, body: &str) -> Error {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let Some(e) = parsed.as_ref().and_then(|v| v.get("error")).filter(|e| e.is_object()) else {
        let text: String = body.chars().take(200).collect();
        return match status {
            401 => Error::Unauthorized(text),
            413 => Error::InvalidArgument(format!("the request is larger than the server accepts (413): {text}")),
            _ => Error::Connection(format!("unexpected answer {status}: {text}")),
        };
    };
    let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let n = |k: &str| e.get(k).and_then(Value::as_u64).unwrap_or(0) as u32;
    let m = s("message");
    match s("kind").as_str() {
        "not_found" => Error::NotFound(m),
        "schema_not_found" => Error::SchemaNotFound(m),
        "invalid_schema" => Error::InvalidSchema(m),
        "schema_conflict" => Error::SchemaConflict(m),
        "validation" => Error::Validation(issues_from_wire(e.get("issues"))),
        "invalid_query" => Error::InvalidQuery { message: m, line: n("line"), column: n("column") },
        "unsupported" => Error::Unsupported(m),
        "invalid_argument" => Error::InvalidArgument(m),
        "storage" => Error::Storage(m),
        "embedding" => match e.get("failure").cloned().map(serde_json::from_value) {
            Some(Ok(failure)) => Error::EmbeddingProvider {
                message: m,
                failure,
                retry_after: e.get("retry_after").and_then(Value::as_f64),
            },
            _ => Error::Embedding(m),
        },
        "resource_exhausted" => Error::ResourceExhausted(m),
        "locked" => {
            Error::Locked { path: s("path").into(), holder: e.get("holder").and_then(Value::as_u64).map(|p| p as u32) }
        }
        "io" => Error::Io { context: s("context"), message: m },
        "database_not_found" => Error::DatabaseNotFound { path: s("path").into() },
        "timeout" => Error::Timeout(m),
        "interrupted" => Error::Interrupted(m),
        "forked" => Error::Forked { opened_in: n("opened_in"), now: n("now") },
        "trap" => Error::Trap(m),
        "connection" => Error::Connection(m),
        "unauthorized" => Error::Unauthorized(m),
        "password" => Error::Password(m),
        "llm" => Error::Llm(m),
        "internal" => Error::Internal(m),
        other => Error::Internal(format!("the server answered an error of unknown kind {other:?}: {m}")),
    }
}

fn issues_from_wire(v: Option<&Value>) -> Vec<Issue> {
    let Some(list) = v.and_then(Value::as_array) else { return Vec::new() };
    list.iter()
        .map(|i| Issue {
            loc: i
                .get("loc")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .map(|s| match s.as_u64() {
                            Some(n) => PathSegment::Index(n as u32),
                            None => PathSegment::Field(s.as_str().unwrap_or_default().to_string()),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            kind: IssueKind::parse(i.get("type").and_then(Value::as_str).unwrap_or("value_error")),
            msg: i.get("msg").and_then(Value::as_str).unwrap_or_default().to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_of_any_text_survive_the_header() {
        for t in ["default", "acme corp", "ünïcode/ü", "a%b", "x-y_z.1"] {
            let h = encode_tenant(t);
            assert!(h.bytes().all(|b| b.is_ascii_graphic()), "{h}");
            assert_eq!(decode_tenant(&h).unwrap(), t);
        }
        assert!(decode_tenant("%FF").is_err());
    }

    #[test]
    fn every_error_case_survives_the_wire() {
        let mut cases: Vec<Error> = [
            "not-found",
            "schema-not-found",
            "invalid-schema",
            "schema-conflict",
            "validation",
            "invalid-query",
            "unsupported",
            "invalid-argument",
            "storage",
            "embedding",
            "resource-exhausted",
            "internal",
        ]
        .iter()
        .map(|c| Error::from_wit_case(c, "what went wrong").unwrap())
        .collect();
        cases.extend([
            Error::Locked { path: "/tmp/db".into(), holder: Some(42) },
            Error::DatabaseNotFound { path: "/tmp/missing".into() },
            Error::Io { context: "cannot open x".into(), message: "denied".into() },
            Error::Timeout("late".into()),
            Error::Interrupted("stop".into()),
            Error::Forked { opened_in: 1, now: 2 },
            Error::Trap("boom".into()),
            Error::Connection("gone".into()),
            Error::Llm("no model".into()),
            Error::Unauthorized("no token".into()),
        ]);
        for e in cases {
            let wire = error_to_wire(&e).to_string();
            let back = error_from_wire(status_of(&e), &wire);
            assert_eq!(back.kind(), e.kind());
            assert_eq!(back.to_string(), e.to_string(), "{wire}");
        }
        let limited = Error::EmbeddingProvider {
            message: "busy".into(),
            failure: crate::embed::ProviderFailure::RateLimited,
            retry_after: Some(7.0),
        };
        let back = error_from_wire(502, &error_to_wire(&limited).to_string());
        assert!(
            matches!(&back, Error::EmbeddingProvider { failure: crate::embed::ProviderFailure::RateLimited, retry_after: Some(s), .. } if *s == 7.0),
            "{back:?}"
        );
        assert!(matches!(error_from_wire(502, "<html>bad gateway</html>"), Error::Connection(_)));
        assert!(matches!(error_from_wire(401, ""), Error::Unauthorized(_)));
    }
}
