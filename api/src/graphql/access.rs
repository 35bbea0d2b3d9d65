//! Who may call each root field, stated once: [`ROOT_FIELDS`] gives every query and mutation
//! its [`Audience`]. The gate below reads it before anything runs, and the access-matrix test
//! reads it to call every field as every kind of caller; the services check again, record by
//! record (which branch, which hospital, which volunteer), with capabilities only
//! [`Principal`]'s checks can build.
//!
//! Refusing at the gate means an operation that mixes allowed and forbidden fields runs
//! nothing, answers 401/403 at the HTTP level, and never reaches a resolver.

use async_graphql::parser::types::OperationType;

use crate::service::{Principal, StaffRole};

/// The callers a root field admits, by kind and role. Where a role acts only on some records
/// (its branch's, its own), the service decides that, record by record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Anyone, signed in or not: public data, sign-in, and calls whose token argument decides.
    Anyone,
    /// Volunteers, for their own record.
    Volunteer,
    /// Any staff member, for their own account.
    AnyStaff,
    /// National administrators, coordinators and recruiters (branch roles: their branch).
    BranchStaff,
    /// As [`Self::BranchStaff`], and the hospital the record is about.
    BranchStaffOrHospital,
    /// Partner hospitals' systems, for their own records.
    Hospital,
    /// National administrators and branch coordinators (their branch): who move donation
    /// cases. Recruiters read cases but do not move them.
    Coordinators,
    /// Volunteers for their own records, and [`Self::Coordinators`] for their branch's: who
    /// act on a donor's leave letters.
    DonorOrCoordinators,
    /// Auditors and national administrators.
    AuditReaders,
    /// The roles that may see personal data in clear: national administrators, and branch
    /// coordinators (their branch).
    Unmaskers,
    NationalAdmin,
}

impl Audience {
    /// Whether `caller`'s kind and role belong to this audience.
    #[must_use]
    pub fn admits(self, caller: &Principal) -> bool {
        use StaffRole::{Auditor, BranchCoordinator, BranchRecruiter, NationalAdmin};
        let staff = |roles: &[StaffRole]| matches!(caller, Principal::Staff { role, .. } if roles.contains(role));
        match self {
            Self::Anyone => true,
            Self::Volunteer => matches!(caller, Principal::Volunteer { .. }),
            Self::AnyStaff => matches!(caller, Principal::Staff { .. }),
            Self::BranchStaff => staff(&[NationalAdmin, BranchCoordinator, BranchRecruiter]),
            Self::BranchStaffOrHospital => {
                Self::BranchStaff.admits(caller) || matches!(caller, Principal::Hospital { .. })
            }
            Self::Hospital => matches!(caller, Principal::Hospital { .. }),
            Self::Coordinators => staff(&[NationalAdmin, BranchCoordinator]),
            Self::DonorOrCoordinators => Self::Volunteer.admits(caller) || Self::Coordinators.admits(caller),
            Self::AuditReaders => staff(&[Auditor, NationalAdmin]),
            Self::Unmaskers => matches!(caller, Principal::Staff { role, .. } if role.may_unmask()),
            Self::NationalAdmin => staff(&[NationalAdmin]),
        }
    }
}

use Audience::{
    AnyStaff, Anyone, AuditReaders, BranchStaff, BranchStaffOrHospital, Coordinators, DonorOrCoordinators, Hospital,
    NationalAdmin, Unmaskers, Volunteer,
};

