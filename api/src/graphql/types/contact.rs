use async_graphql::{Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use entity::volunteer_contact::ContactKind as StoredKind;

use crate::domain;
use crate::service::volunteer::{self as service, TypedContact};

/// A way to reach the volunteer, masked.
#[derive(Debug, SimpleObject)]
pub struct Contact {
    pub kind: ContactKind,
    /// Masked: `138****0001`, `l*****@example.cn`, `成*******`.
    pub value: String,
    /// When the volunteer proved it (a code to a phone); null while unproven.
    pub verified_at: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    /// When it was replaced; null for a current contact.
    pub ended_at: Option<DateTime<Utc>>,
    /// When staff found it wrong or out of service; null while it is thought good.
    pub invalid_at: Option<DateTime<Utc>>,
}

impl From<service::ContactView> for Contact {
    fn from(view: service::ContactView) -> Self {
        Self {
            kind: view.kind.into(),
            value: view.value,
            verified_at: view.verified_at,
            started_at: view.started_at,
            ended_at: view.ended_at,
            invalid_at: view.invalid_at,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum ContactKind {
    /// The mobile the volunteer signs in with.
    PrimaryPhone,
    SecondaryPhone,
    Email,
    PostalAddress,
    Wechat,
    /// A number staff recorded from someone else, unverified until a code to it is read back.
    ReportedPhone,
}

impl From<StoredKind> for ContactKind {
    fn from(kind: StoredKind) -> Self {
        match kind {
            StoredKind::PrimaryPhone => Self::PrimaryPhone,
            StoredKind::SecondaryPhone => Self::SecondaryPhone,
            StoredKind::Email => Self::Email,
            StoredKind::PostalAddress => Self::PostalAddress,
            StoredKind::Wechat => Self::Wechat,
            StoredKind::ReportedPhone => Self::ReportedPhone,
        }
    }
}

impl From<ContactKind> for StoredKind {
    fn from(kind: ContactKind) -> Self {
        match kind {
            ContactKind::PrimaryPhone => Self::PrimaryPhone,
            ContactKind::SecondaryPhone => Self::SecondaryPhone,
            ContactKind::Email => Self::Email,
            ContactKind::PostalAddress => Self::PostalAddress,
            ContactKind::Wechat => Self::Wechat,
            ContactKind::ReportedPhone => Self::ReportedPhone,
        }
    }
}

/// The phones a volunteer changes with a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum PhoneKind {
    PrimaryPhone,
    SecondaryPhone,
}

impl From<PhoneKind> for StoredKind {
    fn from(kind: PhoneKind) -> Self {
        match kind {
            PhoneKind::PrimaryPhone => Self::PrimaryPhone,
            PhoneKind::SecondaryPhone => Self::SecondaryPhone,
        }
    }
}

/// The contacts a volunteer types in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum TypedContactKind {
    Email,
    PostalAddress,
    Wechat,
}

impl From<TypedContactKind> for TypedContact {
    fn from(kind: TypedContactKind) -> Self {
        match kind {
            TypedContactKind::Email => Self::Email,
            TypedContactKind::PostalAddress => Self::PostalAddress,
            TypedContactKind::Wechat => Self::Wechat,
        }
    }
}

/// A relative or friend staff may call when the volunteer cannot be reached; masked.
#[derive(Debug, SimpleObject)]
pub struct BackupContact {
    pub id: ID,
    /// Masked: `王*`.
    pub name: String,
    pub relationship: Relationship,
    /// Masked: `139****0002`.
    pub phone: String,
    /// When they were sent the one message explaining why they are listed.
    pub informed_at: Option<DateTime<Utc>>,
}

impl From<service::BackupContactView> for BackupContact {
    fn from(view: service::BackupContactView) -> Self {
        Self {
            id: ID(view.id.to_string()),
            name: view.name,
            relationship: view.relationship.into(),
            phone: view.phone,
            informed_at: view.informed_at,
        }
    }
}

/// A backup contact to add.
#[derive(Debug, InputObject)]
pub struct BackupContactInput {
    pub name: String,
    pub relationship: Relationship,
    /// A phone, mainland or international (E.164 or as dialled in China).
    pub phone: String,
}

/// How someone relates to the volunteer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum Relationship {
    Parent,
    Spouse,
    Child,
    Sibling,
    OtherRelative,
    Friend,
    Colleague,
    Other,
}

impl From<domain::Relationship> for Relationship {
    fn from(relationship: domain::Relationship) -> Self {
        match relationship {
            domain::Relationship::Parent => Self::Parent,
            domain::Relationship::Spouse => Self::Spouse,
            domain::Relationship::Child => Self::Child,
            domain::Relationship::Sibling => Self::Sibling,
            domain::Relationship::OtherRelative => Self::OtherRelative,
            domain::Relationship::Friend => Self::Friend,
            domain::Relationship::Colleague => Self::Colleague,
            domain::Relationship::Other => Self::Other,
        }
    }
}

impl From<Relationship> for domain::Relationship {
    fn from(relationship: Relationship) -> Self {
        match relationship {
            Relationship::Parent => Self::Parent,
            Relationship::Spouse => Self::Spouse,
            Relationship::Child => Self::Child,
            Relationship::Sibling => Self::Sibling,
            Relationship::OtherRelative => Self::OtherRelative,
            Relationship::Friend => Self::Friend,
            Relationship::Colleague => Self::Colleague,
            Relationship::Other => Self::Other,
        }
    }
}

/// One attempt by staff to reach the volunteer.
#[derive(Debug, SimpleObject)]
pub struct ContactAttempt {
    pub id: ID,
    pub channel: AttemptChannel,
    pub outcome: AttemptOutcome,
    /// Which of the volunteer's own contacts was tried, if one was.
    pub contact_kind: Option<ContactKind>,
    pub note: Option<String>,
    /// The staff account that made it.
    pub staff_id: ID,
    pub attempted_at: DateTime<Utc>,
}

impl From<service::AttemptView> for ContactAttempt {
    fn from(view: service::AttemptView) -> Self {
        Self {
            id: ID(view.id.to_string()),
            channel: view.channel.into(),
            outcome: view.outcome.into(),
            contact_kind: view.contact_kind.map(Into::into),
            note: view.note,
            staff_id: ID(view.staff_id.to_string()),
            attempted_at: view.attempted_at,
        }
    }
}

/// An attempt to log.
#[derive(Debug, InputObject)]
pub struct ContactAttemptInput {
    pub channel: AttemptChannel,
    pub outcome: AttemptOutcome,
    /// Which of the volunteer's own contacts was tried; WRONG_NUMBER or NOT_IN_SERVICE marks
    /// it invalid.
    pub contact_kind: Option<ContactKind>,
    /// Up to 500 characters.
    pub note: Option<String>,
}

impl From<ContactAttemptInput> for service::NewAttempt {
    fn from(input: ContactAttemptInput) -> Self {
        Self {
            channel: input.channel.into(),
            outcome: input.outcome.into(),
            contact: input.contact_kind.map(Into::into),
            note: input.note,
            case_id: None,
        }
    }
}

/// How staff tried to reach a volunteer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum AttemptChannel {
    PhoneCall,
    Sms,
    Wechat,
    Letter,
    Visit,
    BackupContact,
}

