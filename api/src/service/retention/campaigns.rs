//! Retention campaigns: a segment of volunteers (the search filters), a registered message
//! template and the channels. Staff define one as a draft, read its preview (how many it
//! reaches, by which channel, at what cost in SMS segments), launch it, and read back its
//! delivery and the answers. Launching fixes the recipients at once; their messages are queued
//! by the launcher ([`super::launcher`]) in batches, through the same outbox and delivery rules
//! (quiet hours, caps, opt-outs) as every other message.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use entity::campaign::{self, CampaignStatus};
use entity::campaign_recipient::{self, CampaignResponse};
use entity::outbound_message::{self, Purpose, Status};
use entity::volunteer_contact::{self, ContactKind};
use entity::{messaging_opt_out, volunteer};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement, UnionType};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use tokio::sync::Notify;
use uuid::Uuid;

use super::filter::VolunteerFilter;
use super::launcher::LAUNCH;
use crate::db;
use crate::domain::contact::short_text;
use crate::domain::messaging::{render, signed_sms, sms_segments};
use crate::error::{AppError, AppResult};
use crate::jobs::{self, JobQueue, NewJob};
use crate::messaging::{CampaignTotals, Messaging};
use crate::pii::KeyRing;
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::{BranchScope, Principal, VolunteerReader, keyset};

/// The per-recipient template variable, filled with each volunteer's name.
pub(super) const NAME_VARIABLE: &str = "name";
/// The name a preview prices an SMS with: four characters, longer than most names.
const PRICED_NAME: &str = "某某某某";
/// The longest answer window a campaign may set.
const MAX_WINDOW_DAYS: i32 = 60;
/// The most recipients one campaign may reach.
const MAX_RECIPIENTS: i32 = 2_000_000;
/// Largest page of the campaign list.
const MAX_LIST_PAGE: u64 = 50;

/// A campaign to define. `segment.branch_code` is the branch it reaches (all, for a national
/// administrator who names none).
#[derive(Clone, Debug)]
pub struct CampaignDefinition {
    pub name: String,
    pub segment: VolunteerFilter,
    pub template_key: String,
    pub locale: String,
    /// Variables every message shares; the volunteer's name is added to each.
    pub variables: BTreeMap<String, String>,
    pub sms: bool,
    pub app_inbox: bool,
    /// At most this many recipients, the stalest confirmations first.
    pub max_recipients: Option<i32>,
    /// Days to wait for answers; the branch's rule when not given.
    pub response_window_days: Option<i32>,
}

/// A campaign as staff read it.
#[derive(Clone, Debug)]
pub struct CampaignView {
    pub model: campaign::Model,
    pub segment: VolunteerFilter,
}

impl CampaignView {
    /// Whether the answers are in: the window closed.
    #[must_use]
    pub fn window_closed(&self, now: DateTime<Utc>) -> bool {
        self.model.window_closes_at.is_some_and(|closes| closes <= now)
    }
}

/// What a campaign would reach.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CampaignPreview {
    pub recipients: u64,
    /// Recipients with a working primary phone who accept non-essential SMS and did not opt out.
    pub sms_recipients: u64,
    /// Recipients who accept non-essential messages in the app.
    pub inbox_recipients: u64,
    /// Segments one SMS costs, priced with a four-character name and the longest sign name.
    pub segments_per_sms: u64,
    pub sms_segments: u64,
}

/// The answers to a campaign, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CampaignReplies {
    pub still_willing: u64,
    pub pause: u64,
    pub opted_out: u64,
    pub no_reply: u64,
}

/// A page of campaigns, newest first.
#[derive(Clone, Debug)]
pub struct CampaignPage {
    pub campaigns: Vec<CampaignView>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug)]
pub struct CampaignService {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    messaging: Messaging,
    jobs: JobQueue,
    /// Wakes this process's launcher when a campaign is launched here.
    launches: Arc<Notify>,
}

