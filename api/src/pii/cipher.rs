//! Authenticated field encryption with XChaCha20-Poly1305.
//!
//! XChaCha's 192-bit nonces are safe to draw at random for billions of values, so no nonce
//! state is kept. The stored form is self-describing so that keys can rotate:
//! `[format 1][key id length][key id][24-byte nonce][ciphertext and tag]`.

use std::collections::BTreeMap;
use std::fmt;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use uuid::Uuid;

const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;

/// Where a ciphertext lives. It is the AEAD's associated data, so a value copied to another
/// row or column fails to decrypt instead of silently showing someone else's number.
#[derive(Clone, Copy, Debug)]
pub struct Binding<'a> {
    pub table: &'a str,
    pub column: &'a str,
    pub row: Uuid,
}

impl Binding<'_> {
    fn associated_data(&self) -> Vec<u8> {
        format!("registry/v1\0{}\0{}\0{}", self.table, self.column, self.row).into_bytes()
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    #[error("ciphertext is malformed")]
    Malformed,
    #[error("ciphertext was written with key {0:?}, which is not configured")]
    UnknownKey(String),
    #[error("ciphertext does not authenticate for this binding")]
    Forged,
}

/// Encrypts with the active key and decrypts with any configured one.
#[derive(Clone)]
pub struct FieldCipher {
    active: String,
    keys: BTreeMap<String, XChaCha20Poly1305>,
}

impl fmt::Debug for FieldCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldCipher")
            .field("active", &self.active)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl FieldCipher {
    /// `keys` maps key ids to 32-byte keys; `active` must be one of them.
    ///
    /// # Errors
    /// When the active id has no key, or an id does not fit the one-byte length prefix.
    pub fn new(active: &str, keys: &BTreeMap<String, [u8; 32]>) -> Result<Self, String> {
        if !keys.contains_key(active) {
            return Err(format!("no field key with the active id {active:?}"));
        }
        if let Some(id) = keys.keys().find(|id| id.is_empty() || id.len() > 64) {
            return Err(format!("field key id {id:?} must be 1 to 64 bytes"));
        }
        let keys = keys.iter().map(|(id, key)| (id.clone(), XChaCha20Poly1305::new(key.into()))).collect();
        Ok(Self { active: active.to_owned(), keys })
    }

    #[must_use]
    pub fn active_key_id(&self) -> &str {
        &self.active
    }

    /// # Panics
    /// Never: the active key exists by construction, and XChaCha20-Poly1305 encryption only
    /// fails for inputs longer than 256 GiB.
    #[must_use]
    pub fn encrypt(&self, plaintext: &str, binding: Binding<'_>) -> Vec<u8> {
        let cipher = &self.keys[&self.active];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = binding.associated_data();
        #[allow(clippy::expect_used)]
        let sealed = cipher
            .encrypt(&nonce, Payload { msg: plaintext.as_bytes(), aad: &aad })
            .expect("XChaCha20-Poly1305 encryption is infallible below 256 GiB");
        let mut out = Vec::with_capacity(2 + self.active.len() + NONCE_LEN + sealed.len());
        out.push(FORMAT_V1);
        #[allow(clippy::cast_possible_truncation)] // ids are at most 64 bytes, checked in `new`
        out.push(self.active.len() as u8);
        out.extend_from_slice(self.active.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// # Errors
    /// [`CipherError`] when the value is malformed, was written with an unknown key, or does not
    /// belong to this binding.
    pub fn decrypt(&self, stored: &[u8], binding: Binding<'_>) -> Result<String, CipherError> {
        let (key_id, nonce, sealed) = split(stored)?;
        let cipher = self.keys.get(key_id).ok_or_else(|| CipherError::UnknownKey(key_id.to_owned()))?;
        let aad = binding.associated_data();
        let plain = cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: &aad })
            .map_err(|_| CipherError::Forged)?;
        String::from_utf8(plain).map_err(|_| CipherError::Malformed)
    }

    /// Whether a stored value was written with an older key, for the rotation command.
    ///
    /// # Errors
    /// [`CipherError::Malformed`] when the value is not one of ours.
    pub fn needs_rotation(&self, stored: &[u8]) -> Result<bool, CipherError> {
        split(stored).map(|(key_id, _, _)| key_id != self.active)
    }
}

