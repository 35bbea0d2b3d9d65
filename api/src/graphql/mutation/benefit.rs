//! Benefits' mutations. The hospital's check is a mutation, not a query, so that the holder's
//! ID number always travels in a POST body and never in a URL.

use async_graphql::{Context, ID, Object, Result};

use crate::graphql::types::{
    BenefitRule, BenefitRuleInput, Entitlement, EntitlementCheck, NameBeneficiaryInput, RedeemEntitlementInput,
    Redemption,
};
use crate::graphql::{parse_id, principal, request_id, services};
use crate::service::benefits::{NewBeneficiary, Redeem};

#[derive(Debug, Default)]
pub struct BenefitMutation;

#[Object]
impl BenefitMutation {
    /// Defines a benefit rule, or its next version (same `ruleKey`): the version before is
    /// superseded, and what it granted stays as it was. Audited.
    ///
    /// Access: national administrators; coordinators of the branch.
    async fn define_benefit_rule(&self, ctx: &Context<'_>, input: BenefitRuleInput) -> Result<BenefitRule> {
        let actor = principal(ctx);
        let coordinator = actor.coordinator()?;
        let rule = services(ctx)?.benefits.define(&coordinator, &actor, input.into(), request_id(ctx)).await?;
        Ok(rule.into())
    }

    /// Names a relative from the donor's recorded family as a beneficiary: an entitlement,
    /// with its own code, under each rule version the donor's collections granted that covers
    /// the relationship.
    ///
    /// Access: volunteers (their own family).
    async fn name_beneficiary(&self, ctx: &Context<'_>, input: NameBeneficiaryInput) -> Result<Vec<Entitlement>> {
        let me = principal(ctx).own_record()?;
        let input = NewBeneficiary {
            family_member_id: parse_id("input.familyMemberId", &input.family_member_id)?,
            relationship: input.relationship.into(),
            name: input.name,
            national_id: input.national_id,
        };
        let views = services(ctx)?.benefits.name_beneficiary(&me, input, request_id(ctx)).await?;
        Ok(views.into_iter().map(Into::into).collect())
    }

    /// Sends a relative their code by SMS, to `phone` or to the phone recorded for them; once
    /// a day. Returns the masked number it goes to.
    ///
    /// Access: volunteers (their own relatives' entitlements).
    async fn send_entitlement_code(
        &self,
        ctx: &Context<'_>,
        entitlement_id: ID,
        phone: Option<String>,
    ) -> Result<String> {
        let me = principal(ctx).own_record()?;
        let id = parse_id("entitlementId", &entitlement_id)?;
        Ok(services(ctx)?.benefits.send_code(&me, id, phone.as_deref()).await?)
    }

    /// Revokes an entitlement, giving a reason: no further redemption. Audited.
    ///
    /// Access: national administrators; coordinators of the entitlement's branch.
    async fn revoke_entitlement(&self, ctx: &Context<'_>, entitlement_id: ID, reason: String) -> Result<Entitlement> {
        let actor = principal(ctx);
        let coordinator = actor.coordinator()?;
        let id = parse_id("entitlementId", &entitlement_id)?;
        let view = services(ctx)?.benefits.revoke(&coordinator, &actor, id, &reason, request_id(ctx)).await?;
        Ok(view.into())
    }

    /// Checks an entitlement by the code its holder shows and the holder's ID number. A wrong
    /// code and a wrong ID number get the same answer (`NOT_FOUND`); failed checks are
    /// throttled per hospital (RATE_LIMITED).
    ///
    /// Access: partner hospitals.
    async fn check_entitlement(
        &self,
        ctx: &Context<'_>,
        code: String,
        national_id: String,
    ) -> Result<EntitlementCheck> {
        let hospital = principal(ctx).partner_hospital()?;
        Ok(services(ctx)?.benefits.check(&hospital, &code, &national_id).await?.into())
    }

    /// Redeems a volume (or uses) of an entitlement, once per `idempotencyKey`; never more
    /// than the balance, whoever redeems at the same time. The donor is told, and the
    /// hospital's system gets `entitlement.redeemed`.
    ///
    /// Access: partner hospitals.
    async fn redeem_entitlement(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        input: RedeemEntitlementInput,
    ) -> Result<Redemption> {
        let actor = principal(ctx);
        let hospital = actor.partner_hospital()?;
        let input = Redeem {
            code: input.code,
            national_id: input.national_id,
            volume_ml: input.volume_ml,
            uses: input.uses,
            proof: input.proof.into(),
        };
        let benefits = &services(ctx)?.benefits;
        Ok(benefits.redeem(&hospital, &actor, &idempotency_key, input, request_id(ctx)).await?.into())
    }
}