/// Every root field and its audience. A field missing here is refused by validation as
/// unknown; a test holds every field of the schema to a row.
pub const ROOT_FIELDS: &[(OperationType, &str, Audience)] = &[
    (OperationType::Query, "branches", Anyone),
    (OperationType::Query, "branch", Anyone),
    (OperationType::Query, "developmentSms", Anyone),
    (OperationType::Mutation, "staffSignIn", Anyone),
    (OperationType::Mutation, "refreshStaffSession", Anyone),
    (OperationType::Mutation, "refreshSession", Anyone),
    (OperationType::Mutation, "signOut", Anyone),
    (OperationType::Mutation, "requestSignInCode", Anyone),
    (OperationType::Mutation, "signInWithCode", Anyone),
    (OperationType::Query, "me", Volunteer),
    (OperationType::Query, "volunteer", BranchStaff),
    (OperationType::Query, "findVolunteers", BranchStaff),
    (OperationType::Mutation, "unmaskVolunteerField", Unmaskers),
    (OperationType::Mutation, "createStaffAccount", NationalAdmin),
    (OperationType::Mutation, "disableStaffAccount", NationalAdmin),
    (OperationType::Mutation, "resetStaffSecondFactor", NationalAdmin),
    (OperationType::Mutation, "registerHospital", NationalAdmin),
    (OperationType::Mutation, "issueHospitalCredentials", NationalAdmin),
    (OperationType::Mutation, "hospitalToken", Anyone),
    (OperationType::Query, "hospital", BranchStaffOrHospital),
    (OperationType::Query, "auditEvents", AuditReaders),
    (OperationType::Query, "messageDelivery", BranchStaff),
    (OperationType::Query, "campaignDelivery", BranchStaff),
    (OperationType::Mutation, "changeMyPassword", AnyStaff),
    (OperationType::Query, "consentVersion", Anyone),
    (OperationType::Query, "myNotifications", Volunteer),
    (OperationType::Query, "myNotificationPreferences", Volunteer),
    (OperationType::Query, "withdrawalNotice", Volunteer),
    (OperationType::Mutation, "enrol", Anyone),
    (OperationType::Mutation, "startRecovery", Anyone),
    (OperationType::Mutation, "sendRecoveryCode", Anyone),
    (OperationType::Mutation, "completeRecovery", Anyone),
    (OperationType::Mutation, "requestRecoveryCallBack", Anyone),
    (OperationType::Mutation, "enrolOfflineRecruit", BranchStaff),
    (OperationType::Mutation, "reviewNameCorrection", Unmaskers),
    (OperationType::Mutation, "requestPhoneChangeCode", Volunteer),
    (OperationType::Mutation, "changePhone", Volunteer),
    (OperationType::Mutation, "setContact", Volunteer),
    (OperationType::Mutation, "removeContact", Volunteer),
    (OperationType::Mutation, "addBackupContact", Volunteer),
    (OperationType::Mutation, "removeBackupContact", Volunteer),
    (OperationType::Mutation, "confirmMyDetails", Volunteer),
    (OperationType::Mutation, "pauseAvailability", Volunteer),
    (OperationType::Mutation, "resumeAvailability", Volunteer),
    (OperationType::Mutation, "withdraw", Volunteer),
    (OperationType::Mutation, "markNotificationsRead", Volunteer),
    (OperationType::Mutation, "setNotificationPreferences", Volunteer),
    (OperationType::Mutation, "updateMyProfile", Volunteer),
    (OperationType::Mutation, "requestNameCorrection", Volunteer),
    (OperationType::Query, "myDataExport", Volunteer),
    (OperationType::Query, "myDataAccessLog", Volunteer),
    (OperationType::Query, "alerts", Unmaskers),
    (OperationType::Query, "staffAlerts", Unmaskers),
    (OperationType::Mutation, "resolveStaffAlert", Unmaskers),
    (OperationType::Mutation, "recordFamilyMember", Volunteer),
    (OperationType::Mutation, "setFamilyMemberStance", Volunteer),
    (OperationType::Mutation, "removeFamilyMember", Volunteer),
    (OperationType::Mutation, "requestFamilyInfoPack", Volunteer),
    (OperationType::Mutation, "logContactAttempt", BranchStaff),
    (OperationType::Mutation, "recordVolunteerPhone", BranchStaff),
    (OperationType::Mutation, "sendVolunteerPhoneCode", BranchStaff),
    (OperationType::Mutation, "confirmVolunteerPhone", BranchStaff),
    (OperationType::Query, "searchVolunteers", BranchStaff),
    (OperationType::Mutation, "setVolunteerStatus", Unmaskers),
    (OperationType::Mutation, "correctVolunteerRecord", Unmaskers),
    (OperationType::Mutation, "markVolunteerLost", BranchStaff),
    (OperationType::Mutation, "createCampaign", BranchStaff),
    (OperationType::Mutation, "launchCampaign", BranchStaff),
    (OperationType::Mutation, "cancelCampaign", BranchStaff),
    (OperationType::Query, "campaign", BranchStaff),
    (OperationType::Query, "campaigns", BranchStaff),
    (OperationType::Query, "lostContactQueue", BranchStaff),
    (OperationType::Query, "attritionFigures", BranchStaff),
    (OperationType::Mutation, "requestVolunteerExport", BranchStaff),
    (OperationType::Mutation, "approveVolunteerExport", Unmaskers),
    (OperationType::Mutation, "downloadVolunteerExport", BranchStaff),
    (OperationType::Query, "volunteerExports", BranchStaff),
    (OperationType::Query, "caseFile", BranchStaff),
    (OperationType::Query, "donationCases", BranchStaff),
    (OperationType::Query, "unansweredCheckUps", BranchStaff),
    (OperationType::Query, "myDonation", Volunteer),
    (OperationType::Query, "requestedCases", Hospital),
    (OperationType::Query, "requestedCase", Hospital),
    (OperationType::Query, "admissionRequests", Hospital),
    (OperationType::Query, "admissionRequest", Hospital),
    (OperationType::Query, "caseAdmissions", BranchStaff),
    (OperationType::Query, "hospitalScorecard", BranchStaff),
    (OperationType::Query, "webhookEndpoint", Hospital),
    (OperationType::Query, "webhookDeliveries", Hospital),
    (OperationType::Mutation, "requestAdmission", Coordinators),
    (OperationType::Mutation, "rerouteAdmission", Coordinators),
    (OperationType::Mutation, "acceptAdmission", Hospital),
    (OperationType::Mutation, "declineAdmission", Hospital),
    (OperationType::Mutation, "rescheduleAdmission", Hospital),
    (OperationType::Mutation, "cancelAdmission", Hospital),
    (OperationType::Query, "benefitRules", BranchStaff),
    (OperationType::Query, "myBenefits", Volunteer),
    (OperationType::Query, "caseEntitlements", BranchStaff),
    (OperationType::Query, "entitlementRedemptions", Hospital),
    (OperationType::Mutation, "defineBenefitRule", Coordinators),
    (OperationType::Mutation, "nameBeneficiary", Volunteer),
    (OperationType::Mutation, "sendEntitlementCode", Volunteer),
    (OperationType::Mutation, "revokeEntitlement", Coordinators),
    (OperationType::Mutation, "checkEntitlement", Hospital),
    (OperationType::Mutation, "redeemEntitlement", Hospital),
    (OperationType::Query, "myLeaveLetters", Volunteer),
    (OperationType::Query, "caseLeaveLetters", BranchStaff),
    (OperationType::Query, "leaveLetterChecks", DonorOrCoordinators),
    (OperationType::Query, "leaveLetterCheck", Anyone),
    (OperationType::Mutation, "requestLeaveLetter", Volunteer),
    (OperationType::Mutation, "issueLeaveLetter", Coordinators),
    (OperationType::Mutation, "reissueLeaveLetter", DonorOrCoordinators),
    (OperationType::Mutation, "revokeLeaveLetter", DonorOrCoordinators),
    (OperationType::Mutation, "leaveLetterDownload", DonorOrCoordinators),
    (OperationType::Mutation, "registerWebhookEndpoint", Hospital),
    (OperationType::Mutation, "rotateWebhookSecret", Hospital),
    (OperationType::Mutation, "redeliverWebhook", Hospital),
    (OperationType::Mutation, "openCase", Coordinators),
    (OperationType::Mutation, "recordCaseStep", Coordinators),
    (OperationType::Mutation, "planCaseDates", Coordinators),
    (OperationType::Mutation, "endCase", Coordinators),
    (OperationType::Mutation, "logCaseContactAttempt", Coordinators),
    (OperationType::Mutation, "raiseCaseRequest", Coordinators),
    (OperationType::Mutation, "bookFamilySession", Coordinators),
    (OperationType::Mutation, "resolveCaseRequest", Coordinators),
    (OperationType::Mutation, "tellCoordinator", Volunteer),
    (OperationType::Mutation, "answerCheckUp", Volunteer),
];

