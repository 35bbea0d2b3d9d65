//! One change of a volunteer's donor status: what it became, who changed it and why. Staff read
//! the history on the record; it goes with the record when the record is erased.

use sea_orm::entity::prelude::*;

use crate::volunteer::{DonorStatus, StatusReason};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "volunteer_status_change")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub volunteer_id: Uuid,
    pub status: DonorStatus,
    pub reason: Option<StatusReason>,
    pub until: Option<Date>,
    pub changed_at: DateTimeUtc,
    /// `volunteer`, `staff`, `hospital` or `system` (a scheduled job, a reply to an SMS).
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    /// What made the change: `volunteer.pause`, `staff.set_status`, `reply.pause`, `job.pause_lapsed`…
    pub source: String,
    /// Ciphertext of staff's note, bound to this row.
    pub note: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
