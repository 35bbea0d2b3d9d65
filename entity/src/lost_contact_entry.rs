//! A volunteer in the lost-contact work queue, kept current by the daily job.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lost_contact_entry")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub volunteer_id: Uuid,
    pub branch_code: String,
    /// Why they are in the queue, as bits: 1 stale contact, 2 a failed message, 4 no answer to a campaign.
    pub reasons: i32,
    /// Higher first: typed and in-demand volunteers are worth the most effort.
    pub priority: i32,
    pub entered_at: DateTimeUtc,
    /// The daily run that last found them qualifying.
    pub refreshed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
