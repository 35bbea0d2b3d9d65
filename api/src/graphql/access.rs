//! Who may call each root field: a role gate checked before anything runs, on top of the
//! services' own checks (which also decide record by record: which branch, which hospital).
//!
//! Refusing at the gate means an operation that mixes allowed and forbidden fields runs
//! nothing, answers 401/403 at the HTTP level, and never reaches a resolver.

use async_graphql::parser::types::OperationType;

use crate::service::{Principal, StaffRole};

/// Whether `caller` may call a root field; `None` for a field this table does not know, which
/// validation then refuses as unknown (a test holds every real field to an entry here).
#[must_use]
pub fn admits(operation: OperationType, field: &str, caller: &Principal) -> Option<bool> {
    use StaffRole::{Auditor, BranchCoordinator, BranchRecruiter, NationalAdmin};
    let staff = |roles: &[StaffRole]| matches!(caller, Principal::Staff { role, .. } if roles.contains(role));
    let admitted = match (operation, field) {
        (_, "__typename" | "__schema" | "__type")
        | (OperationType::Query, "branches" | "branch" | "developmentSms" | "consentVersion")
        | (
            OperationType::Mutation,
            "staffSignIn"
            | "refreshSession"
            | "refreshStaffSession"
            | "signOut"
            | "hospitalToken"
            | "requestSignInCode"
            | "signInWithCode"
            | "enrol",
        ) => true,
        (
            OperationType::Query,
            "me"
            | "myNotifications"
            | "myNotificationPreferences"
            | "withdrawalNotice"
            | "myDataExport"
            | "myDataAccessLog",
        )
        | (
            OperationType::Mutation,
            "requestPhoneChangeCode"
            | "changePhone"
            | "setContact"
            | "removeContact"
            | "addBackupContact"
            | "removeBackupContact"
            | "confirmMyDetails"
            | "pauseAvailability"
            | "resumeAvailability"
            | "withdraw"
            | "markNotificationsRead"
            | "setNotificationPreferences"
            | "updateMyProfile"
            | "requestNameCorrection"
            | "recordFamilyMember"
            | "setFamilyMemberStance"
            | "removeFamilyMember"
            | "requestFamilyInfoPack",
        ) => matches!(caller, Principal::Volunteer { .. }),
        (OperationType::Query, "staffAlerts")
        | (
            OperationType::Mutation,
            "unmaskVolunteerField"
            | "reviewNameCorrection"
            | "resolveStaffAlert"
            | "setVolunteerStatus"
            | "correctVolunteerRecord"
            | "approveVolunteerExport",
        ) => {
            matches!(caller, Principal::Staff { role, .. } if role.may_unmask())
        }
        (OperationType::Query, "hospital") => {
            staff(&[NationalAdmin, BranchCoordinator, BranchRecruiter]) || matches!(caller, Principal::Hospital { .. })
        }
        (OperationType::Query, "auditEvents") => staff(&[Auditor, NationalAdmin]),
        (OperationType::Mutation, "changeMyPassword") => matches!(caller, Principal::Staff { .. }),
        (
            OperationType::Query,
            "messageDelivery" | "campaignDelivery" | "volunteer" | "findVolunteers" | "searchVolunteers" | "campaign"
            | "campaigns" | "lostContactQueue" | "attritionFigures" | "volunteerExports",
        )
        | (
            OperationType::Mutation,
            "enrolOfflineRecruit"
            | "logContactAttempt"
            | "markVolunteerLost"
            | "createCampaign"
            | "launchCampaign"
            | "cancelCampaign"
            | "requestVolunteerExport"
            | "downloadVolunteerExport",
        ) => staff(&[NationalAdmin, BranchCoordinator, BranchRecruiter]),
        (
            OperationType::Mutation,
            "createStaffAccount"
            | "disableStaffAccount"
            | "resetStaffSecondFactor"
            | "registerHospital"
            | "issueHospitalCredentials",
        ) => staff(&[NationalAdmin]),
        _ => return None,
    };
    Some(admitted)
}

/// Root queries whose arguments are personal data (an ID number, a phone). They are refused
/// over GET, whose query string lands in proxy and browser logs.
#[must_use]
pub fn takes_personal_data(field: &str) -> bool {
    matches!(field, "findVolunteers" | "searchVolunteers")
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

    use super::*;

    #[test]
    fn every_root_field_of_the_contract_has_a_gate() {
        let schema = async_graphql::parser::parse_schema(crate::graphql::sdl()).unwrap();
        let mut checked = 0;
        for definition in schema.definitions {
            let TypeSystemDefinition::Type(ty) = definition else { continue };
            let operation = match ty.node.name.node.as_str() {
                "Query" => OperationType::Query,
                "Mutation" => OperationType::Mutation,
                _ => continue,
            };
            let TypeKind::Object(object) = &ty.node.kind else { continue };
            for field in &object.fields {
                let name = field.node.name.node.as_str();
                assert!(admits(operation, name, &Principal::Anonymous).is_some(), "no gate for {name}");
                checked += 1;
            }
        }
        assert!(checked >= 54, "only {checked} root fields found");
    }
}
