use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};

use crate::messaging::provider::SentSms;

/// An SMS the development gateway kept instead of sending.
#[derive(Debug, SimpleObject)]
pub struct DevelopmentSms {
    pub template_key: String,
    /// The full text, 【sign name】 included.
    pub text: String,
    pub sent_at: DateTime<Utc>,
}

impl From<SentSms> for DevelopmentSms {
    fn from(sms: SentSms) -> Self {
        Self { template_key: sms.template_key, text: sms.text, sent_at: sms.at }
    }
}
