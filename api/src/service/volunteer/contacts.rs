//! How a volunteer is reached: their own contacts (phones, e-mail, postal address, WeChat),
//! each with its verified time and a history of ended values, and the backup contacts staff try
//! when the volunteer cannot be reached.
//!
//! A change never overwrites: it ends the current row and starts a new one, so staff tracing a
//! lost volunteer see every number they ever gave, with its end date.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::reconnection_count::ReconnectionPath;
use entity::sign_in_code::CodePurpose;
use entity::volunteer_contact::{self, ContactKind};
use entity::{backup_contact, volunteer};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::availability::local_today;
use super::codes::{CodeRecipient, CodeSent, Codes, secs};
use super::grouped;
use super::reconnect;
use super::records::{Holder, VolunteerService};
use crate::config::VolunteerSettings;
use crate::db;
use crate::domain::calendar;
use crate::domain::contact::{email, short_text, wechat_id};
use crate::domain::{PersonName, Phone, Relationship};
use crate::error::{AppError, AppResult};
use crate::messaging::{Messaging, NewMessage, Recipient};
use crate::pii::KeyRing;
use crate::pii::registry;
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::{OwnRecord, Principal};

/// Fewest backup contacts a volunteer keeps; one is too easily lost along with the volunteer.
pub const MIN_BACKUP_CONTACTS: usize = 2;
/// Most backup contacts: enough for a family, not a phone book.
pub const MAX_BACKUP_CONTACTS: usize = 5;

/// A backup contact to add. Every value is already checked.
#[derive(Clone, Debug)]
pub struct NewBackupContact {
    pub name: PersonName,
    pub relationship: Relationship,
    pub phone: Phone,
}

impl NewBackupContact {
    /// Checks one backup contact's input; `at` prefixes the field names (`backupContacts.1`).
    ///
    /// # Errors
    /// BAD_USER_INPUT naming the field.
    pub fn parse(at: &str, name: &str, relationship: Relationship, phone: &str) -> AppResult<Self> {
        let name =
            PersonName::parse(name).map_err(|reason| AppError::invalid(format!("{at}.name"), reason.to_string()))?;
        let phone =
            Phone::parse(phone).map_err(|reason| AppError::invalid(format!("{at}.phone"), reason.to_string()))?;
        Ok(Self { name, relationship, phone })
    }
}

/// Checks a whole list of backup contacts: how many, and that no number repeats another or the
/// volunteer's own.
///
/// # Errors
/// BAD_USER_INPUT on `field` (the list) or on the repeated entry's phone.
pub fn check_backup_list(field: &str, contacts: &[NewBackupContact], own_phone: Option<&Phone>) -> AppResult<()> {
    if contacts.len() < MIN_BACKUP_CONTACTS || contacts.len() > MAX_BACKUP_CONTACTS {
        return Err(AppError::invalid(
            field,
            format!(
                "give {MIN_BACKUP_CONTACTS} to {MAX_BACKUP_CONTACTS} backup contacts: a relative or friend who can reach you"
            ),
        ));
    }
    for (n, contact) in contacts.iter().enumerate() {
        let repeated = contacts[..n].iter().any(|earlier| earlier.phone == contact.phone);
        if repeated || own_phone == Some(&contact.phone) {
            return Err(AppError::invalid(
                format!("{field}.{n}.phone"),
                "must be another person's number, different from yours and from the other contacts",
            ));
        }
    }
    Ok(())
}

/// Whose record a backup contact is written to, for the message that explains it.
#[derive(Clone, Debug)]
pub(super) struct Owner {
    pub id: Uuid,
    pub branch_code: String,
    pub masked_name: String,
}

