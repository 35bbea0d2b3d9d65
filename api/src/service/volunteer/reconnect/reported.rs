//! A number staff learned for a volunteer: recorded unverified, then confirmed by code.

use chrono::{Duration, Utc};
use entity::reconnection_count::ReconnectionPath;
use entity::sign_in_code::CodePurpose;
use entity::volunteer;
use entity::volunteer_contact::{self, ContactKind};
use uuid::Uuid;

use crate::db;
use crate::domain::contact::short_text;
use crate::domain::{AttemptChannel, AttemptOutcome, Phone};
use crate::error::{AppError, AppResult};
use crate::pii::registry;
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::volunteer::attempts::NewAttempt;
use crate::service::volunteer::availability::local_today;
use crate::service::volunteer::codes::{CodeRecipient, CodeSent, secs};
use crate::service::volunteer::contacts::Promotion;
use crate::service::volunteer::records::current_contact;
use crate::service::{Principal, VolunteerReader};

use super::{RecoveryService, record_reconnection};

/// Where staff learned a volunteer's new number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhoneSource {
    /// The volunteer called the branch.
    VolunteerCall,
    /// A backup contact gave it.
    BackupContact,
    /// A visit to the volunteer's address.
    Visit,
    /// A WeChat group of donors or volunteers.
    WechatGroup,
    /// An outside record (an employer, a school, a blood-donation record).
    OutsideRecord,
}

impl PhoneSource {
    /// The stored spelling, in the audit trail.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::VolunteerCall => "volunteer_call",
            Self::BackupContact => "backup_contact",
            Self::Visit => "visit",
            Self::WechatGroup => "wechat_group",
            Self::OutsideRecord => "outside_record",
        }
    }

    /// The channel of the attempt that found the number.
    const fn channel(self) -> AttemptChannel {
        match self {
            Self::VolunteerCall | Self::OutsideRecord => AttemptChannel::PhoneCall,
            Self::BackupContact => AttemptChannel::BackupContact,
            Self::Visit => AttemptChannel::Visit,
            Self::WechatGroup => AttemptChannel::Wechat,
        }
    }
}

