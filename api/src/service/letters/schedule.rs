//! Which days a letter may cover: the case's schedule gives the dates, the branch's rules the
//! number of days.
//!
//! The schedule is what the registry knows, most certain first:
//! - the exam day is the date a partner hospital accepted for the medical-exam admission, or
//!   else the day the coordinator planned (`planCaseDates`);
//! - the collection day is the recorded collection, or else the date a partner hospital
//!   accepted for the collection admission, or else the day the coordinator planned.
//!
//! G-CSF days end the day before collection (PBSC only), collection days start on the
//! collection day, and rest starts the day after the last collection day.

use chrono::{Days, NaiveDate};
use entity::{admission_request, branch, case_milestone, donation_case};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::domain::donation::{Product, Stage};
use crate::domain::letter::{LeavePeriod, LeavePurpose};
use crate::error::{AppError, AppResult};

/// The most periods one letter covers: one of each purpose.
const MAX_PERIODS: usize = 4;

/// The dates a case's letters may cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub product: Product,
    pub exam_on: Option<NaiveDate>,
    pub collection_on: Option<NaiveDate>,
}

/// The branch's limits on days of leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaveRules {
    pub gcsf_days: (i64, i64),
    pub collection_days_max: i64,
    pub rest_days_max: i64,
}

impl From<&branch::Model> for LeaveRules {
    fn from(branch: &branch::Model) -> Self {
        Self {
            gcsf_days: (i64::from(branch.letter_gcsf_days_min), i64::from(branch.letter_gcsf_days_max)),
            collection_days_max: i64::from(branch.letter_collection_days_max),
            rest_days_max: i64::from(branch.letter_rest_days_max),
        }
    }
}

/// Reads the case's schedule.
pub async fn of<C: ConnectionTrait>(conn: &C, case: &donation_case::Model) -> AppResult<Schedule> {
    let product = Product::parse(&case.product).unwrap_or(Product::Pbsc);
    let accepted = |purpose: &'static str| {
        admission_request::Entity::find()
            .filter(admission_request::Column::CaseId.eq(case.id))
            .filter(admission_request::Column::Purpose.eq(purpose))
            .filter(admission_request::Column::Status.eq("accepted"))
            .order_by_desc(admission_request::Column::AnsweredAt)
    };
    let exam_on =
        accepted("medical_exam").one(conn).await?.and_then(|admission| admission.admitted_on).or(case.planned_exam_on);
    let collected = case_milestone::Entity::find()
        .filter(case_milestone::Column::CaseId.eq(case.id))
        .filter(case_milestone::Column::Stage.eq(Stage::Collection.as_str()))
        .one(conn)
        .await?
        .map(|milestone| milestone.occurred_on);
    let collection_on = match collected {
        Some(day) => Some(day),
        None => accepted("collection")
            .one(conn)
            .await?
            .and_then(|admission| admission.admitted_on)
            .or(case.planned_collection_on),
    };
    Ok(Schedule { product, exam_on, collection_on })
}

/// Checks the periods a letter asks for against the schedule and the rules.
///
/// # Errors
/// BAD_USER_INPUT on `input.periods` (none, too many, a purpose twice) or on the period's own
/// field (`input.periods.N.from`, `.to`, `.purpose`) for a date outside the schedule or more
/// days than the branch allows.
pub fn check(periods: &[LeavePeriod], schedule: &Schedule, rules: &LeaveRules) -> AppResult<()> {
    if periods.is_empty() || periods.len() > MAX_PERIODS {
        return Err(AppError::invalid("input.periods", format!("must list 1 to {MAX_PERIODS} periods")));
    }
    let collection_to = periods.iter().find(|p| p.purpose == LeavePurpose::Collection).map(|p| p.to);
    for (at, period) in periods.iter().enumerate() {
        if periods[..at].iter().any(|earlier| earlier.purpose == period.purpose) {
            return Err(AppError::invalid(format!("input.periods.{at}.purpose"), "is listed twice"));
        }
        if period.to < period.from {
            return Err(AppError::invalid(format!("input.periods.{at}.to"), "is before the period's first day"));
        }
        check_one(period, collection_to, schedule, rules)
            .map_err(|(field, message)| AppError::invalid(format!("input.periods.{at}.{field}"), message))?;
    }
    Ok(())
}

