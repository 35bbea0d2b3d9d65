//! Self-service recovery of a record from a new phone.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use entity::reconnection_count::ReconnectionPath;
use entity::sign_in_code::CodePurpose;
use entity::volunteer::{DonorStatus, StatusReason};
use entity::volunteer_contact::ContactKind;
use entity::{backup_contact, enrolment_ticket, lost_contact_entry, record_recovery, staff_alert, volunteer};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::db;
use crate::digest::hex;
use crate::domain::{NationalId, PersonName, Phone, Relationship};
use crate::error::{AppError, AppResult};
use crate::messaging::Messaging;
use crate::pii::KeyRing;
use crate::pii::registry;
use crate::service::alerts::{self, AlertKind};
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::rate_limit::{self, Limit};
use crate::service::sessions::{Session, SessionService};
use crate::service::volunteer::attempts::ContactAttemptService;
use crate::service::volunteer::availability::{local_today, returning_status};
use crate::service::volunteer::codes::{CodeRecipient, CodeSent, Codes};
use crate::service::volunteer::contacts::ContactService;
use crate::service::volunteer::enrolment;
use crate::service::volunteer::records::{VolunteerService, name_index};
use crate::service::volunteer::status::{Change as StatusChange, StatusLog};
use crate::service::{ClientAddress, Principal};

use super::{queue_phone_change_notices, record_reconnection, working_primary};

/// How long a recovery stays open after the name and ID number matched.
const RECOVERY_MINUTES: i64 = 30;
/// How long a recovery code is valid.
const RECOVERY_CODE_MINUTES: i64 = 10;
/// Recovery tries per new phone per hour, and per ID number per day: enough for a typo, not
/// for a search.
const TRIES_PER_PHONE: u32 = 5;
const TRIES_PER_RECORD: u32 = 5;

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
    pub(super) db: DatabaseConnection,
    pub(super) keys: Arc<KeyRing>,
    pub(super) codes: Codes,
    pub(super) sessions: SessionService,
    pub(super) volunteers: VolunteerService,
    pub(super) contacts: ContactService,
    pub(super) messaging: Messaging,
    pub(super) status: StatusLog,
    pub(super) attempts: ContactAttemptService,
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
        let per_address = Limit { max: self.codes.settings().per_address_per_hour, window: Duration::hours(1) };
        rate_limit::hit(&self.db, &client.rate_key(&self.keys.blind_index, "recovery"), per_address, now).await?;
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
        let phone_index = self.keys.blind_index.phone(&phone);
        let to = CodeRecipient { phone, volunteer_id: Some(holder.id), branch_code: holder.branch_code };
        let sent = self.codes.send(CodePurpose::Recovery, to, Duration::minutes(RECOVERY_CODE_MINUTES), now).await?;
        // Only once a code went out: a refused send (too soon, too many) leaves the code sent
        // before, to the destination chosen before, still the one that completes the recovery.
        record_recovery::Entity::update_many()
            .col_expr(record_recovery::Column::DestinationId, Expr::value(destination_id))
            .col_expr(record_recovery::Column::DestinationPhoneIndex, Expr::value(phone_index))
            .filter(record_recovery::Column::Id.eq(recovery.id))
            .exec(&self.db)
            .await?;
        Ok(sent)
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
        let new_phone = self.new_phone(&recovery)?;
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
            record_reconnection(txn, &holder, path, rules.stale_contact_days, now).await?;
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
        let new_phone = self.new_phone(&recovery)?;
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

    /// The new phone a recovery came from, in clear (E.164).
    fn new_phone(&self, recovery: &record_recovery::Model) -> AppResult<String> {
        self.keys
            .cipher
            .decrypt(&recovery.new_phone, registry::RECORD_RECOVERY_NEW_PHONE.at(recovery.id))
            .map_err(AppError::internal)
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
        if let Some(primary) = working_primary(conn, volunteer_id).await? {
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
