//! `rem serve`.

use anyhow::{Context, Result};

use crate::cli::{Global, ServeArgs};

/// Serve the database the global options name until Ctrl-C or SIGTERM.
pub fn run(g: &Global, args: ServeArgs) -> Result<()> {
    let token = match &args.token_file {
        Some(file) => {
            let bytes = rem_host::private::read_file(file)
                .with_context(|| format!("cannot read the token file {}", file.display()))?;
            let token = String::from_utf8(bytes).context("the token file is not UTF-8 text")?.trim().to_string();
            anyhow::ensure!(!token.is_empty(), "the token file {} is empty", file.display());
            Some(token)
        }
        None => std::env::var(rem_host::config::ENV_SERVER_TOKEN)
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
    };
    rem_server::init_logging();
    let options = rem_server::ServeOptions {
        open: super::options(g)?,
        listen: (!args.no_tcp).then_some(args.listen),
        socket: args.socket,
        token,
        // Absolute in the endpoint file, so clients in any working directory can read it.
        token_file: args.token_file.map(|f| std::fs::canonicalize(&f).unwrap_or(f)),
        max_body: args.max_body_mib.saturating_mul(1024 * 1024),
        readers: args.readers.unwrap_or_else(rem_server::default_readers),
    };
    let path = options.open.path.clone().unwrap_or_default();
    rem_server::serve(options, |url| {
        eprintln!("serving {} at {url} (Ctrl-C to stop)", path.display());
    })?;
    eprintln!("stopped; every call in flight finished");
    Ok(())
}