impl CampaignService {
    pub(crate) fn new(db: DatabaseConnection, keys: Arc<KeyRing>, messaging: Messaging) -> Self {
        let jobs = JobQueue::new(db.clone(), Arc::clone(messaging.metrics()), crate::service::alerts::job_failed);
        Self { db, keys, messaging, jobs, launches: Arc::new(Notify::new()) }
    }

    pub(super) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub(super) fn keys(&self) -> &KeyRing {
        &self.keys
    }

    pub(super) fn messaging(&self) -> &Messaging {
        &self.messaging
    }

    pub(super) fn jobs(&self) -> &JobQueue {
        &self.jobs
    }

    /// What wakes this process's launcher, for the job engine.
    #[must_use]
    pub fn launches(&self) -> Arc<Notify> {
        Arc::clone(&self.launches)
    }

    /// Defines a campaign as a draft. Nothing is sent until it is launched.
    ///
    /// # Errors
    /// BAD_USER_INPUT naming the field: an empty or long name, a segment naming a person, a
    /// template that is not a non-essential one of that locale, variables that do not fit it,
    /// no channel, bounds of `maxRecipients` or `responseWindowDays`. FORBIDDEN for a branch
    /// outside the caller's reach.
    pub async fn create(
        &self,
        reader: &VolunteerReader,
        actor: &Principal,
        definition: CampaignDefinition,
        request_id: Option<&str>,
    ) -> AppResult<CampaignView> {
        let name = short_text(&definition.name, 100).map_err(AppError::field("input.name"))?;
        definition.segment.check("input.segment")?;
        let branch = definition.segment.branch_within(&reader.scope)?;
        let segment = VolunteerFilter { branch_code: branch.clone(), ..definition.segment };
        let stored_segment = segment.to_stored("input.segment")?;
        if !definition.sms && !definition.app_inbox {
            return Err(AppError::invalid("input.sms", "choose SMS, the app, or both"));
        }
        if definition.variables.contains_key(NAME_VARIABLE) {
            return Err(AppError::invalid("input.variables", "`name` is each volunteer's own and filled in for them"));
        }
        if definition.max_recipients.is_some_and(|max| !(1..=MAX_RECIPIENTS).contains(&max)) {
            return Err(AppError::invalid("input.maxRecipients", format!("must be 1 to {MAX_RECIPIENTS}")));
        }
        if definition.response_window_days.is_some_and(|days| !(1..=MAX_WINDOW_DAYS).contains(&days)) {
            return Err(AppError::invalid("input.responseWindowDays", format!("must be 1 to {MAX_WINDOW_DAYS} days")));
        }
        let catalog = self.messaging.catalog().snapshot().await?;
        let template = catalog
            .template(&definition.template_key, &definition.locale)
            .ok_or_else(|| AppError::invalid("input.templateKey", "no template with this key in this locale"))?;
        if template.purpose != Purpose::NonEssential {
            return Err(AppError::invalid("input.templateKey", "campaigns send non-essential templates only"));
        }
        render(&template.body, &with_name(&definition.variables, PRICED_NAME))
            .map_err(AppError::field("input.variables"))?;
        let window = match definition.response_window_days {
            Some(days) => days,
            None => branch
                .as_deref()
                .and_then(|code| catalog.branch(code))
                .map_or(14, |rules| i32::try_from(rules.campaign_response_days).unwrap_or(14)),
        };
        let Principal::Staff { id: staff_id, .. } = actor else { return Err(actor.refusal()) };
        let now = Utc::now();
        let model = db::write!(&self.db, |txn| {
            let model = campaign::ActiveModel {
                id: Set(Uuid::now_v7()),
                branch_code: Set(branch.clone()),
                name: Set(name.clone()),
                template_key: Set(definition.template_key.clone()),
                locale: Set(definition.locale.clone()),
                variables: Set(serde_json::to_string(&definition.variables).map_err(AppError::internal)?),
                sms: Set(definition.sms),
                app_inbox: Set(definition.app_inbox),
                segment: Set(stored_segment.clone()),
                max_recipients: Set(definition.max_recipients),
                response_window_days: Set(window),
                status: Set(CampaignStatus::Draft),
                recipients: Set(0),
                queued: Set(0),
                created_by: Set(*staff_id),
                created_at: Set(now),
                launched_by: Set(None),
                launched_at: Set(None),
                window_closes_at: Set(None),
                queued_at: Set(None),
                cancelled_at: Set(None),
                lease_until: Set(None),
                queued_through: Set(None),
            }
            .insert(txn)
            .await?;
            let entry = AuditEntry { subject: Some(("campaign", model.id)), request_id, ..Default::default() };
            audit::record(txn, actor, AuditAction::CampaignCreated, entry).await?;
            Ok(model)
        })?;
        Ok(CampaignView { model, segment })
    }

