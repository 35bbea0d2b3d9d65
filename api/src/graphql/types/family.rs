//! The family around a volunteer, their data-access log, and coordinators' alerts.

use async_graphql::{Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};

use super::contact::Relationship;
use crate::domain;
use crate::service::alerts::StaffAlertView;
use crate::service::volunteer as service;

/// A family member who knows of the registration; masked.
#[derive(Debug, SimpleObject)]
pub struct FamilyMember {
    pub id: ID,
    pub relationship: Relationship,
    /// Masked; null when not given.
    pub name: Option<String>,
    /// Masked; null when not given.
    pub phone: Option<String>,
    pub stance: Stance,
    pub updated_at: DateTime<Utc>,
}

impl From<service::FamilyMemberView> for FamilyMember {
    fn from(view: service::FamilyMemberView) -> Self {
        Self {
            id: ID(view.id.to_string()),
            relationship: view.relationship.into(),
            name: view.name,
            phone: view.phone,
            stance: view.stance.into(),
            updated_at: view.updated_at,
        }
    }
}

/// A family member to record. Name and phone are optional; a phone lets the registry send them
/// the information pack.
#[derive(Debug, InputObject)]
pub struct FamilyMemberInput {
    pub relationship: Relationship,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub stance: Stance,
}

/// Where a family member stands on the registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum Stance {
    Supportive,
    Undecided,
    Opposed,
}

impl From<domain::Stance> for Stance {
    fn from(stance: domain::Stance) -> Self {
        match stance {
            domain::Stance::Supportive => Self::Supportive,
            domain::Stance::Undecided => Self::Undecided,
            domain::Stance::Opposed => Self::Opposed,
        }
    }
}

impl From<Stance> for domain::Stance {
    fn from(stance: Stance) -> Self {
        match stance {
            Stance::Supportive => Self::Supportive,
            Stance::Undecided => Self::Undecided,
            Stance::Opposed => Self::Opposed,
        }
    }
}

/// How the family information pack reaches the family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum InfoPackChannel {
    /// An SMS with a link, to a recorded family member's phone.
    Sms,
    /// A call from branch staff.
    StaffCall,
}

/// One look at the volunteer's data in clear: by which role, when, which field, and why.
#[derive(Debug, SimpleObject)]
pub struct DataAccess {
    pub at: DateTime<Utc>,
    /// `national_admin` or `branch_coordinator`; never a name.
    pub role: String,
    pub field: String,
    pub purpose: String,
}

impl From<service::DataAccess> for DataAccess {
    fn from(access: service::DataAccess) -> Self {
        Self { at: access.at, role: access.role, field: access.field, purpose: access.purpose }
    }
}

/// Something a coordinator must act on, raised from the app or by background work.
#[derive(Debug, SimpleObject)]
pub struct StaffAlert {
    pub id: ID,
    pub branch_code: String,
    pub volunteer_id: Option<ID>,
    /// `withdrawal_during_case`: a volunteer reserved for a patient tried to withdraw; call
    /// them. `family_call_requested`: the volunteer asked staff to talk to their family.
    /// `job_failed`: background work for the branch (a campaign launch) failed for good.
    /// `recovery_call_back`: a volunteer reclaiming their record from a new phone asked to be
    /// called; the number is on the record as `REPORTED_PHONE` (unmask it to call).
    /// Donation cases: `case_stale_contact` (a case opened on a stale contact),
    /// `case_stage_overdue`, `late_regret` (the donor backed out after clearance),
    /// `case_question` and `case_family_concern` (from the donor's app),
    /// `case_donor_reconnected` (the donor has a new number), `case_second_request` (another
    /// search hit on a volunteer already in a case).
    pub kind: String,
    /// Act at once: a patient may already be in conditioning (`late_regret`,
    /// `withdrawal_during_case`).
    pub urgent: bool,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<StaffAlertView> for StaffAlert {
    fn from(view: StaffAlertView) -> Self {
        Self {
            id: ID(view.id.to_string()),
            branch_code: view.branch_code,
            volunteer_id: view.volunteer_id.map(|id| ID(id.to_string())),
            urgent: crate::service::alerts::AlertKind::is_urgent(&view.kind),
            kind: view.kind,
            created_at: view.created_at,
            resolved_at: view.resolved_at,
        }
    }
}
