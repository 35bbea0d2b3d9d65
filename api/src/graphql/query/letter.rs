//! Leave letters' queries: the donor's letters, a case's, when a letter was checked, and the
//! public check of a code.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use crate::graphql::types::{LeaveLetter, LetterCheck};
use crate::graphql::{client_address, parse_id, principal, services};

#[derive(Debug, Default)]
pub struct LetterQuery;

#[Object]
impl LetterQuery {
    /// The signed-in donor's leave letters, newest first, with their codes and how often each
    /// was checked.
    ///
    /// Access: volunteers (their own).
    async fn my_leave_letters(&self, ctx: &Context<'_>) -> Result<Vec<LeaveLetter>> {
        let me = principal(ctx).own_record()?;
        let letters = services(ctx)?.letters.mine(&me).await?;
        Ok(letters.into_iter().map(Into::into).collect())
    }

    /// A donation case's letters: dates, status and checks, without code or employer.
    ///
    /// Access: national administrators; coordinators and recruiters of the case's branch.
    async fn case_leave_letters(&self, ctx: &Context<'_>, case_id: ID) -> Result<Vec<LeaveLetter>> {
        let reader = principal(ctx).volunteer_reader()?;
        let id = parse_id("caseId", &case_id)?;
        let letters = services(ctx)?.letters.for_case(&reader, id).await?;
        Ok(letters.into_iter().map(Into::into).collect())
    }

    /// When a letter's code was checked, newest first (the latest 50). Who checked is not kept.
    ///
    /// Access: volunteers (their own letters); national administrators and coordinators of
    /// the case's branch.
    async fn leave_letter_checks(&self, ctx: &Context<'_>, letter_id: ID) -> Result<Vec<DateTime<Utc>>> {
        let id = parse_id("letterId", &letter_id)?;
        Ok(services(ctx)?.letters.checks(&principal(ctx), id).await?)
    }

    /// Checks a leave letter's code, as an employer does after scanning its QR code: where it
    /// stands, the donor's masked name, the dates and what they cover, the issuing branch and
    /// when. Counted for the donor; rate-limited per client address. NOT_FOUND when no letter
    /// has the code.
    ///
    /// Access: anyone, signed in or not.
    async fn leave_letter_check(&self, ctx: &Context<'_>, code: String) -> Result<LetterCheck> {
        Ok(services(ctx)?.letters.verify(&code, client_address(ctx)).await?.into())
    }
}
