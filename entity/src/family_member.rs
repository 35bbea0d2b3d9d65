//! A family member who knows of the registration, and where they stand on it: the coordinator
//! reads this at match time, when family opposition is the leading cause of regret.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "family_member")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub volunteer_id: Uuid,
    pub relationship: String,
    /// Ciphertext of the name, when given.
    pub name: Option<Vec<u8>>,
    /// Ciphertext of a phone in E.164, when given (for an information pack by SMS).
    pub phone: Option<Vec<u8>>,
    /// `supportive`, `undecided` or `opposed`.
    pub stance: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
