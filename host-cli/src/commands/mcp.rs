//! `rem mcp`: the database as an MCP server on stdio (docs/agent.md).

use anyhow::{Result, anyhow};

use crate::cli::Global;

/// Serve the database the global options name over MCP until the client closes stdin.
pub fn run(g: &Global) -> Result<()> {
    let db: std::sync::Arc<dyn rem_host::Api> = super::open(g)?.into();
    rem_server::mcp::run_stdio(db).map_err(|e| anyhow!(e))
}
