//! Standard Webhooks signatures: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`, under
//! a `whsec_` secret (base64 of the key bytes). A few lines on `hmac` and `sha2`; receivers
//! verify with any implementation of the specification (the tests use the reference one).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::error::{AppError, AppResult};

const PREFIX: &str = "whsec_";
/// Key bytes in a new secret: the specification asks for 24 to 64.
const KEY_BYTES: usize = 32;

/// A new `whsec_` secret.
#[must_use]
pub fn new_secret() -> String {
    let mut key = [0u8; KEY_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("{PREFIX}{}", STANDARD.encode(key))
}

/// The signature of one message under one secret: `v1,<base64>`.
///
/// # Errors
/// A stored secret that is not a `whsec_` secret (internal: the service wrote it).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> AppResult<String> {
    let key = secret
        .strip_prefix(PREFIX)
        .and_then(|key| STANDARD.decode(key).ok())
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("stored webhook secret is malformed")))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(AppError::internal)?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}
