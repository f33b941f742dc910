//! The endpoint file (`rem.server.json` in the database directory): how clients on the same
//! machine find the `rem serve` process that holds a database.
//!
//! `rem serve` writes it (`0600`, replaced atomically) once it listens and removes it on exit.
//! It names the URL, the server's process id, and the file the token is in (never the token:
//! secrets stay in their own files). A file whose process is gone is stale: clients ignore it,
//! and the next server replaces it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config;

/// The contents of an endpoint file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Base URL, e.g. `http://127.0.0.1:7878`.
    pub url: String,
    /// The serving process.
    pub pid: u32,
    /// The file holding the bearer token, when the server requires one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    /// When the server started, in seconds since the Unix epoch.
    #[serde(default)]
    pub started_unix: u64,
}

impl Endpoint {
    /// The endpoint file of database directory `dir`.
    pub fn file(dir: &Path) -> PathBuf {
        dir.join(config::ENDPOINT_FILE)
    }

    /// Write `self` as `dir`'s endpoint file (`0600`, atomically). Errors: the OS error.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        crate::private::replace_file(&Self::file(dir), &text)
    }

    /// Remove `dir`'s endpoint file if it is this process's (a server that lost a race must
    /// not remove the winner's).
    pub fn remove_own(dir: &Path) {
        if Self::read(dir).is_some_and(|e| e.pid == std::process::id()) {
            let _ = std::fs::remove_file(Self::file(dir));
        }
    }

    /// `dir`'s endpoint file, if there is a readable one.
    pub fn read(dir: &Path) -> Option<Endpoint> {
        let bytes = crate::private::read_file(&Self::file(dir)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// `dir`'s endpoint file if its process is alive. A stale one (its process gone) is ignored,
    /// not removed: a server starting at that moment may be renaming its own file into place,
    /// and the next server replaces it anyway.
    pub fn live(dir: &Path) -> Option<Endpoint> {
        Self::read(dir).filter(|e| process_alive(e.pid))
    }

    /// The bearer token from `token_file`, trimmed (`None` without one or when unreadable).
    pub fn token(&self) -> Option<String> {
        let path = self.token_file.as_ref()?;
        let bytes = crate::private::read_file(path).ok()?;
        Some(String::from_utf8(bytes).ok()?.trim().to_string()).filter(|t| !t.is_empty())
    }
}

/// Whether process `pid` exists (signal 0; a process of another user counts as alive).
pub fn process_alive(pid: u32) -> bool {
    let Some(pid) = rustix::process::Pid::from_raw(pid as i32) else { return false };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(e) => e == rustix::io::Errno::PERM,
    }
}
