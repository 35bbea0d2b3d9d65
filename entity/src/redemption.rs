//! What a hospital redeemed of an entitlement. It names no one; the proof of relationship the
//! hospital saw is recorded by its type, never as a copy.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "redemption")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub entitlement_id: Uuid,
    pub hospital_id: Uuid,
    pub branch_code: String,
    pub volume_ml: Option<i32>,
    pub uses: Option<i32>,
    /// `donation_certificate`, `household_register`, `marriage_certificate`,
    /// `birth_certificate` or `other`.
    pub proof: String,
    /// The balance after this redemption.
    pub remaining_ml: Option<i32>,
    pub remaining_uses: Option<i32>,
    pub redeemed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
