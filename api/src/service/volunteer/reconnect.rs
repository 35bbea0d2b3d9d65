//! Reconnecting a volunteer whose phone number changed without the old phone taking part.
//!
//! Two paths so far:
//! - a signed-in volunteer whose old SIM is gone proves the record is theirs with their full ID
//!   number in place of a fresh sign-in by code to the old phone, and proves the new number with
//!   a code to it ([`prove_identity`], used by the contact service);
//! - a volunteer with a new phone and no session reclaims their record ([`RecoveryService`]);
//! - staff record a number learned from the volunteer or someone else, unverified until a code
//!   to it is read back ([`RecoveryService::record_phone`]).
//!
//! Because the old phone took no part in either, the change is announced to the old number and
//! to every backup contact: if the record was taken over, someone who can call the branch hears
//! of it.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::reconnection_count::{self, ReconnectionPath};
use entity::sign_in_code::CodePurpose;
use entity::volunteer::{DonorStatus, StatusReason};
use entity::volunteer_contact::{self, ContactKind};
use entity::{backup_contact, enrolment_ticket, lost_contact_entry, record_recovery, staff_alert, volunteer};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::attempts::{ContactAttemptService, NewAttempt};
use super::availability::{local_today, returning_status};
use super::codes::{CodeRecipient, CodeSent, Codes, secs};
use super::contacts::ContactService;
use super::enrolment;
use super::records::{VolunteerService, name_index};
use super::status::{Change as StatusChange, StatusLog};
use crate::db;
use crate::digest::hex;
use crate::domain::calendar::month_of;
use crate::domain::contact::short_text;
use crate::domain::{AttemptChannel, AttemptOutcome, NationalId, PersonName, Phone, Relationship};
use crate::error::{AppError, AppResult};
use crate::messaging::{Messaging, NewMessage, Recipient};
use crate::pii::KeyRing;
use crate::pii::registry;
use crate::service::alerts::{self, AlertKind};
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::rate_limit::{self, Limit};
use crate::service::sessions::{Session, SessionService};
use crate::service::{ClientAddress, Principal, VolunteerReader};

/// Tries at the ID number per record per day. A volunteer needs two (the code, then the
/// change); the rest leave room for typos, and not for guessing.
const ID_PROOF_TRIES: u32 = 6;

/// Checks that `given` is the record's ID number, counting the try against the record's limit
/// first, so that a session left open on a borrowed phone cannot be used to guess.
///
/// # Errors
/// BAD_USER_INPUT on `nationalId` when malformed or not the record's; RATE_LIMITED past the
/// tries of the day.
pub(super) async fn prove_identity(
    db: &sea_orm::DatabaseConnection,
    keys: &KeyRing,
    model: &volunteer::Model,
    given: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let given = NationalId::parse(given).map_err(AppError::field("nationalId"))?;
    let limit = Limit { max: ID_PROOF_TRIES, window: Duration::hours(24) };
    rate_limit::hit(db, &format!("id_proof:volunteer:{}", model.id), limit, now).await?;
    if keys.blind_index.national_id(&given) != model.national_id_index {
        return Err(AppError::invalid("nationalId", "does not match this record"));
    }
    Ok(())
}

