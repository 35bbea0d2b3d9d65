//! Who is acting on a request.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
