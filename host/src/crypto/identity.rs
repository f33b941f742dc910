//! `rem key-gen`: the Ed25519 key pair kept for sharing (signing what a database hands to
//! another), in `$P8_HOME/keys/` (`~/.p8/keys/`): `rem_ed25519.pub` (the public key) and
//! `rem_ed25519.key` (the private key sealed with XChaCha20-Poly1305 under a key Argon2id
//! derives from the password; the public key is its associated data). Both are JSON, files
//! `0600` in a `0700` folder. Nothing of REM signs with it yet: that is the sharing work to come.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroizing;

use super::{ARGON2_ITERATIONS, ARGON2_LANES, ARGON2_MEMORY_KIB, Password, derive_key, random};
use crate::error::{Error, Result};

/// File name of the public key.
pub const PUBLIC_FILE: &str = "rem_ed25519.pub";
/// File name of the sealed private key.
pub const PRIVATE_FILE: &str = "rem_ed25519.key";

/// The default folder of the key pair: `$P8_HOME/keys`.
pub fn default_dir() -> PathBuf {
    crate::config::home().join("keys")
}

/// The sealed private key as stored.
#[derive(Serialize, Deserialize)]
struct SealedKey {
    algorithm: String,
    public_key: String,
    kdf: String,
    argon2: [u32; 3],
    salt: String,
    nonce: String,
    sealed_private_key: String,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct KeyPair {
    /// The public key, base64 (32 bytes).
    pub public_key: String,
    /// Where the public key is.
    pub public_path: PathBuf,
    /// Where the sealed private key is.
    pub private_path: PathBuf,
}

fn io(e: std::io::Error, what: &str, path: &Path) -> Error {
    Error::Io { context: format!("{what} {}", path.display()), message: e.to_string() }
}

/// Make a new Ed25519 key pair in `dir` (created `0700`), the private key sealed under
/// `password`. Errors: `InvalidArgument` when a key pair is there (unless `force`), `Io`.
pub fn generate(dir: &Path, password: &Password, force: bool) -> Result<KeyPair> {
    let (public_path, private_path) = (dir.join(PUBLIC_FILE), dir.join(PRIVATE_FILE));
    if !force && (public_path.exists() || private_path.exists()) {
        return Err(Error::InvalidArgument(format!(
            "a key pair is already in {}: give --force to replace it (what it sealed or signed needs the old one)",
            dir.display()
        )));
    }
    crate::private::create_dir(dir).map_err(|e| io(e, "cannot create", dir))?;
    let seed = Zeroizing::new(random::<32>()?);
    let signing = SigningKey::from_bytes(&seed);
    let public = signing.verifying_key().to_bytes();
    let salt = random::<16>()?;
    let nonce = random::<24>()?;
    let argon2 = [ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES];
    let key = derive_key(password, &salt, argon2)?;
    let sealed = XChaCha20Poly1305::new(key.as_ref().into())
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: seed.as_ref(), aad: &public })
        .map_err(|_| Error::Internal("sealing the private key failed".into()))?;
    let record = SealedKey {
        algorithm: "ed25519".into(),
        public_key: B64.encode(public),
        kdf: "argon2id".into(),
        argon2,
        salt: B64.encode(salt),
        nonce: B64.encode(nonce),
        sealed_private_key: B64.encode(sealed),
    };
    let text = serde_json::to_vec_pretty(&record).map_err(|e| Error::Internal(e.to_string()))?;
    crate::private::replace_file(&private_path, &text).map_err(|e| io(e, "cannot write", &private_path))?;
    let public_text = json!({"algorithm": "ed25519", "public_key": record.public_key}).to_string();
    crate::private::replace_file(&public_path, public_text.as_bytes())
        .map_err(|e| io(e, "cannot write", &public_path))?;
    Ok(KeyPair { public_key: record.public_key, public_path, private_path })
}

/// The key pair in `dir`, its private key unsealed with `password`.
/// Errors: `Password` (a wrong password), `Io`, `Storage` (a damaged key file).
pub fn load(dir: &Path, password: &Password) -> Result<(SigningKey, VerifyingKey)> {
    let path = dir.join(PRIVATE_FILE);
    let bytes = crate::private::read_file(&path).map_err(|e| io(e, "cannot read", &path))?;
    let bad = |what: &str| Error::Storage(format!("{}: {what}", path.display()));
    let record: SealedKey = serde_json::from_slice(&bytes).map_err(|e| bad(&format!("not a REM key file: {e}")))?;
    let decode = |s: &str| B64.decode(s).map_err(|_| bad("bad base64"));
    let (public, salt, nonce) = (decode(&record.public_key)?, decode(&record.salt)?, decode(&record.nonce)?);
    if nonce.len() != 24 {
        return Err(bad("bad nonce"));
    }
    let key = derive_key(password, &salt, record.argon2)?;
    let seed = Zeroizing::new(
        XChaCha20Poly1305::new(key.as_ref().into())
            .decrypt(XNonce::from_slice(&nonce), Payload { msg: &decode(&record.sealed_private_key)?, aad: &public })
            .map_err(|_| Error::Password(format!("wrong password for the private key {}", path.display())))?,
    );
    let seed: [u8; 32] = seed.as_slice().try_into().map_err(|_| bad("bad private key size"))?;
    let signing = SigningKey::from_bytes(&seed);
    let verifying = signing.verifying_key();
    if verifying.to_bytes().as_slice() != public.as_slice() {
        return Err(bad("the private key does not match the public key"));
    }
    Ok((signing, verifying))
}