/// Queues, on `conn` (the change's transaction), the notices that the phone changed on `today`:
/// to the primary phone being replaced, and to each backup contact. Returns how many.
///
/// # Errors
/// The database failed, or a stored value is unreadable.
pub(super) async fn queue_phone_change_notices<C: ConnectionTrait>(
    conn: &C,
    keys: &KeyRing,
    messaging: &Messaging,
    model: &volunteer::Model,
    today: NaiveDate,
) -> AppResult<u64> {
    let open = |sealed: &[u8], binding| keys.cipher.decrypt(sealed, binding).map_err(AppError::internal);
    let name = PersonName::parse(&open(&model.name, registry::VOLUNTEER_NAME.at(model.id))?)
        .map_err(|_| AppError::internal(anyhow::anyhow!("stored name unreadable")))?;
    let old_primary = volunteer_contact::Entity::find()
        .filter(volunteer_contact::Column::VolunteerId.eq(model.id))
        .filter(volunteer_contact::Column::Kind.eq(ContactKind::PrimaryPhone))
        .filter(volunteer_contact::Column::EndedAt.is_null())
        .filter(volunteer_contact::Column::InvalidAt.is_null())
        .one(conn)
        .await?;
    let backups =
        backup_contact::Entity::find().filter(backup_contact::Column::VolunteerId.eq(model.id)).all(conn).await?;

    let date = today.to_string();
    let change = uuid::Uuid::now_v7();
    let notice = |phone: Phone, template: &str, to: String, with_name: bool| {
        let mut variables = std::collections::BTreeMap::from([("date".to_owned(), date.clone())]);
        if with_name {
            variables.insert("name".to_owned(), name.masked());
        }
        NewMessage {
            recipient: Recipient::Sms(phone),
            volunteer_id: Some(model.id),
            branch_code: model.branch_code.clone(),
            template_key: template.to_owned(),
            locale: "zh-CN".to_owned(),
            variables,
            dedupe_key: format!("phone_changed:{}:{change}:{to}", model.id),
            campaign_id: None,
        }
    };
    let mut notices = Vec::new();
    if let Some(old) = old_primary {
        let phone = Phone::from_stored(&open(&old.value, registry::VOLUNTEER_CONTACT_VALUE.at(old.id))?)
            .map_err(|_| AppError::internal(anyhow::anyhow!("stored phone unreadable")))?;
        notices.push(notice(phone, "phone_changed_old", old.id.to_string(), false));
    }
    for backup in backups {
        let phone = Phone::from_stored(&open(&backup.phone, registry::BACKUP_CONTACT_PHONE.at(backup.id))?)
            .map_err(|_| AppError::internal(anyhow::anyhow!("stored phone unreadable")))?;
        notices.push(notice(phone, "phone_changed_backup", backup.id.to_string(), true));
    }
    let mut queued = 0;
    for message in notices {
        messaging.queue(conn, message).await?;
        queued += 1;
    }
    Ok(queued)
}

/// How long a recovery stays open after the name and ID number matched.
const RECOVERY_MINUTES: i64 = 30;
/// How long a recovery code is valid.
const RECOVERY_CODE_MINUTES: i64 = 10;
/// Recovery tries per new phone per hour, and per ID number per day: enough for a typo, not
/// for a search.
const TRIES_PER_PHONE: u32 = 5;
const TRIES_PER_RECORD: u32 = 5;

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

/// Where a recovery code can go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DestinationKind {
    /// The primary phone on the record, if it still works.
    OldPhone,
    /// A backup contact, who reads the code to the volunteer.
    BackupContact,
}

/// One place a recovery code can go, masked: the volunteer recognises it, a stranger learns
/// nothing they could use.
#[derive(Clone, Debug)]
pub struct RecoveryDestination {
    pub id: Uuid,
    pub kind: DestinationKind,
    /// The backup contact's relationship to the volunteer.
    pub relationship: Option<Relationship>,
    pub phone: String,
}

/// A recovery opened by a match of name and ID number.
#[derive(Clone, Debug)]
pub struct RecoveryOffer {
    pub id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub destinations: Vec<RecoveryDestination>,
}

/// Self-service recovery: a volunteer with a new phone reclaims their record.
///
/// 1. [`Self::start`]: the new phone is proven by its sign-in (the enrolment ticket it earned);
///    name and ID number must match a record. A mismatch and an unregistered ID number get the
///    same answer, so recovery tells no more than enrolment already does.
/// 2. [`Self::send_code`]: a code to the old phone or to a backup contact, chosen from the
///    masked list.
/// 3. [`Self::complete`]: the code read back makes the new phone primary, returns a TU/UC
///    volunteer to AV (or PENDING), takes them off the lost-contact queue, tells the old number
///    and the backup contacts, and signs them in.
#[derive(Clone, Debug)]
pub struct RecoveryService {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    codes: Codes,
    sessions: SessionService,
    volunteers: VolunteerService,
    contacts: ContactService,
    messaging: Messaging,
    status: StatusLog,
    attempts: ContactAttemptService,
}

impl RecoveryService {
    #[allow(clippy::too_many_arguments)] // the services a recovery touches, wired once
    pub(crate) fn new(
        db: DatabaseConnection,
        keys: Arc<KeyRing>,
        codes: Codes,
        sessions: SessionService,
        volunteers: VolunteerService,
        contacts: ContactService,
        messaging: Messaging,
    ) -> Self {
        let status = StatusLog::new(Arc::clone(&keys));
        let attempts = ContactAttemptService::new(db.clone(), Arc::clone(&keys), volunteers.clone());
        Self { db, keys, codes, sessions, volunteers, contacts, messaging, status, attempts }
    }

