//! After collection: the check-ups (day 2, week 1, month 1, month 6, then yearly for ten years),
//! each reaching the donor in the app and by SMS under the messaging rules, answered with a
//! short health questionnaire, and put on the branch's work list when unanswered. And the
//! scheduled work of cases: reminders for due check-ups, and alerts for overdue stages.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{case_follow_up, donation_case, volunteer};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::CaseService;
use crate::db;
use crate::domain::Phone;
use crate::domain::calendar;
use crate::domain::contact::short_text;
use crate::domain::donation::{CaseState, Checkpoint, Symptom};
use crate::error::{AppError, AppResult};
use crate::messaging::{NewMessage, Recipient};
use crate::pii::registry;
use crate::service::alerts::{self, AlertKind};
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::keyset::{self, Page};
use crate::service::volunteer::with_working_phone;
use crate::service::{OwnRecord, Principal, VolunteerReader};

/// A volunteer to remind: id, sealed name, SMS and app preferences, working phone.
type Reachable = (Uuid, Vec<u8>, bool, bool, Option<Uuid>, Option<Vec<u8>>);

/// Days a reminded check-up waits for its answer before it goes on the branch's work list.
pub const ANSWER_DAYS: i64 = 14;
/// Most check-ups one run of the reminders handles; the next run takes the rest.
const REMINDER_BATCH: u64 = 500;
/// Most rows of the work list one call returns.
pub const MAX_WORK_LIST: u64 = 100;
/// Longest free-text note in a questionnaire.
const MAX_NOTE_CHARS: usize = 500;
const CURSOR_TAG: &str = "follow_ups";

/// The donor's answers to a check-up's questionnaire.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckUpAnswers {
    pub feeling_well: bool,
    /// Stored names of [`Symptom`].
    pub symptoms: Vec<String>,
    pub seen_doctor: bool,
    pub note: Option<String>,
}

impl CheckUpAnswers {
    /// The answers, checked.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `input.note`.
    pub fn new(feeling_well: bool, symptoms: &[Symptom], seen_doctor: bool, note: Option<&str>) -> AppResult<Self> {
        let note =
            note.map(|note| short_text(note, MAX_NOTE_CHARS)).transpose().map_err(AppError::field("input.note"))?;
        let mut symptoms: Vec<String> = symptoms.iter().map(|symptom| symptom.as_str().to_owned()).collect();
        symptoms.sort();
        symptoms.dedup();
        Ok(Self { feeling_well, symptoms, seen_doctor, note })
    }
}

/// A check-up as the donor and staff read it.
#[derive(Clone, Debug)]
pub struct FollowUpView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub volunteer_id: Uuid,
    pub checkpoint: Checkpoint,
    pub due_on: NaiveDate,
    pub reminded_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub answers: Option<CheckUpAnswers>,
}

/// Writes the check-ups of a collection on `collected`, on the collection step's transaction.
pub(super) async fn schedule(
    txn: &DatabaseTransaction,
    case_id: Uuid,
    volunteer_id: Uuid,
    branch_code: &str,
    collected: NaiveDate,
) -> AppResult<()> {
    let rows = Checkpoint::ALL.iter().map(|checkpoint| case_follow_up::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        volunteer_id: Set(volunteer_id),
        branch_code: Set(branch_code.to_owned()),
        checkpoint: Set(checkpoint.as_str().to_owned()),
        due_on: Set(checkpoint.due(collected)),
        reminded_at: Set(None),
        answered_at: Set(None),
        answers: Set(None),
    });
    case_follow_up::Entity::insert_many(rows).exec_without_returning(txn).await?;
    Ok(())
}