    /// A campaign the reader may see: one of their branch, or any for national roles.
    ///
    /// # Errors
    /// NOT_FOUND; FORBIDDEN for another branch's or a national campaign.
    pub async fn get(&self, reader: &VolunteerReader, id: Uuid) -> AppResult<CampaignView> {
        let model =
            campaign::Entity::find_by_id(id).one(&self.db).await?.ok_or(AppError::NotFound { resource: "campaign" })?;
        if !reaches(&reader.scope, model.branch_code.as_deref()) {
            return Err(AppError::Forbidden);
        }
        view(model)
    }

    /// The reader's campaigns (one branch's, or with `branch` for national roles), newest first.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `first` or `after`; FORBIDDEN for another branch.
    pub async fn list(
        &self,
        reader: &VolunteerReader,
        branch: Option<&str>,
        first: u64,
        after: Option<&str>,
    ) -> AppResult<CampaignPage> {
        keyset::check_first(first, MAX_LIST_PAGE)?;
        let scope = VolunteerFilter { branch_code: branch.map(str::to_owned), ..VolunteerFilter::default() };
        let mut query = campaign::Entity::find();
        if let Some(branch) = scope.branch_within(&reader.scope)? {
            query = query.filter(campaign::Column::BranchCode.eq(branch));
        }
        if let Some(cursor) = after {
            let (at, id) = keyset::read_time_cursor(cursor, "campaigns")?;
            query = query.filter(keyset::after(campaign::Column::CreatedAt, at, campaign::Column::Id, id, true));
        }
        let models = query
            .order_by_desc(campaign::Column::CreatedAt)
            .order_by_desc(campaign::Column::Id)
            .limit(keyset::fetch_size(first))
            .all(&self.db)
            .await?;
        let (models, next_cursor) =
            keyset::cut(models, first, |last| keyset::time_cursor("campaigns", last.created_at, last.id));
        Ok(CampaignPage { campaigns: models.into_iter().map(view).collect::<AppResult<_>>()?, next_cursor })
    }

    /// What a campaign would reach, by channel, and what it would cost, counted now over the
    /// register: one aggregate statement, however large the segment.
    ///
    /// # Errors
    /// The database failed.
    pub async fn preview(&self, campaign: &CampaignView) -> AppResult<CampaignPreview> {
        let model = &campaign.model;
        let in_segment = self.in_segment(campaign, Utc::now());
        // A segment can be a million volunteers: count it once (an index can answer), then
        // subtract the few it holds whom a channel cannot reach, found from their side.
        let recipients = volunteer::Entity::find().filter(in_segment.clone()).count(&self.db).await?;
        let unreachable = |excluded: SelectStatement| {
            volunteer::Entity::find()
                .filter(in_segment.clone())
                .filter(volunteer::Column::Id.in_subquery(excluded))
                .count(&self.db)
        };
        let sms = if model.sms { recipients - unreachable(unreachable_by_sms()).await? } else { 0 };
        let inbox = if model.app_inbox {
            recipients - unreachable(off(volunteer::Column::InboxNonEssential)).await?
        } else {
            0
        };
        let segments_per_sms = self.segments_per_sms(model).await?;
        Ok(CampaignPreview {
            recipients,
            sms_recipients: sms,
            inbox_recipients: inbox,
            segments_per_sms,
            sms_segments: sms * segments_per_sms,
        })
    }

