//! Where the CLI's passwords come from: a file (`--password-file`), the environment
//! (`P8_PASSWORD`, `P8_NEW_PASSWORD`), or a prompt on the terminal without echo (`rpassword`).
//! A password is never printed, logged or put in an error.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, Result, bail};
use rem_host::crypto::Password;

use crate::cli::Global;

/// The environment variable holding the new password of `rem rekey`.
pub const ENV_NEW_PASSWORD: &str = "P8_NEW_PASSWORD";

/// The first line of `path`, as a password.
fn from_file(path: &Path) -> Result<Password> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the password file {}", path.display()))?;
    let line = text.lines().next().unwrap_or_default().to_string();
    Password::new(line).with_context(|| format!("the password file {} is empty", path.display()))
}

/// Ask on the terminal (`confirm`: twice, and they must match).
pub fn prompt(label: &str, confirm: bool) -> Result<Password> {
    if !std::io::stdin().is_terminal() {
        bail!("{label} is needed and there is no terminal to ask on: give it with --password-file FILE or P8_PASSWORD");
    }
    let first = rpassword::prompt_password(format!("{label}: ")).context("cannot read the password")?;
    if confirm {
        let again = rpassword::prompt_password(format!("{label} again: ")).context("cannot read the password")?;
        if again != first {
            bail!("the two passwords differ; nothing was changed");
        }
    }
    Ok(Password::new(first)?)
}

/// The database password the global options give: `--password-file`, else with `--password`
/// `$P8_PASSWORD` or a prompt (`confirm` when creating), else `None` (an encrypted database
/// then opens with `$P8_PASSWORD`, or asks on a terminal: see `commands::open`).
pub fn given(global: &Global, confirm: bool) -> Result<Option<Password>> {
    if let Some(path) = &global.password_file {
        return from_file(path).map(Some);
    }
    if !global.password {
        return Ok(None);
    }
    match Password::from_env() {
        Some(p) => Ok(Some(p)),
        None => prompt("Database password", confirm).map(Some),
    }
}

/// A password that must be given (`rem key-gen`): file, environment or prompt.
pub fn required(global: &Global, label: &str) -> Result<Password> {
    if let Some(path) = &global.password_file {
        return from_file(path);
    }
    match Password::from_env() {
        Some(p) => Ok(p),
        None => prompt(label, true),
    }
}

/// The new password of `rem rekey`: `file`, else `$P8_NEW_PASSWORD`, else a prompt typed twice.
pub fn new_password(file: Option<&Path>) -> Result<Password> {
    if let Some(path) = file {
        return from_file(path);
    }
    match std::env::var(ENV_NEW_PASSWORD).ok().filter(|p| !p.is_empty()) {
        Some(p) => Ok(Password::new(p)?),
        None => prompt("New password", true),
    }
}
