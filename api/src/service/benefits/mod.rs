//! Donor benefits: blood priority for the donor and the family, as each branch's rules give
//! it, granted at collection and redeemed once at partner hospitals. Recognition and care for
//! the donor's family, never a price for donating (WMDA).
//!
//! Who may do what, stated here once and taken as capabilities:
//! - a [`Coordinator`](crate::service::Coordinator) of the branch (or a national administrator)
//!   defines the branch's rules, a change being a new version, and revokes an entitlement;
//! - a [`VolunteerReader`](crate::service::VolunteerReader) reads the rules and a case's
//!   entitlements, masked;
//! - the donor ([`OwnRecord`](crate::service::OwnRecord)) reads their own entitlements with
//!   their codes, names relatives among their family, and sends a relative their code by SMS;
//! - a [`PartnerHospital`](crate::service::PartnerHospital) checks a code with the holder's ID
//!   number, redeems under an idempotency key, and reads only the redemptions it made.
//!
//! - `rules.rs`: the rules and their versions;
//! - `grant.rs`: what a collection grants, and the relatives the donor names;
//! - `redeem.rs`: the hospital's check and redemption;
//! - `read.rs`: the views, the donor's and staff's lists, revocation.

mod grant;
mod read;
mod redeem;
mod rules;

use std::sync::Arc;

use chrono::{DateTime, Months, NaiveDate, Utc};
use entity::{benefit_rule, entitlement};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use grant::NewBeneficiary;
pub use redeem::{CheckAnswer, Redeem};
pub use rules::NewRule;

use super::volunteer::VolunteerService;
use super::webhooks::WebhookService;
use crate::config::BenefitSettings;
use crate::domain::benefit::{BenefitKind, Holder, RelationshipProof, Unusable};
use crate::messaging::Messaging;
use crate::pii::KeyRing;

/// The most one redemption takes: more is a typing error, not a transfusion.
pub const MAX_REDEMPTION_ML: i32 = 2_000;

/// Benefit rules, entitlements and redemptions. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Benefits {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    volunteers: VolunteerService,
    messaging: Messaging,
    webhooks: WebhookService,
    settings: BenefitSettings,
}

/// What a rule gives, to whom and for how long: what a new version changes, and what
/// [`terms`] reads to grant it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleTerms {
    pub holders: Vec<Holder>,
    pub kind: BenefitKind,
    /// For a volume: a multiple of the donated volume…
    pub volume_multiple: Option<i32>,
    /// …or a fixed volume in ml.
    pub fixed_ml: Option<i32>,
    pub uses: Option<i32>,
    /// The rule applies once the donor's donated volume, in all, reaches this.
    pub lifetime_above_ml: Option<i32>,
    /// Days from collection before it starts.
    pub starts_after_days: i32,
    /// Years from its start; none for life.
    pub valid_years: Option<i32>,
    /// The last collection date it covers; none while in force.
    pub applies_until: Option<NaiveDate>,
}

/// One version of a branch's rule.
#[derive(Clone, Debug)]
pub struct RuleView {
    pub id: Uuid,
    pub branch_code: String,
    pub rule_key: String,
    pub version: i32,
    pub title_zh: String,
    pub title_en: String,
    pub terms: RuleTerms,
    pub legal_basis: String,
    pub created_at: DateTime<Utc>,
    pub superseded_at: Option<DateTime<Utc>>,
}

impl From<benefit_rule::Model> for RuleView {
    fn from(row: benefit_rule::Model) -> Self {
        let terms = RuleTerms {
            holders: Holder::list(&row.holders),
            kind: BenefitKind::parse(&row.kind).unwrap_or(BenefitKind::Recognition),
            volume_multiple: row.volume_multiple,
            fixed_ml: row.fixed_ml,
            uses: row.uses,
            lifetime_above_ml: row.lifetime_above_ml,
            starts_after_days: row.starts_after_days,
            valid_years: row.valid_years,
            applies_until: row.applies_until,
        };
        Self {
            id: row.id,
            branch_code: row.branch_code,
            rule_key: row.rule_key,
            version: row.version,
            title_zh: row.title_zh,
            title_en: row.title_en,
            terms,
            legal_basis: row.legal_basis,
            created_at: row.created_at,
            superseded_at: row.superseded_at,
        }
    }
}

/// An entitlement as its donor, staff and (in part) a hospital read it.
#[derive(Clone, Debug)]
pub struct EntitlementView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub holder: Holder,
    /// Masked.
    pub holder_name: String,
    pub rule: RuleView,
    pub kind: BenefitKind,
    pub granted_ml: Option<i32>,
    pub remaining_ml: Option<i32>,
    pub granted_uses: Option<i32>,
    pub remaining_uses: Option<i32>,
    pub unlimited: bool,
    pub starts_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    /// Why it cannot be used today; none while it can.
    pub unusable: Option<Unusable>,
    /// The redemption code, `XXXX-XXXX-XXXX`: for the donor only.
    pub code: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub redemptions: Vec<RedemptionView>,
}

