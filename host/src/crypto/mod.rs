//! Encryption at rest: an encrypted database's file holds nothing readable. Every page redb
//! writes (rows, keys, index entries, table names, vectors, edges: everything) is sealed with
//! AES-256-GCM-SIV ([`backend`]) under a random 256-bit data key; the data key is stored in
//! the file's header wrapped (XChaCha20-Poly1305) by a key Argon2id derives from the password
//! ([`header`]), so a
//! new password (`rem rekey`) rewrites the header only. `rem key-gen` makes the Ed25519 key
//! pair kept for sharing ([`identity`]). All primitives are RustCrypto's crates
//! (`aes-gcm-siv`, `chacha20poly1305`, `argon2`) and `ed25519-dalek`; REM only lays out the bytes.
//!
//! The file: a 4 KiB header (two copies of the wrapped key, see [`header`]), then the
//! logical file redb sees in blocks of [`BLOCK`] bytes, each stored as a sequence number, a
//! random 12-byte nonce, the ciphertext and the 16-byte tag, authenticated with the block's
//! index and sequence number as associated data (a block moved elsewhere in the file fails).
//! Logical block 0 (redb's own header, which redb rewrites in place at every commit) has two
//! copies written alternately, so a write torn by a power loss leaves the previous one.

pub mod backend;
pub mod header;
pub mod identity;

use zeroize::Zeroizing;

/// Bytes of one logical block: redb's page size (`redb::Builder`'s default, 4 KiB), so a page
/// read or written by redb is whole blocks.
pub const BLOCK: usize = 4096;

/// A password, wiped from memory when dropped; its `Debug` shows `***`, so it never reaches
/// a log or an error message.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wrap `text`. Errors: `InvalidArgument` for an empty password.
    pub fn new(text: impl Into<String>) -> crate::Result<Password> {
        let text = Zeroizing::new(text.into());
        if text.is_empty() {
            return Err(crate::Error::InvalidArgument("the password is empty".into()));
        }
        Ok(Password(text))
    }

    /// The password from `$P8_PASSWORD`, when set and not empty.
    pub fn from_env() -> Option<Password> {
        std::env::var(crate::config::ENV_PASSWORD).ok().and_then(|p| Password::new(p).ok())
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Argon2id memory in KiB: 19 MiB, OWASP's recommended minimum for Argon2id (OWASP Password
/// Storage Cheat Sheet; RFC 9106 describes the function).
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
/// Argon2id iterations (OWASP: 2).
pub const ARGON2_ITERATIONS: u32 = 2;
/// Argon2id lanes (OWASP: 1).
pub const ARGON2_LANES: u32 = 1;

/// Largest Argon2id memory a file may ask for (1 GiB).
pub const MAX_ARGON2_MEMORY_KIB: u32 = 1024 * 1024;
/// Most Argon2id iterations a file may ask for.
pub const MAX_ARGON2_ITERATIONS: u32 = 16;
/// Most Argon2id lanes a file may ask for.
pub const MAX_ARGON2_LANES: u32 = 8;

/// The 32-byte key Argon2id (version 0x13) derives from `password` and `salt` with `[memory
/// KiB, iterations, lanes]` (about 50 ms with the defaults above on this project's machines).
/// Errors: `Storage` for parameters Argon2 refuses (a damaged file), `Internal`.
pub(crate) fn derive_key(password: &Password, salt: &[u8], params: [u32; 3]) -> crate::Result<Zeroizing<[u8; 32]>> {
    use argon2::{Algorithm, Argon2, Params, Version};
    let [m, t, p] = params;
    // The parameters come from a file before anything in it is authenticated: bound them, so a
    // damaged or crafted file cannot ask for terabytes of memory or hours of work.
    if m > MAX_ARGON2_MEMORY_KIB || t > MAX_ARGON2_ITERATIONS || p > MAX_ARGON2_LANES {
        return Err(crate::Error::Storage(format!(
            "key-derivation parameters beyond REM's bounds (memory {m} KiB, {t} iterations, {p} lanes): the file is \
             damaged or was not written by REM"
        )));
    }
    let params = Params::new(m, t, p, Some(32))
        .map_err(|e| crate::Error::Storage(format!("unusable key-derivation parameters: {e}")))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.bytes(), salt, key.as_mut())
        .map_err(|e| crate::Error::Internal(format!("Argon2id failed: {e}")))?;
    Ok(key)
}

/// Random bytes from the operating system. Errors: `Internal` when it has none to give.
pub(crate) fn random<const N: usize>() -> crate::Result<[u8; N]> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| crate::Error::Internal(format!("no randomness from the OS: {e}")))?;
    Ok(out)
}