    /// Opens a recovery for the record with this name and ID number, from the phone the
    /// enrolment ticket proved. Every try is audited and counted per phone, per address and per
    /// ID number.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `phone`, `name` or `nationalId` when malformed, on `enrolmentTicket`
    /// when it does not prove this phone, and on `nationalId` when no record has this name and
    /// ID number (the same answer whether the ID number is registered or not); RATE_LIMITED.
    pub async fn start(
        &self,
        ticket: &str,
        phone: &str,
        name: &str,
        national_id: &str,
        client: ClientAddress,
        request_id: Option<&str>,
    ) -> AppResult<RecoveryOffer> {
        let phone = Phone::parse_mainland_mobile(phone).map_err(AppError::field("phone"))?;
        let name = PersonName::parse(name).map_err(AppError::field("name"))?;
        let national_id = NationalId::parse(national_id).map_err(AppError::field("nationalId"))?;
        let now = Utc::now();
        let (phone_index, id_index) =
            (self.keys.blind_index.phone(&phone), self.keys.blind_index.national_id(&national_id));
        // The ticket is not spent: it lapses on its own, and a recovery that expired can be
        // opened again without a new sign-in (within the limits below).
        let ticket_hash = self.keys.blind_index.digest("enrolment_ticket", ticket);
        let ticket_holds = enrolment_ticket::Entity::find()
            .filter(enrolment_ticket::Column::TicketHash.eq(ticket_hash))
            .filter(enrolment_ticket::Column::PhoneIndex.eq(phone_index.clone()))
            .filter(enrolment_ticket::Column::UsedAt.is_null())
            .filter(enrolment_ticket::Column::ExpiresAt.gt(now))
            .count(&self.db)
            .await?;
        if ticket_holds == 0 {
            return Err(AppError::invalid("enrolmentTicket", "is not valid for this phone; sign in with a new code"));
        }
        let address = self.keys.blind_index.digest("client_address", &client.limited_part());
        let per_address = Limit { max: self.codes.settings().per_address_per_hour, window: Duration::hours(1) };
        rate_limit::hit(&self.db, &format!("recovery:address:{}", hex(&address)), per_address, now).await?;
        let per_phone = Limit { max: TRIES_PER_PHONE, window: Duration::hours(1) };
        rate_limit::hit(&self.db, &format!("recovery:phone:{}", hex(&phone_index)), per_phone, now).await?;
        let per_record = Limit { max: TRIES_PER_RECORD, window: Duration::days(1) };
        rate_limit::hit(&self.db, &format!("recovery:record:{}", hex(&id_index)), per_record, now).await?;

        let holder = volunteer::Entity::find()
            .filter(volunteer::Column::NationalIdIndex.eq(id_index))
            .one(&self.db)
            .await?
            .filter(|holder| holder.name_index == name_index(&self.keys, &name));
        let offer = db::write!(&self.db, |txn| {
            let detail = if holder.is_some() { "matched" } else { "no match" };
            let entry = AuditEntry {
                subject: holder.as_ref().map(|holder| ("volunteer", holder.id)),
                detail: Some(detail.to_owned()),
                request_id,
                ..Default::default()
            };
            audit::record(txn, &Principal::Anonymous, AuditAction::VolunteerRecoveryTry, entry).await?;
            let Some(holder) = &holder else { return Ok(None) };
            let id = Uuid::now_v7();
            let expires_at = now + Duration::minutes(RECOVERY_MINUTES);
            record_recovery::ActiveModel {
                id: Set(id),
                volunteer_id: Set(holder.id),
                new_phone: Set(self.keys.cipher.encrypt(phone.expose(), registry::RECORD_RECOVERY_NEW_PHONE.at(id))),
                new_phone_index: Set(phone_index.clone()),
                destination_id: Set(None),
                destination_phone_index: Set(None),
                created_at: Set(now),
                expires_at: Set(expires_at),
                completed_at: Set(None),
            }
            .insert(txn)
            .await?;
            let destinations = self.destinations(txn, holder.id).await?;
            Ok(Some(RecoveryOffer {
                id,
                expires_at,
                destinations: destinations.into_iter().map(|(destination, _)| destination).collect(),
            }))
        })?;
        offer.ok_or_else(|| AppError::invalid("nationalId", "no record has this name and ID number"))
    }