/// The audience of a root field; `None` for a field [`ROOT_FIELDS`] does not know.
#[must_use]
pub fn audience(operation: OperationType, field: &str) -> Option<Audience> {
    if matches!(field, "__typename" | "__schema" | "__type") {
        return Some(Anyone);
    }
    ROOT_FIELDS.iter().find(|(op, name, _)| *op == operation && *name == field).map(|(_, _, audience)| *audience)
}

/// Whether `caller` may call a root field; `None` for a field [`ROOT_FIELDS`] does not know,
/// which validation then refuses as unknown.
#[must_use]
pub fn admits(operation: OperationType, field: &str, caller: &Principal) -> Option<bool> {
    audience(operation, field).map(|audience| audience.admits(caller))
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
    fn root_fields_states_every_field_of_the_contract_and_no_other() {
        let schema = async_graphql::parser::parse_schema(crate::graphql::sdl()).unwrap();
        let mut fields = std::collections::BTreeSet::new();
        for definition in schema.definitions {
            let TypeSystemDefinition::Type(ty) = definition else { continue };
            let operation = match ty.node.name.node.as_str() {
                "Query" => "Query",
                "Mutation" => "Mutation",
                _ => continue,
            };
            let TypeKind::Object(object) = &ty.node.kind else { continue };
            for field in &object.fields {
                fields.insert(format!("{operation}.{}", field.node.name.node));
            }
        }
        let stated: std::collections::BTreeSet<String> = ROOT_FIELDS
            .iter()
            .map(|(operation, name, _)| {
                format!("{}.{name}", if *operation == OperationType::Query { "Query" } else { "Mutation" })
            })
            .collect();
        assert_eq!(fields, stated, "every root field needs exactly one row in ROOT_FIELDS");
        assert_eq!(stated.len(), ROOT_FIELDS.len(), "a field stated twice");
    }
}
