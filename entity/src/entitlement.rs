//! One holder's entitlement under one grant: the donor's own, or a relative's the donor named.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "entitlement")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub grant_id: Uuid,
    /// The donor.
    pub volunteer_id: Uuid,
    pub case_id: Uuid,
    pub branch_code: String,
    /// The rule version granted.
    pub rule_id: Uuid,
    /// `donor`, `spouse`, `parent`, `child` or `sibling`.
    pub holder: String,
    /// The family member the donor named; none for the donor.
    pub family_member_id: Option<Uuid>,
    /// Ciphertext of the holder's name.
    pub holder_name: Vec<u8>,
    /// Ciphertext of the holder's ID number.
    pub holder_national_id: Vec<u8>,
    /// Blind index of the holder's ID number, which a hospital's check must match.
    pub holder_id_index: Vec<u8>,
    /// The rule's kind, as granted.
    pub kind: String,
    pub granted_ml: Option<i32>,
    pub remaining_ml: Option<i32>,
    pub granted_uses: Option<i32>,
    pub remaining_uses: Option<i32>,
    /// Priority without a limit on volume or uses.
    pub unlimited: bool,
    pub starts_on: Date,
    /// None for life.
    pub expires_on: Option<Date>,
    /// Ciphertext of the redemption code, which the donor shows again.
    pub code: Vec<u8>,
    /// Blind index of the redemption code, the hospital's lookup.
    pub code_index: Vec<u8>,
    /// `active` or `revoked`.
    pub status: String,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_by: Option<Uuid>,
    /// Ciphertext of the staff member's reason.
    pub revoke_reason: Option<Vec<u8>>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
