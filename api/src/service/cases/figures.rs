//! The regret figures, per month, per branch and nationally: cases opened, donations collected
//! and cases ended early; the donor-side regret rate by stage and by cause; and the days from
//! the search hit to each step (median and p90).
//!
//! Medians do not add up across branches, so the rollup writes the nation as a branch of its
//! own (`00`) beside each branch, and a read is one row per month. The rollup recomputes the
//! current and the previous month every hour (steps are often recorded days after they
//! happen); [`CaseService::roll_up_figures`] recomputes any range, as the seeding of a
//! registry does for its ten years.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use entity::{case_figures, case_milestone, donation_case};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::CaseService;
use crate::db;
use crate::domain::calendar::{month_of, start_of};
use crate::domain::donation::{CaseState, EndCause, EndedBy, Stage};
use crate::error::{AppError, AppResult};
use crate::service::VolunteerReader;

/// The key of the national rows.
pub const NATIONAL: &str = "00";
/// Cases looked up per statement when the month's steps find their branch and search hit.
const LOOKUP_CHUNK: usize = 5_000;

/// Early ends grouped: branch, stage, side, cause, late, and how many.
type Ends = (String, Option<String>, Option<String>, Option<String>, bool, i64);

/// One month's case figures of a branch, or of the nation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseFigures {
    /// Cases opened in the month (search hits acted on).
    pub opened: i64,
    /// Collections recorded in the month.
    pub collected: i64,
    /// Cases ended early in the month, whoever's side.
    pub ended_early: i64,
    /// Of those, ended by the donor: regret.
    pub donor_ended: i64,
    /// Donor-side ends from clearance on.
    pub late_regrets: i64,
    /// Early ends in the month by the stage they reached.
    pub by_stage: Vec<StageEnds>,
    /// Donor-side ends in the month by cause.
    pub by_cause: Vec<CauseCount>,
    /// Days from the search hit to each step recorded in the month.
    pub milestone_days: Vec<MilestoneDays>,
}

impl CaseFigures {
    /// Donor-side ends over the cases that closed in the month (collected or ended early).
    #[must_use]
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    pub fn regret_rate(&self) -> f64 {
        let closed = self.collected + self.ended_early;
        if closed == 0 { 0.0 } else { self.donor_ended as f64 / closed as f64 }
    }
}

/// Early ends at one stage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageEnds {
    pub stage: String,
    pub ended: i64,
    pub donor_ended: i64,
}

/// Donor-side ends of one cause.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CauseCount {
    pub cause: String,
    pub count: i64,
}

/// How long cases took to reach a step, from their search hit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneDays {
    pub stage: String,
    pub count: i64,
    pub median: i64,
    pub p90: i64,
}

/// The figures of one month.
#[derive(Clone, Debug)]
pub struct CaseMonth {
    pub month: NaiveDate,
    pub figures: CaseFigures,
    pub computed_at: Option<DateTime<Utc>>,
}

impl CaseService {
    /// The case figures of `from` to `to` (months), for a branch or, when `branch` is `None`,
    /// the nation; months without cases are absent. One statement.
    ///
    /// # Errors
    /// FORBIDDEN for another branch; BAD_USER_INPUT on `branchCode`.
    pub async fn figures(
        &self,
        reader: &VolunteerReader,
        branch: Option<&str>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<BTreeMap<NaiveDate, CaseMonth>> {
        let branch = reader.scope.branch_read(branch)?.unwrap_or_else(|| NATIONAL.to_owned());
        let rows = case_figures::Entity::find()
            .filter(case_figures::Column::BranchCode.eq(branch))
            .filter(case_figures::Column::Month.between(from, to))
            .order_by_asc(case_figures::Column::Month)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| {
                let figures = serde_json::from_str(&row.figures).map_err(AppError::internal)?;
                Ok((row.month, CaseMonth { month: row.month, figures, computed_at: Some(row.computed_at) }))
            })
            .collect()
    }

