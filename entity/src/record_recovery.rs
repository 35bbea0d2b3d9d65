//! A volunteer with a new phone reclaiming their record: opened when name and ID number match,
//! completed when a code sent to the old phone or a backup contact is read back.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "record_recovery")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub volunteer_id: Uuid,
    /// The phone the recovery came from, proven by its sign-in code; sealed.
    pub new_phone: Vec<u8>,
    pub new_phone_index: Vec<u8>,
    /// The contact the code went to: the old primary phone's contact row or a backup contact.
    pub destination_id: Option<Uuid>,
    pub destination_phone_index: Option<Vec<u8>>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
