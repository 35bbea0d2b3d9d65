//! One attempt by staff to reach a volunteer, with its outcome.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_attempt")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub volunteer_id: Uuid,
    pub branch_code: String,
    /// The staff account that made it.
    pub staff_id: Uuid,
    /// `phone_call`, `sms`, `wechat`, `letter`, `visit` or `backup_contact`.
    pub channel: String,
    /// `reached`, `no_answer`, `wrong_number`, `not_in_service`, `refused` or `call_later`.
    pub outcome: String,
    /// Which of the volunteer's contacts was tried, when one of theirs.
    pub contact_kind: Option<String>,
    /// Ciphertext of staff's note, bound to this row: notes name people and places.
    pub note: Option<Vec<u8>>,
    pub attempted_at: DateTimeUtc,
    /// The donation case the attempt was for, when one was.
    pub case_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
