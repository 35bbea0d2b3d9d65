//! A relative or friend staff may call when the volunteer cannot be reached.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_contact")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub volunteer_id: Uuid,
    /// Ciphertext of the contact's name, bound to this row.
    pub name: Vec<u8>,
    /// How they relate to the volunteer (`parent`, `spouse`, `friend`, …).
    pub relationship: String,
    /// Ciphertext of the phone in E.164, bound to this row.
    pub phone: Vec<u8>,
    pub phone_index: Vec<u8>,
    /// When the one-time message explaining why they are listed was queued.
    pub informed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
