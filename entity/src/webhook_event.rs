//! What the registry told a hospital's system: the exact body it signs.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_event")]
pub struct Model {
    /// Sent as `webhook-id` (`msg_` and this id): the receiver's key for dropping duplicates.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub hospital_id: Uuid,
    /// `admission.requested`, `admission.changed`, `admission.cancelled`, `case.ended`.
    pub event_type: String,
    /// The JSON body, as signed. It names records, never people.
    pub payload: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
