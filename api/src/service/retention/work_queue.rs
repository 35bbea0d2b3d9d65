//! The lost-contact work queue: the volunteers staff should try to reach now, highest priority
//! first, with the backup contacts to try.
//!
//! Who enters: available or pending volunteers whose confirmation is older than the branch's
//! threshold, whose latest SMS since their confirmation failed, or who let a campaign's answer
//! window close in silence. The daily job keeps the queue current, one set-based statement per
//! branch; between runs, reading the queue skips anyone confirmed since (reached, replied,
//! confirmed in the app) or no longer available (marked lost, paused, reserved).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::campaign_recipient;
use entity::contact_attempt;
use entity::donation_case;
use entity::lost_contact_entry::{self, Column as Entry};
use entity::outbound_message::{self, Channel, Status};
use entity::volunteer::{self, DonorStatus, HlaResolution};
use entity::{campaign, volunteer::Column as V};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

use crate::domain::AttemptOutcome;
use crate::domain::donation::CaseState;
use crate::error::{AppError, AppResult};
use crate::messaging::{BranchRules, Messaging};
use crate::service::volunteer::{VolunteerService, VolunteerView};
use crate::service::{VolunteerReader, keyset};

/// Why a volunteer is in the queue, as stored bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LostContactReason {
    /// Not confirmed for longer than the branch's threshold.
    StaleContact = 1,
    /// An SMS since the last confirmation failed or was not delivered.
    MessageFailed = 2,
    /// A campaign's answer window closed without an answer.
    NoCampaignReply = 4,
}

impl LostContactReason {
    pub const ALL: [Self; 3] = [Self::StaleContact, Self::MessageFailed, Self::NoCampaignReply];

    const fn bit(self) -> i32 {
        self as i32
    }

    /// The reasons of stored bits.
    #[must_use]
    pub fn of(bits: i32) -> Vec<Self> {
        Self::ALL.into_iter().filter(|reason| bits & reason.bit() != 0).collect()
    }
}

/// Largest page of the queue.
const MAX_PAGE: u64 = 50;

/// One volunteer to reach.
#[derive(Clone, Debug)]
pub struct QueueEntry {
    pub volunteer: VolunteerView,
    pub reasons: Vec<LostContactReason>,
    pub priority: i32,
    pub entered_at: DateTime<Utc>,
    /// Attempts within the branch's window that failed to reach them.
    pub failed_attempts: u64,
    /// Whether enough attempts failed for staff to mark them lost.
    pub can_mark_lost: bool,
}

#[derive(Clone, Debug)]
pub struct QueuePage {
    pub entries: Vec<QueueEntry>,
    pub next_cursor: Option<String>,
}

/// What one refresh of the queue did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueRefresh {
    /// Volunteers in the queue after the run.
    pub queued: u64,
    /// Entries removed: their volunteers no longer qualify.
    pub left: u64,
}

#[derive(Clone, Debug)]
pub struct WorkQueue {
    db: DatabaseConnection,
    messaging: Messaging,
    volunteers: VolunteerService,
}

impl WorkQueue {
    pub(crate) fn new(db: DatabaseConnection, messaging: Messaging, volunteers: VolunteerService) -> Self {
        Self { db, messaging, volunteers }
    }

    /// Brings the queue up to date, branch by branch, as of `now`. Safe to run again: an entry
    /// keeps the time it entered, and leaves once its volunteer no longer qualifies.
    ///
    /// # Errors
    /// The database failed; branches done stay done.
    pub async fn refresh(&self, now: DateTime<Utc>) -> AppResult<QueueRefresh> {
        let catalog = self.messaging.catalog().snapshot().await?;
        let mut run = QueueRefresh::default();
        let mut branches: Vec<&str> = catalog.branch_codes().collect();
        branches.sort_unstable();
        for branch in branches {
            let Some(rules) = catalog.branch(branch) else { continue };
            let (queued, left) = self.refresh_branch(branch, rules, now).await?;
            run.queued += queued;
            run.left += left;
        }
        Ok(run)
    }

