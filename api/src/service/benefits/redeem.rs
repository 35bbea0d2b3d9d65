//! The hospital's side: check an entitlement with its code and the holder's ID number, and
//! redeem it under an idempotency key.
//!
//! A wrong code and a wrong ID number get the same answer, so a check cannot tell whether
//! someone is a donor's relative; each such failure counts against the hospital's throttle,
//! and once past it every check of that hospital is refused until the window resets. A
//! redemption takes the balance by a conditional update (`remaining >= asked`), so two
//! hospitals at once can never take more than there is, and its key makes a retry replay.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{benefit_rule, entitlement, hospital, redemption};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use super::{Benefits, MAX_REDEMPTION_ML, RedemptionView, unusable};
use crate::db;
use crate::domain::benefit::{BenefitKind, Holder, RedemptionCode, RelationshipProof, Unusable};
use crate::domain::{NationalId, PersonName, calendar};
use crate::error::{AppError, AppResult};
use crate::messaging::{NewMessage, Recipient};
use crate::pii::registry;
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::idempotency::IdempotentCall;
use crate::service::rate_limit::{self as limits, Limit};
use crate::service::webhooks::EventType;
use crate::service::{PartnerHospital, Principal};

/// The longest page of a hospital's redemptions.
pub const MAX_REDEMPTIONS: u64 = 100;

/// What a check tells the hospital, and nothing more.
#[derive(Clone, Debug)]
pub struct CheckAnswer {
    pub valid: bool,
    /// Why not, when not.
    pub unusable: Option<Unusable>,
    /// The rest only when the code and the ID number match an entitlement.
    pub holder_name: Option<String>,
    pub holder: Option<Holder>,
    pub kind: Option<BenefitKind>,
    pub remaining_ml: Option<i32>,
    pub remaining_uses: Option<i32>,
    pub unlimited: bool,
    pub expires_on: Option<NaiveDate>,
    pub legal_basis: Option<String>,
}

impl CheckAnswer {
    fn not_found() -> Self {
        Self {
            valid: false,
            unusable: Some(Unusable::NotFound),
            holder_name: None,
            holder: None,
            kind: None,
            remaining_ml: None,
            remaining_uses: None,
            unlimited: false,
            expires_on: None,
            legal_basis: None,
        }
    }
}

/// A redemption a hospital asks for.
#[derive(Clone, Debug, Serialize)]
pub struct Redeem {
    pub code: String,
    pub national_id: String,
    pub volume_ml: Option<i32>,
    pub uses: Option<i32>,
    pub proof: RelationshipProof,
}

impl Benefits {
    /// Checks an entitlement by its code and its holder's ID number.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `code` or `nationalId` that cannot be one; RATE_LIMITED once the
    /// hospital's failed checks pass the throttle.
    pub async fn check(&self, hospital: &PartnerHospital, code: &str, national_id: &str) -> AppResult<CheckAnswer> {
        let (code, national_id) = parse("code", code, "nationalId", national_id)?;
        let Some(row) = self.matching(hospital, &code, &national_id).await? else {
            return Ok(CheckAnswer::not_found());
        };
        let rule = benefit_rule::Entity::find_by_id(row.rule_id).one(&self.db).await?;
        let why = unusable(&row, calendar::today(Utc::now()));
        Ok(CheckAnswer {
            valid: why.is_none(),
            unusable: why,
            holder_name: Some(self.masked_holder(&row)?),
            holder: Holder::parse(&row.holder),
            kind: BenefitKind::parse(&row.kind),
            remaining_ml: row.remaining_ml,
            remaining_uses: row.remaining_uses,
            unlimited: row.unlimited,
            expires_on: row.expires_on,
            legal_basis: rule.map(|rule| rule.legal_basis),
        })
    }

