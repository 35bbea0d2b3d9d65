//! Donation cases, played over HTTP with the documents of `contract/staff/`, `contract/mobile/`
//! and `contract/hospital/`: scenario 4 (a stale contact at match, ended UC, the requester told
//! without the donor's identity), scenario 5 (a family concern holding clearance), a whole
//! donation from search hit to the month-1 check-up, a late regret, bad input that stores
//! nothing, who is refused, and what the donor's timeline and the case page cost.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use chrono::{Duration, NaiveDate, Utc};
use entity::volunteer::{self, DonorStatus, StatusReason};
use entity::{case_follow_up, case_milestone, donation_case, outbound_message, staff_alert};
use registry_tests::desk::{Desk, available, partner_hospital};
use registry_tests::mobile::{Mobile, client_document};
use registry_tests::{Registered, TestApp, both_backends, error_codes};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

fn open_input(volunteer: &Registered, requester: &Value) -> Value {
    let mut input = json!({
        "volunteerId": volunteer.id.to_string(),
        "patientReference": "HX-2026-0412",
        "patientSex": "FEMALE",
        "patientAgeBand": "CHILD",
        "sharePatient": true,
        "product": "PBSC",
        "urgency": "URGENT",
        "coordinatorPhone": "028-8888 1234",
        "searchHitOn": days_ago(90),
    });
    input.as_object_mut().unwrap().extend(requester.as_object().unwrap().clone());
    json!({ "input": input })
}

/// The days before today, as a date the steps are recorded on.
fn days_ago(days: i64) -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive() - Duration::days(days)
}

/// Records `stages` in order, one day apart, starting `start` days ago.
async fn steps(desk: &Desk<'_>, case: &str, stages: &[&str], start: i64) {
    for (i, stage) in stages.iter().enumerate() {
        let on = days_ago(start - i64::try_from(i).unwrap());
        // Branch 51's benefit rules multiply the volume collected, so collection records it.
        let collected = (*stage == "COLLECTION").then_some(400);
        desk.call(
            "RecordCaseStep",
            json!({ "caseId": case, "input": { "stage": stage, "on": on, "collectedMl": collected } }),
        )
        .await;
    }
}

async fn status_of(app: &TestApp, id: uuid::Uuid) -> (DonorStatus, Option<StatusReason>) {
    let model = volunteer::Entity::find_by_id(id).one(app.app.db()).await.unwrap().unwrap();
    (model.status, model.status_reason)
}

async fn alerts_of(app: &TestApp, kind: &str) -> u64 {
    staff_alert::Entity::find().filter(staff_alert::Column::Kind.eq(kind)).count(app.app.db()).await.unwrap()
}

const TO_EXAM: [&str; 6] =
    ["CT_REQUESTED", "CT_SAMPLE_TAKEN", "CT_RESULT", "INFO_SESSION", "EXAM_BOOKED", "EXAM_PASSED"];

