//! Donor benefits' vocabulary: who may hold an entitlement, what a rule gives, the proof a
//! hospital saw, why a check fails, and the redemption code.
//!
//! Benefits are recognition and care for the donor's family, never payment or a price for
//! donating (WMDA's position): the words here and in the templates say so, and a test holds
//! them to that.

use super::Relationship;
use super::checked_code::{CheckedCode, CodeKind};

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

/// A redemption code: 11 random characters (55 bits, so that guessing one, with the ID number
/// it must match and the throttle on failed checks, is pointless) and a check character, shown
/// as `XXXX-XXXX-XXXX`.
pub type RedemptionCode = CheckedCode<Redemption>;

/// The kind of [`RedemptionCode`].
#[derive(Debug)]
pub struct Redemption;

impl CodeKind for Redemption {
    const RANDOM_CHARS: usize = 11;
    const SHAPE: &'static str = "must be 12 characters, as XXXX-XXXX-XXXX";
    const NAME: &'static str = "RedemptionCode";
    const INDEX_DOMAIN: &'static str = "redemption_code";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_close_family_can_hold_an_entitlement() {
        assert_eq!(Holder::of(Relationship::Parent), Some(Holder::Parent));
        assert_eq!(Holder::of(Relationship::Friend), None);
        assert_eq!(Holder::list("spouse,parent,child"), [Holder::Spouse, Holder::Parent, Holder::Child]);
        assert_eq!(Holder::stored_list(&[Holder::Child, Holder::Donor]), "donor,child");
    }
}
