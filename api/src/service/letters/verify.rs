//! The public check of a letter's code: what an employer sees after scanning the QR code,
//! on the web page and from the anonymous GraphQL query alike.
//!
//! It shows only where the letter stands, the donor's masked name, the dates and what they
//! cover, the issuing branch and when it was issued. Each check of a known code is counted for
//! the donor; who checked is not kept. Checks are rate-limited per client address, so that the
//! page cannot be used to try codes (a code has 95 random bits besides).

use chrono::{DateTime, Duration, Utc};
use entity::{leave_letter, leave_letter_check};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{Letters, Standing};
use crate::db;
use crate::domain::PersonName;
use crate::domain::letter::{LeavePeriod, LetterCode};
use crate::error::{AppError, AppResult};
use crate::service::ClientAddress;
use crate::service::rate_limit::{self, Limit};

/// What a check shows.
#[derive(Clone, Debug)]
pub struct Verification {
    pub standing: Standing,
    pub masked_name: String,
    pub periods: Vec<LeavePeriod>,
    pub branch_name_zh: String,
    pub branch_name_en: String,
    pub issued_at: DateTime<Utc>,
}

impl Letters {
    /// Checks a code as typed or scanned, and counts the check.
    ///
    /// # Errors
    /// RATE_LIMITED past the per-address limit; BAD_USER_INPUT on `code` for something that is
    /// not a letter code; NOT_FOUND when no letter has the code (which says nothing about
    /// anyone).
    pub async fn verify(&self, raw: &str, client: ClientAddress) -> AppResult<Verification> {
        let limit = Limit { max: self.settings.checks_per_minute, window: Duration::minutes(1) };
        rate_limit::hit(&self.db, &client.rate_key(&self.keys.blind_index, "letter_check"), limit, Utc::now()).await?;
        let code = LetterCode::parse(raw).map_err(AppError::field("code"))?;
        let row = leave_letter::Entity::find()
            .filter(leave_letter::Column::CodeIndex.eq(self.keys.blind_index.code(&code)))
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "leave letter" })?;
        let facts = self.facts(&row)?;
        let periods = facts.periods.clone();
        let masked_name = PersonName::parse(&facts.donor_name).map_or_else(|_| "*".to_owned(), |name| name.masked());
        let standing = self.standing(&row);
        let letter_id = row.id;
        db::write!(&self.db, |txn| {
            let now = Utc::now();
            let check = leave_letter_check::ActiveModel {
                id: Set(Uuid::now_v7()),
                letter_id: Set(letter_id),
                checked_at: Set(now),
            };
            leave_letter_check::Entity::insert(check).exec_without_returning(txn).await?;
            leave_letter::Entity::update_many()
                .col_expr(leave_letter::Column::CheckCount, Expr::col(leave_letter::Column::CheckCount).add(1))
                .col_expr(leave_letter::Column::LastCheckedAt, Expr::value(Some(now)))
                .filter(leave_letter::Column::Id.eq(letter_id))
                .exec(txn)
                .await?;
            Ok(())
        })?;
        Ok(Verification {
            standing,
            masked_name,
            periods,
            branch_name_zh: facts.letterhead.name_zh,
            branch_name_en: facts.letterhead.name_en,
            issued_at: row.issued_at,
        })
    }
}
