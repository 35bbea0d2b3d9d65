//! A mobile-originated SMS (a volunteer's reply), kept for its handler and for staff.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbound_reply")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub provider: String,
    /// Derived from the callback's content: a repeated callback finds its first copy.
    #[sea_orm(unique)]
    pub dedupe_key: String,
    pub phone: Vec<u8>,
    pub phone_index: Vec<u8>,
    pub body: Vec<u8>,
    pub received_at: DateTimeUtc,
    /// What the reply handler made of it: `opt_out`, `unmatched`, …
    pub handled_as: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
