//! A provincial branch of the registry, keyed by its GB/T 2260 province code.

use sea_orm::entity::prelude::*;

/// The branch's code is its primary key: it is a national standard that never changes, and every
/// later table (volunteers, staff, hospitals, benefit rules) is scoped by it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "branch")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
