//! Every query and mutation field, called by every kind of caller, against who may call it as
//! `api::graphql::access::ROOT_FIELDS` states it (the table the gate reads): every allowed
//! caller gets through the gate and the service, every other one is refused with the right
//! code. The operations below must name every field of the schema, so a new field cannot ship
//! without a call here, nor without a row there.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use std::collections::BTreeSet;

use api::graphql::access;
use api::service::{Principal, StaffRole};
use async_graphql::parser::types::OperationType;
use registry_tests::both_backends;
use uuid::Uuid;

/// Where the fixture's record refuses a caller the field's audience admits: the service's own
/// check, record by record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Record {
    /// Nothing beyond the audience.
    Open,
    /// The hospital caller is another hospital than the record's.
    AnotherHospital,
    /// Only the staff member who asked for the object (an export): every caller here is
    /// someone else, so every one is refused.
    TheRequester,
}

/// Every root field, with what its record adds to its audience and an operation that calls it
/// with plausible input.
const EXPECTATIONS: &[(&str, Record, &str)] = &[
    ("Query.branches", Record::Open, "{ branches { code } }"),
    ("Query.branch", Record::Open, r#"{ branch(code: "51") { code } }"#),
    ("Query.developmentSms", Record::Open, r#"{ developmentSms(phone: "13800000001") { text } }"#),
    (
        "Mutation.staffSignIn",
        Record::Open,
        r#"mutation { staffSignIn(username: "nobody", password: "nothing at all") { accessToken } }"#,
    ),
    (
        "Mutation.refreshStaffSession",
        Record::Open,
        r#"mutation { refreshStaffSession(refreshToken: "rt_unknown") { accessToken } }"#,
    ),
    (
        "Mutation.refreshSession",
        Record::Open,
        r#"mutation { refreshSession(refreshToken: "rt_unknown") { accessToken } }"#,
    ),
    ("Mutation.signOut", Record::Open, r#"mutation { signOut(refreshToken: "rt_unknown") }"#),
    (
        "Mutation.requestSignInCode",
        Record::Open,
        r#"mutation { requestSignInCode(phone: "13900000009") { expiresIn } }"#,
    ),
    (
        "Mutation.signInWithCode",
        Record::Open,
        r#"mutation { signInWithCode(phone: "13900000009", code: "000000") { enrolmentRequired } }"#,
    ),
    ("Query.me", Record::Open, "{ me { name status } }"),
    ("Query.volunteer", Record::Open, r#"{ volunteer(id: "VOLUNTEER") { name nationalId } }"#),
    ("Query.findVolunteers", Record::Open, r#"{ findVolunteers(phone: "13900000009") { id } }"#),
    (
        "Mutation.unmaskVolunteerField",
        Record::Open,
        r#"mutation { unmaskVolunteerField(volunteerId: "VOLUNTEER", field: NATIONAL_ID, purpose: DATA_CORRECTION) }"#,
    ),
    (
        "Mutation.createStaffAccount",
        Record::Open,
        r#"mutation { createStaffAccount(input: { username: "matrix.user", password: "a long enough password", role: AUDITOR, branchCode: "51" }) { id } }"#,
    ),
    (
        "Mutation.disableStaffAccount",
        Record::Open,
        r#"mutation { disableStaffAccount(id: "018f0000-0000-7000-8000-000000000000") }"#,
    ),
    (
        "Mutation.resetStaffSecondFactor",
        Record::Open,
        r#"mutation { resetStaffSecondFactor(id: "018f0000-0000-7000-8000-000000000000") }"#,
    ),
    (
        "Mutation.registerHospital",
        Record::Open,
        r#"mutation { registerHospital(input: { name: "矩阵医院", branchCode: "51", contactName: "王", contactPhone: "13800000001" }) { id } }"#,
    ),
    (
        "Mutation.issueHospitalCredentials",
        Record::Open,
        r#"mutation { issueHospitalCredentials(hospitalId: "HOSPITAL") { clientId } }"#,
    ),
    (
        "Mutation.hospitalToken",
        Record::Open,
        r#"mutation { hospitalToken(clientId: "hosp_unknown", clientSecret: "hsk_unknown") { accessToken } }"#,
    ),
    ("Query.hospital", Record::AnotherHospital, r#"{ hospital(id: "HOSPITAL") { name } }"#),
    ("Query.auditEvents", Record::Open, "{ auditEvents(first: 5) { events { action } nextCursor } }"),
    ("Query.messageDelivery", Record::Open, r#"{ messageDelivery(id: "MESSAGE") { status } }"#),
    (
        "Query.campaignDelivery",
        Record::Open,
        r#"{ campaignDelivery(campaignId: "018f0000-0000-7000-8000-000000000000") { queued } }"#,
    ),
    (
        "Mutation.changeMyPassword",
        Record::Open,
        r#"mutation { changeMyPassword(currentPassword: "not the password", newPassword: "another long password") }"#,
    ),
    ("Query.consentVersion", Record::Open, "{ consentVersion }"),
    ("Query.myNotifications", Record::Open, "{ myNotifications(first: 5) { unreadCount } }"),
    ("Query.myNotificationPreferences", Record::Open, "{ myNotificationPreferences { sms } }"),
    ("Query.withdrawalNotice", Record::Open, "{ withdrawalNotice { deletesEverything } }"),
    (
        "Mutation.enrol",
        Record::Open,
        r#"mutation { enrol(enrolmentTicket: "et_unknown", phone: "13900000009", input: { name: "张三", nationalId: "510104199003070023", birthDate: "1990-03-07", sex: FEMALE, provinceCode: "51", city: "成都", backupContacts: [], consentVersion: "2026-01", healthDataConsent: true }) { accessToken } }"#,
    ),
    (
        "Mutation.startRecovery",
        Record::Open,
        r#"mutation { startRecovery(enrolmentTicket: "et_unknown", phone: "13900000009", name: "张三", nationalId: "510104199003070023") { id } }"#,
    ),
    (
        "Mutation.sendRecoveryCode",
        Record::Open,
        r#"mutation { sendRecoveryCode(recoveryId: "018f0000-0000-7000-8000-000000000000", destinationId: "018f0000-0000-7000-8000-000000000001") { expiresIn } }"#,
    ),
    (
        "Mutation.requestRecoveryCallBack",
        Record::Open,
        r#"mutation { requestRecoveryCallBack(recoveryId: "018f0000-0000-7000-8000-000000000000") }"#,
    ),
    (
        "Mutation.completeRecovery",
        Record::Open,
        r#"mutation { completeRecovery(recoveryId: "018f0000-0000-7000-8000-000000000000", code: "123456") { accessToken } }"#,
    ),
    (
        "Mutation.enrolOfflineRecruit",
        Record::Open,
        r#"mutation { enrolOfflineRecruit(phone: "13900000019", input: { name: "张三", nationalId: "510104199003070023", birthDate: "1990-03-07", sex: FEMALE, provinceCode: "51", city: "成都", backupContacts: [{ name: "张父", relationship: PARENT, phone: "13700000011" }, { name: "李友", relationship: FRIEND, phone: "13700000012" }], consentVersion: "2026-01", healthDataConsent: true }) { id } }"#,
    ),
    (
        "Mutation.reviewNameCorrection",
        Record::Open,
        r#"mutation { reviewNameCorrection(volunteerId: "VOLUNTEER", accept: false) }"#,
    ),
    (
        "Mutation.requestPhoneChangeCode",
        Record::Open,
        r#"mutation { requestPhoneChangeCode(phone: "13900000029") { expiresIn } }"#,
    ),
    (
        "Mutation.changePhone",
        Record::Open,
        r#"mutation { changePhone(kind: SECONDARY_PHONE, phone: "13900000029", code: "000000") { id } }"#,
    ),
    ("Mutation.setContact", Record::Open, r#"mutation { setContact(kind: WECHAT, value: "matrix_user") { id } }"#),
    ("Mutation.removeContact", Record::Open, "mutation { removeContact(kind: WECHAT) { id } }"),
    (
        "Mutation.addBackupContact",
        Record::Open,
        r#"mutation { addBackupContact(input: { name: "王五", relationship: FRIEND, phone: "13700000021" }) { id } }"#,
    ),
    (
        "Mutation.removeBackupContact",
        Record::Open,
        r#"mutation { removeBackupContact(id: "018f0000-0000-7000-8000-000000000000") { id } }"#,
    ),
    ("Mutation.confirmMyDetails", Record::Open, "mutation { confirmMyDetails { status } }"),
    (
        "Mutation.pauseAvailability",
        Record::Open,
        r#"mutation { pauseAvailability(reason: PERSONAL, until: "2000-01-01") { status } }"#,
    ),
    ("Mutation.resumeAvailability", Record::Open, "mutation { resumeAvailability { status } }"),
    (
        "Mutation.withdraw",
        Record::Open,
        r#"mutation { withdraw(cause: OTHER, confirmation: "wc_0.00") { deletedEverything } }"#,
    ),
    (
        "Mutation.markNotificationsRead",
        Record::Open,
        r#"mutation { markNotificationsRead(ids: ["018f0000-0000-7000-8000-000000000000"]) }"#,
    ),
    (
        "Mutation.setNotificationPreferences",
        Record::Open,
        "mutation { setNotificationPreferences(sms: true, appInbox: true) { sms } }",
    ),
    (
        "Mutation.updateMyProfile",
        Record::Open,
        r#"mutation { updateMyProfile(input: { occupation: "教师" }) { occupation } }"#,
    ),
    ("Mutation.requestNameCorrection", Record::Open, r#"mutation { requestNameCorrection(name: "张叁") { id } }"#),
    ("Query.myDataExport", Record::Open, "{ myDataExport }"),
    ("Query.myDataAccessLog", Record::Open, "{ myDataAccessLog { role } }"),
    ("Query.alerts", Record::Open, "{ alerts { nodes { id } } }"),
    ("Query.staffAlerts", Record::Open, "{ staffAlerts { id } }"),
    (
        "Mutation.resolveStaffAlert",
        Record::Open,
        r#"mutation { resolveStaffAlert(id: "018f0000-0000-7000-8000-000000000000") }"#,
    ),
    (
        "Mutation.recordFamilyMember",
        Record::Open,
        "mutation { recordFamilyMember(input: { relationship: PARENT, stance: SUPPORTIVE }) { id } }",
    ),
    (
        "Mutation.setFamilyMemberStance",
        Record::Open,
        r#"mutation { setFamilyMemberStance(id: "018f0000-0000-7000-8000-000000000000", stance: OPPOSED) { id } }"#,
    ),
    (
        "Mutation.removeFamilyMember",
        Record::Open,
        r#"mutation { removeFamilyMember(id: "018f0000-0000-7000-8000-000000000000") { id } }"#,
    ),
    ("Mutation.requestFamilyInfoPack", Record::Open, "mutation { requestFamilyInfoPack(channel: STAFF_CALL) }"),
    (
        "Mutation.logContactAttempt",
        Record::Open,
        r#"mutation { logContactAttempt(volunteerId: "VOLUNTEER", input: { channel: PHONE_CALL, outcome: NO_ANSWER }) { id } }"#,
    ),
    (
        "Mutation.recordVolunteerPhone",
        Record::Open,
        r#"mutation { recordVolunteerPhone(volunteerId: "VOLUNTEER", input: { phone: "13900000088", source: BACKUP_CONTACT }) { id } }"#,
    ),
    (
        "Mutation.sendVolunteerPhoneCode",
        Record::Open,
        r#"mutation { sendVolunteerPhoneCode(volunteerId: "VOLUNTEER") { expiresIn } }"#,
    ),
    (
        "Mutation.confirmVolunteerPhone",
        Record::Open,
        r#"mutation { confirmVolunteerPhone(volunteerId: "VOLUNTEER", code: "123456") { id } }"#,
    ),
    (
        "Query.searchVolunteers",
        Record::Open,
        "{ searchVolunteers(filter: { confirmedOverMonths: 12 }, first: 5) { totalCount edges { cursor node { id } } } }",
    ),
    (
        "Mutation.setVolunteerStatus",
        Record::Open,
        r#"mutation { setVolunteerStatus(volunteerId: "VOLUNTEER", status: TU, reason: UC) { status } }"#,
    ),
    (
        "Mutation.correctVolunteerRecord",
        Record::Open,
        r#"mutation { correctVolunteerRecord(volunteerId: "VOLUNTEER", input: { city: "绵阳" }) { city } }"#,
    ),
    (
        "Mutation.markVolunteerLost",
        Record::Open,
        r#"mutation { markVolunteerLost(volunteerId: "VOLUNTEER") { status } }"#,
    ),
    (
        "Mutation.createCampaign",
        Record::Open,
        r#"mutation { createCampaign(input: { name: "矩阵", segment: { branchCode: "51", confirmedOverMonths: 12 }, templateKey: "recommitment" }) { id } }"#,
    ),
    ("Mutation.launchCampaign", Record::Open, r#"mutation { launchCampaign(id: "CAMPAIGN") { status } }"#),
    ("Mutation.cancelCampaign", Record::Open, r#"mutation { cancelCampaign(id: "CAMPAIGN") { status } }"#),
    ("Query.campaign", Record::Open, r#"{ campaign(id: "CAMPAIGN") { name replies { noReply } } }"#),
    ("Query.campaigns", Record::Open, r#"{ campaigns(branchCode: "51", first: 5) { campaigns { id } } }"#),
    (
        "Query.lostContactQueue",
        Record::Open,
        r#"{ lostContactQueue(branchCode: "51", first: 5) { entries { priority } } }"#,
    ),
    (
        "Query.attritionFigures",
        Record::Open,
        r#"{ attritionFigures(branchCode: "51", from: "2026-01-01", to: "2026-12-01") { month lostShare } }"#,
    ),
    (
        "Mutation.requestVolunteerExport",
        Record::Open,
        r#"mutation { requestVolunteerExport(filter: { branchCode: "51" }, purpose: "矩阵") { id } }"#,
    ),
    ("Mutation.approveVolunteerExport", Record::Open, r#"mutation { approveVolunteerExport(id: "EXPORT") { id } }"#),
    (
        "Mutation.downloadVolunteerExport",
        Record::TheRequester,
        r#"mutation { downloadVolunteerExport(id: "EXPORT") { rows } }"#,
    ),
    ("Query.volunteerExports", Record::Open, "{ volunteerExports { id } }"),
    ("Query.caseFile", Record::Open, r#"{ caseFile(id: "CASE") { case { id } } }"#),
    (
        "Query.donationCases",
        Record::Open,
        r#"{ donationCases(filter: { branchCode: "51" }, first: 5) { nodes { id } } }"#,
    ),
    (
        "Query.unansweredCheckUps",
        Record::Open,
        r#"{ unansweredCheckUps(branchCode: "51", first: 5) { nodes { id } } }"#,
    ),
    ("Query.myDonation", Record::Open, "{ myDonation { caseId } }"),
    ("Query.requestedCases", Record::Open, "{ requestedCases(first: 5) { nodes { id } } }"),
    ("Query.requestedCase", Record::AnotherHospital, r#"{ requestedCase(id: "CASE") { id } }"#),
    (
        "Mutation.openCase",
        Record::Open,
        r#"mutation { openCase(input: { volunteerId: "VOLUNTEER", requestingCentre: "矩阵中心", patientReference: "M-1", product: PBSC }) { id } }"#,
    ),
    (
        "Mutation.recordCaseStep",
        Record::Open,
        r#"mutation { recordCaseStep(caseId: "CASE", input: { stage: CT_RESULT, on: "2026-01-01" }) { id } }"#,
    ),
    (
        "Mutation.endCase",
        Record::Open,
        r#"mutation { endCase(caseId: "CASE", input: { endedBy: DONOR, cause: LOST_CONTACT }) { id } }"#,
    ),
    (
        "Mutation.logCaseContactAttempt",
        Record::Open,
        r#"mutation { logCaseContactAttempt(caseId: "CASE", input: { channel: PHONE_CALL, outcome: REACHED }) { id } }"#,
    ),
    (
        "Mutation.raiseCaseRequest",
        Record::Open,
        r#"mutation { raiseCaseRequest(caseId: "CASE", kind: QUESTION, detail: "矩阵") { id } }"#,
    ),
    (
        "Mutation.bookFamilySession",
        Record::Open,
        r#"mutation { bookFamilySession(caseRequestId: "018f0000-0000-7000-8000-000000000000", input: { on: "2026-01-01", attendees: "父亲" }) { id } }"#,
    ),
    (
        "Mutation.resolveCaseRequest",
        Record::Open,
        r#"mutation { resolveCaseRequest(caseRequestId: "018f0000-0000-7000-8000-000000000000", outcome: "矩阵") { id } }"#,
    ),
    (
        "Mutation.tellCoordinator",
        Record::Open,
        r#"mutation { tellCoordinator(kind: QUESTION, message: "矩阵") { id } }"#,
    ),
    (
        "Mutation.answerCheckUp",
        Record::Open,
        r#"mutation { answerCheckUp(id: "018f0000-0000-7000-8000-000000000000", input: { feelingWell: true, symptoms: [], seenDoctor: false }) { id } }"#,
    ),
    ("Query.admissionRequests", Record::Open, "{ admissionRequests(first: 5) { id } }"),
    ("Query.admissionRequest", Record::AnotherHospital, r#"{ admissionRequest(id: "ADMISSION") { id } }"#),
    ("Query.caseAdmissions", Record::Open, r#"{ caseAdmissions(caseId: "CASE") { id } }"#),
    (
        "Query.hospitalScorecard",
        Record::Open,
        r#"{ hospitalScorecard(branchCode: "51", from: "2026-01-01", to: "2026-12-31") { requests } }"#,
    ),
    ("Query.webhookEndpoint", Record::Open, "{ webhookEndpoint { url } }"),
    ("Query.webhookDeliveries", Record::Open, "{ webhookDeliveries(first: 5) { id } }"),
    (
        "Mutation.requestAdmission",
        Record::Open,
        r#"mutation { requestAdmission(input: { caseId: "CASE", hospitalId: "HOSPITAL", purpose: MEDICAL_EXAM, proposedOn: "SOON", stayDays: 1 }) { id } }"#,
    ),
    (
        "Mutation.rerouteAdmission",
        Record::Open,
        r#"mutation { rerouteAdmission(requestId: "ADMISSION", hospitalId: "HOSPITAL") { id } }"#,
    ),
    (
        "Mutation.acceptAdmission",
        Record::AnotherHospital,
        r#"mutation { acceptAdmission(idempotencyKey: "m1", input: { requestId: "ADMISSION", admittedOn: "SOON", department: "血液科", contactName: "李", contactPhone: "13800000002" }) { id } }"#,
    ),
    (
        "Mutation.declineAdmission",
        Record::AnotherHospital,
        r#"mutation { declineAdmission(idempotencyKey: "m2", input: { requestId: "ADMISSION", reason: NO_BED, note: "矩阵" }) { id } }"#,
    ),
    (
        "Mutation.rescheduleAdmission",
        Record::AnotherHospital,
        r#"mutation { rescheduleAdmission(idempotencyKey: "m3", input: { requestId: "ADMISSION", admittedOn: "SOON", reason: "矩阵" }) { id } }"#,
    ),
    (
        "Mutation.cancelAdmission",
        Record::AnotherHospital,
        r#"mutation { cancelAdmission(idempotencyKey: "m4", input: { requestId: "ADMISSION", reason: "矩阵" }) { id } }"#,
    ),
    ("Query.benefitRules", Record::Open, r#"{ benefitRules(branchCode: "51") { id } }"#),
    ("Query.myBenefits", Record::Open, "{ myBenefits { aboutZh entitlements { id } } }"),
    ("Query.caseEntitlements", Record::Open, r#"{ caseEntitlements(caseId: "CASE") { id } }"#),
    ("Query.entitlementRedemptions", Record::Open, "{ entitlementRedemptions(first: 5) { id } }"),
    (
        "Mutation.defineBenefitRule",
        Record::Open,
        r#"mutation { defineBenefitRule(input: { branchCode: "51", ruleKey: "matrix", titleZh: "矩阵", titleEn: "Matrix", holders: [DONOR], kind: RECOGNITION, legalBasis: "矩阵" }) { id } }"#,
    ),
    (
        "Mutation.nameBeneficiary",
        Record::Open,
        r#"mutation { nameBeneficiary(input: { familyMemberId: "018f0000-0000-7000-8000-000000000000", relationship: PARENT, name: "张建国", nationalId: "11010519491231002X" }) { id } }"#,
    ),
    (
        "Mutation.sendEntitlementCode",
        Record::Open,
        r#"mutation { sendEntitlementCode(entitlementId: "018f0000-0000-7000-8000-000000000000") }"#,
    ),
    (
        "Mutation.revokeEntitlement",
        Record::Open,
        r#"mutation { revokeEntitlement(entitlementId: "018f0000-0000-7000-8000-000000000000", reason: "矩阵") { id } }"#,
    ),
    (
        "Mutation.planCaseDates",
        Record::Open,
        r#"mutation { planCaseDates(caseId: "CASE", input: { examOn: "SOON" }) { id } }"#,
    ),
    ("Query.myLeaveLetters", Record::Open, "{ myLeaveLetters { id } }"),
    ("Query.caseLeaveLetters", Record::Open, r#"{ caseLeaveLetters(caseId: "CASE") { id } }"#),
    (
        "Query.leaveLetterChecks",
        Record::Open,
        r#"{ leaveLetterChecks(letterId: "018f0000-0000-7000-8000-000000000000") }"#,
    ),
    ("Query.leaveLetterCheck", Record::Open, r#"{ leaveLetterCheck(code: "ABCD") { status } }"#),
    (
        "Mutation.requestLeaveLetter",
        Record::Open,
        r#"mutation { requestLeaveLetter(input: { periods: [{ purpose: MEDICAL_EXAM, from: "SOON", to: "SOON" }], employer: "矩阵公司", language: "both" }) { id } }"#,
    ),
    (
        "Mutation.issueLeaveLetter",
        Record::Open,
        r#"mutation { issueLeaveLetter(caseId: "CASE", input: { periods: [{ purpose: MEDICAL_EXAM, from: "SOON", to: "SOON" }], employer: "矩阵公司", language: "both" }) { id } }"#,
    ),
    (
        "Mutation.reissueLeaveLetter",
        Record::Open,
        r#"mutation { reissueLeaveLetter(letterId: "018f0000-0000-7000-8000-000000000000", input: { periods: [{ purpose: MEDICAL_EXAM, from: "SOON", to: "SOON" }], language: "en" }) { id } }"#,
    ),
    (
        "Mutation.revokeLeaveLetter",
        Record::Open,
        r#"mutation { revokeLeaveLetter(letterId: "018f0000-0000-7000-8000-000000000000") { id } }"#,
    ),
    (
        "Mutation.leaveLetterDownload",
        Record::Open,
        r#"mutation { leaveLetterDownload(letterId: "018f0000-0000-7000-8000-000000000000") { path } }"#,
    ),
    (
        "Mutation.checkEntitlement",
        Record::Open,
        r#"mutation { checkEntitlement(code: "ABCD", nationalId: "11010519491231002X") { valid } }"#,
    ),
    (
        "Mutation.redeemEntitlement",
        Record::Open,
        r#"mutation { redeemEntitlement(idempotencyKey: "m8", input: { code: "ABCD", nationalId: "11010519491231002X", volumeMl: 100, proof: HOUSEHOLD_REGISTER }) { id } }"#,
    ),
    (
        "Mutation.registerWebhookEndpoint",
        Record::Open,
        r#"mutation { registerWebhookEndpoint(idempotencyKey: "m5", url: "http://127.0.0.1:9/hook") { secret } }"#,
    ),
    (
        "Mutation.rotateWebhookSecret",
        Record::Open,
        r#"mutation { rotateWebhookSecret(idempotencyKey: "m6") { secret } }"#,
    ),
    (
        "Mutation.redeliverWebhook",
        Record::Open,
        r#"mutation { redeliverWebhook(idempotencyKey: "m7", deliveryId: "018f0000-0000-7000-8000-000000000000") { id } }"#,
    ),
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

fn allowed(field: &str, record: Record, caller: &Principal) -> bool {
    let (root, name) = field.split_once('.').unwrap();
    let operation = if root == "Query" { OperationType::Query } else { OperationType::Mutation };
    let audience = access::audience(operation, name).unwrap_or_else(|| panic!("{field} has no row in ROOT_FIELDS"));
    audience.admits(caller)
        && match record {
            Record::Open => true,
            Record::AnotherHospital => !matches!(caller, Principal::Hospital { .. }),
            Record::TheRequester => false,
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
        let requester = api::service::cases::Requester::Hospital(hospital.id);
        let (case, coordinator) = app.open_case(volunteer.id, "51", requester).await;
        let admission = api::service::green_channel::NewAdmission {
            case_id: case,
            hospital_id: hospital.id,
            purpose: api::domain::admission::AdmissionPurpose::MedicalExam,
            proposed_on: chrono::Utc::now().date_naive() + chrono::Duration::days(30),
            alternatives: vec![],
            stay_days: 1,
            answer_within_hours: None,
        };
        let admission = app
            .app
            .services()
            .green_channel
            .request(&coordinator.coordinator().unwrap(), &coordinator, admission, None)
            .await
            .unwrap();
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

        for (field, record, operation) in EXPECTATIONS {
            for (who, caller) in callers(volunteer.id) {
                let operation = operation
                    .replace("HOSPITAL", &hospital.id.to_string())
                    .replace("ADMISSION", &admission.id.to_string())
                    .replace("SOON", &(chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string())
                    .replace("MESSAGE", &message.id.to_string())
                    .replace("VOLUNTEER", &volunteer.id.to_string())
                    .replace("CAMPAIGN", &campaign.model.id.to_string())
                    .replace("EXPORT", &export.model.id.to_string())
                    .replace("CASE", &case.to_string());
                let response = app.execute_as(caller.clone(), operation).await;
                let codes: Vec<String> = response
                    .errors
                    .iter()
                    .filter_map(|err| err.extensions.as_ref()?.get("code").map(ToString::to_string))
                    .collect();
                let refused = codes.iter().any(|code| code == "\"FORBIDDEN\"" || code == "\"UNAUTHENTICATED\"");
                if allowed(field, *record, &caller) {
                    assert!(!refused, "{field} refused {who}: {codes:?}");
                } else {
                    let expected = if caller == Principal::Anonymous { "\"UNAUTHENTICATED\"" } else { "\"FORBIDDEN\"" };
                    assert_eq!(codes, [expected], "{field} as {who}");
                }
            }
        }
    }
}
