//! The lost-contact work queue and the attrition figures.

use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use super::case::{CaseEndCause, CaseStage};
use super::volunteer::Volunteer;
use crate::domain::donation::{EndCause, Stage};
use crate::service::{cases, retention};

/// Why a volunteer is in the lost-contact work queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum LostContactReason {
    /// Not confirmed for longer than the branch's threshold (365 days by default).
    StaleContact,
    /// An SMS since the last confirmation failed or was not delivered.
    MessageFailed,
    /// A campaign's answer window closed without an answer.
    NoCampaignReply,
}

impl From<retention::LostContactReason> for LostContactReason {
    fn from(reason: retention::LostContactReason) -> Self {
        match reason {
            retention::LostContactReason::StaleContact => Self::StaleContact,
            retention::LostContactReason::MessageFailed => Self::MessageFailed,
            retention::LostContactReason::NoCampaignReply => Self::NoCampaignReply,
        }
    }
}

/// A volunteer to reach: their record (with `backupContacts` to try), why, and how far the
/// attempts have gone.
#[derive(Debug, SimpleObject)]
pub struct LostContactEntry {
    pub volunteer: Volunteer,
    pub reasons: Vec<LostContactReason>,
    /// Higher first: HLA-typed volunteers (the finer the typing the higher), then rare blood groups.
    pub priority: i32,
    pub entered_at: DateTime<Utc>,
    /// Attempts within the branch's window that failed to reach them.
    pub failed_attempts: u64,
    /// Enough attempts failed for `markVolunteerLost`.
    pub can_mark_lost: bool,
}

impl From<retention::QueueEntry> for LostContactEntry {
    fn from(entry: retention::QueueEntry) -> Self {
        Self {
            volunteer: entry.volunteer.into(),
            reasons: entry.reasons.into_iter().map(Into::into).collect(),
            priority: entry.priority,
            entered_at: entry.entered_at,
            failed_attempts: entry.failed_attempts,
            can_mark_lost: entry.can_mark_lost,
        }
    }
}

/// A page of the work queue.
#[derive(Debug, SimpleObject)]
pub struct LostContactPage {
    pub entries: Vec<LostContactEntry>,
    /// Pass as `after` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// One month's attrition figures.
#[derive(Debug, SimpleObject)]
pub struct AttritionMonth {
    /// The first day of the month.
    pub month: NaiveDate,
    /// On the register (withdrawn volunteers are not).
    pub volunteers: i64,
    pub pending: i64,
    pub available: i64,
    /// TU, for any reason.
    pub unavailable: i64,
    /// TU with reason UC.
    pub lost: i64,
    /// RS or OP.
    pub reserved: i64,
    /// Confirmed within the last 12 months.
    pub reachable: i64,
    /// `reachable / volunteers`.
    pub reachable_share: f64,
    /// `lost / volunteers`.
    pub lost_share: f64,
    /// Withdrawals (DE) in the month.
    pub withdrawn: i64,
    /// Recipients of campaigns launched in the month, and their answers.
    pub campaign_recipients: i64,
    pub campaign_replies: i64,
    pub still_willing: i64,
    pub paused: i64,
    pub opted_out: i64,
    /// `campaignReplies / campaignRecipients`.
    pub campaign_response_rate: f64,
    /// Volunteers reconnected in the month: returned from TU/UC or a stale contact, by path.
    /// Counted as it happens, so current to the minute.
    pub reconnected: Reconnected,
    /// When these figures were computed (the oldest snapshot they add up): the job takes one
    /// every hour; a past month keeps the last one taken in it. Null for a month with donation
    /// cases but no snapshot of the register (before the service ran): its volunteer counts
    /// are then 0, not measured.
    pub computed_at: Option<DateTime<Utc>>,
    /// Donation cases and regret in the month.
    pub cases: CaseMonth,
}

/// One month's donation cases and regret, for a branch or the nation.
#[derive(Debug, Default, SimpleObject)]
pub struct CaseMonth {
    /// Cases opened (search hits acted on).
    pub opened: i64,
    /// Collections recorded.
    pub collected: i64,
    /// Cases ended early, whoever's side.
    pub ended_early: i64,
    /// Of those, ended by the donor: regret.
    pub donor_ended: i64,
    /// `donorEnded / (collected + endedEarly)`: the share of the month's closed cases the donor
    /// ended.
    pub regret_rate: f64,
    /// Donor-side ends from clearance on.
    pub late_regrets: i64,
    /// Early ends by the stage reached, with the donor's share of each.
    pub by_stage: Vec<StageRegret>,
    /// Donor-side ends by cause.
    pub by_cause: Vec<CauseRegret>,
    /// Days from the search hit to each step recorded in the month.
    pub milestone_days: Vec<MilestoneTime>,
    /// When the rollup computed these (hourly for the current and the previous month).
    pub computed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, SimpleObject)]
pub struct StageRegret {
    pub stage: CaseStage,
    pub ended: i64,
    pub donor_ended: i64,
    /// `donorEnded / ` the month's closed cases.
    pub regret_rate: f64,
}

#[derive(Debug, SimpleObject)]
pub struct CauseRegret {
    pub cause: CaseEndCause,
    pub count: i64,
    /// Of the month's donor-side ends.
    pub share: f64,
}

