use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::graphql::types::AuditEventPage;
use crate::graphql::{parse_id, principal, services};
use crate::service::audit::{self, AuditFilter};

#[derive(Debug, Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit trail, newest first, filtered; `first` is 1 to 200 (default 50).
    ///
    /// Access: auditors and national administrators.
    #[allow(clippy::too_many_arguments)] // one per filter, as GraphQL arguments
    #[graphql(complexity = "first.unwrap_or(50).max(1) as usize * child_complexity")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        action: Option<String>,
        actor_id: Option<ID>,
        subject_id: Option<ID>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<AuditEventPage> {
        let filter = AuditFilter {
            action,
            actor_id: actor_id.map(|id| parse_id("actorId", &id)).transpose()?,
            subject_id: subject_id.map(|id| parse_id("subjectId", &id)).transpose()?,
            from,
            to,
        };
        let first = u64::try_from(first.unwrap_or(50)).map_err(|_| AppError::invalid("first", "must be 1 to 200"))?;
        let db = services(ctx)?.db();
        let page = audit::search(db, &principal(ctx), filter, first, after.as_deref()).await?;
        Ok(AuditEventPage { events: page.events.into_iter().map(Into::into).collect(), next_cursor: page.next })
    }
}
