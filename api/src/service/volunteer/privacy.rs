//! A volunteer's rights over their data (PIPL art. 44–45): a copy of everything held about
//! them, in clear to them alone, and who looked at it unmasked.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::{audit_event, backup_contact, family_member, inbox_notification, volunteer_contact};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};

use super::records::VolunteerService;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::pii::registry;
use crate::pii::{Binding, KeyRing};
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::{OwnRecord, Principal};

/// Most access-log entries one call returns.
pub const MAX_ACCESS_LOG: u64 = 100;

/// One look at the volunteer's data in clear: which role, when, which field, why. No staff
/// names: the volunteer's right is to know that and why, not to identify the employee.
#[derive(Clone, Debug)]
pub struct DataAccess {
    pub at: DateTime<Utc>,
    pub role: String,
    pub field: String,
    pub purpose: String,
}

#[derive(Clone, Debug)]
pub struct PrivacyService {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    volunteers: VolunteerService,
}

impl PrivacyService {
    pub(crate) fn new(db: DatabaseConnection, keys: Arc<KeyRing>, volunteers: VolunteerService) -> Self {
        Self { db, keys, volunteers }
    }

    /// Everything held about the volunteer, personal fields in clear, as JSON. The export is
    /// audited (without its content).
    ///
    /// # Errors
    /// NOT_FOUND once the record is gone.
    pub async fn export(&self, me: &OwnRecord, request_id: Option<&str>) -> AppResult<Value> {
        let model = self.volunteers.find_model(me.id).await?;
        let open =
            |sealed: &[u8], binding: Binding<'_>| self.keys.cipher.decrypt(sealed, binding).map_err(AppError::internal);
        let open_opt =
            |sealed: Option<&Vec<u8>>, binding: Binding<'_>| sealed.map(|sealed| open(sealed, binding)).transpose();
        let contacts = volunteer_contact::Entity::find()
            .filter(volunteer_contact::Column::VolunteerId.eq(me.id))
            .order_by_asc(volunteer_contact::Column::StartedAt)
            .all(&self.db)
            .await?;
        let contacts = contacts
            .iter()
            .map(|row| {
                Ok(json!({
                    "kind": super::contacts::contact_kind_name(row.kind),
                    "value": open(&row.value, registry::VOLUNTEER_CONTACT_VALUE.at(row.id))?,
                    "verifiedAt": row.verified_at,
                    "startedAt": row.started_at,
                    "endedAt": row.ended_at,
                }))
            })
            .collect::<AppResult<Vec<_>>>()?;
        let backups =
            backup_contact::Entity::find().filter(backup_contact::Column::VolunteerId.eq(me.id)).all(&self.db).await?;
        let backups = backups
            .iter()
            .map(|row| {
                Ok(json!({
                    "name": open(&row.name, registry::BACKUP_CONTACT_NAME.at(row.id))?,
                    "relationship": row.relationship,
                    "phone": open(&row.phone, registry::BACKUP_CONTACT_PHONE.at(row.id))?,
                    "informedAt": row.informed_at,
                }))
            })
            .collect::<AppResult<Vec<_>>>()?;
        let family =
            family_member::Entity::find().filter(family_member::Column::VolunteerId.eq(me.id)).all(&self.db).await?;
        let family = family
            .iter()
            .map(|row| {
                Ok(json!({
                    "relationship": row.relationship,
                    "name": open_opt(row.name.as_ref(), registry::FAMILY_MEMBER_NAME.at(row.id))?,
                    "phone": open_opt(row.phone.as_ref(), registry::FAMILY_MEMBER_PHONE.at(row.id))?,
                    "stance": row.stance,
                }))
            })
            .collect::<AppResult<Vec<_>>>()?;
        let notifications = inbox_notification::Entity::find()
            .filter(inbox_notification::Column::VolunteerId.eq(me.id))
            .order_by_asc(inbox_notification::Column::Id)
            .all(&self.db)
            .await?;
        let notifications = notifications
            .iter()
            .map(|row| {
                let text = open(&row.body, registry::INBOX_NOTIFICATION_BODY.at(row.id))?;
                Ok(json!({ "kind": row.template_key, "text": text, "createdAt": row.created_at, "readAt": row.read_at }))
            })
            .collect::<AppResult<Vec<_>>>()?;
        let export = json!({
            "exportedAt": Utc::now(),
            "volunteer": self.record(&model)?,
            "contacts": contacts,
            "backupContacts": backups,
            "family": family,
            "notifications": notifications,
            "accessLog": self.access_log(me).await?.iter().map(|access| json!({
                "at": access.at, "role": access.role, "field": access.field, "purpose": access.purpose,
            })).collect::<Vec<_>>(),
        });
        db::write!(&self.db, |txn| {
            let entry = AuditEntry { subject: Some(("volunteer", me.id)), request_id, ..Default::default() };
            audit::record(txn, &Principal::Volunteer { id: me.id }, AuditAction::VolunteerExport, entry).await?;
            Ok(())
        })?;
        Ok(export)
    }

    /// The record itself, personal fields in clear.
    fn record(&self, model: &entity::volunteer::Model) -> AppResult<Value> {
        let open =
            |sealed: &[u8], binding: Binding<'_>| self.keys.cipher.decrypt(sealed, binding).map_err(AppError::internal);
        let employer = model
            .employer
            .as_ref()
            .map(|sealed| open(sealed, registry::VOLUNTEER_EMPLOYER.at(model.id)))
            .transpose()?;
        Ok(json!({
            "id": model.id,
            "name": open(&model.name, registry::VOLUNTEER_NAME.at(model.id))?,
            "nationalId": open(&model.national_id, registry::VOLUNTEER_NATIONAL_ID.at(model.id))?,
            "birthDate": model.birth_date,
            "sex": sea_orm::ActiveEnum::to_value(&model.sex),
            "bloodGroup": { "abo": model.blood_abo, "rh": model.blood_rh },
            "hlaTyped": model.hla_resolution != entity::volunteer::HlaResolution::Untyped,
            "branchCode": model.branch_code,
            "city": model.city,
            "occupation": model.occupation,
            "employer": employer,
            "status": sea_orm::ActiveEnum::to_value(&model.status),
            "statusReason": model.status_reason.map(|reason| sea_orm::ActiveEnum::to_value(&reason)),
            "statusUntil": model.status_until,
            "consentVersion": model.consent_version,
            "healthDataConsentAt": model.health_consent_at,
            "registeredAt": model.registered_at,
            "coolingOffUntil": model.cooling_off_until,
            "lastConfirmedAt": model.last_confirmed_at,
            "notificationChannels": { "sms": model.sms_non_essential, "appInbox": model.inbox_non_essential },
        }))
    }

    /// The latest unmaskings of the volunteer's data, newest first: role, time, field, purpose.
    ///
    /// # Errors
    /// The database failed.
    pub async fn access_log(&self, me: &OwnRecord) -> AppResult<Vec<DataAccess>> {
        let rows = audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq(AuditAction::VolunteerUnmask.as_str()))
            .filter(audit_event::Column::SubjectId.eq(me.id))
            .order_by_desc(audit_event::Column::At)
            .limit(MAX_ACCESS_LOG)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| DataAccess {
                at: row.at,
                role: row.actor_role.unwrap_or_default(),
                field: audit::api_name(&row.field.unwrap_or_default()),
                purpose: audit::api_name(&row.purpose.unwrap_or_default()),
            })
            .collect())
    }
}
