//! The redb [`StorageBackend`] of an encrypted database: it wraps redb's own [`FileBackend`]
//! (which keeps doing the file I/O and the file locks) and seals every block it writes.
//!
//! Physical layout after the [`HEADER`]: logical block 0 twice (two copies written in turn:
//! redb rewrites its own header, which lives there, in place at every commit, so a torn write
//! leaves the previous copy whole), then logical blocks 1, 2, ... Each stored block is
//! `sequence (8) | nonce (12) | ciphertext (BLOCK) | tag (16)`, sealed with AES-256-GCM-SIV
//! (RFC 8452: nonce-misuse resistant, so random 96-bit nonces stay safe however many blocks a
//! file's life writes; AES-NI makes it ~3x faster than XChaCha20-Poly1305 here, see
//! docs/benchmarks.md); the associated data is the
//! block's index and sequence number. A block that fails authentication is an `InvalidData`
//! error naming it: damage or tampering is never returned as data.

use std::fs::File;
use std::io;
use std::ops::Bound;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use aes_gcm_siv::aead::{AeadInPlace, KeyInit};
use aes_gcm_siv::{Aes256GcmSiv, Nonce, Tag};
use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

use super::header::{self, DataKey, HEADER};
use super::{BLOCK, Password};
use crate::error::{Error, Result};

const SEQ: usize = 8;
const NONCE: usize = 12;
const TAG: usize = 16;
/// Bytes of one stored block.
pub const STORED: usize = SEQ + NONCE + BLOCK + TAG;
const STRIPES: usize = 64;
/// Blocks written per call when the file grows.
const GROW_RUN: u64 = 256;

/// The keys of one open encrypted file, shared by its backend and its `Database` handle (for
/// `rem rekey` and for backups, which are sealed with the same data key).
pub struct Keyring {
    data_key: DataKey,
    /// The password the header is wrapped under now (to open a backup's destination).
    password: Mutex<Password>,
    cipher: Aes256GcmSiv,
    /// The file's header as stored, and its newer slot's sequence number.
    header: Mutex<([u8; HEADER], u64)>,
    /// The header to write once redb holds the file (slots left different by a `rekey`).
    heal: Mutex<Option<[u8; HEADER]>>,
    /// A second handle on the file, for header writes.
    file: File,
    path: PathBuf,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("path", &self.path).finish_non_exhaustive()
    }
}

fn io_err(e: std::io::Error, what: &str, path: &Path) -> Error {
    Error::Io { context: format!("{what} {}", path.display()), message: e.to_string() }
}

impl Keyring {
    /// Wrap the data key under `new_password` in both header slots, one after the other with
    /// a sync after each (a crash between them leaves the new slot, which wins, and the old
    /// one, replaced at the next open). The data is not rewritten. Errors: `Io`.
    pub fn rekey(&self, new_password: &Password) -> Result<()> {
        let mut guard = self.header.lock().unwrap_or_else(|p| p.into_inner());
        let sequence = guard.1 + 1;
        let slot = header::rewrap(&self.data_key, new_password, sequence)?;
        for at in header::SLOTS {
            self.file.write_all_at(&slot, at).map_err(|e| io_err(e, "cannot write the header of", &self.path))?;
            self.file.sync_data().map_err(|e| io_err(e, "cannot sync", &self.path))?;
            guard.0[at as usize..at as usize + slot.len()].copy_from_slice(&slot);
        }
        guard.1 = sequence;
        *self.password.lock().unwrap_or_else(|p| p.into_inner()) = new_password.clone();
        Ok(())
    }