    /// Launches a draft: its recipients are fixed now (the segment as it stands), the answer
    /// window opens, and the launcher queues their messages. Launching again changes nothing.
    ///
    /// # Errors
    /// CONFLICT on `id` for a cancelled campaign; NOT_FOUND; FORBIDDEN.
    pub async fn launch(
        &self,
        reader: &VolunteerReader,
        actor: &Principal,
        id: Uuid,
        request_id: Option<&str>,
    ) -> AppResult<CampaignView> {
        let campaign = self.get(reader, id).await?;
        match campaign.model.status {
            CampaignStatus::Draft => {}
            CampaignStatus::Launching | CampaignStatus::Launched => return Ok(campaign),
            CampaignStatus::Cancelled => {
                return Err(AppError::Conflict { field: "id".into(), message: "the campaign was cancelled".into() });
            }
        }
        let Principal::Staff { id: staff_id, .. } = actor else { return Err(actor.refusal()) };
        let now = Utc::now();
        let launched = db::write!(&self.db, |txn| {
            let claimed = campaign::Entity::update_many()
                .col_expr(campaign::Column::Status, Expr::value(CampaignStatus::Launching))
                .col_expr(campaign::Column::LaunchedBy, Expr::value(*staff_id))
                .col_expr(campaign::Column::LaunchedAt, Expr::value(now))
                .col_expr(
                    campaign::Column::WindowClosesAt,
                    Expr::value(now + Duration::days(i64::from(campaign.model.response_window_days))),
                )
                .filter(campaign::Column::Id.eq(id))
                .filter(campaign::Column::Status.eq(CampaignStatus::Draft))
                .exec(txn)
                .await?;
            if claimed.rows_affected == 0 {
                return Ok(false); // launched meanwhile by another request
            }
            let recipients = self.recipients(&campaign, now);
            let insert = Query::insert()
                .into_table(campaign_recipient::Entity)
                .columns([
                    campaign_recipient::Column::CampaignId,
                    campaign_recipient::Column::VolunteerId,
                    campaign_recipient::Column::BranchCode,
                ])
                .select_from(recipients)
                .map_err(AppError::internal)?
                .to_owned();
            let fixed = txn.execute(&insert).await?.rows_affected();
            campaign::Entity::update_many()
                .col_expr(campaign::Column::Recipients, Expr::value(i32::try_from(fixed).unwrap_or(i32::MAX)))
                .filter(campaign::Column::Id.eq(id))
                .exec(txn)
                .await?;
            let entry = AuditEntry {
                subject: Some(("campaign", id)),
                detail: Some(format!("{fixed} recipients")),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::CampaignLaunched, entry).await?;
            jobs::enqueue(txn, NewJob::about(LAUNCH, id).for_branch(campaign.model.branch_code.clone())).await?;
            Ok(true)
        })?;
        if launched {
            self.launches.notify_one();
        }
        self.get(reader, id).await
    }

