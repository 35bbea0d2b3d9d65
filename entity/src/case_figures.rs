//! The donation-case figures of one month, per branch (`00`: the whole country), as the rollup
//! job computed them: a JSON document the service reads whole.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_figures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub branch_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: Date,
    pub figures: String,
    pub computed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
