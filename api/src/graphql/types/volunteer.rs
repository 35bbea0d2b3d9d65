use async_graphql::{ComplexObject, Context, Enum, ID, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::volunteer::{DonorStatus as StoredStatus, StatusReason as StoredReason};
use uuid::Uuid;

use super::contact::{BackupContact, Contact};
use crate::graphql::loaders::{
    BackupContacts, ContactAttempts, ContactHistory, CurrentContacts, FamilyMembers, Messages, StatusHistory, load,
};
use crate::graphql::principal;
use crate::{domain, service};

/// A volunteer record. Personal fields are masked; staff who may see one in clear ask
/// `unmaskVolunteerField` with a purpose, which is audited.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct Volunteer {
    #[graphql(skip)]
    pub uuid: Uuid,
    pub id: ID,
    /// The branch (GB/T 2260 code) that looks after the volunteer.
    pub branch_code: String,
    pub status: DonorStatus,
    pub status_reason: Option<StatusReason>,
    /// The end of a temporary unavailability (TU).
    pub status_until: Option<NaiveDate>,
    /// Masked: the first character only, `张*`.
    pub name: String,
    /// Masked: `110105********002X`.
    pub national_id: String,
    /// Masked: `138****0001`; null when the volunteer has none.
    pub primary_phone: Option<String>,
    pub sex: Sex,
    /// Whole years; the birth date itself is the part of the ID number its mask hides.
    pub age: u32,
    /// Whether HLA typing has been done; the values are never shown here.
    pub hla_typed: bool,
    #[graphql(skip)]
    pub hla: entity::volunteer::HlaResolution,
    pub registered_at: DateTime<Utc>,
    /// When the volunteer last confirmed their contacts and willingness.
    pub last_confirmed_at: DateTime<Utc>,
    /// The confirmation is older than the branch's interval (12 months by default): the app
    /// prompts a check-up, answered by `confirmMyDetails`.
    pub check_up_due: bool,
    /// Until then, a withdrawal deletes the record completely.
    pub cooling_off_until: DateTime<Utc>,
    pub city: Option<String>,
    pub blood_group: Option<BloodGroup>,
    pub occupation: Option<String>,
    /// Masked like a name.
    pub employer: Option<String>,
    /// A name correction awaits staff review.
    pub name_correction_pending: bool,
}

#[ComplexObject]
impl Volunteer {
    /// The current contacts (phones, e-mail, postal address, WeChat), masked, with when each
    /// was verified.
    async fn contacts(&self, ctx: &Context<'_>) -> Result<Vec<Contact>> {
        Ok(load(ctx, CurrentContacts(self.uuid)).await?.into_iter().map(Into::into).collect())
    }

    /// Every contact the volunteer ever gave, ended ones with their end date, newest first:
    /// where staff start when a volunteer is lost.
    ///
    /// Access: staff who may read the record (the volunteer sees `contacts`).
    async fn contact_history(&self, ctx: &Context<'_>) -> Result<Vec<Contact>> {
        principal(ctx).volunteer_reader()?;
        Ok(load(ctx, ContactHistory(self.uuid)).await?.into_iter().map(Into::into).collect())
    }

    /// Family members who know of the registration, and where they stand; masked. The
    /// coordinator reads this at match time.
    async fn family_members(&self, ctx: &Context<'_>) -> Result<Vec<super::FamilyMember>> {
        Ok(load(ctx, FamilyMembers(self.uuid)).await?.into_iter().map(Into::into).collect())
    }

    /// Staff's latest attempts to reach the volunteer (100), newest first.
    ///
    /// Access: staff who may read the record.
    async fn contact_attempts(&self, ctx: &Context<'_>) -> Result<Vec<super::ContactAttempt>> {
        principal(ctx).volunteer_reader()?;
        Ok(load(ctx, ContactAttempts(self.uuid)).await?.into_iter().map(Into::into).collect())
    }

    /// Relatives or friends to try when the volunteer cannot be reached, masked.
    async fn backup_contacts(&self, ctx: &Context<'_>) -> Result<Vec<BackupContact>> {
        Ok(load(ctx, BackupContacts(self.uuid)).await?.into_iter().map(Into::into).collect())
    }

