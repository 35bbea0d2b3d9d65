//! Volunteer records: registering one, reading it masked, finding it by an exact ID number or
//! phone through the blind index, and unmasking a field for a stated purpose, audited.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use entity::volunteer::{self, DonorStatus, HlaResolution, StatusReason};
use entity::volunteer_contact::{self, ContactKind};
use entity::volunteer_name_prefix;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, JoinType, QueryFilter, QuerySelect, Select,
};
use uuid::Uuid;

use super::contacts::{self, NewBackupContact};
use super::status::{self, StatusLog};
use crate::config::VolunteerSettings;
use crate::db;
use crate::domain::contact::masked_text;
use crate::domain::{Abo, BloodGroup, NationalId, PersonName, Phone, Rh, Sex, check_branch_code};
use crate::error::{AppError, AppResult};
use crate::messaging::{BranchRules, Messaging};
use crate::pii::KeyRing;
use crate::pii::registry;
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::{OwnRecord, Principal, Unmasker, VolunteerReader};

/// A volunteer to register. Every value is already checked.
#[derive(Clone, Debug)]
pub struct NewVolunteer {
    pub name: PersonName,
    pub national_id: NationalId,
    pub phone: Phone,
    /// Whether the phone was proven by a code (self-enrolment) or only written down (offline
    /// recruitment; proven at the first sign-in).
    pub phone_verified: bool,
    pub branch_code: String,
    pub consent_version: String,
    pub city: Option<String>,
    pub blood_group: Option<BloodGroup>,
    /// Self-service and staff enrolment ask for at least two; synthetic data may have none.
    pub backup_contacts: Vec<NewBackupContact>,
}

/// A volunteer as staff and the volunteer see them by default: every personal field masked.
#[derive(Clone, Debug)]
pub struct VolunteerView {
    pub id: Uuid,
    pub branch_code: String,
    pub status: DonorStatus,
    pub status_reason: Option<StatusReason>,
    pub status_until: Option<NaiveDate>,
    pub name: String,
    pub national_id: String,
    pub primary_phone: Option<String>,
    pub sex: Sex,
    /// Age, not birth date: the birth date is the part of the ID number the mask hides.
    pub age: u32,
    pub hla_typed: bool,
    /// Staff only; the volunteer sees `hla_typed`.
    pub hla_resolution: HlaResolution,
    pub registered_at: DateTime<Utc>,
    pub last_confirmed_at: DateTime<Utc>,
    /// Until then a withdrawal purges the record completely.
    pub cooling_off_until: DateTime<Utc>,
    /// The confirmation is older than the branch's interval: the app prompts a check-up.
    pub check_up_due: bool,
    pub city: Option<String>,
    pub blood_group: Option<BloodGroup>,
    pub occupation: Option<String>,
    /// Masked like a name.
    pub employer: Option<String>,
    /// A name correction awaits staff review.
    pub name_correction_pending: bool,
}

/// The personal fields that can be unmasked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersonalField {
    Name,
    NationalId,
    PrimaryPhone,
    /// The name correction the volunteer asked for, for its review.
    PendingName,
    /// A number recorded by staff or by a recovery's call-back request, to call.
    ReportedPhone,
}

impl PersonalField {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::NationalId => "national_id",
            Self::PrimaryPhone => "primary_phone",
            Self::ReportedPhone => "reported_phone",
            Self::PendingName => "pending_name",
        }
    }
}

/// Why personal data is unmasked: the fixed list a staff member must choose from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnmaskPurpose {
    ContactForMatch,
    DataCorrection,
    VolunteerRequest,
    Legal,
}

impl UnmaskPurpose {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ContactForMatch => "contact_for_match",
            Self::DataCorrection => "data_correction",
            Self::VolunteerRequest => "volunteer_request",
            Self::Legal => "legal",
        }
    }
}

/// Who holds a phone, for sign-in.
#[derive(Clone, Debug)]
pub struct Holder {
    pub id: Uuid,
    pub branch_code: String,
    pub credential_version: i32,
}

#[derive(Clone, Debug)]
pub struct VolunteerService {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    messaging: Messaging,
    settings: VolunteerSettings,
    status: StatusLog,
}

