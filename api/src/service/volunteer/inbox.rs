//! The volunteer's notification list in the app (health tips, check-up due, pause ending, case
//! messages), and their choice of channels for the messages that are not essential.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::inbox_notification;
use entity::messaging_opt_out;
use entity::volunteer;
use entity::volunteer_contact::ContactKind;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::records::{VolunteerService, current_contact};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::pii::KeyRing;
use crate::pii::registry;
use crate::service::OwnRecord;

/// Most notifications one page returns.
pub const MAX_PAGE: u64 = 50;

/// A notification as the app shows it.
#[derive(Clone, Debug)]
pub struct NotificationView {
    pub id: Uuid,
    /// The template it was written from: `health_tip`, `checkup_due`, `pause_ending`, …
    pub kind: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// One page, newest first, with the cursor of the next.
#[derive(Clone, Debug)]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    pub next_cursor: Option<Uuid>,
}

/// The channels a volunteer accepts non-essential messages on. Essential ones (codes, case
/// contact) come whatever these say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preferences {
    pub sms: bool,
    pub app_inbox: bool,
}

#[derive(Clone, Debug)]
pub struct InboxService {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    volunteers: VolunteerService,
}

impl InboxService {
    pub(crate) fn new(db: DatabaseConnection, keys: Arc<KeyRing>, volunteers: VolunteerService) -> Self {
        Self { db, keys, volunteers }
    }

    /// A page of the volunteer's notifications, newest first, after `cursor`.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `first` outside 1 to 50.
    pub async fn page(&self, me: &OwnRecord, first: u64, cursor: Option<Uuid>) -> AppResult<NotificationPage> {
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(AppError::invalid("first", format!("must be 1 to {MAX_PAGE}")));
        }
        let mut query = inbox_notification::Entity::find()
            .filter(inbox_notification::Column::VolunteerId.eq(me.id))
            .order_by_desc(inbox_notification::Column::Id)
            .limit(first + 1);
        if let Some(cursor) = cursor {
            query = query.filter(inbox_notification::Column::Id.lt(cursor));
        }
        let mut rows = query.all(&self.db).await?;
        let more = rows.len() > usize::try_from(first).unwrap_or(usize::MAX);
        rows.truncate(usize::try_from(first).unwrap_or(usize::MAX));
        let next_cursor = if more { rows.last().map(|row| row.id) } else { None };
        let items = rows
            .into_iter()
            .map(|row| {
                let binding = registry::INBOX_NOTIFICATION_BODY.at(row.id);
                let text = self.keys.cipher.decrypt(&row.body, binding).map_err(AppError::internal)?;
                Ok(NotificationView {
                    id: row.id,
                    kind: row.template_key,
                    text,
                    created_at: row.created_at,
                    read_at: row.read_at,
                })
            })
            .collect::<AppResult<_>>()?;
        Ok(NotificationPage { items, next_cursor })
    }

    /// How many notifications the volunteer has not read.
    ///
    /// # Errors
    /// The database failed.
    pub async fn unread(&self, me: &OwnRecord) -> AppResult<u64> {
        Ok(inbox_notification::Entity::find()
            .filter(inbox_notification::Column::VolunteerId.eq(me.id))
            .filter(inbox_notification::Column::ReadAt.is_null())
            .count(&self.db)
            .await?)
    }

    /// Marks the volunteer's notifications read; ids of other volunteers' are ignored. Returns
    /// how many changed.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `ids` when more than a page.
    pub async fn mark_read(&self, me: &OwnRecord, ids: &[Uuid]) -> AppResult<u64> {
        if ids.len() > usize::try_from(MAX_PAGE).unwrap_or(usize::MAX) {
            return Err(AppError::invalid("ids", format!("at most {MAX_PAGE} at a time")));
        }
        let marked = inbox_notification::Entity::update_many()
            .col_expr(inbox_notification::Column::ReadAt, Expr::value(Utc::now()))
            .filter(inbox_notification::Column::VolunteerId.eq(me.id))
            .filter(inbox_notification::Column::Id.is_in(ids.iter().copied()))
            .filter(inbox_notification::Column::ReadAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(marked.rows_affected)
    }

    /// The volunteer's channels for non-essential messages.
    ///
    /// # Errors
    /// NOT_FOUND once the record is gone.
    pub async fn preferences(&self, me: &OwnRecord) -> AppResult<Preferences> {
        let model = self.volunteers.find_model(me.id).await?;
        Ok(Preferences { sms: model.sms_non_essential, app_inbox: model.inbox_non_essential })
    }

    /// Sets the channels for non-essential messages; both off opts out of them. The SMS choice
    /// is also the phone's opt-out, which every campaign and reminder already respects (the
    /// same as replying TD).
    ///
    /// # Errors
    /// The database failed.
    pub async fn set_preferences(&self, me: &OwnRecord, preferences: Preferences) -> AppResult<Preferences> {
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            volunteer::Entity::update_many()
                .col_expr(volunteer::Column::SmsNonEssential, Expr::value(preferences.sms))
                .col_expr(volunteer::Column::InboxNonEssential, Expr::value(preferences.app_inbox))
                .col_expr(volunteer::Column::UpdatedAt, Expr::value(now))
                .filter(volunteer::Column::Id.eq(me.id))
                .exec(txn)
                .await?;
            if let Some(phone) = current_contact(txn, me.id, ContactKind::PrimaryPhone).await?
                && let Some(index) = phone.value_index
            {
                if preferences.sms {
                    messaging_opt_out::Entity::delete_by_id(index).exec(txn).await?;
                } else {
                    messaging_opt_out::Entity::insert(messaging_opt_out::ActiveModel {
                        phone_index: Set(index),
                        source: Set("app".into()),
                        created_at: Set(now),
                    })
                    .on_conflict(OnConflict::column(messaging_opt_out::Column::PhoneIndex).do_nothing().to_owned())
                    .exec_without_returning(txn)
                    .await?;
                }
            }
            Ok(())
        })?;
        Ok(preferences)
    }
}
