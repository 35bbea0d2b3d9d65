//! A synthetic history of donation cases over a seeded registry, for benchmarks and demos:
//! about `collections_per_year` donations a year over `years` years, with the funnel and the
//! causes of early ends from public figures (`../shared/domain.md`):
//! - at confirmatory typing, 38% of requests end for the donor's reasons (36% no contact, 34%
//!   medical, 27% personal or moved, 3% other) and some on the patient's side;
//! - at workup, 20% are cancelled: transplant centres end half of those, the donor's side the
//!   rest (62% medical deferrals, 38% personal: family first, then fear and work, per Korea's
//!   figures); a tenth of the donor's are late, at clearance or G-CSF;
//! - the rest are collected and transplanted.
//!
//! Steps are spaced as a coordinator records them (days to weeks, with jitter). Cases whose
//! next step would fall after today are still active at the step they reached, and their
//! volunteers reserved (RS) once past the search hit. The figures are rolled up at the end.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::volunteer::{self, DonorStatus};
use entity::{case_milestone, donation_case};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::db::bulk;
use crate::domain::calendar;
use crate::domain::donation::{CaseState, EndCause, EndedBy, Product, Stage, Urgency};
use crate::service::cases::CaseService;

/// Cases written per transaction.
const CHUNK: usize = 2_000;
/// The share of cases that reach collection, from the funnel below: a case survives typing
/// with 1 − 0.45 and workup with 1 − 0.202.
const COLLECTED_SHARE: f64 = 0.55 * 0.798;

/// Days from each step to the next, before jitter.
const SPACING: [(Stage, i64); 11] = [
    (Stage::CtRequested, 3),
    (Stage::CtSampleTaken, 7),
    (Stage::CtResult, 21),
    (Stage::InfoSession, 10),
    (Stage::ExamBooked, 7),
    (Stage::ExamPassed, 10),
    (Stage::Clearance, 14),
    (Stage::GcsfStart, 10),
    (Stage::Collection, 4),
    (Stage::Transplant, 1),
    (Stage::FollowUp, 30),
];

/// What to write.
#[derive(Clone, Copy, Debug)]
pub struct CaseHistory {
    pub years: u32,
    pub collections_per_year: u32,
    pub seed: u64,
    pub now: DateTime<Utc>,
}

/// What was written.
#[derive(Clone, Copy, Debug, Default)]
pub struct CaseReport {
    pub cases: u64,
    pub steps: u64,
    pub collected: u64,
    pub donor_ended: u64,
    pub active: u64,
}

/// One synthetic case before it is written.
struct Planned {
    case: donation_case::ActiveModel,
    steps: Vec<case_milestone::ActiveModel>,
    collected: bool,
    donor_ended: bool,
    reserves: Option<Uuid>,
}

impl CaseHistory {
    /// Writes the history over the available volunteers of `db`, then rolls up its figures.
    ///
    /// # Errors
    /// Too few available volunteers, or the database failed.
    pub async fn write(self, db: &DatabaseConnection, cases: &CaseService) -> anyhow::Result<CaseReport> {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let wanted = (f64::from(self.years * self.collections_per_year) / COLLECTED_SHARE).round() as u64;
        let donors = self.donors(db, wanted).await?;
        anyhow::ensure!(
            donors.len() as u64 >= wanted * 9 / 10,
            "{wanted} available volunteers needed, {} found",
            donors.len()
        );
        let mut rng = StdRng::seed_from_u64(self.seed);
        let staff = Uuid::now_v7();
        let today = calendar::today(self.now);
        let span = i64::from(self.years) * 365;
        let mut report = CaseReport::default();
        for chunk in donors.chunks(CHUNK) {
            let planned: Vec<Planned> = chunk
                .iter()
                .map(|(volunteer, branch)| {
                    let opened = today - Duration::days(rng.gen_range(0..span));
                    self.plan(&mut rng, *volunteer, branch, opened, today, staff)
                })
                .collect();
            let mut rows = Vec::with_capacity(planned.len());
            let mut steps = Vec::new();
            let mut reserved = Vec::new();
            for case in planned {
                report.cases += 1;
                report.steps += case.steps.len() as u64;
                report.collected += u64::from(case.collected);
                report.donor_ended += u64::from(case.donor_ended);
                if let Some(volunteer) = case.reserves {
                    reserved.push(volunteer);
                }
                rows.push(case.case);
                steps.extend(case.steps);
            }
            report.active += reserved.len() as u64;
            crate::db::write!(db, |txn| {
                bulk::insert::<donation_case::Entity, _>(txn, rows.clone(), None).await?;
                bulk::insert::<case_milestone::Entity, _>(txn, steps.clone(), None).await?;
                volunteer::Entity::update_many()
                    .col_expr(volunteer::Column::Status, Expr::value(DonorStatus::ReservedForThisPatient))
                    .filter(volunteer::Column::Id.is_in(reserved.clone()))
                    .exec(txn)
                    .await?;
                Ok(())
            })
            .map_err(|err| anyhow::anyhow!("writing cases: {err:?}"))?;
        }
        let first = today - Duration::days(span);
        cases.roll_up_figures(first, today, self.now).await.map_err(|err| anyhow::anyhow!("rolling up: {err:?}"))?;
        Ok(report)
    }