    /// The password the header is wrapped under now.
    pub fn password(&self) -> Password {
        self.password.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Write the header [`unlock`] found needs healing (both slots the newer one, so an old
    /// password stops working), now that redb holds the file. Errors: `Io`.
    pub fn heal(&self) -> Result<()> {
        let Some(fixed) = self.heal.lock().unwrap_or_else(|p| p.into_inner()).take() else { return Ok(()) };
        self.file.write_all_at(&fixed, 0).map_err(|e| io_err(e, "cannot write the header of", &self.path))?;
        self.file.sync_data().map_err(|e| io_err(e, "cannot sync", &self.path))?;
        self.header.lock().unwrap_or_else(|p| p.into_inner()).0 = fixed;
        Ok(())
    }

    /// The header as stored now (a backup starts with it: same data key, same password).
    pub fn header(&self) -> [u8; HEADER] {
        self.header.lock().unwrap_or_else(|p| p.into_inner()).0
    }
}

/// Read the header of `file` and unlock it with `password`, or write a new header when the
/// file is empty (under an exclusive `flock`, so two processes creating the same database
/// agree on one). A header left with two different slots by an interrupted `rem rekey` is
/// healed by [`Keyring::heal`] once redb holds the file. Errors: `Password`, `Storage`, `Io`.
pub fn unlock(file: File, path: &Path, password: &Password) -> Result<Sealed> {
    use rustix::fs::{FlockOperation, flock};
    let len = |f: &File| f.metadata().map(|m| m.len()).map_err(|e| io_err(e, "cannot read", path));
    if len(&file)? == 0 {
        // Never wait: a process holding the database holds redb's lock on the file too.
        let dir = path.parent().unwrap_or(path).to_path_buf();
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => return Err(Error::Locked { path: dir, holder: None }),
            Err(e) => return Err(io_err(e.into(), "cannot lock", path)),
        }
        let created = match len(&file) {
            Ok(0) => header::create(password).and_then(|(key, bytes)| {
                file.write_all_at(&bytes, 0).map_err(|e| io_err(e, "cannot write the header of", path))?;
                file.sync_data().map_err(|e| io_err(e, "cannot sync", path))?;
                Ok(Some((key, bytes)))
            }),
            // Created by another process meanwhile: read its header below.
            Ok(_) => Ok(None),
            Err(e) => Err(e),
        };
        let _ = flock(&file, FlockOperation::Unlock);
        if let Some((key, bytes)) = created? {
            return Sealed::new(file, path, key, password, bytes, 1, None);
        }
    }
    let mut bytes = [0u8; HEADER];
    file.read_exact_at(&mut bytes, 0).map_err(|e| io_err(e, "cannot read the header of", path))?;
    let opened = header::open(&bytes, password, path)?;
    Sealed::new(file, path, opened.data_key, password, bytes, opened.sequence, opened.heal)
}

/// Start a new encrypted file at `file` (empty) with `header` and `data_key` (another file's:
/// a backup). Errors: `Io`.
pub fn with_keys(file: File, path: &Path, keys: &Keyring) -> Result<Sealed> {
    let bytes = keys.header();
    file.write_all_at(&bytes, 0).map_err(|e| io_err(e, "cannot write the header of", path))?;
    let sequence = keys.header.lock().unwrap_or_else(|p| p.into_inner()).1;
    Sealed::new(file, path, keys.data_key.clone(), &keys.password(), bytes, sequence, None)
}

/// The backend redb runs over (see the module doc).
pub struct Sealed {
    inner: FileBackend,
    keys: Arc<Keyring>,
    /// Logical block 0: (sequence of its newer copy, which copy that is), once known.
    block0: Mutex<Option<(u64, u64)>>,
    /// Whether block 0 was written since the last sync: until the next sync, writes go over
    /// the same copy, so the other one always holds the last synced version.
    block0_dirty: std::sync::atomic::AtomicBool,
    stripes: Vec<RwLock<()>>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed").field("path", &self.keys.path).finish_non_exhaustive()
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Physical offset of stored block `index` (copy `copy` for block 0).
fn stored_at(index: u64, copy: u64) -> u64 {
    let slot = if index == 0 { copy } else { index + 1 };
    HEADER as u64 + slot * STORED as u64
}

impl Sealed {
    fn new(
        file: File,
        path: &Path,
        data_key: DataKey,
        password: &Password,
        header: [u8; HEADER],
        sequence: u64,
        heal: Option<[u8; HEADER]>,
    ) -> Result<Sealed> {
        let twin = file.try_clone().map_err(|e| io_err(e, "cannot open", path))?;
        let inner =
            FileBackend::new(file).map_err(|e| Error::Storage(format!("cannot open {}: {e}", path.display())))?;
        let cipher = Aes256GcmSiv::new(data_key.as_ref().into());
        let keys = Keyring {
            data_key,
            password: Mutex::new(password.clone()),
            cipher,
            header: Mutex::new((header, sequence)),
            heal: Mutex::new(heal),
            file: twin,
            path: path.into(),
        };
        Ok(Sealed {
            inner,
            keys: Arc::new(keys),
            block0: Mutex::new(None),
            block0_dirty: std::sync::atomic::AtomicBool::new(false),
            stripes: (0..STRIPES).map(|_| RwLock::new(())).collect(),
        })
    }

