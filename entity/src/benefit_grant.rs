//! A rule version that a case's collection granted: relatives the donor names later are
//! granted under it, whatever the rule says by then.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "benefit_grant")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub volunteer_id: Uuid,
    pub branch_code: String,
    /// The `benefit_rule` row: one version.
    pub rule_id: Uuid,
    /// The volume collected, when recorded.
    pub donated_ml: Option<i32>,
    pub collected_on: Date,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
