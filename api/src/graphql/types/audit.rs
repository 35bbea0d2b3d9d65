use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};

/// One event of the audit trail.
#[derive(Debug, SimpleObject)]
pub struct AuditEvent {
    pub id: ID,
    pub at: DateTime<Utc>,
    /// `staff`, `volunteer`, `hospital`, `anonymous` or `system`.
    pub actor_kind: String,
    pub actor_id: Option<ID>,
    pub actor_role: Option<String>,
    pub actor_branch: Option<String>,
    pub action: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<ID>,
    pub field: Option<String>,
    pub purpose: Option<String>,
    pub request_id: Option<String>,
    pub detail: Option<String>,
}

impl From<entity::audit_event::Model> for AuditEvent {
    fn from(event: entity::audit_event::Model) -> Self {
        let id = |id: uuid::Uuid| ID(id.to_string());
        Self {
            id: id(event.id),
            at: event.at,
            actor_kind: event.actor_kind,
            actor_id: event.actor_id.map(id),
            actor_role: event.actor_role,
            actor_branch: event.actor_branch,
            action: event.action,
            subject_kind: event.subject_kind,
            subject_id: event.subject_id.map(id),
            field: event.field.as_deref().map(crate::service::audit::api_name),
            purpose: event.purpose.as_deref().map(crate::service::audit::api_name),
            request_id: event.request_id,
            detail: event.detail,
        }
    }
}

/// A page of the audit trail, newest first.
#[derive(Debug, SimpleObject)]
pub struct AuditEventPage {
    pub events: Vec<AuditEvent>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}
