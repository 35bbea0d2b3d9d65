//! Who is calling: the principal and the capabilities only it can grant, access tokens, their
//! verification, and the keys partners verify them with.
//!
//! Access tokens are short-lived JWTs signed with Ed25519 (`EdDSA`, pinned: no other algorithm
//! is ever accepted), typed `at+jwt` (RFC 9068) so that no other token can pass for one, and
//! checked for `exp`, `nbf`, `iss`, `aud` and `sub` with 30 seconds of leeway. The public key is
//! published as a JWKS so that partner hospitals can verify the tokens they hold.

mod principal;
mod tokens;

pub use principal::{
    BranchScope, Coordinator, Enroller, NationalAdmin, OwnRecord, PartnerHospital, Principal, StaffRole, Unmasker,
    VolunteerReader,
};
pub use tokens::{AccessClaims, TokenError, Tokens, Verified};
