//! Volunteers reconnected, per branch, month and path: the retention programme's outcome.

use sea_orm::entity::prelude::*;

/// How a volunteer was reconnected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum ReconnectionPath {
    /// By themselves: a code to their old phone, or their ID number after losing the SIM.
    #[sea_orm(string_value = "self_service")]
    SelfService,
    /// Through a backup contact who read them the code.
    #[sea_orm(string_value = "backup_contact")]
    BackupContact,
    /// Staff recorded the new number, confirmed by code.
    #[sea_orm(string_value = "staff")]
    Staff,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reconnection_count")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub branch_code: String,
    /// The first day of the month, Beijing time.
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub path: ReconnectionPath,
    pub reconnected: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
