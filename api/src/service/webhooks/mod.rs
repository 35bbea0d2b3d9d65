//! Webhooks to partner hospitals' systems, as the Standard Webhooks specification has them.
//!
//! - A hospital registers one endpoint and gets a `whsec_` secret, shown once; rotating it signs
//!   with both secrets through an overlap, so the hospital rolls over without losing an event.
//! - [`WebhookService::emit`] writes an event in the transaction of the change that causes it, with a delivery
//!   and its job (`webhooks.deliver`, run by [`WebhookDelivery`]): the event exists exactly
//!   when the change does.
//! - Events name records (a request's id, its status and version), never people: the receiver
//!   reads what it may see through the API, with its own token.
//! - A failed try is retried with backoff and jitter, then dead-lettered with an alert to the
//!   hospital's branch; the hospital lists its deliveries and asks for one to be sent again.
//!
//! - `sign.rs`: the signature; `address.rs`: which endpoints are allowed (SSRF);
//!   `deliver.rs`: one try.

mod address;
mod deliver;
mod sign;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use entity::{webhook_delivery, webhook_endpoint, webhook_event};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use uuid::Uuid;

pub use address::is_public;
pub use deliver::{DELIVER, WebhookDelivery};
pub use sign::sign;

use super::audit::{self, AuditAction, AuditEntry};
use super::idempotency::IdempotentCall;
use super::{PartnerHospital, Principal};
use crate::config::WebhookSettings;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::jobs::{self, JobQueue, NewJob};
use crate::metrics::Metrics;
use crate::pii::{KeyRing, registry};

/// How long the secret before a rotation still signs beside the new one.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);
/// Most deliveries one call lists.
pub const MAX_DELIVERIES: u64 = 100;

/// What the registry tells a hospital's system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// A coordinator asked the hospital to admit a donor.
    AdmissionRequested,
    /// A request changed: answered, rescheduled.
    AdmissionChanged,
    /// A request was withdrawn: re-routed to another hospital, the case ended, or the hospital
    /// cancelled its acceptance.
    AdmissionCancelled,
    /// A case the hospital requested ended.
    CaseEnded,
    /// The hospital redeemed an entitlement: its own receipt, for its records.
    EntitlementRedeemed,
}

impl EventType {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AdmissionRequested => "admission.requested",
            Self::AdmissionChanged => "admission.changed",
            Self::AdmissionCancelled => "admission.cancelled",
            Self::CaseEnded => "case.ended",
            Self::EntitlementRedeemed => "entitlement.redeemed",
        }
    }
}

/// A hospital's endpoint, as it reads it back.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EndpointView {
    pub url: String,
    pub created_at: DateTime<Utc>,
    /// When the secret before the last rotation stops signing, while it still does.
    pub previous_secret_until: Option<DateTime<Utc>>,
}

/// An endpoint with a new secret, shown this once.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IssuedSecret {
    pub endpoint: EndpointView,
    pub secret: String,
}

/// One delivery as the hospital lists it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: Uuid,
    /// The `webhook-id` the receiver saw (`msg_…`), the same for every redelivery of an event.
    pub message_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The `webhook-id` of an event.
#[must_use]
pub fn message_id(event: Uuid) -> String {
    format!("msg_{}", event.simple())
}

/// Endpoints, secrets and deliveries. Cheap to clone.
#[derive(Clone, Debug)]
pub struct WebhookService {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    settings: Arc<WebhookSettings>,
    /// Whether endpoints may be plain HTTP on private addresses (development and tests).
    private_allowed: bool,
    /// Wakes this process's delivery worker when an event is written here.
    wake: Arc<Notify>,
    jobs: JobQueue,
}