    /// Recomputes the figures of the months from `from` to `to`, for every branch and the
    /// nation. Safe to run again: each month's rows are replaced whole.
    ///
    /// # Errors
    /// The database failed.
    pub async fn roll_up_figures(&self, from: NaiveDate, to: NaiveDate, now: DateTime<Utc>) -> AppResult<u64> {
        let mut month = month_of(start_of(from) + Duration::hours(12));
        let mut written = 0;
        while month <= to {
            let next = month.checked_add_months(Months::new(1)).unwrap_or(NaiveDate::MAX);
            let by_branch = self.month_figures(month, next).await?;
            let rows: Vec<case_figures::ActiveModel> = by_branch
                .into_iter()
                .map(|(branch, figures)| {
                    Ok(case_figures::ActiveModel {
                        branch_code: Set(branch),
                        month: Set(month),
                        figures: Set(serde_json::to_string(&figures).map_err(AppError::internal)?),
                        computed_at: Set(now),
                    })
                })
                .collect::<AppResult<_>>()?;
            if !rows.is_empty() {
                written += rows.len() as u64;
                db::write!(&self.db, |txn| {
                    case_figures::Entity::insert_many(rows.clone())
                        .on_conflict(
                            OnConflict::columns([case_figures::Column::BranchCode, case_figures::Column::Month])
                                .update_columns([case_figures::Column::Figures, case_figures::Column::ComputedAt])
                                .to_owned(),
                        )
                        .exec_without_returning(txn)
                        .await?;
                    Ok(())
                })?;
            }
            month = next;
        }
        Ok(written)
    }

    /// One month's figures of every branch with cases, and of the nation: three statements,
    /// and two per [`LOOKUP_CHUNK`] cases with steps in the month.
    async fn month_figures(&self, month: NaiveDate, next: NaiveDate) -> AppResult<HashMap<String, CaseFigures>> {
        let (start, end) = (start_of(month), start_of(next));
        let mut figures: HashMap<String, CaseFigures> = HashMap::new();
        let mut both = |branch: &str, add: &dyn Fn(&mut CaseFigures)| {
            add(figures.entry(branch.to_owned()).or_default());
            add(figures.entry(NATIONAL.to_owned()).or_default());
        };

        let opened: Vec<(String, i64)> = donation_case::Entity::find()
            .select_only()
            .column(donation_case::Column::BranchCode)
            .column_as(donation_case::Column::Id.count(), "n")
            .filter(donation_case::Column::OpenedAt.gte(start))
            .filter(donation_case::Column::OpenedAt.lt(end))
            .group_by(donation_case::Column::BranchCode)
            .into_tuple()
            .all(&self.db)
            .await?;
        for (branch, n) in opened {
            both(&branch, &|f| f.opened += n);
        }

        let ends: Vec<Ends> = donation_case::Entity::find()
            .select_only()
            .columns([
                donation_case::Column::BranchCode,
                donation_case::Column::EndedStage,
                donation_case::Column::EndedBy,
                donation_case::Column::EndCause,
                donation_case::Column::LateRegret,
            ])
            .column_as(donation_case::Column::Id.count(), "n")
            .filter(donation_case::Column::State.eq(CaseState::Ended.as_str()))
            .filter(donation_case::Column::EndedAt.gte(start))
            .filter(donation_case::Column::EndedAt.lt(end))
            .group_by(donation_case::Column::BranchCode)
            .group_by(donation_case::Column::EndedStage)
            .group_by(donation_case::Column::EndedBy)
            .group_by(donation_case::Column::EndCause)
            .group_by(donation_case::Column::LateRegret)
            .into_tuple()
            .all(&self.db)
            .await?;
        for (branch, stage, by, cause, late, n) in ends {
            let donor = by.as_deref() == Some(EndedBy::Donor.as_str());
            let stage = stage.unwrap_or_default();
            let cause = cause.unwrap_or_default();
            both(&branch, &|f| {
                f.ended_early += n;
                add_stage(&mut f.by_stage, &stage, n, if donor { n } else { 0 });
                if donor {
                    f.donor_ended += n;
                    add_cause(&mut f.by_cause, &cause, n);
                    if late {
                        f.late_regrets += n;
                    }
                }
            });
        }

        self.add_step_times(&mut figures, month, next).await?;
        for month in figures.values_mut() {
            month.by_stage.sort_by_key(|row| Stage::parse(&row.stage).map(Stage::rank));
            month.by_cause.sort_by_key(|row| EndCause::parse(&row.cause).map(|cause| cause as usize));
            month.milestone_days.sort_by_key(|row| Stage::parse(&row.stage).map(Stage::rank));
        }
        Ok(figures)
    }

