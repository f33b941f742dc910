//! Secrets never appear in what REM prints: every message built from a URL, a server's reply
//! or an error that may quote them passes through [`redact`] first.
//!
//! What is hidden: the user-info of URLs (`https://user:password@host` → `https://***@host`),
//! bearer tokens (`Bearer abc` → `Bearer ***`), OpenAI-style keys (`sk-...`), and any value the
//! caller knows is a secret (the configured API key), wherever it occurs.

/// What a hidden secret reads as.
pub const MASK: &str = "***";

/// Shortest secret replaced by value: a shorter one would mask ordinary words.
const MIN_SECRET_LEN: usize = 4;

/// `text` with the user-info of every URL, bearer tokens, `sk-` keys and each of `secrets`
/// (those of at least 4 bytes) replaced by [`MASK`].
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= MIN_SECRET_LEN) {
        out = out.replace(s, MASK);
    }
    out = mask_after(&out, "://", false, |rest| {
        // User-info ends at '@' before the authority ends ('/', '?', '#' or whitespace).
        let end = rest.find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace()).unwrap_or(rest.len());
        rest[..end].rfind('@')
    });
    let token = |min: usize| {
        move |rest: &str| {
            let n = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')))
                .unwrap_or(rest.len());
            (n >= min).then_some(n)
        }
    };
    for marker in
        ["Bearer ", "bearer ", "BEARER ", "Basic ", "basic ", "api_key=", "api-key=", "apikey=", "key=", "token="]
    {
        out = mask_after(&out, marker, false, token(1));
    }
    // Keys look like `sk-` and 16 or more characters, starting a word (not `task-web-server`).
    mask_after(&out, "sk-", true, token(MIN_KEY_LEN))
}

/// Shortest `sk-` key masked.
const MIN_KEY_LEN: usize = 16;

/// Replace, after each `marker` (starting a word when `word_start`), the `len(rest)` bytes it
/// finds with [`MASK`].
fn mask_after(text: &str, marker: &str, word_start: bool, len: impl Fn(&str) -> Option<usize>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let after = at + marker.len();
        let before = rest[..at].chars().next_back().or_else(|| out.chars().next_back());
        let starts_word = !word_start || !before.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_');
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        if starts_word
            && let Some(n) = len(rest)
            && !rest[..n].starts_with(MASK)
        {
            out.push_str(MASK);
            rest = &rest[n..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn credentials_tokens_and_keys_are_masked() {
        let cases = [
            ("cannot reach http://alice:hunter2@10.0.0.1:8080/v1/embeddings: refused", "hunter2"),
            ("proxy https://token@example.com?x=1", "token@"),
            ("header Authorization: Bearer abc.DEF-123_x was refused", "abc.DEF"),
            ("Incorrect API key provided: sk-proj-AbCdEf123456", "AbCdEf"),
            ("GET https://h/v1/embed?api_key=abc123XYZ&x=1 failed", "abc123XYZ"),
            ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
            ("the key my-own-secret-value is wrong", "my-own-secret-value"),
        ];
        for (text, secret) in cases {
            let shown = redact(text, &["my-own-secret-value"]);
            assert!(!shown.contains(secret), "{shown}");
            assert!(shown.contains("***"), "{shown}");
        }
        assert_eq!(redact("http://127.0.0.1:9/v1 answered 500", &[]), "http://127.0.0.1:9/v1 answered 500");
        assert_eq!(redact("user@example.com wrote", &[""]), "user@example.com wrote");
        assert_eq!(
            redact("task-web-server and desk-top-application-suite", &[]),
            "task-web-server and desk-top-application-suite"
        );
        assert_eq!(redact("https://a:b@h/x https://c:d@h/y", &[]), "https://***@h/x https://***@h/y");
    }
}
