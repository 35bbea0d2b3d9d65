//! The development gateway: keeps the last messages in memory so that developers and tests
//! can read them (a login code, say) without a phone. Nothing leaves the process.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

use super::{OutgoingSms, SendOutcome, SmsProvider};

const KEPT: usize = 1_000;

/// A message the development gateway accepted.
#[derive(Clone, Debug)]
pub struct SentSms {
    pub phone: String,
    pub template_key: String,
    pub params: Vec<String>,
    pub text: String,
    pub provider_message_id: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct DevelopmentSms {
    sent: Mutex<VecDeque<SentSms>>,
}

impl DevelopmentSms {
    /// The latest messages to an E.164 phone, newest first.
    #[must_use]
    pub fn recent(&self, phone: &str, limit: usize) -> Vec<SentSms> {
        let sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        sent.iter().rev().filter(|sms| sms.phone == phone).take(limit).cloned().collect()
    }
}

#[async_trait::async_trait]
impl SmsProvider for DevelopmentSms {
    fn name(&self) -> &'static str {
        "development"
    }

    async fn send(&self, sms: &OutgoingSms) -> SendOutcome {
        let provider_message_id = format!("dev-{}", sms.message_id);
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        if sent.len() == KEPT {
            sent.pop_front();
        }
        sent.push_back(SentSms {
            phone: sms.phone.clone(),
            template_key: sms.template_key.clone(),
            params: sms.params.clone(),
            text: sms.text.clone(),
            provider_message_id: provider_message_id.clone(),
            at: Utc::now(),
        });
        SendOutcome::Accepted { provider_message_id }
    }
}