/// Adds to a read of volunteers their working primary phone, the one an SMS goes to (current
/// and not found wrong), as two more columns: its contact id and sealed value, both null for a
/// volunteer without one. At most one per volunteer (`ux_volunteer_contact_current`), so the
/// read keeps one row per volunteer; for reads of many volunteers at once.
pub(crate) fn with_working_phone(volunteers: Select<volunteer::Entity>) -> Select<volunteer::Entity> {
    let working_phone = volunteer::Entity::belongs_to(volunteer_contact::Entity)
        .from(volunteer::Column::Id)
        .to(volunteer_contact::Column::VolunteerId)
        .on_condition(|_, _| {
            Condition::all()
                .add(volunteer_contact::Column::Kind.eq(ContactKind::PrimaryPhone))
                .add(volunteer_contact::Column::EndedAt.is_null())
                .add(volunteer_contact::Column::InvalidAt.is_null())
        });
    volunteers
        .columns([volunteer_contact::Column::Id, volunteer_contact::Column::Value])
        .join(JoinType::LeftJoin, working_phone.into())
}

impl VolunteerService {
    #[must_use]
    pub fn new(db: DatabaseConnection, keys: Arc<KeyRing>, messaging: Messaging, settings: VolunteerSettings) -> Self {
        Self { status: StatusLog::new(Arc::clone(&keys)), db, keys, messaging, settings }
    }

    pub(super) fn settings(&self) -> &VolunteerSettings {
        &self.settings
    }