fn split(stored: &[u8]) -> Result<(&str, &[u8], &[u8]), CipherError> {
    let [FORMAT_V1, id_len, rest @ ..] = stored else {
        return Err(CipherError::Malformed);
    };
    let id_len = usize::from(*id_len);
    if rest.len() < id_len + NONCE_LEN + 16 {
        return Err(CipherError::Malformed);
    }
    let (key_id, rest) = rest.split_at(id_len);
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let key_id = std::str::from_utf8(key_id).map_err(|_| CipherError::Malformed)?;
    Ok((key_id, nonce, sealed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(active: &str, ids: &[(&str, u8)]) -> FieldCipher {
        let keys = ids.iter().map(|(id, byte)| ((*id).to_owned(), [*byte; 32])).collect();
        FieldCipher::new(active, &keys).unwrap()
    }

    fn row(id: u128, column: &str) -> Binding<'_> {
        Binding { table: "volunteer", column, row: Uuid::from_u128(id) }
    }

    #[test]
    fn round_trips_and_never_stores_the_plaintext() {
        let cipher = cipher("k1", &[("k1", 1)]);
        let stored = cipher.encrypt("+8613800000001", row(1, "phone"));
        assert!(!stored.windows(5).any(|w| w == b"13800"));
        assert_eq!(cipher.decrypt(&stored, row(1, "phone")).unwrap(), "+8613800000001");
    }

    #[test]
    fn two_encryptions_of_one_value_differ() {
        let cipher = cipher("k1", &[("k1", 1)]);
        assert_ne!(cipher.encrypt("x", row(1, "phone")), cipher.encrypt("x", row(1, "phone")));
    }

    #[test]
    fn a_value_moved_to_another_row_or_column_does_not_decrypt() {
        let cipher = cipher("k1", &[("k1", 1)]);
        let stored = cipher.encrypt("+8613800000001", row(1, "phone"));
        assert_eq!(cipher.decrypt(&stored, row(2, "phone")), Err(CipherError::Forged));
        assert_eq!(cipher.decrypt(&stored, row(1, "backup_phone")), Err(CipherError::Forged));
    }

    #[test]
    fn rotation_keeps_old_values_readable_and_flags_them() {
        let old = cipher("k1", &[("k1", 1)]);
        let stored = old.encrypt("11010519491231002X", row(1, "national_id"));
        let rotated = cipher("k2", &[("k1", 1), ("k2", 2)]);
        assert!(rotated.needs_rotation(&stored).unwrap());
        assert_eq!(rotated.decrypt(&stored, row(1, "national_id")).unwrap(), "11010519491231002X");
        let fresh = rotated.encrypt("11010519491231002X", row(1, "national_id"));
        assert!(!rotated.needs_rotation(&fresh).unwrap());
        let retired = cipher("k2", &[("k2", 2)]);
        assert_eq!(retired.decrypt(&stored, row(1, "national_id")), Err(CipherError::UnknownKey("k1".into())));
    }

    #[test]
    fn tampering_and_truncation_are_detected() {
        let cipher = cipher("k1", &[("k1", 1)]);
        let mut stored = cipher.encrypt("x", row(1, "phone"));
        let last = stored.len() - 1;
        stored[last] ^= 1;
        assert_eq!(cipher.decrypt(&stored, row(1, "phone")), Err(CipherError::Forged));
        assert_eq!(cipher.decrypt(&stored[..10], row(1, "phone")), Err(CipherError::Malformed));
        assert_eq!(cipher.decrypt(&[], row(1, "phone")), Err(CipherError::Malformed));
    }
}
