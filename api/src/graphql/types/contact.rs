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
}

impl From<service::ContactView> for Contact {
    fn from(view: service::ContactView) -> Self {
        Self {
            kind: view.kind.into(),
            value: view.value,
            verified_at: view.verified_at,
            started_at: view.started_at,
            ended_at: view.ended_at,
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
}

impl From<StoredKind> for ContactKind {
    fn from(kind: StoredKind) -> Self {
        match kind {
            StoredKind::PrimaryPhone => Self::PrimaryPhone,
            StoredKind::SecondaryPhone => Self::SecondaryPhone,
            StoredKind::Email => Self::Email,
            StoredKind::PostalAddress => Self::PostalAddress,
            StoredKind::Wechat => Self::Wechat,
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
