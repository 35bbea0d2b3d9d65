//! A registry staff member's account.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_account")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub role: StaffRole,
    pub branch_code: String,
    /// Ciphertext of the TOTP secret, bound to this row.
    pub totp_secret: Option<Vec<u8>>,
    /// The last TOTP time step accepted: a code is good once (RFC 6238 §5.2).
    pub totp_last_step: Option<i64>,
    /// Bumped by a password change, a disable or a second-factor reset: sessions of older
    /// versions end at once.
    pub credential_version: i32,
    pub disabled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// The roles of registry staff, stored by these names. Branch roles act only within their
/// branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Manages branches and staff across the country.
    #[sea_orm(string_value = "national_admin")]
    NationalAdmin,
    /// Moves donation cases forward and may unmask personal data for a stated purpose.
    #[sea_orm(string_value = "branch_coordinator")]
    BranchCoordinator,
    /// Finds and reaches volunteers; sees personal data masked.
    #[sea_orm(string_value = "branch_recruiter")]
    BranchRecruiter,
    /// Reads the audit trail.
    #[sea_orm(string_value = "auditor")]
    Auditor,
}

impl StaffRole {
    pub const ALL: [Self; 4] = [Self::NationalAdmin, Self::BranchCoordinator, Self::BranchRecruiter, Self::Auditor];

    /// The stored name, which tokens and audit rows carry too.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NationalAdmin => "national_admin",
            Self::BranchCoordinator => "branch_coordinator",
            Self::BranchRecruiter => "branch_recruiter",
            Self::Auditor => "auditor",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// Whether the role may see personal data in clear, for a stated purpose. These roles sign
    /// in with a second factor.
    #[must_use]
    pub const fn may_unmask(self) -> bool {
        matches!(self, Self::NationalAdmin | Self::BranchCoordinator)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
