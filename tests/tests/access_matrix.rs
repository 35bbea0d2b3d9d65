//! Every query and mutation field, called by every kind of caller: the expectations table below
//! must name every field of the schema, so a new field cannot ship without saying who may
//! call it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use std::collections::BTreeSet;

use api::service::{Principal, StaffRole};
use registry_tests::both_backends;
use uuid::Uuid;

/// Who may call a field. Refusal is FORBIDDEN, or UNAUTHENTICATED for anonymous callers.
#[derive(Clone, Copy, Debug)]
enum Access {
    /// Anyone, signed in or not (public data, sign-in, and calls whose token argument decides).
    Anyone,
    NationalAdmin,
    /// National administrators, coordinators and recruiters of the record's branch (51 here),
    /// and the hospital itself (never the caller's here: the caller is another hospital).
    BranchStaffOrTheHospital,
    /// Auditors and national administrators.
    AuditReaders,
    /// National administrators, and coordinators and recruiters of the record's branch (51).
    BranchStaff,
    /// Any staff member, for their own account.
    AnyStaff,
    /// Volunteers, for their own record.
    Volunteer,
    /// Only the staff member who asked for the object (an export): every caller here is
    /// someone else, so every one is refused.
    TheRequester,
    /// National administrators, and coordinators of the record's branch (51): the roles that
    /// may see personal data in clear.
    Unmaskers,
}