    /// The keys, for the `Database` handle.
    pub fn keyring(&self) -> Arc<Keyring> {
        self.keys.clone()
    }

    fn aad(index: u64, sequence: u64) -> [u8; 16] {
        let mut ad = [0u8; 16];
        ad[..8].copy_from_slice(&index.to_le_bytes());
        ad[8..].copy_from_slice(&sequence.to_le_bytes());
        ad
    }

    /// Seal `plain` (one block) as stored block `index` with `sequence` into `out` (STORED bytes).
    fn seal(&self, index: u64, sequence: u64, nonce: &[u8], plain: &[u8], out: &mut [u8]) -> io::Result<()> {
        out[..SEQ].copy_from_slice(&sequence.to_le_bytes());
        out[SEQ..SEQ + NONCE].copy_from_slice(nonce);
        let body = &mut out[SEQ + NONCE..SEQ + NONCE + BLOCK];
        body.copy_from_slice(plain);
        let tag = self
            .keys
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(nonce), &Self::aad(index, sequence), body)
            .map_err(|_| invalid("sealing a block failed".into()))?;
        out[SEQ + NONCE + BLOCK..].copy_from_slice(&tag);
        Ok(())
    }

    /// Open stored block `index` in place: its plaintext is `stored[SEQ + NONCE..][..BLOCK]`.
    /// Returns its sequence number. Errors: `InvalidData` when it fails authentication.
    fn open(&self, index: u64, stored: &mut [u8]) -> io::Result<u64> {
        let sequence = u64::from_le_bytes(stored[..SEQ].try_into().expect("8 bytes"));
        let (head, rest) = stored.split_at_mut(SEQ + NONCE);
        let (body, tag) = rest.split_at_mut(BLOCK);
        self.keys
            .cipher
            .decrypt_in_place_detached(
                Nonce::from_slice(&head[SEQ..]),
                &Self::aad(index, sequence),
                body,
                Tag::from_slice(tag),
            )
            .map_err(|_| {
                invalid(format!(
                    "block {index} of the encrypted database {} failed authentication: the file is damaged or was \
                     changed outside REM",
                    self.keys.path.display()
                ))
            })?;
        Ok(sequence)
    }

    fn nonces(n: usize) -> io::Result<Vec<u8>> {
        let mut out = vec![0u8; n * NONCE];
        getrandom::fill(&mut out).map_err(|e| io::Error::other(format!("no randomness from the OS: {e}")))?;
        Ok(out)
    }

    /// Logical blocks stored now.
    fn blocks(&self) -> io::Result<u64> {
        let len = self.inner.len()?;
        Ok(match len.saturating_sub(HEADER as u64) / STORED as u64 {
            0 | 1 => 0,
            n => n - 1,
        })
    }

