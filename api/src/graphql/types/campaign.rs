//! Retention campaigns: their definition, preview, delivery and answers.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Json, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::campaign::CampaignStatus as Stored;

use super::CampaignDelivery;
use super::search::{CampaignResponseFilter, VolunteerConnection, VolunteerFilterInput, connection};
use crate::error::{AppError, AppResult};
use crate::graphql::{principal, services};
use crate::service::retention::{self, CampaignDefinition, SearchOrder, SortField};

/// A campaign to define.
#[derive(Debug, InputObject)]
pub struct CampaignInput {
    /// What staff call it, 1 to 100 characters.
    pub name: String,
    /// Who it reaches: the search filters, without personal values (no ID number, phone or
    /// name). Branch staff reach their own branch; a national administrator who names no
    /// branch reaches the whole register.
    pub segment: VolunteerFilterInput,
    /// A non-essential message template, e.g. `recommitment`, whose answers 1, 2 and TD are read.
    pub template_key: String,
    #[graphql(default_with = "String::from(\"zh-CN\")")]
    pub locale: String,
    /// Variables every message shares; `name` is each volunteer's and filled in.
    #[graphql(default)]
    pub variables: Vec<TemplateVariable>,
    #[graphql(default = true)]
    pub sms: bool,
    #[graphql(default = false)]
    pub app_inbox: bool,
    /// At most this many recipients, the stalest confirmations first (an SMS budget).
    pub max_recipients: Option<i32>,
    /// Days to wait for answers (1 to 60); the branch's rule (14) when not given.
    pub response_window_days: Option<i32>,
}

#[derive(Debug, InputObject)]
pub struct TemplateVariable {
    pub name: String,
    pub value: String,
}

