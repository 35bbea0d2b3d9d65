//! Donor benefits' vocabulary: who may hold an entitlement, what a rule gives, the proof a
//! hospital saw, why a check fails, and the redemption code.
//!
//! Benefits are recognition and care for the donor's family, never payment or a price for
//! donating (WMDA's position): the words here and in the templates say so, and a test holds
//! them to that.

use rand::Rng;

use super::{Invalid, Relationship};

stored_names! {
    /// Who may hold an entitlement: the donor, or a relative of the kinds blood-donation law
    /// names.
    Holder {
        Donor => "donor",
        Spouse => "spouse",
        Parent => "parent",
        Child => "child",
        Sibling => "sibling",
    }
}

impl Holder {
    /// The holder a family member of `relationship` would be; none for friends and others.
    #[must_use]
    pub const fn of(relationship: Relationship) -> Option<Self> {
        match relationship {
            Relationship::Spouse => Some(Self::Spouse),
            Relationship::Parent => Some(Self::Parent),
            Relationship::Child => Some(Self::Child),
            Relationship::Sibling => Some(Self::Sibling),
            _ => None,
        }
    }

    /// Parses a rule's comma-separated list.
    #[must_use]
    pub fn list(stored: &str) -> Vec<Self> {
        stored.split(',').filter_map(Self::parse).collect()
    }

    /// Stores a list, in this vocabulary's order.
    #[must_use]
    pub fn stored_list(holders: &[Self]) -> String {
        Self::ALL
            .iter()
            .filter(|holder| holders.contains(holder))
            .map(|holder| holder.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

stored_names! {
    /// What a rule gives.
    BenefitKind {
        /// A volume of blood in ml: a multiple of the donated volume, or fixed.
        BloodVolume => "blood_volume",
        /// A number of uses.
        BloodUses => "blood_uses",
        /// Priority for life, without a limit.
        LifetimePriority => "lifetime_priority",
        /// Recognition outside hospitals (free park or transit entry): shown, not redeemed.
        Recognition => "recognition",
    }
}

stored_names! {
    /// The document a hospital saw to accept the relationship; recorded by type, never copied.
    RelationshipProof {
        DonationCertificate => "donation_certificate",
        HouseholdRegister => "household_register",
        MarriageCertificate => "marriage_certificate",
        BirthCertificate => "birth_certificate",
        Other => "other",
    }
}

stored_names! {
    /// Why an entitlement cannot be used now.
    Unusable {
        /// No entitlement has this code for this ID number: the same answer for a wrong code
        /// and a wrong ID number.
        NotFound => "not_found",
        NotYetValid => "not_yet_valid",
        Expired => "expired",
        UsedUp => "used_up",
        Revoked => "revoked",
        /// A recognition: shown to the holder, not redeemed at hospitals.
        NotRedeemable => "not_redeemable",
    }
}

/// What the app says about benefits, in both languages.
pub const ABOUT_ZH: &str = "用血关爱是对捐献者及其家人的感谢与关怀。捐献始终是自愿、无偿的。";
pub const ABOUT_EN: &str =
    "Blood priority is our thanks and care for donors and their families. Donation is always voluntary and unpaid.";

/// Crockford's base-32 alphabet: no I, L, O or U, so a code read aloud or copied by hand is
/// not mistaken.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random characters in a code: 55 bits, so that guessing one, with the ID number it must
/// match and the throttle on failed checks, is pointless.
const RANDOM_CHARS: usize = 11;

/// A redemption code: 11 random characters and a check character, shown as `XXXX-XXXX-XXXX`.
///
/// The check character is Luhn mod 32, which catches every single mistyped character and
/// every swap of two neighbours but `0`/`Z`, so a typo is told apart from a wrong code before
/// any lookup.
#[derive(Clone, PartialEq, Eq)]
pub struct RedemptionCode(String);

impl std::fmt::Debug for RedemptionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedemptionCode([REDACTED])")
    }
}

impl RedemptionCode {
    /// A new random code.
    #[must_use]
    pub fn generate() -> Self {
        let mut rng = rand::thread_rng();
        let mut code: String =
            (0..RANDOM_CHARS).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect();
        code.push(check_char(&code));
        Self(code)
    }

