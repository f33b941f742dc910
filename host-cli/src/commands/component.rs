//! `rem component export`.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;

use crate::cli::Global;
use crate::output;

/// The WIT the component was built from (the repository's `wit/engine.wit`).
const ENGINE_WIT: &str = include_str!("../../../wit/engine.wit");

/// Write the engine component and its WIT into `dir`.
pub fn export(g: &Global, dir: &Path) -> Result<()> {
    let wit_dir = dir.join("wit");
    std::fs::create_dir_all(&wit_dir).with_context(|| format!("cannot create {}", wit_dir.display()))?;
    let wasm = dir.join("rem-engine.wasm");
    std::fs::write(&wasm, rem_host::ENGINE_WASM).with_context(|| format!("cannot write {}", wasm.display()))?;
    let wit = wit_dir.join("engine.wit");
    std::fs::write(&wit, ENGINE_WIT).with_context(|| format!("cannot write {}", wit.display()))?;
    output::value(
        g.format,
        &json!({
            "component": wasm,
            "wit": wit,
            "bytes": rem_host::ENGINE_WASM.len(),
            "blake3": rem_host::ENGINE_HASH,
            "imports": ["rem:engine/storage@0.1.0", "rem:engine/embeddings@0.1.0", "wasi:* (what Rust's std links)"],
            "exports": ["rem:engine/database@0.1.0"],
        }),
    )
}
