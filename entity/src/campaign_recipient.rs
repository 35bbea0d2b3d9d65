//! One volunteer a campaign reaches and their answer. Their messages are the outbox rows of
//! this campaign and volunteer, queued once the campaign's `queued_through` reaches them.

use sea_orm::entity::prelude::*;

/// What a recipient answered, in the words of the recommitment SMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum CampaignResponse {
    /// Replied `1`.
    #[sea_orm(string_value = "still_willing")]
    StillWilling,
    /// Replied `2`.
    #[sea_orm(string_value = "pause")]
    Pause,
    /// Replied `TD`.
    #[sea_orm(string_value = "opted_out")]
    OptedOut,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_recipient")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub volunteer_id: Uuid,
    pub branch_code: String,
    pub response: Option<CampaignResponse>,
    pub responded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