    /// Reads a code as typed: case, spaces and hyphens do not matter, and I, L and O read as
    /// 1, 1 and 0.
    ///
    /// # Errors
    /// [`Invalid`] for a wrong length, a character outside the alphabet, or a check character
    /// that does not match.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code: String = raw
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| match c.to_ascii_uppercase() {
                'I' | 'L' => '1',
                'O' => '0',
                other => other,
            })
            .collect();
        if code.chars().count() != RANDOM_CHARS + 1 {
            return Err(Invalid("must be 12 characters, as XXXX-XXXX-XXXX"));
        }
        if !code.bytes().all(|byte| ALPHABET.contains(&byte)) {
            return Err(Invalid("holds a character that is not in a code"));
        }
        let (body, check) = code.split_at(RANDOM_CHARS);
        if !check.starts_with(check_char(body)) {
            return Err(Invalid("does not check: a character is mistyped"));
        }
        Ok(Self(code))
    }

    /// The normalised code, for the blind index. Shown only to the donor.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The code as shown and sent: `XXXX-XXXX-XXXX`.
    #[must_use]
    pub fn grouped(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        chars.chunks(4).map(|chunk| chunk.iter().collect::<String>()).collect::<Vec<_>>().join("-")
    }
}

/// Luhn mod N over the alphabet.
fn check_char(body: &str) -> char {
    let n = ALPHABET.len();
    let mut factor = 2;
    let mut sum = 0;
    for byte in body.bytes().rev() {
        let value = ALPHABET.iter().position(|&c| c == byte).unwrap_or(0);
        let addend = factor * value;
        sum += addend / n + addend % n;
        factor = if factor == 2 { 1 } else { 2 };
    }
    char::from(ALPHABET[(n - sum % n) % n])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_code_reads_back_however_it_is_typed() {
        for _ in 0..200 {
            let code = RedemptionCode::generate();
            let grouped = code.grouped();
            assert_eq!(grouped.len(), 14);
            assert_eq!(RedemptionCode::parse(&grouped.to_lowercase()).unwrap(), code);
            assert_eq!(RedemptionCode::parse(&grouped.replace('-', " ")).unwrap(), code);
        }
    }

    #[test]
    fn every_single_typo_and_neighbour_swap_is_caught() {
        let code = RedemptionCode::generate();
        let chars: Vec<u8> = code.expose().bytes().collect();
        for at in 0..chars.len() {
            for &other in ALPHABET {
                if other == chars[at] {
                    continue;
                }
                let mut typo = chars.clone();
                typo[at] = other;
                assert!(RedemptionCode::parse(std::str::from_utf8(&typo).unwrap()).is_err());
            }
            let pair = [chars[at], chars.get(at + 1).copied().unwrap_or(chars[at])];
            if pair[0] != pair[1] && pair != *b"0Z" && pair != *b"Z0" {
                let mut swapped = chars.clone();
                swapped.swap(at, at + 1);
                assert!(RedemptionCode::parse(std::str::from_utf8(&swapped).unwrap()).is_err());
            }
        }
    }

    #[test]
    fn confusable_letters_read_as_digits_and_bad_shapes_are_refused() {
        let code = RedemptionCode::generate();
        let typed = code.expose().replace('1', "l").replace('0', "O");
        assert_eq!(RedemptionCode::parse(&typed).unwrap(), code);
        assert!(RedemptionCode::parse("ABC").is_err());
        assert!(RedemptionCode::parse("ABCD-EFGH-JKU!").is_err());
    }

    #[test]
    fn only_close_family_can_hold_an_entitlement() {
        assert_eq!(Holder::of(Relationship::Parent), Some(Holder::Parent));
        assert_eq!(Holder::of(Relationship::Friend), None);
        assert_eq!(Holder::list("spouse,parent,child"), [Holder::Spouse, Holder::Parent, Holder::Child]);
        assert_eq!(Holder::stored_list(&[Holder::Child, Holder::Donor]), "donor,child");
    }
}