    /// Adds the month's collections, and the days from the search hit to each step recorded in
    /// the month, to `figures`.
    async fn add_step_times(
        &self,
        figures: &mut HashMap<String, CaseFigures>,
        month: NaiveDate,
        next: NaiveDate,
    ) -> AppResult<()> {
        // Each step recorded in the month, with its case's branch and search-hit date.
        let steps: Vec<(Uuid, String, NaiveDate)> = case_milestone::Entity::find()
            .select_only()
            .columns([
                case_milestone::Column::CaseId,
                case_milestone::Column::Stage,
                case_milestone::Column::OccurredOn,
            ])
            .filter(case_milestone::Column::OccurredOn.gte(month))
            .filter(case_milestone::Column::OccurredOn.lt(next))
            .filter(case_milestone::Column::Stage.ne(Stage::SearchHit.as_str()))
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut hits: HashMap<Uuid, (String, NaiveDate)> = HashMap::new();
        for chunk in steps.chunks(LOOKUP_CHUNK) {
            let ids: Vec<Uuid> = chunk.iter().map(|(id, ..)| *id).collect();
            let branches: HashMap<Uuid, String> = donation_case::Entity::find()
                .select_only()
                .columns([donation_case::Column::Id, donation_case::Column::BranchCode])
                .filter(donation_case::Column::Id.is_in(ids.clone()))
                .into_tuple::<(Uuid, String)>()
                .all(&self.db)
                .await?
                .into_iter()
                .collect();
            let hit_on: Vec<(Uuid, NaiveDate)> = case_milestone::Entity::find()
                .select_only()
                .columns([case_milestone::Column::CaseId, case_milestone::Column::OccurredOn])
                .filter(case_milestone::Column::CaseId.is_in(ids))
                .filter(case_milestone::Column::Stage.eq(Stage::SearchHit.as_str()))
                .into_tuple()
                .all(&self.db)
                .await?;
            for (case, on) in hit_on {
                if let Some(branch) = branches.get(&case) {
                    hits.insert(case, (branch.clone(), on));
                }
            }
        }
        let mut days: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
        for (case, stage, on) in steps {
            let Some((branch, hit)) = hits.get(&case) else { continue };
            if stage == Stage::Collection.as_str() {
                for key in [branch.as_str(), NATIONAL] {
                    figures.entry(key.to_owned()).or_default().collected += 1;
                }
            }
            let waited = (on - *hit).num_days().max(0);
            days.entry((branch.clone(), stage.clone())).or_default().push(waited);
            days.entry((NATIONAL.to_owned(), stage)).or_default().push(waited);
        }
        for ((branch, stage), mut waits) in days {
            waits.sort_unstable();
            let at = |share: f64| {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
                let index = ((waits.len() as f64 - 1.0) * share).round() as usize;
                waits[index.min(waits.len() - 1)]
            };
            let row = MilestoneDays {
                stage: stage.clone(),
                count: i64::try_from(waits.len()).unwrap_or(i64::MAX),
                median: at(0.5),
                p90: at(0.9),
            };
            figures.entry(branch).or_default().milestone_days.push(row);
        }
        Ok(())
    }
}

fn add_stage(rows: &mut Vec<StageEnds>, stage: &str, ended: i64, donor_ended: i64) {
    match rows.iter_mut().find(|row| row.stage == stage) {
        Some(row) => {
            row.ended += ended;
            row.donor_ended += donor_ended;
        }
        None => rows.push(StageEnds { stage: stage.to_owned(), ended, donor_ended }),
    }
}

fn add_cause(rows: &mut Vec<CauseCount>, cause: &str, count: i64) {
    match rows.iter_mut().find(|row| row.cause == cause) {
        Some(row) => row.count += count,
        None => rows.push(CauseCount { cause: cause.to_owned(), count }),
    }
}

/// The rollup of the case figures, hourly: the current month and the one before.
#[derive(Clone, Debug)]
pub struct FiguresTask(pub CaseService);

#[async_trait::async_trait]
impl crate::jobs::Periodic for FiguresTask {
    fn name(&self) -> &'static str {
        "cases.figures"
    }

    fn every(&self) -> Duration {
        Duration::hours(1)
    }

    async fn run(&self, now: DateTime<Utc>) -> AppResult<u64> {
        let this_month = month_of(now);
        let last_month = this_month.checked_sub_months(Months::new(1)).unwrap_or(this_month);
        self.0.roll_up_figures(last_month, this_month, now).await
    }
}