    /// How finely HLA is typed; the typing itself lives in the matching systems.
    ///
    /// Access: staff who may read the record (the volunteer sees `hlaTyped`).
    async fn hla_resolution(&self, ctx: &Context<'_>) -> Result<HlaResolution> {
        principal(ctx).volunteer_reader()?;
        Ok(self.hla.into())
    }

    /// Every change of the donor status, newest first: what it became, who changed it and why.
    ///
    /// Access: staff who may read the record.
    async fn status_history(&self, ctx: &Context<'_>) -> Result<Vec<StatusChange>> {
        principal(ctx).volunteer_reader()?;
        Ok(load(ctx, StatusHistory(self.uuid)).await?.into_iter().map(Into::into).collect())
    }

    /// The latest 50 messages sent to the volunteer (SMS and app), newest first, with their
    /// delivery; recipients masked.
    ///
    /// Access: staff who may read the record.
    async fn messages(&self, ctx: &Context<'_>) -> Result<Vec<super::MessageDelivery>> {
        principal(ctx).volunteer_reader()?;
        Ok(load(ctx, Messages(self.uuid)).await?.into_iter().map(Into::into).collect())
    }
}

/// One change of a volunteer's donor status.
#[derive(Debug, SimpleObject)]
pub struct StatusChange {
    pub status: DonorStatus,
    pub reason: Option<StatusReason>,
    pub until: Option<NaiveDate>,
    pub changed_at: DateTime<Utc>,
    /// `volunteer`, `staff`, `hospital` or `system` (a scheduled job, an SMS answer).
    pub actor_kind: String,
    /// The staff account (or volunteer) that made the change; null for the system.
    pub actor_id: Option<ID>,
    /// The staff role, for staff changes.
    pub actor_role: Option<String>,
    /// What made it: `volunteer.pause`, `staff.set_status`, `reply.pause`, `job.pause_lapsed`…
    pub source: String,
    /// Staff's note.
    pub note: Option<String>,
}

impl From<service::volunteer::StatusChangeView> for StatusChange {
    fn from(view: service::volunteer::StatusChangeView) -> Self {
        Self {
            status: view.status.into(),
            reason: view.reason.map(Into::into),
            until: view.until,
            changed_at: view.changed_at,
            actor_kind: view.actor_kind,
            actor_id: view.actor_id.map(|id| ID(id.to_string())),
            actor_role: view.actor_role,
            source: view.source,
            note: view.note,
        }
    }
}

/// How finely a volunteer's HLA is typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum HlaResolution {
    Untyped,
    Low,
    Intermediate,
    /// Allele level.
    High,
}

impl From<entity::volunteer::HlaResolution> for HlaResolution {
    fn from(resolution: entity::volunteer::HlaResolution) -> Self {
        use entity::volunteer::HlaResolution as Stored;
        match resolution {
            Stored::Untyped => Self::Untyped,
            Stored::Low => Self::Low,
            Stored::Intermediate => Self::Intermediate,
            Stored::High => Self::High,
        }
    }
}

impl From<HlaResolution> for entity::volunteer::HlaResolution {
    fn from(resolution: HlaResolution) -> Self {
        match resolution {
            HlaResolution::Untyped => Self::Untyped,
            HlaResolution::Low => Self::Low,
            HlaResolution::Intermediate => Self::Intermediate,
            HlaResolution::High => Self::High,
        }
    }
}

/// ABO and Rh.
#[derive(Clone, Copy, Debug, SimpleObject, async_graphql::InputObject)]
#[graphql(input_name = "BloodGroupInput")]
pub struct BloodGroup {
    pub abo: Abo,
    pub rh: Rh,
}

impl From<domain::BloodGroup> for BloodGroup {
    fn from(group: domain::BloodGroup) -> Self {
        Self { abo: group.abo.into(), rh: group.rh.into() }
    }
}

impl From<BloodGroup> for domain::BloodGroup {
    fn from(group: BloodGroup) -> Self {
        Self { abo: group.abo.into(), rh: group.rh.into() }
    }
}

impl From<domain::Abo> for Abo {
    fn from(abo: domain::Abo) -> Self {
        match abo {
            domain::Abo::A => Self::A,
            domain::Abo::B => Self::B,
            domain::Abo::O => Self::O,
            domain::Abo::Ab => Self::Ab,
        }
    }
}

