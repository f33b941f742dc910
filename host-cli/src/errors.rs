//! How the CLI reports errors: the next step to suggest for each error case (CLI commands,
//! so they live here and not in the engine's or host's messages, which Python users read
//! too), and the CLI's own typed errors. Errors are told apart by type, never by their text.

use rem_host::Error;

/// A batch of JSONL rows refused as a whole (nothing written); the message names the input
/// lines and fields at fault, and the engine's error (issues by row index) is kept for
/// `--error-format json`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BatchRejected(pub String, pub Error);

/// The next step to suggest for `e`, if there is an obvious one.
pub fn hint(e: &anyhow::Error) -> Option<&'static str> {
    if e.downcast_ref::<BatchRejected>().is_some() {
        return Some("fix the lines named above and run the batch again");
    }
    Some(match e.downcast_ref::<Error>()? {
        Error::SchemaNotFound(_) => "list tables with `rem schema list`; register one with `rem schema add <file>`",
        Error::NotFound(_) => "check the id (`rem list <table>`) or look it up by key (`rem lookup <key>`)",
        Error::Validation(_) => "fix the fields named above; `rem schema show <table>` prints the schema",
        Error::InvalidQuery { .. } => "REM SQL is documented in docs/design.md (Query)",
        Error::Unsupported(_) => "write with `rem insert`, `rem update` and `rem delete`; REM SQL reads",
        Error::Locked { .. } => {
            "wait longer with --wait <ms>, or start `rem serve` for the database so every process shares it"
        }
        Error::DatabaseNotFound { .. } => {
            "create it with `rem init` (same --path), or check --path / P8_DB_PATH / P8_HOME for a typo"
        }
        Error::Connection(_) => "is `rem serve` running? check --server / P8_SERVER, or unset it to open the file",
        Error::Unauthorized(_) => "give the server's token with P8_SERVER_TOKEN or --token-file",
        Error::Password(_) => {
            "give the database's password with --password-file FILE or P8_PASSWORD (or type it at the prompt on a terminal)"
        }
        Error::Llm(_) => {
            "set P8_DEFAULT_LLM (a model name), P8_OPENAI_BASE_URL (OpenAI, Ollama, llama.cpp's server, vLLM) and \
             P8_OPENAI_API_KEY; see docs/agent.md"
        }
        Error::ResourceExhausted(_) => "raise the cap with P8_MEMORY_LIMIT_MIB or make the call smaller",
        Error::Timeout(_) => "raise the deadline with P8_CALL_TIMEOUT_MS or make the call smaller",
        Error::Trap(_) | Error::Internal(_) => "this is a bug in REM; please report it with the command that caused it",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_follow_the_error_type_not_its_text() {
        let batch = anyhow::Error::new(BatchRejected("any text at all".into(), Error::Validation(Vec::new())));
        assert_eq!(hint(&batch), Some("fix the lines named above and run the batch again"));
        let text_only = anyhow::anyhow!("batch rejected, nothing was written");
        assert_eq!(hint(&text_only), None);
        let missing = anyhow::Error::new(Error::SchemaNotFound("Table 'x' does not exist".into()));
        assert!(hint(&missing).is_some_and(|h| h.contains("rem schema add")));
    }
}