    /// Logical block 0's plaintext and (sequence, copy) of the copy it came from: the newer
    /// copy that authenticates. Errors: `InvalidData` when neither does.
    fn read_block0(&self, state: &mut Option<(u64, u64)>) -> io::Result<Vec<u8>> {
        let mut both = vec![0u8; 2 * STORED];
        self.inner.read(stored_at(0, 0), &mut both)?;
        let (a, b) = both.split_at_mut(STORED);
        let first = self.open(0, a);
        let second = self.open(0, b);
        let (copy, sequence, stored) = match (first, second) {
            (Ok(x), Ok(y)) if y > x => (1, y, &*b),
            (Ok(x), _) => (0, x, &*a),
            (Err(_), Ok(y)) => (1, y, &*b),
            (Err(e), Err(_)) => return Err(e),
        };
        *state = Some((sequence, copy));
        Ok(stored[SEQ + NONCE..SEQ + NONCE + BLOCK].to_vec())
    }

    /// Write logical block 0 over its older copy, one sequence number past the newer.
    fn write_block0(&self, plain: &[u8], state: &mut Option<(u64, u64)>) -> io::Result<()> {
        let (sequence, copy) = match *state {
            Some(s) => s,
            None => {
                self.read_block0(state)?;
                state.expect("set by read_block0")
            }
        };
        let mut out = vec![0u8; STORED];
        self.seal(0, sequence + 1, &Self::nonces(1)?, plain, &mut out)?;
        // After a sync, the older copy; before the next one, the copy written since.
        let dirty = self.block0_dirty.swap(true, std::sync::atomic::Ordering::SeqCst);
        let target = if dirty { copy } else { 1 - copy };
        self.inner.write(stored_at(0, target), &out)?;
        *state = Some((sequence + 1, target));
        Ok(())
    }

    fn stripe_locks(&self, first: u64, last: u64) -> Vec<usize> {
        let mut s: Vec<usize> = (first..=last.min(first + STRIPES as u64)).map(|i| i as usize % STRIPES).collect();
        s.sort_unstable();
        s.dedup();
        s
    }