impl CampaignInput {
    /// # Errors
    /// BAD_USER_INPUT naming the field.
    pub fn parse(self) -> AppResult<CampaignDefinition> {
        let mut variables = std::collections::BTreeMap::new();
        for variable in self.variables {
            if variables.insert(variable.name, variable.value).is_some() {
                return Err(AppError::invalid("input.variables", "names a variable twice"));
            }
        }
        Ok(CampaignDefinition {
            name: self.name,
            segment: self.segment.parse("input.segment")?,
            template_key: self.template_key,
            locale: self.locale,
            variables,
            sms: self.sms,
            app_inbox: self.app_inbox,
            max_recipients: self.max_recipients,
            response_window_days: self.response_window_days,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum CampaignStatus {
    /// Defined; its preview is live and nothing is sent.
    Draft,
    /// Its recipients are fixed and their messages are being queued.
    Launching,
    /// Every message is queued.
    Launched,
    /// Stopped; messages not yet sent were cancelled.
    Cancelled,
}

impl From<Stored> for CampaignStatus {
    fn from(status: Stored) -> Self {
        match status {
            Stored::Draft => Self::Draft,
            Stored::Launching => Self::Launching,
            Stored::Launched => Self::Launched,
            Stored::Cancelled => Self::Cancelled,
        }
    }
}

/// A retention campaign.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct Campaign {
    #[graphql(skip)]
    pub view: retention::CampaignView,
    pub id: ID,
    /// Null for a national campaign.
    pub branch_code: Option<String>,
    pub name: String,
    pub template_key: String,
    pub locale: String,
    pub sms: bool,
    pub app_inbox: bool,
    /// The segment's filters, as stored (never a personal value).
    pub segment: Json<serde_json::Value>,
    pub max_recipients: Option<i32>,
    pub response_window_days: i32,
    pub status: CampaignStatus,
    /// Volunteers it reaches, fixed at launch.
    pub recipients: i32,
    /// Messages queued so far.
    pub queued: i32,
    pub created_at: DateTime<Utc>,
    pub launched_at: Option<DateTime<Utc>>,
    /// After this, silent recipients are non-responders.
    pub window_closes_at: Option<DateTime<Utc>>,
    /// When the last message was queued.
    pub queued_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl From<retention::CampaignView> for Campaign {
    fn from(view: retention::CampaignView) -> Self {
        let model = &view.model;
        Self {
            id: ID(model.id.to_string()),
            branch_code: model.branch_code.clone(),
            name: model.name.clone(),
            template_key: model.template_key.clone(),
            locale: model.locale.clone(),
            sms: model.sms,
            app_inbox: model.app_inbox,
            segment: Json(serde_json::from_str(&model.segment).unwrap_or_default()),
            max_recipients: model.max_recipients,
            response_window_days: model.response_window_days,
            status: model.status.into(),
            recipients: model.recipients,
            queued: model.queued,
            created_at: model.created_at,
            launched_at: model.launched_at,
            window_closes_at: model.window_closes_at,
            queued_at: model.queued_at,
            cancelled_at: model.cancelled_at,
            view,
        }
    }
}

#[ComplexObject]
impl Campaign {
    /// What the draft would reach and cost, counted now; null once launched (see `recipients`).
    async fn preview(&self, ctx: &Context<'_>) -> Result<Option<CampaignPreview>> {
        if self.view.model.status != Stored::Draft {
            return Ok(None);
        }
        Ok(Some(services(ctx)?.campaigns.preview(&self.view).await?.into()))
    }

    /// The campaign's messages by delivery status, SMS and app together.
    async fn delivery(&self, ctx: &Context<'_>) -> Result<CampaignDelivery> {
        Ok(services(ctx)?.campaigns.delivery(&self.view).await?.into())
    }

    /// The answers so far.
    async fn replies(&self, ctx: &Context<'_>) -> Result<CampaignReplies> {
        Ok(services(ctx)?.campaigns.replies(&self.view).await?.into())
    }

    /// Recipients who have not answered, stalest confirmation first, once the answer window
    /// closed (null before); they also enter the lost-contact work queue.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn non_responders(
        &self,
        ctx: &Context<'_>,
        first: Option<u64>,
        after: Option<String>,
    ) -> Result<Option<VolunteerConnection>> {
        if !self.view.window_closed(Utc::now()) {
            return Ok(None);
        }
        let reader = principal(ctx).volunteer_reader()?;
        let filter = VolunteerFilterInput {
            branch_code: self.view.model.branch_code.clone(),
            campaign_id: Some(self.id.clone()),
            campaign_response: Some(CampaignResponseFilter::NoReply),
            ..VolunteerFilterInput::default()
        }
        .parse("filter")?;
        let order = SearchOrder { field: SortField::LastConfirmedAt, descending: false };
        let page = services(ctx)?.search.search(&reader, &filter, order, first.unwrap_or(20), after.as_deref()).await?;
        Ok(Some(connection(ctx, page, reader, filter, after.is_some()).await?))
    }
}

/// What a draft would reach, by channel, and what it would cost.
#[derive(Debug, SimpleObject)]
pub struct CampaignPreview {
    pub recipients: u64,
    /// With a working primary phone, accepting non-essential SMS, not opted out.
    pub sms_recipients: u64,
    /// Accepting non-essential messages in the app.
    pub inbox_recipients: u64,
    /// Segments one SMS costs, priced with a four-character name and the sign name.
    pub segments_per_sms: u64,
    pub sms_segments: u64,
}

impl From<retention::CampaignPreview> for CampaignPreview {
    fn from(preview: retention::CampaignPreview) -> Self {
        Self {
            recipients: preview.recipients,
            sms_recipients: preview.sms_recipients,
            inbox_recipients: preview.inbox_recipients,
            segments_per_sms: preview.segments_per_sms,
            sms_segments: preview.sms_segments,
        }
    }
}

/// A campaign's answers by kind.
#[derive(Debug, SimpleObject)]
pub struct CampaignReplies {
    /// Replied 1: confirmed, and back to AV from their own pause or from UC.
    pub still_willing: u64,
    /// Replied 2: paused for the branch's period.
    pub pause: u64,
    /// Replied TD: no more non-essential messages.
    pub opted_out: u64,
    pub no_reply: u64,
    /// Answered (any kind) over recipients; 0 before anyone is reached.
    pub response_rate: f64,
}

impl From<retention::CampaignReplies> for CampaignReplies {
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    fn from(replies: retention::CampaignReplies) -> Self {
        let answered = replies.still_willing + replies.pause + replies.opted_out;
        let total = answered + replies.no_reply;
        Self {
            still_willing: replies.still_willing,
            pause: replies.pause,
            opted_out: replies.opted_out,
            no_reply: replies.no_reply,
            response_rate: if total == 0 { 0.0 } else { answered as f64 / total as f64 },
        }
    }
}

/// A page of campaigns, newest first.
#[derive(Debug, SimpleObject)]
pub struct CampaignPage {
    pub campaigns: Vec<Campaign>,
    /// Pass as `after` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

impl From<retention::CampaignPage> for CampaignPage {
    fn from(page: retention::CampaignPage) -> Self {
        Self { campaigns: page.campaigns.into_iter().map(Into::into).collect(), next_cursor: page.next_cursor }
    }
}
