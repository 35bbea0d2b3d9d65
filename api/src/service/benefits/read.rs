//! The views: the donor's own entitlements (with their codes), a case's for staff (without),
//! and revocation by the branch's coordinator.

use std::collections::HashMap;

use chrono::Utc;
use entity::entitlement::Column;
use entity::{benefit_rule, entitlement, hospital, redemption};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::{Benefits, EntitlementView, RedemptionView, RuleView, unusable};
use crate::db;
use crate::domain::benefit::{BenefitKind, Holder, RelationshipProof};
use crate::domain::calendar;
use crate::error::{AppError, AppResult};
use crate::pii::registry;
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::{Coordinator, OwnRecord, Principal, VolunteerReader, bounded_text};

/// The longest revocation reason, in characters.
const MAX_REASON_CHARS: usize = 500;

impl Benefits {
    /// The donor's entitlements and their relatives', with codes, balances and redemptions.
    ///
    /// # Errors
    /// The database failed.
    pub async fn mine(&self, me: &OwnRecord) -> AppResult<Vec<EntitlementView>> {
        let rows = entitlement::Entity::find()
            .filter(entitlement::Column::VolunteerId.eq(me.id))
            .order_by_asc(entitlement::Column::CreatedAt)
            .order_by_asc(entitlement::Column::Id)
            .all(&self.db)
            .await?;
        self.views(rows, true).await
    }

    /// A case's entitlements, masked and without codes.
    ///
    /// # Errors
    /// NOT_FOUND for an unknown case; FORBIDDEN for another branch's.
    pub async fn for_case(&self, reader: &VolunteerReader, case_id: Uuid) -> AppResult<Vec<EntitlementView>> {
        crate::service::cases::in_scope(&self.db, &reader.scope, case_id).await?;
        let rows = entitlement::Entity::find()
            .filter(entitlement::Column::CaseId.eq(case_id))
            .order_by_asc(entitlement::Column::CreatedAt)
            .order_by_asc(entitlement::Column::Id)
            .all(&self.db)
            .await?;
        self.views(rows, false).await
    }

