//! The hospital green channel: a coordinator asks a partner hospital to admit a case's donor on
//! a fast track; the hospital's system answers within a deadline; the registry tells it what
//! changed through signed webhooks.
//!
//! Who may do what, stated here once and taken as capabilities:
//! - a [`Coordinator`](crate::service::Coordinator) of the case's branch (or a national
//!   administrator) requests an admission and re-routes one to another hospital;
//! - a [`VolunteerReader`](crate::service::VolunteerReader) (recruiters too) reads a case's
//!   admissions and the hospitals' scorecard;
//! - the asked hospital ([`PartnerHospital`](crate::service::PartnerHospital)) reads and answers
//!   its own requests, every answer under an idempotency key. It sees what admission needs (the
//!   donor's masked name, sex, age and blood group, the stage, the coordinator's line) and, once
//!   it has accepted, the donor's identity, each read of which is audited as an unmasking.
//!
//! - `request.rs`: the coordinator's side (request, re-route, the case ending);
//! - `answer.rs`: the hospital's answers;
//! - `read.rs`: the views, the hospital's open requests, the identity release;
//! - `scorecard.rs`: the figures a branch takes to a hospital that keeps donors waiting;
//! - `deadlines.rs`: the job that escalates unanswered requests.

mod answer;
mod deadlines;
mod read;
mod request;
mod scorecard;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use entity::admission_request;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use answer::{Acceptance, Cancellation, Decline, Reschedule};
pub use deadlines::DeadlineTask;
pub use read::{DonorAdmission, DonorIdentity};
pub use request::NewAdmission;
pub use scorecard::HospitalScore;

use super::volunteer::VolunteerService;
use super::webhooks::{EventType, WebhookService};
use crate::domain::admission::{AdmissionPurpose, AdmissionStatus, DeclineReason};
use crate::domain::donation::Product;
use crate::domain::{BloodGroup, Sex};
use crate::error::AppResult;
use crate::pii::KeyRing;

/// The longest a hospital may be given to answer, in hours; idempotency keys are kept this long.
pub const MAX_ANSWER_HOURS: i64 = 7 * 24;
/// How far ahead an admission may be proposed or agreed, in days.
pub const DATE_WINDOW_DAYS: i64 = 180;
/// The longest stay a request may ask for, in days.
pub const MAX_STAY_DAYS: i32 = 14;

/// Admission requests and their answers. Cheap to clone.
#[derive(Clone, Debug)]
pub struct GreenChannel {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    volunteers: VolunteerService,
    webhooks: WebhookService,
}

/// The donor as admission needs them: masked, and no more.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DonorSummary {
    pub masked_name: String,
    pub sex: Sex,
    pub age: u32,
    pub blood_group: Option<BloodGroup>,
}

/// The hospital's appointment, once it accepted.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Appointment {
    pub admitted_on: NaiveDate,
    pub department: String,
    /// The hospital's contact for the admission, masked.
    pub contact_name: String,
    pub contact_phone: String,
}

/// A request as the hospital and the branch's staff read it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdmissionView {
    pub id: Uuid,
    /// Staff only: the hospital never learns the case.
    pub case_id: Uuid,
    pub hospital_id: Uuid,
    pub hospital_name: String,
    pub branch_code: String,
    pub purpose: AdmissionPurpose,
    pub product: Product,
    pub proposed_on: NaiveDate,
    pub alternatives: Vec<NaiveDate>,
    pub stay_days: i32,
    pub status: AdmissionStatus,
    pub version: i32,
    pub requested_at: DateTime<Utc>,
    pub answer_due_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub answered_late: bool,
    pub escalated: bool,
    pub appointment: Option<Appointment>,
    pub decline_reason: Option<DeclineReason>,
    /// The decline's note, or the reason for a reschedule or a cancellation.
    pub note: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub rerouted_from: Option<Uuid>,
    /// `None` once the donor withdrew from the registry.
    pub donor: Option<DonorSummary>,
    /// The branch coordinator's work line.
    pub coordinator_phone: Option<String>,
}

impl GreenChannel {
    pub(crate) fn new(
        db: DatabaseConnection,
        keys: Arc<KeyRing>,
        volunteers: VolunteerService,
        webhooks: WebhookService,
    ) -> Self {
        Self { db, keys, volunteers, webhooks }
    }

    /// Tells the hospital's system that `request` changed, on `conn`: the change's transaction.
    async fn tell<C: ConnectionTrait>(
        &self,
        conn: &C,
        request: &admission_request::Model,
        event: EventType,
    ) -> AppResult<bool> {
        let data = serde_json::json!({
            "admissionRequestId": request.id.to_string(),
            "status": request.status,
            "version": request.version,
            "answerDueAt": request.answer_due_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        self.webhooks.emit(conn, request.hospital_id, &request.branch_code, event, data).await
    }
}
