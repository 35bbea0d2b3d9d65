//! A phone that opted out of non-essential messages, by its blind index.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messaging_opt_out")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub phone_index: Vec<u8>,
    /// `reply_td` or `profile`.
    pub source: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
