//! Private files: what REM creates on disk (database folders and files, the compiled-engine
//! cache, its key) is owner-only whatever the umask, and is never opened through a symlink.
//!
//! - Folders are created `0700` and files `0600`; the mode is set explicitly after creation,
//!   because the umask can only take bits away and a umask of `0o277` would leave `0500`.
//! - Files REM writes are opened with `O_NOFOLLOW` and, when new, `O_EXCL` (`create_new`), so a
//!   symlink planted where REM writes makes the write fail instead of landing on its target.
//! - [`check_private_dir`] refuses a folder that is a symlink, is owned by another user, or can
//!   be written by group or others: anyone who could write there could swap what REM reads back.

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of folders REM creates.
pub const DIR_MODE: u32 = 0o700;
/// Mode of files REM creates.
pub const FILE_MODE: u32 = 0o600;

fn nofollow() -> i32 {
    rustix::fs::OFlags::NOFOLLOW.bits() as i32
}

/// Create `dir` and any missing parents as `0700` folders (existing folders keep their mode).
/// Errors: the OS error of the first folder that cannot be created or chmod-ed.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(p) = at {
        if p.as_os_str().is_empty() || p.symlink_metadata().is_ok() {
            break;
        }
        missing.push(p);
        at = p.parent();
    }
    for p in missing.into_iter().rev() {
        match DirBuilder::new().mode(DIR_MODE).create(p) {
            Ok(()) => std::fs::set_permissions(p, Permissions::from_mode(DIR_MODE))?,
            // Made by another process in between: fine, it is theirs to have set.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Open `path` for reading and writing, creating it `0600` if it does not exist; never through a
/// symlink (`ELOOP` if `path` is one). Errors: the OS error.
pub fn open_or_create_file(path: &Path) -> io::Result<File> {
    match OpenOptions::new().read(true).write(true).create_new(true).mode(FILE_MODE).custom_flags(nofollow()).open(path)
    {
        Ok(f) => {
            f.set_permissions(Permissions::from_mode(FILE_MODE))?;
            Ok(f)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            OpenOptions::new().read(true).write(true).custom_flags(nofollow()).open(path)
        }
        Err(e) => Err(e),
    }
}

/// Create the new file `path` (`0600`, `O_EXCL`, `O_NOFOLLOW`) holding `bytes`, flushed to disk.
/// Errors: `AlreadyExists` when anything (a file, a symlink) is already there; other OS errors.
pub fn write_new_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut f = OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).custom_flags(nofollow()).open(path)?;
    f.set_permissions(Permissions::from_mode(FILE_MODE))?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Replace `path` atomically with a new `0600` file holding `bytes`: written under a temporary
/// name beside it (`<name>.<pid>.tmp`, never through a symlink) and renamed over it, so a reader
/// sees the old file or the new one, never a part. Errors: the OS error (the temporary file is
/// removed).
pub fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let _ = std::fs::remove_file(&tmp);
    let written = write_new_file(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Open the regular file `path` for reading without following a symlink. Errors: `ELOOP` for a
/// symlink, an `InvalidData` error for anything but a regular file, other OS errors.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let f = OpenOptions::new().read(true).custom_flags(nofollow()).open(path)?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "not a regular file"));
    }
    Ok(f)
}

/// Read the regular file `path` without following a symlink. Errors: `ELOOP` for a symlink, an
/// `InvalidData` error for anything but a regular file, other OS errors.
pub fn read_file(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = open_regular(path)?;
    let mut out = Vec::new();
    f.read_to_end(&mut out)?;
    Ok(out)
}

/// Like [`check_private_dir`], but a folder of this user's that group or others can write
/// (made by an older REM under a umask of `002`) is made `0700` first instead of refused.
pub fn make_private_dir(dir: &Path) -> Result<(), String> {
    if let Ok(meta) = dir.symlink_metadata()
        && meta.is_dir()
        && meta.uid() == rustix::process::geteuid().as_raw()
        && meta.mode() & 0o022 != 0
    {
        std::fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))
            .map_err(|e| format!("cannot make {} private: {e}", dir.display()))?;
    }
    check_private_dir(dir)
}

/// Check that `dir` is a real folder (not a symlink) owned by this process's effective user and
/// not writable by group or others. Errors: why not, as a sentence naming the folder and the fix.
pub fn check_private_dir(dir: &Path) -> Result<(), String> {
    let meta = dir.symlink_metadata().map_err(|e| format!("cannot inspect {}: {e}", dir.display()))?;
    if meta.file_type().is_symlink() {
        return Err(format!("{} is a symlink; REM only uses a real folder here", dir.display()));
    }
    if !meta.is_dir() {
        return Err(format!("{} is not a folder", dir.display()));
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(format!(
            "{} is owned by user {} and not by this user ({me}); use a folder of your own",
            dir.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{} can be written by other users (mode {:o}); run `chmod 700 {}`",
            dir.display(),
            meta.mode() & 0o777,
            dir.display()
        ));
    }
    Ok(())
}

/// A fresh name beside `path` for a file or folder being written (`.<name>.partial-<pid>-<n>`),
/// one that nothing holds yet.
pub fn partial_beside(path: &Path) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "rem".into());
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // A name left by a crashed process of the same pid is skipped, never reused.
    (n..)
        .map(|k| parent.join(format!(".{name}.partial-{}-{k}", std::process::id())))
        .find(|p| std::fs::symlink_metadata(p).is_err())
        .unwrap_or_else(|| parent.join(format!(".{name}.partial-{}-{n}-last", std::process::id())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_created_owner_only() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("a/b/c");
        create_dir(&dir).unwrap();
        for p in ["a", "a/b", "a/b/c"] {
            assert_eq!(mode(&t.path().join(p)), 0o700, "{p}");
        }
        let f = dir.join("file");
        drop(open_or_create_file(&f).unwrap());
        assert_eq!(mode(&f), 0o600);
        write_new_file(&dir.join("new"), b"x").unwrap();
        assert_eq!(mode(&dir.join("new")), 0o600);
        check_private_dir(&dir).unwrap();
    }

    #[test]
    fn symlinks_are_never_followed() {
        let t = tempfile::tempdir().unwrap();
        let target = t.path().join("victim");
        std::fs::write(&target, b"keep").unwrap();
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(write_new_file(&link, b"overwrite").is_err());
        assert!(open_or_create_file(&link).is_err());
        assert!(read_file(&link).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
        let dir_link = t.path().join("dirlink");
        std::os::unix::fs::symlink(t.path(), &dir_link).unwrap();
        assert!(check_private_dir(&dir_link).unwrap_err().contains("symlink"));
    }

    #[test]
    fn a_folder_others_can_write_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("shared");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, Permissions::from_mode(0o777)).unwrap();
        assert!(check_private_dir(&dir).unwrap_err().contains("chmod 700"));
        std::fs::set_permissions(&dir, Permissions::from_mode(0o755)).unwrap();
        check_private_dir(&dir).unwrap();
        // A folder of one's own that others can write is made private by `make_private_dir`.
        std::fs::set_permissions(&dir, Permissions::from_mode(0o775)).unwrap();
        make_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }
}
