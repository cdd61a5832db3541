//! Secrets at rest: AES-256-GCM for secret environment values, SHA-256 for API keys.
//!
//! The key comes, in this order, from the open options, `TESTMESH_ENCRYPTION_KEY` (64 hex digits),
//! a key file (the options' path, `TESTMESH_ENCRYPTION_KEY_FILE`, or `testmesh.key` next to a SQLite
//! database, generated with mode 0600 when missing). A PostgreSQL store without a key still opens;
//! only reading or writing secret values fails, because a key generated on one machine would leave
//! every other worker unable to decrypt.

use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Environment variable holding the key as 64 hex digits.
pub const KEY_ENV: &str = "TESTMESH_ENCRYPTION_KEY";
/// Environment variable naming a key file.
pub const KEY_FILE_ENV: &str = "TESTMESH_ENCRYPTION_KEY_FILE";
/// Name of the key file generated next to a SQLite database.
pub const KEY_FILE_NAME: &str = "testmesh.key";

/// Marks an encrypted value: `enc:v1:` + base64(nonce ‖ ciphertext ‖ tag).
const PREFIX: &str = "enc:v1:";
const NONCE_LEN: usize = 12;

/// The cipher, or why there is none.
#[derive(Clone)]
pub(crate) enum Cipher {
    /// A key is available.
    Ready(Box<Aes256Gcm>),
    /// No key was configured; the message says how to configure one.
    Missing(String),
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cipher::Ready(_) => f.write_str("Cipher::Ready(..)"),
            Cipher::Missing(why) => write!(f, "Cipher::Missing({why:?})"),
        }
    }
}

impl Cipher {
    /// Resolves the key (see the module docs).
    pub(crate) fn resolve(
        explicit: Option<[u8; 32]>,
        key_file: Option<&Path>,
        sqlite_db: Option<&Path>,
    ) -> Result<Cipher> {
        if let Some(key) = explicit {
            return Ok(Cipher::from_key(&key));
        }
        if let Some(hex_key) = std::env::var(KEY_ENV).ok().filter(|k| !k.trim().is_empty()) {
            return Ok(Cipher::from_key(&parse_hex_key(&hex_key, KEY_ENV)?));
        }
        let file = key_file
            .map(Path::to_path_buf)
            .or_else(|| {
                std::env::var_os(KEY_FILE_ENV)
                    .filter(|f| !f.is_empty())
                    .map(PathBuf::from)
            })
            .or_else(|| sqlite_db.map(|db| db.with_file_name(KEY_FILE_NAME)));
        match file {
            Some(path) => Ok(Cipher::from_key(&read_or_create_key_file(&path)?)),
            None => Ok(Cipher::Missing(format!(
                "no encryption key for secret environment values: set {KEY_ENV} (64 hex digits) or {KEY_FILE_ENV}, the same on every server and worker"
            ))),
        }
    }

    fn from_key(key: &[u8; 32]) -> Cipher {
        Cipher::Ready(Box::new(Aes256Gcm::new(key.into())))
    }

    fn ready(&self) -> Result<&Aes256Gcm> {
        match self {
            Cipher::Ready(c) => Ok(c),
            Cipher::Missing(why) => Err(Error::Key(why.clone())),
        }
    }

    /// Encrypts `plain` with a fresh random nonce.
    pub(crate) fn encrypt(&self, plain: &str) -> Result<String> {
        let cipher = self.ready()?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let sealed = cipher
            .encrypt(&Nonce::from(nonce), plain.as_bytes())
            .map_err(|_| Error::Key("encryption failed".into()))?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", BASE64.encode(bytes)))
    }

    /// Decrypts a value written by [`Cipher::encrypt`].
    pub(crate) fn decrypt(&self, stored: &str) -> Result<String> {
        let cipher = self.ready()?;
        let bytes = stored
            .strip_prefix(PREFIX)
            .and_then(|b| BASE64.decode(b).ok())
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or(Error::Decrypt)?;
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Error::Decrypt)?;
        let plain = cipher
            .decrypt(&Nonce::from(nonce), sealed)
            .map_err(|_| Error::Decrypt)?;
        String::from_utf8(plain).map_err(|_| Error::Decrypt)
    }
}

/// Parses a 32-byte key from 64 hex digits.
pub fn parse_hex_key(text: &str, source: &str) -> Result<[u8; 32]> {
    let bytes =
        hex::decode(text.trim()).map_err(|e| Error::Key(format!("{source} is not hex: {e}")))?;
    bytes.try_into().map_err(|b: Vec<u8>| {
        Error::Key(format!(
            "{source} must be 32 bytes (64 hex digits), not {} bytes",
            b.len()
        ))
    })
}

/// Reads a key file, or creates it with a random key (mode 0600) when it does not exist.
fn read_or_create_key_file(path: &Path) -> Result<[u8; 32]> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let source = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => return parse_hex_key(&text, &source),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
        Err(_) => {}
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut key = [0u8; 32];
    rand::fill(&mut key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(format!("{}\n", hex::encode(key)).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(io)?;
            Ok(key)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).map_err(io)?;
            parse_hex_key(&text, &source)
        }
        Err(e) => Err(io(e)),
    }
}

/// SHA-256 of `text`, as lowercase hex.
pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `n` random bytes as lowercase hex.
pub(crate) fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::fill(bytes.as_mut_slice());
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let cipher = Cipher::from_key(&[7u8; 32]);
        let sealed = cipher.encrypt("s3cret").unwrap_or_default();
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("s3cret"));
        assert_eq!(cipher.decrypt(&sealed).ok().as_deref(), Some("s3cret"));
        // Nonces differ, so equal secrets do not look equal at rest.
        assert_ne!(cipher.encrypt("s3cret").ok(), Some(sealed.clone()));
        let other = Cipher::from_key(&[8u8; 32]);
        assert!(matches!(other.decrypt(&sealed), Err(Error::Decrypt)));
        assert!(matches!(cipher.decrypt("plain"), Err(Error::Decrypt)));
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("sub").join("k.key");
        let first = read_or_create_key_file(&path).ok();
        assert!(first.is_some());
        assert_eq!(read_or_create_key_file(&path).ok(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600));
        }
    }

    #[test]
    fn hex_keys() {
        assert!(parse_hex_key(&"ab".repeat(32), "k").is_ok());
        assert!(matches!(parse_hex_key("abcd", "k"), Err(Error::Key(_))));
        assert!(matches!(parse_hex_key("zz", "k"), Err(Error::Key(_))));
    }

    #[test]
    fn comparisons() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
