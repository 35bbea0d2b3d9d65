//! The app's recovery of a record from a new phone, for a volunteer who cannot sign in: their
//! new phone signed in and got an enrolment ticket, and enrolling said the ID number is taken.

use async_graphql::{Context, ID, Object, Result};

use crate::graphql::types::{RecoveryOffer, Session, SignInCodeSent};
use crate::graphql::{client_address, parse_id, request_id, services};

#[derive(Debug, Default)]
pub struct RecoveryMutation;

#[Object]
impl RecoveryMutation {
    /// Opens the recovery of the record with this name and ID number, from the phone the
    /// `enrolmentTicket` proved, and offers where a code can go. A name that does not match
    /// and an ID number with no record get the same BAD_USER_INPUT on `nationalId`. Tries are
    /// limited per phone, per address and per ID number (RATE_LIMITED), and audited.
    ///
    /// Access: anyone (the ticket is the proof).
    async fn start_recovery(
        &self,
        ctx: &Context<'_>,
        enrolment_ticket: String,
        phone: String,
        name: String,
        national_id: String,
    ) -> Result<RecoveryOffer> {
        let recovery = &services(ctx)?.recovery;
        let offer = recovery
            .start(&enrolment_ticket, &phone, &name, &national_id, client_address(ctx), request_id(ctx))
            .await?;
        Ok(offer.into())
    }

    /// Sends a code to one of the offer's destinations: the old phone, or a backup contact
    /// who reads it to the volunteer.
    ///
    /// Access: anyone (the recovery is the proof).
    async fn send_recovery_code(
        &self,
        ctx: &Context<'_>,
        recovery_id: ID,
        destination_id: ID,
    ) -> Result<SignInCodeSent> {
        let (recovery_id, destination_id) =
            (parse_id("recoveryId", &recovery_id)?, parse_id("destinationId", &destination_id)?);
        Ok(services(ctx)?.recovery.send_code(recovery_id, destination_id).await?.into())
    }

    /// Asks the branch to call back instead of sending a code (no code can be received): the
    /// new phone goes on the record as unverified, and the branch's coordinators are alerted.
    /// Asking twice alerts once.
    ///
    /// Access: anyone (the recovery is the proof).
    async fn request_recovery_call_back(&self, ctx: &Context<'_>, recovery_id: ID) -> Result<bool> {
        let recovery_id = parse_id("recoveryId", &recovery_id)?;
        services(ctx)?.recovery.request_call_back(recovery_id, request_id(ctx)).await?;
        Ok(true)
    }

    /// Completes the recovery with the code read back: the new phone becomes primary (the old
    /// one stays in the history), a volunteer marked unreachable is available again, the old
    /// number and the backup contacts are told by SMS, and the volunteer is signed in.
    ///
    /// Access: anyone (the code is the proof).
    async fn complete_recovery(&self, ctx: &Context<'_>, recovery_id: ID, code: String) -> Result<Session> {
        let recovery_id = parse_id("recoveryId", &recovery_id)?;
        Ok(services(ctx)?.recovery.complete(recovery_id, &code, request_id(ctx)).await?.into())
    }
}
