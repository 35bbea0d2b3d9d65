//! The views: the donor's own letters, a case's for branch staff, and when a letter was
//! checked.

use chrono::{Duration, Utc};
use entity::{leave_letter, leave_letter_check};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{LetterFacts, LetterView, Letters, Standing};
use crate::domain::letter::{LeavePeriod, LetterLanguage, LetterStatus};
use crate::error::{AppError, AppResult};
use crate::pii::registry;
use crate::service::{OwnRecord, Principal, VolunteerReader};

/// The most checks listed for one letter: the newest.
pub const MAX_CHECKS_LISTED: u64 = 50;

impl Letters {
    /// The donor's letters, newest first, with their codes and check counts.
    ///
    /// # Errors
    /// The database failed.
    pub async fn mine(&self, me: &OwnRecord) -> AppResult<Vec<LetterView>> {
        let rows = leave_letter::Entity::find()
            .filter(leave_letter::Column::VolunteerId.eq(me.id))
            .order_by_desc(leave_letter::Column::IssuedAt)
            .order_by_desc(leave_letter::Column::Id)
            .all(&self.db)
            .await?;
        rows.into_iter().map(|row| self.view(row, true)).collect()
    }

    /// A case's letters for branch staff: dates, status and checks, without the code or the
    /// employer.
    ///
    /// # Errors
    /// NOT_FOUND for an unknown case; FORBIDDEN for another branch's.
    pub async fn for_case(&self, reader: &VolunteerReader, case_id: Uuid) -> AppResult<Vec<LetterView>> {
        crate::service::cases::in_scope(&self.db, &reader.scope, case_id).await?;
        let rows = leave_letter::Entity::find()
            .filter(leave_letter::Column::CaseId.eq(case_id))
            .order_by_desc(leave_letter::Column::IssuedAt)
            .order_by_desc(leave_letter::Column::Id)
            .all(&self.db)
            .await?;
        rows.into_iter().map(|row| self.view(row, false)).collect()
    }

    /// When a letter was checked, newest first: for its donor and the branch's coordinators.
    ///
    /// # Errors
    /// As for acting on the letter.
    pub async fn checks(&self, actor: &Principal, letter_id: Uuid) -> AppResult<Vec<chrono::DateTime<Utc>>> {
        let (letter, _) = self.letter_and_case(actor, letter_id).await?;
        Ok(leave_letter_check::Entity::find()
            .select_only()
            .column(leave_letter_check::Column::CheckedAt)
            .filter(leave_letter_check::Column::LetterId.eq(letter.id))
            .order_by_desc(leave_letter_check::Column::CheckedAt)
            .limit(MAX_CHECKS_LISTED)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Where a letter stands today.
    pub(super) fn standing(&self, row: &leave_letter::Model) -> Standing {
        match LetterStatus::parse(&row.status) {
            Some(LetterStatus::Revoked) => Standing::Revoked,
            Some(LetterStatus::Superseded) => Standing::Superseded,
            _ if crate::domain::calendar::today(Utc::now())
                > row.last_day + Duration::days(self.settings.expires_after_days) =>
            {
                Standing::Expired
            }
            _ => Standing::Valid,
        }
    }

    /// The facts a letter was made from.
    pub(super) fn facts(&self, row: &leave_letter::Model) -> AppResult<LetterFacts> {
        let json = self
            .keys
            .cipher
            .decrypt(&row.facts, registry::LEAVE_LETTER_FACTS.at(row.id))
            .map_err(AppError::internal)?;
        serde_json::from_str(&json).map_err(AppError::internal)
    }

    /// A row as a view; `with_contents` adds the code and the employer from the sealed facts.
    pub(super) fn view(&self, row: leave_letter::Model, with_contents: bool) -> AppResult<LetterView> {
        let (code, employer) = if with_contents {
            let facts = self.facts(&row)?;
            (Some(facts.code), Some(facts.employer))
        } else {
            (None, None)
        };
        let periods: Vec<LeavePeriod> = serde_json::from_str(&row.periods).map_err(AppError::internal)?;
        Ok(LetterView {
            standing: self.standing(&row),
            id: row.id,
            case_id: row.case_id,
            branch_code: row.branch_code,
            periods,
            language: LetterLanguage::parse(&row.language).unwrap_or(LetterLanguage::Both),
            issued_at: row.issued_at,
            issued_by_staff: row.issued_by.is_some(),
            revoked_at: row.revoked_at,
            superseded_by: row.superseded_by,
            digest: row.digest,
            check_count: row.check_count,
            last_checked_at: row.last_checked_at,
            code,
            employer,
        })
    }
}