both_backends! {
    async fn scenario_4_a_stale_contact_at_match_ends_uc_and_the_requester_learns_only_that(db) {
        let app = db.app_with(|settings| settings.database.max_connections = 1).await;
        let server = app.serve().await;
        let admin = app.staff_token("national_admin", "11").await;
        let desk = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let (hospital_id, hospital_token) = partner_hospital(&server, &admin, "四川大学华西医院").await;
        let (_, other_token) = partner_hospital(&server, &admin, "成都市第三人民医院").await;
        let volunteer = available(&app, 1).await;
        app.age_confirmation(volunteer.id, 400).await;

        let opened = desk.call("OpenCase", open_input(&volunteer, &json!({ "requestingHospitalId": hospital_id }))).await;
        let case = opened["openCase"]["id"].as_str().unwrap().to_owned();
        assert_eq!(opened["openCase"]["staleContact"], true, "a 400-day-old contact is flagged at once");
        assert_eq!(opened["openCase"]["stage"], "SEARCH_HIT");
        assert_eq!(alerts_of(&app, "case_stale_contact").await, 1);

        let attempt = |channel: &str, kind: Option<&str>| {
            json!({ "caseId": case, "input": { "channel": channel, "outcome": "NO_ANSWER", "contactKind": kind } })
        };
        desk.call("LogCaseContactAttempt", attempt("PHONE_CALL", Some("PRIMARY_PHONE"))).await;
        desk.call("LogCaseContactAttempt", attempt("SMS", Some("PRIMARY_PHONE"))).await;
        let end_uc = json!({ "caseId": case, "input": { "endedBy": "DONOR", "cause": "LOST_CONTACT" } });
        let early = desk.send("EndCase", end_uc.clone()).await;
        assert_eq!(error_codes(&early), ["CONFLICT"], "two failures are not the branch's three: {early}");
        assert_eq!(early["errors"][0]["extensions"]["field"], "input.cause");
        desk.call("LogCaseContactAttempt", attempt("BACKUP_CONTACT", None)).await;

        let ended = desk.call("EndCase", end_uc).await;
        assert_eq!(ended["endCase"]["state"], "ENDED");
        assert_eq!(ended["endCase"]["ended"]["stage"], "SEARCH_HIT");
        assert_eq!(ended["endCase"]["ended"]["cause"], "LOST_CONTACT");
        assert_eq!(status_of(&app, volunteer.id).await, (DonorStatus::TemporarilyUnavailable, Some(StatusReason::UnableToContact)));
        let file = desk.call("CaseFile", json!({ "id": case })).await;
        assert_eq!(file["caseFile"]["attempts"].as_array().unwrap().len(), 3);

        let requester = Desk::hospital(&server, hospital_token);
        let seen = requester.call("RequestedCase", json!({ "id": case })).await;
        assert_eq!(seen["requestedCase"]["state"], "ENDED");
        assert_eq!(seen["requestedCase"]["outcome"], "DONOR_NOT_REACHABLE");
        let listed = requester.call("RequestedCases", json!({ "first": 100 })).await; // the largest page, within the cost limit
        assert_eq!(listed["requestedCases"]["nodes"][0]["id"], case.as_str());
        let said = format!("{seen}{listed}");
        assert!(!said.contains(&volunteer.id.to_string()), "the requester never learns who the donor was");
        assert!(!said.contains(&volunteer.phone[3..]) && !said.contains(&volunteer.national_id));
        let other = Desk::hospital(&server, other_token);
        let refused = other.send("RequestedCase", json!({ "id": case })).await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"], "another hospital is refused");
        let theirs = other.call("RequestedCases", json!({})).await;
        assert!(theirs["requestedCases"]["nodes"].as_array().unwrap().is_empty(), "and lists none of it");
    }

    async fn scenario_5_a_family_concern_from_the_app_holds_clearance_until_resolved(db) {
        let app = db.app_with(|settings| {
            settings.database.max_connections = 1;
            settings.auth.volunteer_codes.resend_after_secs = 0;
        }).await;
        let server = app.serve().await;
        let desk = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let volunteer = available(&app, 2).await;
        let mut phone = Mobile::new(&server);
        assert!(phone.sign_in(&app, &volunteer.phone).await.is_none());
        let none = phone.call("MyDonation", json!({})).await;
        assert!(none["myDonation"].is_null(), "no case, no timeline");

        let opened = desk.call("OpenCase", open_input(&volunteer, &json!({ "requestingCentre": "Anthony Nolan" }))).await;
        let case = opened["openCase"]["id"].as_str().unwrap().to_owned();
        steps(&desk, &case, &TO_EXAM, 20).await;
        assert_eq!(status_of(&app, volunteer.id).await.0, DonorStatus::ReservedForThisPatient, "RS from typing on");

        let told = phone.call("TellCoordinator", json!({ "kind": "FAMILY_CONCERN", "message": "父母担心捐献伤身体" })).await;
        assert_eq!(told["tellCoordinator"]["kind"], "FAMILY_CONCERN");
        assert_eq!(alerts_of(&app, "case_family_concern").await, 1);

        let clearance = json!({ "caseId": case, "input": { "stage": "CLEARANCE", "on": days_ago(1) } });
        let held = desk.send("RecordCaseStep", clearance.clone()).await;
        assert_eq!(error_codes(&held), ["CONFLICT"], "{held}");
        assert_eq!(held["errors"][0]["extensions"]["field"], "input.stage");
        assert!(held["errors"][0]["message"].as_str().unwrap().contains("family concern"), "{held}");
        let file = desk.call("CaseFile", json!({ "id": case })).await;
        assert_eq!(file["caseFile"]["case"]["stage"], "EXAM_PASSED", "nothing moved");
        let concern = file["caseFile"]["requests"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(file["caseFile"]["requests"][0]["detail"], "父母担心捐献伤身体");
        assert_eq!(file["caseFile"]["requests"][0]["raisedBy"], "VOLUNTEER");

        let session = json!({ "caseRequestId": concern, "input": { "on": days_ago(0), "attendees": "父亲、母亲、协调员李老师" } });
        let booked = desk.call("BookFamilySession", session).await;
        assert_eq!(booked["bookFamilySession"]["sessionAttendees"], "父亲、母亲、协调员李老师");
        assert!(booked["bookFamilySession"]["resolvedAt"].is_null());
        let still_held = desk.send("RecordCaseStep", clearance.clone()).await;
        assert_eq!(error_codes(&still_held), ["CONFLICT"], "a booked session is not yet a resolution");
        let outcome = json!({ "caseRequestId": concern, "outcome": "家属了解流程后表示支持" });
        let resolved = desk.call("ResolveCaseRequest", outcome).await;
        assert!(resolved["resolveCaseRequest"]["resolvedAt"].is_string());

        let passed = desk.call("RecordCaseStep", clearance).await;
        assert_eq!(passed["recordCaseStep"]["stage"], "CLEARANCE");
        let timeline = phone.call("MyDonation", json!({})).await;
        let timeline = &timeline["myDonation"];
        assert_eq!(timeline["requests"][0]["outcome"], "家属了解流程后表示支持");
        assert_eq!(timeline["patientAgeBand"], "CHILD", "shared by the coordinator");
        assert_eq!(timeline["coordinatorPhone"], "028-8888 1234");
        let next: Vec<&Value> = timeline["steps"].as_array().unwrap().iter().filter(|s| s["progress"] == "NEXT").collect();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0]["stage"], "GCSF_START");
        assert!(next[0]["meaningZh"].as_str().unwrap().contains("动员剂"));
    }

    async fn a_donation_from_search_hit_to_the_month_1_check_up(db) {
        let app = db.app_with(|settings| {
            settings.database.max_connections = 1;
            settings.auth.volunteer_codes.resend_after_secs = 0;
        }).await;
        let server = app.serve().await;
        let desk = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let volunteer = available(&app, 3).await;
        app.set_quiet_hours("51", 0, 0).await; // the reminders' SMS must not wait for the morning
        let mut phone = Mobile::new(&server);
        assert!(phone.sign_in(&app, &volunteer.phone).await.is_none());
        let opened = desk.call("OpenCase", open_input(&volunteer, &json!({ "requestingCentre": "北京道培医院" }))).await;
        let case = opened["openCase"]["id"].as_str().unwrap().to_owned();
        assert_eq!(opened["openCase"]["staleContact"], false);

        steps(&desk, &case, &TO_EXAM, 70).await;
        // Reserved: the app cannot pause or withdraw alone (the wave-1 rule, now the case's stage).
        let pause = phone.send("PauseAvailability", json!({ "reason": "PERSONAL", "until": days_ago(-30) })).await;
        assert_eq!(error_codes(&pause), ["CONFLICT"], "{pause}");
        steps(&desk, &case, &["CLEARANCE", "GCSF_START", "COLLECTION"], 50).await;
        let (status, reason) = status_of(&app, volunteer.id).await;
        assert_eq!((status, reason), (DonorStatus::TemporarilyUnavailable, Some(StatusReason::AfterTransplantation)));
        steps(&desk, &case, &["TRANSPLANT", "FOLLOW_UP"], 47).await;
        // Lists at their largest page (100) stay within the cost limit.
        let listed = desk.call("DonationCases", json!({ "filter": { "branchCode": "51", "state": "FOLLOW_UP" }, "first": 100 })).await;
        assert_eq!(listed["donationCases"]["nodes"][0]["id"], case.as_str());

        // The served app's scheduler runs the reminders too; whichever run comes first, each
        // due check-up is reminded once.
        app.app.services().cases.remind_check_ups(Utc::now()).await.unwrap();
        assert_eq!(app.app.services().cases.remind_check_ups(Utc::now()).await.unwrap(), 0, "once");
        let reminded = case_follow_up::Entity::find()
            .filter(case_follow_up::Column::RemindedAt.is_not_null())
            .count(app.app.db())
            .await
            .unwrap();
        assert_eq!(reminded, 3, "day 2, week 1 and month 1 are due 48 days after collection");
        let queued = outbound_message::Entity::find()
            .filter(outbound_message::Column::TemplateKey.eq("follow_up_due"))
            .count(app.app.db())
            .await
            .unwrap();
        assert_eq!(queued, 6, "each check-up reaches the app and, by SMS, the phone");
        // The served app's workers deliver too: wait until the two the daily cap lets through
        // are sent, then a while more for a third that must not come.
        let sent = || {
            let texts = app.app.messaging().development_sms().unwrap().recent(&volunteer.phone, 10);
            texts.iter().filter(|sms| sms.template_key == "follow_up_due").count()
        };
        for _ in 0..200 {
            while app.app.messaging().deliver_batch("test").await.unwrap() > 0 {}
            if sent() >= 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        while app.app.messaging().deliver_batch("test").await.unwrap() > 0 {}
        assert_eq!(sent(), 2, "the branch's daily cap of non-essential SMS holds the third for tomorrow");

        let timeline = phone.call("MyDonation", json!({})).await;
        assert_eq!(timeline["myDonation"]["state"], "FOLLOW_UP");
        let check_ups = timeline["myDonation"]["checkUps"].as_array().unwrap().clone();
        assert_eq!(check_ups.len(), 14, "day 2, week 1, month 1, month 6, then ten years");
        let answers = json!({ "feelingWell": true, "symptoms": ["FATIGUE"], "seenDoctor": false, "note": "有点累" });
        for point in ["DAY_2", "WEEK_1", "MONTH_1"] {
            let id = check_ups.iter().find(|c| c["point"] == point).unwrap()["id"].clone();
            let answered = phone.call("AnswerCheckUp", json!({ "id": id, "input": answers })).await;
            assert!(answered["answerCheckUp"]["answeredAt"].is_string());
        }
        let again = phone.send("AnswerCheckUp", json!({ "id": check_ups[0]["id"], "input": answers })).await;
        assert_eq!(error_codes(&again), ["CONFLICT"], "answered once");
        let month_6 = check_ups.iter().find(|c| c["point"] == "MONTH_6").unwrap()["id"].clone();
        let early = phone.send("AnswerCheckUp", json!({ "id": month_6, "input": answers })).await;
        assert_eq!(error_codes(&early), ["CONFLICT"], "not due yet");
        let file = desk.call("CaseFile", json!({ "id": case })).await;
        let answered: Vec<&Value> =
            file["caseFile"]["checkUps"].as_array().unwrap().iter().filter(|c| c["answeredAt"].is_string()).collect();
        assert_eq!(answered.len(), 3);
        assert_eq!(answered[0]["answers"]["symptoms"], json!(["FATIGUE"]));
        let work = desk.call("UnansweredCheckUps", json!({ "branchCode": "51", "first": 100 })).await;
        assert!(work["unansweredCheckUps"]["nodes"].as_array().unwrap().is_empty(), "nothing waits two weeks yet");
    }

    async fn a_late_regret_after_clearance_raises_the_most_urgent_alert(db) {
        let app = db.app_with(|settings| settings.database.max_connections = 1).await;
        let server = app.serve().await;
        let desk = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let volunteer = available(&app, 4).await;
        let opened = desk.call("OpenCase", open_input(&volunteer, &json!({ "requestingCentre": "Anthony Nolan" }))).await;
        let case = opened["openCase"]["id"].as_str().unwrap().to_owned();
        steps(&desk, &case, &TO_EXAM, 30).await;
        steps(&desk, &case, &["CLEARANCE"], 2).await;

        let input = json!({ "caseId": case, "input": { "endedBy": "DONOR", "cause": "FAMILY", "note": "家人临时反对" } });
        let ended = desk.call("EndCase", input).await;
        let ending = &ended["endCase"]["ended"];
        assert_eq!(ending["stage"], "CLEARANCE");
        assert_eq!(ending["lateRegret"], true);
        assert_eq!(ending["note"], "家人临时反对");
        assert_eq!(alerts_of(&app, "late_regret").await, 1);
        let alerts = desk.call("StaffAlerts", json!({ "includeResolved": false })).await;
        let late = alerts["alerts"]["nodes"].as_array().unwrap().iter().find(|a| a["kind"] == "late_regret").cloned();
        assert_eq!(late.expect("the alert is listed")["urgent"], true);
        assert_eq!(status_of(&app, volunteer.id).await, (DonorStatus::TemporarilyUnavailable, Some(StatusReason::Personal)));
        let again = desk.send("EndCase", json!({ "caseId": case, "input": { "endedBy": "PATIENT", "cause": "OTHER" } })).await;
        assert_eq!(error_codes(&again), ["CONFLICT"], "an ended case stays ended");
    }

    async fn withdrawal_is_refused_while_reserved_and_later_unlinks_the_case_from_the_volunteer(db) {
        let app = db.app_with(|settings| {
            settings.database.max_connections = 1;
            settings.auth.volunteer_codes.resend_after_secs = 0;
        }).await;
        let server = app.serve().await;
        let desk = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let volunteer = available(&app, 10).await;
        let mut phone = Mobile::new(&server);
        assert!(phone.sign_in(&app, &volunteer.phone).await.is_none());
        let opened = desk.call("OpenCase", open_input(&volunteer, &json!({ "requestingCentre": "Anthony Nolan" }))).await;
        let case = opened["openCase"]["id"].as_str().unwrap().to_owned();
        steps(&desk, &case, &["CT_REQUESTED"], 5).await;
        phone.call("TellCoordinator", json!({ "kind": "QUESTION", "message": "需要请几天假？" })).await;
        let withdraw = |confirmation: Value| json!({ "cause": "WORK", "confirmation": confirmation });
        let notice = phone.call("WithdrawalNotice", json!({})).await;
        let refused = phone.send("Withdraw", withdraw(notice["withdrawalNotice"]["confirmation"].clone())).await;
        assert_eq!(error_codes(&refused), ["CONFLICT"], "reserved from confirmatory typing on: {refused}");
        assert_eq!(alerts_of(&app, "withdrawal_during_case").await, 1);

        let end = json!({ "caseId": case, "input": { "endedBy": "PATIENT", "cause": "OTHER", "note": "患者病情变化" } });
        desk.call("EndCase", end).await;
        assert_eq!(status_of(&app, volunteer.id).await.0, DonorStatus::Available, "not the donor's doing");
        let notice = phone.call("WithdrawalNotice", json!({})).await;
        phone.call("Withdraw", withdraw(notice["withdrawalNotice"]["confirmation"].clone())).await;

        let kept = donation_case::Entity::find().one(app.app.db()).await.unwrap().unwrap();
        assert_eq!(kept.volunteer_id, None, "the case names no one once the volunteer withdrew");
        assert_eq!(kept.end_note, None);
        assert_eq!((kept.ended_stage.as_deref(), kept.ended_by.as_deref()), (Some("ct_requested"), Some("patient")));
        let requests = entity::case_request::Entity::find().count(app.app.db()).await.unwrap();
        assert_eq!(requests, 0, "what the donor said is erased");
    }

    async fn a_donor_in_an_active_case_who_reconnects_brings_their_coordinator_an_alert(db) {
        let app = db.app_with(|settings| settings.database.max_connections = 1).await;
        let server = app.serve().await;
        let desk = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let volunteer = available(&app, 11).await;
        app.age_confirmation(volunteer.id, 400).await;
        desk.call("OpenCase", open_input(&volunteer, &json!({ "requestingCentre": "Anthony Nolan" }))).await;
        let input = json!({ "phone": "+8613900000077", "source": "BACKUP_CONTACT", "note": "母亲告知新号码" });
        desk.call("RecordVolunteerPhone", json!({ "volunteerId": volunteer.id.to_string(), "input": input })).await;
        assert_eq!(alerts_of(&app, "case_donor_reconnected").await, 1, "the case waits to reach them on it");
        let unrelated = available(&app, 12).await;
        let input = json!({ "phone": "+8613900000078", "source": "VOLUNTEER_CALL" });
        desk.call("RecordVolunteerPhone", json!({ "volunteerId": unrelated.id.to_string(), "input": input })).await;
        assert_eq!(alerts_of(&app, "case_donor_reconnected").await, 1, "no case, no case alert");
    }

    async fn a_stale_volunteer_a_search_hit_tops_the_lost_contact_queue(db) {
        let app = db.app_with(|settings| settings.database.max_connections = 1).await;
        let server = app.serve().await;
        let desk = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let matched = available(&app, 14).await;
        let rare = available(&app, 15).await;
        volunteer::ActiveModel { id: Set(rare.id), blood_rh: Set(Some("negative".into())), ..Default::default() }
            .update(app.app.db())
            .await
            .unwrap();
        for id in [matched.id, rare.id] {
            app.age_confirmation(id, 400).await;
        }
        desk.call("OpenCase", open_input(&matched, &json!({ "requestingCentre": "Anthony Nolan" }))).await;
        app.app.services().work_queue.refresh(Utc::now()).await.unwrap();
        let queue = desk.call("LostContactQueue", json!({ "branchCode": "51", "first": 10 })).await;
        let entries = queue["lostContactQueue"]["entries"].as_array().unwrap();
        let order: Vec<&str> = entries.iter().map(|entry| entry["volunteer"]["id"].as_str().unwrap()).collect();
        assert_eq!(order, [matched.id.to_string(), rare.id.to_string()], "a patient waits for the first");
    }

    async fn bad_input_names_its_field_and_stores_nothing(db) {
        let app = db.app_with(|settings| settings.database.max_connections = 1).await;
        let server = app.serve().await;
        let desk = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let volunteer = available(&app, 5).await;
        let opened = desk.call("OpenCase", open_input(&volunteer, &json!({ "requestingCentre": "Anthony Nolan" }))).await;
        let case = opened["openCase"]["id"].as_str().unwrap().to_owned();
        steps(&desk, &case, &["CT_REQUESTED"], 10).await;
        let steps_before = case_milestone::Entity::find().count(app.app.db()).await.unwrap();

        let step = |stage: &str, on: NaiveDate| json!({ "caseId": case, "input": { "stage": stage, "on": on } });
        let cases = [
            (step("CT_SAMPLE_TAKEN", days_ago(-1)), "input.on", "a date in the future"),
            (step("CT_SAMPLE_TAKEN", days_ago(11)), "input.on", "a date before the previous step"),
            (step("CT_RESULT", days_ago(1)), "input.stage", "a move that skips a stage"),
        ];
        for (variables, field, what) in cases {
            let refused = desk.send("RecordCaseStep", variables).await;
            assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{what}: {refused}");
            assert_eq!(refused["errors"][0]["extensions"]["field"], field, "{what}");
        }
        let backwards = desk.send("RecordCaseStep", step("SEARCH_HIT", days_ago(1))).await;
        assert_eq!(error_codes(&backwards), ["CONFLICT"]);
        assert!(backwards["errors"][0]["message"].as_str().unwrap().contains("ct_requested"), "names the stage: {backwards}");

        let end = |cause: &str, note: Value| json!({ "caseId": case, "input": { "endedBy": "DONOR", "cause": cause, "note": note } });
        let unknown = desk.send("EndCase", end("BORED", Value::Null)).await;
        assert_eq!(error_codes(&unknown), ["BAD_USER_INPUT"], "an unknown cause: {unknown}");
        for (note, what) in [(json!("   "), "an empty note"), (json!("字".repeat(501)), "an oversized note")] {
            let refused = desk.send("EndCase", end("FEAR", note)).await;
            assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{what}: {refused}");
            assert_eq!(refused["errors"][0]["extensions"]["field"], "input.note", "{what}");
        }
        let bad_reference = open_input(&available(&app, 6).await, &json!({ "requestingCentre": "Anthony Nolan" }));
        let mut bad_reference = bad_reference;
        bad_reference["input"]["patientReference"] = json!("王小明");
        let refused = desk.send("OpenCase", bad_reference).await;
        assert_eq!(refused["errors"][0]["extensions"]["field"], "input.patientReference", "a name is no reference");

        assert_eq!(case_milestone::Entity::find().count(app.app.db()).await.unwrap(), steps_before, "no step stored");
        let stored = donation_case::Entity::find().all(app.app.db()).await.unwrap();
        assert_eq!(stored.len(), 1, "no second case");
        assert_eq!(stored[0].stage, "ct_requested");
        assert!(stored[0].ended_at.is_none());
    }

    async fn each_case_is_its_branch_coordinators_to_move_and_nobody_elses(db) {
        let app = db.app_with(|settings| settings.database.max_connections = 1).await;
        let server = app.serve().await;
        let coordinator = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let elsewhere = Desk::staff(&server, app.staff_token("branch_coordinator", "11").await);
        let recruiter = Desk::staff(&server, app.staff_token("branch_recruiter", "51").await);
        let volunteer = available(&app, 7).await;
        let stranger = available(&app, 8).await;
        let opened = coordinator.call("OpenCase", open_input(&volunteer, &json!({ "requestingCentre": "Anthony Nolan" }))).await;
        let case = opened["openCase"]["id"].as_str().unwrap().to_owned();
        let step = json!({ "caseId": case, "input": { "stage": "CT_REQUESTED", "on": days_ago(0) } });

        // Another branch's coordinator neither reads nor moves it, nor opens one on the volunteer.
        let read = elsewhere.send("CaseFile", json!({ "id": case })).await;
        assert_eq!(error_codes(&read), ["FORBIDDEN"]);
        assert_eq!(error_codes(&elsewhere.send("RecordCaseStep", step.clone()).await), ["FORBIDDEN"]);
        let listed = elsewhere.send("DonationCases", json!({ "filter": { "branchCode": "51" } })).await;
        assert_eq!(error_codes(&listed), ["FORBIDDEN"]);
        let theirs = open_input(&stranger, &json!({ "requestingCentre": "Anthony Nolan" }));
        assert_eq!(error_codes(&elsewhere.send("OpenCase", theirs).await), ["FORBIDDEN"]);
        // A recruiter of the branch reads the case but does not move it (our choice: recruiters
        // reach volunteers, coordinators decide about cases).
        let file = recruiter.call("CaseFile", json!({ "id": case })).await;
        assert_eq!(file["caseFile"]["case"]["id"], case.as_str());
        assert_eq!(error_codes(&recruiter.send("RecordCaseStep", step.clone()).await), ["FORBIDDEN"]);
        let end = json!({ "caseId": case, "input": { "endedBy": "PATIENT", "cause": "OTHER" } });
        assert_eq!(error_codes(&recruiter.send("EndCase", end).await), ["FORBIDDEN"]);

        // Another volunteer sees no case and cannot speak on this one.
        let mut other_phone = Mobile::new(&server);
        assert!(other_phone.sign_in(&app, &stranger.phone).await.is_none());
        assert!(other_phone.call("MyDonation", json!({})).await["myDonation"].is_null());
        let told = other_phone.send("TellCoordinator", json!({ "kind": "QUESTION", "message": "?" })).await;
        assert_eq!(error_codes(&told), ["NOT_FOUND"]);

        // A second search hit on a volunteer in a case is refused, and the branch sees it.
        let second = coordinator.send("OpenCase", open_input(&volunteer, &json!({ "requestingCentre": "DKMS" }))).await;
        assert_eq!(error_codes(&second), ["CONFLICT"]);
        assert_eq!(second["errors"][0]["extensions"]["field"], "input.volunteerId");
        assert_eq!(alerts_of(&app, "case_second_request").await, 1);
        coordinator.call("RecordCaseStep", step).await;
    }

    async fn the_timeline_and_the_case_page_cost_the_same_statements_however_long_the_case(db) {
        // In process and not served: no scheduler runs statements of its own meanwhile.
        let app = db.app().await;
        let coordinator = app.coordinator("51").await;
        let staff = |name: &str, variables: Value| {
            let document = client_document("staff", name);
            let coordinator = coordinator.clone();
            let app = &app;
            async move { app.data_as(&coordinator, &document, variables).await }
        };
        let volunteer = available(&app, 9).await;
        let opened = staff("OpenCase", open_input(&volunteer, &json!({ "requestingCentre": "Anthony Nolan" }))).await;
        let case = opened["openCase"]["id"].as_str().unwrap().to_owned();
        let me = api::service::Principal::Volunteer { id: volunteer.id };
        let timeline = client_document("mobile", "MyDonation");
        let page = client_document("staff", "CaseFile");
        let (_, short_timeline) = app.count_statements(app.data_as(&me, &timeline, json!({}))).await;
        let (_, short_page) = app.count_statements(app.data_as(&coordinator, &page, json!({ "id": case }))).await;

        let stages = TO_EXAM.iter().chain(&["CLEARANCE", "GCSF_START", "COLLECTION", "TRANSPLANT"]);
        for (i, stage) in stages.enumerate() {
            let on = days_ago(40 - i64::try_from(i).unwrap());
            let collected = (*stage == "COLLECTION").then_some(400);
            staff("RecordCaseStep", json!({ "caseId": case, "input": { "stage": stage, "on": on, "collectedMl": collected } }))
                .await;
            let outcome = if i < 5 { "NO_ANSWER" } else { "REACHED" };
            let attempt = json!({ "caseId": case, "input": { "channel": "PHONE_CALL", "outcome": outcome } });
            staff("LogCaseContactAttempt", attempt).await;
            let question = json!({ "caseId": case, "kind": "QUESTION", "detail": format!("问题{i}") });
            staff("RaiseCaseRequest", question).await;
        }
        let (long, long_timeline) = app.count_statements(app.data_as(&me, &timeline, json!({}))).await;
        let (file, long_page) = app.count_statements(app.data_as(&coordinator, &page, json!({ "id": case }))).await;
        assert_eq!(long["myDonation"]["requests"].as_array().unwrap().len(), 10);
        assert_eq!(file["caseFile"]["attempts"].as_array().unwrap().len(), 10);
        assert_eq!(file["caseFile"]["steps"].as_array().unwrap().len(), 11);
        assert_eq!(file["caseFile"]["checkUps"].as_array().unwrap().len(), 14);
        assert_eq!(short_timeline, long_timeline, "the timeline reads a fixed number of statements");
        assert_eq!(short_page, long_page, "the case page reads a fixed number of statements");
        assert_eq!((long_timeline, long_page), (5, 5), "the case, then one statement per relation");
    }

    async fn regret_is_counted_by_month_stage_and_cause_for_the_branch_and_the_nation(db) {
        let app = db.app_with(|settings| settings.database.max_connections = 1).await;
        let server = app.serve().await;
        let admin = Desk::staff(&server, app.staff_token("national_admin", "11").await);
        let sichuan = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let beijing = Desk::staff(&server, app.staff_token("branch_coordinator", "11").await);
        let mut opened = Vec::new();
        for n in 0..4 {
            let volunteer = available(&app, 20 + n).await;
            let case = sichuan.call("OpenCase", open_input(&volunteer, &json!({ "requestingCentre": "Anthony Nolan" }))).await;
            opened.push(case["openCase"]["id"].as_str().unwrap().to_owned());
        }
        let beijing_volunteer = app.register_volunteer(30, "11").await;
        volunteer::ActiveModel { id: Set(beijing_volunteer.id), status: Set(DonorStatus::Available), ..Default::default() }
            .update(app.app.db())
            .await
            .unwrap();
        let in_beijing = beijing.call("OpenCase", open_input(&beijing_volunteer, &json!({ "requestingCentre": "DKMS" }))).await;
        let in_beijing = in_beijing["openCase"]["id"].as_str().unwrap().to_owned();
        let end = |case: &str, by: &str, cause: &str| json!({ "caseId": case, "input": { "endedBy": by, "cause": cause } });
        // Branch 51: two donor-side ends (family at clearance: late; fear at typing), one on the
        // patient's side, one collected. Branch 11: one donor-side end for work.
        steps(&sichuan, &opened[0], &TO_EXAM, 60).await;
        steps(&sichuan, &opened[0], &["CLEARANCE"], 30).await;
        sichuan.call("EndCase", end(&opened[0], "DONOR", "FAMILY")).await;
        steps(&sichuan, &opened[1], &["CT_REQUESTED"], 80).await;
        sichuan.call("EndCase", end(&opened[1], "DONOR", "FEAR")).await;
        sichuan.call("EndCase", end(&opened[2], "PATIENT", "OTHER")).await;
        steps(&sichuan, &opened[3], &TO_EXAM, 50).await;
        steps(&sichuan, &opened[3], &["CLEARANCE", "GCSF_START", "COLLECTION"], 20).await;
        beijing.call("EndCase", end(&in_beijing, "DONOR", "WORK")).await;

        // Steps are dated up to 90 days back, so the figures span the months since.
        let now = Utc::now();
        let this_month = api::domain::calendar::month_of(now);
        let since = this_month.checked_sub_months(chrono::Months::new(4)).unwrap();
        app.app.services().cases.roll_up_figures(since, this_month, now).await.unwrap();
        let variables = |branch: Value| json!({ "branchCode": branch, "from": since, "to": this_month });
        let ours = sichuan.call("AttritionFigures", variables(json!("51"))).await;
        let months = ours["attritionFigures"].as_array().unwrap();
        let sum = |field: &str| months.iter().map(|month| month["cases"][field].as_i64().unwrap()).sum::<i64>();
        assert_eq!(sum("collected"), 1);
        let collection: Vec<&Value> = months
            .iter()
            .flat_map(|month| month["cases"]["milestoneDays"].as_array().unwrap())
            .filter(|row| row["stage"] == "COLLECTION")
            .collect();
        assert_eq!(collection.len(), 1);
        assert_eq!(collection[0]["medianDays"], 72, "from the search hit 90 days ago to collection 18 days ago");
        // Cases are opened and ended now: the current month holds them.
        let ours = &months.last().unwrap()["cases"];
        assert_eq!(ours["opened"], 4);
        assert_eq!(ours["endedEarly"], 3);
        assert_eq!(ours["donorEnded"], 2);
        assert_eq!(ours["lateRegrets"], 1);
        let closed = ours["endedEarly"].as_i64().unwrap() + ours["collected"].as_i64().unwrap();
        let expected = 2.0 / f64::from(i32::try_from(closed).unwrap());
        assert!((ours["regretRate"].as_f64().unwrap() - expected).abs() < 1e-9, "{ours}");
        let clearance = ours["byStage"].as_array().unwrap().iter().find(|row| row["stage"] == "CLEARANCE").unwrap();
        assert_eq!((clearance["ended"].as_i64(), clearance["donorEnded"].as_i64()), (Some(1), Some(1)));
        let causes: Vec<(&str, i64)> = ours["byCause"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| (row["cause"].as_str().unwrap(), row["count"].as_i64().unwrap()))
            .collect();
        assert_eq!(causes, [("FAMILY", 1), ("FEAR", 1)]);

        let nation = admin.call("AttritionFigures", variables(Value::Null)).await;
        let nation = &nation["attritionFigures"].as_array().unwrap().last().unwrap()["cases"];
        assert_eq!((nation["opened"].as_i64(), nation["donorEnded"].as_i64()), (Some(5), Some(3)));
        let refused = beijing.send("AttritionFigures", variables(json!("51"))).await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"], "another branch's figures are refused");
    }
}
