//! The family around a volunteer: who knows of the registration and where they stand, and the
//! information pack the volunteer can ask the registry to send them. Family opposition is the
//! leading named cause of regret; the coordinator reads this at match time, before it is late.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::Utc;
use entity::family_member;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use super::grouped;
use super::records::VolunteerService;
use crate::db;
use crate::domain::{PersonName, Phone, Relationship, Stance};
use crate::error::{AppError, AppResult};
use crate::messaging::{Messaging, NewMessage, Recipient};
use crate::pii::KeyRing;
use crate::pii::registry;
use crate::service::OwnRecord;
use crate::service::alerts::{self, AlertKind};
use crate::service::audit::{self, AuditAction, AuditEntry};

/// Most family members one volunteer records.
pub const MAX_FAMILY_MEMBERS: u64 = 10;

/// A family member to record; name and phone are optional (a volunteer may prefer not to say).
#[derive(Clone, Debug)]
pub struct NewFamilyMember {
    pub relationship: Relationship,
    pub name: Option<PersonName>,
    pub phone: Option<Phone>,
    pub stance: Stance,
}

impl NewFamilyMember {
    /// # Errors
    /// BAD_USER_INPUT on `input.name` or `input.phone`.
    pub fn parse(
        relationship: Relationship,
        name: Option<&str>,
        phone: Option<&str>,
        stance: Stance,
    ) -> AppResult<Self> {
        let name = name.map(PersonName::parse).transpose().map_err(AppError::field("input.name"))?;
        let phone = phone.map(Phone::parse).transpose().map_err(AppError::field("input.phone"))?;
        Ok(Self { relationship, name, phone, stance })
    }
}

/// A family member as shown: masked.
#[derive(Clone, Debug)]
pub struct FamilyMemberView {
    pub id: Uuid,
    pub relationship: Relationship,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub stance: Stance,
    pub updated_at: chrono::DateTime<Utc>,
}

/// How the family information pack reaches them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfoPack {
    /// An SMS with a link, to a recorded family member's phone.
    Sms { family_member: Uuid },
    /// A call from branch staff: a coordinator alert.
    StaffCall,
}

#[derive(Clone, Debug)]
pub struct FamilyService {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    volunteers: VolunteerService,
    messaging: Messaging,
}

impl FamilyService {
    pub(crate) fn new(
        db: DatabaseConnection,
        keys: Arc<KeyRing>,
        volunteers: VolunteerService,
        messaging: Messaging,
    ) -> Self {
        Self { db, keys, volunteers, messaging }
    }

