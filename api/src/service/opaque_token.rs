//! Opaque tokens handed to a client and shown only once: refresh tokens and letter download
//! links. 32 random bytes from the operating system, URL-safe, and stored only as their SHA-256,
//! so that the database alone never lets anyone use one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new token: 256 random bits, as 43 URL-safe characters.
pub(crate) fn new() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored and looked up in place of the token.
pub(crate) fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
