//! The mobile app's mutations on the volunteer's own record. Each takes the volunteer's own
//! record from their token; none takes a volunteer id.

use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;

use crate::error::AppError;
use crate::graphql::types::{
    BackupContactInput, ContactKind, EnrolmentInput, FamilyMemberInput, InfoPackChannel, NotificationPreferences,
    PauseReason, PhoneKind, ProfileInput, Session, SignInCodeSent, Stance, TypedContactKind, Volunteer, Withdrawal,
    WithdrawalCause,
};
use crate::graphql::{parse_id, principal, request_id, services};
use crate::service::OwnRecord;
use crate::service::volunteer::{InfoPack, NewBackupContact, NewFamilyMember, Preferences, ProfileChanges};

#[derive(Debug, Default)]
pub struct SelfServiceMutation;

/// The volunteer's record after a change, as the app redraws it.
async fn me_after(ctx: &Context<'_>, me: &OwnRecord) -> Result<Volunteer> {
    Ok(services(ctx)?.volunteers.me(me).await?.into())
}

#[Object]
impl SelfServiceMutation {
    /// Enrols the holder of a phone proven by `signInWithCode` (its `enrolmentTicket`) and
    /// signs them in. Every field is checked; the first that fails is named, and nothing is
    /// written. The record is pending until staff record a sample, and in cooling-off for the
    /// branch's period (7 days), in which a withdrawal deletes it completely. An ID number
    /// already registered is CONFLICT, without saying by whom.
    ///
    /// Access: anyone (the ticket is the proof).
    async fn enrol(
        &self,
        ctx: &Context<'_>,
        enrolment_ticket: String,
        phone: String,
        input: EnrolmentInput,
    ) -> Result<Session> {
        let enrolment = &services(ctx)?.enrolment;
        Ok(enrolment.enrol_self(&enrolment_ticket, &phone, input.into(), request_id(ctx)).await?.into())
    }

    /// Sends a code to a new number, to prove it before `changePhone`. Needs a sign-in by code
    /// within the last 15 minutes (CONFLICT on `session` otherwise), or, when the old SIM is
    /// gone, the volunteer's full `nationalId` (BAD_USER_INPUT on `nationalId` when it is not
    /// theirs; a few tries a day, then RATE_LIMITED).
    ///
    /// Access: volunteers.
    async fn request_phone_change_code(
        &self,
        ctx: &Context<'_>,
        phone: String,
        national_id: Option<String>,
    ) -> Result<SignInCodeSent> {
        let me = principal(ctx).own_record()?;
        Ok(services(ctx)?.contacts.request_phone_change(&me, &phone, national_id.as_deref()).await?.into())
    }

    /// Replaces the primary or secondary phone with the number the code was sent to. The old
    /// number stays in the history, with its end date; the change confirms the record. With
    /// `nationalId` in place of a recent sign-in (the old SIM is gone), the old number and the
    /// backup contacts are told of the change by SMS.
    ///
    /// Access: volunteers.
    async fn change_phone(
        &self,
        ctx: &Context<'_>,
        kind: PhoneKind,
        phone: String,
        code: String,
        national_id: Option<String>,
    ) -> Result<Volunteer> {
        let me = principal(ctx).own_record()?;
        let contacts = &services(ctx)?.contacts;
        contacts.change_phone(&me, kind.into(), &phone, &code, national_id.as_deref(), request_id(ctx)).await?;
        me_after(ctx, &me).await
    }

    /// Sets the e-mail address, postal address or WeChat id, replacing the current one.
    ///
    /// Access: volunteers.
    async fn set_contact(&self, ctx: &Context<'_>, kind: TypedContactKind, value: String) -> Result<Volunteer> {
        let me = principal(ctx).own_record()?;
        services(ctx)?.contacts.set_contact(&me, kind.into(), &value).await?;
        me_after(ctx, &me).await
    }

    /// Ends a contact the volunteer no longer has; the primary phone can only be changed.
    ///
    /// Access: volunteers.
    async fn remove_contact(&self, ctx: &Context<'_>, kind: ContactKind) -> Result<Volunteer> {
        let me = principal(ctx).own_record()?;
        services(ctx)?.contacts.end_contact(&me, kind.into()).await?;
        me_after(ctx, &me).await
    }

    /// Adds a backup contact (at most five), who may be sent one message explaining why.
    ///
    /// Access: volunteers.
    async fn add_backup_contact(&self, ctx: &Context<'_>, input: BackupContactInput) -> Result<Volunteer> {
        let me = principal(ctx).own_record()?;
        let contact = NewBackupContact::parse("backupContact", &input.name, input.relationship.into(), &input.phone)?;
        services(ctx)?.contacts.add_backup_contact(&me, contact).await?;
        me_after(ctx, &me).await
    }

    /// Removes a backup contact; at least two must stay.
    ///
    /// Access: volunteers (their own backup contacts).
    async fn remove_backup_contact(&self, ctx: &Context<'_>, id: ID) -> Result<Volunteer> {
        let me = principal(ctx).own_record()?;
        let id = parse_id("id", &id)?;
        services(ctx)?.contacts.remove_backup_contact(&me, id).await?;
        me_after(ctx, &me).await
    }

    /// "My details are still right and I am still willing": refreshes the confirmation, and
    /// after a pause has ended returns the volunteer to the register.
    ///
    /// Access: volunteers.
    async fn confirm_my_details(&self, ctx: &Context<'_>) -> Result<Volunteer> {
        let me = principal(ctx).own_record()?;
        services(ctx)?.availability.confirm(&me, request_id(ctx)).await?;
        me_after(ctx, &me).await
    }