    /// Redeems a volume or a number of uses, once per idempotency key; the donor is told, and
    /// the hospital's system gets `entitlement.redeemed`.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `input.code`, `input.nationalId`, `input.volumeMl` (zero, negative,
    /// above the most one redemption takes, or missing for a volume) or `input.uses`;
    /// NOT_FOUND for a code and ID number that match nothing (the same for either wrong);
    /// CONFLICT on `input.code` for an entitlement that cannot be used, on `input.volumeMl` or
    /// `input.uses` beyond the balance, on `idempotencyKey` for a key used with other input;
    /// RATE_LIMITED as [`Self::check`].
    pub async fn redeem(
        &self,
        hospital: &PartnerHospital,
        actor: &Principal,
        key: &str,
        input: Redeem,
        request_id: Option<&str>,
    ) -> AppResult<RedemptionView> {
        let call = IdempotentCall::new(hospital, key, "redeemEntitlement", &input)?;
        let (code, national_id) = parse("input.code", &input.code, "input.nationalId", &input.national_id)?;
        if let Some(ml) = input.volume_ml
            && !(1..=MAX_REDEMPTION_ML).contains(&ml)
        {
            return Err(AppError::invalid("input.volumeMl", format!("must be from 1 to {MAX_REDEMPTION_ML} ml")));
        }
        if let Some(uses) = input.uses
            && !(1..=10).contains(&uses)
        {
            return Err(AppError::invalid("input.uses", "must be from 1 to 10"));
        }
        let Some(found) = self.matching(hospital, &code, &national_id).await? else {
            return Err(AppError::NotFound { resource: "entitlement" });
        };
        let kind = BenefitKind::parse(&found.kind).unwrap_or(BenefitKind::Recognition);
        let (ml, uses) = match kind {
            BenefitKind::BloodVolume | BenefitKind::LifetimePriority => (
                Some(input.volume_ml.ok_or_else(|| AppError::invalid("input.volumeMl", "give the volume used"))?),
                None,
            ),
            BenefitKind::BloodUses => (None, Some(input.uses.unwrap_or(1))),
            BenefitKind::Recognition => (None, None),
        };
        let hospital_name: String = hospital::Entity::find_by_id(hospital.id)
            .select_only()
            .column(hospital::Column::Name)
            .into_tuple()
            .one(&self.db)
            .await?
            .ok_or(AppError::Forbidden)?;
        let (hospital_name, found) = (&hospital_name, &found);
        let (view, told) = db::write!(&self.db, |txn| {
            let now = Utc::now();
            let (view, told) = call
                .once(txn, &self.keys, now, || async move {
                    let taken = self.take_on(txn, hospital, found, (ml, uses, input.proof), hospital_name, now).await?;
                    let entry =
                        AuditEntry { subject: Some(("entitlement", found.id)), request_id, ..Default::default() };
                    audit::record(txn, actor, AuditAction::EntitlementRedeemed, entry).await?;
                    Ok(taken)
                })
                .await?;
            Ok((view, told.unwrap_or(false)))
        })?;
        if told {
            self.webhooks.wake();
        }
        Ok(view)
    }

    /// Takes the redemption from the entitlement `found` named, on `txn`: its row read again,
    /// the balance taken, the redemption written, the donor and the hospital's system told.
    /// Answers the redemption and whether a webhook was queued.
    async fn take_on(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        hospital: &PartnerHospital,
        found: &entitlement::Model,
        (ml, uses, proof): (Option<i32>, Option<i32>, RelationshipProof),
        hospital_name: &str,
        now: DateTime<Utc>,
    ) -> AppResult<(RedemptionView, bool)> {
        let row = entitlement::Entity::find_by_id(found.id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound { resource: "entitlement" })?;
        if let Some(why) = unusable(&row, calendar::today(now)) {
            return Err(AppError::Conflict {
                field: "input.code".into(),
                message: format!("the entitlement cannot be used: {}", why.as_str()),
            });
        }
        take(txn, &row, ml, uses, now).await?;
        let row = entitlement::Entity::find_by_id(row.id).one(txn).await?.ok_or(AppError::Contended)?;
        let view = self.record(txn, &row, (hospital.id, hospital_name), (ml, uses, proof), now).await?;
        self.tell_donor(txn, &row, &view).await?;
        let data = serde_json::json!({
            "redemptionId": view.id.to_string(),
            "entitlementId": row.id.to_string(),
            "volumeMl": ml,
            "uses": uses,
            "remainingMl": row.remaining_ml,
            "remainingUses": row.remaining_uses,
            "redeemedAt": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        let told = self.webhooks.emit(txn, hospital.id, &row.branch_code, EventType::EntitlementRedeemed, data).await?;
        Ok((view, told))
    }

    /// Writes the redemption of `taken` (ml, uses, proof) from `row`, as it is after the take.
    async fn record<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: &entitlement::Model,
        (hospital_id, hospital_name): (Uuid, &str),
        (ml, uses, proof): (Option<i32>, Option<i32>, RelationshipProof),
        now: DateTime<Utc>,
    ) -> AppResult<RedemptionView> {
        let id = Uuid::now_v7();
        redemption::Entity::insert(redemption::ActiveModel {
            id: Set(id),
            entitlement_id: Set(row.id),
            hospital_id: Set(hospital_id),
            branch_code: Set(row.branch_code.clone()),
            volume_ml: Set(ml),
            uses: Set(uses),
            proof: Set(proof.as_str().to_owned()),
            remaining_ml: Set(row.remaining_ml),
            remaining_uses: Set(row.remaining_uses),
            redeemed_at: Set(now),
        })
        .exec_without_returning(conn)
        .await?;
        Ok(RedemptionView {
            id,
            entitlement_id: row.id,
            hospital_id,
            hospital_name: hospital_name.to_owned(),
            volume_ml: ml,
            uses,
            proof,
            remaining_ml: row.remaining_ml,
            remaining_uses: row.remaining_uses,
            redeemed_at: now,
            holder: Holder::parse(&row.holder),
            holder_name: Some(self.masked_holder(row)?),
        })
    }

    /// The redemptions the calling hospital made, newest first: `first` of them, at most
    /// [`MAX_REDEMPTIONS`].
    ///
    /// # Errors
    /// BAD_USER_INPUT on `first`.
    pub async fn redemptions_by(&self, hospital: &PartnerHospital, first: u64) -> AppResult<Vec<RedemptionView>> {
        if !(1..=MAX_REDEMPTIONS).contains(&first) {
            return Err(AppError::invalid("first", format!("must be 1 to {MAX_REDEMPTIONS}")));
        }
        let rows = redemption::Entity::find()
            .filter(redemption::Column::HospitalId.eq(hospital.id))
            .order_by_desc(redemption::Column::RedeemedAt)
            .limit(first)
            .all(&self.db)
            .await?;
        self.redemption_views(&self.db, rows).await
    }

    /// The entitlement that `code` names, when `national_id` is its holder's; a failure counts
    /// against the hospital's throttle.
    async fn matching(
        &self,
        hospital: &PartnerHospital,
        code: &RedemptionCode,
        national_id: &NationalId,
    ) -> AppResult<Option<entitlement::Model>> {
        let now = Utc::now();
        let throttle = format!("entitlement_check:{}", hospital.id);
        let limit = Limit {
            max: self.settings.failed_checks,
            window: Duration::minutes(self.settings.failed_checks_window_minutes),
        };
        limits::spent(&self.db, &throttle, limit, now).await?;
        let row = entitlement::Entity::find()
            .filter(entitlement::Column::CodeIndex.eq(self.keys.blind_index.code(code)))
            .one(&self.db)
            .await?
            .filter(|row| row.holder_id_index == self.keys.blind_index.national_id(national_id));
        if row.is_none() {
            limits::hit(&self.db, &throttle, limit, now).await?;
        }
        Ok(row)
    }

    /// The holder's name, masked.
    pub(super) fn masked_holder(&self, row: &entitlement::Model) -> AppResult<String> {
        let name = self
            .keys
            .cipher
            .decrypt(&row.holder_name, registry::ENTITLEMENT_HOLDER_NAME.at(row.id))
            .map_err(AppError::internal)?;
        Ok(PersonName::parse(&name).map_or_else(|_| "*".to_owned(), |name| name.masked()))
    }

    /// Puts a redemption in the donor's notifications.
    async fn tell_donor<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: &entitlement::Model,
        view: &RedemptionView,
    ) -> AppResult<()> {
        let amount = match (view.volume_ml, view.uses) {
            (Some(ml), _) => format!("{ml}毫升"),
            (None, Some(uses)) => format!("{uses}次"),
            (None, None) => String::new(),
        };
        let remaining = match (row.remaining_ml, row.remaining_uses) {
            (Some(ml), _) => format!("{ml}毫升"),
            (None, Some(uses)) => format!("{uses}次"),
            (None, None) => "不限".to_owned(),
        };
        let message = NewMessage {
            recipient: Recipient::AppInbox { volunteer_id: row.volunteer_id },
            volunteer_id: Some(row.volunteer_id),
            branch_code: row.branch_code.clone(),
            template_key: "entitlement_redeemed".into(),
            locale: "zh-CN".into(),
            variables: BTreeMap::from([
                ("hospital".to_owned(), view.hospital_name.clone()),
                ("amount".to_owned(), amount),
                ("remaining".to_owned(), remaining),
            ]),
            dedupe_key: format!("redemption:{}", view.id),
            campaign_id: None,
        };
        self.messaging.queue(conn, message).await?;
        Ok(())
    }
}

