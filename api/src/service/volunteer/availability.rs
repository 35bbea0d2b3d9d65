//! Whether a volunteer can be asked to donate: pausing with an EMDIS reason and an end date,
//! resuming, the one-tap confirmation that keeps a record fresh, and withdrawing.
//!
//! Saying "not now" early and cheaply is what keeps a volunteer from saying "no" late, after a
//! patient's conditioning has begun; so pausing is easy, and withdrawing is a deliberate step
//! that offers the pause first.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::volunteer::{self, DonorStatus, HlaResolution, StatusReason};
use entity::volunteer_contact;
use entity::{enrolment_ticket, refresh_token, sign_in_code, volunteer_tombstone};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::records::{VolunteerService, with_working_phone};
use super::status::{self, StatusLog};
use crate::db;
use crate::digest::{constant_time_eq, hex};
use crate::domain::{PauseReason, Phone, WithdrawalCause};
use crate::error::{AppError, AppResult};
use crate::messaging::{BranchRules, Messaging, NewMessage, Recipient};
use crate::pii::KeyRing;
use crate::pii::registry::{self, Erase};
use crate::service::alerts::{self, AlertKind};
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::cases;
use crate::service::{OwnRecord, Principal};

/// Days before a pause ends that its reminder goes out.
pub const PAUSE_REMINDER_DAYS: i64 = 14;
/// Pauses lapsed per transaction.
const LAPSE_BATCH: u64 = 500;
/// How long a withdrawal confirmation stays good: long enough to read the notice.
const CONFIRMATION_MINUTES: i64 = 15;

/// A paused volunteer due a reminder: id, sealed name, pause end, SMS and inbox choices, and
/// their working phone (contact id and sealed value) if they have one.
type PauseDue = (Uuid, Vec<u8>, Option<NaiveDate>, bool, bool, Option<Uuid>, Option<Vec<u8>>);

/// The EMDIS reasons of a pause the volunteer set in the app.
pub(super) const PAUSE_REASONS: [StatusReason; 3] =
    [StatusReason::Medical, StatusReason::Personal, StatusReason::Moved];

/// The reasons a volunteer set themselves, which they may also lift themselves. A TU set by
/// staff for another reason (after transplantation, say) is the coordinator's to lift.
pub(crate) const OWN_REASONS: [StatusReason; 4] =
    [StatusReason::Medical, StatusReason::Personal, StatusReason::Moved, StatusReason::UnableToContact];

/// What the app shows before a withdrawal: its effect, and the pause it could be instead.
#[derive(Clone, Debug)]
pub struct WithdrawalNotice {
    /// Within cooling-off the record is purged completely; after it, a tombstone stays.
    pub purges: bool,
    /// The confirmation `withdraw` asks for, proving the notice was shown.
    pub confirmation: String,
    pub expires_at: DateTime<Utc>,
}

/// What a withdrawal did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Withdrawn {
    /// Within cooling-off: nothing of the record is left.
    Purged,
    /// A tombstone keeps DE, the reason and the date; personal data is deleted.
    Tombstoned,
}

/// What one run of the scheduled availability jobs did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AvailabilityRun {
    pub reminders_queued: u64,
    pub pauses_lapsed: u64,
}

#[derive(Clone, Debug)]
pub struct AvailabilityService {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    volunteers: VolunteerService,
    messaging: Messaging,
    status: StatusLog,
}

impl AvailabilityService {
    pub(crate) fn new(
        db: DatabaseConnection,
        keys: Arc<KeyRing>,
        volunteers: VolunteerService,
        messaging: Messaging,
    ) -> Self {
        Self { status: StatusLog::new(Arc::clone(&keys)), db, keys, volunteers, messaging }
    }

    /// Pauses the volunteer (TU) with a reason, until a date within the branch's maximum.
    /// Searches skip them; a reminder goes before the end, and they return when they confirm.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `until` in the past or beyond the maximum; CONFLICT on `status` while
    /// reserved for a patient.
    pub async fn pause(
        &self,
        me: &OwnRecord,
        reason: PauseReason,
        until: NaiveDate,
        request_id: Option<&str>,
    ) -> AppResult<()> {
        let model = self.volunteers.find_model(me.id).await?;
        let rules = self.volunteers.branch_rules(&model.branch_code).await?;
        let today = local_today(&rules, Utc::now());
        if until <= today {
            return Err(AppError::invalid("until", "must be a date after today"));
        }
        if until > today + Duration::days(rules.max_pause_days) {
            return Err(AppError::invalid("until", format!("must be within {} days", rules.max_pause_days)));
        }
        if cases::reserving_stage(&self.db, model.id).await?.is_some() {
            return Err(reserved());
        }
        let stored = match reason {
            PauseReason::Medical => StatusReason::Medical,
            PauseReason::Personal => StatusReason::Personal,
            PauseReason::Moved => StatusReason::Moved,
        };
        self.set_status(
            me,
            DonorStatus::TemporarilyUnavailable,
            Some(stored),
            Some(until),
            false,
            AuditAction::VolunteerPause,
            request_id,
        )
        .await
    }

