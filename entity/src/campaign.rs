//! A retention campaign: a segment of volunteers (the staff search filters), a message template
//! and the channels, sent once and read back as delivery and replies.

use sea_orm::entity::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum CampaignStatus {
    /// Defined; its preview is live and nothing is sent.
    #[sea_orm(string_value = "draft")]
    Draft,
    /// Its recipients are fixed and their messages are being queued.
    #[sea_orm(string_value = "launching")]
    Launching,
    /// Every message is queued; delivery and replies follow.
    #[sea_orm(string_value = "launched")]
    Launched,
    /// Stopped: messages not yet sent were cancelled.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The branch whose volunteers it reaches; none for a national campaign.
    pub branch_code: Option<String>,
    pub name: String,
    pub template_key: String,
    pub locale: String,
    /// JSON of the template variables every message shares (the per-volunteer name is added).
    pub variables: String,
    pub sms: bool,
    pub app_inbox: bool,
    /// JSON of the segment's filter; never an exact personal value.
    pub segment: String,
    /// At most this many recipients, the stalest confirmations first.
    pub max_recipients: Option<i32>,
    pub response_window_days: i32,
    pub status: CampaignStatus,
    pub recipients: i32,
    pub queued: i32,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub launched_by: Option<Uuid>,
    pub launched_at: Option<DateTimeUtc>,
    pub window_closes_at: Option<DateTimeUtc>,
    /// When the last message was queued.
    pub queued_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    /// No longer read: the launch is a job (`campaign.launch`), whose claim is the lease. Kept
    /// so that older rows and replicas stay readable; a later migration drops it.
    pub lease_until: Option<DateTimeUtc>,
    /// The last recipient, in volunteer order, whose messages are queued (or who had no
    /// channel); the launcher resumes after it.
    pub queued_through: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