    /// Read logical blocks `first..=last` (all past block 0) and hand each block's plaintext,
    /// in order, to `sink` (the stored bytes are read into one buffer per thread, reused, and
    /// opened in place: no copy but the one into `sink`).
    fn read_run(&self, first: u64, last: u64, mut sink: impl FnMut(usize, &[u8])) -> io::Result<()> {
        thread_local! {
            static STORED_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let n = (last - first + 1) as usize;
        let mut run = |cell: &std::cell::RefCell<Vec<u8>>| {
            // A nested read on this thread (none today) gets a buffer of its own.
            let mut own;
            let mut borrowed = cell.try_borrow_mut().ok();
            let stored: &mut Vec<u8> = match borrowed.as_deref_mut() {
                Some(b) => b,
                None => {
                    own = Vec::new();
                    &mut own
                }
            };
            stored.resize(n * STORED, 0);
            let opened = (|| {
                self.inner.read(stored_at(first, 0), &mut stored[..n * STORED])?;
                for (i, block) in stored[..n * STORED].chunks_exact_mut(STORED).enumerate() {
                    self.open(first + i as u64, block)?;
                    sink(i, &block[SEQ + NONCE..SEQ + NONCE + BLOCK]);
                }
                Ok(())
            })();
            if stored.capacity() > 64 * STORED {
                // Do not keep a large read's buffer alive on the thread.
                *stored = Vec::new();
            }
            opened
        };
        // While the thread's locals are torn down (a handle dropped by a thread-local's
        // destructor), a buffer of this call's own.
        let mut done = None;
        let _ = STORED_BUF.try_with(|cell| done = Some(run(cell)));
        match done {
            Some(result) => result,
            None => run(&std::cell::RefCell::new(Vec::new())),
        }
    }

    /// Seal and write logical blocks `first..` (all past block 0) from `plain` (whole blocks).
    fn write_run(&self, first: u64, plain: &[u8]) -> io::Result<()> {
        let n = plain.len() / BLOCK;
        let nonces = Self::nonces(n)?;
        let mut stored = vec![0u8; n * STORED];
        for (i, out) in stored.chunks_exact_mut(STORED).enumerate() {
            self.seal(
                first + i as u64,
                0,
                &nonces[i * NONCE..(i + 1) * NONCE],
                &plain[i * BLOCK..(i + 1) * BLOCK],
                out,
            )?;
        }
        self.inner.write(stored_at(first, 0), &stored)
    }
}

impl StorageBackend for Sealed {
    fn len(&self) -> io::Result<u64> {
        Ok(self.blocks()? * BLOCK as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        if out.is_empty() {
            return Ok(());
        }
        let end = offset + out.len() as u64;
        let (first, last) = (offset / BLOCK as u64, (end - 1) / BLOCK as u64);
        let mut pos = offset;
        if first == 0 {
            let mut state = self.block0.lock().unwrap_or_else(|p| p.into_inner());
            let plain = self.read_block0(&mut state)?;
            let take = (BLOCK as u64).min(end) - offset;
            out[..take as usize].copy_from_slice(&plain[offset as usize..(offset + take) as usize]);
            pos += take;
        }
        if pos < end {
            let run_first = pos / BLOCK as u64;
            let locks: Vec<_> = self
                .stripe_locks(run_first, last)
                .into_iter()
                .map(|s| self.stripes[s].read().unwrap_or_else(|p| p.into_inner()))
                .collect();
            // Each block's plaintext straight into its place in `out` (the first and last may be
            // partial when the read is not block-aligned).
            let done = (pos - offset) as usize;
            self.read_run(run_first, last, |i, plain| {
                let block_start = (run_first + i as u64) * BLOCK as u64;
                let from = pos.max(block_start);
                let to = end.min(block_start + BLOCK as u64);
                let (a, b) = ((from - block_start) as usize, (to - block_start) as usize);
                let at = done + (from - pos) as usize;
                out[at..at + (b - a)].copy_from_slice(&plain[a..b]);
            })?;
            drop(locks);
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let want = len.div_ceil(BLOCK as u64);
        let have = self.blocks()?;
        if want <= have {
            let stored = if want == 0 { HEADER as u64 } else { stored_at(want, 0) };
            return self.inner.set_len(stored);
        }
        let zeros = vec![0u8; BLOCK];
        if have == 0 {
            // Both copies of block 0, so that either can be read.
            let mut state = self.block0.lock().unwrap_or_else(|p| p.into_inner());
            let mut out = vec![0u8; 2 * STORED];
            let nonces = Self::nonces(2)?;
            self.seal(0, 1, &nonces[..NONCE], &zeros, &mut out[..STORED])?;
            self.seal(0, 0, &nonces[NONCE..], &zeros, &mut out[STORED..])?;
            self.inner.write(stored_at(0, 0), &out)?;
            *state = Some((1, 0));
        }
        // The file takes its new length in one step (redb's recovery accepts only lengths of
        // whole regions), then the new blocks are sealed.
        self.inner.set_len(stored_at(want, 0))?;
        let mut next = have.max(1);
        while next < want {
            let n = (want - next).min(GROW_RUN);
            self.write_run(next, &vec![0u8; n as usize * BLOCK])?;
            next += n;
        }
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        // Block 0 is held while syncing, so a write of it cannot fall between the sync and
        // the flag's reset.
        let _block0 = self.block0.lock().unwrap_or_else(|p| p.into_inner());
        self.inner.sync_data()?;
        self.block0_dirty.store(false, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let end = offset + data.len() as u64;
        let (first, last) = (offset / BLOCK as u64, (end - 1) / BLOCK as u64);
        // A write past the end first grows the file, so that no block between is left unsealed.
        if last >= self.blocks()? {
            self.set_len((last + 1) * BLOCK as u64)?;
        }
        let mut pos = offset;
        if first == 0 {
            let mut state = self.block0.lock().unwrap_or_else(|p| p.into_inner());
            let take = (BLOCK as u64).min(end) - offset;
            let mut plain = match take == BLOCK as u64 {
                true => vec![0u8; BLOCK],
                false => self.read_block0(&mut state)?,
            };
            plain[offset as usize..(offset + take) as usize].copy_from_slice(&data[..take as usize]);
            self.write_block0(&plain, &mut state)?;
            pos += take;
        }
        if pos < end {
            let run_first = pos / BLOCK as u64;
            let _locks: Vec<_> = self
                .stripe_locks(run_first, last)
                .into_iter()
                .map(|s| self.stripes[s].write().unwrap_or_else(|p| p.into_inner()))
                .collect();
            let n = (last - run_first + 1) as usize;
            let mut plain = vec![0u8; n * BLOCK];
            let skip = (pos - run_first * BLOCK as u64) as usize;
            let tail = (end - last * BLOCK as u64) as usize;
            // Partial first or last block: keep the bytes around the write.
            if skip != 0 {
                self.read_run(run_first, run_first, |_, p| plain[..BLOCK].copy_from_slice(p))?;
            }
            if tail != BLOCK && (last != run_first || skip == 0) {
                self.read_run(last, last, |_, p| plain[(n - 1) * BLOCK..].copy_from_slice(p))?;
            }
            let done = (pos - offset) as usize;
            plain[skip..skip + (end - pos) as usize].copy_from_slice(&data[done..]);
            self.write_run(run_first, &plain)?;
        }
        Ok(())
    }

    fn close(&self) -> io::Result<()> {
        self.inner.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> std::result::Result<bool, BackendError> {
        self.inner.try_lock_range(start, end)
    }

    fn try_lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> std::result::Result<bool, BackendError> {
        self.inner.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> std::result::Result<(), BackendError> {
        self.inner.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> std::result::Result<(), BackendError> {
        self.inner.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> std::result::Result<(), BackendError> {
        self.inner.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> std::result::Result<bool, BackendError> {
        self.inner.query_lock_range(start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random writes, reads and length changes at any offset agree with a plain byte vector,
    /// and survive a reopen.
    #[test]
    fn sealed_blocks_behave_as_a_plain_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let password = Password::new("unit test").unwrap();
        let open = || {
            let file =
                std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).unwrap();
            unlock(file, &path, &password).unwrap()
        };
        let backend = open();
        let mut model: Vec<u8> = Vec::new();
        let mut rng = fastrand::Rng::with_seed(5);
        for round in 0..400 {
            match rng.u8(..10) {
                0 => {
                    let len = rng.u64(..12 * BLOCK as u64);
                    backend.set_len(len).unwrap();
                    model.resize(len.div_ceil(BLOCK as u64) as usize * BLOCK, 0);
                }
                1..=5 => {
                    let at = rng.usize(..(model.len() + 2 * BLOCK));
                    let data: Vec<u8> = (0..rng.usize(1..3 * BLOCK)).map(|_| rng.u8(..)).collect();
                    backend.write(at as u64, &data).unwrap();
                    let end = (at + data.len()).div_ceil(BLOCK) * BLOCK;
                    if model.len() < end {
                        model.resize(end, 0);
                    }
                    model[at..at + data.len()].copy_from_slice(&data);
                }
                _ if model.is_empty() => {}
                _ => {
                    let at = rng.usize(..model.len());
                    let n = rng.usize(1..=(model.len() - at).min(3 * BLOCK));
                    let mut out = vec![0u8; n];
                    backend.read(at as u64, &mut out).unwrap();
                    assert!(out == model[at..at + n], "round {round}: read {n} at {at}");
                    let mut past = vec![0u8; 1];
                    assert!(backend.read(model.len() as u64, &mut past).is_err(), "a read past the end errs");
                }
            }
            assert_eq!(backend.len().unwrap(), model.len() as u64, "round {round}");
        }
        drop(backend);
        let again = open();
        assert_eq!(again.len().unwrap(), model.len() as u64);
        let mut all = vec![0u8; model.len()];
        again.read(0, &mut all).unwrap();
        assert!(all == model, "the file reads back after a reopen");
    }
}