    /// Pauses (TU) until a date after today and within the branch's maximum (a year by
    /// default). A reminder comes 14 days before the end; the volunteer returns when they
    /// confirm, or becomes unreachable (TU/UC) after a grace period if they do not.
    ///
    /// Access: volunteers.
    async fn pause_availability(&self, ctx: &Context<'_>, reason: PauseReason, until: NaiveDate) -> Result<Volunteer> {
        let me = principal(ctx).own_record()?;
        services(ctx)?.availability.pause(&me, reason.into(), until, request_id(ctx)).await?;
        me_after(ctx, &me).await
    }

    /// Ends the volunteer's own pause now.
    ///
    /// Access: volunteers.
    async fn resume_availability(&self, ctx: &Context<'_>) -> Result<Volunteer> {
        let me = principal(ctx).own_record()?;
        services(ctx)?.availability.resume(&me, request_id(ctx)).await?;
        me_after(ctx, &me).await
    }

    /// Leaves the registry, with the `confirmation` of a `withdrawalNotice` just shown. A
    /// volunteer reserved for a patient is refused (CONFLICT on `status`) and their
    /// coordinator is alerted to call them.
    ///
    /// Access: volunteers.
    async fn withdraw(&self, ctx: &Context<'_>, cause: WithdrawalCause, confirmation: String) -> Result<Withdrawal> {
        let me = principal(ctx).own_record()?;
        Ok(services(ctx)?.availability.withdraw(&me, cause.into(), &confirmation, request_id(ctx)).await?.into())
    }

    /// Marks notifications read (at most 50); others' ids are ignored. Returns how many changed.
    ///
    /// Access: volunteers.
    async fn mark_notifications_read(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<u64> {
        let me = principal(ctx).own_record()?;
        let ids = ids.iter().map(|id| parse_id("ids", id)).collect::<Result<Vec<_>, _>>()?;
        Ok(services(ctx)?.inbox.mark_read(&me, &ids).await?)
    }

    /// Chooses the channels for non-essential messages; both off opts out of them.
    ///
    /// Access: volunteers.
    async fn set_notification_preferences(
        &self,
        ctx: &Context<'_>,
        sms: bool,
        app_inbox: bool,
    ) -> Result<NotificationPreferences> {
        let me = principal(ctx).own_record()?;
        Ok(services(ctx)?.inbox.set_preferences(&me, Preferences { sms, app_inbox }).await?.into())
    }

    /// Corrects city, occupation or employer.
    ///
    /// Access: volunteers.
    async fn update_my_profile(&self, ctx: &Context<'_>, input: ProfileInput) -> Result<Volunteer> {
        let me = principal(ctx).own_record()?;
        let changes = ProfileChanges { city: input.city, occupation: input.occupation, employer: input.employer };
        services(ctx)?.profile.update(&me, changes).await?;
        me_after(ctx, &me).await
    }

    /// Asks staff to correct the spelling of the volunteer's name.
    ///
    /// Access: volunteers.
    async fn request_name_correction(&self, ctx: &Context<'_>, name: String) -> Result<Volunteer> {
        let me = principal(ctx).own_record()?;
        services(ctx)?.profile.request_name_correction(&me, &name, request_id(ctx)).await?;
        me_after(ctx, &me).await
    }

    /// Records a family member who knows of the registration (at most ten).
    ///
    /// Access: volunteers.
    async fn record_family_member(&self, ctx: &Context<'_>, input: FamilyMemberInput) -> Result<Volunteer> {
        let me = principal(ctx).own_record()?;
        let member = NewFamilyMember::parse(
            input.relationship.into(),
            input.name.as_deref(),
            input.phone.as_deref(),
            input.stance.into(),
        )?;
        services(ctx)?.family.record(&me, member).await?;
        me_after(ctx, &me).await
    }

    /// Records where a family member now stands.
    ///
    /// Access: volunteers (their own family).
    async fn set_family_member_stance(&self, ctx: &Context<'_>, id: ID, stance: Stance) -> Result<Volunteer> {
        let me = principal(ctx).own_record()?;
        services(ctx)?.family.set_stance(&me, parse_id("id", &id)?, stance.into()).await?;
        me_after(ctx, &me).await
    }

    /// Removes a family member.
    ///
    /// Access: volunteers (their own family).
    async fn remove_family_member(&self, ctx: &Context<'_>, id: ID) -> Result<Volunteer> {
        let me = principal(ctx).own_record()?;
        services(ctx)?.family.remove(&me, parse_id("id", &id)?).await?;
        me_after(ctx, &me).await
    }

    /// Asks the registry to send the family information pack: an SMS with a link to a recorded
    /// family member (`familyMemberId`, who needs a phone), or a call from branch staff.
    ///
    /// Access: volunteers.
    async fn request_family_info_pack(
        &self,
        ctx: &Context<'_>,
        channel: InfoPackChannel,
        family_member_id: Option<ID>,
    ) -> Result<bool> {
        let me = principal(ctx).own_record()?;
        let pack = match (channel, family_member_id) {
            (InfoPackChannel::Sms, Some(id)) => InfoPack::Sms { family_member: parse_id("familyMemberId", &id)? },
            (InfoPackChannel::Sms, None) => {
                return Err(AppError::invalid("familyMemberId", "an SMS needs the family member to send it to").into());
            }
            (InfoPackChannel::StaffCall, _) => InfoPack::StaffCall,
        };
        services(ctx)?.family.request_info_pack(&me, pack, request_id(ctx)).await?;
        Ok(true)
    }
}
