//! Staff's attempts to reach a volunteer: each logged with its channel, outcome and a note, and
//! a wrong or dead number marked invalid on the contact it was, so that nobody dials it again.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::contact_attempt;
use entity::volunteer_contact::{self, ContactKind};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::contacts::contact_kind_name;
use super::records::VolunteerService;
use crate::domain::contact::short_text;
use crate::domain::{AttemptChannel, AttemptOutcome};
use crate::error::{AppError, AppResult};
use crate::pii::{Binding, KeyRing};
use crate::service::audit::{self, AuditEntry};
use crate::service::{Principal, VolunteerReader};

/// Longest note, in characters.
const MAX_NOTE_CHARS: usize = 500;
/// Most attempts one read returns, newest first.
pub const MAX_ATTEMPTS: u64 = 100;

/// An attempt to log.
#[derive(Clone, Debug)]
pub struct NewAttempt {
    pub channel: AttemptChannel,
    pub outcome: AttemptOutcome,
    /// Which of the volunteer's own contacts was tried, if one was.
    pub contact: Option<ContactKind>,
    pub note: Option<String>,
}

/// An attempt as staff read it.
#[derive(Clone, Debug)]
pub struct AttemptView {
    pub id: Uuid,
    pub channel: AttemptChannel,
    pub outcome: AttemptOutcome,
    pub contact_kind: Option<ContactKind>,
    pub note: Option<String>,
    pub staff_id: Uuid,
    pub attempted_at: DateTime<Utc>,
}

fn binding(id: Uuid) -> Binding<'static> {
    Binding { table: "contact_attempt", column: "note", row: id }
}

#[derive(Clone, Debug)]
pub struct ContactAttemptService {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    volunteers: VolunteerService,
}

impl ContactAttemptService {
    pub(crate) fn new(db: DatabaseConnection, keys: Arc<KeyRing>, volunteers: VolunteerService) -> Self {
        Self { db, keys, volunteers }
    }

    /// Logs an attempt, audited. A wrong number or a number not in service marks the contact
    /// tried invalid.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `input.note`; NOT_FOUND for an unknown volunteer; FORBIDDEN for
    /// another branch's.
    pub async fn log(
        &self,
        reader: &VolunteerReader,
        actor: &Principal,
        volunteer_id: Uuid,
        attempt: NewAttempt,
        request_id: Option<&str>,
    ) -> AppResult<AttemptView> {
        let note = attempt
            .note
            .map(|note| short_text(&note, MAX_NOTE_CHARS))
            .transpose()
            .map_err(AppError::field("input.note"))?;
        let Principal::Staff { id: staff_id, .. } = actor else { return Err(actor.refusal()) };
        let model = self.volunteers.find_model(volunteer_id).await?;
        if !reader.scope.admits(&model.branch_code) {
            return Err(AppError::Forbidden);
        }
        let id = Uuid::now_v7();
        let now = Utc::now();
        let txn = self.db.begin().await?;
        contact_attempt::ActiveModel {
            id: Set(id),
            volunteer_id: Set(volunteer_id),
            branch_code: Set(model.branch_code),
            staff_id: Set(*staff_id),
            channel: Set(attempt.channel.as_str().into()),
            outcome: Set(attempt.outcome.as_str().into()),
            contact_kind: Set(attempt.contact.map(|kind| contact_kind_name(kind).into())),
            note: Set(note.as_ref().map(|note| self.keys.cipher.encrypt(note, binding(id)))),
            attempted_at: Set(now),
        }
        .insert(&txn)
        .await?;
        if let Some(kind) = attempt.contact.filter(|_| attempt.outcome.invalidates_contact()) {
            volunteer_contact::Entity::update_many()
                .col_expr(volunteer_contact::Column::InvalidAt, Expr::value(now))
                .filter(volunteer_contact::Column::VolunteerId.eq(volunteer_id))
                .filter(volunteer_contact::Column::Kind.eq(kind))
                .filter(volunteer_contact::Column::EndedAt.is_null())
                .filter(volunteer_contact::Column::InvalidAt.is_null())
                .exec(&txn)
                .await?;
        }
        let entry = AuditEntry {
            action: "volunteer.contact_attempt",
            subject: Some(("volunteer", volunteer_id)),
            detail: Some(format!("{}/{}", attempt.channel.as_str(), attempt.outcome.as_str())),
            request_id,
            ..Default::default()
        };
        audit::record(&txn, actor, entry).await?;
        txn.commit().await?;
        Ok(AttemptView {
            id,
            channel: attempt.channel,
            outcome: attempt.outcome,
            contact_kind: attempt.contact,
            note,
            staff_id: *staff_id,
            attempted_at: now,
        })
    }

    /// The latest attempts on a volunteer, newest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn attempts(&self, volunteer_id: Uuid) -> AppResult<Vec<AttemptView>> {
        let rows = contact_attempt::Entity::find()
            .filter(contact_attempt::Column::VolunteerId.eq(volunteer_id))
            .order_by_desc(contact_attempt::Column::AttemptedAt)
            .limit(MAX_ATTEMPTS)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| {
                let note = row
                    .note
                    .as_ref()
                    .map(|sealed| self.keys.cipher.decrypt(sealed, binding(row.id)))
                    .transpose()
                    .map_err(AppError::internal)?;
                Ok(AttemptView {
                    id: row.id,
                    channel: AttemptChannel::parse(&row.channel).unwrap_or(AttemptChannel::PhoneCall),
                    outcome: AttemptOutcome::parse(&row.outcome).unwrap_or(AttemptOutcome::NoAnswer),
                    contact_kind: row.contact_kind.as_deref().and_then(contact_kind_of),
                    note,
                    staff_id: row.staff_id,
                    attempted_at: row.attempted_at,
                })
            })
            .collect()
    }
}

fn contact_kind_of(stored: &str) -> Option<ContactKind> {
    [
        ContactKind::PrimaryPhone,
        ContactKind::SecondaryPhone,
        ContactKind::Email,
        ContactKind::PostalAddress,
        ContactKind::Wechat,
    ]
    .into_iter()
    .find(|kind| contact_kind_name(*kind) == stored)
}
