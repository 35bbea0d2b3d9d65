//! The green channel in the contract: admission requests (FHIR `Task` on a `ServiceRequest`,
//! answered with an `Appointment`), the hospital's answers, the scorecard, and webhook
//! endpoints and deliveries. Enums mirror `crate::domain::admission` one to one (`remote`).

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use super::case::CaseProduct;
use super::volunteer::{BloodGroup, Sex};
use crate::domain::admission;
use crate::graphql::{principal, request_id, services};
use crate::service::{Principal, green_channel as service, webhooks};

/// What the donor is admitted for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "admission::AdmissionPurpose")]
pub enum AdmissionPurpose {
    /// The pre-donation medical exam.
    MedicalExam,
    /// G-CSF mobilisation and collection (or the marrow harvest).
    Collection,
}

/// Where a request stands (FHIR `Task.status`: requested, accepted, rejected, cancelled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "admission::AdmissionStatus")]
pub enum AdmissionStatus {
    /// Waiting for the hospital's answer.
    Requested,
    Accepted,
    Declined,
    /// Withdrawn by the registry (re-routed, or the case ended), or by the hospital after
    /// accepting.
    Cancelled,
}

/// Why a hospital declines (FHIR `Task.statusReason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "admission::DeclineReason")]
pub enum DeclineReason {
    NoBed,
    NoService,
    DateNotPossible,
    Other,
}

/// The donor as admission needs them: masked, and no more.
#[derive(Debug, SimpleObject)]
pub struct AdmissionDonor {
    /// Masked: `张*`.
    pub name: String,
    pub sex: Sex,
    pub age: u32,
    pub blood_group: Option<BloodGroup>,
}

/// The hospital's appointment (FHIR `Appointment`).
#[derive(Debug, SimpleObject)]
pub struct AdmissionAppointment {
    pub admitted_on: NaiveDate,
    pub department: String,
    /// The hospital's contact for the admission, masked.
    pub contact_name: String,
    pub contact_phone: String,
}

/// The donor's identity, released to the hospital that accepted, for the admission.
#[derive(Debug, SimpleObject)]
pub struct DonorIdentity {
    pub full_name: String,
    pub national_id: String,
    pub phone: Option<String>,
}

/// A fast-track admission request.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct AdmissionRequest {
    pub id: ID,
    #[graphql(skip)]
    pub case_ref: uuid::Uuid,
    #[graphql(skip)]
    pub uuid: uuid::Uuid,
    pub hospital_id: ID,
    pub hospital_name: String,
    pub branch_code: String,
    pub purpose: AdmissionPurpose,
    pub product: CaseProduct,
    /// The proposed date; `alternatives` holds up to two more that would do.
    pub proposed_on: NaiveDate,
    pub alternatives: Vec<NaiveDate>,
    pub stay_days: i32,
    pub status: AdmissionStatus,
    /// One more with every change; webhooks carry it, so a receiver can drop stale events.
    pub version: i32,
    pub requested_at: DateTime<Utc>,
    /// The deadline to answer (FHIR `Task.restriction.period.end`).
    pub answer_due_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub answered_late: bool,
    /// The coordinator was alerted that the deadline passed unanswered.
    pub escalated: bool,
    pub appointment: Option<AdmissionAppointment>,
    pub decline_reason: Option<DeclineReason>,
    /// The decline's note, or the reason for a reschedule or cancellation.
    pub note: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The request this one replaced when the coordinator re-routed it.
    pub rerouted_from: Option<ID>,
    /// Null once the donor withdrew from the registry.
    pub donor: Option<AdmissionDonor>,
    /// The branch coordinator's work line.
    pub coordinator_phone: Option<String>,
}

#[ComplexObject]
impl AdmissionRequest {
    /// The donation case; staff only (a hospital never learns which case it is).
    async fn case_id(&self, ctx: &Context<'_>) -> Option<ID> {
        matches!(principal(ctx), Principal::Staff { .. }).then(|| ID(self.case_ref.to_string()))
    }

