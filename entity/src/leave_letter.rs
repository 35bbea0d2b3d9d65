//! A leave letter for a donor's employer. What it was rendered from is sealed in `facts`, with
//! its digest; the PDF is rendered again from them and never stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "leave_letter")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub volunteer_id: Uuid,
    pub branch_code: String,
    /// JSON list of `{purpose, from, to}`: what the public check shows. Names no one.
    #[sea_orm(column_type = "Text")]
    pub periods: String,
    pub first_day: Date,
    pub last_day: Date,
    /// `zh-CN`, `en` or `both`.
    pub language: String,
    /// Ciphertext of the facts' JSON, bound to this row.
    pub facts: Vec<u8>,
    /// Hex SHA-256 of the facts' JSON.
    pub digest: String,
    /// Blind index of the verification code.
    pub code_index: Vec<u8>,
    /// `valid`, `revoked` or `superseded`.
    pub status: String,
    pub superseded_by: Option<Uuid>,
    pub issued_at: DateTimeUtc,
    /// The staff account that issued it; none when the donor asked from the app.
    pub issued_by: Option<Uuid>,
    pub revoked_at: Option<DateTimeUtc>,
    /// The staff account that revoked it; none when the donor did.
    pub revoked_by: Option<Uuid>,
    pub check_count: i32,
    pub last_checked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