    /// The rules of a volunteer's branch.
    ///
    /// # Errors
    /// INTERNAL for a branch the catalog does not know (the foreign key makes that a bug).
    pub(crate) async fn branch_rules(&self, branch: &str) -> AppResult<BranchRules> {
        let catalog = self.messaging.catalog().snapshot().await?;
        catalog
            .branch(branch)
            .cloned()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("volunteer of an unknown branch")))
    }

    /// The consent text a new enrolment must accept.
    #[must_use]
    pub fn consent_version(&self) -> &str {
        &self.settings.consent_version
    }

    /// Registers a volunteer with their primary phone, pending until staff record a sample.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `branchCode`; CONFLICT on `nationalId` when the person is registered
    /// already (one person, one registration; who holds it is not said), or on `phone` when it
    /// is another volunteer's primary phone.
    pub async fn register(&self, input: NewVolunteer, now: DateTime<Utc>) -> AppResult<Uuid> {
        db::write!(&self.db, |txn| { self.register_in(txn, input.clone(), now, "branchCode").await })
    }

    /// [`Self::register`] within the caller's transaction, so that enrolment commits the
    /// record, its contacts, its messages and whatever else proves it (a spent ticket) at once.
    /// `branch_field` names the branch as the caller's form does (`provinceCode` on the
    /// enrolment form), so that a refusal points at the field the person filled in.
    ///
    /// # Errors
    /// As [`Self::register`], with `branch_field` for the branch.
    pub(super) async fn register_in(
        &self,
        txn: &DatabaseTransaction,
        input: NewVolunteer,
        now: DateTime<Utc>,
        branch_field: &'static str,
    ) -> AppResult<Uuid> {
        let no_such_branch = || AppError::invalid(branch_field, "no branch of the registry serves this province");
        check_branch_code(&input.branch_code).map_err(AppError::field(branch_field))?;
        let catalog = self.messaging.catalog().snapshot_on(txn).await?;
        let rules = catalog.branch(&input.branch_code).ok_or_else(no_such_branch)?;
        let id = Uuid::now_v7();
        let masked_name = input.name.masked();
        let branch_code = input.branch_code.clone();
        let rows = rows_of(&self.keys, id, &input, now, rules.cooling_off_days);
        let inserted = rows.volunteer.insert(txn).await;
        let registered = AppError::Conflict { field: "nationalId".into(), message: "is already registered".into() };
        inserted.map_err(|err| AppError::on_constraint(err, Some(registered), Some(no_such_branch())))?;
        rows.primary_phone.insert(txn).await.map_err(|err| {
            let taken = AppError::Conflict { field: "phone".into(), message: "is another volunteer's phone".into() };
            AppError::on_constraint(err, Some(taken), None)
        })?;
        if !rows.name_prefixes.is_empty() {
            volunteer_name_prefix::Entity::insert_many(rows.name_prefixes).exec_without_returning(txn).await?;
        }
        let registered = status::Change {
            status: DonorStatus::Pending,
            reason: None,
            until: None,
            confirms: false,
            by: None,
            source: "registered",
            note: None,
        };
        self.status.record(txn, &[id], &registered, now).await?;
        let owner = contacts::Owner { id, branch_code, masked_name };
        for contact in input.backup_contacts {
            contacts::insert_backup_contact(txn, &self.keys, &self.messaging, &self.settings, &owner, contact, now)
                .await?;
        }
        Ok(id)
    }

    /// The signed-in volunteer's own record.
    ///
    /// # Errors
    /// NOT_FOUND once the record is gone.
    pub async fn me(&self, me: &OwnRecord) -> AppResult<VolunteerView> {
        let model = self.find_model(me.id).await?;
        self.view(model).await
    }

    /// A volunteer record, for staff whose reach includes its branch.
    ///
    /// # Errors
    /// NOT_FOUND for an unknown id; FORBIDDEN for a record of another branch.
    pub async fn get(&self, reader: &VolunteerReader, id: Uuid) -> AppResult<VolunteerView> {
        let model = self.find_model(id).await?;
        if !reader.scope.admits(&model.branch_code) {
            return Err(AppError::Forbidden);
        }
        self.view(model).await
    }

    /// One personal field in clear, for a stated purpose. The read and its audit row commit
    /// together: there is no unmasking that is not recorded.
    ///
    /// # Errors
    /// NOT_FOUND for an unknown id (or a field the volunteer has no value for); FORBIDDEN for a
    /// record of another branch.
    pub async fn unmask(
        &self,
        unmasker: &Unmasker,
        actor: &Principal,
        id: Uuid,
        field: PersonalField,
        purpose: UnmaskPurpose,
        request_id: Option<&str>,
    ) -> AppResult<String> {
        let model = self.find_model(id).await?;
        if !unmasker.scope.admits(&model.branch_code) {
            return Err(AppError::Forbidden);
        }
        let cipher = &self.keys.cipher;
        let clear = match field {
            PersonalField::Name => cipher.decrypt(&model.name, registry::VOLUNTEER_NAME.at(id)),
            PersonalField::NationalId => cipher.decrypt(&model.national_id, registry::VOLUNTEER_NATIONAL_ID.at(id)),
            PersonalField::PendingName => {
                let sealed = model.pending_name.as_ref().ok_or(AppError::NotFound { resource: "name correction" })?;
                cipher.decrypt(sealed, registry::VOLUNTEER_PENDING_NAME.at(id))
            }
            PersonalField::PrimaryPhone => {
                let contact = current_contact(&self.db, id, ContactKind::PrimaryPhone)
                    .await?
                    .ok_or(AppError::NotFound { resource: "primary phone" })?;
                cipher.decrypt(&contact.value, registry::VOLUNTEER_CONTACT_VALUE.at(contact.id))
            }
            PersonalField::ReportedPhone => {
                let contact = current_contact(&self.db, id, ContactKind::ReportedPhone)
                    .await?
                    .ok_or(AppError::NotFound { resource: "reported phone" })?;
                cipher.decrypt(&contact.value, registry::VOLUNTEER_CONTACT_VALUE.at(contact.id))
            }
        }
        .map_err(AppError::internal)?;
        let entry = AuditEntry {
            subject: Some(("volunteer", id)),
            field: Some(field.as_str()),
            purpose: Some(purpose.as_str()),
            request_id,
            detail: None,
        };
        audit::record(&self.db, actor, AuditAction::VolunteerUnmask, entry).await?;
        Ok(clear)
    }

    /// Whether a volunteer token still speaks for a record at the version it was issued for.
    ///
    /// # Errors
    /// UNAUTHENTICATED when the record is gone (purged) or its sessions were ended.
    pub async fn ensure_current(&self, id: Uuid, credential_version: i32) -> AppResult<()> {
        let version: Option<i32> = volunteer::Entity::find_by_id(id)
            .select_only()
            .column(volunteer::Column::CredentialVersion)
            .into_tuple()
            .one(&self.db)
            .await?;
        if version == Some(credential_version) { Ok(()) } else { Err(AppError::Unauthenticated) }
    }

    /// The volunteer whose current primary phone has this blind index, if any.
    ///
    /// # Errors
    /// The database failed.
    pub async fn by_primary_phone<C: ConnectionTrait>(
        &self,
        conn: &C,
        phone_index: &[u8],
    ) -> AppResult<Option<Holder>> {
        let found = volunteer::Entity::find()
            .inner_join(volunteer_contact::Entity)
            .filter(volunteer_contact::Column::ValueIndex.eq(phone_index.to_vec()))
            .filter(volunteer_contact::Column::Kind.eq(ContactKind::PrimaryPhone))
            .filter(volunteer_contact::Column::EndedAt.is_null())
            .one(conn)
            .await?;
        Ok(found.map(|model| Holder {
            id: model.id,
            branch_code: model.branch_code,
            credential_version: model.credential_version,
        }))
    }

    /// The volunteer's name, masked, for messages that must say whom they concern.
    pub(super) fn masked_name(&self, model: &volunteer::Model) -> AppResult<String> {
        let clear =
            self.keys.cipher.decrypt(&model.name, registry::VOLUNTEER_NAME.at(model.id)).map_err(AppError::internal)?;
        Ok(masked_text(&clear))
    }

    pub(crate) async fn find_model(&self, id: Uuid) -> AppResult<volunteer::Model> {
        self.find_model_on(&self.db, id).await
    }

    /// [`Self::find_model`] through `conn`: inside a write, its transaction.
    pub(crate) async fn find_model_on<C: ConnectionTrait>(&self, conn: &C, id: Uuid) -> AppResult<volunteer::Model> {
        volunteer::Entity::find_by_id(id).one(conn).await?.ok_or(AppError::NotFound { resource: "volunteer" })
    }

    async fn view(&self, model: volunteer::Model) -> AppResult<VolunteerView> {
        let mut views = self.views(std::slice::from_ref(&model)).await?;
        views.pop().ok_or(AppError::NotFound { resource: "volunteer" })
    }

    /// The masked views of `models`, in their order, with their primary phones read in one
    /// statement: a page of search results costs the same as one record.
    ///
    /// # Errors
    /// The database failed, or a stored value does not decrypt.
    pub(crate) async fn views(&self, models: &[volunteer::Model]) -> AppResult<Vec<VolunteerView>> {
        if models.is_empty() {
            return Ok(Vec::new());
        }
        let catalog = self.messaging.catalog().snapshot().await?;
        let phones: HashMap<Uuid, volunteer_contact::Model> = volunteer_contact::Entity::find()
            .filter(volunteer_contact::Column::VolunteerId.is_in(models.iter().map(|model| model.id)))
            .filter(volunteer_contact::Column::Kind.eq(ContactKind::PrimaryPhone))
            .filter(volunteer_contact::Column::EndedAt.is_null())
            .all(&self.db)
            .await?
            .into_iter()
            .map(|contact| (contact.volunteer_id, contact))
            .collect();
        let now = Utc::now();
        models
            .iter()
            .map(|model| {
                let interval = catalog.branch(&model.branch_code).map_or(12, |rules| rules.confirm_interval_months);
                self.view_of(model, phones.get(&model.id), interval, now)
            })
            .collect()
    }

    /// The volunteer's name and ID number, opened from `model`. Callers mask them, or audit
    /// the unmasking.
    ///
    /// # Errors
    /// INTERNAL when a stored value does not open or no longer parses.
    pub(crate) fn identity(&self, model: &volunteer::Model) -> AppResult<(PersonName, NationalId)> {
        let cipher = &self.keys.cipher;
        let name = cipher.decrypt(&model.name, registry::VOLUNTEER_NAME.at(model.id)).map_err(AppError::internal)?;
        let national_id = cipher
            .decrypt(&model.national_id, registry::VOLUNTEER_NATIONAL_ID.at(model.id))
            .map_err(AppError::internal)?;
        let stored = |what: &'static str| move |_| AppError::internal(anyhow::anyhow!("stored {what} unreadable"));
        Ok((
            PersonName::parse(&name).map_err(stored("name"))?,
            NationalId::parse(&national_id).map_err(stored("national id"))?,
        ))
    }

    fn view_of(
        &self,
        model: &volunteer::Model,
        primary_phone: Option<&volunteer_contact::Model>,
        interval: u32,
        now: DateTime<Utc>,
    ) -> AppResult<VolunteerView> {
        let check_up_due = model
            .last_confirmed_at
            .checked_add_months(Months::new(interval))
            .is_none_or(|fresh_until| fresh_until <= now);
        let employer = match &model.employer {
            Some(sealed) => {
                let clear = self
                    .keys
                    .cipher
                    .decrypt(sealed, registry::VOLUNTEER_EMPLOYER.at(model.id))
                    .map_err(AppError::internal)?;
                Some(masked_text(&clear))
            }
            None => None,
        };
        let blood_group =
            match (model.blood_abo.as_deref().and_then(Abo::parse), model.blood_rh.as_deref().and_then(Rh::parse)) {
                (Some(abo), Some(rh)) => Some(BloodGroup { abo, rh }),
                _ => None,
            };
        let cipher = &self.keys.cipher;
        let (name, national_id) = self.identity(model)?;
        let stored = |what: &'static str| move |_| AppError::internal(anyhow::anyhow!("stored {what} unreadable"));
        let phone = match primary_phone {
            Some(contact) => {
                let phone = cipher
                    .decrypt(&contact.value, registry::VOLUNTEER_CONTACT_VALUE.at(contact.id))
                    .map_err(AppError::internal)?;
                Some(Phone::from_stored(&phone).map_err(stored("phone"))?.masked())
            }
            None => None,
        };
        Ok(VolunteerView {
            id: model.id,
            branch_code: model.branch_code.clone(),
            status: model.status,
            status_reason: model.status_reason,
            status_until: model.status_until,
            name: name.masked(),
            national_id: national_id.masked(),
            primary_phone: phone,
            sex: national_id.sex(),
            age: age_on(model.birth_date, now.date_naive()),
            hla_typed: model.hla_resolution != HlaResolution::Untyped,
            hla_resolution: model.hla_resolution,
            registered_at: model.registered_at,
            last_confirmed_at: model.last_confirmed_at,
            cooling_off_until: model.cooling_off_until,
            check_up_due,
            city: model.city.clone(),
            blood_group,
            occupation: model.occupation.clone(),
            employer,
            name_correction_pending: model.pending_name.is_some(),
        })
    }
}

