//! SMS gateways behind one trait.

mod development;
pub mod tc3;
mod tencent;

use std::fmt;
use std::sync::Arc;

use uuid::Uuid;

pub use development::{DevelopmentSms, SentSms};
pub use tencent::TencentSms;

use crate::config::{MessagingSettings, SmsProviderKind};

/// One SMS as a gateway needs it. The phone is E.164; the text is what the phone will show,
/// sign name included, for gateways that take free text; registered-template gateways use the
/// template key and the ordered parameters instead.
#[derive(Clone)]
pub struct OutgoingSms {
    pub message_id: Uuid,
    pub phone: String,
    pub sign_name: String,
    pub template_key: String,
    pub locale: String,
    pub params: Vec<String>,
    pub text: String,
}

impl fmt::Debug for OutgoingSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingSms")
            .field("message_id", &self.message_id)
            .field("template_key", &self.template_key)
            .finish_non_exhaustive()
    }
}

/// What the gateway made of a send. Codes are the gateway's own, which carry no personal data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    Accepted {
        provider_message_id: String,
    },
    /// Throttled or temporarily failing: try again later.
    Retry {
        code: String,
    },
    /// Refused for good (bad number, unapproved template…).
    Reject {
        code: String,
    },
}

#[async_trait::async_trait]
pub trait SmsProvider: Send + Sync + fmt::Debug {
    /// Stored with each message, so receipts and audits know who carried it.
    fn name(&self) -> &'static str;

    async fn send(&self, sms: &OutgoingSms) -> SendOutcome;
}

/// The provider the settings choose.
///
/// # Errors
/// The Tencent provider without its credentials.
pub fn from_settings(settings: &MessagingSettings) -> anyhow::Result<Arc<dyn SmsProvider>> {
    Ok(match settings.provider {
        SmsProviderKind::Development => Arc::new(DevelopmentSms::default()),
        SmsProviderKind::Tencent => Arc::new(TencentSms::new(&settings.tencent)?),
    })
}
