//! The header of an encrypted database file: its first [`HEADER`] bytes, two copies ("slots")
//! of the same record, so a rewrite (`rem rekey`) torn by a crash leaves one whole.
//!
//! A slot (little-endian integers):
//!
//! | bytes | field |
//! |---|---|
//! | 0..8 | magic `REMCRYPT` (what tells an encrypted file from redb's own) |
//! | 8..12 | header version (1) |
//! | 12..20 | sequence number (the newer slot wins) |
//! | 20..24 | block size ([`super::BLOCK`]) |
//! | 24..36 | Argon2id memory (KiB), iterations, lanes |
//! | 36..52 | Argon2id salt |
//! | 52..76 | XChaCha20-Poly1305 nonce of the wrapped key |
//! | 76..124 | the data key wrapped (32 bytes and the 16-byte tag; bytes 0..52 are its associated data) |
//! | 124..156 | BLAKE3 of bytes 0..124: a torn slot is told from a wrong password |
//!
//! The password key is Argon2id with [`super::derive_key`]'s parameters.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use super::{ARGON2_ITERATIONS, ARGON2_LANES, ARGON2_MEMORY_KIB, BLOCK, Password, random};
use crate::error::{Error, Result};

/// Bytes of the header (two slots).
pub const HEADER: usize = 4096;
/// Bytes of one slot.
const SLOT: usize = HEADER / 2;
/// The first bytes of an encrypted database file.
pub const MAGIC: &[u8; 8] = b"REMCRYPT";
const VERSION: u32 = 1;
const BODY: usize = 124;
const USED: usize = BODY + 32;

/// A data key: 32 random bytes, wiped when dropped.
pub type DataKey = Zeroizing<[u8; 32]>;

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// The key Argon2id derives from `password` with the slot's parameters and salt.
fn password_key(password: &Password, slot: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    super::derive_key(password, &slot[36..52], [u32_at(slot, 24), u32_at(slot, 28), u32_at(slot, 32)])
}

/// A slot holding `data_key` wrapped under `password`, with sequence number `sequence`.
fn seal_slot(data_key: &DataKey, password: &Password, sequence: u64) -> Result<[u8; SLOT]> {
    let mut slot = [0u8; SLOT];
    slot[..8].copy_from_slice(MAGIC);
    slot[8..12].copy_from_slice(&VERSION.to_le_bytes());
    slot[12..20].copy_from_slice(&sequence.to_le_bytes());
    slot[20..24].copy_from_slice(&(BLOCK as u32).to_le_bytes());
    slot[24..28].copy_from_slice(&ARGON2_MEMORY_KIB.to_le_bytes());
    slot[28..32].copy_from_slice(&ARGON2_ITERATIONS.to_le_bytes());
    slot[32..36].copy_from_slice(&ARGON2_LANES.to_le_bytes());
    slot[36..52].copy_from_slice(&random::<16>()?);
    let nonce = random::<24>()?;
    slot[52..76].copy_from_slice(&nonce);
    let kek = password_key(password, &slot)?;
    let wrapped = XChaCha20Poly1305::new(kek.as_ref().into())
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: data_key.as_ref(), aad: &slot[..52] })
        .map_err(|_| Error::Internal("sealing the data key failed".into()))?;
    slot[76..BODY].copy_from_slice(&wrapped);
    let sum = blake3::hash(&slot[..BODY]);
    slot[BODY..USED].copy_from_slice(sum.as_bytes());
    Ok(slot)
}

/// A new header: a fresh random data key wrapped under `password` in both slots.
/// Errors: `Internal` (no randomness).
pub fn create(password: &Password) -> Result<(DataKey, [u8; HEADER])> {
    let data_key: DataKey = Zeroizing::new(random::<32>()?);
    let slot = seal_slot(&data_key, password, 1)?;
    let mut header = [0u8; HEADER];
    header[..SLOT].copy_from_slice(&slot);
    header[SLOT..].copy_from_slice(&slot);
    Ok((data_key, header))
}

