//! Inputs and results of the mobile app's self-service: enrolment, availability, the
//! notification list.

use async_graphql::{Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use super::contact::BackupContactInput;
use super::volunteer::{BloodGroup, Sex};
use crate::domain;
use crate::service::volunteer as service;

/// What a person gives to join the registry.
#[derive(Debug, InputObject)]
pub struct EnrolmentInput {
    pub name: String,
    /// The 18-character resident ID; checked, and compared with `birthDate` and `sex`.
    pub national_id: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    /// When known.
    pub blood_group: Option<BloodGroup>,
    /// The GB/T 2260 province code; it sets the branch that looks after the volunteer.
    pub province_code: String,
    pub city: String,
    /// Two to five relatives or friends who can reach the volunteer.
    pub backup_contacts: Vec<BackupContactInput>,
    /// The version of the consent text accepted; must be `consentVersion`.
    pub consent_version: String,
    /// The separate consent to processing health data.
    pub health_data_consent: bool,
}

impl From<EnrolmentInput> for service::Enrolment {
    fn from(input: EnrolmentInput) -> Self {
        Self {
            name: input.name,
            national_id: input.national_id,
            birth_date: input.birth_date,
            sex: input.sex.into(),
            blood_group: input.blood_group.map(Into::into),
            province_code: input.province_code,
            city: input.city,
            backup_contacts: input
                .backup_contacts
                .into_iter()
                .map(|contact| (contact.name, contact.relationship.into(), contact.phone))
                .collect(),
            consent_version: input.consent_version,
            health_data_consent: input.health_data_consent,
        }
    }
}

/// Free corrections of the volunteer's record; a field left out stays as it is.
#[derive(Debug, InputObject)]
pub struct ProfileInput {
    pub city: Option<String>,
    pub occupation: Option<String>,
    pub employer: Option<String>,
}

/// Why a volunteer pauses: the EMDIS reasons they may choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum PauseReason {
    /// MR; pregnancy counts as medical.
    Medical,
    /// PR; travel counts as personal.
    Personal,
    /// MO.
    Moved,
}

impl From<PauseReason> for domain::PauseReason {
    fn from(reason: PauseReason) -> Self {
        match reason {
            PauseReason::Medical => Self::Medical,
            PauseReason::Personal => Self::Personal,
            PauseReason::Moved => Self::Moved,
        }
    }
}

/// Why a volunteer leaves; the registry tracks these to understand regret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum WithdrawalCause {
    Family,
    Work,
    Health,
    Fear,
    Moved,
    Personal,
    Other,
}

impl From<WithdrawalCause> for domain::WithdrawalCause {
    fn from(cause: WithdrawalCause) -> Self {
        match cause {
            WithdrawalCause::Family => Self::Family,
            WithdrawalCause::Work => Self::Work,
            WithdrawalCause::Health => Self::Health,
            WithdrawalCause::Fear => Self::Fear,
            WithdrawalCause::Moved => Self::Moved,
            WithdrawalCause::Personal => Self::Personal,
            WithdrawalCause::Other => Self::Other,
        }
    }
}

/// What the app shows before a withdrawal.
#[derive(Debug, SimpleObject)]
pub struct WithdrawalNotice {
    /// The effect on patients, and the pause that could be chosen instead.
    pub explanation: String,
    /// Within cooling-off: the record is deleted completely. After it, the registry keeps only
    /// that a volunteer withdrew, when and why.
    pub deletes_everything: bool,
    /// Pass to `withdraw` to confirm; good until `expiresAt`.
    pub confirmation: String,
    pub expires_at: DateTime<Utc>,
}

const EXPLANATION: &str = "退出后，若有患者与您配型相合，中华骨髓库将无法再联系您；对正在等待移植的患者，\
这可能意味着失去唯一的机会。如果只是暂时不便（怀孕、出差、学业或工作繁忙），您可以选择“暂停”，\
到期后再确认是否恢复。";

impl From<service::WithdrawalNotice> for WithdrawalNotice {
    fn from(notice: service::WithdrawalNotice) -> Self {
        Self {
            explanation: EXPLANATION.into(),
            deletes_everything: notice.purges,
            confirmation: notice.confirmation,
            expires_at: notice.expires_at,
        }
    }
}

/// What a withdrawal did.
#[derive(Debug, SimpleObject)]
pub struct Withdrawal {
    /// True within cooling-off: nothing of the record is left. False after it: personal data is
    /// deleted and a record of the withdrawal (DE, reason, date) stays.
    pub deleted_everything: bool,
}

impl From<service::Withdrawn> for Withdrawal {
    fn from(withdrawn: service::Withdrawn) -> Self {
        Self { deleted_everything: withdrawn == service::Withdrawn::Purged }
    }
}

/// A message in the app's notification list.
#[derive(Debug, SimpleObject)]
pub struct Notification {
    pub id: ID,
    /// What it is about: `health_tip`, `checkup_due`, `pause_ending`, `recommitment`, …
    pub kind: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    /// Null while unread.
    pub read_at: Option<DateTime<Utc>>,
}

impl From<service::NotificationView> for Notification {
    fn from(view: service::NotificationView) -> Self {
        Self {
            id: ID(view.id.to_string()),
            kind: view.kind,
            text: view.text,
            created_at: view.created_at,
            read_at: view.read_at,
        }
    }
}

/// A page of notifications, newest first.
#[derive(Debug, SimpleObject)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    /// Pass as `after` for the next page; null on the last.
    pub next_cursor: Option<ID>,
    /// Unread notifications in the whole list, for the badge.
    pub unread_count: u64,
}

/// The channels the volunteer accepts non-essential messages on (tips, reminders); both off
/// is an opt-out. Essential messages (sign-in codes, a patient match) come regardless.
#[derive(Debug, SimpleObject)]
pub struct NotificationPreferences {
    pub sms: bool,
    pub app_inbox: bool,
}

impl From<service::Preferences> for NotificationPreferences {
    fn from(preferences: service::Preferences) -> Self {
        Self { sms: preferences.sms, app_inbox: preferences.app_inbox }
    }
}
