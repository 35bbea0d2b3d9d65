//! Exports of a search result, as CSV of masked records. A small one is the requester's at
//! once; beyond [`APPROVAL_THRESHOLD`] rows a second staff member (a coordinator of the branch,
//! or a national administrator) must approve it first. Asking, approving and every download
//! are audited, and only the requester downloads, within a week.

use std::fmt::Write as _;

use chrono::{Duration, Utc};
use entity::volunteer_export::{self, ExportStatus};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::filter::VolunteerFilter;
use super::search::SearchService;
use crate::db;
use crate::domain::contact::short_text;
use crate::error::{AppError, AppResult};
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::volunteer::VolunteerView;
use crate::service::{BranchScope, Coordinator, Principal, VolunteerReader};

/// Rows an export may hold without a second staff member's approval.
pub const APPROVAL_THRESHOLD: i32 = 100;
/// The most rows one export holds: a larger result is refined, not exported.
pub const MAX_ROWS: i32 = 20_000;
/// How long a request may wait for approval, and an approved export be downloaded.
const VALID_DAYS: i64 = 7;
/// Most waiting exports one list returns.
const MAX_LISTED: u64 = 100;

/// An export as staff read it.
#[derive(Clone, Debug)]
pub struct ExportView {
    pub model: volunteer_export::Model,
}

impl ExportView {
    #[must_use]
    pub fn needs_approval(&self) -> bool {
        self.model.rows > APPROVAL_THRESHOLD
    }
}

/// A downloaded export.
#[derive(Clone, Debug)]
pub struct ExportFile {
    pub rows: usize,
    pub csv: String,
}

#[derive(Clone, Debug)]
pub struct ExportService {
    db: DatabaseConnection,
    search: SearchService,
}

impl ExportService {
    pub(crate) fn new(db: DatabaseConnection, search: SearchService) -> Self {
        Self { db, search }
    }

    /// Asks for an export of what `filter` finds. Up to [`APPROVAL_THRESHOLD`] rows it is
    /// approved at once; beyond, it waits for a second staff member.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `purpose`, on `filter` naming a person, or over [`MAX_ROWS`] rows;
    /// FORBIDDEN for a branch outside the reader's reach.
    pub async fn request(
        &self,
        reader: &VolunteerReader,
        actor: &Principal,
        filter: &VolunteerFilter,
        purpose: &str,
        request_id: Option<&str>,
    ) -> AppResult<ExportView> {
        let purpose = short_text(purpose, 200).map_err(AppError::field("purpose"))?;
        filter.check("filter")?;
        let branch = filter.branch_within(&reader.scope)?;
        let filter = VolunteerFilter { branch_code: branch.clone(), ..filter.clone() };
        let stored = filter.to_stored("filter")?;
        let rows = i32::try_from(self.search.count(reader, &filter).await?).unwrap_or(i32::MAX);
        if rows > MAX_ROWS {
            return Err(AppError::invalid(
                "filter",
                format!("finds {rows} volunteers; an export holds at most {MAX_ROWS}"),
            ));
        }
        let Principal::Staff { id: staff_id, .. } = actor else { return Err(actor.refusal()) };
        let now = Utc::now();
        let approved = rows <= APPROVAL_THRESHOLD;
        let model = db::write!(&self.db, |txn| {
            let model = volunteer_export::ActiveModel {
                id: Set(Uuid::now_v7()),
                branch_code: Set(branch.clone()),
                filter: Set(stored.clone()),
                purpose: Set(purpose.clone()),
                rows: Set(rows),
                status: Set(if approved { ExportStatus::Approved } else { ExportStatus::AwaitingApproval }),
                requested_by: Set(*staff_id),
                requested_at: Set(now),
                approved_by: Set(None),
                approved_at: Set(approved.then_some(now)),
                expires_at: Set(now + Duration::days(VALID_DAYS)),
                downloads: Set(0),
            }
            .insert(txn)
            .await?;
            let entry = AuditEntry {
                subject: Some(("volunteer_export", model.id)),
                detail: Some(format!("{rows} rows")),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::VolunteerExportRequested, entry).await?;
            Ok(model)
        })?;
        Ok(ExportView { model })
    }

    /// Approves an export another staff member asked for.
    ///
    /// # Errors
    /// CONFLICT on `id` for one's own request, one already approved or one expired; NOT_FOUND;
    /// FORBIDDEN for another branch's.
    pub async fn approve(
        &self,
        coordinator: &Coordinator,
        actor: &Principal,
        id: Uuid,
        request_id: Option<&str>,
    ) -> AppResult<ExportView> {
        let model = self.find(&coordinator.scope, id).await?;
        let Principal::Staff { id: staff_id, .. } = actor else { return Err(actor.refusal()) };
        let conflict = |message: &str| AppError::Conflict { field: "id".into(), message: message.into() };
        if model.requested_by == *staff_id {
            return Err(conflict("is your own request: a second staff member approves it"));
        }
        if model.status == ExportStatus::Approved {
            return Err(conflict("is approved already"));
        }
        let now = Utc::now();
        if model.expires_at <= now {
            return Err(conflict("has expired; ask again"));
        }
        db::write!(&self.db, |txn| {
            volunteer_export::Entity::update_many()
                .col_expr(volunteer_export::Column::Status, Expr::value(ExportStatus::Approved))
                .col_expr(volunteer_export::Column::ApprovedBy, Expr::value(*staff_id))
                .col_expr(volunteer_export::Column::ApprovedAt, Expr::value(now))
                .col_expr(volunteer_export::Column::ExpiresAt, Expr::value(now + Duration::days(VALID_DAYS)))
                .filter(volunteer_export::Column::Id.eq(id))
                .exec(txn)
                .await?;
            let entry = AuditEntry {
                subject: Some(("volunteer_export", id)),
                detail: Some(format!("{} rows", model.rows)),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::VolunteerExportApproved, entry).await?;
            Ok(())
        })?;
        Ok(ExportView { model: self.find(&coordinator.scope, id).await? })
    }