/// The rows that register one volunteer: the record, its primary phone and its name
/// prefixes. Registration and the synthetic registry write the same rows.
pub(crate) struct RegistrationRows {
    pub volunteer: volunteer::ActiveModel,
    pub primary_phone: volunteer_contact::ActiveModel,
    pub name_prefixes: Vec<volunteer_name_prefix::ActiveModel>,
}

/// The rows of a new volunteer `id`, pending, every personal value sealed and indexed.
pub(crate) fn rows_of(
    keys: &KeyRing,
    id: Uuid,
    input: &NewVolunteer,
    now: DateTime<Utc>,
    cooling_off_days: i64,
) -> RegistrationRows {
    let cipher = &keys.cipher;
    let index = &keys.blind_index;
    let sex = match input.national_id.sex() {
        Sex::Female => volunteer::Sex::Female,
        Sex::Male => volunteer::Sex::Male,
    };
    let volunteer = volunteer::ActiveModel {
        id: Set(id),
        branch_code: Set(input.branch_code.clone()),
        status: Set(DonorStatus::Pending),
        status_reason: Set(None),
        status_until: Set(None),
        status_changed_at: Set(now),
        name: Set(cipher.encrypt(input.name.expose(), registry::VOLUNTEER_NAME.at(id))),
        name_index: Set(name_index(keys, &input.name)),
        national_id: Set(cipher.encrypt(input.national_id.expose(), registry::VOLUNTEER_NATIONAL_ID.at(id))),
        national_id_index: Set(index.national_id(&input.national_id)),
        birth_date: Set(input.national_id.birth_date()),
        sex: Set(sex),
        blood_abo: Set(input.blood_group.map(|group| group.abo.as_str().to_owned())),
        blood_rh: Set(input.blood_group.map(|group| group.rh.as_str().to_owned())),
        hla_resolution: Set(HlaResolution::Untyped),
        occupation: Set(None),
        employer: Set(None),
        consent_version: Set(input.consent_version.clone()),
        health_consent_at: Set(now),
        registered_at: Set(now),
        cooling_off_until: Set(now + Duration::days(cooling_off_days)),
        last_confirmed_at: Set(now),
        credential_version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        city: Set(input.city.clone()),
        last_sign_in_at: Set(None),
        pending_name: Set(None),
        pending_name_at: Set(None),
        sms_non_essential: Set(true),
        inbox_non_essential: Set(true),
    };
    let contact_id = Uuid::now_v7();
    let primary_phone = volunteer_contact::ActiveModel {
        id: Set(contact_id),
        volunteer_id: Set(id),
        kind: Set(ContactKind::PrimaryPhone),
        value: Set(cipher.encrypt(input.phone.expose(), registry::VOLUNTEER_CONTACT_VALUE.at(contact_id))),
        value_index: Set(Some(index.phone(&input.phone))),
        verified_at: Set(input.phone_verified.then_some(now)),
        started_at: Set(now),
        ended_at: Set(None),
        invalid_at: Set(None),
    };
    RegistrationRows { volunteer, primary_phone, name_prefixes: name_prefix_rows(keys, id, &input.name) }
}

