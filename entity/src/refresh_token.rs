//! An opaque refresh token, stored as a hash, in a family that rotation extends.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_token")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Every token rotated from one sign-in shares it; reuse of a rotated token revokes it.
    pub family_id: Uuid,
    /// `volunteer`, `staff` or `hospital`.
    pub subject_kind: String,
    pub subject_id: Uuid,
    /// SHA-256 of the token: the token itself is never stored.
    #[sea_orm(unique)]
    pub token_hash: Vec<u8>,
    pub expires_at: DateTimeUtc,
    pub rotated_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
