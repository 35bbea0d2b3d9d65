//! What a volunteer may correct on their own record: city, occupation and employer freely; a
//! name only through staff review (a registry that matches on identity cannot let a name change
//! silently); the ID number never.

use std::sync::Arc;

use chrono::Utc;
use entity::volunteer;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::records::{VolunteerService, index_name_prefixes, name_index};
use crate::db;
use crate::domain::PersonName;
use crate::domain::contact::short_text;
use crate::error::{AppError, AppResult};
use crate::pii::KeyRing;
use crate::pii::registry;
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::{OwnRecord, Principal, Unmasker};

/// Longest city, occupation or employer, in characters.
const MAX_FIELD_CHARS: usize = 100;

/// Free corrections; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct ProfileChanges {
    pub city: Option<String>,
    pub occupation: Option<String>,
    pub employer: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ProfileService {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    volunteers: VolunteerService,
}

impl ProfileService {
    pub(crate) fn new(db: DatabaseConnection, keys: Arc<KeyRing>, volunteers: VolunteerService) -> Self {
        Self { db, keys, volunteers }
    }

    /// Applies free corrections, all or none.
    ///
    /// # Errors
    /// BAD_USER_INPUT on the first field that is empty, too long or holds control characters.
    pub async fn update(&self, me: &OwnRecord, changes: ProfileChanges) -> AppResult<()> {
        let check = |field: &'static str, value: Option<String>| {
            value.map(|value| short_text(&value, MAX_FIELD_CHARS).map_err(AppError::field(field))).transpose()
        };
        let city = check("city", changes.city)?;
        let occupation = check("occupation", changes.occupation)?;
        let employer = check("employer", changes.employer)?;
        let now = Utc::now();
        let mut update = volunteer::Entity::update_many()
            .col_expr(volunteer::Column::UpdatedAt, Expr::value(now))
            .filter(volunteer::Column::Id.eq(me.id));
        if let Some(city) = city {
            update = update.col_expr(volunteer::Column::City, Expr::value(city));
        }
        if let Some(occupation) = occupation {
            update = update.col_expr(volunteer::Column::Occupation, Expr::value(occupation));
        }
        if let Some(employer) = employer {
            let sealed = self.keys.cipher.encrypt(&employer, registry::VOLUNTEER_EMPLOYER.at(me.id));
            update = update.col_expr(volunteer::Column::Employer, Expr::value(sealed));
        }
        update.exec(&self.db).await?;
        Ok(())
    }

    /// Asks staff to correct the spelling of the volunteer's name; a later request replaces an
    /// earlier one still waiting.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `name`.
    pub async fn request_name_correction(&self, me: &OwnRecord, name: &str, request_id: Option<&str>) -> AppResult<()> {
        let name = PersonName::parse(name).map_err(AppError::field("name"))?;
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            volunteer::Entity::update_many()
                .col_expr(
                    volunteer::Column::PendingName,
                    Expr::value(self.keys.cipher.encrypt(name.expose(), registry::VOLUNTEER_PENDING_NAME.at(me.id))),
                )
                .col_expr(volunteer::Column::PendingNameAt, Expr::value(now))
                .filter(volunteer::Column::Id.eq(me.id))
                .exec(txn)
                .await?;
            let entry = AuditEntry { subject: Some(("volunteer", me.id)), request_id, ..Default::default() };
            audit::record(
                txn,
                &Principal::Volunteer { id: me.id },
                AuditAction::VolunteerNameCorrectionRequested,
                entry,
            )
            .await?;
            Ok(())
        })
    }

    /// Accepts or rejects a waiting name correction. The name's blind index follows an accepted
    /// one, so that staff find the volunteer by the corrected name.
    ///
    /// # Errors
    /// NOT_FOUND when nothing waits; FORBIDDEN for a volunteer of another branch.
    pub async fn review_name_correction(
        &self,
        reviewer: &Unmasker,
        actor: &Principal,
        id: Uuid,
        accept: bool,
        request_id: Option<&str>,
    ) -> AppResult<()> {
        let model = self.volunteers.find_model(id).await?;
        if !reviewer.scope.admits(&model.branch_code) {
            return Err(AppError::Forbidden);
        }
        let Some(pending) = model.pending_name else {
            return Err(AppError::NotFound { resource: "name correction" });
        };
        db::write!(&self.db, |txn| {
            let mut update = volunteer::Entity::update_many()
                .col_expr(volunteer::Column::PendingName, Expr::value(Option::<Vec<u8>>::None))
                .col_expr(volunteer::Column::PendingNameAt, Expr::value(Option::<chrono::DateTime<Utc>>::None))
                .col_expr(volunteer::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(volunteer::Column::Id.eq(id));
            if accept {
                let clear = self
                    .keys
                    .cipher
                    .decrypt(&pending, registry::VOLUNTEER_PENDING_NAME.at(id))
                    .map_err(AppError::internal)?;
                let name = PersonName::parse(&clear)
                    .map_err(|_| AppError::internal(anyhow::anyhow!("stored name unreadable")))?;
                update = update
                    .col_expr(
                        volunteer::Column::Name,
                        Expr::value(self.keys.cipher.encrypt(name.expose(), registry::VOLUNTEER_NAME.at(id))),
                    )
                    .col_expr(volunteer::Column::NameIndex, Expr::value(name_index(&self.keys, &name)));
                index_name_prefixes(txn, &self.keys, id, &name).await?;
            }
            update.exec(txn).await?;
            let entry =
                AuditEntry { subject: Some(("volunteer", id)), field: Some("name"), request_id, ..Default::default() };
            audit::record(
                txn,
                actor,
                if accept {
                    AuditAction::VolunteerNameCorrectionAccepted
                } else {
                    AuditAction::VolunteerNameCorrectionRejected
                },
                entry,
            )
            .await?;
            Ok(())
        })
    }
}