    /// The donor's full name, ID number and phone, for real-name admission: null until the
    /// calling hospital accepts. Each read is audited as an unmasking for the purpose
    /// "admission". Hospitals only.
    async fn donor_identity(&self, ctx: &Context<'_>) -> Result<Option<DonorIdentity>> {
        let actor = principal(ctx);
        let Ok(hospital) = actor.partner_hospital() else { return Ok(None) };
        let identity = services(ctx)?.green_channel.identity(&hospital, &actor, self.uuid, request_id(ctx)).await?;
        Ok(identity.map(|identity| DonorIdentity {
            full_name: identity.full_name,
            national_id: identity.national_id,
            phone: identity.phone,
        }))
    }
}

impl From<service::AdmissionView> for AdmissionRequest {
    fn from(view: service::AdmissionView) -> Self {
        Self {
            id: ID(view.id.to_string()),
            case_ref: view.case_id,
            uuid: view.id,
            hospital_id: ID(view.hospital_id.to_string()),
            hospital_name: view.hospital_name,
            branch_code: view.branch_code,
            purpose: view.purpose.into(),
            product: view.product.into(),
            proposed_on: view.proposed_on,
            alternatives: view.alternatives,
            stay_days: view.stay_days,
            status: view.status.into(),
            version: view.version,
            requested_at: view.requested_at,
            answer_due_at: view.answer_due_at,
            answered_at: view.answered_at,
            answered_late: view.answered_late,
            escalated: view.escalated,
            appointment: view.appointment.map(|appointment| AdmissionAppointment {
                admitted_on: appointment.admitted_on,
                department: appointment.department,
                contact_name: appointment.contact_name,
                contact_phone: appointment.contact_phone,
            }),
            decline_reason: view.decline_reason.map(Into::into),
            note: view.note,
            closed_at: view.closed_at,
            rerouted_from: view.rerouted_from.map(|id| ID(id.to_string())),
            donor: view.donor.map(|donor| AdmissionDonor {
                name: donor.masked_name,
                sex: match donor.sex {
                    crate::domain::Sex::Female => Sex::Female,
                    crate::domain::Sex::Male => Sex::Male,
                },
                age: donor.age,
                blood_group: donor.blood_group.map(Into::into),
            }),
            coordinator_phone: view.coordinator_phone,
        }
    }
}

/// A coordinator's request that a partner hospital admit a case's donor.
#[derive(Debug, InputObject)]
pub struct RequestAdmissionInput {
    pub case_id: ID,
    pub hospital_id: ID,
    pub purpose: AdmissionPurpose,
    /// Today or later, within 180 days.
    pub proposed_on: NaiveDate,
    /// Up to two other dates that would do.
    #[graphql(default)]
    pub alternatives: Vec<NaiveDate>,
    /// 1 to 14 days.
    pub stay_days: i32,
    /// Hours the hospital has to answer, 1 to 168; the branch's default (48) when omitted.
    pub answer_within_hours: Option<i32>,
}

/// A hospital's acceptance.
#[derive(Debug, InputObject)]
pub struct AcceptAdmissionInput {
    pub request_id: ID,
    /// Today or later, within 180 days.
    pub admitted_on: NaiveDate,
    /// 1 to 100 characters.
    pub department: String,
    /// Whom the donor and the coordinator ask for.
    pub contact_name: String,
    pub contact_phone: String,
}

/// A hospital's decline.
#[derive(Debug, InputObject)]
pub struct DeclineAdmissionInput {
    pub request_id: ID,
    pub reason: DeclineReason,
    /// 1 to 500 characters.
    pub note: String,
}

/// A new date for an accepted admission.
#[derive(Debug, InputObject)]
pub struct RescheduleAdmissionInput {
    pub request_id: ID,
    pub admitted_on: NaiveDate,
    /// 1 to 500 characters.
    pub reason: String,
}

