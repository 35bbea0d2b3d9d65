//! Leave letters' mutations: the donor asks for one, a coordinator issues one, either
//! reissues or revokes it, and either gets a single-use link to its PDF.

use async_graphql::{Context, ID, Object, Result};

use crate::graphql::types::{LeaveLetter, LeaveLetterInput, LetterDownload};
use crate::graphql::{parse_id, principal, request_id, services};

#[derive(Debug, Default)]
pub struct LetterMutation;

#[Object]
impl LetterMutation {
    /// Asks for a leave letter for the donor's active case, for days of its schedule.
    ///
    /// Access: volunteers (their own case).
    async fn request_leave_letter(&self, ctx: &Context<'_>, input: LeaveLetterInput) -> Result<LeaveLetter> {
        let actor = principal(ctx);
        actor.own_record()?;
        let letter = services(ctx)?.letters.issue(&actor, None, input.into(), request_id(ctx)).await?;
        Ok(letter.into())
    }

    /// Issues a leave letter for a case on the donor's behalf. Audited.
    ///
    /// Access: national administrators; coordinators of the case's branch.
    async fn issue_leave_letter(&self, ctx: &Context<'_>, case_id: ID, input: LeaveLetterInput) -> Result<LeaveLetter> {
        let actor = principal(ctx);
        actor.coordinator()?;
        let id = parse_id("caseId", &case_id)?;
        let letter = services(ctx)?.letters.issue(&actor, Some(id), input.into(), request_id(ctx)).await?;
        Ok(letter.into())
    }

    /// Issues a new letter in place of a valid one, which becomes superseded: its check says
    /// so from then on.
    ///
    /// Access: volunteers (their own letters); national administrators and coordinators of
    /// the case's branch.
    async fn reissue_leave_letter(
        &self,
        ctx: &Context<'_>,
        letter_id: ID,
        input: LeaveLetterInput,
    ) -> Result<LeaveLetter> {
        let id = parse_id("letterId", &letter_id)?;
        let letter = services(ctx)?.letters.reissue(&principal(ctx), id, input.into(), request_id(ctx)).await?;
        Ok(letter.into())
    }

    /// Revokes a valid letter: its check says so from then on, and it can no longer be
    /// downloaded. Audited.
    ///
    /// Access: volunteers (their own letters); national administrators and coordinators of
    /// the case's branch.
    async fn revoke_leave_letter(&self, ctx: &Context<'_>, letter_id: ID) -> Result<LeaveLetter> {
        let id = parse_id("letterId", &letter_id)?;
        Ok(services(ctx)?.letters.revoke(&principal(ctx), id, request_id(ctx)).await?.into())
    }

    /// A link to a valid letter's PDF that works once, for a few minutes
    /// (`letters.download_minutes`), and holds no personal data. Staff downloads are audited.
    ///
    /// Access: volunteers (their own letters); national administrators and coordinators of
    /// the case's branch.
    async fn leave_letter_download(&self, ctx: &Context<'_>, letter_id: ID) -> Result<LetterDownload> {
        let id = parse_id("letterId", &letter_id)?;
        Ok(services(ctx)?.letters.download_link(&principal(ctx), id, request_id(ctx)).await?.into())
    }
}
