//! Changing a volunteer's donor status. Every part of the service that moves a status (a pause
//! in the app, an SMS answer, a staff decision, a scheduled job) goes through
//! [`StatusLog::change`], so the history staff read on the record is complete: what the status
//! became, who changed it, from where and why.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::volunteer::{self, DonorStatus, StatusReason};
use entity::volunteer_status_change;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::pii::registry;
use std::sync::Arc;

use crate::pii::KeyRing;
use crate::service::Principal;

/// A status to set, and the circumstances the history keeps.
#[derive(Clone, Debug)]
pub struct Change<'a> {
    pub status: DonorStatus,
    pub reason: Option<StatusReason>,
    /// The end of a TU.
    pub until: Option<NaiveDate>,
    /// The change also proves the volunteer reachable and willing: their confirmation is
    /// refreshed with it.
    pub confirms: bool,
    /// Who decided; `None` for the registry itself (a scheduled job, an SMS answer).
    pub by: Option<&'a Principal>,
    /// What made the change, e.g. `volunteer.pause`, `staff.set_status`, `reply.pause`.
    pub source: &'static str,
    /// Staff's note, kept encrypted.
    pub note: Option<&'a str>,
}

/// One change as staff read it.
#[derive(Clone, Debug)]
pub struct StatusChangeView {
    pub status: DonorStatus,
    pub reason: Option<StatusReason>,
    pub until: Option<NaiveDate>,
    pub changed_at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub source: String,
    pub note: Option<String>,
}

/// Status changes and their history. Cheap to clone.
#[derive(Clone, Debug)]
pub struct StatusLog {
    keys: Arc<KeyRing>,
}

impl StatusLog {
    #[must_use]
    pub fn new(keys: Arc<KeyRing>) -> Self {
        Self { keys }
    }

    /// Sets `change` on the volunteers `ids` and writes one history row for each, on `conn` (the
    /// caller's transaction, so the change and its history commit together). Returns how many
    /// records changed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn change<C: ConnectionTrait>(
        &self,
        conn: &C,
        ids: &[Uuid],
        change: &Change<'_>,
        now: DateTime<Utc>,
    ) -> AppResult<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut update = volunteer::Entity::update_many()
            .col_expr(volunteer::Column::Status, Expr::value(change.status))
            .col_expr(volunteer::Column::StatusReason, Expr::value(change.reason))
            .col_expr(volunteer::Column::StatusUntil, Expr::value(change.until))
            .col_expr(volunteer::Column::StatusChangedAt, Expr::value(now))
            .col_expr(volunteer::Column::UpdatedAt, Expr::value(now))
            .filter(volunteer::Column::Id.is_in(ids.iter().copied()));
        if change.confirms {
            update = update.col_expr(volunteer::Column::LastConfirmedAt, Expr::value(now));
        }
        let changed = update.exec(conn).await?.rows_affected;
        self.record(conn, ids, change, now).await?;
        Ok(changed)
    }

    /// Writes the history rows of `change` for `ids` without touching the records: for a status
    /// the record was created with.
    ///
    /// # Errors
    /// The database failed.
    pub async fn record<C: ConnectionTrait>(
        &self,
        conn: &C,
        ids: &[Uuid],
        change: &Change<'_>,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let (kind, actor_id, role) = match change.by {
            None => ("system", None, None),
            Some(Principal::Anonymous) => ("anonymous", None, None),
            Some(Principal::Volunteer { id }) => ("volunteer", Some(*id), None),
            Some(Principal::Staff { id, role, .. }) => ("staff", Some(*id), Some(role.as_str())),
            Some(Principal::Hospital { id, .. }) => ("hospital", Some(*id), None),
        };
        let rows = ids.iter().map(|volunteer_id| {
            let id = Uuid::now_v7();
            volunteer_status_change::ActiveModel {
                id: Set(id),
                volunteer_id: Set(*volunteer_id),
                status: Set(change.status),
                reason: Set(change.reason),
                until: Set(change.until),
                changed_at: Set(now),
                actor_kind: Set(kind.to_owned()),
                actor_id: Set(actor_id),
                actor_role: Set(role.map(str::to_owned)),
                source: Set(change.source.to_owned()),
                note: Set(change
                    .note
                    .map(|note| self.keys.cipher.encrypt(note, registry::VOLUNTEER_STATUS_CHANGE_NOTE.at(id)))),
            }
        });
        volunteer_status_change::Entity::insert_many(rows).exec_without_returning(conn).await?;
        Ok(())
    }

    /// The status histories of `ids`, newest first.
    ///
    /// # Errors
    /// The database failed, or a note does not decrypt.
    pub async fn histories<C: ConnectionTrait>(
        &self,
        conn: &C,
        ids: &[Uuid],
    ) -> AppResult<HashMap<Uuid, Vec<StatusChangeView>>> {
        let rows = volunteer_status_change::Entity::find()
            .filter(volunteer_status_change::Column::VolunteerId.is_in(ids.iter().copied()))
            .order_by_desc(volunteer_status_change::Column::ChangedAt)
            .order_by_desc(volunteer_status_change::Column::Id)
            .all(conn)
            .await?;
        let mut histories: HashMap<Uuid, Vec<StatusChangeView>> = HashMap::new();
        for row in rows {
            let note = row
                .note
                .as_deref()
                .map(|sealed| self.keys.cipher.decrypt(sealed, registry::VOLUNTEER_STATUS_CHANGE_NOTE.at(row.id)))
                .transpose()
                .map_err(AppError::internal)?;
            histories.entry(row.volunteer_id).or_default().push(StatusChangeView {
                status: row.status,
                reason: row.reason,
                until: row.until,
                changed_at: row.changed_at,
                actor_kind: row.actor_kind,
                actor_id: row.actor_id,
                actor_role: row.actor_role,
                source: row.source,
                note,
            });
        }
        Ok(histories)
    }
}