    /// Sends a code to one of the offer's destinations.
    ///
    /// # Errors
    /// NOT_FOUND for a recovery that is unknown, expired or completed; BAD_USER_INPUT on
    /// `destinationId` for a place not offered; RATE_LIMITED as any code.
    pub async fn send_code(&self, recovery_id: Uuid, destination_id: Uuid) -> AppResult<CodeSent> {
        let now = Utc::now();
        let recovery = self.open_recovery(recovery_id, now).await?;
        let holder = self.volunteers.find_model(recovery.volunteer_id).await?;
        let (_, phone) = self
            .destinations(&self.db, holder.id)
            .await?
            .into_iter()
            .find(|(destination, _)| destination.id == destination_id)
            .ok_or_else(|| AppError::invalid("destinationId", "is not one of this recovery's destinations"))?;
        record_recovery::Entity::update_many()
            .col_expr(record_recovery::Column::DestinationId, Expr::value(destination_id))
            .col_expr(record_recovery::Column::DestinationPhoneIndex, Expr::value(self.keys.blind_index.phone(&phone)))
            .filter(record_recovery::Column::Id.eq(recovery.id))
            .exec(&self.db)
            .await?;
        let to = CodeRecipient { phone, volunteer_id: Some(holder.id), branch_code: holder.branch_code };
        self.codes.send(CodePurpose::Recovery, to, Duration::minutes(RECOVERY_CODE_MINUTES), now).await
    }

    /// Completes a recovery with the code read back, and signs the volunteer in.
    ///
    /// # Errors
    /// NOT_FOUND for a recovery that is unknown, expired or completed; BAD_USER_INPUT on `code`
    /// (wrong, or none sent yet); CONFLICT on `phone` if the new phone became another
    /// volunteer's meanwhile.
    pub async fn complete(&self, recovery_id: Uuid, code: &str, request_id: Option<&str>) -> AppResult<Session> {
        let now = Utc::now();
        let recovery = self.open_recovery(recovery_id, now).await?;
        let Some(destination_index) = recovery.destination_phone_index.clone() else {
            return Err(AppError::invalid("code", "ask for a code first"));
        };
        let holder = self.volunteers.find_model(recovery.volunteer_id).await?;
        let rules = self.volunteers.branch_rules(&holder.branch_code).await?;
        let today = local_today(&rules, now);
        let through_backup = backup_contact::Entity::find()
            .filter(backup_contact::Column::Id.eq(recovery.destination_id))
            .count(&self.db)
            .await?
            > 0;
        let path = if through_backup { ReconnectionPath::BackupContact } else { ReconnectionPath::SelfService };
        let new_phone = self
            .keys
            .cipher
            .decrypt(&recovery.new_phone, registry::RECORD_RECOVERY_NEW_PHONE.at(recovery.id))
            .map_err(AppError::internal)?;
        db::write!(&self.db, |txn| {
            db::lock_volunteer(txn, holder.id).await?;
            if let Err(refused) = self.codes.spend(txn, CodePurpose::Recovery, &destination_index, code, now).await? {
                return Ok(Err(refused)); // the wrong try is committed
            }
            let completed = record_recovery::Entity::update_many()
                .col_expr(record_recovery::Column::CompletedAt, Expr::value(now))
                .filter(record_recovery::Column::Id.eq(recovery.id))
                .filter(record_recovery::Column::CompletedAt.is_null())
                .exec(txn)
                .await?;
            if completed.rows_affected != 1 {
                return Ok(Err(AppError::NotFound { resource: "recovery" }));
            }
            queue_phone_change_notices(txn, &self.keys, &self.messaging, &holder, today).await?;
            count_reconnection(txn, &holder, path, rules.stale_contact_days, now).await?;
            let replaced = self
                .contacts
                .replace_contact(
                    txn,
                    holder.id,
                    ContactKind::PrimaryPhone,
                    &new_phone,
                    Some(recovery.new_phone_index.clone()),
                    Some(now),
                    now,
                )
                .await;
            if let Err(AppError::Conflict { .. }) = replaced {
                return Ok(Err(AppError::Conflict {
                    field: "phone".into(),
                    message: "cannot be used for this record".into(),
                }));
            }
            replaced?;
            let principal = Principal::Volunteer { id: holder.id };
            if holder.status == DonorStatus::TemporarilyUnavailable
                && holder.status_reason == Some(StatusReason::UnableToContact)
            {
                let back = StatusChange {
                    status: returning_status(&holder),
                    reason: None,
                    until: None,
                    confirms: true,
                    by: Some(&principal),
                    source: "volunteer.recovery",
                    note: None,
                };
                self.status.change(txn, &[holder.id], &back, now).await?;
            }
            lost_contact_entry::Entity::delete_many()
                .filter(lost_contact_entry::Column::VolunteerId.eq(holder.id))
                .exec(txn)
                .await?;
            enrolment::volunteer_signed_in(txn, holder.id, now).await?;
            let session = self.sessions.open(txn, &principal, holder.credential_version, Uuid::now_v7()).await?;
            let entry = AuditEntry { subject: Some(("volunteer", holder.id)), request_id, ..Default::default() };
            audit::record(txn, &principal, AuditAction::VolunteerRecovered, entry).await?;
            Ok(Ok(session))
        })?
    }

