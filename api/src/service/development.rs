//! What the development SMS gateway "sent", so that a developer can sign in without a phone.

use crate::domain::Phone;
use crate::error::{AppError, AppResult};
use crate::messaging::Messaging;
use crate::messaging::provider::SentSms;

/// The latest messages to a phone, newest first. Refused unless the development gateway is the
/// provider, which the production profile never allows.
pub fn recent_sms(messaging: &Messaging, phone: &str, last: i32) -> AppResult<Vec<SentSms>> {
    let gateway = messaging.development_sms().ok_or(AppError::Forbidden)?;
    let phone = Phone::parse(phone).map_err(AppError::field("phone"))?;
    let last = usize::try_from(last).ok().filter(|n| (1..=20).contains(n));
    let last = last.ok_or_else(|| AppError::invalid("last", "must be between 1 and 20"))?;
    Ok(gateway.recent(phone.expose(), last))
}
