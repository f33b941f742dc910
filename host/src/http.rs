//! The one HTTP request loop REM's OpenAI-compatible clients share (embeddings and chat):
//! a JSON `POST` with a bearer token, a timeout per request, and retries with exponential
//! backoff on 429, 5xx and transport errors, cut short by an optional deadline. Error texts
//! (never a 200 answer, which is returned as it came) are redacted ([`crate::redact`]) before
//! they are cut, so no key, token or URL credential survives in them.

use std::time::{Duration, Instant};

/// How one endpoint is called.
pub(crate) struct Retrying<'a> {
    /// The client (built with `http_status_as_error(false)`).
    pub agent: &'a ureq::Agent,
    /// Bearer token, if any.
    pub key: Option<&'a str>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries after the first attempt (waits 0.5 s, 1 s, 2 s, ... between them).
    pub retries: u32,
    /// No request or retry starts after this instant.
    pub deadline: Option<Instant>,
}

/// A non-200 answer that retrying will not change.
pub(crate) struct Refused {
    /// The HTTP status.
    pub status: u16,
    /// `"<url> answered <status>: <body, redacted, at most 300 characters>"`.
    pub message: String,
}

/// A provider failure a caller can act on (the OpenAI-compatible clients tell them apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderFailure {
    /// The provider could not be reached (transport errors until the retries ran out).
    Connection,
    /// The provider refused the credentials (HTTP 401 or 403): check the API key.
    Authentication,
    /// The provider is rate limiting (HTTP 429 until the retries ran out).
    RateLimited,
}

/// What went wrong on the last attempt of a request given up on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum LastTry {
    /// The server could not be reached (or the connection broke, or timed out).
    Transport,
    /// 429, with the `Retry-After` it sent in seconds (when it sent a number).
    RateLimited(Option<f64>),
    /// 5xx, or no attempt could start before the deadline.
    Server,
}

/// Why a request failed: refused outright, or given up on after retries.
pub(crate) enum Failure {
    /// A 4xx other than 429.
    Refused(Refused),
    /// Transport errors, 429s or 5xx until the retries or the deadline ran out: the message,
    /// and what the last attempt met.
    GaveUp(String, LastTry),
}

impl Failure {
    /// The message to show.
    pub fn message(self) -> String {
        match self {
            Failure::Refused(r) => r.message,
            Failure::GaveUp(m, _) => m,
        }
    }

    /// The provider failure a caller can act on, with the seconds to wait for a rate limit:
    /// unreachable (`Connection`), credentials refused (401 or 403: `Authentication`), or
    /// rate limited (429 until the retries ran out: `RateLimited`); `None` for other failures.
    pub fn provider_failure(&self) -> Option<(ProviderFailure, Option<f64>)> {
        use ProviderFailure as F;
        match self {
            Failure::Refused(Refused { status: 401 | 403, .. }) => Some((F::Authentication, None)),
            Failure::Refused(_) => None,
            Failure::GaveUp(_, LastTry::Transport) => Some((F::Connection, None)),
            Failure::GaveUp(_, LastTry::RateLimited(after)) => Some((F::RateLimited, *after)),
            Failure::GaveUp(_, LastTry::Server) => None,
        }
    }
}

impl Retrying<'_> {
    /// `POST body` (JSON text) to `url`; the 200 answer's body.
    pub fn post(&self, url: &str, body: &str) -> Result<String, Failure> {
        let key = self.key.unwrap_or_default();
        let cut = |text: &str| text.chars().take(400).collect::<String>();
        let mut last = String::new();
        let mut last_try = LastTry::Server;
        let mut attempts = 0;
        for attempt in 0..=self.retries {
            if attempt > 0 {
                let wait = Duration::from_millis(500 << (attempt - 1).min(6));
                if self.deadline.is_some_and(|d| Instant::now() + wait >= d) {
                    break;
                }
                std::thread::sleep(wait);
            }
            attempts += 1;
            // The deadline cuts each request's timeout to what is left of it.
            let left = match self.deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left.min(self.timeout),
                    _ => break,
                },
                None => self.timeout,
            };
            let mut request = self.agent.post(url).config().timeout_global(Some(left)).build();
            if self.key.is_some() {
                request = request.header("Authorization", format!("Bearer {key}"));
            }
            let sent = request.header("Content-Type", "application/json").send(body);
            let mut resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    last = crate::redact::redact(&format!("cannot reach {url}: {e}"), &[key]);
                    last_try = LastTry::Transport;
                    continue;
                }
            };
            let status = resp.status().as_u16();
            // Retry-After in seconds (RFC 9110 section 10.2.3; the HTTP-date form is not read).
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0);
            let text = resp.body_mut().with_config().limit(64 << 20).read_to_string().unwrap_or_default();
            if status == 200 {
                // The answer itself is returned as it came: only error texts are redacted.
                return Ok(text);
            }
            // Redacted before it is cut, so a key at the cut cannot leave a prefix behind; the
            // URL too, which may carry credentials.
            let message = crate::redact::redact(&format!("{url} answered {status}: {text}"), &[key]);
            let message = cut(&message);
            if status == 429 || status >= 500 {
                last = message;
                last_try = if status == 429 { LastTry::RateLimited(retry_after) } else { LastTry::Server };
                continue;
            }
            return Err(Failure::Refused(Refused { status, message }));
        }
        if last.is_empty() {
            last = crate::redact::redact(&format!("{url}: the deadline passed"), &[key]);
        }
        Err(Failure::GaveUp(format!("{last} (gave up after {attempts} attempts)"), last_try))
    }
}

/// A client for `timeout` that reports every status as an answer (not an error).
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false).build(),
    )
}
