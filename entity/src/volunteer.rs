//! A registered volunteer: one person, one registration (the national-ID blind index is unique).

use sea_orm::entity::prelude::*;

/// The EMDIS/WMDA donor status, plus `pending` for a volunteer whose sample is not yet
/// recorded. Stored as the EMDIS code, so exports need no mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum DonorStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "AV")]
    Available,
    /// Has an end date and a reason.
    #[sea_orm(string_value = "TU")]
    TemporarilyUnavailable,
    #[sea_orm(string_value = "RS")]
    ReservedForThisPatient,
    #[sea_orm(string_value = "OP")]
    ReservedForAnotherPatient,
    /// Removed; there is no "permanently unavailable", only DE and a reason.
    #[sea_orm(string_value = "DE")]
    Deleted,
}

/// The EMDIS status reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum StatusReason {
    #[sea_orm(string_value = "DO")]
    TooOld,
    #[sea_orm(string_value = "DD")]
    Died,
    #[sea_orm(string_value = "MR")]
    Medical,
    #[sea_orm(string_value = "PR")]
    Personal,
    #[sea_orm(string_value = "TX")]
    AfterTransplantation,
    #[sea_orm(string_value = "MO")]
    Moved,
    #[sea_orm(string_value = "UC")]
    UnableToContact,
    #[sea_orm(string_value = "OT")]
    Other,
    #[sea_orm(string_value = "UK")]
    Unknown,
}

/// Derived from the national ID's sequence digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Sex {
    #[sea_orm(string_value = "female")]
    Female,
    #[sea_orm(string_value = "male")]
    Male,
}

/// How finely the volunteer's HLA is typed. Volunteers see only whether they are typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum HlaResolution {
    #[sea_orm(string_value = "untyped")]
    Untyped,
    #[sea_orm(string_value = "low")]
    Low,
    #[sea_orm(string_value = "intermediate")]
    Intermediate,
    #[sea_orm(string_value = "high")]
    High,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "volunteer")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub branch_code: String,
    pub status: DonorStatus,
    pub status_reason: Option<StatusReason>,
    /// The end of a TU status.
    pub status_until: Option<Date>,
    pub status_changed_at: DateTimeUtc,
    /// Ciphertext of the full name.
    pub name: Vec<u8>,
    /// Blind index of the normalised name, for exact search.
    pub name_index: Vec<u8>,
    /// Ciphertext of the 18-character resident ID.
    pub national_id: Vec<u8>,
    #[sea_orm(unique)]
    pub national_id_index: Vec<u8>,
    /// Derived from the national ID; kept in clear for eligibility by age.
    pub birth_date: Date,
    pub sex: Sex,
    /// `A`, `B`, `O` or `AB`, when known.
    pub blood_abo: Option<String>,
    /// `positive` or `negative`, when known.
    pub blood_rh: Option<String>,
    pub hla_resolution: HlaResolution,
    pub occupation: Option<String>,
    /// Ciphertext of the employer's name.
    pub employer: Option<Vec<u8>>,
    pub consent_version: String,
    /// The separate consent to processing health data (PIPL art. 28-29).
    pub health_consent_at: DateTimeUtc,
    pub registered_at: DateTimeUtc,
    /// Until then, a withdrawal purges the record completely.
    pub cooling_off_until: DateTimeUtc,
    /// When the volunteer last confirmed their contacts and willingness.
    pub last_confirmed_at: DateTimeUtc,
    /// Bumped when the volunteer's sessions must end.
    pub credential_version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The city the volunteer gave at enrolment (the province sets the branch).
    pub city: Option<String>,
    /// The latest sign-in by code: a phone change needs a recent one.
    pub last_sign_in_at: Option<DateTimeUtc>,
    /// Ciphertext of a name correction awaiting staff review.
    pub pending_name: Option<Vec<u8>>,
    pub pending_name_at: Option<DateTimeUtc>,
    /// Non-essential messages (tips, reminders) by SMS; mirrored as an opt-out of the phone.
    pub sms_non_essential: bool,
    /// Non-essential messages in the app's notification list.
    pub inbox_non_essential: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::volunteer_contact::Entity")]
    Contact,
}

impl Related<super::volunteer_contact::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Contact.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
