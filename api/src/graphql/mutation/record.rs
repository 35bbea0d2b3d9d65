use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;

use crate::graphql::types::{DonorStatus, StatusReason, Volunteer, VolunteerCorrectionInput};
use crate::graphql::{parse_id, principal, request_id, services};
use crate::service::volunteer::StaffStatus;

#[derive(Debug, Default)]
pub struct RecordMutation;

#[Object]
impl RecordMutation {
    /// Sets a volunteer's status with its EMDIS reason: AV (once HLA typed), TU with a reason
    /// and, except for UC and UK, an end date, or DE with a reason and a note, which removes
    /// the volunteer from the register (a tombstone keeps the reason and dates; personal data
    /// is erased) and answers null. Recorded in the status history and audited.
    ///
    /// Access: national administrators; coordinators of the volunteer's branch.
    async fn set_volunteer_status(
        &self,
        ctx: &Context<'_>,
        volunteer_id: ID,
        status: DonorStatus,
        reason: Option<StatusReason>,
        until: Option<NaiveDate>,
        note: Option<String>,
    ) -> Result<Option<Volunteer>> {
        let actor = principal(ctx);
        let coordinator = actor.coordinator()?;
        let id = parse_id("volunteerId", &volunteer_id)?;
        let status = StaffStatus::from_parts(status.into(), reason.map(Into::into), until)?;
        let corrections = &services(ctx)?.corrections;
        let view = corrections.set_status(&coordinator, &actor, id, status, note.as_deref(), request_id(ctx)).await?;
        Ok(view.map(Into::into))
    }

    /// Corrects a record (name, ID number, city, blood group, occupation, HLA typing). Audited
    /// with the fields touched, never their values.
    ///
    /// Access: national administrators; coordinators of the volunteer's branch.
    async fn correct_volunteer_record(
        &self,
        ctx: &Context<'_>,
        volunteer_id: ID,
        input: VolunteerCorrectionInput,
    ) -> Result<Volunteer> {
        let actor = principal(ctx);
        let coordinator = actor.coordinator()?;
        let id = parse_id("volunteerId", &volunteer_id)?;
        let correction = input.parse()?;
        let corrections = &services(ctx)?.corrections;
        Ok(corrections.correct(&coordinator, &actor, id, correction, request_id(ctx)).await?.into())
    }

    /// Marks a volunteer lost (TU/UC) after the branch's number of failed attempts to reach
    /// them within its window (3 in 30 days by default). They leave the lost-contact queue; the
    /// next successful contact returns them. Audited.
    ///
    /// Access: national administrators; coordinators and recruiters of the volunteer's branch.
    async fn mark_volunteer_lost(&self, ctx: &Context<'_>, volunteer_id: ID) -> Result<Volunteer> {
        let actor = principal(ctx);
        let reader = actor.volunteer_reader()?;
        let id = parse_id("volunteerId", &volunteer_id)?;
        let services = services(ctx)?;
        services.attempts.mark_lost(&reader, &actor, id, request_id(ctx)).await?;
        Ok(services.volunteers.get(&reader, id).await?.into())
    }
}
