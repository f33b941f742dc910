//! The file's life outside engine calls: backup (a consistent copy taken while other calls go
//! on), restore into a path, and compaction (redb's, giving back the space of deleted data).
//!
//! A backup copies every key of the one redb table ([`crate::kv::KV`], all tenants) from one read
//! transaction, so it is the snapshot of one commit even while writers go on; it is written into
//! a new database directory next to the destination and renamed into place only when complete,
//! so a failed backup leaves nothing behind and never a half-written database.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::ReadableDatabase;
use serde::{Deserialize, Serialize};

use super::{Database, OpenOptions};
use crate::config;
use crate::crypto::Password;
use crate::crypto::backend::Keyring;
use crate::error::{Error, Result};
use crate::kv::KV;

/// Keys copied per write transaction of a backup (bounds the memory of one commit).
const COPY_BATCH: usize = 20_000;

/// What [`Database::backup`] and [`restore`] did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CopyReport {
    /// The database directory written.
    pub path: PathBuf,
    /// Keys copied (rows, index entries, vectors, HNSW nodes and edges of every tenant).
    pub keys: u64,
    /// Size of the new database file, in bytes.
    pub file_bytes: u64,
}

/// What [`Database::compact`] did: the database file's size before and after, in bytes
/// (`None` for an in-memory database).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompactReport {
    /// Size before compaction.
    pub file_bytes_before: Option<u64>,
    /// Size after compaction.
    pub file_bytes_after: Option<u64>,
}

fn io(context: String, e: impl std::fmt::Display) -> Error {
    Error::Io { context, message: e.to_string() }
}

fn storage(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Storage(format!("{what}: {e}"))
}

fn file_size(dir: &Path) -> Option<u64> {
    std::fs::metadata(dir.join(config::DB_FILE)).ok().map(|m| m.len())
}

/// Refuse to write over an existing database unless `force`, and never over one that is open:
/// returns the destination database, opened (its lock held until the copy replaces its file),
/// or `None` when nothing is there. Errors: `InvalidArgument` (exists, no `force`; or not a
/// database directory), `Locked`.
fn check_destination(dest: &Path, force: bool, password: Option<&Password>) -> Result<Option<redb::Database>> {
    if !dest.exists() {
        return Ok(None);
    }
    if !force {
        return Err(Error::InvalidArgument(format!(
            "{} already exists; choose a new path, or pass --force (force=True) to replace it",
            dest.display()
        )));
    }
    if !dest.join(config::DB_FILE).is_file() {
        return Err(Error::InvalidArgument(format!(
            "{} exists and is not a REM database directory; it is left alone: choose another path",
            dest.display()
        )));
    }
    // Opening takes the file's lock: a database some process has open is not replaced, and none
    // can open this one until its file is replaced.
    // An encrypted one opens with the password of the database copied over it (only its owner
    // replaces it); a plain one with none.
    let password = password.filter(|_| super::instance::is_encrypted_dir(dest));
    Ok(Some(super::instance::open_redb_waiting(dest, std::time::Duration::ZERO, password)?.0))
}

