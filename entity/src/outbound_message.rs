//! The outbox: every outbound message, written in the same transaction as the change that
//! causes it, and delivered by the workers.

use sea_orm::entity::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Channel {
    #[sea_orm(string_value = "sms")]
    Sms,
    /// The volunteer's notification list in the mobile app.
    #[sea_orm(string_value = "app_inbox")]
    AppInbox,
}

impl Channel {
    /// The stored name, for metrics and output.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::AppInbox => "app_inbox",
        }
    }
}

/// Transactional messages (login codes, case contact) go out whatever the hour, cap or opt-out;
/// non-essential ones (reminders, campaigns) respect all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Purpose {
    #[sea_orm(string_value = "transactional")]
    Transactional,
    #[sea_orm(string_value = "non_essential")]
    NonEssential,
}

/// `claimed` is taken by a worker but not yet handed to the provider, so a lost worker's claim
/// can be retaken safely; `sending` has been handed over, so it is never sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Status {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "claimed")]
    Claimed,
    #[sea_orm(string_value = "sending")]
    Sending,
    #[sea_orm(string_value = "accepted")]
    Accepted,
    #[sea_orm(string_value = "delivered")]
    Delivered,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

impl Status {
    /// The stored name, for output.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Claimed => "claimed",
            Self::Sending => "sending",
            Self::Accepted => "accepted",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbound_message")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub channel: Channel,
    pub purpose: Purpose,
    pub status: Status,
    pub branch_code: String,
    pub volunteer_id: Option<Uuid>,
    /// Ciphertext of the E.164 phone, bound to this row.
    pub recipient_phone: Option<Vec<u8>>,
    /// Blind index of the phone: receipts, replies, caps and opt-outs find messages by it.
    pub recipient_phone_index: Option<Vec<u8>>,
    pub template_key: String,
    pub locale: String,
    /// Ciphertext of the template variables as JSON: they can hold a code or a name.
    pub variables: Vec<u8>,
    /// SMS segments as the gateways bill them, counted when queued.
    pub segments: i32,
    #[sea_orm(unique)]
    pub dedupe_key: String,
    pub campaign_id: Option<Uuid>,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTimeUtc>,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    /// The provider's error code or our reason; never personal data.
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
