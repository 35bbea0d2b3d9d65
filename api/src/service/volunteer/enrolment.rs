//! Joining the registry: a volunteer enrolling themselves from the app after proving their
//! phone, or staff enrolling someone recruited offline (at a blood donation site), who later
//! signs in with that phone.
//!
//! Both take the same input and the same checks: the ID number is valid and matches the birth
//! date and sex the person typed, the province sets the branch, at least two backup contacts,
//! and consent to the current terms with the separate consent to health data (PIPL art. 29).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use entity::enrolment_ticket;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::contacts::{NewBackupContact, check_backup_list};
use super::records::{NewVolunteer, VolunteerService, VolunteerView};
use crate::db;
use crate::domain::contact::short_text;
use crate::domain::{BloodGroup, NationalId, PersonName, Phone, Relationship, Sex};
use crate::error::{AppError, AppResult};
use crate::pii::KeyRing;
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::sessions::{Session, SessionService};
use crate::service::{Enroller, Principal};

/// Longest city name, in characters.
const MAX_CITY_CHARS: usize = 50;

/// What a person gives to enrol, as typed.
#[derive(Clone, Debug)]
pub struct Enrolment {
    pub name: String,
    pub national_id: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub blood_group: Option<BloodGroup>,
    pub province_code: String,
    pub city: String,
    pub backup_contacts: Vec<(String, Relationship, String)>,
    pub consent_version: String,
    pub health_data_consent: bool,
}

