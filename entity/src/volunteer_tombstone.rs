//! What stays of a volunteer who withdrew after cooling-off: DE, the reason and the date, for
//! attrition figures. No personal data.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "volunteer_tombstone")]
pub struct Model {
    /// The former volunteer's id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub branch_code: String,
    /// The EMDIS reason recorded with DE.
    pub status_reason: super::volunteer::StatusReason,
    /// Why they left, as they said: `family`, `work`, `health`, `fear`, `moved`, `personal`, `other`.
    pub withdrawal_cause: String,
    pub registered_at: DateTimeUtc,
    pub withdrawn_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
