//! The audit trail: who did what to whom, when, and why. Rows are only ever inserted; the
//! database refuses UPDATE and DELETE on the table.

use chrono::Utc;
use entity::audit_event;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::Principal;
use crate::error::AppResult;

/// One event to record. `detail` must not carry personal data.
#[derive(Clone, Debug, Default)]
pub struct AuditEntry<'a> {
    pub action: &'static str,
    pub subject: Option<(&'static str, Uuid)>,
    pub field: Option<&'static str>,
    pub purpose: Option<&'static str>,
    pub request_id: Option<&'a str>,
    pub detail: Option<String>,
}

/// Appends `entry` as done by `actor`, on `conn` (the transaction of the change it records).
pub async fn record<C: ConnectionTrait>(conn: &C, actor: &Principal, entry: AuditEntry<'_>) -> AppResult<()> {
    let (kind, id, role, branch) = match actor {
        Principal::Anonymous => ("anonymous", None, None, None),
        Principal::Volunteer { id } => ("volunteer", Some(*id), None, None),
        Principal::Staff { id, role, branch } => {
            ("staff", Some(*id), Some(role.as_str().to_owned()), Some(branch.clone()))
        }
        Principal::Hospital { id, branch } => ("hospital", Some(*id), None, Some(branch.clone())),
    };
    audit_event::Entity::insert(audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now()),
        actor_kind: Set(kind.into()),
        actor_id: Set(id),
        actor_role: Set(role),
        actor_branch: Set(branch),
        action: Set(entry.action.into()),
        subject_kind: Set(entry.subject.map(|(kind, _)| kind.to_owned())),
        subject_id: Set(entry.subject.map(|(_, id)| id)),
        field: Set(entry.field.map(str::to_owned)),
        purpose: Set(entry.purpose.map(str::to_owned)),
        request_id: Set(entry.request_id.map(str::to_owned)),
        detail: Set(entry.detail),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}