    /// The recorded family of each volunteer of `ids`, masked, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn members_of(&self, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Vec<FamilyMemberView>>> {
        let rows = family_member::Entity::find()
            .filter(family_member::Column::VolunteerId.is_in(ids.iter().copied()))
            .order_by_asc(family_member::Column::CreatedAt)
            .all(&self.db)
            .await?;
        let unreadable = |_| AppError::internal(anyhow::anyhow!("stored family member unreadable"));
        grouped(
            rows,
            |row| row.volunteer_id,
            |row| {
                let name = match &row.name {
                    Some(sealed) => {
                        let clear = self
                            .keys
                            .cipher
                            .decrypt(sealed, registry::FAMILY_MEMBER_NAME.at(row.id))
                            .map_err(AppError::internal)?;
                        Some(PersonName::parse(&clear).map_err(unreadable)?.masked())
                    }
                    None => None,
                };
                let phone = match &row.phone {
                    Some(sealed) => {
                        let clear = self
                            .keys
                            .cipher
                            .decrypt(sealed, registry::FAMILY_MEMBER_PHONE.at(row.id))
                            .map_err(AppError::internal)?;
                        Some(Phone::from_stored(&clear).map_err(unreadable)?.masked())
                    }
                    None => None,
                };
                Ok(FamilyMemberView {
                    id: row.id,
                    relationship: Relationship::parse(&row.relationship).unwrap_or(Relationship::Other),
                    name,
                    phone,
                    stance: Stance::parse(&row.stance).unwrap_or(Stance::Undecided),
                    updated_at: row.updated_at,
                })
            },
        )
    }

    /// Records a family member who knows of the registration.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `input` past the maximum.
    pub async fn record(&self, me: &OwnRecord, member: NewFamilyMember) -> AppResult<Uuid> {
        let count =
            family_member::Entity::find().filter(family_member::Column::VolunteerId.eq(me.id)).count(&self.db).await?;
        if count >= MAX_FAMILY_MEMBERS {
            return Err(AppError::invalid("input", format!("at most {MAX_FAMILY_MEMBERS} family members")));
        }
        let id = Uuid::now_v7();
        let now = Utc::now();
        let cipher = &self.keys.cipher;
        family_member::ActiveModel {
            id: Set(id),
            volunteer_id: Set(me.id),
            relationship: Set(member.relationship.as_str().into()),
            name: Set(member.name.map(|name| cipher.encrypt(name.expose(), registry::FAMILY_MEMBER_NAME.at(id)))),
            phone: Set(member.phone.map(|phone| cipher.encrypt(phone.expose(), registry::FAMILY_MEMBER_PHONE.at(id)))),
            stance: Set(member.stance.as_str().into()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.db)
        .await?;
        Ok(id)
    }

    /// Records where a family member now stands.
    ///
    /// # Errors
    /// NOT_FOUND for an unknown id or another volunteer's family member.
    pub async fn set_stance(&self, me: &OwnRecord, id: Uuid, stance: Stance) -> AppResult<()> {
        let updated = family_member::Entity::update_many()
            .col_expr(family_member::Column::Stance, Expr::value(stance.as_str()))
            .col_expr(family_member::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(family_member::Column::Id.eq(id))
            .filter(family_member::Column::VolunteerId.eq(me.id))
            .exec(&self.db)
            .await?;
        if updated.rows_affected == 0 { Err(AppError::NotFound { resource: "family member" }) } else { Ok(()) }
    }

    /// Removes a family member.
    ///
    /// # Errors
    /// NOT_FOUND for an unknown id or another volunteer's family member.
    pub async fn remove(&self, me: &OwnRecord, id: Uuid) -> AppResult<()> {
        let deleted = family_member::Entity::delete_many()
            .filter(family_member::Column::Id.eq(id))
            .filter(family_member::Column::VolunteerId.eq(me.id))
            .exec(&self.db)
            .await?;
        if deleted.rows_affected == 0 { Err(AppError::NotFound { resource: "family member" }) } else { Ok(()) }
    }

    /// Asks the registry to send the family information pack: an SMS with a link to a recorded
    /// family member (once a day each), or a call from branch staff (a coordinator alert).
    ///
    /// # Errors
    /// NOT_FOUND for another volunteer's family member; BAD_USER_INPUT on `familyMemberId`
    /// when they have no phone.
    pub async fn request_info_pack(&self, me: &OwnRecord, pack: InfoPack, request_id: Option<&str>) -> AppResult<()> {
        let model = self.volunteers.find_model(me.id).await?;
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            match pack {
                InfoPack::Sms { family_member } => {
                    let member = family_member::Entity::find_by_id(family_member)
                        .filter(family_member::Column::VolunteerId.eq(me.id))
                        .one(txn)
                        .await?
                        .ok_or(AppError::NotFound { resource: "family member" })?;
                    let sealed = member.phone.ok_or_else(|| {
                        AppError::invalid("familyMemberId", "has no phone; add one, or ask for a staff call")
                    })?;
                    let clear = self
                        .keys
                        .cipher
                        .decrypt(&sealed, registry::FAMILY_MEMBER_PHONE.at(member.id))
                        .map_err(AppError::internal)?;
                    let phone = Phone::from_stored(&clear)
                        .map_err(|_| AppError::internal(anyhow::anyhow!("stored phone unreadable")))?;
                    let message = NewMessage {
                        recipient: Recipient::Sms(phone),
                        volunteer_id: Some(me.id),
                        branch_code: model.branch_code.clone(),
                        template_key: "family_info_pack".into(),
                        locale: "zh-CN".into(),
                        variables: BTreeMap::from([
                            ("name".into(), self.volunteers.masked_name(&model)?),
                            ("link".into(), self.volunteers.settings().family_info_link.clone()),
                        ]),
                        dedupe_key: format!("family_info_pack:{}:{}", member.id, now.date_naive()),
                        campaign_id: None,
                    };
                    self.messaging.queue(txn, message).await?;
                }
                InfoPack::StaffCall => {
                    alerts::raise(txn, &model.branch_code, Some(me.id), AlertKind::FamilyCallRequested).await?;
                }
            }
            let entry = AuditEntry {
                subject: Some(("volunteer", me.id)),
                detail: Some(if matches!(pack, InfoPack::StaffCall) { "staff_call" } else { "sms" }.into()),
                request_id,
                ..Default::default()
            };
            audit::record(
                txn,
                &crate::service::Principal::Volunteer { id: me.id },
                AuditAction::VolunteerFamilyInfoPack,
                entry,
            )
            .await?;
            Ok(())
        })
    }
}