    /// About `wanted` available volunteers, from every branch in proportion to its size: the
    /// register's rows come branch after branch, so its first rows would all be one branch's.
    async fn donors(self, db: &DatabaseConnection, wanted: u64) -> anyhow::Result<Vec<(Uuid, String)>> {
        let sizes: Vec<(String, i64)> = volunteer::Entity::find()
            .select_only()
            .column(volunteer::Column::BranchCode)
            .column_as(volunteer::Column::Id.count(), "n")
            .filter(volunteer::Column::Status.eq(DonorStatus::Available))
            .group_by(volunteer::Column::BranchCode)
            .into_tuple()
            .all(db)
            .await?;
        let total: i64 = sizes.iter().map(|(_, n)| n).sum();
        let mut donors = Vec::new();
        for (branch, n) in sizes {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let share = (wanted as f64 * n as f64 / total.max(1) as f64).round() as u64;
            let ids: Vec<Uuid> = volunteer::Entity::find()
                .select_only()
                .column(volunteer::Column::Id)
                .filter(volunteer::Column::BranchCode.eq(branch.as_str()))
                .filter(volunteer::Column::Status.eq(DonorStatus::Available))
                .limit(share)
                .into_tuple()
                .all(db)
                .await?;
            donors.extend(ids.into_iter().map(|id| (id, branch.clone())));
        }
        Ok(donors)
    }

