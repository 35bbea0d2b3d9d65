use async_graphql::{Context, ID, Object, Result};

use crate::graphql::types::{
    ContactAttempt, ContactAttemptInput, EnrolmentInput, PersonalField, RecordedPhoneInput, SignInCodeSent,
    UnmaskPurpose, Volunteer, VolunteerSignIn,
};
use crate::graphql::{client_address, parse_id, principal, request_id, services};

#[derive(Debug, Default)]
pub struct VolunteerMutation;

#[Object]
impl VolunteerMutation {
    /// Sends a 6-digit sign-in code by SMS to a mainland mobile. The answer is the same whether
    /// or not the phone belongs to a volunteer. Asking again within `resendAfter` seconds, or
    /// too often for one phone or from one address, is RATE_LIMITED with `retryAfterSeconds`.
    ///
    /// Access: anyone.
    async fn request_sign_in_code(&self, ctx: &Context<'_>, phone: String) -> Result<SignInCodeSent> {
        let sign_in = &services(ctx)?.volunteer_sign_in;
        Ok(sign_in.request_code(&phone, client_address(ctx), request_id(ctx)).await?.into())
    }

    /// Signs a volunteer in with the code sent to their phone. A wrong code counts against it;
    /// after the allowed number of wrong tries it is locked and a new one must be requested.
    /// A correct code for a phone of no volunteer answers `enrolmentRequired`.
    ///
    /// Access: anyone.
    async fn sign_in_with_code(&self, ctx: &Context<'_>, phone: String, code: String) -> Result<VolunteerSignIn> {
        let sign_in = &services(ctx)?.volunteer_sign_in;
        Ok(sign_in.sign_in(&phone, &code, client_address(ctx), request_id(ctx)).await?.into())
    }

    /// One personal field of a volunteer in clear, for a stated purpose. Each call writes one
    /// audit row: when, who, role, branch, volunteer, field, purpose and request id.
    ///
    /// Access: national administrators; coordinators of the volunteer's branch.
    async fn unmask_volunteer_field(
        &self,
        ctx: &Context<'_>,
        volunteer_id: ID,
        field: PersonalField,
        purpose: UnmaskPurpose,
    ) -> Result<String> {
        let actor = principal(ctx);
        let unmasker = actor.unmasker()?;
        let id = parse_id("volunteerId", &volunteer_id)?;
        let volunteers = &services(ctx)?.volunteers;
        Ok(volunteers.unmask(&unmasker, &actor, id, field.into(), purpose.into(), request_id(ctx)).await?)
    }

    /// Enrols a volunteer recruited offline (at a blood donation site), with the phone they
    /// wrote down; they sign in with it later, which verifies it. The same checks as `enrol`.
    ///
    /// Access: national administrators; coordinators and recruiters (their branch's province).
    async fn enrol_offline_recruit(
        &self,
        ctx: &Context<'_>,
        phone: String,
        input: EnrolmentInput,
    ) -> Result<Volunteer> {
        let actor = principal(ctx);
        let enroller = actor.enroller()?;
        let enrolment = &services(ctx)?.enrolment;
        Ok(enrolment.enrol_offline(&enroller, &actor, &phone, input.into(), request_id(ctx)).await?.into())
    }

    /// Accepts or rejects the name correction a volunteer asked for (see it first with
    /// `unmaskVolunteerField(field: PENDING_NAME)`). Audited.
    ///
    /// Access: national administrators; coordinators of the volunteer's branch.
    async fn review_name_correction(&self, ctx: &Context<'_>, volunteer_id: ID, accept: bool) -> Result<bool> {
        let actor = principal(ctx);
        let reviewer = actor.unmasker()?;
        let id = parse_id("volunteerId", &volunteer_id)?;
        services(ctx)?.profile.review_name_correction(&reviewer, &actor, id, accept, request_id(ctx)).await?;
        Ok(true)
    }

    /// Marks an alert handled. Audited.
    ///
    /// Access: national administrators; coordinators of the alert's branch.
    async fn resolve_staff_alert(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let actor = principal(ctx);
        let coordinator = actor.unmasker()?;
        let id = parse_id("id", &id)?;
        services(ctx)?.alerts.resolve(&coordinator, &actor, id, request_id(ctx)).await?;
        Ok(true)
    }

    /// Logs an attempt to reach a volunteer (channel, outcome, note). A wrong number or one not
    /// in service marks the contact tried invalid. Audited.
    ///
    /// Access: national administrators; coordinators and recruiters of the volunteer's branch.
    async fn log_contact_attempt(
        &self,
        ctx: &Context<'_>,
        volunteer_id: ID,
        input: ContactAttemptInput,
    ) -> Result<ContactAttempt> {
        let actor = principal(ctx);
        let reader = actor.volunteer_reader()?;
        let id = parse_id("volunteerId", &volunteer_id)?;
        let attempts = &services(ctx)?.attempts;
        Ok(attempts.log(&reader, &actor, id, input.into(), request_id(ctx)).await?.into())
    }

    /// Records a number learned for the volunteer (from their call, a backup contact, a visit,
    /// a WeChat group, an outside record). It is stored unverified (`REPORTED_PHONE`) and used
    /// to reach them; it becomes their sign-in number only when the code sent by
    /// `sendVolunteerPhoneCode` is read back (`confirmVolunteerPhone`). Logged as an attempt
    /// that reached them, counted as a reconnection by staff, audited.
    ///
    /// Access: national administrators; coordinators and recruiters of the volunteer's branch.
    async fn record_volunteer_phone(
        &self,
        ctx: &Context<'_>,
        volunteer_id: ID,
        input: RecordedPhoneInput,
    ) -> Result<Volunteer> {
        let actor = principal(ctx);
        let reader = actor.volunteer_reader()?;
        let id = parse_id("volunteerId", &volunteer_id)?;
        let recovery = &services(ctx)?.recovery;
        let note = input.note.as_deref();
        recovery.record_phone(&reader, &actor, id, &input.phone, input.source.into(), note, request_id(ctx)).await?;
        Ok(services(ctx)?.volunteers.get(&reader, id).await?.into())
    }

    /// Sends a code to the number recorded for the volunteer, for them to read back.
    ///
    /// Access: national administrators; coordinators and recruiters of the volunteer's branch.
    async fn send_volunteer_phone_code(&self, ctx: &Context<'_>, volunteer_id: ID) -> Result<SignInCodeSent> {
        let reader = principal(ctx).volunteer_reader()?;
        let id = parse_id("volunteerId", &volunteer_id)?;
        Ok(services(ctx)?.recovery.send_phone_code(&reader, id).await?.into())
    }

    /// Makes the recorded number the volunteer's sign-in number with the code they read back;
    /// the old number stays in the history, and it and the backup contacts are told.
    ///
    /// Access: national administrators; coordinators and recruiters of the volunteer's branch.
    async fn confirm_volunteer_phone(&self, ctx: &Context<'_>, volunteer_id: ID, code: String) -> Result<Volunteer> {
        let actor = principal(ctx);
        let reader = actor.volunteer_reader()?;
        let id = parse_id("volunteerId", &volunteer_id)?;
        services(ctx)?.recovery.confirm_phone(&reader, &actor, id, &code, request_id(ctx)).await?;
        Ok(services(ctx)?.volunteers.get(&reader, id).await?.into())
    }
}
