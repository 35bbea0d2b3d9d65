//! Reconnecting a volunteer whose phone number changed without the old phone taking part.
//!
//! Three paths:
//! - a signed-in volunteer whose old SIM is gone proves the record is theirs with their full ID
//!   number in place of a fresh sign-in by code to the old phone, and proves the new number with
//!   a code to it ([`prove_identity`], used by the contact service);
//! - a volunteer with a new phone and no session reclaims their record ([`RecoveryService`],
//!   in `recovery`);
//! - staff record a number learned from the volunteer or someone else, unverified until a code
//!   to it is read back (in `reported`).
//!
//! Because the old phone takes no part in any of them, the change is announced to the old
//! number and to every backup contact: if the record was taken over, someone who can call the
//! branch hears of it. Each is counted as a reconnection when the volunteer was lost or stale.

mod recovery;
mod reported;

pub use recovery::{DestinationKind, RecoveryDestination, RecoveryOffer, RecoveryService};
pub use reported::PhoneSource;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::reconnection_count::{self, ReconnectionPath};
use entity::volunteer::{DonorStatus, StatusReason};
use entity::volunteer_contact::{self, ContactKind};
use entity::{backup_contact, volunteer};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::calendar::month_of;
use crate::domain::{NationalId, PersonName, Phone};
use crate::error::{AppError, AppResult};
use crate::messaging::{Messaging, NewMessage, Recipient};
use crate::pii::KeyRing;
use crate::pii::registry;
use crate::service::cases;
use crate::service::rate_limit::{self, Limit};

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
    let old_primary = working_primary(conn, model.id).await?;
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

/// The volunteer's primary phone if staff have not marked it invalid: where a notice or a
/// recovery code can still go.
async fn working_primary<C: ConnectionTrait>(
    conn: &C,
    volunteer_id: uuid::Uuid,
) -> AppResult<Option<volunteer_contact::Model>> {
    Ok(volunteer_contact::Entity::find()
        .filter(volunteer_contact::Column::VolunteerId.eq(volunteer_id))
        .filter(volunteer_contact::Column::Kind.eq(ContactKind::PrimaryPhone))
        .filter(volunteer_contact::Column::EndedAt.is_null())
        .filter(volunteer_contact::Column::InvalidAt.is_null())
        .one(conn)
        .await?)
}

/// Records a reconnection, on `conn` (the transaction that reconnects). A volunteer in an
/// active donation case has their coordinator alerted: the case waits to reach them on the new
/// number. And the reconnection is counted when the volunteer was lost (TU/UC) or their contact
/// stale (not confirmed within the branch's `stale_days`): the retention programme's outcome,
/// per branch, month and path. Returns whether it counted.
///
/// # Errors
/// The database failed.
pub(super) async fn record_reconnection<C: ConnectionTrait>(
    conn: &C,
    model: &volunteer::Model,
    path: ReconnectionPath,
    stale_days: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    cases::alert_on_reconnection(conn, model.id, &model.branch_code).await?;
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
