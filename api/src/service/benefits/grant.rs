//! What a collection grants: a grant per rule in force, on the collection's own transaction,
//! and the donor's own entitlements; then the relatives the donor names, each under the rule
//! versions their donation was granted, whatever the rules say by then.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{benefit_grant, benefit_rule, entitlement, family_member, volunteer};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::rules::in_force;
use super::{Benefits, EntitlementView, RuleView, terms};
use crate::db;
use crate::domain::benefit::{BenefitKind, Holder, RedemptionCode};
use crate::domain::{NationalId, PersonName, Phone, Relationship, calendar};
use crate::error::{AppError, AppResult};
use crate::messaging::{NewMessage, Recipient};
use crate::pii::registry;
use crate::service::OwnRecord;
use crate::service::audit::{self, AuditAction, AuditEntry};

/// A relative the donor names, from their recorded family.
#[derive(Clone, Debug)]
pub struct NewBeneficiary {
    pub family_member_id: Uuid,
    pub relationship: Relationship,
    pub name: String,
    pub national_id: String,
}

/// One entitlement to write.
struct Holding<'a> {
    grant: &'a benefit_grant::Model,
    rule: &'a RuleView,
    holder: Holder,
    family_member_id: Option<Uuid>,
    name: &'a str,
    national_id: &'a NationalId,
    cumulative_ml: i32,
}

impl Benefits {
    /// Whether the branch's rules for a collection on `collected_on` multiply the collected
    /// volume, so that collection must record it.
    ///
    /// # Errors
    /// The database failed.
    pub async fn need_volume(&self, branch_code: &str, collected_on: NaiveDate) -> AppResult<bool> {
        let rules = in_force(&self.db, branch_code, collected_on).await?;
        Ok(rules.iter().any(|rule| rule.terms.kind == BenefitKind::BloodVolume && rule.terms.volume_multiple.is_some()))
    }

    /// Grants the branch's rules in force to a collection, on its transaction: one grant per
    /// rule, and the donor's own entitlements.
    ///
    /// # Errors
    /// The database failed.
    pub(crate) async fn grant_at_collection(
        &self,
        txn: &DatabaseTransaction,
        case_id: Uuid,
        branch_code: &str,
        volunteer_id: Uuid,
        collected_on: NaiveDate,
        donated_ml: Option<i32>,
    ) -> AppResult<()> {
        let now = Utc::now();
        let rules = in_force(txn, branch_code, collected_on).await?;
        if rules.is_empty() {
            return Ok(());
        }
        let donor = volunteer::Entity::find_by_id(volunteer_id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound { resource: "volunteer" })?;
        let (name, national_id) = self.volunteers.identity(&donor)?;
        // The donor, and the relatives named for an earlier donation: a second donation grants
        // them too, without naming them again.
        let mut holders = vec![(Holder::Donor, None, name.expose().to_owned(), national_id)];
        holders.extend(self.named_relatives(txn, volunteer_id).await?);
        let cumulative_ml = donated_before(txn, volunteer_id, case_id).await? + donated_ml.unwrap_or(0);
        for rule in &rules {
            let grant = benefit_grant::Model {
                id: Uuid::now_v7(),
                case_id,
                volunteer_id,
                branch_code: branch_code.to_owned(),
                rule_id: rule.id,
                donated_ml,
                collected_on,
                created_at: now,
            };
            benefit_grant::Entity::insert(benefit_grant::ActiveModel::from(grant.clone()))
                .exec_without_returning(txn)
                .await?;
            for (holder, family_member_id, name, national_id) in &holders {
                if rule.terms.holders.contains(holder) {
                    let holding = Holding {
                        grant: &grant,
                        rule,
                        holder: *holder,
                        family_member_id: *family_member_id,
                        name,
                        national_id,
                        cumulative_ml,
                    };
                    self.hold(txn, &holding, now).await?;
                }
            }
        }
        Ok(())
    }