impl WebhookService {
    #[must_use]
    pub fn new(
        db: DatabaseConnection,
        keys: Arc<KeyRing>,
        settings: WebhookSettings,
        development: bool,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            jobs: JobQueue::new(db.clone(), metrics, super::alerts::job_failed),
            db,
            keys,
            private_allowed: settings.allow_private_network.unwrap_or(development),
            settings: Arc::new(settings),
            wake: Arc::new(Notify::new()),
        }
    }

    /// The handle that wakes the delivery worker, for the job engine.
    #[must_use]
    pub fn wake_handle(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Tells this process's delivery worker that events were queued: call after the commit.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Writes an event for `hospital_id` on `conn`, the transaction of the change that causes
    /// it, with its first delivery queued, when the hospital has an endpoint. The body is the
    /// specification's envelope: `type`, `timestamp` and `data`. Returns whether a delivery was
    /// queued; call [`Self::wake`] once the transaction commits.
    ///
    /// # Errors
    /// The database failed.
    pub async fn emit<C: ConnectionTrait>(
        &self,
        conn: &C,
        hospital_id: Uuid,
        branch_code: &str,
        event: EventType,
        data: serde_json::Value,
    ) -> AppResult<bool> {
        let has_endpoint = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::HospitalId.eq(hospital_id))
            .select_only()
            .column(webhook_endpoint::Column::Id)
            .into_tuple::<Uuid>()
            .one(conn)
            .await?
            .is_some();
        if !has_endpoint {
            return Ok(false);
        }
        let (id, now) = (Uuid::now_v7(), Utc::now());
        let body = serde_json::json!({
            "type": event.as_str(),
            "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": data,
        });
        webhook_event::ActiveModel {
            id: Set(id),
            hospital_id: Set(hospital_id),
            event_type: Set(event.as_str().to_owned()),
            payload: Set(body.to_string()),
            created_at: Set(now),
        }
        .insert(conn)
        .await?;
        self.queue_delivery(conn, id, hospital_id, branch_code).await?;
        Ok(true)
    }

    /// A new series of tries for event `event_id`, and its job.
    async fn queue_delivery<C: ConnectionTrait>(
        &self,
        conn: &C,
        event_id: Uuid,
        hospital_id: Uuid,
        branch_code: &str,
    ) -> AppResult<webhook_delivery::Model> {
        let (id, now) = (Uuid::now_v7(), Utc::now());
        let delivery = webhook_delivery::ActiveModel {
            id: Set(id),
            event_id: Set(event_id),
            hospital_id: Set(hospital_id),
            status: Set("pending".into()),
            attempts: Set(0),
            last_status: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            delivered_at: Set(None),
        }
        .insert(conn)
        .await?;
        let mut job = NewJob::about(DELIVER, id).for_branch(Some(branch_code.to_owned()));
        job.max_attempts = self.settings.max_attempts;
        jobs::enqueue(conn, job).await?;
        Ok(delivery)
    }

    /// Registers (or replaces) the hospital's endpoint with a new secret, shown this once.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `url` for a URL that is not HTTPS or points at a private address
    /// (outside development), or on `idempotencyKey`; CONFLICT on `idempotencyKey` for a key
    /// used with another request.
    pub async fn register(
        &self,
        hospital: &PartnerHospital,
        actor: &Principal,
        key: &str,
        url: String,
        request_id: Option<&str>,
    ) -> AppResult<IssuedSecret> {
        let call = IdempotentCall::new(hospital, key, "registerWebhookEndpoint", &url)?;
        let parsed = address::check_url(url.trim(), self.private_allowed)?;
        address::check_resolves(&parsed, self.private_allowed).await?;
        let url = parsed.to_string();
        let secret = sign::new_secret();
        let hospital_id = hospital.id;
        let (url, secret) = (&url, &secret);
        db::write!(&self.db, |txn| {
            let now = Utc::now();
            let (answer, _) = call
                .once(txn, &self.keys, now, || async move {
                    let existing = webhook_endpoint::Entity::find()
                        .filter(webhook_endpoint::Column::HospitalId.eq(hospital_id))
                        .one(txn)
                        .await?;
                    let id = existing.as_ref().map_or_else(Uuid::now_v7, |endpoint| endpoint.id);
                    let sealed = self.keys.cipher.encrypt(secret, registry::WEBHOOK_ENDPOINT_SECRET.at(id));
                    let model = webhook_endpoint::ActiveModel {
                        id: Set(id),
                        hospital_id: Set(hospital_id),
                        url: Set(url.clone()),
                        secret: Set(sealed),
                        previous_secret: Set(None),
                        previous_until: Set(None),
                        created_at: Set(existing.as_ref().map_or(now, |endpoint| endpoint.created_at)),
                        updated_at: Set(now),
                    };
                    let model = if existing.is_some() { model.update(txn).await? } else { model.insert(txn).await? };
                    let entry =
                        AuditEntry { subject: Some(("hospital", hospital_id)), request_id, ..Default::default() };
                    audit::record(txn, actor, AuditAction::WebhookEndpointRegistered, entry).await?;
                    Ok((IssuedSecret { endpoint: endpoint_view(&model), secret: secret.clone() }, ()))
                })
                .await?;
            Ok(answer)
        })
    }

    /// A new secret for the hospital's endpoint; the one before keeps signing beside it for
    /// [`ROTATION_OVERLAP`].
    ///
    /// # Errors
    /// NOT_FOUND when the hospital has no endpoint; BAD_USER_INPUT or CONFLICT on
    /// `idempotencyKey`.
    pub async fn rotate(
        &self,
        hospital: &PartnerHospital,
        actor: &Principal,
        key: &str,
        request_id: Option<&str>,
    ) -> AppResult<IssuedSecret> {
        let call = IdempotentCall::new(hospital, key, "rotateWebhookSecret", &())?;
        let secret = sign::new_secret();
        let hospital_id = hospital.id;
        let secret = &secret;
        db::write!(&self.db, |txn| {
            let now = Utc::now();
            let (answer, _) = call
                .once(txn, &self.keys, now, || async move {
                    let endpoint = webhook_endpoint::Entity::find()
                        .filter(webhook_endpoint::Column::HospitalId.eq(hospital_id))
                        .one(txn)
                        .await?
                        .ok_or(AppError::NotFound { resource: "webhook endpoint" })?;
                    let cipher = &self.keys.cipher;
                    let current = cipher
                        .decrypt(&endpoint.secret, registry::WEBHOOK_ENDPOINT_SECRET.at(endpoint.id))
                        .map_err(AppError::internal)?;
                    let mut model: webhook_endpoint::ActiveModel = endpoint.clone().into();
                    model.secret = Set(cipher.encrypt(secret, registry::WEBHOOK_ENDPOINT_SECRET.at(endpoint.id)));
                    model.previous_secret =
                        Set(Some(cipher.encrypt(&current, registry::WEBHOOK_ENDPOINT_PREVIOUS_SECRET.at(endpoint.id))));
                    model.previous_until = Set(Some(now + ROTATION_OVERLAP));
                    model.updated_at = Set(now);
                    let model = model.update(txn).await?;
                    let entry =
                        AuditEntry { subject: Some(("hospital", hospital_id)), request_id, ..Default::default() };
                    audit::record(txn, actor, AuditAction::WebhookSecretRotated, entry).await?;
                    Ok((IssuedSecret { endpoint: endpoint_view(&model), secret: secret.clone() }, ()))
                })
                .await?;
            Ok(answer)
        })
    }

    /// The hospital's endpoint, if it registered one.
    ///
    /// # Errors
    /// The database failed.
    pub async fn endpoint(&self, hospital: &PartnerHospital) -> AppResult<Option<EndpointView>> {
        let endpoint = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::HospitalId.eq(hospital.id))
            .one(&self.db)
            .await?;
        Ok(endpoint.as_ref().map(endpoint_view))
    }

    /// The hospital's most recent deliveries, newest first: `first` of them, at most
    /// [`MAX_DELIVERIES`]. Two statements.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `first`.
    pub async fn deliveries(&self, hospital: &PartnerHospital, first: u64) -> AppResult<Vec<DeliveryView>> {
        if !(1..=MAX_DELIVERIES).contains(&first) {
            return Err(AppError::invalid("first", format!("must be 1 to {MAX_DELIVERIES}")));
        }
        let deliveries = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::HospitalId.eq(hospital.id))
            .order_by_desc(webhook_delivery::Column::CreatedAt)
            .order_by_desc(webhook_delivery::Column::Id)
            .limit(first)
            .all(&self.db)
            .await?;
        let events: std::collections::HashMap<Uuid, String> = webhook_event::Entity::find()
            .filter(webhook_event::Column::Id.is_in(deliveries.iter().map(|delivery| delivery.event_id)))
            .select_only()
            .column(webhook_event::Column::Id)
            .column(webhook_event::Column::EventType)
            .into_tuple::<(Uuid, String)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        Ok(deliveries
            .into_iter()
            .map(|delivery| {
                let event_type = events.get(&delivery.event_id).cloned().unwrap_or_default();
                delivery_view(delivery, event_type)
            })
            .collect())
    }

    /// Sends one of the hospital's events again, as a new delivery with the same `webhook-id`.
    ///
    /// # Errors
    /// NOT_FOUND for an unknown delivery or another hospital's; BAD_USER_INPUT or CONFLICT on
    /// `idempotencyKey`.
    pub async fn redeliver(
        &self,
        hospital: &PartnerHospital,
        actor: &Principal,
        key: &str,
        delivery_id: Uuid,
        request_id: Option<&str>,
    ) -> AppResult<DeliveryView> {
        let call = IdempotentCall::new(hospital, key, "redeliverWebhook", &delivery_id)?;
        let hospital_id = hospital.id;
        let answer = db::write!(&self.db, |txn| {
            let (answer, _) = call
                .once(txn, &self.keys, Utc::now(), || async move {
                    // Another hospital's delivery is as unknown as one that does not exist.
                    let earlier = webhook_delivery::Entity::find_by_id(delivery_id)
                        .one(txn)
                        .await?
                        .filter(|delivery| delivery.hospital_id == hospital_id)
                        .ok_or(AppError::NotFound { resource: "webhook delivery" })?;
                    let event = webhook_event::Entity::find_by_id(earlier.event_id)
                        .one(txn)
                        .await?
                        .ok_or(AppError::NotFound { resource: "webhook delivery" })?;
                    let branch: String = entity::hospital::Entity::find_by_id(hospital_id)
                        .select_only()
                        .column(entity::hospital::Column::BranchCode)
                        .into_tuple()
                        .one(txn)
                        .await?
                        .ok_or(AppError::NotFound { resource: "hospital" })?;
                    let delivery = self.queue_delivery(txn, event.id, hospital_id, &branch).await?;
                    let entry =
                        AuditEntry { subject: Some(("hospital", hospital_id)), request_id, ..Default::default() };
                    audit::record(txn, actor, AuditAction::WebhookRedelivered, entry).await?;
                    Ok((delivery_view(delivery, event.event_type), ()))
                })
                .await?;
            Ok(answer)
        })?;
        self.wake();
        Ok(answer)
    }

    /// Works the due deliveries now, in this task, until none is due; returns how many were
    /// delivered. For tools, tests and the benchmark, which need not wait for the engine's
    /// worker.
    ///
    /// # Errors
    /// The database failed.
    pub async fn deliver_due(&self, worker: &str) -> AppResult<u64> {
        let handler = WebhookDelivery::new(self.clone());
        let mut delivered = 0;
        loop {
            let round = self.jobs.work(&handler, worker).await?;
            delivered += round.amount;
            if round.claimed == 0 {
                return Ok(delivered);
            }
        }
    }
}

fn endpoint_view(model: &webhook_endpoint::Model) -> EndpointView {
    EndpointView {
        url: model.url.clone(),
        created_at: model.created_at,
        previous_secret_until: model.previous_until.filter(|until| *until > Utc::now()),
    }
}

fn delivery_view(delivery: webhook_delivery::Model, event_type: String) -> DeliveryView {
    DeliveryView {
        id: delivery.id,
        message_id: message_id(delivery.event_id),
        event_type,
        status: delivery.status,
        attempts: delivery.attempts,
        last_status: delivery.last_status,
        last_error: delivery.last_error,
        created_at: delivery.created_at,
        delivered_at: delivery.delivered_at,
    }
}
