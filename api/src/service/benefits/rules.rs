//! A branch's benefit rules. A rule is known by its key; changing it writes the next version
//! and marks the one before superseded, so an entitlement keeps the version it was granted
//! under. A rule ends by a version whose `appliesUntil` is its last collection date.

use chrono::{NaiveDate, Utc};
use entity::benefit_rule::{self, Column, Entity};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::{Benefits, RuleTerms, RuleView};
use crate::db;
use crate::domain::benefit::{BenefitKind, Holder};
use crate::domain::calendar;
use crate::error::{AppError, AppResult};
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::{Coordinator, Principal, VolunteerReader, bounded_text};

/// A rule to define, or the next version of one.
#[derive(Clone, Debug)]
pub struct NewRule {
    pub branch_code: String,
    pub rule_key: String,
    pub title_zh: String,
    pub title_en: String,
    pub terms: RuleTerms,
    pub legal_basis: String,
}

impl NewRule {
    /// # Errors
    /// BAD_USER_INPUT naming the first field out of bounds.
    fn check(&self, today: NaiveDate) -> AppResult<()> {
        let key_ok = (1..=50).contains(&self.rule_key.len())
            && self.rule_key.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
        if !key_ok {
            return Err(AppError::invalid("input.ruleKey", "must be 1 to 50 lower-case letters, digits or hyphens"));
        }
        bounded_text("input.titleZh", &self.title_zh, 100)?;
        bounded_text("input.titleEn", &self.title_en, 100)?;
        bounded_text("input.legalBasis", &self.legal_basis, 2_000)?;
        if self.terms.holders.is_empty() {
            return Err(AppError::invalid("input.holders", "must name at least one holder"));
        }
        let within = |field: &'static str, value: Option<i32>, min: i32, max: i32| match value {
            Some(value) if !(min..=max).contains(&value) => {
                Err(AppError::invalid(field, format!("must be from {min} to {max}")))
            }
            _ => Ok(()),
        };
        within("input.volumeMultiple", self.terms.volume_multiple, 1, 10)?;
        within("input.fixedMl", self.terms.fixed_ml, 1, 5_000)?;
        within("input.uses", self.terms.uses, 1, 100)?;
        within("input.lifetimeAboveMl", self.terms.lifetime_above_ml, 1, 10_000)?;
        within("input.startsAfterDays", Some(self.terms.starts_after_days), 0, 3_650)?;
        within("input.validYears", self.terms.valid_years, 1, 50)?;
        match self.terms.kind {
            BenefitKind::BloodVolume if self.terms.volume_multiple.is_some() == self.terms.fixed_ml.is_some() => {
                return Err(AppError::invalid("input.volumeMultiple", "a volume rule gives a multiple or a fixed ml"));
            }
            BenefitKind::BloodUses if self.terms.uses.is_none() => {
                return Err(AppError::invalid("input.uses", "a uses rule gives a number of uses"));
            }
            _ => {}
        }
        if self.terms.applies_until.is_some_and(|until| until < today) {
            return Err(AppError::invalid("input.appliesUntil", "the rule's period has already ended"));
        }
        Ok(())
    }
}

