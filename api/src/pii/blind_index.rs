//! Keyed HMAC-SHA256 digests for exact lookup of encrypted values.
//!
//! A plain hash of a phone number is reversible by hashing every possible number; a keyed one
//! is not without the key, which is why the blind index has a key of its own, separate from
//! the encryption keys. Each kind of value has its own domain, so a phone and an ID number that
//! happened to be the same string would not collide.

use std::fmt;

use crate::digest::hmac;
use crate::domain::checked_code::{CheckedCode, CodeKind};
use crate::domain::{NationalId, Phone};

#[derive(Clone)]
pub struct BlindIndex {
    key: [u8; 32],
}

impl fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlindIndex([REDACTED])")
    }
}

impl BlindIndex {
    #[must_use]
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// The digest of a normalised value within a domain such as `"phone"`.
    #[must_use]
    pub fn digest(&self, domain: &str, normalised: &str) -> Vec<u8> {
        let message = [domain.as_bytes(), &[0], normalised.as_bytes()].concat();
        hmac(&self.key, &message).to_vec()
    }

    #[must_use]
    pub fn national_id(&self, id: &NationalId) -> Vec<u8> {
        self.digest("national_id", id.expose())
    }

    #[must_use]
    pub fn phone(&self, phone: &Phone) -> Vec<u8> {
        self.digest("phone", phone.expose())
    }

    #[must_use]
    /// A redemption code's or a letter's verification code, in its kind's own domain.
    pub fn code<K: CodeKind>(&self, code: &CheckedCode<K>) -> Vec<u8> {
        self.digest(K::INDEX_DOMAIN, code.expose())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_match_whatever_way_they_were_typed() {
        let index = BlindIndex::new([7; 32]);
        let typed = Phone::parse("138 0000 0001").unwrap();
        let stored = Phone::parse("+8613800000001").unwrap();
        assert_eq!(index.phone(&typed), index.phone(&stored));
        let lower = NationalId::parse("11010519491231002x").unwrap();
        let upper = NationalId::parse("11010519491231002X").unwrap();
        assert_eq!(index.national_id(&lower), index.national_id(&upper));
    }

    #[test]
    fn digests_depend_on_the_key_and_the_domain() {
        let a = BlindIndex::new([1; 32]);
        let b = BlindIndex::new([2; 32]);
        assert_ne!(a.digest("phone", "+8613800000001"), b.digest("phone", "+8613800000001"));
        assert_ne!(a.digest("phone", "x"), a.digest("national_id", "x"));
        assert_eq!(a.digest("phone", "x").len(), 32);
    }
}
