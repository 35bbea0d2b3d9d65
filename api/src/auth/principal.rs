//! Who is acting on a request.

pub use entity::staff_account::StaffRole;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// The branches a staff capability reaches: national roles reach all, branch roles their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BranchScope {
    All,
    Branch(String),
}

impl BranchScope {
    #[must_use]
    pub fn admits(&self, branch_code: &str) -> bool {
        match self {
            Self::All => true,
            Self::Branch(own) => own == branch_code,
        }
    }

    /// The branch a read covers when `asked` for one: the caller's own for branch roles, the one
    /// named (or every branch, `None`) for national roles.
    ///
    /// # Errors
    /// FORBIDDEN when a branch role names another branch.
    pub fn branch_read(&self, asked: Option<&str>) -> AppResult<Option<String>> {
        match (self, asked) {
            (Self::All, asked) => Ok(asked.map(str::to_owned)),
            (Self::Branch(own), Some(asked)) if asked != own => Err(AppError::Forbidden),
            (Self::Branch(own), _) => Ok(Some(own.clone())),
        }
    }
}

/// The mark of a capability built by a check of this file. It is private, so no other module
/// can write a capability's literal: a service that takes one was reached through its check.
#[derive(Clone, Copy, Debug)]
struct Checked;

/// Proof that the caller may read volunteer records, masked, within `scope`.
#[derive(Clone, Debug)]
pub struct VolunteerReader {
    pub scope: BranchScope,
    /// Private: only the checks in this file build a capability.
    _checked: Checked,
}

/// Proof that the caller may unmask a volunteer's personal data within `scope`, for a purpose.
#[derive(Clone, Debug)]
pub struct Unmasker {
    pub scope: BranchScope,
    /// Private: only the checks in this file build a capability.
    _checked: Checked,
}

/// Proof that the caller may decide about volunteer records within `scope`: set a status,
/// correct identity data, approve an export. National administrators and branch coordinators.
#[derive(Clone, Debug)]
pub struct Coordinator {
    pub scope: BranchScope,
    /// Private: only the checks in this file build a capability.
    _checked: Checked,
}

impl Coordinator {
    /// Whoever decides about records may read them.
    #[must_use]
    pub fn reader(&self) -> VolunteerReader {
        VolunteerReader { scope: self.scope.clone(), _checked: Checked }
    }
}

/// Proof that the caller is a volunteer acting on their own record: only
/// [`Principal::own_record`] makes one, from the volunteer's own token.
#[derive(Clone, Debug)]
pub struct OwnRecord {
    pub id: Uuid,
    /// Private: only the checks in this file build a capability.
    _checked: Checked,
}

/// Proof that the caller may enrol volunteers recruited offline within `scope`.
#[derive(Clone, Debug)]
pub struct Enroller {
    pub scope: BranchScope,
    /// Private: only the checks in this file build a capability.
    _checked: Checked,
}

impl Enroller {
    /// Whoever may enrol a volunteer may read the record they made.
    #[must_use]
    pub fn reader(&self) -> VolunteerReader {
        VolunteerReader { scope: self.scope.clone(), _checked: Checked }
    }
}

/// Proof that the caller is a national administrator: only [`Principal::national_admin`]
/// makes one, so a service that takes it cannot be reached by anyone else.
#[derive(Clone, Debug)]
pub struct NationalAdmin {
    pub id: Uuid,
    /// Private: only the checks in this file build a capability.
    _checked: Checked,
}

/// Proof that the caller is a partner hospital's system: only [`Principal::partner_hospital`]
/// makes one, and it acts for that hospital alone.
#[derive(Clone, Debug)]
pub struct PartnerHospital {
    pub id: Uuid,
    /// Private: only the checks in this file build a capability.
    _checked: Checked,
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
            Self::Staff { id, role: StaffRole::NationalAdmin, .. } => Ok(NationalAdmin { id: *id, _checked: Checked }),
            _ => Err(self.refusal()),
        }
    }

    /// The partner-hospital capability, or this caller's refusal.
    ///
    /// # Errors
    /// Any caller that is not a hospital's system.
    pub fn partner_hospital(&self) -> AppResult<PartnerHospital> {
        match self {
            Self::Hospital { id, .. } => Ok(PartnerHospital { id: *id, _checked: Checked }),
            _ => Err(self.refusal()),
        }
    }

    /// The capability to read volunteer records (masked): national administrators anywhere,
    /// coordinators and recruiters in their branch.
    ///
    /// # Errors
    /// Any other caller.
    pub fn volunteer_reader(&self) -> AppResult<VolunteerReader> {
        self.staff_scope(|role| role != StaffRole::Auditor)
            .map(|scope| VolunteerReader { scope, _checked: Checked })
            .ok_or(self.refusal())
    }

    /// The signed-in volunteer's own record.
    ///
    /// # Errors
    /// Any caller that is not a volunteer.
    pub fn own_record(&self) -> AppResult<OwnRecord> {
        match self {
            Self::Volunteer { id } => Ok(OwnRecord { id: *id, _checked: Checked }),
            _ => Err(self.refusal()),
        }
    }

    /// The capability to enrol offline recruits: the roles that read volunteer records.
    ///
    /// # Errors
    /// Any other caller.
    pub fn enroller(&self) -> AppResult<Enroller> {
        self.volunteer_reader().map(|reader| Enroller { scope: reader.scope, _checked: Checked })
    }

    /// Whether the caller may read this volunteer's record: the volunteer themselves, or staff
    /// who read volunteer records in its branch.
    #[must_use]
    pub fn may_read_volunteer(&self, id: Uuid, branch_code: &str) -> bool {
        match self {
            Self::Volunteer { id: own } => *own == id,
            _ => self.volunteer_reader().is_ok_and(|reader| reader.scope.admits(branch_code)),
        }
    }

    /// The capability to unmask personal data: the roles [`StaffRole::may_unmask`] names.
    ///
    /// # Errors
    /// Any other caller, recruiters and auditors included.
    pub fn unmasker(&self) -> AppResult<Unmasker> {
        self.staff_scope(StaffRole::may_unmask).map(|scope| Unmasker { scope, _checked: Checked }).ok_or(self.refusal())
    }

    /// The coordinator capability: national administrators anywhere, branch coordinators in
    /// their branch.
    ///
    /// # Errors
    /// Any other caller, recruiters and auditors included.
    pub fn coordinator(&self) -> AppResult<Coordinator> {
        self.staff_scope(|role| matches!(role, StaffRole::NationalAdmin | StaffRole::BranchCoordinator))
            .map(|scope| Coordinator { scope, _checked: Checked })
            .ok_or(self.refusal())
    }

    /// The reach of a staff caller whose role `allowed` accepts.
    fn staff_scope(&self, allowed: impl Fn(StaffRole) -> bool) -> Option<BranchScope> {
        match self {
            Self::Staff { role, branch, .. } if allowed(*role) => Some(if *role == StaffRole::NationalAdmin {
                BranchScope::All
            } else {
                BranchScope::Branch(branch.clone())
            }),
            _ => None,
        }
    }

    /// How to refuse this caller something it may not do: UNAUTHENTICATED when anonymous (it
    /// may be allowed once signed in), FORBIDDEN otherwise.
    #[must_use]
    pub fn refusal(&self) -> AppError {
        if *self == Self::Anonymous { AppError::Unauthenticated } else { AppError::Forbidden }
    }
}
