use async_graphql::{Enum, ID, SimpleObject};

use crate::service;

/// A signed-in session.
#[derive(Debug, SimpleObject)]
pub struct Session {
    /// Send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    /// Keep secret; exchange it for a new session before the access token expires. Each one
    /// works once.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

impl From<service::Session> for Session {
    fn from(session: service::Session) -> Self {
        Self {
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            expires_in: session.expires_in_secs,
        }
    }
}

/// A staff account just created.
#[derive(Debug, SimpleObject)]
pub struct CreatedStaffAccount {
    pub id: ID,
    /// For roles that need a second factor: the `otpauth://` URI to scan, shown this once.
    pub totp_uri: Option<String>,
}

impl From<service::CreatedStaff> for CreatedStaffAccount {
    fn from(created: service::CreatedStaff) -> Self {
        Self { id: ID(created.id.to_string()), totp_uri: created.totp_uri }
    }
}

/// The roles of registry staff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum StaffRole {
    NationalAdmin,
    BranchCoordinator,
    BranchRecruiter,
    Auditor,
}

impl From<StaffRole> for service::StaffRole {
    fn from(role: StaffRole) -> Self {
        match role {
            StaffRole::NationalAdmin => Self::NationalAdmin,
            StaffRole::BranchCoordinator => Self::BranchCoordinator,
            StaffRole::BranchRecruiter => Self::BranchRecruiter,
            StaffRole::Auditor => Self::Auditor,
        }
    }
}