    /// Stops a campaign: nothing more is queued, and its messages not yet handed to the gateway
    /// are cancelled. Answers already given stay.
    ///
    /// # Errors
    /// CONFLICT on `id` when already cancelled; NOT_FOUND; FORBIDDEN.
    pub async fn cancel(
        &self,
        reader: &VolunteerReader,
        actor: &Principal,
        id: Uuid,
        request_id: Option<&str>,
    ) -> AppResult<CampaignView> {
        self.get(reader, id).await?;
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            let cancelled = campaign::Entity::update_many()
                .col_expr(campaign::Column::Status, Expr::value(CampaignStatus::Cancelled))
                .col_expr(campaign::Column::CancelledAt, Expr::value(now))
                .col_expr(campaign::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(campaign::Column::Id.eq(id))
                .filter(campaign::Column::Status.ne(CampaignStatus::Cancelled))
                .exec(txn)
                .await?;
            if cancelled.rows_affected == 0 {
                return Err(AppError::Conflict { field: "id".into(), message: "is already cancelled".into() });
            }
            let stopped = outbound_message::Entity::update_many()
                .col_expr(outbound_message::Column::Status, Expr::value(Status::Cancelled))
                .col_expr(outbound_message::Column::LastError, Expr::value("campaign cancelled"))
                .col_expr(outbound_message::Column::ClaimedBy, Expr::value(Option::<String>::None))
                .col_expr(outbound_message::Column::UpdatedAt, Expr::value(now))
                .filter(outbound_message::Column::CampaignId.eq(id))
                .filter(outbound_message::Column::Status.is_in([Status::Queued, Status::Claimed]))
                .exec(txn)
                .await?;
            let entry = AuditEntry {
                subject: Some(("campaign", id)),
                detail: Some(format!("{} messages stopped", stopped.rows_affected)),
                request_id,
                ..Default::default()
            };
            audit::record(txn, actor, AuditAction::CampaignCancelled, entry).await?;
            Ok(())
        })?;
        self.get(reader, id).await
    }

    /// The campaign's messages by delivery status.
    ///
    /// # Errors
    /// The database failed.
    pub async fn delivery(&self, campaign: &CampaignView) -> AppResult<CampaignTotals> {
        self.messaging.campaign_totals(campaign.model.id, None).await
    }

    /// The answers so far, by kind; those who have not answered are `no_reply`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn replies(&self, campaign: &CampaignView) -> AppResult<CampaignReplies> {
        let rows: Vec<(Option<CampaignResponse>, i64)> = campaign_recipient::Entity::find()
            .select_only()
            .column(campaign_recipient::Column::Response)
            .column_as(campaign_recipient::Column::VolunteerId.count(), "recipients")
            .filter(campaign_recipient::Column::CampaignId.eq(campaign.model.id))
            .group_by(campaign_recipient::Column::Response)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut replies = CampaignReplies::default();
        for (response, count) in rows {
            let count = u64::try_from(count).unwrap_or_default();
            match response {
                Some(CampaignResponse::StillWilling) => replies.still_willing = count,
                Some(CampaignResponse::Pause) => replies.pause = count,
                Some(CampaignResponse::OptedOut) => replies.opted_out = count,
                None => replies.no_reply = count,
            }
        }
        Ok(replies)
    }

    /// The filter of who the campaign reaches, within its branch, the cap applied.
    fn in_segment(&self, campaign: &CampaignView, now: DateTime<Utc>) -> Condition {
        let condition = campaign.segment.condition(&self.keys, campaign.model.branch_code.as_deref(), now);
        match campaign.model.max_recipients {
            None => condition,
            Some(max) => Condition::all().add(
                volunteer::Column::Id.in_subquery(
                    volunteer::Entity::find()
                        .select_only()
                        .column(volunteer::Column::Id)
                        .filter(condition)
                        .order_by_asc(volunteer::Column::LastConfirmedAt)
                        .order_by_asc(volunteer::Column::Id)
                        .limit(u64::try_from(max).unwrap_or_default())
                        .into_query(),
                ),
            ),
        }
    }

    /// `SELECT <campaign>, id, branch_code` of the recipients, for the insert that fixes them.
    fn recipients(&self, campaign: &CampaignView, now: DateTime<Utc>) -> SelectStatement {
        let condition = campaign.segment.condition(&self.keys, campaign.model.branch_code.as_deref(), now);
        let mut select = volunteer::Entity::find()
            .select_only()
            .column_as(Expr::val(campaign.model.id), "campaign_id")
            .column(volunteer::Column::Id)
            .column(volunteer::Column::BranchCode)
            .filter(condition);
        if let Some(max) = campaign.model.max_recipients {
            select = select
                .order_by_asc(volunteer::Column::LastConfirmedAt)
                .order_by_asc(volunteer::Column::Id)
                .limit(u64::try_from(max).unwrap_or_default());
        }
        select.into_query()
    }

    /// Segments one SMS of the campaign costs, with the longest sign name it may carry.
    async fn segments_per_sms(&self, model: &campaign::Model) -> AppResult<u64> {
        if !model.sms {
            return Ok(0);
        }
        let catalog = self.messaging.catalog().snapshot().await?;
        let Some(template) = catalog.template(&model.template_key, &model.locale) else { return Ok(0) };
        let variables: BTreeMap<String, String> = serde_json::from_str(&model.variables).map_err(AppError::internal)?;
        let rendered = render(&template.body, &with_name(&variables, PRICED_NAME)).map_err(AppError::internal)?;
        let sign_names: Vec<String> = match &model.branch_code {
            Some(code) => catalog.branch(code).map(|rules| rules.sign_name.clone()).into_iter().collect(),
            None => catalog
                .branch_codes()
                .filter_map(|code| catalog.branch(code))
                .map(|rules| rules.sign_name.clone())
                .collect(),
        };
        Ok(sign_names
            .iter()
            .map(|sign| u64::from(sms_segments(&signed_sms(sign, &rendered.text))))
            .max()
            .unwrap_or_default())
    }
}