    /// Revokes an entitlement, giving a reason: it can no longer be redeemed, and what it
    /// redeemed stays. Audited.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `reason`; NOT_FOUND; FORBIDDEN for another branch's; CONFLICT on
    /// `entitlementId` when already revoked.
    pub async fn revoke(
        &self,
        coordinator: &Coordinator,
        actor: &Principal,
        id: Uuid,
        reason: &str,
        request_id: Option<&str>,
    ) -> AppResult<EntitlementView> {
        let reason = bounded_text("reason", reason, MAX_REASON_CHARS)?;
        let row = entitlement::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "entitlement" })?;
        if !coordinator.scope.admits(&row.branch_code) {
            return Err(AppError::Forbidden);
        }
        let staff_id = match actor {
            Principal::Staff { id, .. } => Some(*id),
            _ => None,
        };
        let sealed = self.keys.cipher.encrypt(&reason, registry::ENTITLEMENT_REVOKE_REASON.at(id));
        let row = db::write!(&self.db, |txn| {
            let now = Utc::now();
            let revoked = entitlement::Entity::update_many()
                .col_expr(Column::Status, Expr::value("revoked"))
                .col_expr(Column::RevokedAt, Expr::value(Some(now)))
                .col_expr(Column::RevokedBy, Expr::value(staff_id))
                .col_expr(Column::RevokeReason, Expr::value(Some(sealed.clone())))
                .col_expr(Column::Version, Expr::col(Column::Version).add(1))
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(Column::Id.eq(id))
                .filter(Column::Status.eq("active"))
                .exec(txn)
                .await?;
            if revoked.rows_affected != 1 {
                return Err(AppError::Conflict {
                    field: "entitlementId".into(),
                    message: "the entitlement is already revoked".into(),
                });
            }
            let entry = AuditEntry { subject: Some(("entitlement", id)), request_id, ..Default::default() };
            audit::record(txn, actor, AuditAction::EntitlementRevoked, entry).await?;
            entitlement::Entity::find_by_id(id).one(txn).await?.ok_or(AppError::Contended)
        })?;
        let mut views = self.views(vec![row], false).await?;
        views.pop().ok_or(AppError::NotFound { resource: "entitlement" })
    }

    /// Views of `rows`, with their rules and redemptions in two statements.
    async fn views(&self, rows: Vec<entitlement::Model>, with_codes: bool) -> AppResult<Vec<EntitlementView>> {
        let rules: HashMap<Uuid, RuleView> = benefit_rule::Entity::find()
            .filter(benefit_rule::Column::Id.is_in(rows.iter().map(|row| row.rule_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|rule| (rule.id, rule.into()))
            .collect();
        let redemptions = redemption::Entity::find()
            .filter(redemption::Column::EntitlementId.is_in(rows.iter().map(|row| row.id)))
            .order_by_asc(redemption::Column::RedeemedAt)
            .all(&self.db)
            .await?;
        let mut redemptions_of: HashMap<Uuid, Vec<RedemptionView>> = HashMap::new();
        for view in self.redemption_views(&self.db, redemptions).await? {
            redemptions_of.entry(view.entitlement_id).or_default().push(view);
        }
        let today = calendar::today(Utc::now());
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(rule) = rules.get(&row.rule_id).cloned() else { continue };
            let code = if with_codes {
                let clear = self
                    .keys
                    .cipher
                    .decrypt(&row.code, registry::ENTITLEMENT_CODE.at(row.id))
                    .map_err(AppError::internal)?;
                crate::domain::benefit::RedemptionCode::parse(&clear).ok().map(|code| code.grouped())
            } else {
                None
            };
            views.push(EntitlementView {
                id: row.id,
                case_id: row.case_id,
                holder: Holder::parse(&row.holder).unwrap_or(Holder::Donor),
                holder_name: self.masked_holder(&row)?,
                rule,
                kind: BenefitKind::parse(&row.kind).unwrap_or(BenefitKind::Recognition),
                granted_ml: row.granted_ml,
                remaining_ml: row.remaining_ml,
                granted_uses: row.granted_uses,
                remaining_uses: row.remaining_uses,
                unlimited: row.unlimited,
                starts_on: row.starts_on,
                expires_on: row.expires_on,
                unusable: unusable(&row, today),
                code,
                revoked_at: row.revoked_at,
                redemptions: redemptions_of.remove(&row.id).unwrap_or_default(),
            });
        }
        Ok(views)
    }

    /// Views of redemption rows, with their hospitals' names and holders.
    pub(super) async fn redemption_views<C: ConnectionTrait>(
        &self,
        conn: &C,
        rows: Vec<redemption::Model>,
    ) -> AppResult<Vec<RedemptionView>> {
        let names: HashMap<Uuid, String> = hospital::Entity::find()
            .filter(hospital::Column::Id.is_in(rows.iter().map(|row| row.hospital_id)))
            .all(conn)
            .await?
            .into_iter()
            .map(|hospital| (hospital.id, hospital.name))
            .collect();
        let holders: HashMap<Uuid, entitlement::Model> = entitlement::Entity::find()
            .filter(entitlement::Column::Id.is_in(rows.iter().map(|row| row.entitlement_id)))
            .all(conn)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        rows.into_iter()
            .map(|row| {
                let holder = holders.get(&row.entitlement_id);
                Ok(RedemptionView {
                    id: row.id,
                    entitlement_id: row.entitlement_id,
                    hospital_id: row.hospital_id,
                    hospital_name: names.get(&row.hospital_id).cloned().unwrap_or_default(),
                    volume_ml: row.volume_ml,
                    uses: row.uses,
                    proof: RelationshipProof::parse(&row.proof).unwrap_or(RelationshipProof::Other),
                    remaining_ml: row.remaining_ml,
                    remaining_uses: row.remaining_uses,
                    redeemed_at: row.redeemed_at,
                    holder: holder.and_then(|holder| Holder::parse(&holder.holder)),
                    holder_name: holder.map(|holder| self.masked_holder(holder)).transpose()?,
                })
            })
            .collect()
    }
}