impl RecoveryService {
    /// Records a number staff learned for a volunteer, from the volunteer's call or from someone
    /// else. It is stored unverified (`REPORTED_PHONE`): staff reach the volunteer on it, and it
    /// becomes the sign-in number only when a code to it is read back
    /// ([`Self::confirm_phone`]). Logged as an attempt that reached them (which confirms the
    /// record and returns a lost volunteer), counted as a reconnection by staff, audited.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `input.phone` or `input.note`; CONFLICT on `input.phone` when it is
    /// another volunteer's sign-in number; NOT_FOUND; FORBIDDEN for another branch's volunteer.
    #[allow(clippy::too_many_arguments)] // who, whom, the number and where it came from
    pub async fn record_phone(
        &self,
        reader: &VolunteerReader,
        actor: &Principal,
        volunteer_id: Uuid,
        phone: &str,
        source: PhoneSource,
        note: Option<&str>,
        request_id: Option<&str>,
    ) -> AppResult<()> {
        let phone = Phone::parse_mainland_mobile(phone).map_err(AppError::field("input.phone"))?;
        let note = note.map(|note| short_text(note, 500)).transpose().map_err(AppError::field("input.note"))?;
        let model = self.volunteers.find_model(volunteer_id).await?;
        if !reader.scope.admits(&model.branch_code) {
            return Err(AppError::Forbidden);
        }
        let rules = self.volunteers.branch_rules(&model.branch_code).await?;
        let index = self.keys.blind_index.phone(&phone);
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            db::lock_volunteer(txn, model.id).await?;
            if self.volunteers.by_primary_phone(txn, &index).await?.is_some_and(|holder| holder.id != model.id) {
                return Err(AppError::Conflict {
                    field: "input.phone".into(),
                    message: "is another volunteer's".into(),
                });
            }
            let reported = ContactKind::ReportedPhone;
            self.contacts
                .replace_contact(txn, model.id, reported, phone.expose(), Some(index.clone()), None, now)
                .await?;
            let attempt = NewAttempt {
                channel: source.channel(),
                outcome: AttemptOutcome::Reached,
                contact: None,
                note: note.clone(),
                case_id: None,
            };
            self.attempts
                .record_in(txn, actor, &model, Uuid::now_v7(), &attempt, note.as_deref(), now, request_id)
                .await?;
            record_reconnection(txn, &model, ReconnectionPath::Staff, rules.stale_contact_days, now).await?;
            let entry = AuditEntry {
                subject: Some(("volunteer", model.id)),
                field: Some("reported_phone"),
                detail: Some(source.as_str().to_owned()),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::VolunteerPhoneRecorded, entry).await
        })
    }

    /// Sends a code to the number staff recorded, for the volunteer to read back on the call.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `volunteerId` without a recorded number; RATE_LIMITED as any code;
    /// NOT_FOUND; FORBIDDEN for another branch's volunteer.
    pub async fn send_phone_code(&self, reader: &VolunteerReader, volunteer_id: Uuid) -> AppResult<CodeSent> {
        let (model, _, phone) = self.reported_phone(reader, volunteer_id).await?;
        let ttl = Duration::seconds(secs(self.codes.settings().phone_change_ttl_secs));
        let to = CodeRecipient { phone, volunteer_id: Some(model.id), branch_code: model.branch_code };
        self.codes.send(CodePurpose::PhoneChange, to, ttl, Utc::now()).await
    }

    /// Makes the recorded number the volunteer's sign-in number, with the code they read back:
    /// the old primary goes to history, and the old number and the backup contacts are told.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `code`, or on `volunteerId` without a recorded number; CONFLICT on
    /// `volunteerId` when the number became another volunteer's meanwhile; NOT_FOUND;
    /// FORBIDDEN for another branch's volunteer.
    pub async fn confirm_phone(
        &self,
        reader: &VolunteerReader,
        actor: &Principal,
        volunteer_id: Uuid,
        code: &str,
        request_id: Option<&str>,
    ) -> AppResult<()> {
        let (model, reported, phone) = self.reported_phone(reader, volunteer_id).await?;
        let now = Utc::now();
        let today = local_today(&self.volunteers.branch_rules(&model.branch_code).await?, now);
        let index = self.keys.blind_index.phone(&phone);
        db::write!(&self.db, |txn| {
            db::lock_volunteer(txn, model.id).await?;
            if let Err(refused) = self.codes.spend(txn, CodePurpose::PhoneChange, &index, code, now).await? {
                return Ok(Err(refused)); // the wrong try is committed
            }
            let promotion = Promotion {
                reported_id: reported.id,
                phone: &phone,
                phone_index: &index,
                today,
                actor,
                detail: "confirmed by code read back to staff",
            };
            match self.contacts.promote(txn, &model, &promotion, now, request_id).await {
                Err(AppError::Conflict { .. }) => {
                    let message = "the number is another volunteer's".into();
                    return Ok(Err(AppError::Conflict { field: "volunteerId".into(), message }));
                }
                promoted => promoted?,
            }
            Ok(Ok(()))
        })?
    }

    /// The volunteer (of the reader's scope), their current recorded number's row, and the
    /// number.
    async fn reported_phone(
        &self,
        reader: &VolunteerReader,
        volunteer_id: Uuid,
    ) -> AppResult<(volunteer::Model, volunteer_contact::Model, Phone)> {
        let model = self.volunteers.find_model(volunteer_id).await?;
        if !reader.scope.admits(&model.branch_code) {
            return Err(AppError::Forbidden);
        }
        let reported = current_contact(&self.db, model.id, ContactKind::ReportedPhone)
            .await?
            .ok_or_else(|| AppError::invalid("volunteerId", "has no recorded number to confirm"))?;
        let clear = self
            .keys
            .cipher
            .decrypt(&reported.value, registry::VOLUNTEER_CONTACT_VALUE.at(reported.id))
            .map_err(AppError::internal)?;
        let phone =
            Phone::from_stored(&clear).map_err(|_| AppError::internal(anyhow::anyhow!("stored phone unreadable")))?;
        Ok((model, reported, phone))
    }
}