/// The sealed row of backup contact `id` of `volunteer_id`.
pub(crate) fn backup_contact_row(
    keys: &KeyRing,
    id: Uuid,
    volunteer_id: Uuid,
    contact: &NewBackupContact,
    informed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> backup_contact::ActiveModel {
    backup_contact::ActiveModel {
        id: Set(id),
        volunteer_id: Set(volunteer_id),
        name: Set(keys.cipher.encrypt(contact.name.expose(), registry::BACKUP_CONTACT_NAME.at(id))),
        relationship: Set(contact.relationship.as_str().to_owned()),
        phone: Set(keys.cipher.encrypt(contact.phone.expose(), registry::BACKUP_CONTACT_PHONE.at(id))),
        phone_index: Set(keys.blind_index.phone(&contact.phone)),
        informed_at: Set(informed_at),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Writes one backup contact and, when the registry tells contacts why they are listed, queues
/// that one message with it.
pub(super) async fn insert_backup_contact<C: ConnectionTrait>(
    conn: &C,
    keys: &KeyRing,
    messaging: &Messaging,
    settings: &VolunteerSettings,
    owner: &Owner,
    contact: NewBackupContact,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let id = Uuid::now_v7();
    backup_contact_row(keys, id, owner.id, &contact, settings.inform_backup_contacts.then_some(now), now)
        .insert(conn)
        .await?;
    if settings.inform_backup_contacts {
        let message = NewMessage {
            recipient: Recipient::Sms(contact.phone),
            volunteer_id: Some(owner.id),
            branch_code: owner.branch_code.clone(),
            template_key: "backup_contact_informed".into(),
            locale: "zh-CN".into(),
            variables: BTreeMap::from([
                ("name".into(), owner.masked_name.clone()),
                ("relationship".into(), contact.relationship.as_zh().into()),
            ]),
            dedupe_key: format!("backup_contact_informed:{id}"),
            campaign_id: None,
        };
        messaging.queue(conn, message).await?;
    }
    Ok(id)
}

/// A contact as shown: masked, with its history dates.
#[derive(Clone, Debug)]
pub struct ContactView {
    pub kind: ContactKind,
    pub value: String,
    pub verified_at: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub invalid_at: Option<DateTime<Utc>>,
}

/// A backup contact as shown: masked.
#[derive(Clone, Debug)]
pub struct BackupContactView {
    pub id: Uuid,
    pub name: String,
    pub relationship: Relationship,
    pub phone: String,
    pub informed_at: Option<DateTime<Utc>>,
}

/// A contact kind the volunteer sets by typing it (phones need a code instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypedContact {
    Email,
    PostalAddress,
    Wechat,
}

/// Longest postal address, in characters.
const MAX_ADDRESS_CHARS: usize = 200;

#[derive(Clone, Debug)]
pub struct ContactService {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    codes: Codes,
    volunteers: VolunteerService,
    messaging: Messaging,
}

impl ContactService {
    pub(crate) fn new(
        db: DatabaseConnection,
        keys: Arc<KeyRing>,
        codes: Codes,
        volunteers: VolunteerService,
        messaging: Messaging,
    ) -> Self {
        Self { db, keys, codes, volunteers, messaging }
    }

    /// The contacts of each volunteer of `ids`, masked: the current ones, and with `history`
    /// the ended ones too (staff tracing a lost volunteer), newest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn contacts_of(&self, ids: &[Uuid], history: bool) -> AppResult<HashMap<Uuid, Vec<ContactView>>> {
        let mut query = volunteer_contact::Entity::find()
            .filter(volunteer_contact::Column::VolunteerId.is_in(ids.iter().copied()))
            .order_by_desc(volunteer_contact::Column::StartedAt);
        if !history {
            query = query.filter(volunteer_contact::Column::EndedAt.is_null());
        }
        let rows = query.all(&self.db).await?;
        grouped(rows, |row| row.volunteer_id, |row| self.contact_view(&row))
    }

    fn contact_view(&self, row: &volunteer_contact::Model) -> AppResult<ContactView> {
        let clear = self
            .keys
            .cipher
            .decrypt(&row.value, registry::VOLUNTEER_CONTACT_VALUE.at(row.id))
            .map_err(AppError::internal)?;
        let value = match row.kind {
            ContactKind::PrimaryPhone | ContactKind::SecondaryPhone | ContactKind::ReportedPhone => {
                Phone::from_stored(&clear)
                    .map_err(|_| AppError::internal(anyhow::anyhow!("stored phone unreadable")))?
                    .masked()
            }
            ContactKind::Email => mask_email(&clear),
            ContactKind::PostalAddress | ContactKind::Wechat => crate::domain::contact::masked_text(&clear),
        };
        Ok(ContactView {
            kind: row.kind,
            value,
            verified_at: row.verified_at,
            started_at: row.started_at,
            ended_at: row.ended_at,
            invalid_at: row.invalid_at,
        })
    }

    /// The volunteer's backup contacts, masked, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn backup_contacts(&self, volunteer_id: Uuid) -> AppResult<Vec<BackupContactView>> {
        Ok(self.backup_contacts_of(&[volunteer_id]).await?.remove(&volunteer_id).unwrap_or_default())
    }

    /// The backup contacts of each volunteer of `ids`, masked, oldest first: one statement for
    /// a whole page of the work queue.
    ///
    /// # Errors
    /// The database failed.
    pub async fn backup_contacts_of(&self, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Vec<BackupContactView>>> {
        let rows = backup_contact::Entity::find()
            .filter(backup_contact::Column::VolunteerId.is_in(ids.iter().copied()))
            .order_by_asc(backup_contact::Column::CreatedAt)
            .all(&self.db)
            .await?;
        let cipher = &self.keys.cipher;
        let unreadable = |_| AppError::internal(anyhow::anyhow!("stored backup contact unreadable"));
        grouped(
            rows,
            |row| row.volunteer_id,
            |row| {
                let name =
                    cipher.decrypt(&row.name, registry::BACKUP_CONTACT_NAME.at(row.id)).map_err(AppError::internal)?;
                let phone = cipher
                    .decrypt(&row.phone, registry::BACKUP_CONTACT_PHONE.at(row.id))
                    .map_err(AppError::internal)?;
                Ok(BackupContactView {
                    id: row.id,
                    name: PersonName::parse(&name).map_err(unreadable)?.masked(),
                    relationship: Relationship::parse(&row.relationship).unwrap_or(Relationship::Other),
                    phone: Phone::from_stored(&phone).map_err(unreadable)?.masked(),
                    informed_at: row.informed_at,
                })
            },
        )
    }

    /// Sends a code to a new number the volunteer wants as their primary or secondary phone.
    ///
    /// # Errors
    /// CONFLICT on `session` without a recent sign-in; BAD_USER_INPUT on `phone`; RATE_LIMITED.
    pub async fn request_phone_change(
        &self,
        me: &OwnRecord,
        phone: &str,
        national_id: Option<&str>,
    ) -> AppResult<CodeSent> {
        let now = Utc::now();
        let model = self.may_change_phone(me, national_id, now).await?;
        let phone = Phone::parse_mainland_mobile(phone).map_err(AppError::field("phone"))?;
        let to = CodeRecipient { phone, volunteer_id: Some(me.id), branch_code: model.branch_code };
        let ttl = Duration::seconds(secs(self.codes.settings().phone_change_ttl_secs));
        self.codes.send(CodePurpose::PhoneChange, to, ttl, now).await
    }

    /// Replaces the volunteer's primary or secondary phone with a number proven by its code.
    /// The old number stays in the history with its end date; the change confirms the record.
    /// With `national_id` (the old SIM is gone), the ID number stands in for the recent sign-in,
    /// and the old number and the backup contacts are told of the change.
    ///
    /// # Errors
    /// CONFLICT on `session` without a recent sign-in (and no `national_id`), or on `phone` when
    /// it is another volunteer's primary phone; BAD_USER_INPUT on `phone`, `code` or
    /// `nationalId`; RATE_LIMITED past the day's tries at the ID number.
    pub async fn change_phone(
        &self,
        me: &OwnRecord,
        kind: ContactKind,
        phone: &str,
        code: &str,
        national_id: Option<&str>,
        request_id: Option<&str>,
    ) -> AppResult<()> {
        let now = Utc::now();
        let model = self.may_change_phone(me, national_id, now).await?;
        let rules = match national_id {
            Some(_) => Some(self.volunteers.branch_rules(&model.branch_code).await?),
            None => None,
        };
        let phone = Phone::parse_mainland_mobile(phone).map_err(AppError::field("phone"))?;
        let phone_index = self.keys.blind_index.phone(&phone);
        db::write!(&self.db, |txn| {
            db::lock_volunteer(txn, me.id).await?;
            if let Err(refused) = self.codes.spend(txn, CodePurpose::PhoneChange, &phone_index, code, now).await? {
                return Ok(Err(refused)); // the wrong try is committed
            }
            if let (Some(rules), ContactKind::PrimaryPhone) = (&rules, kind) {
                let today = local_today(rules, now);
                reconnect::queue_phone_change_notices(txn, &self.keys, &self.messaging, &model, today).await?;
                let path = ReconnectionPath::SelfService;
                reconnect::record_reconnection(txn, &model, path, rules.stale_contact_days, now).await?;
            }
            let replaced =
                self.replace_contact(txn, me.id, kind, phone.expose(), Some(phone_index.clone()), Some(now), now).await;
            if let Err(AppError::Conflict { .. }) = replaced {
                let taken = "cannot be used for this record".into();
                return Ok(Err(AppError::Conflict { field: "phone".into(), message: taken }));
            }
            replaced?;
            let entry = AuditEntry {
                subject: Some(("volunteer", me.id)),
                field: Some(contact_kind_name(kind)),
                request_id,
                ..Default::default()
            };
            audit::record(txn, &Principal::Volunteer { id: me.id }, AuditAction::VolunteerPhoneChange, entry).await?;
            Ok(Ok(()))
        })?
    }

    /// Sets an e-mail address, postal address or WeChat id (unverified until used).
    ///
    /// # Errors
    /// BAD_USER_INPUT on `value`.
    pub async fn set_contact(&self, me: &OwnRecord, kind: TypedContact, value: &str) -> AppResult<()> {
        let (kind, value, index) = match kind {
            TypedContact::Email => {
                let address = email(value).map_err(AppError::field("value"))?;
                let index = self.keys.blind_index.digest("email", &address);
                (ContactKind::Email, address, Some(index))
            }
            TypedContact::PostalAddress => (
                ContactKind::PostalAddress,
                short_text(value, MAX_ADDRESS_CHARS).map_err(AppError::field("value"))?,
                None,
            ),
            TypedContact::Wechat => (ContactKind::Wechat, wechat_id(value).map_err(AppError::field("value"))?, None),
        };
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            db::lock_volunteer(txn, me.id).await?;
            self.replace_contact(txn, me.id, kind, &value, index.clone(), None, now).await
        })
    }

    /// Ends a contact the volunteer no longer has (never the primary phone, which signs them in).
    ///
    /// # Errors
    /// BAD_USER_INPUT on `kind` for the primary phone.
    pub async fn end_contact(&self, me: &OwnRecord, kind: ContactKind) -> AppResult<bool> {
        if kind == ContactKind::PrimaryPhone {
            return Err(AppError::invalid("kind", "the primary phone can be changed, not removed"));
        }
        let ended = volunteer_contact::Entity::update_many()
            .col_expr(volunteer_contact::Column::EndedAt, Expr::value(Utc::now()))
            .filter(volunteer_contact::Column::VolunteerId.eq(me.id))
            .filter(volunteer_contact::Column::Kind.eq(kind))
            .filter(volunteer_contact::Column::EndedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(ended.rows_affected > 0)
    }

    /// Adds a backup contact.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `backupContact` past the maximum, or on its phone when it repeats.
    pub async fn add_backup_contact(&self, me: &OwnRecord, contact: NewBackupContact) -> AppResult<Uuid> {
        let index = self.keys.blind_index.phone(&contact.phone);
        db::write!(&self.db, |txn| {
            // Locked first: a withdrawal racing this call either erased the volunteer already
            // (NOT_FOUND) or waits for this contact, and erases it with the rest.
            db::lock_volunteer(txn, me.id).await?;
            let model = self.volunteers.find_model_on(txn, me.id).await?;
            let existing =
                backup_contact::Entity::find().filter(backup_contact::Column::VolunteerId.eq(me.id)).all(txn).await?;
            if existing.len() >= MAX_BACKUP_CONTACTS {
                let message = format!("at most {MAX_BACKUP_CONTACTS} backup contacts");
                return Err(AppError::invalid("backupContact", message));
            }
            if existing.iter().any(|row| row.phone_index == index) {
                return Err(AppError::invalid("backupContact.phone", "is already one of your backup contacts"));
            }
            let name = self.volunteers.masked_name(&model)?;
            let owner = Owner { id: me.id, branch_code: model.branch_code, masked_name: name };
            let settings = self.volunteers.settings();
            insert_backup_contact(txn, &self.keys, &self.messaging, settings, &owner, contact.clone(), Utc::now()).await
        })
    }

    /// Removes a backup contact, keeping at least the minimum.
    ///
    /// # Errors
    /// NOT_FOUND for another volunteer's contact or an unknown id; BAD_USER_INPUT on `id` when it
    /// would leave fewer than the minimum.
    pub async fn remove_backup_contact(&self, me: &OwnRecord, id: Uuid) -> AppResult<()> {
        db::write!(&self.db, |txn| {
            db::lock_volunteer(txn, me.id).await?;
            let count =
                backup_contact::Entity::find().filter(backup_contact::Column::VolunteerId.eq(me.id)).count(txn).await?;
            let deleted = backup_contact::Entity::delete_many()
                .filter(backup_contact::Column::Id.eq(id))
                .filter(backup_contact::Column::VolunteerId.eq(me.id))
                .exec(txn)
                .await?;
            if deleted.rows_affected == 0 {
                return Err(AppError::NotFound { resource: "backup contact" });
            }
            if usize::try_from(count).unwrap_or(usize::MAX) <= MIN_BACKUP_CONTACTS {
                return Err(AppError::invalid(
                    "id",
                    format!(
                        "keep at least {MIN_BACKUP_CONTACTS} backup contacts; add another before removing this one"
                    ),
                ));
            }
            Ok(())
        })
    }

    /// Ends the current contact of `kind` and starts `value` in its place, and refreshes the
    /// volunteer's confirmation: a changed contact is a confirmed one.
    #[allow(clippy::too_many_arguments)] // one row's worth of columns
    pub(super) async fn replace_contact<C: ConnectionTrait>(
        &self,
        conn: &C,
        volunteer_id: Uuid,
        kind: ContactKind,
        value: &str,
        value_index: Option<Vec<u8>>,
        verified_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        volunteer_contact::Entity::update_many()
            .col_expr(volunteer_contact::Column::EndedAt, Expr::value(now))
            .filter(volunteer_contact::Column::VolunteerId.eq(volunteer_id))
            .filter(volunteer_contact::Column::Kind.eq(kind))
            .filter(volunteer_contact::Column::EndedAt.is_null())
            .exec(conn)
            .await?;
        let id = Uuid::now_v7();
        volunteer_contact::ActiveModel {
            id: Set(id),
            volunteer_id: Set(volunteer_id),
            kind: Set(kind),
            value: Set(self.keys.cipher.encrypt(value, registry::VOLUNTEER_CONTACT_VALUE.at(id))),
            value_index: Set(value_index),
            verified_at: Set(verified_at),
            started_at: Set(now),
            ended_at: Set(None),
            invalid_at: Set(None),
        }
        .insert(conn)
        .await
        .map_err(|err| {
            AppError::on_constraint(
                err,
                Some(AppError::Conflict { field: "value".into(), message: "is taken".into() }),
                None,
            )
        })?;
        volunteer::Entity::update_many()
            .col_expr(volunteer::Column::LastConfirmedAt, Expr::value(now))
            .col_expr(volunteer::Column::UpdatedAt, Expr::value(now))
            .filter(volunteer::Column::Id.eq(volunteer_id))
            .exec(conn)
            .await?;
        Ok(())
    }

    /// The record, if its holder signed in with a code recently enough to change a phone: a
    /// stolen, long-lived session must not be able to take over the number that signs in.
    /// Makes a number staff recorded (`REPORTED_PHONE`) the sign-in number of its volunteer,
    /// on `txn`, when someone signs in with it by code: the code proves the number, as one read
    /// back to staff would. Returns the volunteer, or `None` when no volunteer has the number
    /// recorded.
    ///
    /// # Errors
    /// The database failed, or a stored value is unreadable.
    pub(super) async fn promote_reported_phone(
        &self,
        txn: &DatabaseTransaction,
        phone: &Phone,
        phone_index: &[u8],
        now: DateTime<Utc>,
        request_id: Option<&str>,
    ) -> AppResult<Option<Holder>> {
        let reported = volunteer_contact::Entity::find()
            .filter(volunteer_contact::Column::ValueIndex.eq(phone_index.to_vec()))
            .filter(volunteer_contact::Column::Kind.eq(ContactKind::ReportedPhone))
            .filter(volunteer_contact::Column::EndedAt.is_null())
            .one(txn)
            .await?;
        let Some(reported) = reported else { return Ok(None) };
        db::lock_volunteer(txn, reported.volunteer_id).await?;
        let Some(model) = volunteer::Entity::find_by_id(reported.volunteer_id).one(txn).await? else { return Ok(None) };
        let promotion = Promotion {
            reported_id: reported.id,
            phone,
            phone_index,
            today: calendar::today(now),
            actor: &Principal::Volunteer { id: model.id },
            detail: "the recorded number, confirmed by signing in with it",
        };
        self.promote(txn, &model, &promotion, now, request_id).await?;
        self.volunteers.by_primary_phone(txn, phone_index).await
    }

    /// Makes a recorded number the volunteer's primary phone, on `txn`, once a code to it was
    /// read back or used to sign in: the old number and the backup contacts are told, the old
    /// primary goes to history, the recorded row ends, and the change is audited.
    ///
    /// # Errors
    /// CONFLICT from [`Self::replace_contact`] when the number is another volunteer's primary;
    /// the database failed.
    pub(super) async fn promote(
        &self,
        txn: &DatabaseTransaction,
        model: &volunteer::Model,
        promotion: &Promotion<'_>,
        now: DateTime<Utc>,
        request_id: Option<&str>,
    ) -> AppResult<()> {
        reconnect::queue_phone_change_notices(txn, &self.keys, &self.messaging, model, promotion.today).await?;
        let index = Some(promotion.phone_index.to_vec());
        let primary = ContactKind::PrimaryPhone;
        self.replace_contact(txn, model.id, primary, promotion.phone.expose(), index, Some(now), now).await?;
        volunteer_contact::Entity::update_many()
            .col_expr(volunteer_contact::Column::EndedAt, Expr::value(now))
            .filter(volunteer_contact::Column::Id.eq(promotion.reported_id))
            .exec(txn)
            .await?;
        let entry = AuditEntry {
            subject: Some(("volunteer", model.id)),
            field: Some("primary_phone"),
            detail: Some(promotion.detail.to_owned()),
            request_id,
            ..Default::default()
        };
        audit::record(txn, promotion.actor, AuditAction::VolunteerPhoneChange, entry).await
    }

    /// What lets a volunteer change phone: a recent sign-in by code, or, when the old SIM is
    /// gone, their full ID number.
    async fn may_change_phone(
        &self,
        me: &OwnRecord,
        national_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> AppResult<volunteer::Model> {
        let Some(national_id) = national_id else { return self.recently_signed_in(me, now).await };
        let model = self.volunteers.find_model(me.id).await?;
        reconnect::prove_identity(&self.db, &self.keys, &model, national_id, now).await?;
        Ok(model)
    }

    async fn recently_signed_in(&self, me: &OwnRecord, now: DateTime<Utc>) -> AppResult<volunteer::Model> {
        let model = self.volunteers.find_model(me.id).await?;
        let recent = Duration::seconds(secs(self.codes.settings().recent_sign_in_secs));
        if model.last_sign_in_at.is_none_or(|at| at + recent < now) {
            return Err(AppError::Conflict {
                field: "session".into(),
                message: "sign in again with a code to your current phone, then change it".into(),
            });
        }
        Ok(model)
    }
}

/// A recorded number about to become the sign-in number ([`ContactService::promote`]).
#[derive(Debug)]
pub(super) struct Promotion<'a> {
    /// The `REPORTED_PHONE` row.
    pub reported_id: Uuid,
    pub phone: &'a Phone,
    pub phone_index: &'a [u8],
    /// The day the notices name.
    pub today: NaiveDate,
    /// Who confirmed it: the volunteer signing in, or the staff member the code was read to.
    pub actor: &'a Principal,
    /// How it was confirmed, for the audit trail.
    pub detail: &'static str,
}

/// The stored name of a contact kind, for the audit trail.
#[must_use]
pub const fn contact_kind_name(kind: ContactKind) -> &'static str {
    match kind {
        ContactKind::PrimaryPhone => "primary_phone",
        ContactKind::SecondaryPhone => "secondary_phone",
        ContactKind::Email => "email",
        ContactKind::PostalAddress => "postal_address",
        ContactKind::Wechat => "wechat",
        ContactKind::ReportedPhone => "reported_phone",
    }
}

/// `l*****@example.cn`: the domain says which mailbox, the local part stays hidden.
fn mask_email(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{}@{domain}", crate::domain::contact::masked_text(local)),
        None => crate::domain::contact::masked_text(address),
    }
}