/// The hospital withdrawing its acceptance.
#[derive(Debug, InputObject)]
pub struct CancelAdmissionInput {
    pub request_id: ID,
    /// 1 to 500 characters.
    pub reason: String,
}

/// One hospital's figures over a period.
#[derive(Debug, SimpleObject)]
pub struct HospitalScore {
    pub hospital_id: ID,
    pub hospital_name: String,
    pub requests: u32,
    pub accepted: u32,
    pub declined: u32,
    /// Still waiting for an answer.
    pub unanswered: u32,
    /// Accepted of answered, 0 to 1; null before any answer.
    pub acceptance_rate: Option<f64>,
    pub median_hours_to_answer: Option<f64>,
    pub p90_hours_to_answer: Option<f64>,
    /// Answered after the deadline.
    pub late_answers: u32,
    /// Unanswered and past the deadline now.
    pub overdue: u32,
}

impl From<service::HospitalScore> for HospitalScore {
    fn from(score: service::HospitalScore) -> Self {
        Self {
            hospital_id: ID(score.hospital_id.to_string()),
            hospital_name: score.hospital_name,
            requests: score.requests,
            accepted: score.accepted,
            declined: score.declined,
            unanswered: score.unanswered,
            acceptance_rate: score.acceptance_rate,
            median_hours_to_answer: score.median_hours_to_answer,
            p90_hours_to_answer: score.p90_hours_to_answer,
            late_answers: score.late_answers,
            overdue: score.overdue,
        }
    }
}

/// A hospital's webhook endpoint.
#[derive(Debug, SimpleObject)]
pub struct WebhookEndpoint {
    pub url: String,
    pub created_at: DateTime<Utc>,
    /// While the secret before the last rotation still signs beside the new one: until when.
    pub previous_secret_until: Option<DateTime<Utc>>,
}

impl From<webhooks::EndpointView> for WebhookEndpoint {
    fn from(view: webhooks::EndpointView) -> Self {
        Self { url: view.url, created_at: view.created_at, previous_secret_until: view.previous_secret_until }
    }
}

/// An endpoint with its new signing secret, shown this once.
#[derive(Debug, SimpleObject)]
pub struct WebhookSecret {
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`: verify `webhook-signature` with it (Standard Webhooks).
    pub secret: String,
}

impl From<webhooks::IssuedSecret> for WebhookSecret {
    fn from(issued: webhooks::IssuedSecret) -> Self {
        Self { endpoint: issued.endpoint.into(), secret: issued.secret }
    }
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum WebhookDeliveryStatus {
    /// Not yet accepted by the receiver; retried with backoff.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Out of attempts: dead-lettered, and the branch alerted. Ask for it again.
    Failed,
}

/// One series of tries to send an event.
#[derive(Debug, SimpleObject)]
pub struct WebhookDelivery {
    pub id: ID,
    /// The `webhook-id` the receiver saw; the same for every redelivery of one event.
    pub message_id: String,
    pub event_type: String,
    pub status: WebhookDeliveryStatus,
    pub attempts: i32,
    /// The receiver's last HTTP status.
    pub last_status: Option<i32>,
    /// Why the last try failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<webhooks::DeliveryView> for WebhookDelivery {
    fn from(view: webhooks::DeliveryView) -> Self {
        Self {
            id: ID(view.id.to_string()),
            message_id: view.message_id,
            event_type: view.event_type,
            status: match view.status.as_str() {
                "delivered" => WebhookDeliveryStatus::Delivered,
                "failed" => WebhookDeliveryStatus::Failed,
                _ => WebhookDeliveryStatus::Pending,
            },
            attempts: view.attempts,
            last_status: view.last_status,
            last_error: view.last_error,
            created_at: view.created_at,
            delivered_at: view.delivered_at,
        }
    }
}