/// Hands out an enrolment ticket for a phone whose code was just proven, on `conn` (the
/// sign-in's transaction). Only its keyed hash is stored.
pub(super) async fn issue_ticket<C: ConnectionTrait>(
    conn: &C,
    keys: &KeyRing,
    phone_index: &[u8],
    expires_at: DateTime<Utc>,
) -> AppResult<String> {
    let mut secret = [0_u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let ticket = format!("et_{}", crate::digest::hex(&secret));
    let now = Utc::now();
    enrolment_ticket::ActiveModel {
        id: Set(Uuid::now_v7()),
        ticket_hash: Set(keys.blind_index.digest("enrolment_ticket", &ticket)),
        phone_index: Set(phone_index.to_vec()),
        expires_at: Set(expires_at),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(ticket)
}

/// What enrolling with a registered ID number answers: the app offers recovery on it.
const RECOVERABLE: &str = "is already registered; if the record is yours, recover it with this phone (startRecovery)";

#[derive(Clone, Debug)]
pub struct EnrolmentService {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    volunteers: VolunteerService,
    sessions: SessionService,
}

impl EnrolmentService {
    pub(crate) fn new(
        db: DatabaseConnection,
        keys: Arc<KeyRing>,
        volunteers: VolunteerService,
        sessions: SessionService,
    ) -> Self {
        Self { db, keys, volunteers, sessions }
    }

    /// Enrols the holder of a phone proven by a sign-in code, and signs them in. The record is
    /// pending until staff record a sample, and in cooling-off for the branch's period.
    ///
    /// # Errors
    /// BAD_USER_INPUT on the first field that fails its check, or on `enrolmentTicket` when it
    /// is unknown, spent, expired or for another phone; CONFLICT on `nationalId` when the
    /// person is registered already (who holds the registration is not said).
    pub async fn enrol_self(
        &self,
        ticket: &str,
        phone: &str,
        enrolment: Enrolment,
        request_id: Option<&str>,
    ) -> AppResult<Session> {
        let phone = Phone::parse_mainland_mobile(phone).map_err(AppError::field("phone"))?;
        let new = self.check(enrolment, phone, true)?;
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            let spent = enrolment_ticket::Entity::update_many()
                .col_expr(enrolment_ticket::Column::UsedAt, Expr::value(now))
                .filter(
                    enrolment_ticket::Column::TicketHash.eq(self.keys.blind_index.digest("enrolment_ticket", ticket)),
                )
                .filter(enrolment_ticket::Column::PhoneIndex.eq(self.keys.blind_index.phone(&new.phone)))
                .filter(enrolment_ticket::Column::UsedAt.is_null())
                .filter(enrolment_ticket::Column::ExpiresAt.gt(now))
                .exec(txn)
                .await?;
            if spent.rows_affected != 1 {
                return Err(AppError::invalid(
                    "enrolmentTicket",
                    "is not valid for this phone; sign in with a new code",
                ));
            }
            let id = match self.volunteers.register_in(txn, new.clone(), now, "provinceCode").await {
                // The ticket stays unspent (the transaction rolls back): it opens the recovery.
                Err(AppError::Conflict { field, .. }) if field == "nationalId" => {
                    return Err(AppError::Conflict { field, message: RECOVERABLE.into() });
                }
                registered => registered?,
            };
            let principal = Principal::Volunteer { id };
            let session = self.sessions.open(txn, &principal, 1, Uuid::now_v7()).await?;
            volunteer_signed_in(txn, id, now).await?;
            let entry = AuditEntry { subject: Some(("volunteer", id)), request_id, ..Default::default() };
            audit::record(txn, &principal, AuditAction::VolunteerEnrol, entry).await?;
            Ok(session)
        })
    }

    /// Enrols a volunteer recruited offline, with the phone they wrote down (verified at their
    /// first sign-in).
    ///
    /// # Errors
    /// As [`Self::enrol_self`], and FORBIDDEN for a province outside the caller's branch.
    pub async fn enrol_offline(
        &self,
        enroller: &Enroller,
        actor: &Principal,
        phone: &str,
        enrolment: Enrolment,
        request_id: Option<&str>,
    ) -> AppResult<VolunteerView> {
        let phone = Phone::parse_mainland_mobile(phone).map_err(AppError::field("phone"))?;
        let new = self.check(enrolment, phone, false)?;
        if !enroller.scope.admits(&new.branch_code) {
            return Err(AppError::Forbidden);
        }
        let id = db::write!(&self.db, |txn| {
            let id = self.volunteers.register_in(txn, new.clone(), Utc::now(), "provinceCode").await?;
            let entry = AuditEntry { subject: Some(("volunteer", id)), request_id, ..Default::default() };
            audit::record(txn, actor, AuditAction::VolunteerEnrolOffline, entry).await?;
            Ok(id)
        })?;
        self.volunteers.get(&enroller.reader(), id).await
    }

    /// Checks an enrolment field by field, in the order the form shows them.
    fn check(&self, input: Enrolment, phone: Phone, phone_verified: bool) -> AppResult<NewVolunteer> {
        let name = PersonName::parse(&input.name).map_err(AppError::field("name"))?;
        let national_id = NationalId::parse(&input.national_id).map_err(AppError::field("nationalId"))?;
        if national_id.birth_date() != input.birth_date {
            return Err(AppError::invalid("birthDate", "does not match the birth date in the ID number"));
        }
        if national_id.sex() != input.sex {
            return Err(AppError::invalid("sex", "does not match the ID number"));
        }
        crate::domain::check_branch_code(&input.province_code).map_err(AppError::field("provinceCode"))?;
        let city = short_text(&input.city, MAX_CITY_CHARS).map_err(AppError::field("city"))?;
        let backup_contacts = input
            .backup_contacts
            .iter()
            .enumerate()
            .map(|(n, (name, relationship, phone))| {
                NewBackupContact::parse(&format!("backupContacts.{n}"), name, *relationship, phone)
            })
            .collect::<AppResult<Vec<_>>>()?;
        check_backup_list("backupContacts", &backup_contacts, Some(&phone))?;
        let current = &self.volunteers.settings().consent_version;
        if input.consent_version != *current {
            return Err(AppError::invalid("consentVersion", format!("must be the current consent, {current}")));
        }
        if !input.health_data_consent {
            return Err(AppError::invalid("healthDataConsent", "the registry cannot hold a donor without it"));
        }
        Ok(NewVolunteer {
            name,
            national_id,
            phone,
            phone_verified,
            branch_code: input.province_code,
            consent_version: input.consent_version,
            city: Some(city),
            blood_group: input.blood_group,
            backup_contacts,
        })
    }
}

/// Records a sign-in by code, which a phone change later asks to be recent.
pub(super) async fn volunteer_signed_in<C: ConnectionTrait>(conn: &C, id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    entity::volunteer::Entity::update_many()
        .col_expr(entity::volunteer::Column::LastSignInAt, Expr::value(now))
        .filter(entity::volunteer::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}
