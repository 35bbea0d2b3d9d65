//! Attrition figures: per branch and month, volunteers by status, the share reachable
//! (confirmed within 12 months) and lost (TU/UC), withdrawals, campaign answers, and the
//! volunteers reconnected (counted when it happens, in `reconnection_count`).
//!
//! Counting 3.6 million records on every read would not do, so a job takes a snapshot of the
//! current month into `attrition_rollup` (three grouped statements over the register) and reads
//! are a handful of rows. Each figure says when it was computed; a past month keeps the last
//! snapshot taken in it.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use entity::attrition_rollup::{self, Column as R};
use entity::campaign_recipient::{self, CampaignResponse};
use entity::reconnection_count::{self, ReconnectionPath};
use entity::volunteer::{self, DonorStatus, StatusReason};
use entity::{campaign, volunteer_tombstone};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::count_where;
use super::filter::months_before;
use crate::domain::calendar::{month_of, start_of};
use crate::error::{AppError, AppResult};
use crate::messaging::Messaging;
use crate::service::VolunteerReader;

/// Most months one read returns.
const MAX_MONTHS: u32 = 120;

/// The snapshot being taken: a row per branch.
type Rows = BTreeMap<String, attrition_rollup::ActiveModel>;

/// One month's figures, of a branch or of the whole register.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MonthFigures {
    pub month: NaiveDate,
    pub volunteers: i64,
    pub pending: i64,
    pub available: i64,
    pub unavailable: i64,
    pub lost: i64,
    pub reserved: i64,
    pub reachable: i64,
    pub withdrawn: i64,
    pub campaign_recipients: i64,
    pub campaign_replies: i64,
    pub still_willing: i64,
    pub paused: i64,
    pub opted_out: i64,
    /// Volunteers reconnected in the month (returned from TU/UC or a stale contact), by path;
    /// counted as it happens, not by the snapshot.
    pub reconnected: Reconnected,
    /// The oldest snapshot these figures add up.
    pub computed_at: Option<DateTime<Utc>>,
}

/// Volunteers reconnected, by path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reconnected {
    pub self_service: i64,
    pub backup_contact: i64,
    pub staff: i64,
}

#[derive(Clone, Debug)]
pub struct Attrition {
    db: DatabaseConnection,
    messaging: Messaging,
}

impl Attrition {
    pub(crate) fn new(db: DatabaseConnection, messaging: Messaging) -> Self {
        Self { db, messaging }
    }

