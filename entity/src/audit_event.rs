//! One row of the append-only audit trail. The database refuses UPDATE and DELETE on it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    /// `staff`, `volunteer`, `hospital` or `system`.
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub actor_branch: Option<String>,
    /// What happened, e.g. `staff.sign_in` or `refresh_token.reuse`.
    pub action: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<Uuid>,
    /// For an unmasking: which field.
    pub field: Option<String>,
    /// For an unmasking: the stated purpose.
    pub purpose: Option<String>,
    pub request_id: Option<String>,
    /// A short note without personal data.
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