/// A redemption, as its hospital and the entitlement's donor read it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RedemptionView {
    pub id: Uuid,
    pub entitlement_id: Uuid,
    pub hospital_id: Uuid,
    pub hospital_name: String,
    pub volume_ml: Option<i32>,
    pub uses: Option<i32>,
    pub proof: RelationshipProof,
    pub remaining_ml: Option<i32>,
    pub remaining_uses: Option<i32>,
    pub redeemed_at: DateTime<Utc>,
    /// The holder's relationship to the donor, while the entitlement exists.
    pub holder: Option<Holder>,
    /// The holder's masked name, while the entitlement exists.
    pub holder_name: Option<String>,
}

impl Benefits {
    pub(crate) fn new(
        db: DatabaseConnection,
        keys: Arc<KeyRing>,
        volunteers: VolunteerService,
        messaging: Messaging,
        webhooks: WebhookService,
        settings: BenefitSettings,
    ) -> Self {
        Self { db, keys, volunteers, messaging, webhooks, settings }
    }
}

/// Why `row` cannot be used on `today`, if it cannot.
fn unusable(row: &entitlement::Model, today: NaiveDate) -> Option<Unusable> {
    let kind = BenefitKind::parse(&row.kind).unwrap_or(BenefitKind::Recognition);
    if row.status == "revoked" {
        Some(Unusable::Revoked)
    } else if today < row.starts_on {
        Some(Unusable::NotYetValid)
    } else if row.expires_on.is_some_and(|expiry| today > expiry) {
        Some(Unusable::Expired)
    } else if kind == BenefitKind::Recognition {
        Some(Unusable::NotRedeemable)
    } else if row.remaining_ml.is_some_and(|ml| ml <= 0) || row.remaining_uses.is_some_and(|uses| uses <= 0) {
        Some(Unusable::UsedUp)
    } else {
        None
    }
}

/// What a rule gives one holder after a collection on `collected_on` of `donated_ml`, the donor
/// having given `cumulative_ml` in all; none when the rule's lifetime threshold is not met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Terms {
    ml: Option<i32>,
    uses: Option<i32>,
    unlimited: bool,
    starts_on: NaiveDate,
    expires_on: Option<NaiveDate>,
}

fn terms(rule: &RuleTerms, collected_on: NaiveDate, donated_ml: Option<i32>, cumulative_ml: i32) -> Option<Terms> {
    if rule.lifetime_above_ml.is_some_and(|threshold| cumulative_ml < threshold) {
        return None;
    }
    let starts_on = collected_on + chrono::Duration::days(i64::from(rule.starts_after_days));
    let expires_on = rule.valid_years.and_then(|years| {
        starts_on
            .checked_add_months(Months::new(u32::try_from(years).unwrap_or(0) * 12))
            .map(|day| day.pred_opt().unwrap_or(day))
    });
    let (ml, uses, unlimited) = match rule.kind {
        BenefitKind::BloodVolume => {
            let ml = rule.fixed_ml.or_else(|| Some(rule.volume_multiple? * donated_ml?));
            (Some(ml?), None, false)
        }
        BenefitKind::BloodUses => (None, rule.uses, false),
        BenefitKind::LifetimePriority => (None, None, true),
        BenefitKind::Recognition => (None, None, false),
    };
    Some(Terms { ml, uses, unlimited, starts_on, expires_on })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sichuan(
        kind: BenefitKind,
        multiple: Option<i32>,
        above: Option<i32>,
        after: i32,
        years: Option<i32>,
    ) -> RuleTerms {
        RuleTerms {
            holders: vec![Holder::Donor],
            kind,
            volume_multiple: multiple,
            fixed_ml: None,
            uses: None,
            lifetime_above_ml: above,
            starts_after_days: after,
            valid_years: years,
            applies_until: None,
        }
    }

    #[test]
    fn sichuan_gives_three_times_for_three_years_then_the_volume_for_life() {
        let on = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let first = terms(&sichuan(BenefitKind::BloodVolume, Some(3), None, 0, Some(3)), on, Some(400), 400).unwrap();
        assert_eq!((first.ml, first.expires_on), (Some(1200), NaiveDate::from_ymd_opt(2029, 2, 28)));
        let after = terms(&sichuan(BenefitKind::BloodVolume, Some(1), None, 1096, None), on, Some(400), 400).unwrap();
        assert_eq!(
            (after.ml, after.starts_on, after.expires_on),
            (Some(400), NaiveDate::from_ymd_opt(2029, 3, 1).unwrap(), None)
        );
        let lifetime = sichuan(BenefitKind::LifetimePriority, None, Some(800), 0, None);
        assert_eq!(terms(&lifetime, on, Some(400), 400), None, "below 800 ml in all");
        assert!(terms(&lifetime, on, Some(400), 800).unwrap().unlimited);
        assert_eq!(terms(&sichuan(BenefitKind::BloodVolume, Some(3), None, 0, Some(3)), on, None, 0), None);
    }
}