    /// Ends the volunteer's own pause now, and confirms the record.
    ///
    /// # Errors
    /// CONFLICT on `status` when not paused, or paused by staff for a reason only they lift.
    pub async fn resume(&self, me: &OwnRecord, request_id: Option<&str>) -> AppResult<DonorStatus> {
        let model = self.volunteers.find_model(me.id).await?;
        if model.status != DonorStatus::TemporarilyUnavailable {
            return Err(AppError::Conflict { field: "status".into(), message: "is not paused".into() });
        }
        if !model.status_reason.is_some_and(|reason| OWN_REASONS.contains(&reason)) {
            return Err(AppError::Conflict {
                field: "status".into(),
                message: "was set by your coordinator; please call them to change it".into(),
            });
        }
        let back = returning_status(&model);
        self.set_status(me, back, None, None, true, AuditAction::VolunteerResume, request_id).await?;
        Ok(back)
    }

    /// The one-tap "my details are still right and I am still willing": refreshes the
    /// confirmation, and returns a volunteer whose pause has ended (or who was unreachable) to
    /// the register.
    ///
    /// # Errors
    /// The database failed.
    pub async fn confirm(&self, me: &OwnRecord, request_id: Option<&str>) -> AppResult<DonorStatus> {
        let model = self.volunteers.find_model(me.id).await?;
        let rules = self.volunteers.branch_rules(&model.branch_code).await?;
        let today = local_today(&rules, Utc::now());
        let pause_over = model.status == DonorStatus::TemporarilyUnavailable
            && model.status_reason.is_some_and(|reason| OWN_REASONS.contains(&reason))
            && model.status_until.is_none_or(|until| until <= today);
        if pause_over {
            let back = returning_status(&model);
            self.set_status(me, back, None, None, true, AuditAction::VolunteerConfirm, request_id).await?;
            return Ok(back);
        }
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            volunteer::Entity::update_many()
                .col_expr(volunteer::Column::LastConfirmedAt, Expr::value(now))
                .col_expr(volunteer::Column::UpdatedAt, Expr::value(now))
                .filter(volunteer::Column::Id.eq(me.id))
                .exec(txn)
                .await?;
            let entry = AuditEntry { subject: Some(("volunteer", me.id)), request_id, ..Default::default() };
            audit::record(txn, &Principal::Volunteer { id: me.id }, AuditAction::VolunteerConfirm, entry).await?;
            Ok(())
        })?;
        Ok(model.status)
    }

    /// The notice the app shows before a withdrawal, with the confirmation `withdraw` needs.
    ///
    /// # Errors
    /// NOT_FOUND once the record is gone.
    pub async fn withdrawal_notice(&self, me: &OwnRecord) -> AppResult<WithdrawalNotice> {
        let model = self.volunteers.find_model(me.id).await?;
        let now = Utc::now();
        let expires_at = now + Duration::minutes(CONFIRMATION_MINUTES);
        Ok(WithdrawalNotice {
            purges: now < model.cooling_off_until,
            confirmation: self.confirmation(&model, expires_at.timestamp()),
            expires_at,
        })
    }

    /// Withdraws the volunteer. Within cooling-off the record is purged; after it, a tombstone
    /// keeps DE, the reason and the date, and personal data is deleted. A volunteer reserved
    /// for a patient cannot withdraw here: their coordinator is alerted to call them.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `confirmation` when it is not a current notice's; CONFLICT on `status`
    /// while reserved for a patient.
    pub async fn withdraw(
        &self,
        me: &OwnRecord,
        cause: WithdrawalCause,
        confirmation: &str,
        request_id: Option<&str>,
    ) -> AppResult<Withdrawn> {
        let model = self.volunteers.find_model(me.id).await?;
        let now = Utc::now();
        let confirmed = confirmation
            .split_once('.')
            .and_then(|(expires, _)| expires.strip_prefix("wc_")?.parse::<i64>().ok())
            .filter(|expires| *expires > now.timestamp())
            .is_some_and(|expires| {
                constant_time_eq(self.confirmation(&model, expires).as_bytes(), confirmation.as_bytes())
            });
        if !confirmed {
            return Err(AppError::invalid("confirmation", "ask for the withdrawal notice again and confirm it"));
        }
        let outcome = if now < model.cooling_off_until { Withdrawn::Purged } else { Withdrawn::Tombstoned };
        // Erasing reads before it deletes: on SQLite a deferred transaction would meet `database
        // is locked` at once if an outbox worker wrote in between (seen in CI).
        db::write!(&self.db, |txn| {
            // Every other write to this volunteer waits, or has finished: nothing is added to
            // what is being erased.
            db::lock_volunteer(txn, model.id).await?;
            // Reserved for a patient from confirmatory typing on: the refusal commits the
            // coordinator's alert. A case still at its search hit ends with the withdrawal.
            if cases::reserving_stage(txn, model.id).await?.is_some() {
                alerts::raise(txn, &model.branch_code, Some(model.id), AlertKind::WithdrawalDuringCase).await?;
                return Ok(Err(AppError::Conflict {
                    field: "status".into(),
                    message: "a patient is waiting for you; your coordinator will call you, or please call them".into(),
                }));
            }
            cases::end_on_withdrawal(txn, &model, cause, now).await?;
            if outcome == Withdrawn::Tombstoned {
                let reason = match cause {
                    WithdrawalCause::Health => StatusReason::Medical,
                    WithdrawalCause::Moved => StatusReason::Moved,
                    _ => StatusReason::Personal,
                };
                tombstone(txn, &model, reason, cause.as_str(), now).await?;
            } else {
                erase(txn, model.id).await?;
            }
            let entry = AuditEntry { subject: Some(("volunteer", model.id)), request_id, ..Default::default() };
            audit::record(
                txn,
                &Principal::Volunteer { id: model.id },
                if outcome == Withdrawn::Purged {
                    AuditAction::VolunteerWithdrawPurged
                } else {
                    AuditAction::VolunteerWithdraw
                },
                entry,
            )
            .await?;
            Ok(Ok(()))
        })??;
        Ok(outcome)
    }

    /// One run of the scheduled jobs: reminders for pauses ending within two weeks, and pauses
    /// past their end and the branch's grace period, unconfirmed, turned into TU/UC. Safe to
    /// run again: a reminder is queued once per pause (its dedupe key), and a lapsed pause
    /// lapses once (a conditional update).
    ///
    /// # Errors
    /// The database failed; what committed stays.
    pub async fn run_jobs(&self, now: DateTime<Utc>) -> AppResult<AvailabilityRun> {
        let catalog = self.messaging.catalog().snapshot().await?;
        let mut run = AvailabilityRun::default();
        for branch in catalog.branch_codes() {
            let Some(rules) = catalog.branch(branch) else { continue };
            let today = local_today(rules, now);
            run.reminders_queued += self.remind_pause_endings(branch, today).await?;
            run.pauses_lapsed += self.lapse_pauses(branch, today - Duration::days(rules.pause_grace_days), now).await?;
        }
        if run != AvailabilityRun::default() {
            tracing::info!(reminders = run.reminders_queued, lapsed = run.pauses_lapsed, "availability jobs ran");
        }
        Ok(run)
    }

    /// Turns the branch's pauses that ended before `ended_before`, unconfirmed, into TU/UC, a
    /// batch per transaction.
    async fn lapse_pauses(&self, branch: &str, ended_before: NaiveDate, now: DateTime<Utc>) -> AppResult<u64> {
        let lapse = status::Change {
            status: DonorStatus::TemporarilyUnavailable,
            reason: Some(StatusReason::UnableToContact),
            until: None,
            confirms: false,
            by: None,
            source: "job.pause_lapsed",
            note: None,
        };
        let mut lapsed = 0;
        loop {
            let batch: Vec<Uuid> = volunteer::Entity::find()
                .select_only()
                .column(volunteer::Column::Id)
                .filter(volunteer::Column::BranchCode.eq(branch))
                .filter(volunteer::Column::Status.eq(DonorStatus::TemporarilyUnavailable))
                .filter(volunteer::Column::StatusReason.is_in(PAUSE_REASONS))
                .filter(volunteer::Column::StatusUntil.lt(ended_before))
                .limit(LAPSE_BATCH)
                .into_tuple()
                .all(&self.db)
                .await?;
            if batch.is_empty() {
                return Ok(lapsed);
            }
            lapsed += db::write!(&self.db, |txn| { self.status.change(txn, &batch, &lapse, now).await })?;
        }
    }

    /// Queues the reminders of the branch's pauses ending within [`PAUSE_REMINDER_DAYS`]: read
    /// in one statement and queued in bulk, since every hourly run meets again the reminders it
    /// already queued (their dedupe keys skip them); returns how many were new.
    async fn remind_pause_endings(&self, branch: &str, today: NaiveDate) -> AppResult<u64> {
        let due: Vec<PauseDue> = with_working_phone(
            volunteer::Entity::find()
                .select_only()
                .columns([volunteer::Column::Id, volunteer::Column::Name, volunteer::Column::StatusUntil])
                .columns([volunteer::Column::SmsNonEssential, volunteer::Column::InboxNonEssential]),
        )
        .filter(volunteer::Column::BranchCode.eq(branch))
        .filter(volunteer::Column::Status.eq(DonorStatus::TemporarilyUnavailable))
        .filter(volunteer::Column::StatusReason.is_in(PAUSE_REASONS))
        .filter(volunteer::Column::StatusUntil.between(today, today + Duration::days(PAUSE_REMINDER_DAYS)))
        .into_tuple()
        .all(&self.db)
        .await?;
        let cipher = &self.keys.cipher;
        let mut messages = Vec::with_capacity(due.len() * 2);
        for (id, sealed_name, until, by_sms, in_app, phone_id, sealed_phone) in due {
            let Some(until) = until else { continue };
            let name = cipher.decrypt(&sealed_name, registry::VOLUNTEER_NAME.at(id)).map_err(AppError::internal)?;
            let variables = BTreeMap::from([("name".to_owned(), name), ("date".to_owned(), until.to_string())]);
            let reminder = |recipient, channel: &str| NewMessage {
                recipient,
                volunteer_id: Some(id),
                branch_code: branch.to_owned(),
                template_key: "pause_ending".into(),
                locale: "zh-CN".into(),
                variables: variables.clone(),
                dedupe_key: format!("pause_ending:{id}:{until}:{channel}"),
                campaign_id: None,
            };
            if in_app {
                messages.push(reminder(Recipient::AppInbox { volunteer_id: id }, "inbox"));
            }
            if let (true, Some(contact_id), Some(sealed)) = (by_sms, phone_id, sealed_phone) {
                let clear = cipher
                    .decrypt(&sealed, registry::VOLUNTEER_CONTACT_VALUE.at(contact_id))
                    .map_err(AppError::internal)?;
                if let Ok(phone) = Phone::from_stored(&clear) {
                    messages.push(reminder(Recipient::Sms(phone), "sms"));
                }
            }
        }
        if messages.is_empty() {
            return Ok(0);
        }
        let prepared = self.messaging.prepare(messages).await?;
        self.messaging.queue_prepared(&self.db, &prepared).await
    }

    #[allow(clippy::too_many_arguments)] // a status is four values; the rest say who and why
    async fn set_status(
        &self,
        me: &OwnRecord,
        status: DonorStatus,
        reason: Option<StatusReason>,
        until: Option<NaiveDate>,
        confirms: bool,
        action: AuditAction,
        request_id: Option<&str>,
    ) -> AppResult<()> {
        let now = Utc::now();
        let actor = Principal::Volunteer { id: me.id };
        db::write!(&self.db, |txn| {
            let change = status::Change {
                status,
                reason,
                until,
                confirms,
                by: Some(&actor),
                source: action.as_str(),
                note: None,
            };
            self.status.change(txn, &[me.id], &change, now).await?;
            let detail = match reason {
                Some(reason) => format!("{}/{}", status.to_value(), reason.to_value()),
                None => status.to_value(),
            };
            let entry = AuditEntry {
                subject: Some(("volunteer", me.id)),
                request_id,
                detail: Some(detail),
                ..Default::default()
            };
            audit::record(txn, &actor, action, entry).await?;
            Ok(())
        })
    }

    /// A keyed MAC over the record, its credential version and the expiry: only a notice this
    /// service issued for this record, unexpired, confirms.
    fn confirmation(&self, model: &volunteer::Model, expires: i64) -> String {
        let mac = self
            .keys
            .blind_index
            .digest("withdrawal_confirmation", &format!("{}:{}:{expires}", model.id, model.credential_version));
        format!("wc_{expires}.{}", hex(&mac))
    }
}