    /// The relatives the donor named before, once each, with their names and ID numbers.
    async fn named_relatives(
        &self,
        txn: &DatabaseTransaction,
        volunteer_id: Uuid,
    ) -> AppResult<Vec<(Holder, Option<Uuid>, String, NationalId)>> {
        let rows = entitlement::Entity::find()
            .filter(entitlement::Column::VolunteerId.eq(volunteer_id))
            .filter(entitlement::Column::Holder.ne(Holder::Donor.as_str()))
            .order_by_asc(entitlement::Column::CreatedAt)
            .all(txn)
            .await?;
        let mut seen = std::collections::HashSet::new();
        let cipher = &self.keys.cipher;
        let mut relatives = Vec::new();
        for row in rows.into_iter().filter(|row| seen.insert(row.holder_id_index.clone())) {
            let Some(holder) = Holder::parse(&row.holder) else { continue };
            let name = cipher
                .decrypt(&row.holder_name, registry::ENTITLEMENT_HOLDER_NAME.at(row.id))
                .map_err(AppError::internal)?;
            let national_id = cipher
                .decrypt(&row.holder_national_id, registry::ENTITLEMENT_HOLDER_NATIONAL_ID.at(row.id))
                .map_err(AppError::internal)?;
            let national_id = NationalId::parse(&national_id)
                .map_err(|_| AppError::internal(anyhow::anyhow!("stored national id unreadable")))?;
            relatives.push((holder, row.family_member_id, name, national_id));
        }
        Ok(relatives)
    }

