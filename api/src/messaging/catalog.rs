//! Templates and branch rules (messaging, cooling-off, freshness, pauses, retention), cached:
//! every queued and every sent message needs them, and they change rarely (a staff edit is seen
//! by other processes within a minute).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use entity::{branch, message_template};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};

use crate::domain::messaging::QuietHours;
use crate::error::AppResult;

const FRESH_FOR: Duration = Duration::from_mins(1);

/// A branch's rules.
#[derive(Clone, Debug)]
pub struct BranchRules {
    pub sign_name: String,
    pub quiet_hours: QuietHours,
    pub daily_non_essential_cap: u32,
    /// Days after enrolment in which a withdrawal purges the record.
    pub cooling_off_days: i64,
    /// Months a confirmation stays fresh before the app prompts a check-up.
    pub confirm_interval_months: u32,
    /// The longest pause a volunteer may set.
    pub max_pause_days: i64,
    /// Days after a pause ends before an unconfirmed volunteer becomes TU/UC.
    pub pause_grace_days: i64,
    /// How long a pause answered by SMS ("2") lasts.
    pub reply_pause_days: i64,
    /// A confirmation older than this puts the volunteer in the lost-contact work queue.
    pub stale_contact_days: i64,
    /// Failed attempts within `lost_attempt_window_days` before staff may mark a volunteer lost.
    pub lost_after_attempts: u64,
    pub lost_attempt_window_days: i64,
    /// How long a campaign waits for answers.
    pub campaign_response_days: i64,
    /// Failed attempts to reach a matched donor before the coordinator may end the case UC.
    pub case_failed_attempts: u64,
    /// How long a donor stays TU/TX after collection.
    pub donation_rest_days: i64,
}

#[derive(Debug, Default)]
pub struct Snapshot {
    templates: HashMap<(String, String), message_template::Model>,
    branches: HashMap<String, BranchRules>,
}

impl Snapshot {
    #[must_use]
    pub fn template(&self, key: &str, locale: &str) -> Option<&message_template::Model> {
        self.templates.get(&(key.to_owned(), locale.to_owned()))
    }

    #[must_use]
    pub fn branch(&self, code: &str) -> Option<&BranchRules> {
        self.branches.get(code)
    }

    /// Every branch's code, for jobs that run branch by branch.
    pub fn branch_codes(&self) -> impl Iterator<Item = &str> {
        self.branches.keys().map(String::as_str)
    }
}

#[derive(Debug)]
pub struct Catalog {
    db: DatabaseConnection,
    cached: RwLock<Option<(Instant, Arc<Snapshot>)>>,
}

impl Catalog {
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db, cached: RwLock::new(None) }
    }

    /// The current rules, reloaded when older than a minute.
    pub async fn snapshot(&self) -> AppResult<Arc<Snapshot>> {
        self.snapshot_on(&self.db).await
    }

    /// The current rules, reloaded through `conn` when older than a minute: inside a
    /// transaction, its own connection, so that queueing a message never waits on the pool.
    pub async fn snapshot_on<C: ConnectionTrait>(&self, conn: &C) -> AppResult<Arc<Snapshot>> {
        if let Some((at, snapshot)) = self.cached.read().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref()
            && at.elapsed() < FRESH_FOR
        {
            return Ok(Arc::clone(snapshot));
        }
        let templates = message_template::Entity::find()
            .all(conn)
            .await?
            .into_iter()
            .map(|template| ((template.key.clone(), template.locale.clone()), template))
            .collect();
        let branches = branch::Entity::find()
            .all(conn)
            .await?
            .into_iter()
            .map(|branch| (branch.code.clone(), rules(&branch)))
            .collect();
        let snapshot = Arc::new(Snapshot { templates, branches });
        *self.cached.write().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((Instant::now(), Arc::clone(&snapshot)));
        Ok(snapshot)
    }

    /// Forgets the cache, after this process changed a template or a branch's rules.
    pub fn invalidate(&self) {
        *self.cached.write().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

fn rules(branch: &branch::Model) -> BranchRules {
    let minute = |value: i32| u32::try_from(value.rem_euclid(24 * 60)).unwrap_or_default();
    BranchRules {
        sign_name: branch.sms_sign_name.clone().unwrap_or_else(|| format!("中华骨髓库{}分库", branch.name_zh)),
        quiet_hours: QuietHours {
            utc_offset_minutes: branch.utc_offset_minutes,
            start: minute(branch.quiet_hours_start),
            end: minute(branch.quiet_hours_end),
        },
        daily_non_essential_cap: u32::try_from(branch.daily_non_essential_cap).unwrap_or_default(),
        cooling_off_days: i64::from(branch.cooling_off_days),
        confirm_interval_months: u32::try_from(branch.confirm_interval_months).unwrap_or(12),
        max_pause_days: i64::from(branch.max_pause_days),
        pause_grace_days: i64::from(branch.pause_grace_days),
        reply_pause_days: i64::from(branch.reply_pause_days),
        stale_contact_days: i64::from(branch.stale_contact_days),
        lost_after_attempts: u64::try_from(branch.lost_after_attempts).unwrap_or(3),
        lost_attempt_window_days: i64::from(branch.lost_attempt_window_days),
        campaign_response_days: i64::from(branch.campaign_response_days),
        case_failed_attempts: u64::try_from(branch.case_failed_attempts).unwrap_or(3),
        donation_rest_days: i64::from(branch.donation_rest_days),
    }
}
