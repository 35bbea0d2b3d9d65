//! A staff export of a search result. Beyond a small size it waits for a second staff
//! member's approval; every download is audited.

use sea_orm::entity::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum ExportStatus {
    #[sea_orm(string_value = "awaiting_approval")]
    AwaitingApproval,
    #[sea_orm(string_value = "approved")]
    Approved,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "volunteer_export")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The branch it reads; none for a national export.
    pub branch_code: Option<String>,
    /// JSON of the search filter; never an exact personal value.
    pub filter: String,
    pub purpose: String,
    /// Rows the filter matched when asked.
    pub rows: i32,
    pub status: ExportStatus,
    pub requested_by: Uuid,
    pub requested_at: DateTimeUtc,
    pub approved_by: Option<Uuid>,
    pub approved_at: Option<DateTimeUtc>,
    /// After this it can be neither approved nor downloaded.
    pub expires_at: DateTimeUtc,
    pub downloads: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
