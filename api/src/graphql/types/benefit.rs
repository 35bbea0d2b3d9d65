//! Donor benefits in the contract: the branch's rules and their versions, entitlements with
//! their balances and redemptions, and the hospital's check. Enums mirror
//! `crate::domain::benefit` one to one (`remote`). Benefits are recognition and care for the
//! donor's family, never payment for donating.

use async_graphql::{Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use super::contact::Relationship;
use crate::domain::benefit;
use crate::service::benefits as service;

/// Who may hold an entitlement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "benefit::Holder")]
pub enum BenefitHolder {
    Donor,
    Spouse,
    Parent,
    Child,
    Sibling,
}

/// What a rule gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "benefit::BenefitKind")]
pub enum BenefitKind {
    /// A volume of blood in ml: a multiple of the donated volume, or fixed.
    BloodVolume,
    /// A number of uses.
    BloodUses,
    /// Priority for life, without a limit.
    LifetimePriority,
    /// Recognition outside hospitals (free park or transit entry): information only.
    Recognition,
}

/// The document a hospital saw to accept the relationship. Recorded by type, never copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "benefit::RelationshipProof")]
pub enum RelationshipProof {
    /// The donor's own donation certificate.
    DonationCertificate,
    HouseholdRegister,
    MarriageCertificate,
    BirthCertificate,
    Other,
}

/// Why an entitlement cannot be used now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "benefit::Unusable")]
pub enum EntitlementUnusable {
    /// No entitlement has this code for this ID number (the same for a wrong code and a
    /// wrong ID number).
    NotFound,
    NotYetValid,
    Expired,
    UsedUp,
    Revoked,
    /// A recognition: shown to the holder, not redeemed at hospitals.
    NotRedeemable,
}

/// One version of a branch's benefit rule.
#[derive(Debug, SimpleObject)]
pub struct BenefitRule {
    pub id: ID,
    pub branch_code: String,
    /// The rule's name across its versions.
    pub rule_key: String,
    pub version: i32,
    pub title_zh: String,
    pub title_en: String,
    pub holders: Vec<BenefitHolder>,
    pub kind: BenefitKind,
    /// A volume rule's multiple of the donated volume…
    pub volume_multiple: Option<i32>,
    /// …or its fixed volume in ml.
    pub fixed_ml: Option<i32>,
    pub uses: Option<i32>,
    /// The rule applies once the donor's donated volume, in all, reaches this.
    pub lifetime_above_ml: Option<i32>,
    /// Days from collection before it starts.
    pub starts_after_days: i32,
    /// Years it lasts from its start; null for life.
    pub valid_years: Option<i32>,
    /// The last collection date it covers; null while in force.
    pub applies_until: Option<NaiveDate>,
    /// Shown to hospitals with every check.
    pub legal_basis: String,
    pub created_at: DateTime<Utc>,
    /// When a later version replaced this one.
    pub superseded_at: Option<DateTime<Utc>>,
}

impl From<service::RuleView> for BenefitRule {
    fn from(rule: service::RuleView) -> Self {
        Self {
            id: ID(rule.id.to_string()),
            branch_code: rule.branch_code,
            rule_key: rule.rule_key,
            version: rule.version,
            title_zh: rule.title_zh,
            title_en: rule.title_en,
            holders: rule.terms.holders.into_iter().map(Into::into).collect(),
            kind: rule.terms.kind.into(),
            volume_multiple: rule.terms.volume_multiple,
            fixed_ml: rule.terms.fixed_ml,
            uses: rule.terms.uses,
            lifetime_above_ml: rule.terms.lifetime_above_ml,
            starts_after_days: rule.terms.starts_after_days,
            valid_years: rule.terms.valid_years,
            applies_until: rule.terms.applies_until,
            legal_basis: rule.legal_basis,
            created_at: rule.created_at,
            superseded_at: rule.superseded_at,
        }
    }
}

/// A rule to define, or the next version of one (same `ruleKey`).
#[derive(Debug, InputObject)]
pub struct BenefitRuleInput {
    pub branch_code: String,
    /// Lower-case letters, digits and hyphens: the rule's name across versions.
    pub rule_key: String,
    pub title_zh: String,
    pub title_en: String,
    pub holders: Vec<BenefitHolder>,
    pub kind: BenefitKind,
    /// For `BLOOD_VOLUME`, 1 to 10 times the donated volume, or…
    pub volume_multiple: Option<i32>,
    /// …a fixed volume, 1 to 5000 ml.
    pub fixed_ml: Option<i32>,
    /// For `BLOOD_USES`, 1 to 100.
    pub uses: Option<i32>,
    pub lifetime_above_ml: Option<i32>,
    #[graphql(default = 0)]
    pub starts_after_days: i32,
    /// 1 to 50; null for life.
    pub valid_years: Option<i32>,
    /// The last collection date the rule covers: not in the past.
    pub applies_until: Option<NaiveDate>,
    /// Up to 2000 characters, shown to hospitals.
    pub legal_basis: String,
}

impl From<BenefitRuleInput> for service::NewRule {
    fn from(input: BenefitRuleInput) -> Self {
        Self {
            branch_code: input.branch_code,
            rule_key: input.rule_key,
            title_zh: input.title_zh,
            title_en: input.title_en,
            terms: service::RuleTerms {
                holders: input.holders.into_iter().map(Into::into).collect(),
                kind: input.kind.into(),
                volume_multiple: input.volume_multiple,
                fixed_ml: input.fixed_ml,
                uses: input.uses,
                lifetime_above_ml: input.lifetime_above_ml,
                starts_after_days: input.starts_after_days,
                valid_years: input.valid_years,
                applies_until: input.applies_until,
            },
            legal_basis: input.legal_basis,
        }
    }
}

/// What a hospital redeemed.
#[derive(Debug, SimpleObject)]
pub struct Redemption {
    pub id: ID,
    pub entitlement_id: ID,
    pub hospital_name: String,
    pub volume_ml: Option<i32>,
    pub uses: Option<i32>,
    pub proof: RelationshipProof,
    /// The balance after this redemption.
    pub remaining_ml: Option<i32>,
    pub remaining_uses: Option<i32>,
    pub redeemed_at: DateTime<Utc>,
    /// Null once the donor withdrew from the registry.
    pub holder: Option<BenefitHolder>,
    /// Masked; null once the donor withdrew.
    pub holder_name: Option<String>,
}

impl From<service::RedemptionView> for Redemption {
    fn from(view: service::RedemptionView) -> Self {
        Self {
            id: ID(view.id.to_string()),
            entitlement_id: ID(view.entitlement_id.to_string()),
            hospital_name: view.hospital_name,
            volume_ml: view.volume_ml,
            uses: view.uses,
            proof: view.proof.into(),
            remaining_ml: view.remaining_ml,
            remaining_uses: view.remaining_uses,
            redeemed_at: view.redeemed_at,
            holder: view.holder.map(Into::into),
            holder_name: view.holder_name,
        }
    }
}

/// One holder's entitlement: its balance, its terms and what was redeemed.
#[derive(Debug, SimpleObject)]
pub struct Entitlement {
    pub id: ID,
    pub case_id: ID,
    pub holder: BenefitHolder,
    /// Masked.
    pub holder_name: String,
    /// The rule version it was granted under.
    pub rule: BenefitRule,
    pub kind: BenefitKind,
    pub granted_ml: Option<i32>,
    pub remaining_ml: Option<i32>,
    pub granted_uses: Option<i32>,
    pub remaining_uses: Option<i32>,
    pub unlimited: bool,
    pub starts_on: NaiveDate,
    /// Null for life.
    pub expires_on: Option<NaiveDate>,
    /// Whether a hospital can redeem it today.
    pub usable: bool,
    /// Why not, when not.
    pub unusable: Option<EntitlementUnusable>,
    /// The code to show at the hospital, `XXXX-XXXX-XXXX`: the donor's own view only.
    pub code: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub redemptions: Vec<Redemption>,
}

impl From<service::EntitlementView> for Entitlement {
    fn from(view: service::EntitlementView) -> Self {
        Self {
            id: ID(view.id.to_string()),
            case_id: ID(view.case_id.to_string()),
            holder: view.holder.into(),
            holder_name: view.holder_name,
            rule: view.rule.into(),
            kind: view.kind.into(),
            granted_ml: view.granted_ml,
            remaining_ml: view.remaining_ml,
            granted_uses: view.granted_uses,
            remaining_uses: view.remaining_uses,
            unlimited: view.unlimited,
            starts_on: view.starts_on,
            expires_on: view.expires_on,
            usable: view.unusable.is_none(),
            unusable: view.unusable.map(Into::into),
            code: view.code,
            revoked_at: view.revoked_at,
            redemptions: view.redemptions.into_iter().map(Into::into).collect(),
        }
    }
}

/// The donor's benefits, with what the app says about them.
#[derive(Debug, SimpleObject)]
pub struct MyBenefits {
    /// What benefits are, in Chinese: thanks and care for the family, never payment.
    pub about_zh: String,
    pub about_en: String,
    pub entitlements: Vec<Entitlement>,
}

/// A relative from the donor's recorded family, named as a beneficiary.
#[derive(Debug, InputObject)]
pub struct NameBeneficiaryInput {
    pub family_member_id: ID,
    /// Must be one the branch's rules cover (spouse, parent, child in Sichuan).
    pub relationship: Relationship,
    /// The relative's name as on their ID card.
    pub name: String,
    /// The relative's resident ID number, which the hospital will check.
    pub national_id: String,
}

/// A hospital's redemption.
#[derive(Debug, InputObject)]
pub struct RedeemEntitlementInput {
    /// The code the holder shows, `XXXX-XXXX-XXXX`.
    pub code: String,
    /// The holder's resident ID number, from their ID card.
    pub national_id: String,
    /// The volume used, 1 to 2000 ml: for volume and lifetime entitlements.
    pub volume_ml: Option<i32>,
    /// Uses taken, 1 to 10 (1 by default): for uses entitlements.
    pub uses: Option<i32>,
    /// The document seen to accept the relationship.
    pub proof: RelationshipProof,
}

/// What a hospital learns from a check, and nothing more.
#[derive(Debug, SimpleObject)]
pub struct EntitlementCheck {
    pub valid: bool,
    /// Why not, when not.
    pub unusable: Option<EntitlementUnusable>,
    /// Masked; null unless the code and the ID number match.
    pub holder_name: Option<String>,
    pub holder: Option<BenefitHolder>,
    pub kind: Option<BenefitKind>,
    pub remaining_ml: Option<i32>,
    pub remaining_uses: Option<i32>,
    pub unlimited: bool,
    pub expires_on: Option<NaiveDate>,
    pub legal_basis: Option<String>,
}

impl From<service::CheckAnswer> for EntitlementCheck {
    fn from(answer: service::CheckAnswer) -> Self {
        Self {
            valid: answer.valid,
            unusable: answer.unusable.map(Into::into),
            holder_name: answer.holder_name,
            holder: answer.holder.map(Into::into),
            kind: answer.kind.map(Into::into),
            remaining_ml: answer.remaining_ml,
            remaining_uses: answer.remaining_uses,
            unlimited: answer.unlimited,
            expires_on: answer.expires_on,
            legal_basis: answer.legal_basis,
        }
    }
}
