//! Benefits' queries: the branch's rules, the donor's entitlements, a case's, and the
//! redemptions a hospital made.

use async_graphql::{Context, ID, Object, Result};

use crate::domain::benefit::{ABOUT_EN, ABOUT_ZH};
use crate::graphql::types::{BenefitRule, Entitlement, MyBenefits, Redemption};
use crate::graphql::{parse_id, principal, services};

#[derive(Debug, Default)]
pub struct BenefitQuery;

#[Object]
impl BenefitQuery {
    /// A branch's benefit rules in force, or every version with `history`, by key and version.
    ///
    /// Access: national administrators; coordinators and recruiters of the branch.
    async fn benefit_rules(
        &self,
        ctx: &Context<'_>,
        branch_code: String,
        #[graphql(default = false)] history: bool,
    ) -> Result<Vec<BenefitRule>> {
        let reader = principal(ctx).volunteer_reader()?;
        let rules = services(ctx)?.benefits.rules(&reader, &branch_code, history).await?;
        Ok(rules.into_iter().map(Into::into).collect())
    }

    /// The signed-in donor's entitlements and their relatives', with codes, balances and
    /// redemptions.
    ///
    /// Access: volunteers (their own).
    async fn my_benefits(&self, ctx: &Context<'_>) -> Result<MyBenefits> {
        let me = principal(ctx).own_record()?;
        let entitlements = services(ctx)?.benefits.mine(&me).await?;
        Ok(MyBenefits {
            about_zh: ABOUT_ZH.to_owned(),
            about_en: ABOUT_EN.to_owned(),
            entitlements: entitlements.into_iter().map(Into::into).collect(),
        })
    }

    /// A donation case's entitlements, masked and without codes.
    ///
    /// Access: national administrators; coordinators and recruiters of the case's branch.
    async fn case_entitlements(&self, ctx: &Context<'_>, case_id: ID) -> Result<Vec<Entitlement>> {
        let reader = principal(ctx).volunteer_reader()?;
        let id = parse_id("caseId", &case_id)?;
        let views = services(ctx)?.benefits.for_case(&reader, id).await?;
        Ok(views.into_iter().map(Into::into).collect())
    }

    /// The redemptions the calling hospital made, newest first; `first` up to 100.
    ///
    /// Access: partner hospitals (their own).
    #[graphql(complexity = "first.max(1) as usize * child_complexity")]
    async fn entitlement_redemptions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: u64,
    ) -> Result<Vec<Redemption>> {
        let hospital = principal(ctx).partner_hospital()?;
        let rows = services(ctx)?.benefits.redemptions_by(&hospital, first).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
