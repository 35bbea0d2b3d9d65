//! HMAC-SHA256 and hex, shared by the blind index, gateway request signing and callback
//! verification.

use std::fmt::Write;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 of `message` under `key` (any length).
#[must_use]
pub fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Whether `signature` (hex) is the HMAC of `message`, compared in constant time.
#[must_use]
pub fn verify_hmac_hex(key: &[u8], message: &[u8], signature: &str) -> bool {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    from_hex(signature).is_some_and(|bytes| mac.verify_slice(&bytes).is_ok())
}

/// Whether two digests are equal, in time that does not depend on where they differ.
#[must_use]
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

/// SHA-256 of `bytes`, in lower-case hex.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

/// Lower-case hex.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_its_own_signatures_and_nothing_else() {
        let signature = hex(&hmac(b"secret", b"body"));
        assert!(verify_hmac_hex(b"secret", b"body", &signature));
        assert!(!verify_hmac_hex(b"secret", b"body!", &signature));
        assert!(!verify_hmac_hex(b"other", b"body", &signature));
        assert!(!verify_hmac_hex(b"secret", b"body", "zz"));
    }
}