/// Whether `start` (a file's first bytes) begins an encrypted database.
pub fn is_encrypted(start: &[u8]) -> bool {
    start.starts_with(MAGIC)
}

/// Whether the open `file` is an encrypted database (false when it is shorter than the magic
/// or cannot be read).
pub fn is_encrypted_file(file: &std::fs::File) -> bool {
    use std::os::unix::fs::FileExt;
    let mut start = [0u8; MAGIC.len()];
    file.read_exact_at(&mut start, 0).is_ok_and(|()| is_encrypted(&start))
}

/// Whether the database file at `path` is encrypted; `None` when there is none or it cannot
/// be opened (never through a symlink).
pub fn is_encrypted_path(path: &std::path::Path) -> Option<bool> {
    crate::private::open_regular(path).ok().map(|f| is_encrypted_file(&f))
}

/// A slot whose checksum holds, with its sequence number.
fn whole(slot: &[u8]) -> Option<u64> {
    let ok = slot.starts_with(MAGIC)
        && u32_at(slot, 8) == VERSION
        && u32_at(slot, 20) == BLOCK as u32
        && blake3::hash(&slot[..BODY]).as_bytes() == &slot[BODY..USED];
    ok.then(|| u64::from_le_bytes(slot[12..20].try_into().expect("8 bytes")))
}

/// What [`open`] found: the data key, and the header to write back when the slots differ
/// (the older one is replaced by the newer, so an old password stops working everywhere).
pub struct Unlocked {
    /// The data key.
    pub data_key: DataKey,
    /// The header as it should be, when it is not already.
    pub heal: Option<[u8; HEADER]>,
    /// The newer slot's sequence number.
    pub sequence: u64,
}

/// Unwrap the data key of `header` with `password`; `file` names the file in errors.
/// Errors: `Password` (a wrong password), `Storage` (no whole slot: not an encrypted REM
/// database, or a damaged header).
pub fn open(header: &[u8], password: &Password, file: &std::path::Path) -> Result<Unlocked> {
    if header.len() < HEADER {
        return Err(Error::Storage(format!("{}: the encrypted file's header is cut short", file.display())));
    }
    let (a, b) = (&header[..SLOT], &header[SLOT..HEADER]);
    let (slot, sequence) = match (whole(a), whole(b)) {
        (Some(x), Some(y)) if y > x => (b, y),
        (Some(x), _) => (a, x),
        (None, Some(y)) => (b, y),
        (None, None) => {
            return Err(Error::Storage(format!(
                "{}: both copies of the encrypted file's header are damaged; restore it from a backup",
                file.display()
            )));
        }
    };
    let kek = password_key(password, slot)?;
    let key = XChaCha20Poly1305::new(kek.as_ref().into())
        .decrypt(XNonce::from_slice(&slot[52..76]), Payload { msg: &slot[76..BODY], aad: &slot[..52] })
        .map_err(|_| Error::Password(format!("wrong password for the encrypted database {}", file.display())))?;
    let data_key: DataKey =
        Zeroizing::new(key.as_slice().try_into().map_err(|_| Error::Storage("bad key size".into()))?);
    let heal = (a != b).then(|| {
        let mut fixed = [0u8; HEADER];
        fixed[..SLOT].copy_from_slice(slot);
        fixed[SLOT..].copy_from_slice(slot);
        fixed
    });
    Ok(Unlocked { data_key, heal, sequence })
}

/// A slot that wraps `data_key` under `new_password` with sequence number `sequence` (the
/// caller writes it over both slots, one at a time; see `backend::Keyring::rekey`).
/// Errors: `Internal` (no randomness).
pub fn rewrap(data_key: &DataKey, new_password: &Password, sequence: u64) -> Result<[u8; SLOT]> {
    seal_slot(data_key, new_password, sequence)
}

/// Offsets of the two slots.
pub const SLOTS: [u64; 2] = [0, SLOT as u64];
