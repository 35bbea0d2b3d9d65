//! How many days a stage of a donation case may wait for its next step, per branch.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_stage_deadline")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub branch_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub stage: String,
    pub response_days: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