#[derive(Debug, SimpleObject)]
pub struct MilestoneTime {
    pub stage: CaseStage,
    /// Steps recorded in the month.
    pub count: i64,
    pub median_days: i64,
    pub p90_days: i64,
}

impl From<cases::CaseMonth> for CaseMonth {
    fn from(month: cases::CaseMonth) -> Self {
        let figures = month.figures;
        let closed = figures.collected + figures.ended_early;
        Self {
            opened: figures.opened,
            collected: figures.collected,
            ended_early: figures.ended_early,
            donor_ended: figures.donor_ended,
            regret_rate: figures.regret_rate(),
            late_regrets: figures.late_regrets,
            by_stage: figures
                .by_stage
                .iter()
                .filter_map(|row| {
                    Some(StageRegret {
                        stage: Stage::parse(&row.stage)?.into(),
                        ended: row.ended,
                        donor_ended: row.donor_ended,
                        regret_rate: share(row.donor_ended, closed),
                    })
                })
                .collect(),
            by_cause: figures
                .by_cause
                .iter()
                .filter_map(|row| {
                    Some(CauseRegret {
                        cause: EndCause::parse(&row.cause)?.into(),
                        count: row.count,
                        share: share(row.count, figures.donor_ended),
                    })
                })
                .collect(),
            milestone_days: figures
                .milestone_days
                .iter()
                .filter_map(|row| {
                    Some(MilestoneTime {
                        stage: Stage::parse(&row.stage)?.into(),
                        count: row.count,
                        median_days: row.median,
                        p90_days: row.p90,
                    })
                })
                .collect(),
            computed_at: month.computed_at,
        }
    }
}

/// Volunteers reconnected, by path: the retention programme's outcome measure.
#[derive(Debug, SimpleObject)]
pub struct Reconnected {
    /// By themselves: a code to their old phone, or their ID number after losing the SIM.
    pub self_service: i64,
    /// Through a backup contact who read them the code.
    pub backup_contact: i64,
    /// Staff recorded the new number.
    pub staff: i64,
    pub total: i64,
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn share(part: i64, whole: i64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

impl From<retention::MonthFigures> for AttritionMonth {
    fn from(figures: retention::MonthFigures) -> Self {
        Self {
            month: figures.month,
            volunteers: figures.volunteers,
            pending: figures.pending,
            available: figures.available,
            unavailable: figures.unavailable,
            lost: figures.lost,
            reserved: figures.reserved,
            reachable: figures.reachable,
            reachable_share: share(figures.reachable, figures.volunteers),
            lost_share: share(figures.lost, figures.volunteers),
            withdrawn: figures.withdrawn,
            campaign_recipients: figures.campaign_recipients,
            campaign_replies: figures.campaign_replies,
            still_willing: figures.still_willing,
            paused: figures.paused,
            opted_out: figures.opted_out,
            campaign_response_rate: share(figures.campaign_replies, figures.campaign_recipients),
            reconnected: Reconnected {
                self_service: figures.reconnected.self_service,
                backup_contact: figures.reconnected.backup_contact,
                staff: figures.reconnected.staff,
                total: figures.reconnected.self_service
                    + figures.reconnected.backup_contact
                    + figures.reconnected.staff,
            },
            computed_at: figures.computed_at,
            cases: CaseMonth::default(),
        }
    }
}

/// A staff export of a search result (masked CSV).
#[derive(Debug, SimpleObject)]
pub struct VolunteerExport {
    pub id: async_graphql::ID,
    /// Null for a national export.
    pub branch_code: Option<String>,
    /// The filter, as stored (never a personal value).
    pub filter: async_graphql::Json<serde_json::Value>,
    pub purpose: String,
    /// Rows the filter found when asked.
    pub rows: i32,
    /// More rows than an export may hold without a second staff member's approval (100).
    pub needs_approval: bool,
    /// True once approved (at once for a small export); then its requester may download it.
    pub approved: bool,
    pub requested_by: async_graphql::ID,
    pub requested_at: DateTime<Utc>,
    pub approved_by: Option<async_graphql::ID>,
    pub approved_at: Option<DateTime<Utc>>,
    /// Neither approval nor download after this.
    pub expires_at: DateTime<Utc>,
    pub downloads: i32,
}

impl From<retention::ExportView> for VolunteerExport {
    fn from(view: retention::ExportView) -> Self {
        let needs_approval = view.needs_approval();
        let model = view.model;
        Self {
            id: async_graphql::ID(model.id.to_string()),
            branch_code: model.branch_code,
            filter: async_graphql::Json(serde_json::from_str(&model.filter).unwrap_or_default()),
            purpose: model.purpose,
            rows: model.rows,
            needs_approval,
            approved: model.status == entity::volunteer_export::ExportStatus::Approved,
            requested_by: async_graphql::ID(model.requested_by.to_string()),
            requested_at: model.requested_at,
            approved_by: model.approved_by.map(|id| async_graphql::ID(id.to_string())),
            approved_at: model.approved_at,
            expires_at: model.expires_at,
            downloads: model.downloads,
        }
    }
}

/// The rows of an export, as CSV with a header line: masked values, as on screen.
#[derive(Debug, SimpleObject)]
pub struct ExportFile {
    pub rows: u64,
    pub csv: String,
}

impl From<retention::ExportFile> for ExportFile {
    fn from(file: retention::ExportFile) -> Self {
        Self { rows: u64::try_from(file.rows).unwrap_or_default(), csv: file.csv }
    }
}