    async fn refresh_branch(&self, branch: &str, rules: &BranchRules, now: DateTime<Utc>) -> AppResult<(u64, u64)> {
        let stale_before = now - Duration::days(rules.stale_contact_days);
        let reasons = reasons_of(stale_before, now);
        let select = volunteer::Entity::find()
            .select_only()
            .column(V::Id)
            .column(V::BranchCode)
            .column_as(reasons.clone(), "reasons")
            .column_as(priority(), "priority")
            .column_as(Expr::val(now), "entered_at")
            .column_as(Expr::val(now), "refreshed_at")
            .filter(V::BranchCode.eq(branch))
            .filter(V::Status.is_in([DonorStatus::Available, DonorStatus::Pending]))
            .filter(Expr::expr(reasons).gt(0))
            .into_query();
        let upsert = Query::insert()
            .into_table(lost_contact_entry::Entity)
            .columns([
                Entry::VolunteerId,
                Entry::BranchCode,
                Entry::Reasons,
                Entry::Priority,
                Entry::EnteredAt,
                Entry::RefreshedAt,
            ])
            .select_from(select)
            .map_err(AppError::internal)?
            .on_conflict(
                OnConflict::column(Entry::VolunteerId)
                    .update_columns([Entry::Reasons, Entry::Priority, Entry::RefreshedAt])
                    .to_owned(),
            )
            .to_owned();
        crate::db::write!(&self.db, |txn| {
            let queued = txn.execute(&upsert).await?.rows_affected();
            let left = lost_contact_entry::Entity::delete_many()
                .filter(Entry::BranchCode.eq(branch))
                .filter(Entry::RefreshedAt.lt(now))
                .exec(txn)
                .await?
                .rows_affected;
            Ok((queued, left))
        })
    }

    /// A page of the queue within the reader's reach (one branch, or `branch` or all for
    /// national roles): highest priority first, then longest waiting.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `first` or `after`; FORBIDDEN for another branch.
    pub async fn page(
        &self,
        reader: &VolunteerReader,
        branch: Option<&str>,
        first: u64,
        after: Option<&str>,
    ) -> AppResult<QueuePage> {
        keyset::check_first(first, MAX_PAGE)?;
        let scope = super::VolunteerFilter { branch_code: branch.map(str::to_owned), ..Default::default() };
        let branch = scope.branch_within(&reader.scope)?;
        let mut query = lost_contact_entry::Entity::find()
            .join(JoinType::InnerJoin, entry_volunteer())
            .filter(V::Status.is_in([DonorStatus::Available, DonorStatus::Pending]))
            // Confirmed since the last refresh (reached, replied, confirmed in the app): off the list.
            .filter(
                Expr::col((volunteer::Entity, V::LastConfirmedAt))
                    .lte(Expr::col((lost_contact_entry::Entity, Entry::RefreshedAt))),
            );
        if let Some(branch) = &branch {
            query = query.filter(Expr::col((lost_contact_entry::Entity, Entry::BranchCode)).eq(branch.as_str()));
        }
        if let Some(cursor) = after {
            query = query.filter(after_cursor(cursor)?);
        }
        let entries = query
            .order_by_desc(Entry::Priority)
            .order_by_asc(Entry::EnteredAt)
            .order_by_asc(Entry::VolunteerId)
            .limit(keyset::fetch_size(first))
            .all(&self.db)
            .await?;
        let (entries, next_cursor) = keyset::cut(entries, first, cursor_of);
        let ids: Vec<Uuid> = entries.iter().map(|entry| entry.volunteer_id).collect();
        let models: HashMap<Uuid, volunteer::Model> = volunteer::Entity::find()
            .filter(V::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|model| (model.id, model))
            .collect();
        let ordered: Vec<volunteer::Model> = ids.iter().filter_map(|id| models.get(id).cloned()).collect();
        let views = self.volunteers.views(&ordered).await?;
        let failed = self.failed_attempts(&ordered).await?;
        let catalog = self.messaging.catalog().snapshot().await?;
        let entries = entries
            .into_iter()
            .zip(views)
            .map(|(entry, volunteer)| {
                let failed_attempts = failed.get(&entry.volunteer_id).copied().unwrap_or_default();
                let needed = catalog.branch(&entry.branch_code).map_or(3, |rules| rules.lost_after_attempts);
                QueueEntry {
                    volunteer,
                    reasons: LostContactReason::of(entry.reasons),
                    priority: entry.priority,
                    entered_at: entry.entered_at,
                    failed_attempts,
                    can_mark_lost: failed_attempts >= needed,
                }
            })
            .collect();
        Ok(QueuePage { entries, next_cursor })
    }