/// Copy every key of `source`'s snapshot into a new redb file in the directory `dir`, sealed
/// with `keys` (the source's: same data key, same password) when the source is encrypted.
fn copy_snapshot(source: &redb::Database, dir: &Path, keys: Option<&Keyring>) -> Result<u64> {
    crate::private::create_dir(dir).map_err(|e| io(format!("cannot create {}", dir.display()), e))?;
    let path = dir.join(config::DB_FILE);
    let file =
        crate::private::open_or_create_file(&path).map_err(|e| io(format!("cannot create {}", path.display()), e))?;
    let builder = redb::Database::builder();
    let target = match keys {
        Some(keys) => builder.create_with_backend(crate::crypto::backend::with_keys(file, &path, keys)?),
        None => builder.create_file(file),
    }
    .map_err(|e| storage("cannot create the copy", e))?;
    let read = source.begin_read().map_err(|e| storage("cannot start the snapshot", e))?;
    let table = match read.open_table(KV) {
        Ok(t) => Some(t),
        Err(redb::TableError::TableDoesNotExist(_)) => None,
        Err(e) => return Err(storage("cannot read the database", e)),
    };
    let mut keys = 0u64;
    let mut rows = match &table {
        Some(t) => Some(t.range::<&[u8]>(..).map_err(|e| storage("cannot read the database", e))?),
        None => None,
    };
    loop {
        let write = target.begin_write().map_err(|e| storage("cannot write the copy", e))?;
        let mut more = false;
        {
            // The table exists in the copy even when the source has no keys yet.
            let mut out = write.open_table(KV).map_err(|e| storage("cannot write the copy", e))?;
            for item in rows.iter_mut().flatten() {
                let (k, v) = item.map_err(|e| storage("cannot read the database", e))?;
                out.insert(k.value(), v.value()).map_err(|e| storage("cannot write the copy", e))?;
                keys += 1;
                if keys.is_multiple_of(COPY_BATCH as u64) {
                    more = true;
                    break;
                }
            }
        }
        write.commit().map_err(|e| storage("cannot write the copy", e))?;
        if !more {
            break;
        }
    }
    Ok(keys)
}

/// Build the copy of `source` next to `dest` and move it into place: a new directory is
/// renamed to `dest`; over a database ([`check_destination`] allowed it) only its file is
/// replaced, by one rename, while its lock is held. The partial copy is removed on any failure,
/// and `dest` is never removed. `source_dir` (the copied database's folder) may not lie inside
/// `dest`.
fn copy_into_place(
    source: &redb::Database,
    source_dir: Option<&Path>,
    dest: &Path,
    force: bool,
    keys: Option<&Keyring>,
) -> Result<CopyReport> {
    if let Some(src) = source_dir
        && inside(src, dest)
    {
        return Err(Error::InvalidArgument(format!(
            "{} holds the database being copied; choose a destination outside it",
            dest.display()
        )));
    }
    let held = check_destination(dest, force, keys.map(Keyring::password).as_ref())?;
    let partial = crate::private::partial_beside(dest);
    let placed = copy_snapshot(source, &partial, keys).and_then(|keys| {
        match held {
            Some(lock) => {
                std::fs::rename(partial.join(config::DB_FILE), dest.join(config::DB_FILE))
                    .map_err(|e| io(format!("cannot replace the database file in {}", dest.display()), e))?;
                drop(lock);
                let _ = std::fs::remove_dir_all(&partial);
            }
            None => std::fs::rename(&partial, dest).map_err(|e| {
                io(format!("cannot move the copy into place at {} (does it exist now?)", dest.display()), e)
            })?,
        }
        Ok(keys)
    });
    match placed {
        Ok(keys) => Ok(CopyReport { path: dest.to_path_buf(), keys, file_bytes: file_size(dest).unwrap_or(0) }),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            Err(e)
        }
    }
}

/// Whether `path` is `dir` or lies inside it (compared as absolute, resolved paths).
fn inside(path: &Path, dir: &Path) -> bool {
    let resolve = |p: &Path| p.canonicalize().unwrap_or_else(|_| std::path::absolute(p).unwrap_or(p.to_path_buf()));
    resolve(path).starts_with(resolve(dir))
}

impl Database {
    /// The redb database this handle reads, for a copy. Errors: `Forked`, `Internal` (closed).
    fn redb(&self) -> Result<Arc<redb::Database>> {
        self.lock()?.redb.clone().ok_or_else(|| Error::Internal("the database is closed".into()))
    }