/// Takes `ml` or `uses` from the balance, only if the balance holds them: one conditional
/// update, so concurrent redemptions can never overdraw it.
async fn take<C: ConnectionTrait>(
    conn: &C,
    row: &entitlement::Model,
    ml: Option<i32>,
    uses: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use entitlement::Column;
    let mut update = entitlement::Entity::update_many()
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(row.id))
        .filter(Column::Status.eq("active"));
    let (field, left, asked) = match (row.remaining_ml, row.remaining_uses, ml, uses) {
        (Some(_), _, Some(ml), _) => {
            update = update
                .col_expr(Column::RemainingMl, Expr::col(Column::RemainingMl).sub(ml))
                .filter(Column::RemainingMl.gte(ml));
            ("input.volumeMl", Column::RemainingMl, ml)
        }
        (_, Some(_), _, Some(uses)) => {
            update = update
                .col_expr(Column::RemainingUses, Expr::col(Column::RemainingUses).sub(uses))
                .filter(Column::RemainingUses.gte(uses));
            ("input.uses", Column::RemainingUses, uses)
        }
        // Unlimited priority: recorded, nothing taken.
        _ => ("input.volumeMl", Column::Version, 0),
    };
    if update.exec(conn).await?.rows_affected == 1 {
        return Ok(());
    }
    let balance: Option<Option<i32>> =
        entitlement::Entity::find_by_id(row.id).select_only().column(left).into_tuple().one(conn).await?;
    Err(AppError::Conflict {
        field: field.into(),
        message: format!("{asked} asked, {} left: the balance does not cover it", balance.flatten().unwrap_or(0)),
    })
}

fn parse(
    code_field: &'static str,
    code: &str,
    id_field: &'static str,
    national_id: &str,
) -> AppResult<(RedemptionCode, NationalId)> {
    let code = RedemptionCode::parse(code).map_err(AppError::field(code_field))?;
    let national_id = NationalId::parse(national_id).map_err(AppError::field(id_field))?;
    Ok((code, national_id))
}
