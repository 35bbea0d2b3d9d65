//! The green channel's mutations. A hospital's every mutation takes a required
//! `idempotencyKey`: the same key and input replay the first answer, another input is CONFLICT.

use async_graphql::{Context, ID, Object, Result};

use crate::graphql::types::{
    AcceptAdmissionInput, AdmissionRequest, CancelAdmissionInput, DeclineAdmissionInput, RequestAdmissionInput,
    RescheduleAdmissionInput, WebhookDelivery, WebhookSecret,
};
use crate::graphql::{parse_id, principal, request_id, services};
use crate::service::green_channel::{Acceptance, Cancellation, Decline, NewAdmission, Reschedule};

#[derive(Debug, Default)]
pub struct AdmissionMutation;

#[Object]
impl AdmissionMutation {
    /// Asks a partner hospital to admit a case's donor on a fast track; the hospital's system
    /// is told by webhook.
    ///
    /// Access: national administrators; coordinators of the case's branch.
    async fn request_admission(&self, ctx: &Context<'_>, input: RequestAdmissionInput) -> Result<AdmissionRequest> {
        let actor = principal(ctx);
        let coordinator = actor.coordinator()?;
        let input = NewAdmission {
            case_id: parse_id("input.caseId", &input.case_id)?,
            hospital_id: parse_id("input.hospitalId", &input.hospital_id)?,
            purpose: input.purpose.into(),
            proposed_on: input.proposed_on,
            alternatives: input.alternatives,
            stay_days: input.stay_days,
            answer_within_hours: input.answer_within_hours,
        };
        let channel = &services(ctx)?.green_channel;
        Ok(channel.request(&coordinator, &actor, input, request_id(ctx)).await?.into())
    }

    /// Re-routes a waiting, declined or cancelled request to another hospital in one step: the
    /// old one is cancelled (its hospital told), the new one names it in `reroutedFrom`.
    ///
    /// Access: national administrators; coordinators of the request's branch.
    async fn reroute_admission(
        &self,
        ctx: &Context<'_>,
        request_id: ID,
        hospital_id: ID,
        answer_within_hours: Option<i32>,
    ) -> Result<AdmissionRequest> {
        let actor = principal(ctx);
        let coordinator = actor.coordinator()?;
        let moved = parse_id("requestId", &request_id)?;
        let hospital = parse_id("hospitalId", &hospital_id)?;
        let channel = &services(ctx)?.green_channel;
        let view = channel
            .reroute(&coordinator, &actor, moved, hospital, answer_within_hours, crate::graphql::request_id(ctx))
            .await?;
        Ok(view.into())
    }

    /// Accepts an admission request with a date, a department and a contact. From now on the
    /// request's `donorIdentity` is released to this hospital.
    ///
    /// Access: partner hospitals (their own requests).
    async fn accept_admission(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        input: AcceptAdmissionInput,
    ) -> Result<AdmissionRequest> {
        let actor = principal(ctx);
        let hospital = actor.partner_hospital()?;
        let input = Acceptance {
            request_id: parse_id("input.requestId", &input.request_id)?,
            admitted_on: input.admitted_on,
            department: input.department,
            contact_name: input.contact_name,
            contact_phone: input.contact_phone,
        };
        let channel = &services(ctx)?.green_channel;
        Ok(channel.accept(&hospital, &actor, &idempotency_key, input, request_id(ctx)).await?.into())
    }

    /// Declines an admission request with a coded reason and a note.
    ///
    /// Access: partner hospitals (their own requests).
    async fn decline_admission(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        input: DeclineAdmissionInput,
    ) -> Result<AdmissionRequest> {
        let actor = principal(ctx);
        let hospital = actor.partner_hospital()?;
        let input = Decline {
            request_id: parse_id("input.requestId", &input.request_id)?,
            reason: input.reason.into(),
            note: input.note,
        };
        let channel = &services(ctx)?.green_channel;
        Ok(channel.decline(&hospital, &actor, &idempotency_key, input, request_id(ctx)).await?.into())
    }

    /// Moves an accepted admission to another date, giving a reason.
    ///
    /// Access: partner hospitals (their own requests).
    async fn reschedule_admission(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        input: RescheduleAdmissionInput,
    ) -> Result<AdmissionRequest> {
        let actor = principal(ctx);
        let hospital = actor.partner_hospital()?;
        let input = Reschedule {
            request_id: parse_id("input.requestId", &input.request_id)?,
            admitted_on: input.admitted_on,
            reason: input.reason,
        };
        let channel = &services(ctx)?.green_channel;
        Ok(channel.reschedule(&hospital, &actor, &idempotency_key, input, request_id(ctx)).await?.into())
    }

    /// Withdraws the hospital's acceptance, giving a reason; the coordinator re-routes.
    ///
    /// Access: partner hospitals (their own requests).
    async fn cancel_admission(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        input: CancelAdmissionInput,
    ) -> Result<AdmissionRequest> {
        let actor = principal(ctx);
        let hospital = actor.partner_hospital()?;
        let input = Cancellation { request_id: parse_id("input.requestId", &input.request_id)?, reason: input.reason };
        let channel = &services(ctx)?.green_channel;
        Ok(channel.cancel(&hospital, &actor, &idempotency_key, input, request_id(ctx)).await?.into())
    }

    /// Registers (or replaces) the calling hospital's webhook endpoint: an HTTPS URL on a
    /// public address. Returns its signing secret, shown this once.
    ///
    /// Access: partner hospitals (their own).
    async fn register_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        url: String,
    ) -> Result<WebhookSecret> {
        let actor = principal(ctx);
        let hospital = actor.partner_hospital()?;
        let webhooks = &services(ctx)?.webhooks;
        Ok(webhooks.register(&hospital, &actor, &idempotency_key, url, request_id(ctx)).await?.into())
    }

    /// A new signing secret, shown this once; the previous one signs beside it for 24 hours.
    ///
    /// Access: partner hospitals (their own).
    async fn rotate_webhook_secret(&self, ctx: &Context<'_>, idempotency_key: String) -> Result<WebhookSecret> {
        let actor = principal(ctx);
        let hospital = actor.partner_hospital()?;
        let webhooks = &services(ctx)?.webhooks;
        Ok(webhooks.rotate(&hospital, &actor, &idempotency_key, request_id(ctx)).await?.into())
    }

    /// Sends one of the calling hospital's events again, with the same `webhook-id`.
    ///
    /// Access: partner hospitals (their own).
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        delivery_id: ID,
    ) -> Result<WebhookDelivery> {
        let actor = principal(ctx);
        let hospital = actor.partner_hospital()?;
        let id = parse_id("deliveryId", &delivery_id)?;
        let webhooks = &services(ctx)?.webhooks;
        Ok(webhooks.redeliver(&hospital, &actor, &idempotency_key, id, request_id(ctx)).await?.into())
    }
}
