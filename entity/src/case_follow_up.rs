//! A check-up after collection, due on a date, with the donor's answers.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_follow_up")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub volunteer_id: Uuid,
    pub branch_code: String,
    /// `day_2`, `week_1`, `month_1`, `month_6`, `year_1` … `year_10`.
    pub checkpoint: String,
    pub due_on: Date,
    pub reminded_at: Option<DateTimeUtc>,
    pub answered_at: Option<DateTimeUtc>,
    /// Ciphertext of the questionnaire's answers (JSON), bound to this row: health data.
    pub answers: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
