//! A family concern or a question on a donation case, raised by the coordinator or by the donor
//! in the app, with the family session booked for it and how it was resolved.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_request")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub volunteer_id: Uuid,
    pub branch_code: String,
    /// `family_concern` or `question`.
    pub kind: String,
    /// `volunteer` or `staff`.
    pub raised_by: String,
    /// Ciphertext of what was said, bound to this row.
    pub detail: Option<Vec<u8>>,
    pub raised_at: DateTimeUtc,
    /// The family session's date, once booked.
    pub session_on: Option<Date>,
    /// Ciphertext of who attends the session.
    pub session_attendees: Option<Vec<u8>>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by: Option<Uuid>,
    /// Ciphertext of the outcome the coordinator recorded.
    pub outcome: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