    /// Failed attempts of each volunteer within their branch's window, in one statement.
    async fn failed_attempts(&self, models: &[volunteer::Model]) -> AppResult<HashMap<Uuid, u64>> {
        if models.is_empty() {
            return Ok(HashMap::new());
        }
        let catalog = self.messaging.catalog().snapshot().await?;
        let longest = catalog
            .branch_codes()
            .filter_map(|code| catalog.branch(code))
            .map(|rules| rules.lost_attempt_window_days)
            .max();
        let since = Utc::now() - Duration::days(longest.unwrap_or(30));
        let failed: Vec<&str> = AttemptOutcome::ALL
            .iter()
            .filter(|outcome| outcome.failed_to_reach())
            .map(|outcome| outcome.as_str())
            .collect();
        let rows: Vec<(Uuid, DateTime<Utc>)> = contact_attempt::Entity::find()
            .select_only()
            .columns([contact_attempt::Column::VolunteerId, contact_attempt::Column::AttemptedAt])
            .filter(contact_attempt::Column::VolunteerId.is_in(models.iter().map(|model| model.id)))
            .filter(contact_attempt::Column::Outcome.is_in(failed))
            .filter(contact_attempt::Column::AttemptedAt.gte(since))
            .into_tuple()
            .all(&self.db)
            .await?;
        let windows: HashMap<Uuid, DateTime<Utc>> = models
            .iter()
            .map(|model| {
                let days = catalog.branch(&model.branch_code).map_or(30, |rules| rules.lost_attempt_window_days);
                (model.id, Utc::now() - Duration::days(days))
            })
            .collect();
        let mut counts = HashMap::new();
        for (volunteer, at) in rows {
            if windows.get(&volunteer).is_some_and(|since| at >= *since) {
                *counts.entry(volunteer).or_default() += 1;
            }
        }
        Ok(counts)
    }
}

/// The reasons a volunteer qualifies, as a sum of bits, computed in SQL for a whole branch.
fn reasons_of(stale_before: DateTime<Utc>, now: DateTime<Utc>) -> SimpleExpr {
    let failed_sms = Query::select()
        .expr(Expr::val(1))
        .from(outbound_message::Entity)
        .and_where(
            Expr::col((outbound_message::Entity, outbound_message::Column::VolunteerId))
                .equals((volunteer::Entity, V::Id)),
        )
        .and_where(outbound_message::Column::Channel.eq(Channel::Sms))
        .and_where(outbound_message::Column::Status.eq(Status::Failed))
        .and_where(
            Expr::col((outbound_message::Entity, outbound_message::Column::UpdatedAt))
                .gt(Expr::col((volunteer::Entity, V::LastConfirmedAt))),
        )
        .to_owned();
    let unanswered = Query::select()
        .expr(Expr::val(1))
        .from(campaign_recipient::Entity)
        .inner_join(
            campaign::Entity,
            Expr::col((campaign::Entity, campaign::Column::Id))
                .equals((campaign_recipient::Entity, campaign_recipient::Column::CampaignId)),
        )
        .and_where(
            Expr::col((campaign_recipient::Entity, campaign_recipient::Column::VolunteerId))
                .equals((volunteer::Entity, V::Id)),
        )
        .and_where(Expr::col((campaign_recipient::Entity, campaign_recipient::Column::Response)).is_null())
        .and_where(Expr::col((campaign::Entity, campaign::Column::WindowClosesAt)).lt(now))
        .and_where(
            Expr::col((campaign::Entity, campaign::Column::LaunchedAt))
                .gt(Expr::col((volunteer::Entity, V::LastConfirmedAt))),
        )
        .to_owned();
    let bit = |condition: Condition, reason: LostContactReason| Expr::case(condition, reason.bit()).finally(0);
    Expr::expr(bit(Condition::all().add(V::LastConfirmedAt.lt(stale_before)), LostContactReason::StaleContact))
        .add(bit(Condition::all().add(Expr::exists(failed_sms)), LostContactReason::MessageFailed))
        .add(bit(Condition::all().add(Expr::exists(unanswered)), LostContactReason::NoCampaignReply))
}