    /// Write a consistent copy of the whole database (every tenant) to the new database
    /// directory `dest`, from one read snapshot while other calls go on; the copy opens with
    /// [`Database::open`] (it is also compact: no free pages). Nothing is left at `dest` if it
    /// fails. Errors: `InvalidArgument` (`dest` exists and `force` is false, or is not a
    /// database), `Locked` (replacing a database that is open), `Io`, `Storage`, `Forked`.
    pub fn backup(&self, dest: &Path, force: bool) -> Result<CopyReport> {
        if self.path.as_deref().is_some_and(|p| inside(dest, p)) {
            return Err(Error::InvalidArgument("a backup cannot be written into the database it copies".into()));
        }
        copy_into_place(self.redb()?.as_ref(), self.path.as_deref(), dest, force, self.keys.as_deref())
    }

    /// Whether the database file is encrypted (`crate::crypto`).
    pub fn is_encrypted(&self) -> bool {
        self.keys.is_some()
    }

    /// Change the password of an encrypted database: the data key is wrapped again under
    /// `new_password` in the file's header (both copies, one at a time); no data is rewritten.
    /// Handles already open keep working. Errors: `InvalidArgument` (the database is not
    /// encrypted), `Io`, `Forked`.
    pub fn rekey(&self, new_password: &Password) -> Result<()> {
        let _alive = self.lock()?;
        let keys = self.keys.as_ref().ok_or_else(|| {
            Error::InvalidArgument("the database is not encrypted, so it has no password to change".into())
        })?;
        keys.rekey(new_password)
    }

    /// Give back the space of deleted data: redb's compaction, repeated until it frees no more.
    /// Needs the only handle on the file (no [`Database::for_tenant`] handles, no server
    /// sessions); other calls on this handle wait. Returns the file's size before and after.
    /// Errors: `InvalidArgument` (other handles are open), `Storage`, `Forked`.
    pub fn compact(&self) -> Result<CompactReport> {
        let before = self.path.as_deref().and_then(file_size);
        let mut inner = self.lock()?;
        // The engine instance holds the file too; a fresh one is made on the next call. So do
        // the spare instances for reads: wait for those in use, drop them, make none meanwhile.
        inner.live = None;
        self.drain_spares()?;
        let compacted = match inner.redb.as_mut().map(Arc::get_mut) {
            None => Err(Error::Internal("the database is closed".into())),
            // redb may panic on a damaged file: an error, and the spares come back either way.
            Some(Some(db)) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                loop {
                    match db.compact() {
                        Ok(true) => continue,
                        Ok(false) => break Ok(()),
                        Err(e) => break Err(storage("compaction failed", e)),
                    }
                }
            }))
            .unwrap_or_else(|p| Err(storage("compaction failed", crate::error::panic_message(&*p)))),
            Some(None) => Err(Error::InvalidArgument(
                "other handles on this database are open (for_tenant handles or a server's sessions): \
                 close them, then compact"
                    .into(),
            )),
        };
        self.resume_spares(inner.redb.clone());
        compacted?;
        drop(inner);
        Ok(CompactReport { file_bytes_before: before, file_bytes_after: self.path.as_deref().and_then(file_size) })
    }
}

/// Restore the backup (a database directory) at `src` into the new database directory
/// `dest`: a copy of its every key, made the same way as [`Database::backup`]. Errors:
/// `DatabaseNotFound` (no database at `src`), `InvalidArgument` (`dest` exists and `force` is
/// false), `Locked` (`src` or `dest` is open elsewhere), `Io`, `Storage`, `Password` (an
/// encrypted backup and no password, or a wrong one: `password`, else `$P8_PASSWORD`). The
/// restored copy of an encrypted backup is encrypted with the same password.
pub fn restore(src: &Path, dest: &Path, force: bool, password: Option<&Password>) -> Result<CopyReport> {
    if inside(dest, src) {
        return Err(Error::InvalidArgument("restore needs a destination outside the backup".into()));
    }
    let mut options = OpenOptions::at(src).create(false);
    options.password = password.cloned().filter(|_| super::instance::is_encrypted_dir(src));
    let backup = Database::open(options)?;
    copy_into_place(backup.redb()?.as_ref(), Some(src), dest, force, backup.keys.as_deref())
}
