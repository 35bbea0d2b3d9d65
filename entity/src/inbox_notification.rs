//! A volunteer's in-app notification, delivered from the outbox.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_notification")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub volunteer_id: Uuid,
    #[sea_orm(unique)]
    pub message_id: Uuid,
    pub template_key: String,
    /// Ciphertext of the rendered text, bound to this row.
    pub body: Vec<u8>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