impl From<Abo> for domain::Abo {
    fn from(abo: Abo) -> Self {
        match abo {
            Abo::A => Self::A,
            Abo::B => Self::B,
            Abo::O => Self::O,
            Abo::Ab => Self::Ab,
        }
    }
}

impl From<domain::Rh> for Rh {
    fn from(rh: domain::Rh) -> Self {
        match rh {
            domain::Rh::Positive => Self::Positive,
            domain::Rh::Negative => Self::Negative,
        }
    }
}

impl From<Rh> for domain::Rh {
    fn from(rh: Rh) -> Self {
        match rh {
            Rh::Positive => Self::Positive,
            Rh::Negative => Self::Negative,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum Abo {
    A,
    B,
    O,
    #[graphql(name = "AB")]
    Ab,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum Rh {
    Positive,
    Negative,
}

impl From<service::VolunteerView> for Volunteer {
    fn from(view: service::VolunteerView) -> Self {
        Self {
            uuid: view.id,
            id: ID(view.id.to_string()),
            branch_code: view.branch_code,
            status: view.status.into(),
            status_reason: view.status_reason.map(Into::into),
            status_until: view.status_until,
            name: view.name,
            national_id: view.national_id,
            primary_phone: view.primary_phone,
            sex: match view.sex {
                domain::Sex::Female => Sex::Female,
                domain::Sex::Male => Sex::Male,
            },
            age: view.age,
            hla_typed: view.hla_typed,
            hla: view.hla_resolution,
            registered_at: view.registered_at,
            last_confirmed_at: view.last_confirmed_at,
            check_up_due: view.check_up_due,
            cooling_off_until: view.cooling_off_until,
            city: view.city,
            blood_group: view.blood_group.map(Into::into),
            occupation: view.occupation,
            employer: view.employer,
            name_correction_pending: view.name_correction_pending,
        }
    }
}

/// The EMDIS/WMDA donor status, and PENDING until the volunteer's sample is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum DonorStatus {
    Pending,
    /// Available.
    #[graphql(name = "AV")]
    Av,
    /// Temporarily unavailable, with a reason and an end date.
    #[graphql(name = "TU")]
    Tu,
    /// Reserved for this patient.
    #[graphql(name = "RS")]
    Rs,
    /// Reserved for another patient.
    #[graphql(name = "OP")]
    Op,
    /// Deleted, with a reason.
    #[graphql(name = "DE")]
    De,
}

impl From<StoredStatus> for DonorStatus {
    fn from(status: StoredStatus) -> Self {
        match status {
            StoredStatus::Pending => Self::Pending,
            StoredStatus::Available => Self::Av,
            StoredStatus::TemporarilyUnavailable => Self::Tu,
            StoredStatus::ReservedForThisPatient => Self::Rs,
            StoredStatus::ReservedForAnotherPatient => Self::Op,
            StoredStatus::Deleted => Self::De,
        }
    }
}

impl From<DonorStatus> for StoredStatus {
    fn from(status: DonorStatus) -> Self {
        match status {
            DonorStatus::Pending => Self::Pending,
            DonorStatus::Av => Self::Available,
            DonorStatus::Tu => Self::TemporarilyUnavailable,
            DonorStatus::Rs => Self::ReservedForThisPatient,
            DonorStatus::Op => Self::ReservedForAnotherPatient,
            DonorStatus::De => Self::Deleted,
        }
    }
}

/// The EMDIS status reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum StatusReason {
    /// Too old.
    #[graphql(name = "DO")]
    Do,
    /// Died.
    #[graphql(name = "DD")]
    Dd,
    /// Medical (pregnancy included).
    #[graphql(name = "MR")]
    Mr,
    /// Personal (travel included).
    #[graphql(name = "PR")]
    Pr,
    /// After transplantation.
    #[graphql(name = "TX")]
    Tx,
    /// Moved.
    #[graphql(name = "MO")]
    Mo,
    /// Unable to contact.
    #[graphql(name = "UC")]
    Uc,
    /// Other.
    #[graphql(name = "OT")]
    Ot,
    /// Unknown.
    #[graphql(name = "UK")]
    Uk,
}

impl From<StoredReason> for StatusReason {
    fn from(reason: StoredReason) -> Self {
        match reason {
            StoredReason::TooOld => Self::Do,
            StoredReason::Died => Self::Dd,
            StoredReason::Medical => Self::Mr,
            StoredReason::Personal => Self::Pr,
            StoredReason::AfterTransplantation => Self::Tx,
            StoredReason::Moved => Self::Mo,
            StoredReason::UnableToContact => Self::Uc,
            StoredReason::Other => Self::Ot,
            StoredReason::Unknown => Self::Uk,
        }
    }
}

impl From<StatusReason> for StoredReason {
    fn from(reason: StatusReason) -> Self {
        match reason {
            StatusReason::Do => Self::TooOld,
            StatusReason::Dd => Self::Died,
            StatusReason::Mr => Self::Medical,
            StatusReason::Pr => Self::Personal,
            StatusReason::Tx => Self::AfterTransplantation,
            StatusReason::Mo => Self::Moved,
            StatusReason::Uc => Self::UnableToContact,
            StatusReason::Ot => Self::Other,
            StatusReason::Uk => Self::Unknown,
        }
    }
}

/// As derived from the national ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum Sex {
    Female,
    Male,
}

impl From<Sex> for domain::Sex {
    fn from(sex: Sex) -> Self {
        match sex {
            Sex::Female => Self::Female,
            Sex::Male => Self::Male,
        }
    }
}

/// A personal field that can be unmasked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum PersonalField {
    Name,
    NationalId,
    PrimaryPhone,
    /// The name correction a volunteer asked for.
    PendingName,
    /// A number recorded by staff, or by a recovery's call-back request: the number to call.
    ReportedPhone,
}

