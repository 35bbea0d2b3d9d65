//! Who is acting on a request.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// The roles of registry staff. Branch roles act only within their branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Manages branches and staff across the country.
    NationalAdmin,
    /// Moves donation cases forward and may unmask personal data for a stated purpose.
    BranchCoordinator,
    /// Finds and reaches volunteers; sees personal data masked.
    BranchRecruiter,
    /// Reads the audit trail.
    Auditor,
}

impl StaffRole {
    pub const ALL: [Self; 4] = [Self::NationalAdmin, Self::BranchCoordinator, Self::BranchRecruiter, Self::Auditor];

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
}

/// Proof that the caller is a national administrator: only [`Principal::national_admin`]
/// makes one, so a service that takes it cannot be reached by anyone else.
#[derive(Clone, Debug)]
pub struct NationalAdmin {
    pub id: Uuid,
}

/// The caller, as established by the HTTP handler from its bearer token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Principal {
    #[default]
    Anonymous,
    Volunteer {
        id: Uuid,
    },
    Staff {
        id: Uuid,
        role: StaffRole,
        /// The staff member's branch (GB/T 2260 code); national roles act beyond it.
        branch: String,
    },
    /// A partner hospital's system, acting through client credentials.
    Hospital {
        id: Uuid,
        branch: String,
    },
}

impl Principal {
    /// The national-administrator capability, or this caller's refusal.
    ///
    /// # Errors
    /// Any caller that is not a national administrator.
    pub fn national_admin(&self) -> AppResult<NationalAdmin> {
        match self {
            Self::Staff { id, role: StaffRole::NationalAdmin, .. } => Ok(NationalAdmin { id: *id }),
            _ => Err(self.refusal()),
        }
    }

    /// How to refuse this caller something it may not do: UNAUTHENTICATED when anonymous (it
    /// may be allowed once signed in), FORBIDDEN otherwise.
    #[must_use]
    pub fn refusal(&self) -> AppError {
        if *self == Self::Anonymous { AppError::Unauthenticated } else { AppError::Forbidden }
    }
}
