//! One try of one delivery: the job kind `webhooks.deliver`.
//!
//! The job's claim is held for a minute and one try waits at most the configured timeout (ten
//! seconds), so no two workers ever hold one delivery: once the receiver answered 2xx and the
//! job is done, it is never sent again. A worker that dies between the receiver's answer and
//! the record of it leaves the claim to run out, and the delivery is tried again: at least
//! once, as the specification expects, with the same `webhook-id` for the receiver to drop.

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use entity::{job, webhook_delivery, webhook_endpoint, webhook_event};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{WebhookService, address, message_id, sign};
use crate::error::{AppError, AppResult};
use crate::jobs::{JobHandler, Lease};
use crate::pii::registry;

/// The job kind that delivers a webhook.
pub const DELIVER: &str = "webhooks.deliver";
/// Delivery workers per process.
const WORKERS: usize = 4;

/// The delivery worker, as the job engine runs it.
#[derive(Clone, Debug)]
pub struct WebhookDelivery {
    service: WebhookService,
    /// `None` if the client could not be built (no TLS backend): every try then fails and is
    /// retried, rather than going out through a client without the address checks.
    client: Option<reqwest::Client>,
}

impl WebhookDelivery {
    #[must_use]
    pub fn new(service: WebhookService) -> Self {
        let timeout = Duration::from_millis(service.settings.timeout_ms);
        let mut client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("marrow-registry-webhooks/1");
        if !service.private_allowed {
            client = client.dns_resolver(std::sync::Arc::new(address::PublicOnly));
        }
        Self { service, client: client.build().ok() }
    }
}

#[async_trait]
impl JobHandler for WebhookDelivery {
    fn kind(&self) -> &'static str {
        DELIVER
    }

    fn backoff(&self) -> (u64, u64) {
        (self.service.settings.backoff_base_ms, self.service.settings.backoff_max_ms)
    }

    /// A receiver that hangs holds a worker for the whole timeout at every try; other events
    /// go through the other workers meanwhile.
    fn workers(&self) -> usize {
        WORKERS
    }

    /// One try. A refusal by the receiver (or no answer) is an error, which the engine retries
    /// after a backoff and, after the last attempt, dead-letters with an alert to the branch.
    async fn run(&self, job: &job::Model, _lease: &Lease<'_>) -> AppResult<u64> {
        let db = &self.service.db;
        let id =
            job.subject_id.ok_or_else(|| AppError::internal(anyhow::anyhow!("delivery job without a delivery")))?;
        let Some(delivery) = webhook_delivery::Entity::find_by_id(id).one(db).await? else { return Ok(0) };
        if delivery.status == "delivered" {
            return Ok(0);
        }
        let last_attempt = job.attempts >= job.max_attempts;
        let outcome = self.send(&delivery).await;
        let now = Utc::now();
        let (status, last_status, last_error) = match &outcome {
            Ok(code) => ("delivered", Some(*code), None),
            Err((code, reason)) => (if last_attempt { "failed" } else { "pending" }, *code, Some(reason.clone())),
        };
        webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::Status, Expr::value(status))
            .col_expr(webhook_delivery::Column::Attempts, Expr::value(job.attempts))
            .col_expr(webhook_delivery::Column::LastStatus, Expr::value(last_status))
            .col_expr(webhook_delivery::Column::LastError, Expr::value(last_error))
            .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
            .col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(outcome.is_ok().then_some(now)))
            .filter(webhook_delivery::Column::Id.eq(id))
            .exec(db)
            .await?;
        match outcome {
            Ok(_) => Ok(1),
            Err((_, reason)) => Err(AppError::internal(anyhow::anyhow!("webhook delivery failed: {reason}"))),
        }
    }
}

impl WebhookDelivery {
    /// Signs and posts the event; the receiver's status, or why there was none.
    async fn send(&self, delivery: &webhook_delivery::Model) -> Result<i32, (Option<i32>, String)> {
        let refused = |reason: &str| (None, reason.to_owned());
        let db = &self.service.db;
        let event = webhook_event::Entity::find_by_id(delivery.event_id)
            .one(db)
            .await
            .map_err(|_| refused("database unavailable"))?
            .ok_or_else(|| refused("event gone"))?;
        let endpoint = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::HospitalId.eq(delivery.hospital_id))
            .one(db)
            .await
            .map_err(|_| refused("database unavailable"))?
            .ok_or_else(|| refused("no endpoint registered"))?;
        // Checked again at every try: the rules may have tightened since registration.
        let url = address::check_url(&endpoint.url, self.service.private_allowed)
            .map_err(|_| refused("endpoint not allowed"))?;
        let cipher = &self.service.keys.cipher;
        let mut secrets = vec![
            cipher
                .decrypt(&endpoint.secret, registry::WEBHOOK_ENDPOINT_SECRET.at(endpoint.id))
                .map_err(|_| refused("secret unreadable"))?,
        ];
        if let (Some(previous), Some(until)) = (&endpoint.previous_secret, endpoint.previous_until)
            && until > Utc::now()
        {
            secrets.push(
                cipher
                    .decrypt(previous, registry::WEBHOOK_ENDPOINT_PREVIOUS_SECRET.at(endpoint.id))
                    .map_err(|_| refused("secret unreadable"))?,
            );
        }
        let msg_id = message_id(event.id);
        let timestamp = Utc::now().timestamp();
        let signatures = secrets
            .iter()
            .map(|secret| sign(secret, &msg_id, timestamp, &event.payload))
            .collect::<AppResult<Vec<_>>>()
            .map_err(|_| refused("secret unreadable"))?
            .join(" ");
        let client = self.client.as_ref().ok_or_else(|| refused("HTTP client unavailable"))?;
        let response = client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures)
            .body(event.payload)
            .send()
            .await
            .map_err(|err| {
                let reason = if err.is_timeout() {
                    "timed out"
                } else if err.is_connect() {
                    "could not connect"
                } else {
                    "request failed"
                };
                refused(reason)
            })?;
        let status = i32::from(response.status().as_u16());
        if response.status().is_success() {
            Ok(status)
        } else {
            Err((Some(status), format!("receiver answered {status}")))
        }
    }
}