    /// The export's rows as CSV, for its requester, once approved. Each download is audited.
    ///
    /// # Errors
    /// FORBIDDEN for anyone but the requester; CONFLICT on `id` while awaiting approval or
    /// once expired; NOT_FOUND.
    pub async fn download(
        &self,
        reader: &VolunteerReader,
        actor: &Principal,
        id: Uuid,
        request_id: Option<&str>,
    ) -> AppResult<ExportFile> {
        let model = self.find(&reader.scope, id).await?;
        if !matches!(actor, Principal::Staff { id: staff_id, .. } if *staff_id == model.requested_by) {
            return Err(AppError::Forbidden);
        }
        let conflict = |message: &str| AppError::Conflict { field: "id".into(), message: message.into() };
        if model.status != ExportStatus::Approved {
            return Err(conflict("awaits a second staff member's approval"));
        }
        if model.expires_at <= Utc::now() {
            return Err(conflict("has expired; ask again"));
        }
        let filter = VolunteerFilter::from_stored(&model.filter)?;
        let scope = model.branch_code.clone().map_or(BranchScope::All, BranchScope::Branch);
        let limit = u64::try_from(model.rows).unwrap_or_default();
        let views = self.search.collect(&scope, &filter, limit).await?;
        db::write!(&self.db, |txn| {
            volunteer_export::Entity::update_many()
                .col_expr(volunteer_export::Column::Downloads, Expr::col(volunteer_export::Column::Downloads).add(1))
                .filter(volunteer_export::Column::Id.eq(id))
                .exec(txn)
                .await?;
            let entry = AuditEntry {
                subject: Some(("volunteer_export", id)),
                detail: Some(format!("{} rows", views.len())),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::VolunteerExportDownloaded, entry).await?;
            Ok(())
        })?;
        Ok(ExportFile { rows: views.len(), csv: csv(&views) })
    }

    /// Exports within the reader's reach, newest first; with `awaiting`, those waiting for approval.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(&self, reader: &VolunteerReader, awaiting: bool) -> AppResult<Vec<ExportView>> {
        let mut query = volunteer_export::Entity::find();
        if let BranchScope::Branch(own) = &reader.scope {
            query = query.filter(volunteer_export::Column::BranchCode.eq(own.as_str()));
        }
        if awaiting {
            query = query
                .filter(volunteer_export::Column::Status.eq(ExportStatus::AwaitingApproval))
                .filter(volunteer_export::Column::ExpiresAt.gt(Utc::now()));
        }
        let models = query.order_by_desc(volunteer_export::Column::RequestedAt).limit(MAX_LISTED).all(&self.db).await?;
        Ok(models.into_iter().map(|model| ExportView { model }).collect())
    }

    /// An export within `scope`: of one's branch, or any for national roles.
    async fn find(&self, scope: &BranchScope, id: Uuid) -> AppResult<volunteer_export::Model> {
        let model = volunteer_export::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "export" })?;
        let reachable = match &model.branch_code {
            Some(branch) => scope.admits(branch),
            None => *scope == BranchScope::All,
        };
        if reachable { Ok(model) } else { Err(AppError::Forbidden) }
    }
}

/// The masked records as CSV (RFC 4180: fields with a comma, quote or line break are quoted).
fn csv(views: &[VolunteerView]) -> String {
    let mut out = String::from(
        "id,branch,status,status_reason,status_until,name,national_id,primary_phone,sex,age,city,blood_group,hla_typed,registered_at,last_confirmed_at\r\n",
    );
    for view in views {
        let fields = [
            view.id.to_string(),
            view.branch_code.clone(),
            view.status.to_value(),
            view.status_reason.map(|reason| reason.to_value()).unwrap_or_default(),
            view.status_until.map(|until| until.to_string()).unwrap_or_default(),
            view.name.clone(),
            view.national_id.clone(),
            view.primary_phone.clone().unwrap_or_default(),
            format!("{:?}", view.sex).to_lowercase(),
            view.age.to_string(),
            view.city.clone().unwrap_or_default(),
            view.blood_group
                .map(|group| {
                    format!("{}{}", group.abo.as_str(), if group.rh == crate::domain::Rh::Negative { "-" } else { "+" })
                })
                .unwrap_or_default(),
            view.hla_typed.to_string(),
            view.registered_at.to_rfc3339(),
            view.last_confirmed_at.to_rfc3339(),
        ];
        let line: Vec<String> = fields.iter().map(|field| quoted(field)).collect();
        let _ = write!(out, "{}\r\n", line.join(","));
    }
    out
}

fn quoted(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_separators_are_quoted() {
        assert_eq!(quoted("成都"), "成都");
        assert_eq!(quoted("a,b"), "\"a,b\"");
        assert_eq!(quoted("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
