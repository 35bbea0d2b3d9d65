use async_graphql::{Context, Object, Result};

use crate::graphql::services;
use crate::graphql::types::DevelopmentSms;
use crate::service::development;

#[derive(Debug, Default)]
pub struct DevelopmentQuery;

#[Object]
impl DevelopmentQuery {
    /// The latest SMS the development gateway "sent" to a phone, newest first: how a developer
    /// reads a login code without a phone.
    ///
    /// Access: anyone, in the development profile only; FORBIDDEN wherever a real gateway is
    /// configured, which production requires.
    async fn development_sms(
        &self,
        ctx: &Context<'_>,
        phone: String,
        #[graphql(default = 5)] last: i32,
    ) -> Result<Vec<DevelopmentSms>> {
        let sent = development::recent_sms(&services(ctx)?.messaging, &phone, last)?;
        Ok(sent.into_iter().map(DevelopmentSms::from).collect())
    }
}
