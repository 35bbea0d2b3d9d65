//! The messaging backbone: the outbox, delivery workers, SMS providers, delivery reports and
//! replies, and the app inbox.
//!
//! Every message is a row written in the transaction of the change that causes it
//! ([`Messaging::queue`]); the job engine's workers deliver it later (the outbox is one of its
//! queues, see `delivery`). Login
//! codes, reminders, campaigns and case contact all ride on this one path.

mod catalog;
mod delivery;
mod outbox;
mod pacer;
pub mod provider;
mod replies;
mod status;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use entity::outbound_message::{Column, Entity, Status};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

pub use catalog::{BranchRules, Catalog};
pub use outbox::{NewMessage, Prepared, Queued, Recipient};
pub use replies::{InboundSms, OptOutReply, Reply, ReplyHandler, ReplyOutcome, StatusReport};
pub use status::{CampaignTotals, MessageDelivery};

use self::pacer::Pacer;
use self::provider::{DevelopmentSms, SmsProvider};
use crate::config::{MessagingSettings, SmsProviderKind};
use crate::error::AppResult;
use crate::metrics::Metrics;
use crate::pii::KeyRing;

/// The messaging backbone of one process. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Messaging {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    settings: MessagingSettings,
    provider: Arc<dyn SmsProvider>,
    development: Option<Arc<DevelopmentSms>>,
    catalog: Catalog,
    metrics: Arc<Metrics>,
    pacer: Pacer,
    reply_handlers: Vec<Arc<dyn ReplyHandler>>,
}

impl Messaging {
    /// `reply_handlers` are asked first; the backbone's own TD opt-out catches what none of
    /// them takes (a TD that answers a campaign is the campaign's to record).
    ///
    /// # Errors
    /// The configured provider lacks its credentials.
    pub fn new(
        db: DatabaseConnection,
        keys: Arc<KeyRing>,
        settings: MessagingSettings,
        metrics: Arc<Metrics>,
        reply_handlers: Vec<Arc<dyn ReplyHandler>>,
    ) -> anyhow::Result<Self> {
        let (provider, development): (Arc<dyn SmsProvider>, _) = match settings.provider {
            SmsProviderKind::Development => {
                let development = Arc::new(DevelopmentSms::default());
                (development.clone(), Some(development))
            }
            SmsProviderKind::Tencent => (provider::from_settings(&settings)?, None),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                catalog: Catalog::new(db.clone()),
                pacer: Pacer::per_second(settings.send_rate_per_second),
                db,
                keys,
                provider,
                development,
                metrics,
                reply_handlers: reply_handlers.into_iter().chain(replies::default_handlers()).collect(),
                settings,
            }),
        })
    }

    /// The development gateway, when it is the provider: it keeps what it "sent".
    #[must_use]
    pub fn development_sms(&self) -> Option<&DevelopmentSms> {
        self.inner.development.as_deref()
    }

    /// The provider's name, as stored with each message it carried.
    #[must_use]
    pub fn provider_name(&self) -> &'static str {
        self.inner.provider.name()
    }

    /// The process's metrics, which the services that queue work share.
    #[must_use]
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    #[must_use]
    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    #[must_use]
    pub fn settings(&self) -> &MessagingSettings {
        &self.inner.settings
    }

    /// How long the oldest due message has waited, for the queue-age metric.
    ///
    /// # Errors
    /// The database failed.
    pub async fn queue_age(&self) -> AppResult<Duration> {
        let now = Utc::now();
        let oldest: Option<Option<chrono::DateTime<Utc>>> = Entity::find()
            .select_only()
            .column_as(Column::NextAttemptAt.min(), "oldest")
            .filter(Column::Status.eq(Status::Queued))
            .filter(Column::NextAttemptAt.lte(now))
            .into_tuple()
            .one(&self.inner.db)
            .await?;
        Ok(oldest.flatten().and_then(|at| (now - at).to_std().ok()).unwrap_or_default())
    }
}