impl Benefits {
    /// A branch's rules in force, or every version with `history`, by key and version.
    ///
    /// # Errors
    /// FORBIDDEN for another branch's rules.
    pub async fn rules(&self, reader: &VolunteerReader, branch_code: &str, history: bool) -> AppResult<Vec<RuleView>> {
        if !reader.scope.admits(branch_code) {
            return Err(AppError::Forbidden);
        }
        let mut query = Entity::find().filter(Column::BranchCode.eq(branch_code));
        if !history {
            query = query.filter(Column::SupersededAt.is_null());
        }
        let rows = query.order_by_asc(Column::RuleKey).order_by_asc(Column::Version).all(&self.db).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Defines a rule, or its next version: the version before is superseded, and what it
    /// granted stays as it was.
    ///
    /// # Errors
    /// BAD_USER_INPUT naming the field; FORBIDDEN for another branch; CONFLICT on
    /// `input.ruleKey` when another version was written meanwhile.
    pub async fn define(
        &self,
        coordinator: &Coordinator,
        actor: &Principal,
        rule: NewRule,
        request_id: Option<&str>,
    ) -> AppResult<RuleView> {
        if !coordinator.scope.admits(&rule.branch_code) {
            return Err(AppError::Forbidden);
        }
        let now = Utc::now();
        rule.check(calendar::today(now))?;
        if entity::branch::Entity::find_by_id(rule.branch_code.clone()).one(&self.db).await?.is_none() {
            return Err(AppError::invalid("input.branchCode", "no such branch"));
        }
        let created_by = match actor {
            Principal::Staff { id, .. } => Some(*id),
            _ => None,
        };
        let row = db::write!(&self.db, |txn| {
            let current = current_version(txn, &rule.branch_code, &rule.rule_key).await?;
            let version = current.as_ref().map_or(1, |row| row.version + 1);
            if let Some(current) = &current {
                Entity::update_many()
                    .col_expr(Column::SupersededAt, Expr::value(Some(now)))
                    .filter(Column::Id.eq(current.id))
                    .exec(txn)
                    .await?;
            }
            let id = Uuid::now_v7();
            let inserted = Entity::insert(benefit_rule::ActiveModel {
                id: Set(id),
                branch_code: Set(rule.branch_code.clone()),
                rule_key: Set(rule.rule_key.clone()),
                version: Set(version),
                title_zh: Set(rule.title_zh.trim().to_owned()),
                title_en: Set(rule.title_en.trim().to_owned()),
                holders: Set(Holder::stored_list(&rule.terms.holders)),
                kind: Set(rule.terms.kind.as_str().to_owned()),
                volume_multiple: Set(rule.terms.volume_multiple),
                fixed_ml: Set(rule.terms.fixed_ml),
                uses: Set(rule.terms.uses),
                lifetime_above_ml: Set(rule.terms.lifetime_above_ml),
                starts_after_days: Set(rule.terms.starts_after_days),
                valid_years: Set(rule.terms.valid_years),
                applies_until: Set(rule.terms.applies_until),
                legal_basis: Set(rule.legal_basis.trim().to_owned()),
                created_by: Set(created_by),
                created_at: Set(now),
                superseded_at: Set(None),
            })
            .exec_without_returning(txn)
            .await;
            let taken = AppError::Conflict {
                field: "input.ruleKey".into(),
                message: "another version of this rule was written meanwhile: read the rules again".into(),
            };
            inserted.map_err(|err| AppError::on_constraint(err, Some(taken), None))?;
            let entry = AuditEntry {
                subject: Some(("benefit_rule", id)),
                detail: Some(format!("{} v{version}", rule.rule_key)),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::BenefitRuleDefined, entry).await?;
            Entity::find_by_id(id).one(txn).await?.ok_or(AppError::Contended)
        })?;
        Ok(row.into())
    }
}

/// The version of a rule in force.
async fn current_version<C: ConnectionTrait>(
    conn: &C,
    branch_code: &str,
    rule_key: &str,
) -> AppResult<Option<benefit_rule::Model>> {
    Ok(Entity::find()
        .filter(Column::BranchCode.eq(branch_code))
        .filter(Column::RuleKey.eq(rule_key))
        .filter(Column::SupersededAt.is_null())
        .one(conn)
        .await?)
}

/// The rules in force for a collection on `collected_on`.
pub(super) async fn in_force<C: ConnectionTrait>(
    conn: &C,
    branch_code: &str,
    collected_on: NaiveDate,
) -> AppResult<Vec<RuleView>> {
    let rows = Entity::find()
        .filter(Column::BranchCode.eq(branch_code))
        .filter(Column::SupersededAt.is_null())
        .filter(Column::AppliesUntil.is_null().or(Column::AppliesUntil.gte(collected_on)))
        .order_by_asc(Column::RuleKey)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}