/// Removes a volunteer from the register for good (DE): a tombstone keeps the branch, the
/// EMDIS reason, the cause and the dates, and everything personal is erased.
///
/// # Errors
/// The database failed.
pub(super) async fn tombstone<C: ConnectionTrait>(
    conn: &C,
    model: &volunteer::Model,
    reason: StatusReason,
    cause: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    volunteer_tombstone::ActiveModel {
        id: Set(model.id),
        branch_code: Set(model.branch_code.clone()),
        status_reason: Set(reason),
        withdrawal_cause: Set(cause.to_owned()),
        registered_at: Set(model.registered_at),
        withdrawn_at: Set(now),
    }
    .insert(conn)
    .await?;
    erase(conn, model.id).await
}

/// Deletes a volunteer and everything that names them: the rows of every table of the personal
/// data registry (`pii::registry::VOLUNTEER_TABLES`), deleted or unlinked as it says, sessions, and codes and tickets sent to
/// their numbers. Audit rows keep only the opaque id.
async fn erase<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<()> {
    let phone_indexes: Vec<Option<Vec<u8>>> = volunteer_contact::Entity::find()
        .select_only()
        .column(volunteer_contact::Column::ValueIndex)
        .filter(volunteer_contact::Column::VolunteerId.eq(id))
        .into_tuple()
        .all(conn)
        .await?;
    let phone_indexes: Vec<Vec<u8>> = phone_indexes.into_iter().flatten().collect();
    for owned in registry::VOLUNTEER_TABLES {
        match owned.erase {
            Erase::Delete => {
                let delete = Query::delete()
                    .from_table(Alias::new(owned.table))
                    .and_where(Expr::col(Alias::new("volunteer_id")).eq(id))
                    .to_owned();
                conn.execute(&delete).await?;
            }
            Erase::Unlink(sealed) => {
                let mut unlink = Query::update();
                unlink.table(Alias::new(owned.table)).value(Alias::new("volunteer_id"), Option::<Uuid>::None);
                for column in sealed {
                    unlink.value(Alias::new(column.column), Option::<Vec<u8>>::None);
                }
                unlink.and_where(Expr::col(Alias::new("volunteer_id")).eq(id));
                conn.execute(&unlink).await?;
            }
        }
    }
    refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::SubjectKind.eq("volunteer"))
        .filter(refresh_token::Column::SubjectId.eq(id))
        .exec(conn)
        .await?;
    if !phone_indexes.is_empty() {
        sign_in_code::Entity::delete_many()
            .filter(sign_in_code::Column::PhoneIndex.is_in(phone_indexes.clone()))
            .exec(conn)
            .await?;
        enrolment_ticket::Entity::delete_many()
            .filter(enrolment_ticket::Column::PhoneIndex.is_in(phone_indexes))
            .exec(conn)
            .await?;
    }
    volunteer::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}