    /// Names a relative from the donor's recorded family as a beneficiary: an entitlement under
    /// each rule version the donor's collections granted that covers the relationship. The
    /// family member's record takes the name and relationship given.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `input.name`, `input.nationalId` (a wrong check character, or the
    /// donor's own), and `input.relationship` when no granted rule covers it; NOT_FOUND for
    /// another volunteer's family member; CONFLICT on `input.nationalId` when this relative is
    /// already named.
    pub async fn name_beneficiary(
        &self,
        me: &OwnRecord,
        input: NewBeneficiary,
        request_id: Option<&str>,
    ) -> AppResult<Vec<EntitlementView>> {
        let name = PersonName::parse(&input.name).map_err(AppError::field("input.name"))?;
        let national_id = NationalId::parse(&input.national_id).map_err(AppError::field("input.nationalId"))?;
        let not_covered = || {
            AppError::invalid(
                "input.relationship",
                format!(
                    "no benefit rule of your donation covers a family member who is your {}",
                    input.relationship.as_str()
                ),
            )
        };
        let holder = Holder::of(input.relationship).ok_or_else(not_covered)?;
        let index = self.keys.blind_index.national_id(&national_id);
        let donor = self.volunteers.find_model(me.id).await?;
        if donor.national_id_index == index {
            return Err(AppError::invalid("input.nationalId", "is your own: name the relative's"));
        }
        let member = family_member::Entity::find_by_id(input.family_member_id)
            .filter(family_member::Column::VolunteerId.eq(me.id))
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "family member" })?;
        let granted = self.grants_of(me.id).await?;
        let covering: Vec<_> =
            granted.iter().filter(|(_, rule)| rule.terms.holders.contains(&holder)).cloned().collect();
        if covering.is_empty() {
            return Err(not_covered());
        }
        let now = Utc::now();
        let ids = db::write!(&self.db, |txn| {
            db::lock_volunteer(txn, me.id).await?;
            let already = entitlement::Entity::find()
                .filter(entitlement::Column::VolunteerId.eq(me.id))
                .filter(entitlement::Column::HolderIdIndex.eq(index.clone()))
                .one(txn)
                .await?;
            if already.is_some() {
                return Ok(Err(AppError::Conflict {
                    field: "input.nationalId".into(),
                    message: "this relative is already named".into(),
                }));
            }
            let cumulative_ml = donated_before(txn, me.id, Uuid::nil()).await?;
            let mut ids = Vec::new();
            for (grant, rule) in &covering {
                let holding = Holding {
                    grant,
                    rule,
                    holder,
                    family_member_id: Some(member.id),
                    name: name.expose(),
                    national_id: &national_id,
                    cumulative_ml,
                };
                ids.extend(self.hold(txn, &holding, now).await?);
            }
            let cipher = &self.keys.cipher;
            family_member::Entity::update_many()
                .col_expr(family_member::Column::Relationship, Expr::value(input.relationship.as_str()))
                .col_expr(
                    family_member::Column::Name,
                    Expr::value(Some(cipher.encrypt(name.expose(), registry::FAMILY_MEMBER_NAME.at(member.id)))),
                )
                .col_expr(family_member::Column::UpdatedAt, Expr::value(now))
                .filter(family_member::Column::Id.eq(member.id))
                .exec(txn)
                .await?;
            let entry = AuditEntry {
                subject: Some(("family_member", member.id)),
                detail: Some(holder.as_str().to_owned()),
                request_id,
                ..Default::default()
            };
            audit::record(
                txn,
                &crate::service::Principal::Volunteer { id: me.id },
                AuditAction::BeneficiaryNamed,
                entry,
            )
            .await?;
            Ok(Ok(ids))
        })??;
        let mine = self.mine(me).await?;
        Ok(mine.into_iter().filter(|view| ids.contains(&view.id)).collect())
    }

    /// Sends a relative their redemption code by SMS: to `phone`, or to the phone recorded for
    /// the family member. Once a day per entitlement; returns the masked number.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `phone` (malformed, or none given and none recorded); NOT_FOUND for
    /// another donor's entitlement or the donor's own; CONFLICT on `entitlementId` once it can
    /// no longer be used.
    pub async fn send_code(&self, me: &OwnRecord, entitlement_id: Uuid, phone: Option<&str>) -> AppResult<String> {
        let row = entitlement::Entity::find_by_id(entitlement_id)
            .filter(entitlement::Column::VolunteerId.eq(me.id))
            .filter(entitlement::Column::Holder.ne(Holder::Donor.as_str()))
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "entitlement" })?;
        let now = Utc::now();
        let today = calendar::today(now);
        if let Some(why) =
            super::unusable(&row, today).filter(|why| !matches!(why, crate::domain::benefit::Unusable::NotYetValid))
        {
            return Err(AppError::Conflict {
                field: "entitlementId".into(),
                message: format!("the entitlement cannot be used: {}", why.as_str()),
            });
        }
        let phone = match phone {
            Some(phone) => Phone::parse(phone).map_err(AppError::field("phone"))?,
            None => self
                .recorded_phone(row.family_member_id)
                .await?
                .ok_or_else(|| AppError::invalid("phone", "no phone is recorded for this family member: give one"))?,
        };
        let cipher = &self.keys.cipher;
        let code = cipher.decrypt(&row.code, registry::ENTITLEMENT_CODE.at(row.id)).map_err(AppError::internal)?;
        let code =
            RedemptionCode::parse(&code).map_err(|_| AppError::internal(anyhow::anyhow!("stored code unreadable")))?;
        let expires = row.expires_on.map_or_else(|| "长期".to_owned(), |day| day.format("%Y-%m-%d").to_string());
        let masked = phone.masked();
        let message = NewMessage {
            recipient: Recipient::Sms(phone),
            volunteer_id: Some(me.id),
            branch_code: row.branch_code.clone(),
            template_key: "entitlement_code".into(),
            locale: "zh-CN".into(),
            variables: BTreeMap::from([("code".to_owned(), code.grouped()), ("expires".to_owned(), expires)]),
            dedupe_key: format!("entitlement_code:{}:{today}", row.id),
            campaign_id: None,
        };
        self.messaging.queue(&self.db, message).await?;
        Ok(masked)
    }

    async fn recorded_phone(&self, family_member_id: Option<Uuid>) -> AppResult<Option<Phone>> {
        let Some(id) = family_member_id else { return Ok(None) };
        let Some(member) = family_member::Entity::find_by_id(id).one(&self.db).await? else { return Ok(None) };
        let Some(sealed) = member.phone else { return Ok(None) };
        let clear = self
            .keys
            .cipher
            .decrypt(&sealed, registry::FAMILY_MEMBER_PHONE.at(member.id))
            .map_err(AppError::internal)?;
        Ok(Some(
            Phone::from_stored(&clear).map_err(|_| AppError::internal(anyhow::anyhow!("stored phone unreadable")))?,
        ))
    }

    /// Each grant of the donor's collections, with the rule version it granted.
    async fn grants_of(&self, volunteer_id: Uuid) -> AppResult<Vec<(benefit_grant::Model, RuleView)>> {
        let grants = benefit_grant::Entity::find()
            .filter(benefit_grant::Column::VolunteerId.eq(volunteer_id))
            .order_by_asc(benefit_grant::Column::CreatedAt)
            .all(&self.db)
            .await?;
        let rules: std::collections::HashMap<Uuid, RuleView> = benefit_rule::Entity::find()
            .filter(benefit_rule::Column::Id.is_in(grants.iter().map(|grant| grant.rule_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|rule| (rule.id, rule.into()))
            .collect();
        Ok(grants
            .into_iter()
            .filter_map(|grant| {
                let rule = rules.get(&grant.rule_id)?.clone();
                Some((grant, rule))
            })
            .collect())
    }

    /// Writes one holder's entitlement under one grant, with a new code; none when the rule's
    /// terms give nothing (a lifetime threshold not reached).
    async fn hold<C: ConnectionTrait>(
        &self,
        conn: &C,
        holding: &Holding<'_>,
        now: DateTime<Utc>,
    ) -> AppResult<Option<Uuid>> {
        let Some(terms) =
            terms(&holding.rule.terms, holding.grant.collected_on, holding.grant.donated_ml, holding.cumulative_ml)
        else {
            return Ok(None);
        };
        let id = Uuid::now_v7();
        let code = RedemptionCode::generate();
        let cipher = &self.keys.cipher;
        let row = entitlement::ActiveModel {
            id: Set(id),
            grant_id: Set(holding.grant.id),
            volunteer_id: Set(holding.grant.volunteer_id),
            case_id: Set(holding.grant.case_id),
            branch_code: Set(holding.grant.branch_code.clone()),
            rule_id: Set(holding.rule.id),
            holder: Set(holding.holder.as_str().to_owned()),
            family_member_id: Set(holding.family_member_id),
            holder_name: Set(cipher.encrypt(holding.name, registry::ENTITLEMENT_HOLDER_NAME.at(id))),
            holder_national_id: Set(
                cipher.encrypt(holding.national_id.expose(), registry::ENTITLEMENT_HOLDER_NATIONAL_ID.at(id))
            ),
            holder_id_index: Set(self.keys.blind_index.national_id(holding.national_id)),
            kind: Set(holding.rule.terms.kind.as_str().to_owned()),
            granted_ml: Set(terms.ml),
            remaining_ml: Set(terms.ml),
            granted_uses: Set(terms.uses),
            remaining_uses: Set(terms.uses),
            unlimited: Set(terms.unlimited),
            starts_on: Set(terms.starts_on),
            expires_on: Set(terms.expires_on),
            code: Set(cipher.encrypt(code.expose(), registry::ENTITLEMENT_CODE.at(id))),
            code_index: Set(self.keys.blind_index.code(&code)),
            status: Set("active".to_owned()),
            revoked_at: Set(None),
            revoked_by: Set(None),
            revoke_reason: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        };
        entitlement::Entity::insert(row).exec_without_returning(conn).await?;
        Ok(Some(id))
    }
}

/// What the donor gave in collections other than `case_id`'s, in ml.
async fn donated_before<C: ConnectionTrait>(conn: &C, volunteer_id: Uuid, case_id: Uuid) -> AppResult<i32> {
    let rows: Vec<(Uuid, Option<i32>)> = benefit_grant::Entity::find()
        .select_only()
        .column(benefit_grant::Column::CaseId)
        .column(benefit_grant::Column::DonatedMl)
        .filter(benefit_grant::Column::VolunteerId.eq(volunteer_id))
        .filter(benefit_grant::Column::CaseId.ne(case_id))
        .into_tuple()
        .all(conn)
        .await?;
    let per_case: BTreeMap<Uuid, i32> = rows.into_iter().map(|(case, ml)| (case, ml.unwrap_or(0))).collect();
    Ok(per_case.values().sum())
}
