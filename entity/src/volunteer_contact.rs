//! A way to reach a volunteer. A change ends the current row and starts a new one, so the
//! history of numbers stays, each with its end date, for staff tracing a lost contact.

use sea_orm::entity::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum ContactKind {
    /// The verified mobile the volunteer signs in with.
    #[sea_orm(string_value = "primary_phone")]
    PrimaryPhone,
    #[sea_orm(string_value = "secondary_phone")]
    SecondaryPhone,
    #[sea_orm(string_value = "email")]
    Email,
    #[sea_orm(string_value = "postal_address")]
    PostalAddress,
    #[sea_orm(string_value = "wechat")]
    Wechat,
    /// A number staff learned from someone else (a backup contact, a visit): used to reach the
    /// volunteer, unverified, and the sign-in number only once a code to it is read back.
    #[sea_orm(string_value = "reported_phone")]
    ReportedPhone,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "volunteer_contact")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub volunteer_id: Uuid,
    pub kind: ContactKind,
    /// Ciphertext of the value (a phone in E.164, an address, …), bound to this row.
    pub value: Vec<u8>,
    /// Blind index, for the kinds looked up exactly (phones, email).
    pub value_index: Option<Vec<u8>>,
    pub verified_at: Option<DateTimeUtc>,
    pub started_at: DateTimeUtc,
    /// Set when replaced; the row stays as history.
    pub ended_at: Option<DateTimeUtc>,
    /// Set when staff found it wrong or out of service; a new value replaces the row.
    pub invalid_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::volunteer::Entity",
        from = "Column::VolunteerId",
        to = "super::volunteer::Column::Id",
        on_delete = "Cascade"
    )]
    Volunteer,
}

impl Related<super::volunteer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Volunteer.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
