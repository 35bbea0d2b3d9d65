//! The audit trail: who did what to whom, when, and why. Rows are only ever inserted; the
//! database refuses UPDATE and DELETE on the table.

use chrono::Utc;
use entity::audit_event;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::{Principal, keyset};
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

/// Filters of an audit search; all optional.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub from: Option<chrono::DateTime<Utc>>,
    pub to: Option<chrono::DateTime<Utc>>,
}

/// One page of the audit trail, newest first, and the cursor of the next.
#[derive(Clone, Debug)]
pub struct AuditPage {
    pub events: Vec<audit_event::Model>,
    pub next: Option<String>,
}

/// Pages through the audit trail, newest first, by a keyset cursor (time and id) that stays
/// stable while rows are appended. Only auditors and national administrators read it.
///
/// # Errors
/// FORBIDDEN for anyone else; BAD_USER_INPUT for a malformed cursor or page size.
pub async fn search<C: ConnectionTrait>(
    conn: &C,
    reader: &Principal,
    filter: AuditFilter,
    first: u64,
    after: Option<&str>,
) -> AppResult<AuditPage> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};

    use super::StaffRole;
    use crate::error::AppError;

    match reader {
        Principal::Staff { role: StaffRole::Auditor | StaffRole::NationalAdmin, .. } => {}
        _ => return Err(reader.refusal()),
    }
    if !(1..=200).contains(&first) {
        return Err(AppError::invalid("first", "must be 1 to 200"));
    }
    let mut query = audit_event::Entity::find();
    if let Some(action) = filter.action {
        query = query.filter(audit_event::Column::Action.eq(action));
    }
    if let Some(actor) = filter.actor_id {
        query = query.filter(audit_event::Column::ActorId.eq(actor));
    }
    if let Some(subject) = filter.subject_id {
        query = query.filter(audit_event::Column::SubjectId.eq(subject));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_event::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_event::Column::At.lt(to));
    }
    if let Some(cursor) = after {
        let (at, id) =
            decode_cursor(cursor).ok_or_else(|| AppError::invalid("after", "is not a cursor from this query"))?;
        query = query.filter(keyset::after(audit_event::Column::At, at, audit_event::Column::Id, id, true));
    }
    let mut events = query
        .order_by_desc(audit_event::Column::At)
        .order_by_desc(audit_event::Column::Id)
        .limit(first + 1)
        .all(conn)
        .await?;
    let more = events.len() > usize::try_from(first).unwrap_or(usize::MAX);
    events.truncate(usize::try_from(first).unwrap_or(usize::MAX));
    let next = if more { events.last().map(|last| encode_cursor(last.at, last.id)) } else { None };
    Ok(AuditPage { events, next })
}

fn encode_cursor(at: chrono::DateTime<Utc>, id: Uuid) -> String {
    keyset::encode(&[CURSOR_TAG, &keyset::time_part(at), &id.to_string()])
}

fn decode_cursor(cursor: &str) -> Option<(chrono::DateTime<Utc>, Uuid)> {
    let parts = keyset::decode(cursor, CURSOR_TAG, 2)?;
    Some((keyset::parse_time(&parts[0])?, Uuid::parse_str(&parts[1]).ok()?))
}

/// The order audit cursors belong to.
const CURSOR_TAG: &str = "audit";

/// A stored field or purpose as the API names it: the audit trail keeps `national_id` and
/// `contact_for_match` (rows are never rewritten), and the API's enums say `NATIONAL_ID` and
/// `CONTACT_FOR_MATCH`. Every output of those columns goes through here.
#[must_use]
pub fn api_name(stored: &str) -> String {
    stored.to_ascii_uppercase()
}
