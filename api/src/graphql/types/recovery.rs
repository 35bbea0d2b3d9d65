//! Reconnecting a volunteer whose number changed: the recovery offer of where a code can go,
//! and the number staff record.

use async_graphql::{Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};

use super::contact::Relationship;
use crate::service::volunteer as service;

/// Where a recovery code can go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum RecoveryDestinationKind {
    /// The phone on the record, if it still works.
    OldPhone,
    /// A backup contact, who reads the code to the volunteer.
    BackupContact,
}

/// A place a recovery code can go, masked (母亲 138****0001).
#[derive(Debug, SimpleObject)]
pub struct RecoveryDestination {
    /// Pass to `sendRecoveryCode`.
    pub id: ID,
    pub kind: RecoveryDestinationKind,
    /// The backup contact's relationship to the volunteer.
    pub relationship: Option<Relationship>,
    /// Masked.
    pub phone: String,
}

/// A recovery opened by a match of name and ID number: choose where the code goes.
#[derive(Debug, SimpleObject)]
pub struct RecoveryOffer {
    /// Pass to `sendRecoveryCode` and `completeRecovery`.
    pub id: ID,
    /// The recovery must be completed before then.
    pub expires_at: DateTime<Utc>,
    pub destinations: Vec<RecoveryDestination>,
}

impl From<service::RecoveryOffer> for RecoveryOffer {
    fn from(offer: service::RecoveryOffer) -> Self {
        Self {
            id: ID(offer.id.to_string()),
            expires_at: offer.expires_at,
            destinations: offer
                .destinations
                .into_iter()
                .map(|destination| RecoveryDestination {
                    id: ID(destination.id.to_string()),
                    kind: match destination.kind {
                        service::DestinationKind::OldPhone => RecoveryDestinationKind::OldPhone,
                        service::DestinationKind::BackupContact => RecoveryDestinationKind::BackupContact,
                    },
                    relationship: destination.relationship.map(Into::into),
                    phone: destination.phone,
                })
                .collect(),
        }
    }
}

/// Where staff learned a volunteer's new number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum PhoneSource {
    /// The volunteer called the branch.
    VolunteerCall,
    /// A backup contact gave it.
    BackupContact,
    /// A visit to the volunteer's address.
    Visit,
    /// A WeChat group of donors or volunteers.
    WechatGroup,
    /// An outside record: an employer, a school, a blood-donation record.
    OutsideRecord,
}

impl From<PhoneSource> for service::PhoneSource {
    fn from(source: PhoneSource) -> Self {
        match source {
            PhoneSource::VolunteerCall => Self::VolunteerCall,
            PhoneSource::BackupContact => Self::BackupContact,
            PhoneSource::Visit => Self::Visit,
            PhoneSource::WechatGroup => Self::WechatGroup,
            PhoneSource::OutsideRecord => Self::OutsideRecord,
        }
    }
}

/// A number staff learned for a volunteer.
#[derive(Debug, InputObject)]
pub struct RecordedPhoneInput {
    /// A mainland mobile.
    pub phone: String,
    pub source: PhoneSource,
    /// Up to 500 characters: who gave it, and when.
    pub note: Option<String>,
}