    /// Asks the branch to call the volunteer back instead of sending a code: the new phone is
    /// recorded on the record as unverified (`REPORTED_PHONE`, which coordinators may unmask to
    /// call), and the branch's coordinators get a `recovery_call_back` alert. The staff member
    /// who calls confirms who answers before confirming the number by code. Asking again
    /// raises no second alert.
    ///
    /// # Errors
    /// NOT_FOUND for a recovery that is unknown, expired or completed.
    pub async fn request_call_back(&self, recovery_id: Uuid, request_id: Option<&str>) -> AppResult<()> {
        let now = Utc::now();
        let recovery = self.open_recovery(recovery_id, now).await?;
        let holder = self.volunteers.find_model(recovery.volunteer_id).await?;
        let new_phone = self
            .keys
            .cipher
            .decrypt(&recovery.new_phone, registry::RECORD_RECOVERY_NEW_PHONE.at(recovery.id))
            .map_err(AppError::internal)?;
        db::write!(&self.db, |txn| {
            db::lock_volunteer(txn, holder.id).await?;
            let asked = staff_alert::Entity::find()
                .filter(staff_alert::Column::VolunteerId.eq(holder.id))
                .filter(staff_alert::Column::Kind.eq(AlertKind::RecoveryCallBack.as_str()))
                .filter(staff_alert::Column::ResolvedAt.is_null())
                .count(txn)
                .await?;
            if asked > 0 {
                return Ok(());
            }
            let reported = ContactKind::ReportedPhone;
            let index = Some(recovery.new_phone_index.clone());
            self.contacts.replace_contact(txn, holder.id, reported, &new_phone, index, None, now).await?;
            alerts::raise(txn, &holder.branch_code, Some(holder.id), AlertKind::RecoveryCallBack).await?;
            let entry = AuditEntry { subject: Some(("volunteer", holder.id)), request_id, ..Default::default() };
            audit::record(txn, &Principal::Anonymous, AuditAction::VolunteerRecoveryCallBack, entry).await
        })
    }

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
            };
            self.attempts
                .record_in(txn, actor, &model, Uuid::now_v7(), &attempt, note.as_deref(), now, request_id)
                .await?;
            count_reconnection(txn, &model, ReconnectionPath::Staff, rules.stale_contact_days, now).await?;
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
            queue_phone_change_notices(txn, &self.keys, &self.messaging, &model, today).await?;
            let primary = ContactKind::PrimaryPhone;
            let replaced = self
                .contacts
                .replace_contact(txn, model.id, primary, phone.expose(), Some(index.clone()), Some(now), now)
                .await;
            if let Err(AppError::Conflict { .. }) = replaced {
                return Ok(Err(AppError::Conflict {
                    field: "volunteerId".into(),
                    message: "the number is another volunteer's".into(),
                }));
            }
            replaced?;
            volunteer_contact::Entity::update_many()
                .col_expr(volunteer_contact::Column::EndedAt, Expr::value(now))
                .filter(volunteer_contact::Column::Id.eq(reported.id))
                .exec(txn)
                .await?;
            let entry = AuditEntry {
                subject: Some(("volunteer", model.id)),
                field: Some("primary_phone"),
                detail: Some("confirmed by code read back to staff".to_owned()),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::VolunteerPhoneChange, entry).await?;
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
        let reported = volunteer_contact::Entity::find()
            .filter(volunteer_contact::Column::VolunteerId.eq(model.id))
            .filter(volunteer_contact::Column::Kind.eq(ContactKind::ReportedPhone))
            .filter(volunteer_contact::Column::EndedAt.is_null())
            .one(&self.db)
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

    async fn open_recovery(&self, id: Uuid, now: DateTime<Utc>) -> AppResult<record_recovery::Model> {
        record_recovery::Entity::find_by_id(id)
            .filter(record_recovery::Column::CompletedAt.is_null())
            .filter(record_recovery::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "recovery" })
    }

    /// Where a code can go: the current primary phone, then each backup contact; masked, with
    /// the phone in clear for sending.
    async fn destinations<C: ConnectionTrait>(
        &self,
        conn: &C,
        volunteer_id: Uuid,
    ) -> AppResult<Vec<(RecoveryDestination, Phone)>> {
        let open = |sealed: &[u8], binding| self.keys.cipher.decrypt(sealed, binding).map_err(AppError::internal);
        let stored = |clear: String| {
            Phone::from_stored(&clear).map_err(|_| AppError::internal(anyhow::anyhow!("stored phone unreadable")))
        };
        let mut destinations = Vec::new();
        let primary = volunteer_contact::Entity::find()
            .filter(volunteer_contact::Column::VolunteerId.eq(volunteer_id))
            .filter(volunteer_contact::Column::Kind.eq(ContactKind::PrimaryPhone))
            .filter(volunteer_contact::Column::EndedAt.is_null())
            .filter(volunteer_contact::Column::InvalidAt.is_null())
            .one(conn)
            .await?;
        if let Some(primary) = primary {
            let phone = stored(open(&primary.value, registry::VOLUNTEER_CONTACT_VALUE.at(primary.id))?)?;
            let destination = RecoveryDestination {
                id: primary.id,
                kind: DestinationKind::OldPhone,
                relationship: None,
                phone: phone.masked(),
            };
            destinations.push((destination, phone));
        }
        let backups = backup_contact::Entity::find()
            .filter(backup_contact::Column::VolunteerId.eq(volunteer_id))
            .order_by_asc(backup_contact::Column::CreatedAt)
            .all(conn)
            .await?;
        for backup in backups {
            let phone = stored(open(&backup.phone, registry::BACKUP_CONTACT_PHONE.at(backup.id))?)?;
            let destination = RecoveryDestination {
                id: backup.id,
                kind: DestinationKind::BackupContact,
                relationship: Some(Relationship::parse(&backup.relationship).unwrap_or(Relationship::Other)),
                phone: phone.masked(),
            };
            destinations.push((destination, phone));
        }
        Ok(destinations)
    }
}

