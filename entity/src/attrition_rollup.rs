//! A branch's attrition figures for one month: the latest snapshot the job took in that month.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attrition_rollup")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub branch_code: String,
    /// The first day of the month.
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: Date,
    /// Volunteers on the register (every status; withdrawn ones are tombstones).
    pub volunteers: i32,
    pub pending: i32,
    pub available: i32,
    /// TU, for any reason.
    pub unavailable: i32,
    /// TU with reason UC: lost.
    pub lost: i32,
    /// RS or OP.
    pub reserved: i32,
    /// Confirmed within the last 12 months.
    pub reachable: i32,
    /// Withdrawals (DE) during the month.
    pub withdrawn: i32,
    /// Recipients of campaigns launched during the month, and their answers.
    pub campaign_recipients: i32,
    pub campaign_replies: i32,
    pub still_willing: i32,
    pub paused: i32,
    pub opted_out: i32,
    pub computed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