/// The keyed search prefixes of volunteer `id`'s name, as rows.
fn name_prefix_rows(keys: &KeyRing, id: Uuid, name: &PersonName) -> Vec<volunteer_name_prefix::ActiveModel> {
    name.search_prefixes()
        .iter()
        .map(|prefix| volunteer_name_prefix::ActiveModel {
            prefix_index: Set(name_prefix_index(keys, prefix)),
            volunteer_id: Set(id),
        })
        .collect()
}

/// The keyed index of a whole name, for exact search.
pub(crate) fn name_index(keys: &KeyRing, name: &PersonName) -> Vec<u8> {
    keys.blind_index.digest("name", &name.normalised())
}

/// The blind-index domain of name prefixes.
const NAME_PREFIX: &str = "name_prefix";

/// The keyed index of a normalised name prefix, as stored and as searched.
pub(crate) fn name_prefix_index(keys: &KeyRing, prefix: &str) -> Vec<u8> {
    keys.blind_index.digest(NAME_PREFIX, prefix)
}

/// Replaces the keyed search prefixes of a volunteer's name, for a new or corrected name.
///
/// # Errors
/// The database failed.
pub(crate) async fn index_name_prefixes<C: ConnectionTrait>(
    conn: &C,
    keys: &KeyRing,
    id: Uuid,
    name: &PersonName,
) -> AppResult<()> {
    volunteer_name_prefix::Entity::delete_many()
        .filter(volunteer_name_prefix::Column::VolunteerId.eq(id))
        .exec(conn)
        .await?;
    let rows = name_prefix_rows(keys, id, name);
    if !rows.is_empty() {
        volunteer_name_prefix::Entity::insert_many(rows).exec_without_returning(conn).await?;
    }
    Ok(())
}