/// Counts a reconnection, on `conn` (the transaction that reconnects), when the volunteer was
/// lost (TU/UC) or their contact stale (not confirmed within the branch's `stale_days`): the
/// retention programme's outcome, per branch, month and path. Returns whether it counted.
///
/// # Errors
/// The database failed.
pub(super) async fn count_reconnection<C: ConnectionTrait>(
    conn: &C,
    model: &volunteer::Model,
    path: ReconnectionPath,
    stale_days: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let lost = model.status == DonorStatus::TemporarilyUnavailable
        && model.status_reason == Some(StatusReason::UnableToContact);
    let stale = model.last_confirmed_at < now - Duration::days(stale_days);
    if !(lost || stale) {
        return Ok(false);
    }
    reconnection_count::Entity::insert(reconnection_count::ActiveModel {
        branch_code: Set(model.branch_code.clone()),
        month: Set(month_of(now)),
        path: Set(path),
        reconnected: Set(1),
    })
    .on_conflict(
        OnConflict::columns([
            reconnection_count::Column::BranchCode,
            reconnection_count::Column::Month,
            reconnection_count::Column::Path,
        ])
        .value(
            reconnection_count::Column::Reconnected,
            Expr::col((reconnection_count::Entity, reconnection_count::Column::Reconnected)).add(1),
        )
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(true)
}
