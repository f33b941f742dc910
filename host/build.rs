//! Builds the engine component (`rem-core` for `wasm32-wasip2`) so that
//! `cargo build -p rem-cli` on a fresh clone needs no manual step.
//!
//! The guest is built by a nested cargo in its own target directory
//! (`<target>/guest`), because the outer cargo holds the lock on the main
//! one. Set `REM_ENGINE_WASM=/path/to/rem_core.wasm` to embed a prebuilt
//! component instead.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest_dir.parent().expect("host/ lives in the workspace").to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-env-changed=REM_ENGINE_WASM");

    let wasm = match env::var_os("REM_ENGINE_WASM") {
        Some(p) => {
            println!("cargo:rerun-if-changed={}", Path::new(&p).display());
            PathBuf::from(p)
        }
        None => build_guest(&workspace),
    };
    let bytes = std::fs::read(&wasm).unwrap_or_else(|e| panic!("cannot read engine component {}: {e}", wasm.display()));
    let hash = blake3::hash(&bytes).to_hex().to_string();
    std::fs::write(out_dir.join("rem_engine.wasm"), &bytes).expect("write OUT_DIR/rem_engine.wasm");
    println!("cargo:rustc-env=REM_ENGINE_HASH={hash}");
}

fn build_guest(workspace: &Path) -> PathBuf {
    for p in ["core/src", "core/Cargo.toml", "wit", "Cargo.lock", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", workspace.join(p).display());
    }
    let target_root = env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace.join("target"));
    let guest_target = target_root.join("guest");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["build", "-p", "rem-core", "--target", "wasm32-wasip2", "--profile", "guest"])
        .env("CARGO_TARGET_DIR", &guest_target)
        // simd128 lets LLVM vectorise distance loops (see docs/design.md).
        .env("RUSTFLAGS", "-C target-feature=+simd128");
    // Flags and settings meant for the host build must not leak into the guest's.
    for (k, _) in env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k == "CARGO_ENCODED_RUSTFLAGS"
            || k.starts_with("CARGO_BUILD_")
            || k.starts_with("CARGO_PROFILE_")
            || k == "RUSTC_WORKSPACE_WRAPPER"
            || k.starts_with("CARGO_TARGET_") && k != "CARGO_TARGET_DIR"
        {
            cmd.env_remove(&k);
        }
    }
    let status = cmd.status().expect("failed to run cargo for the engine component");
    if !status.success() {
        panic!(
            "building the engine component failed ({status}); see the cargo output above. \
             If the wasm32-wasip2 target is missing: rustup target add wasm32-wasip2"
        );
    }
    guest_target.join("wasm32-wasip2/guest/rem_core.wasm")
}
