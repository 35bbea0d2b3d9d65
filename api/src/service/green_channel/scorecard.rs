//! The scorecard per hospital: how many requests it got, how many it accepted, how fast it
//! answered (median and 90th percentile) and how often late. This is the evidence a branch
//! takes to a hospital that keeps donors waiting. Requests are few (about two thousand
//! donations a year nationally), so the figures are computed from the rows of the period.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{admission_request, hospital};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::GreenChannel;
use crate::domain::admission::AdmissionStatus;
use crate::domain::calendar;
use crate::error::{AppError, AppResult};
use crate::service::VolunteerReader;

/// One hospital's figures over a period.
#[derive(Clone, Debug, PartialEq)]
pub struct HospitalScore {
    pub hospital_id: Uuid,
    pub hospital_name: String,
    pub requests: u32,
    pub accepted: u32,
    pub declined: u32,
    /// Still waiting for an answer.
    pub unanswered: u32,
    /// Accepted of answered; `None` before any answer.
    pub acceptance_rate: Option<f64>,
    pub median_hours_to_answer: Option<f64>,
    pub p90_hours_to_answer: Option<f64>,
    /// Answered after the deadline.
    pub late_answers: u32,
    /// Unanswered and already past the deadline.
    pub overdue: u32,
}

impl GreenChannel {
    /// The scorecard of the hospitals asked by `branch` (the reader's own, or any for national
    /// staff, or every branch they read when `None`) for requests made from `from` to `to`
    /// (Beijing dates, inclusive), worst acceptance first.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `to` before `from`; FORBIDDEN for another branch.
    pub async fn scorecard(
        &self,
        reader: &VolunteerReader,
        branch: Option<String>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<Vec<HospitalScore>> {
        if to < from {
            return Err(AppError::invalid("to", "must not be before from"));
        }
        let branch = reader.scope.branch_read(branch.as_deref())?;
        let mut query = admission_request::Entity::find()
            .filter(admission_request::Column::RequestedAt.gte(calendar::start_of(from)))
            .filter(admission_request::Column::RequestedAt.lt(calendar::start_of(to + chrono::Duration::days(1))));
        if let Some(branch) = &branch {
            query = query.filter(admission_request::Column::BranchCode.eq(branch.as_str()));
        }
        let rows = query.all(&self.db).await?;
        let names: BTreeMap<Uuid, String> = hospital::Entity::find()
            .filter(hospital::Column::Id.is_in(rows.iter().map(|row| row.hospital_id)))
            .select_only()
            .column(hospital::Column::Id)
            .column(hospital::Column::Name)
            .into_tuple::<(Uuid, String)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let now = Utc::now();
        let mut by_hospital: BTreeMap<Uuid, Vec<admission_request::Model>> = BTreeMap::new();
        for row in rows {
            by_hospital.entry(row.hospital_id).or_default().push(row);
        }
        let mut scores: Vec<HospitalScore> = by_hospital
            .into_iter()
            .map(|(id, rows)| score(id, names.get(&id).cloned().unwrap_or_default(), &rows, now))
            .collect();
        scores.sort_by(|a, b| {
            a.acceptance_rate
                .unwrap_or(1.0)
                .total_cmp(&b.acceptance_rate.unwrap_or(1.0))
                .then(b.requests.cmp(&a.requests))
        });
        Ok(scores)
    }
}

fn score(
    hospital_id: Uuid,
    hospital_name: String,
    rows: &[admission_request::Model],
    now: DateTime<Utc>,
) -> HospitalScore {
    let count = |keep: &dyn Fn(&admission_request::Model) -> bool| {
        u32::try_from(rows.iter().filter(|row| keep(row)).count()).unwrap_or(u32::MAX)
    };
    let accepted = count(&|row| row.answered_at.is_some() && row.decline_reason.is_none());
    let declined = count(&|row| row.decline_reason.is_some());
    let waiting = |row: &admission_request::Model| row.status == AdmissionStatus::Requested.as_str();
    let mut hours: Vec<f64> = rows
        .iter()
        .filter_map(|row| row.answered_at.map(|at| (at - row.requested_at).num_seconds()))
        .map(|seconds| f64::from(i32::try_from(seconds).unwrap_or(i32::MAX)) / 3600.0)
        .collect();
    hours.sort_by(f64::total_cmp);
    let answered = accepted + declined;
    HospitalScore {
        hospital_id,
        hospital_name,
        requests: count(&|_| true),
        accepted,
        declined,
        unanswered: count(&waiting),
        acceptance_rate: (answered > 0).then(|| f64::from(accepted) / f64::from(answered)),
        median_hours_to_answer: percentile(&hours, 50),
        p90_hours_to_answer: percentile(&hours, 90),
        late_answers: count(&|row| row.answered_late),
        overdue: count(&|row| waiting(row) && row.answer_due_at < now),
    }
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], percent: usize) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let hours: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&hours, 50), Some(5.0));
        assert_eq!(percentile(&hours, 90), Some(9.0));
        assert_eq!(percentile(&[3.0], 90), Some(3.0));
        assert_eq!(percentile(&[], 50), None);
    }
}