impl CaseService {
    /// The donor answers a due check-up's questionnaire, once.
    ///
    /// # Errors
    /// CONFLICT on `id` for a check-up not due yet or already answered; NOT_FOUND for another
    /// volunteer's or an unknown one.
    pub async fn answer_check_up(
        &self,
        me: &OwnRecord,
        id: Uuid,
        answers: CheckUpAnswers,
        request_id: Option<&str>,
    ) -> AppResult<FollowUpView> {
        let row = case_follow_up::Entity::find_by_id(id)
            .filter(case_follow_up::Column::VolunteerId.eq(me.id))
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "check-up" })?;
        let now = Utc::now();
        if row.due_on > calendar::today(now) {
            return Err(AppError::Conflict { field: "id".into(), message: format!("is not due until {}", row.due_on) });
        }
        let json = serde_json::to_string(&answers).map_err(AppError::internal)?;
        let sealed = self.keys.cipher.encrypt(&json, registry::CASE_FOLLOW_UP_ANSWERS.at(id));
        let row = db::write!(&self.db, |txn| {
            let answered = case_follow_up::Entity::update_many()
                .col_expr(case_follow_up::Column::AnsweredAt, Expr::value(now))
                .col_expr(case_follow_up::Column::Answers, Expr::value(sealed.clone()))
                .filter(case_follow_up::Column::Id.eq(id))
                .filter(case_follow_up::Column::AnsweredAt.is_null())
                .exec(txn)
                .await?
                .rows_affected;
            if answered == 0 {
                return Ok(Err(AppError::Conflict { field: "id".into(), message: "is already answered".into() }));
            }
            let entry = AuditEntry { subject: Some(("donation_case", row.case_id)), request_id, ..Default::default() };
            audit::record(txn, &Principal::Volunteer { id: me.id }, AuditAction::CaseFollowUpAnswered, entry).await?;
            Ok(Ok(case_follow_up::Entity::find_by_id(id)
                .one(txn)
                .await?
                .ok_or(AppError::NotFound { resource: "check-up" })?))
        })??;
        self.follow_up_view(&row)
    }

    /// The branch's check-ups reminded more than [`ANSWER_DAYS`] ago and still unanswered,
    /// oldest due first: the staff's work list.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `first`, `after` or `branchCode`; FORBIDDEN for another branch.
    pub async fn unanswered_check_ups(
        &self,
        reader: &VolunteerReader,
        branch_code: Option<&str>,
        first: u64,
        after: Option<&str>,
    ) -> AppResult<Page<FollowUpView>> {
        keyset::check_first(first, MAX_WORK_LIST)?;
        let branch = reader.scope.branch_read(branch_code)?;
        let mut query = case_follow_up::Entity::find()
            .filter(case_follow_up::Column::AnsweredAt.is_null())
            .filter(case_follow_up::Column::RemindedAt.lt(Utc::now() - Duration::days(ANSWER_DAYS)))
            .order_by_asc(case_follow_up::Column::DueOn)
            .order_by_asc(case_follow_up::Column::Id)
            .limit(keyset::fetch_size(first));
        if let Some(branch) = branch {
            query = query.filter(case_follow_up::Column::BranchCode.eq(branch));
        }
        if let Some(cursor) = after {
            let (due, id) = keyset::decode(cursor, CURSOR_TAG, 2)
                .and_then(|parts| Some((parts[0].parse::<NaiveDate>().ok()?, Uuid::parse_str(&parts[1]).ok()?)))
                .ok_or_else(|| AppError::invalid("after", "is not a cursor of this list"))?;
            query =
                query.filter(keyset::after(case_follow_up::Column::DueOn, due, case_follow_up::Column::Id, id, false));
        }
        let rows = query.all(&self.db).await?;
        let page = Page::cut(rows, first, |last| {
            keyset::encode(&[CURSOR_TAG, &last.due_on.to_string(), &last.id.to_string()])
        });
        let nodes = page.nodes.into_iter().map(|row| self.follow_up_view(&row)).collect::<AppResult<Vec<_>>>()?;
        Ok(Page { nodes, next_cursor: page.next_cursor })
    }

    /// The check-ups of `case_ids`, by due date, in one statement.
    pub(super) async fn follow_ups_of(&self, case_ids: &[Uuid]) -> AppResult<Vec<FollowUpView>> {
        case_follow_up::Entity::find()
            .filter(case_follow_up::Column::CaseId.is_in(case_ids.iter().copied()))
            .order_by_asc(case_follow_up::Column::DueOn)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| self.follow_up_view(&row))
            .collect()
    }

    fn follow_up_view(&self, row: &case_follow_up::Model) -> AppResult<FollowUpView> {
        let answers = row
            .answers
            .as_deref()
            .map(|sealed| {
                let json = self
                    .keys
                    .cipher
                    .decrypt(sealed, registry::CASE_FOLLOW_UP_ANSWERS.at(row.id))
                    .map_err(AppError::internal)?;
                serde_json::from_str::<CheckUpAnswers>(&json).map_err(AppError::internal)
            })
            .transpose()?;
        Ok(FollowUpView {
            id: row.id,
            case_id: row.case_id,
            volunteer_id: row.volunteer_id,
            checkpoint: Checkpoint::parse(&row.checkpoint).unwrap_or(Checkpoint::Day2),
            due_on: row.due_on,
            reminded_at: row.reminded_at,
            answered_at: row.answered_at,
            answers,
        })
    }

    /// Reminds donors of their check-ups due by `now`: in the app always, by SMS when they
    /// take non-essential SMS and have a working phone. Safe to run again: each reminder has a
    /// dedupe key, and a check-up is marked reminded after its messages are queued.
    ///
    /// # Errors
    /// The database failed; what committed stays.
    pub async fn remind_check_ups(&self, now: DateTime<Utc>) -> AppResult<u64> {
        let due = case_follow_up::Entity::find()
            .filter(case_follow_up::Column::RemindedAt.is_null())
            .filter(case_follow_up::Column::AnsweredAt.is_null())
            .filter(case_follow_up::Column::DueOn.lte(calendar::today(now)))
            .order_by_asc(case_follow_up::Column::DueOn)
            .limit(REMINDER_BATCH)
            .all(&self.db)
            .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let volunteers: Vec<Reachable> = with_working_phone(
            volunteer::Entity::find()
                .select_only()
                .columns([volunteer::Column::Id, volunteer::Column::Name])
                .columns([volunteer::Column::SmsNonEssential, volunteer::Column::InboxNonEssential]),
        )
        .filter(volunteer::Column::Id.is_in(due.iter().map(|row| row.volunteer_id)))
        .into_tuple()
        .all(&self.db)
        .await?;
        let volunteers: HashMap<Uuid, Reachable> = volunteers.into_iter().map(|row| (row.0, row)).collect();
        let cipher = &self.keys.cipher;
        let mut messages = Vec::with_capacity(due.len() * 2);
        for row in &due {
            let Some((id, sealed_name, by_sms, _, phone_id, sealed_phone)) = volunteers.get(&row.volunteer_id) else {
                continue;
            };
            let checkpoint = Checkpoint::parse(&row.checkpoint).unwrap_or(Checkpoint::Day2);
            let name = cipher.decrypt(sealed_name, registry::VOLUNTEER_NAME.at(*id)).map_err(AppError::internal)?;
            let variables = BTreeMap::from([("name".to_owned(), name), ("checkpoint".to_owned(), checkpoint.as_zh())]);
            let reminder = |recipient, channel: &str| NewMessage {
                recipient,
                volunteer_id: Some(*id),
                branch_code: row.branch_code.clone(),
                template_key: "follow_up_due".into(),
                locale: "zh-CN".into(),
                variables: variables.clone(),
                dedupe_key: format!("follow_up:{}:{channel}", row.id),
                campaign_id: None,
            };
            // The check-up is the donor's own care: the app always shows it.
            messages.push(reminder(Recipient::AppInbox { volunteer_id: *id }, "inbox"));
            if let (true, Some(contact_id), Some(sealed)) = (*by_sms, phone_id, sealed_phone) {
                let clear = cipher
                    .decrypt(sealed, registry::VOLUNTEER_CONTACT_VALUE.at(*contact_id))
                    .map_err(AppError::internal)?;
                if let Ok(phone) = Phone::from_stored(&clear) {
                    messages.push(reminder(Recipient::Sms(phone), "sms"));
                }
            }
        }
        if !messages.is_empty() {
            let prepared = self.messaging.prepare(messages).await?;
            self.messaging.queue_prepared(&self.db, &prepared).await?;
        }
        let ids: Vec<Uuid> = due.iter().map(|row| row.id).collect();
        let reminded = db::write!(&self.db, |txn| {
            Ok(case_follow_up::Entity::update_many()
                .col_expr(case_follow_up::Column::RemindedAt, Expr::value(now))
                .filter(case_follow_up::Column::Id.is_in(ids.clone()))
                .filter(case_follow_up::Column::RemindedAt.is_null())
                .exec(txn)
                .await?
                .rows_affected)
        })?;
        Ok(reminded)
    }

    /// Alerts the coordinators of active cases whose stage waited past its deadline, once per
    /// stage (a step recorded clears the mark).
    ///
    /// # Errors
    /// The database failed.
    pub async fn alert_overdue_stages(&self, now: DateTime<Utc>) -> AppResult<u64> {
        db::write!(&self.db, |txn| {
            let overdue: Vec<(Uuid, String, Option<Uuid>)> = donation_case::Entity::find()
                .select_only()
                .columns([
                    donation_case::Column::Id,
                    donation_case::Column::BranchCode,
                    donation_case::Column::VolunteerId,
                ])
                .filter(donation_case::Column::State.eq(CaseState::Active.as_str()))
                .filter(donation_case::Column::StageDueAt.lt(now))
                .filter(donation_case::Column::OverdueAlertedAt.is_null())
                .limit(REMINDER_BATCH)
                .into_tuple()
                .all(txn)
                .await?;
            for (_, branch, volunteer) in &overdue {
                alerts::raise(txn, branch, *volunteer, AlertKind::CaseStageOverdue).await?;
            }
            donation_case::Entity::update_many()
                .col_expr(donation_case::Column::OverdueAlertedAt, Expr::value(now))
                .filter(donation_case::Column::Id.is_in(overdue.iter().map(|(id, ..)| *id)))
                .exec(txn)
                .await?;
            Ok(overdue.len() as u64)
        })
    }
}

/// The check-up reminders, as the job engine's scheduler runs them: by the day, so hourly is
/// prompt enough.
#[derive(Clone, Debug)]
pub struct FollowUpTask(pub CaseService);

#[async_trait::async_trait]
impl crate::jobs::Periodic for FollowUpTask {
    fn name(&self) -> &'static str {
        "cases.follow_ups"
    }

    fn every(&self) -> Duration {
        Duration::hours(1)
    }

    async fn run(&self, now: DateTime<Utc>) -> AppResult<u64> {
        self.0.remind_check_ups(now).await
    }
}

/// The stage deadlines, checked every quarter of an hour: an urgent case's donor is called
/// within hours.
#[derive(Clone, Debug)]
pub struct CaseTask(pub CaseService);

#[async_trait::async_trait]
impl crate::jobs::Periodic for CaseTask {
    fn name(&self) -> &'static str {
        "cases.deadlines"
    }

    fn every(&self) -> Duration {
        Duration::minutes(15)
    }

    async fn run(&self, now: DateTime<Utc>) -> AppResult<u64> {
        self.0.alert_overdue_stages(now).await
    }
}