/// Every root field, with who may call it and an operation that calls it with plausible input.
const EXPECTATIONS: &[(&str, Access, &str)] = &[
    ("Query.branches", Access::Anyone, "{ branches { code } }"),
    ("Query.branch", Access::Anyone, r#"{ branch(code: "51") { code } }"#),
    ("Query.developmentSms", Access::Anyone, r#"{ developmentSms(phone: "13800000001") { text } }"#),
    (
        "Mutation.staffSignIn",
        Access::Anyone,
        r#"mutation { staffSignIn(username: "nobody", password: "nothing at all") { accessToken } }"#,
    ),
    (
        "Mutation.refreshStaffSession",
        Access::Anyone,
        r#"mutation { refreshStaffSession(refreshToken: "rt_unknown") { accessToken } }"#,
    ),
    (
        "Mutation.refreshSession",
        Access::Anyone,
        r#"mutation { refreshSession(refreshToken: "rt_unknown") { accessToken } }"#,
    ),
    ("Mutation.signOut", Access::Anyone, r#"mutation { signOut(refreshToken: "rt_unknown") }"#),
    (
        "Mutation.requestSignInCode",
        Access::Anyone,
        r#"mutation { requestSignInCode(phone: "13900000009") { expiresIn } }"#,
    ),
    (
        "Mutation.signInWithCode",
        Access::Anyone,
        r#"mutation { signInWithCode(phone: "13900000009", code: "000000") { enrolmentRequired } }"#,
    ),
    ("Query.me", Access::Volunteer, "{ me { name status } }"),
    ("Query.volunteer", Access::BranchStaff, r#"{ volunteer(id: "VOLUNTEER") { name nationalId } }"#),
    ("Query.findVolunteers", Access::BranchStaff, r#"{ findVolunteers(phone: "13900000009") { id } }"#),
    (
        "Mutation.unmaskVolunteerField",
        Access::Unmaskers,
        r#"mutation { unmaskVolunteerField(volunteerId: "VOLUNTEER", field: NATIONAL_ID, purpose: DATA_CORRECTION) }"#,
    ),
    (
        "Mutation.createStaffAccount",
        Access::NationalAdmin,
        r#"mutation { createStaffAccount(input: { username: "matrix.user", password: "a long enough password", role: AUDITOR, branchCode: "51" }) { id } }"#,
    ),
    (
        "Mutation.disableStaffAccount",
        Access::NationalAdmin,
        r#"mutation { disableStaffAccount(id: "018f0000-0000-7000-8000-000000000000") }"#,
    ),
    (
        "Mutation.resetStaffSecondFactor",
        Access::NationalAdmin,
        r#"mutation { resetStaffSecondFactor(id: "018f0000-0000-7000-8000-000000000000") }"#,
    ),
    (
        "Mutation.registerHospital",
        Access::NationalAdmin,
        r#"mutation { registerHospital(input: { name: "矩阵医院", branchCode: "51", contactName: "王", contactPhone: "13800000001" }) { id } }"#,
    ),
    (
        "Mutation.issueHospitalCredentials",
        Access::NationalAdmin,
        r#"mutation { issueHospitalCredentials(hospitalId: "HOSPITAL") { clientId } }"#,
    ),
    (
        "Mutation.hospitalToken",
        Access::Anyone,
        r#"mutation { hospitalToken(clientId: "hosp_unknown", clientSecret: "hsk_unknown") { accessToken } }"#,
    ),
    ("Query.hospital", Access::BranchStaffOrTheHospital, r#"{ hospital(id: "HOSPITAL") { name } }"#),
    ("Query.auditEvents", Access::AuditReaders, "{ auditEvents(first: 5) { events { action } nextCursor } }"),
    ("Query.messageDelivery", Access::BranchStaff, r#"{ messageDelivery(id: "MESSAGE") { status } }"#),
    (
        "Query.campaignDelivery",
        Access::BranchStaff,
        r#"{ campaignDelivery(campaignId: "018f0000-0000-7000-8000-000000000000") { queued } }"#,
    ),
    (
        "Mutation.changeMyPassword",
        Access::AnyStaff,
        r#"mutation { changeMyPassword(currentPassword: "not the password", newPassword: "another long password") }"#,
    ),
    ("Query.consentVersion", Access::Anyone, "{ consentVersion }"),
    ("Query.myNotifications", Access::Volunteer, "{ myNotifications(first: 5) { unreadCount } }"),
    ("Query.myNotificationPreferences", Access::Volunteer, "{ myNotificationPreferences { sms } }"),
    ("Query.withdrawalNotice", Access::Volunteer, "{ withdrawalNotice { deletesEverything } }"),
    (
        "Mutation.enrol",
        Access::Anyone,
        r#"mutation { enrol(enrolmentTicket: "et_unknown", phone: "13900000009", input: { name: "张三", nationalId: "510104199003070023", birthDate: "1990-03-07", sex: FEMALE, provinceCode: "51", city: "成都", backupContacts: [], consentVersion: "2026-01", healthDataConsent: true }) { accessToken } }"#,
    ),
    (
        "Mutation.enrolOfflineRecruit",
        Access::BranchStaff,
        r#"mutation { enrolOfflineRecruit(phone: "13900000019", input: { name: "张三", nationalId: "510104199003070023", birthDate: "1990-03-07", sex: FEMALE, provinceCode: "51", city: "成都", backupContacts: [{ name: "张父", relationship: PARENT, phone: "13700000011" }, { name: "李友", relationship: FRIEND, phone: "13700000012" }], consentVersion: "2026-01", healthDataConsent: true }) { id } }"#,
    ),
    (
        "Mutation.reviewNameCorrection",
        Access::Unmaskers,
        r#"mutation { reviewNameCorrection(volunteerId: "VOLUNTEER", accept: false) }"#,
    ),
    (
        "Mutation.requestPhoneChangeCode",
        Access::Volunteer,
        r#"mutation { requestPhoneChangeCode(phone: "13900000029") { expiresIn } }"#,
    ),
    (
        "Mutation.changePhone",
        Access::Volunteer,
        r#"mutation { changePhone(kind: SECONDARY_PHONE, phone: "13900000029", code: "000000") { id } }"#,
    ),
    ("Mutation.setContact", Access::Volunteer, r#"mutation { setContact(kind: WECHAT, value: "matrix_user") { id } }"#),
    ("Mutation.removeContact", Access::Volunteer, "mutation { removeContact(kind: WECHAT) { id } }"),
    (
        "Mutation.addBackupContact",
        Access::Volunteer,
        r#"mutation { addBackupContact(input: { name: "王五", relationship: FRIEND, phone: "13700000021" }) { id } }"#,
    ),
    (
        "Mutation.removeBackupContact",
        Access::Volunteer,
        r#"mutation { removeBackupContact(id: "018f0000-0000-7000-8000-000000000000") { id } }"#,
    ),
    ("Mutation.confirmMyDetails", Access::Volunteer, "mutation { confirmMyDetails { status } }"),
    (
        "Mutation.pauseAvailability",
        Access::Volunteer,
        r#"mutation { pauseAvailability(reason: PERSONAL, until: "2000-01-01") { status } }"#,
    ),
    ("Mutation.resumeAvailability", Access::Volunteer, "mutation { resumeAvailability { status } }"),
    (
        "Mutation.withdraw",
        Access::Volunteer,
        r#"mutation { withdraw(cause: OTHER, confirmation: "wc_0.00") { deletedEverything } }"#,
    ),
    (
        "Mutation.markNotificationsRead",
        Access::Volunteer,
        r#"mutation { markNotificationsRead(ids: ["018f0000-0000-7000-8000-000000000000"]) }"#,
    ),
    (
        "Mutation.setNotificationPreferences",
        Access::Volunteer,
        "mutation { setNotificationPreferences(sms: true, appInbox: true) { sms } }",
    ),
    (
        "Mutation.updateMyProfile",
        Access::Volunteer,
        r#"mutation { updateMyProfile(input: { occupation: "教师" }) { occupation } }"#,
    ),
    ("Mutation.requestNameCorrection", Access::Volunteer, r#"mutation { requestNameCorrection(name: "张叁") { id } }"#),
    ("Query.myDataExport", Access::Volunteer, "{ myDataExport }"),
    ("Query.myDataAccessLog", Access::Volunteer, "{ myDataAccessLog { role } }"),
    ("Query.staffAlerts", Access::Unmaskers, "{ staffAlerts { id } }"),
    (
        "Mutation.resolveStaffAlert",
        Access::Unmaskers,
        r#"mutation { resolveStaffAlert(id: "018f0000-0000-7000-8000-000000000000") }"#,
    ),
    (
        "Mutation.recordFamilyMember",
        Access::Volunteer,
        "mutation { recordFamilyMember(input: { relationship: PARENT, stance: SUPPORTIVE }) { id } }",
    ),
    (
        "Mutation.setFamilyMemberStance",
        Access::Volunteer,
        r#"mutation { setFamilyMemberStance(id: "018f0000-0000-7000-8000-000000000000", stance: OPPOSED) { id } }"#,
    ),
    (
        "Mutation.removeFamilyMember",
        Access::Volunteer,
        r#"mutation { removeFamilyMember(id: "018f0000-0000-7000-8000-000000000000") { id } }"#,
    ),
    ("Mutation.requestFamilyInfoPack", Access::Volunteer, "mutation { requestFamilyInfoPack(channel: STAFF_CALL) }"),
    (
        "Mutation.logContactAttempt",
        Access::BranchStaff,
        r#"mutation { logContactAttempt(volunteerId: "VOLUNTEER", input: { channel: PHONE_CALL, outcome: NO_ANSWER }) { id } }"#,
    ),
    (
        "Query.searchVolunteers",
        Access::BranchStaff,
        "{ searchVolunteers(filter: { confirmedOverMonths: 12 }, first: 5) { totalCount edges { cursor node { id } } } }",
    ),
    (
        "Mutation.setVolunteerStatus",
        Access::Unmaskers,
        r#"mutation { setVolunteerStatus(volunteerId: "VOLUNTEER", status: TU, reason: UC) { status } }"#,
    ),
    (
        "Mutation.correctVolunteerRecord",
        Access::Unmaskers,
        r#"mutation { correctVolunteerRecord(volunteerId: "VOLUNTEER", input: { city: "绵阳" }) { city } }"#,
    ),
    (
        "Mutation.markVolunteerLost",
        Access::BranchStaff,
        r#"mutation { markVolunteerLost(volunteerId: "VOLUNTEER") { status } }"#,
    ),
    (
        "Mutation.createCampaign",
        Access::BranchStaff,
        r#"mutation { createCampaign(input: { name: "矩阵", segment: { branchCode: "51", confirmedOverMonths: 12 }, templateKey: "recommitment" }) { id } }"#,
    ),
    ("Mutation.launchCampaign", Access::BranchStaff, r#"mutation { launchCampaign(id: "CAMPAIGN") { status } }"#),
    ("Mutation.cancelCampaign", Access::BranchStaff, r#"mutation { cancelCampaign(id: "CAMPAIGN") { status } }"#),
    ("Query.campaign", Access::BranchStaff, r#"{ campaign(id: "CAMPAIGN") { name replies { noReply } } }"#),
    ("Query.campaigns", Access::BranchStaff, r#"{ campaigns(branchCode: "51", first: 5) { campaigns { id } } }"#),
    (
        "Query.lostContactQueue",
        Access::BranchStaff,
        r#"{ lostContactQueue(branchCode: "51", first: 5) { entries { priority } } }"#,
    ),
    (
        "Query.attritionFigures",
        Access::BranchStaff,
        r#"{ attritionFigures(branchCode: "51", from: "2026-01-01", to: "2026-12-01") { month lostShare } }"#,
    ),
    (
        "Mutation.requestVolunteerExport",
        Access::BranchStaff,
        r#"mutation { requestVolunteerExport(filter: { branchCode: "51" }, purpose: "矩阵") { id } }"#,
    ),
    (
        "Mutation.approveVolunteerExport",
        Access::Unmaskers,
        r#"mutation { approveVolunteerExport(id: "EXPORT") { id } }"#,
    ),
    (
        "Mutation.downloadVolunteerExport",
        Access::TheRequester,
        r#"mutation { downloadVolunteerExport(id: "EXPORT") { rows } }"#,
    ),
    ("Query.volunteerExports", Access::BranchStaff, "{ volunteerExports { id } }"),
];

/// One caller of each kind; `volunteer` is a registered volunteer of branch 51.
fn callers(volunteer: Uuid) -> Vec<(&'static str, Principal)> {
    let staff = |role| Principal::Staff { id: Uuid::now_v7(), role, branch: "51".into() };
    vec![
        ("anonymous", Principal::Anonymous),
        ("volunteer", Principal::Volunteer { id: volunteer }),
        ("national admin", staff(StaffRole::NationalAdmin)),
        ("branch coordinator", staff(StaffRole::BranchCoordinator)),
        ("branch recruiter", staff(StaffRole::BranchRecruiter)),
        ("auditor", staff(StaffRole::Auditor)),
        ("hospital", Principal::Hospital { id: Uuid::now_v7(), branch: "51".into() }),
    ]
}

fn allowed(access: Access, caller: &Principal) -> bool {
    match access {
        Access::Anyone => true,
        Access::TheRequester => false,
        Access::AnyStaff => matches!(caller, Principal::Staff { .. }),
        Access::Volunteer => matches!(caller, Principal::Volunteer { .. }),
        Access::Unmaskers => {
            matches!(caller, Principal::Staff { role: StaffRole::NationalAdmin | StaffRole::BranchCoordinator, .. })
        }
        Access::NationalAdmin => matches!(caller, Principal::Staff { role: StaffRole::NationalAdmin, .. }),
        Access::AuditReaders => {
            matches!(caller, Principal::Staff { role: StaffRole::Auditor | StaffRole::NationalAdmin, .. })
        }
        Access::BranchStaff | Access::BranchStaffOrTheHospital => matches!(
            caller,
            Principal::Staff {
                role: StaffRole::NationalAdmin | StaffRole::BranchCoordinator | StaffRole::BranchRecruiter,
                ..
            }
        ),
    }
}

both_backends! {
    async fn every_field_has_an_owner_and_refuses_everyone_else(db) {
        let app = db.app().await;
        let admin = Principal::Staff { id: Uuid::now_v7(), role: StaffRole::NationalAdmin, branch: "11".into() };
        let input = api::service::NewHospital {
            name: "矩阵医院".into(),
            branch_code: "51".into(),
            contact_name: "王".into(),
            contact_phone: "13800000001".into(),
        };
        let hospital = app.app.services().hospitals.register(&admin.national_admin().unwrap(), &admin, input, None).await.unwrap();
        let message = app
            .app
            .messaging()
            .queue(app.app.db(), registry_tests::gateway::login_code("13800000001", "123456", "matrix".into()))
            .await
            .unwrap();
        let volunteer = app.register_volunteer(1, "51").await;
        let segment = api::service::retention::VolunteerFilter { branch_code: Some("51".into()), ..Default::default() };
        let definition = api::service::retention::CampaignDefinition {
            response_window_days: None,
            ..registry_tests::sms_recommitment("矩阵", segment)
        };
        let reader = admin.volunteer_reader().unwrap();
        let campaign = app.app.services().campaigns.create(&reader, &admin, definition, None).await.unwrap();
        let all_of_51 = api::service::retention::VolunteerFilter { branch_code: Some("51".into()), ..Default::default() };
        let export = app.app.services().exports.request(&reader, &admin, &all_of_51, "矩阵", None).await.unwrap();
        let introspection = app
            .execute("{ __schema { queryType { fields(includeDeprecated: true) { name } } mutationType { fields(includeDeprecated: true) { name } } } }")
            .await
            .data
            .into_json()
            .unwrap();
        let mut fields = BTreeSet::new();
        for (root, key) in [("Query", "queryType"), ("Mutation", "mutationType")] {
            for field in introspection["__schema"][key]["fields"].as_array().unwrap() {
                fields.insert(format!("{root}.{}", field["name"].as_str().unwrap()));
            }
        }
        let expected: BTreeSet<String> = EXPECTATIONS.iter().map(|(field, _, _)| (*field).to_owned()).collect();
        assert_eq!(fields, expected, "every root field needs exactly one row in EXPECTATIONS");

        for (field, access, operation) in EXPECTATIONS {
            for (who, caller) in callers(volunteer.id) {
                let operation = operation
                    .replace("HOSPITAL", &hospital.id.to_string())
                    .replace("MESSAGE", &message.id.to_string())
                    .replace("VOLUNTEER", &volunteer.id.to_string())
                    .replace("CAMPAIGN", &campaign.model.id.to_string())
                    .replace("EXPORT", &export.model.id.to_string());
                let response = app.execute_as(caller.clone(), operation).await;
                let codes: Vec<String> = response
                    .errors
                    .iter()
                    .filter_map(|err| err.extensions.as_ref()?.get("code").map(ToString::to_string))
                    .collect();
                let refused = codes.iter().any(|code| code == "\"FORBIDDEN\"" || code == "\"UNAUTHENTICATED\"");
                if allowed(*access, &caller) {
                    assert!(!refused, "{field} refused {who}: {codes:?}");
                } else {
                    let expected = if caller == Principal::Anonymous { "\"UNAUTHENTICATED\"" } else { "\"FORBIDDEN\"" };
                    assert_eq!(codes, [expected], "{field} as {who}");
                }
            }
        }
    }
}