/// Priority: a volunteer a patient's search just hit (an active case) above all, since a
/// patient waits; then typed volunteers (the finer the typing, the sooner a match needs them),
/// then the rare blood groups (Rh negative is about 0.3% of the Chinese population, AB about
/// 10%).
fn priority() -> SimpleExpr {
    let typing = Expr::case(V::HlaResolution.eq(HlaResolution::High), 40)
        .case(V::HlaResolution.eq(HlaResolution::Intermediate), 30)
        .case(V::HlaResolution.eq(HlaResolution::Low), 20)
        .finally(0);
    let matched = Query::select()
        .expr(Expr::val(1))
        .from(donation_case::Entity)
        .and_where(
            Expr::col((donation_case::Entity, donation_case::Column::VolunteerId)).equals((volunteer::Entity, V::Id)),
        )
        .and_where(donation_case::Column::State.eq(CaseState::Active.as_str()))
        .to_owned();
    Expr::expr(typing)
        .add(Expr::case(V::BloodRh.eq("negative"), 15).finally(0))
        .add(Expr::case(V::BloodAbo.eq("AB"), 5).finally(0))
        .add(Expr::case(Expr::exists(matched), MATCHED).finally(0))
}

/// What a volunteer in an active case adds to their priority: more than everything else does.
const MATCHED: i32 = 100;

fn entry_volunteer() -> sea_orm::RelationDef {
    lost_contact_entry::Entity::belongs_to(volunteer::Entity).from(Entry::VolunteerId).to(V::Id).into()
}

const CURSOR_TAG: &str = "lost_contact";

fn cursor_of(entry: &lost_contact_entry::Model) -> String {
    keyset::encode(&[
        CURSOR_TAG,
        &entry.priority.to_string(),
        &keyset::time_part(entry.entered_at),
        &entry.volunteer_id.to_string(),
    ])
}

/// Entries after a cursor in the queue's order: priority down, then entry time and id up.
fn after_cursor(cursor: &str) -> AppResult<Condition> {
    let refused = || AppError::invalid("after", "is not a cursor of this queue");
    let parts = keyset::decode(cursor, CURSOR_TAG, 3).ok_or_else(refused)?;
    let priority: i32 = parts[0].parse().map_err(|_| refused())?;
    let entered_at = keyset::parse_time(&parts[1]).ok_or_else(refused)?;
    let id = Uuid::parse_str(&parts[2]).map_err(|_| refused())?;
    Ok(Condition::any().add(Entry::Priority.lt(priority)).add(
        Condition::all().add(Entry::Priority.eq(priority)).add(keyset::after(
            Entry::EnteredAt,
            entered_at,
            Entry::VolunteerId,
            id,
            false,
        )),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_back_from_their_bits() {
        assert_eq!(LostContactReason::of(5), [LostContactReason::StaleContact, LostContactReason::NoCampaignReply]);
        assert!(LostContactReason::of(0).is_empty());
    }
}