impl From<AttemptChannel> for domain::AttemptChannel {
    fn from(channel: AttemptChannel) -> Self {
        match channel {
            AttemptChannel::PhoneCall => Self::PhoneCall,
            AttemptChannel::Sms => Self::Sms,
            AttemptChannel::Wechat => Self::Wechat,
            AttemptChannel::Letter => Self::Letter,
            AttemptChannel::Visit => Self::Visit,
            AttemptChannel::BackupContact => Self::BackupContact,
        }
    }
}

impl From<domain::AttemptChannel> for AttemptChannel {
    fn from(channel: domain::AttemptChannel) -> Self {
        match channel {
            domain::AttemptChannel::PhoneCall => Self::PhoneCall,
            domain::AttemptChannel::Sms => Self::Sms,
            domain::AttemptChannel::Wechat => Self::Wechat,
            domain::AttemptChannel::Letter => Self::Letter,
            domain::AttemptChannel::Visit => Self::Visit,
            domain::AttemptChannel::BackupContact => Self::BackupContact,
        }
    }
}

/// What came of an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum AttemptOutcome {
    Reached,
    NoAnswer,
    WrongNumber,
    NotInService,
    Refused,
    CallLater,
}

impl From<AttemptOutcome> for domain::AttemptOutcome {
    fn from(outcome: AttemptOutcome) -> Self {
        match outcome {
            AttemptOutcome::Reached => Self::Reached,
            AttemptOutcome::NoAnswer => Self::NoAnswer,
            AttemptOutcome::WrongNumber => Self::WrongNumber,
            AttemptOutcome::NotInService => Self::NotInService,
            AttemptOutcome::Refused => Self::Refused,
            AttemptOutcome::CallLater => Self::CallLater,
        }
    }
}

impl From<domain::AttemptOutcome> for AttemptOutcome {
    fn from(outcome: domain::AttemptOutcome) -> Self {
        match outcome {
            domain::AttemptOutcome::Reached => Self::Reached,
            domain::AttemptOutcome::NoAnswer => Self::NoAnswer,
            domain::AttemptOutcome::WrongNumber => Self::WrongNumber,
            domain::AttemptOutcome::NotInService => Self::NotInService,
            domain::AttemptOutcome::Refused => Self::Refused,
            domain::AttemptOutcome::CallLater => Self::CallLater,
        }
    }
}