    /// One case opened on `opened`, walked through the funnel until it ends, is collected and
    /// followed up, or reaches today.
    fn plan(
        &self,
        rng: &mut StdRng,
        volunteer: Uuid,
        branch: &str,
        opened: NaiveDate,
        today: NaiveDate,
        staff: Uuid,
    ) -> Planned {
        let id = Uuid::now_v7();
        let product = if rng.gen_bool(0.8) { Product::Pbsc } else { Product::Marrow };
        let at = |on: NaiveDate| calendar::start_of(on) + Duration::hours(10);
        let step = |stage: Stage, on: NaiveDate| case_milestone::ActiveModel {
            id: Set(Uuid::now_v7()),
            case_id: Set(id),
            stage: Set(stage.as_str().to_owned()),
            occurred_on: Set(on),
            recorded_at: Set(at(on)),
            recorded_by: Set(staff),
        };
        let end = early_end(rng, product);
        let mut steps = vec![step(Stage::SearchHit, opened)];
        let (mut stage, mut on) = (Stage::SearchHit, opened);
        let mut still_active = false;
        for (next, days) in SPACING {
            if end.is_some_and(|(ended_at, ..)| ended_at == stage) {
                break;
            }
            if next == Stage::GcsfStart && product == Product::Marrow {
                continue;
            }
            let next_on = on + Duration::days(rng.gen_range(days / 2..=days * 3 / 2).max(1));
            if next_on > today {
                still_active = true;
                break;
            }
            steps.push(step(next, next_on));
            (stage, on) = (next, next_on);
        }
        let ended = end.filter(|(ended_at, ..)| !still_active && *ended_at == stage);
        let case_state = match (ended, stage) {
            (Some(_), _) => CaseState::Ended,
            (None, Stage::FollowUp) => CaseState::FollowUp,
            (None, _) => CaseState::Active,
        };
        let ended_on = (on + Duration::days(rng.gen_range(0..5))).min(today);
        let collected = steps.len() > 1 && stage.rank() >= Stage::Collection.rank();
        let case = donation_case::ActiveModel {
            id: Set(id),
            volunteer_id: Set(Some(volunteer)),
            branch_code: Set(branch.to_owned()),
            requesting_hospital_id: Set(None),
            requesting_centre: Set(Some("合成移植中心".into())),
            patient_reference: Set(format!("SYN-{}", &id.simple().to_string()[..12])),
            patient_sex: Set(None),
            patient_age_band: Set(None),
            patient_shared: Set(false),
            product: Set(product.as_str().to_owned()),
            urgency: Set(if rng.gen_bool(0.2) { Urgency::Urgent } else { Urgency::Standard }.as_str().to_owned()),
            coordinator_id: Set(staff),
            coordinator_phone: Set(None),
            state: Set(case_state.as_str().to_owned()),
            stage: Set(stage.as_str().to_owned()),
            stage_on: Set(on),
            stage_due_at: Set(None),
            overdue_alerted_at: Set(None),
            stale_contact: Set(rng.gen_bool(0.3)),
            opened_at: Set(at(opened)),
            opened_by: Set(staff),
            ended_at: Set(ended.map(|_| at(ended_on))),
            ended_stage: Set(ended.map(|(stage, ..)| stage.as_str().to_owned())),
            ended_by: Set(ended.map(|(_, by, _)| by.as_str().to_owned())),
            end_cause: Set(ended.map(|(.., cause)| cause.as_str().to_owned())),
            end_note: Set(None),
            late_regret: Set(ended.is_some_and(|(stage, by, _)| by == EndedBy::Donor && stage.is_late())),
            collected_ml: Set(None),
            planned_exam_on: Set(None),
            planned_collection_on: Set(None),
            updated_at: Set(self.now),
        };
        Planned {
            case,
            steps,
            collected,
            donor_ended: ended.is_some_and(|(_, by, _)| by == EndedBy::Donor),
            reserves: (case_state == CaseState::Active && stage.reserves()).then_some(volunteer),
        }
    }
}

/// Where a case ends early, if it does: the stage, whose side and why, by the funnel's shares.
fn early_end(rng: &mut StdRng, product: Product) -> Option<(Stage, EndedBy, EndCause)> {
    if rng.gen_bool(0.45) {
        let stage = [Stage::SearchHit, Stage::CtRequested, Stage::CtSampleTaken][rng.gen_range(0..3)];
        if rng.gen_bool(0.85) {
            let cause = pick(
                rng,
                &[
                    (EndCause::LostContact, 36.0),
                    (EndCause::Health, 34.1),
                    (EndCause::Personal, 27.3),
                    (EndCause::Other, 2.6),
                ],
            );
            Some((stage, EndedBy::Donor, cause))
        } else {
            Some((stage, EndedBy::Patient, EndCause::Other))
        }
    } else if rng.gen_bool(0.202) {
        let late = rng.gen_bool(0.1);
        let stage = if late {
            if product == Product::Pbsc && rng.gen_bool(0.5) { Stage::GcsfStart } else { Stage::Clearance }
        } else {
            [Stage::CtResult, Stage::InfoSession, Stage::ExamBooked, Stage::ExamPassed][rng.gen_range(0..4)]
        };
        if rng.gen_bool(0.526) {
            Some((stage, EndedBy::Patient, EndCause::Other))
        } else if rng.gen_bool(0.617) {
            Some((stage, EndedBy::Registry, EndCause::Health))
        } else {
            let cause = pick(
                rng,
                &[(EndCause::Family, 45.0), (EndCause::Fear, 25.0), (EndCause::Work, 20.0), (EndCause::Personal, 10.0)],
            );
            Some((stage, EndedBy::Donor, cause))
        }
    } else {
        None
    }
}

/// One of `weighted`, by weight.
fn pick<T: Copy>(rng: &mut StdRng, weighted: &[(T, f64)]) -> T {
    let total: f64 = weighted.iter().map(|(_, weight)| weight).sum();
    let mut left = rng.gen_range(0.0..total);
    for (value, weight) in weighted {
        if left < *weight {
            return *value;
        }
        left -= weight;
    }
    weighted[weighted.len() - 1].0
}