/// Volunteers an SMS cannot reach: SMS turned off, a primary phone found dead, or a primary
/// phone opted out. Every volunteer has a current primary phone (it is changed, never removed),
/// and these sets are small, each read through a partial or exact index.
fn unreachable_by_sms() -> SelectStatement {
    let current_primary = |select: &mut SelectStatement| {
        select
            .and_where(
                Expr::col((volunteer_contact::Entity, volunteer_contact::Column::Kind)).eq(ContactKind::PrimaryPhone),
            )
            .and_where(Expr::col((volunteer_contact::Entity, volunteer_contact::Column::EndedAt)).is_null());
    };
    let mut dead = Query::select();
    dead.column(volunteer_contact::Column::VolunteerId)
        .from(volunteer_contact::Entity)
        .and_where(volunteer_contact::Column::InvalidAt.is_not_null());
    current_primary(&mut dead);
    let mut opted_out = Query::select();
    opted_out
        .column((volunteer_contact::Entity, volunteer_contact::Column::VolunteerId))
        .from(messaging_opt_out::Entity)
        .inner_join(
            volunteer_contact::Entity,
            Expr::col((volunteer_contact::Entity, volunteer_contact::Column::ValueIndex))
                .equals((messaging_opt_out::Entity, messaging_opt_out::Column::PhoneIndex)),
        );
    current_primary(&mut opted_out);
    off(volunteer::Column::SmsNonEssential)
        .union(UnionType::Distinct, dead)
        .union(UnionType::Distinct, opted_out)
        .to_owned()
}

/// Volunteers who turned a kind of non-essential message off.
fn off(choice: volunteer::Column) -> SelectStatement {
    Query::select().column(volunteer::Column::Id).from(volunteer::Entity).and_where(choice.eq(false)).to_owned()
}

/// The shared variables and a volunteer's name.
pub(super) fn with_name(variables: &BTreeMap<String, String>, name: &str) -> BTreeMap<String, String> {
    let mut all = variables.clone();
    all.insert(NAME_VARIABLE.to_owned(), name.to_owned());
    all
}

/// Whether a staff reach covers a campaign of `branch` (none: national).
fn reaches(scope: &BranchScope, branch: Option<&str>) -> bool {
    match branch {
        Some(branch) => scope.admits(branch),
        None => *scope == BranchScope::All,
    }
}

fn view(model: campaign::Model) -> AppResult<CampaignView> {
    let segment = VolunteerFilter::from_stored(&model.segment)?;
    Ok(CampaignView { model, segment })
}

/// Records a recipient's answer (the latest counts), in the reply's transaction.
///
/// # Errors
/// The database failed.
pub(super) async fn record_response<C: ConnectionTrait>(
    conn: &C,
    campaign_id: Uuid,
    volunteer_id: Uuid,
    response: CampaignResponse,
    at: DateTime<Utc>,
) -> AppResult<()> {
    campaign_recipient::Entity::update_many()
        .col_expr(campaign_recipient::Column::Response, Expr::value(response))
        .col_expr(campaign_recipient::Column::RespondedAt, Expr::value(at))
        .filter(campaign_recipient::Column::CampaignId.eq(campaign_id))
        .filter(campaign_recipient::Column::VolunteerId.eq(volunteer_id))
        .exec(conn)
        .await?;
    Ok(())
}