impl From<PersonalField> for service::PersonalField {
    fn from(field: PersonalField) -> Self {
        match field {
            PersonalField::Name => Self::Name,
            PersonalField::NationalId => Self::NationalId,
            PersonalField::PrimaryPhone => Self::PrimaryPhone,
            PersonalField::PendingName => Self::PendingName,
            PersonalField::ReportedPhone => Self::ReportedPhone,
        }
    }
}

/// Why personal data is unmasked; recorded in the audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum UnmaskPurpose {
    /// Reaching the volunteer for a patient match.
    ContactForMatch,
    /// Correcting the record.
    DataCorrection,
    /// The volunteer asked for it.
    VolunteerRequest,
    /// A legal obligation.
    Legal,
}

impl From<UnmaskPurpose> for service::UnmaskPurpose {
    fn from(purpose: UnmaskPurpose) -> Self {
        match purpose {
            UnmaskPurpose::ContactForMatch => Self::ContactForMatch,
            UnmaskPurpose::DataCorrection => Self::DataCorrection,
            UnmaskPurpose::VolunteerRequest => Self::VolunteerRequest,
            UnmaskPurpose::Legal => Self::Legal,
        }
    }
}

/// A sign-in code is on its way, if the phone can receive SMS. The answer is the same for
/// every phone, registered or not.
#[derive(Debug, SimpleObject)]
pub struct SignInCodeSent {
    /// Seconds the code stays valid.
    pub expires_in: i64,
    /// Seconds before another code can be asked for.
    pub resend_after: i64,
}

impl From<service::CodeSent> for SignInCodeSent {
    fn from(sent: service::CodeSent) -> Self {
        Self { expires_in: sent.expires_in_secs, resend_after: sent.resend_after_secs }
    }
}

/// The result of a correct sign-in code.
#[derive(Debug, SimpleObject)]
pub struct VolunteerSignIn {
    /// The volunteer's session; null when no volunteer has this phone.
    pub session: Option<super::Session>,
    /// True when no volunteer has this phone: the app offers enrolment.
    pub enrolment_required: bool,
    /// When enrolment is required: the proof of the phone `enrol` asks for, good for 30 minutes
    /// and once.
    pub enrolment_ticket: Option<String>,
}

impl From<service::SignedIn> for VolunteerSignIn {
    fn from(signed_in: service::SignedIn) -> Self {
        match signed_in {
            service::SignedIn::Volunteer(session) => {
                Self { session: Some(session.into()), enrolment_required: false, enrolment_ticket: None }
            }
            service::SignedIn::Unregistered { enrolment_ticket } => {
                Self { session: None, enrolment_required: true, enrolment_ticket: Some(enrolment_ticket) }
            }
        }
    }
}