/// The refusal of what a volunteer reserved for a patient (a case past its search hit) may not
/// do alone.
fn reserved() -> AppError {
    AppError::Conflict {
        field: "status".into(),
        message: "you are reserved for a patient; please call your coordinator".into(),
    }
}

/// Where a volunteer returns after a pause: available once HLA typed, pending before.
pub(crate) fn returning_status(model: &volunteer::Model) -> DonorStatus {
    if model.hla_resolution == HlaResolution::Untyped { DonorStatus::Pending } else { DonorStatus::Available }
}

/// The branch's calendar date at `now`.
pub(super) fn local_today(rules: &BranchRules, now: DateTime<Utc>) -> NaiveDate {
    (now + Duration::minutes(i64::from(rules.quiet_hours.utc_offset_minutes))).date_naive()
}

/// The pause reminders and lapses as the job engine's scheduler runs them: reminders are by the
/// day, so hourly is prompt enough.
#[derive(Clone, Debug)]
pub struct PauseTask(pub AvailabilityService);

#[async_trait::async_trait]
impl crate::jobs::Periodic for PauseTask {
    fn name(&self) -> &'static str {
        "volunteer.pauses"
    }

    fn every(&self) -> Duration {
        Duration::hours(1)
    }

    async fn run(&self, now: DateTime<Utc>) -> AppResult<u64> {
        let run = self.0.run_jobs(now).await?;
        Ok(run.reminders_queued + run.pauses_lapsed)
    }
}