/// Marks the volunteer's current primary phone verified (a correct sign-in code proves it), if
/// it was not already.
///
/// # Errors
/// The database failed.
pub async fn mark_primary_phone_verified<C: ConnectionTrait>(conn: &C, id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    volunteer_contact::Entity::update_many()
        .col_expr(volunteer_contact::Column::VerifiedAt, Expr::value(now))
        .filter(volunteer_contact::Column::VolunteerId.eq(id))
        .filter(volunteer_contact::Column::Kind.eq(ContactKind::PrimaryPhone))
        .filter(volunteer_contact::Column::EndedAt.is_null())
        .filter(volunteer_contact::Column::VerifiedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

pub(crate) async fn current_contact<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    kind: ContactKind,
) -> AppResult<Option<volunteer_contact::Model>> {
    Ok(volunteer_contact::Entity::find()
        .filter(volunteer_contact::Column::VolunteerId.eq(id))
        .filter(volunteer_contact::Column::Kind.eq(kind))
        .filter(volunteer_contact::Column::EndedAt.is_null())
        .one(conn)
        .await?)
}

/// Whole years from `birth` to `today`.
pub(crate) fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    let had_birthday = (today.month(), today.day()) >= (birth.month(), birth.day());
    let years = today.year() - birth.year() - i32::from(!had_birthday);
    u32::try_from(years).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_counts_whole_years() {
        let birth = NaiveDate::from_ymd_opt(1990, 6, 15).unwrap();
        assert_eq!(age_on(birth, NaiveDate::from_ymd_opt(2026, 6, 14).unwrap()), 35);
        assert_eq!(age_on(birth, NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()), 36);
    }
}