/// One period's check: the failing field of the period, and why.
fn check_one(
    period: &LeavePeriod,
    collection_to: Option<NaiveDate>,
    schedule: &Schedule,
    rules: &LeaveRules,
) -> Result<(), (&'static str, String)> {
    let days = period.days();
    let collection_on =
        || schedule.collection_on.ok_or(("from", "the case has no collection date scheduled yet".to_owned()));
    match period.purpose {
        LeavePurpose::MedicalExam => {
            let exam_on =
                schedule.exam_on.ok_or(("from", "the case has no medical exam date scheduled yet".to_owned()))?;
            if period.from != exam_on || period.to != exam_on {
                return Err(("from", format!("must be the case's exam day, {exam_on}")));
            }
        }
        LeavePurpose::Mobilisation => {
            if schedule.product != Product::Pbsc {
                return Err(("purpose", "a marrow collection has no G-CSF days".to_owned()));
            }
            let collection_on = collection_on()?;
            let (min, max) = rules.gcsf_days;
            if period.to.checked_add_days(Days::new(1)) != Some(collection_on) {
                return Err(("to", format!("must be the day before collection, {collection_on}")));
            }
            if !(min..=max).contains(&days) {
                return Err(("from", format!("G-CSF days must be {min} to {max}")));
            }
        }
        LeavePurpose::Collection => {
            let collection_on = collection_on()?;
            if period.from != collection_on {
                return Err(("from", format!("must be the case's collection day, {collection_on}")));
            }
            if days > rules.collection_days_max {
                return Err(("to", format!("collection covers at most {} days", rules.collection_days_max)));
            }
        }
        LeavePurpose::Rest => {
            let collection_on = collection_on()?;
            let latest_start =
                collection_on.checked_add_days(Days::new(rest_start_offset(rules))).unwrap_or(collection_on);
            let follows = match collection_to {
                Some(last) => last.checked_add_days(Days::new(1)) == Some(period.from),
                None => period.from > collection_on && period.from <= latest_start,
            };
            if !follows {
                return Err(("from", "must be the day after the last collection day".to_owned()));
            }
            if days > rules.rest_days_max {
                return Err(("to", format!("the branch allows at most {} rest days", rules.rest_days_max)));
            }
        }
    }
    Ok(())
}

/// Without a collection period in the letter, rest may start after any collection day.
fn rest_start_offset(rules: &LeaveRules) -> u64 {
    u64::try_from(rules.collection_days_max).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    const RULES: LeaveRules = LeaveRules { gcsf_days: (4, 5), collection_days_max: 2, rest_days_max: 2 };

    fn schedule() -> Schedule {
        Schedule { product: Product::Pbsc, exam_on: Some(day(1)), collection_on: Some(day(14)) }
    }

    fn period(purpose: LeavePurpose, from: u32, to: u32) -> LeavePeriod {
        LeavePeriod { purpose, from: day(from), to: day(to) }
    }

    #[test]
    fn four_gcsf_days_collection_and_two_rest_days_fit_the_schedule() {
        let periods = [
            period(LeavePurpose::Mobilisation, 10, 13),
            period(LeavePurpose::Collection, 14, 14),
            period(LeavePurpose::Rest, 15, 16),
        ];
        assert!(check(&periods, &schedule(), &RULES).is_ok());
        assert!(check(&[period(LeavePurpose::MedicalExam, 1, 1)], &schedule(), &RULES).is_ok());
    }

    #[test]
    fn dates_off_the_schedule_or_too_many_days_name_the_field() {
        let field = |periods: &[LeavePeriod]| match check(periods, &schedule(), &RULES) {
            Err(AppError::BadUserInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(&[period(LeavePurpose::Collection, 15, 15)]), "input.periods.0.from");
        assert_eq!(field(&[period(LeavePurpose::Mobilisation, 7, 13)]), "input.periods.0.from");
        assert_eq!(
            field(&[period(LeavePurpose::Collection, 14, 14), period(LeavePurpose::Rest, 15, 17)]),
            "input.periods.1.to"
        );
        assert_eq!(field(&[period(LeavePurpose::MedicalExam, 2, 2)]), "input.periods.0.from");
        assert_eq!(field(&[]), "input.periods");
        let marrow = Schedule { product: Product::Marrow, ..schedule() };
        assert!(check(&[period(LeavePurpose::Mobilisation, 10, 13)], &marrow, &RULES).is_err());
    }
}