    /// Takes the current month's snapshot of every branch. Returns how many branch rows it wrote.
    ///
    /// # Errors
    /// The database failed.
    pub async fn snapshot(&self, now: DateTime<Utc>) -> AppResult<u64> {
        let month = month_of(now);
        let (from, reachable_since) = (start_of(month), months_before(now, 12));
        let mut rows: Rows = BTreeMap::new();
        let catalog = self.messaging.catalog().snapshot().await?;
        for branch in catalog.branch_codes() {
            rows.insert(branch.to_owned(), empty_row(branch, month, now));
        }
        self.count_statuses(&mut rows, reachable_since).await?;
        self.count_withdrawals(&mut rows, from).await?;
        self.count_answers(&mut rows, from).await?;
        let written = u64::try_from(rows.len()).unwrap_or_default();
        attrition_rollup::Entity::insert_many(rows.into_values())
            .on_conflict(
                OnConflict::columns([R::BranchCode, R::Month])
                    .update_columns([
                        R::Volunteers,
                        R::Pending,
                        R::Available,
                        R::Unavailable,
                        R::Lost,
                        R::Reserved,
                        R::Reachable,
                        R::Withdrawn,
                        R::CampaignRecipients,
                        R::CampaignReplies,
                        R::StillWilling,
                        R::Paused,
                        R::OptedOut,
                        R::ComputedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok(written)
    }

    /// The register by branch and status, and how many of each were confirmed lately.
    async fn count_statuses(&self, rows: &mut Rows, reachable_since: DateTime<Utc>) -> AppResult<()> {
        let by_status: Vec<(String, DonorStatus, Option<StatusReason>, i64, i64)> = volunteer::Entity::find()
            .select_only()
            .columns([volunteer::Column::BranchCode, volunteer::Column::Status, volunteer::Column::StatusReason])
            .column_as(volunteer::Column::Id.count(), "volunteers")
            .column_as(
                count_where(Condition::all().add(volunteer::Column::LastConfirmedAt.gte(reachable_since))),
                "reachable",
            )
            .group_by(volunteer::Column::BranchCode)
            .group_by(volunteer::Column::Status)
            .group_by(volunteer::Column::StatusReason)
            .into_tuple()
            .all(&self.db)
            .await?;
        for (branch, status, reason, count, reachable) in by_status {
            let Some(row) = rows.get_mut(&branch) else { continue };
            let count = clamp(count);
            add(&mut row.volunteers, count);
            add(&mut row.reachable, clamp(reachable));
            match status {
                DonorStatus::Pending => add(&mut row.pending, count),
                DonorStatus::Available => add(&mut row.available, count),
                DonorStatus::TemporarilyUnavailable => {
                    add(&mut row.unavailable, count);
                    if reason == Some(StatusReason::UnableToContact) {
                        add(&mut row.lost, count);
                    }
                }
                DonorStatus::ReservedForThisPatient | DonorStatus::ReservedForAnotherPatient => {
                    add(&mut row.reserved, count);
                }
                DonorStatus::Deleted => {}
            }
        }
        Ok(())
    }

    /// Withdrawals (tombstones) since the month began.
    async fn count_withdrawals(&self, rows: &mut Rows, from: DateTime<Utc>) -> AppResult<()> {
        let withdrawn: Vec<(String, i64)> = volunteer_tombstone::Entity::find()
            .select_only()
            .column(volunteer_tombstone::Column::BranchCode)
            .column_as(volunteer_tombstone::Column::Id.count(), "withdrawn")
            .filter(volunteer_tombstone::Column::WithdrawnAt.gte(from))
            .group_by(volunteer_tombstone::Column::BranchCode)
            .into_tuple()
            .all(&self.db)
            .await?;
        for (branch, count) in withdrawn {
            if let Some(row) = rows.get_mut(&branch) {
                row.withdrawn = Set(clamp(count));
            }
        }
        Ok(())
    }

    /// Answers to the campaigns launched since the month began.
    async fn count_answers(&self, rows: &mut Rows, from: DateTime<Utc>) -> AppResult<()> {
        let answers: Vec<(String, Option<CampaignResponse>, i64)> = campaign_recipient::Entity::find()
            .select_only()
            .columns([campaign_recipient::Column::BranchCode, campaign_recipient::Column::Response])
            .column_as(campaign_recipient::Column::VolunteerId.count(), "recipients")
            .join(
                JoinType::InnerJoin,
                campaign_recipient::Entity::belongs_to(campaign::Entity)
                    .from(campaign_recipient::Column::CampaignId)
                    .to(campaign::Column::Id)
                    .into(),
            )
            .filter(campaign::Column::LaunchedAt.gte(from))
            .group_by(campaign_recipient::Column::BranchCode)
            .group_by(campaign_recipient::Column::Response)
            .into_tuple()
            .all(&self.db)
            .await?;
        for (branch, response, count) in answers {
            let Some(row) = rows.get_mut(&branch) else { continue };
            let count = clamp(count);
            add(&mut row.campaign_recipients, count);
            match response {
                Some(CampaignResponse::StillWilling) => add(&mut row.still_willing, count),
                Some(CampaignResponse::Pause) => add(&mut row.paused, count),
                Some(CampaignResponse::OptedOut) => add(&mut row.opted_out, count),
                None => continue,
            }
            add(&mut row.campaign_replies, count);
        }
        Ok(())
    }

    /// The figures of the months from `from` to `to` (first days of months), oldest first: of
    /// one branch, or of the whole register when the reader is national and names none.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `to` before `from` or over ten years; FORBIDDEN for another branch.
    pub async fn figures(
        &self,
        reader: &VolunteerReader,
        branch: Option<&str>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<Vec<MonthFigures>> {
        let (from, to) = (from.with_day(1).unwrap_or(from), to.with_day(1).unwrap_or(to));
        if to < from {
            return Err(AppError::invalid("to", "must not be before from"));
        }
        if from.checked_add_months(Months::new(MAX_MONTHS)).is_some_and(|limit| to >= limit) {
            return Err(AppError::invalid("to", format!("at most {MAX_MONTHS} months at once")));
        }
        let scope = super::VolunteerFilter { branch_code: branch.map(str::to_owned), ..Default::default() };
        let branch = scope.branch_within(&reader.scope)?;
        let mut query = attrition_rollup::Entity::find().filter(R::Month.between(from, to));
        if let Some(branch) = &branch {
            query = query.filter(R::BranchCode.eq(branch.as_str()));
        }
        let rows = query.order_by_asc(R::Month).all(&self.db).await?;
        let mut months: BTreeMap<NaiveDate, MonthFigures> = BTreeMap::new();
        for row in rows {
            let figures =
                months.entry(row.month).or_insert_with(|| MonthFigures { month: row.month, ..Default::default() });
            figures.volunteers += i64::from(row.volunteers);
            figures.pending += i64::from(row.pending);
            figures.available += i64::from(row.available);
            figures.unavailable += i64::from(row.unavailable);
            figures.lost += i64::from(row.lost);
            figures.reserved += i64::from(row.reserved);
            figures.reachable += i64::from(row.reachable);
            figures.withdrawn += i64::from(row.withdrawn);
            figures.campaign_recipients += i64::from(row.campaign_recipients);
            figures.campaign_replies += i64::from(row.campaign_replies);
            figures.still_willing += i64::from(row.still_willing);
            figures.paused += i64::from(row.paused);
            figures.opted_out += i64::from(row.opted_out);
            figures.computed_at = Some(figures.computed_at.map_or(row.computed_at, |at| at.min(row.computed_at)));
        }
        let mut counts = reconnection_count::Entity::find().filter(reconnection_count::Column::Month.between(from, to));
        if let Some(branch) = &branch {
            counts = counts.filter(reconnection_count::Column::BranchCode.eq(branch.as_str()));
        }
        for count in counts.all(&self.db).await? {
            let figures =
                months.entry(count.month).or_insert_with(|| MonthFigures { month: count.month, ..Default::default() });
            let reconnected = i64::from(count.reconnected);
            match count.path {
                ReconnectionPath::SelfService => figures.reconnected.self_service += reconnected,
                ReconnectionPath::BackupContact => figures.reconnected.backup_contact += reconnected,
                ReconnectionPath::Staff => figures.reconnected.staff += reconnected,
            }
        }
        Ok(months.into_values().collect())
    }
}

fn empty_row(branch: &str, month: NaiveDate, now: DateTime<Utc>) -> attrition_rollup::ActiveModel {
    attrition_rollup::ActiveModel {
        branch_code: Set(branch.to_owned()),
        month: Set(month),
        volunteers: Set(0),
        pending: Set(0),
        available: Set(0),
        unavailable: Set(0),
        lost: Set(0),
        reserved: Set(0),
        reachable: Set(0),
        withdrawn: Set(0),
        campaign_recipients: Set(0),
        campaign_replies: Set(0),
        still_willing: Set(0),
        paused: Set(0),
        opted_out: Set(0),
        computed_at: Set(now),
    }
}

fn clamp(count: i64) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

fn add(value: &mut sea_orm::ActiveValue<i32>, count: i32) {
    let current = match value {
        sea_orm::ActiveValue::Set(current) | sea_orm::ActiveValue::Unchanged(current) => *current,
        sea_orm::ActiveValue::NotSet => 0,
    };
    *value = Set(current.saturating_add(count));
}
