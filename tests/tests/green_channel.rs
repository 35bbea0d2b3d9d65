//! The hospital green channel, played over HTTP with the documents of `contract/hospital/` and
//! `contract/staff/`, against a hospital's webhook receiver on a real loopback HTTP server that
//! verifies every signature with the Standard Webhooks reference library (`standardwebhooks`),
//! which we did not write: scenario 7, signatures, delivery under faults, idempotency under
//! concurrency, bad input that stores nothing, and who is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use std::sync::atomic::Ordering;
use std::time::{Duration as StdDuration, Instant};

use axum::http::HeaderMap;

use chrono::{Duration, Utc};
use entity::{admission_request, audit_event, staff_alert, webhook_endpoint, webhook_event};
use registry_tests::desk::{Desk, available, partner_hospital};
use registry_tests::mobile::Mobile;
use registry_tests::receiver::{Receiver, register};
use registry_tests::{TestApp, both_backends, error_codes, field_of, in_days};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

/// A case opened for a new available volunteer, requested by `hospital`.
async fn case_for(app: &TestApp, n: u32, hospital: &str) -> (String, registry_tests::Registered) {
    let volunteer = available(app, n).await;
    let requester = api::service::cases::Requester::Hospital(hospital.parse().unwrap());
    let (case, _) = app.open_case(volunteer.id, "51", requester).await;
    (case.to_string(), volunteer)
}

fn admission_input(case: &str, hospital: &str, hours: i32) -> Value {
    json!({ "input": {
        "caseId": case,
        "hospitalId": hospital,
        "purpose": "MEDICAL_EXAM",
        "proposedOn": in_days(7),
        "alternatives": [in_days(8), in_days(9)],
        "stayDays": 2,
        "answerWithinHours": hours,
    } })
}

fn accept_input(request: &str, key: &str) -> Value {
    json!({ "idempotencyKey": key, "input": {
        "requestId": request,
        "admittedOn": in_days(8),
        "department": "血液科",
        "contactName": "李护士",
        "contactPhone": "13800000021",
    } })
}

async fn count_audit(app: &TestApp, action: &str) -> u64 {
    audit_event::Entity::find().filter(audit_event::Column::Action.eq(action)).count(app.app.db()).await.unwrap()
}

both_backends! {
    async fn scenario_7_a_green_channel_request_is_answered_escalated_and_rerouted(db) {
        let app = db.app_with(|settings| settings.webhooks.allow_private_network = Some(true)).await;
        let server = app.serve().await;
        let admin = app.staff_token("national_admin", "11").await;
        let staff = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let (huaxi, huaxi_token) = partner_hospital(&server, &admin, "四川大学华西医院").await;
        let (third, third_token) = partner_hospital(&server, &admin, "成都市第三人民医院").await;
        let huaxi_desk = Desk::hospital(&server, huaxi_token.clone());
        let third_desk = Desk::hospital(&server, third_token);
        let (huaxi_hooks, huaxi_url) = Receiver::start().await;
        let (third_hooks, third_url) = Receiver::start().await;
        register(&huaxi_desk, &huaxi_hooks, &huaxi_url).await;
        register(&third_desk, &third_hooks, &third_url).await;

        // Staff request admission; the hospital's system hears of it, signed.
        let (case, volunteer) = case_for(&app, 1, &huaxi).await;
        let requested = staff.call("RequestAdmission", admission_input(&case, &huaxi, 48)).await;
        let request = requested["requestAdmission"]["id"].as_str().unwrap().to_owned();
        assert_eq!(requested["requestAdmission"]["status"], "REQUESTED");
        assert_eq!(requested["requestAdmission"]["caseId"], case.as_str(), "staff see the case");
        let heard = huaxi_hooks.wait_for(1).await;
        assert_eq!(heard[0]["type"], "admission.requested");
        assert_eq!(heard[0]["data"]["admissionRequestId"], request.as_str());
        assert!(!heard[0].to_string().contains(&volunteer.national_id), "a webhook names records, never people");

        // The hospital reads what admission needs, and no more.
        let open = huaxi_desk.call("AdmissionRequests", json!({ "first": 10 })).await;
        let listed = &open["admissionRequests"][0];
        assert_eq!(listed["id"], request.as_str());
        assert_eq!(listed["stayDays"], 2);
        assert_eq!(listed["alternatives"].as_array().unwrap().len(), 2);
        let masked = listed["donor"]["name"].as_str().unwrap().to_owned();
        assert!(masked.contains('*'), "the donor's name is masked: {masked}");
        let before = huaxi_desk.call("AdmissionRequest", json!({ "id": request })).await;
        assert_eq!(before["admissionRequest"]["donorIdentity"], Value::Null, "no identity before accepting");
        let text = format!("{open}{before}");
        assert!(!text.contains(&volunteer.national_id) && !text.contains(&volunteer.phone[3..]));
        assert_eq!(count_audit(&app, "volunteer.unmask").await, 0);

        // It accepts, and now sees the donor's identity, with one audit row.
        let accepted = huaxi_desk.call("AcceptAdmission", accept_input(&request, "accept-1")).await;
        assert_eq!(accepted["acceptAdmission"]["status"], "ACCEPTED");
        assert_eq!(accepted["acceptAdmission"]["answeredLate"], false);
        let after = huaxi_desk.call("AdmissionRequest", json!({ "id": request })).await;
        let identity = &after["admissionRequest"]["donorIdentity"];
        assert_eq!(identity["nationalId"], volunteer.national_id.as_str());
        let full = identity["fullName"].as_str().unwrap();
        assert!(!full.contains('*') && full.chars().next() == masked.chars().next());
        assert_eq!(count_audit(&app, "volunteer.unmask").await, 1, "the release is one audited unmasking");
        let changed = huaxi_hooks.wait_for(2).await;
        assert_eq!(changed[1]["type"], "admission.changed");
        assert_eq!(changed[1]["data"]["status"], "accepted");

        // The donor sees the admission on their case's timeline.
        let mut phone = Mobile::new(&server);
        assert!(phone.sign_in(&app, &volunteer.phone).await.is_none());
        let timeline = phone.call("MyDonation", json!({})).await;
        let admission = &timeline["myDonation"]["admissions"][0];
        assert_eq!(admission["hospitalName"], "四川大学华西医院");
        assert_eq!((admission["status"].as_str(), admission["department"].as_str()), (Some("ACCEPTED"), Some("血液科")));
        assert_eq!(admission["admittedOn"], in_days(8).to_string());

        // A second request is left unanswered past its deadline, escalated and re-routed.
        let (late_case, _) = case_for(&app, 2, &huaxi).await;
        let late = staff.call("RequestAdmission", admission_input(&late_case, &huaxi, 1)).await;
        let late = late["requestAdmission"]["id"].as_str().unwrap().to_owned();
        let ran = app.app.services().jobs.run_periodic(Utc::now() + Duration::hours(2)).await.unwrap();
        assert!(ran.contains(&("admissions.deadlines", Some(1))), "{ran:?}");
        let alerts = staff_alert::Entity::find()
            .filter(staff_alert::Column::Kind.eq("admission_overdue"))
            .count(app.app.db())
            .await
            .unwrap();
        assert_eq!(alerts, 1);
        let history = staff.call("CaseAdmissions", json!({ "caseId": late_case })).await;
        assert_eq!(history["caseAdmissions"][0]["escalated"], true);
        let moved = staff.call("RerouteAdmission", json!({ "requestId": late, "hospitalId": third })).await;
        let rerouted = moved["rerouteAdmission"]["id"].as_str().unwrap().to_owned();
        assert_eq!(moved["rerouteAdmission"]["reroutedFrom"], late.as_str());
        assert_eq!(moved["rerouteAdmission"]["hospitalName"], "成都市第三人民医院");
        let history = staff.call("CaseAdmissions", json!({ "caseId": late_case })).await;
        let statuses: Vec<&str> =
            history["caseAdmissions"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["REQUESTED", "CANCELLED"], "the history stays whole");
        let cancelled = huaxi_hooks.wait_for(4).await;
        assert!(cancelled.iter().any(|event| event["type"] == "admission.cancelled"
            && event["data"]["admissionRequestId"] == late.as_str()));

        // The first hospital can no longer answer it; the other answers its own.
        let closed = huaxi_desk.send("AcceptAdmission", accept_input(&late, "accept-late")).await;
        assert_eq!(error_codes(&closed), ["CONFLICT"], "{closed}");
        let foreign = third_desk.send("AdmissionRequest", json!({ "id": request })).await;
        assert_eq!(error_codes(&foreign), ["FORBIDDEN"], "{foreign}");
        let waiting = third_desk.call("AdmissionRequests", json!({})).await;
        assert_eq!(waiting["admissionRequests"].as_array().unwrap().len(), 1);
        let answered = third_desk.call("AcceptAdmission", accept_input(&rerouted, "accept-third")).await;
        assert_eq!(answered["acceptAdmission"]["status"], "ACCEPTED");
        assert_eq!(third_hooks.wait_for(2).await[0]["type"], "admission.requested");

        // The scorecard: the evidence a branch takes to a hospital.
        let from = in_days(-1);
        let scores = staff.call("HospitalScorecard", json!({ "branchCode": "51", "from": from, "to": in_days(1) })).await;
        let scores = scores["hospitalScorecard"].as_array().unwrap().clone();
        let of = |id: &str| scores.iter().find(|score| score["hospitalId"] == id).unwrap().clone();
        assert_eq!((of(&huaxi)["requests"].as_u64(), of(&huaxi)["accepted"].as_u64()), (Some(2), Some(1)));
        assert_eq!((of(&third)["requests"].as_u64(), of(&third)["accepted"].as_u64()), (Some(1), Some(1)));
        assert_eq!(of(&huaxi)["acceptanceRate"], 1.0);
        assert!(of(&third)["medianHoursToAnswer"].as_f64().unwrap() < 1.0);
    }

    async fn webhook_signatures_fail_the_reference_check_when_tampered_stale_or_keyed_wrong(db) {
        let app = db.app_with(|settings| settings.webhooks.allow_private_network = Some(true)).await;
        let server = app.serve().await;
        let admin = app.staff_token("national_admin", "11").await;
        let staff = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let (hospital, token) = partner_hospital(&server, &admin, "四川省人民医院").await;
        let desk = Desk::hospital(&server, token);
        let (hooks, url) = Receiver::start().await;
        let secret = register(&desk, &hooks, &url).await;
        let (case, _) = case_for(&app, 1, &hospital).await;
        staff.call("RequestAdmission", admission_input(&case, &hospital, 48)).await;
        hooks.wait_for(1).await;
        let got = hooks.all().into_iter().find(|got| got.accepted).unwrap();
        let verify = |secret: &str, body: &[u8], headers: &HeaderMap| {
            standardwebhooks::Webhook::new(secret).unwrap().verify(body, headers)
        };
        assert!(verify(&secret, &got.body, &got.headers).is_ok());
        let mut tampered = got.body.to_vec();
        let at = tampered.iter().position(|byte| *byte == b'r').unwrap();
        tampered[at] = b'R';
        assert!(verify(&secret, &tampered, &got.headers).is_err(), "a tampered body fails");
        let other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        assert!(verify(other, &got.body, &got.headers).is_err(), "a wrong secret fails");
        let id = got.headers["webhook-id"].to_str().unwrap();
        let stale = Utc::now().timestamp() - 600;
        let body = std::str::from_utf8(&got.body).unwrap();
        let mut old = got.headers.clone();
        old.insert("webhook-timestamp", stale.to_string().parse().unwrap());
        old.insert("webhook-signature", api::service::webhooks::sign(&secret, id, stale, body).unwrap().parse().unwrap());
        assert!(verify(&secret, &got.body, &old).is_err(), "a stale timestamp fails, even signed right");

        // A rotation signs with both secrets through the overlap.
        let rotated = desk.call("RotateWebhookSecret", json!({ "idempotencyKey": "rotate-1" })).await;
        let new_secret = rotated["rotateWebhookSecret"]["secret"].as_str().unwrap().to_owned();
        assert!(rotated["rotateWebhookSecret"]["endpoint"]["previousSecretUntil"].is_string());
        let (second, _) = case_for(&app, 2, &hospital).await;
        staff.call("RequestAdmission", admission_input(&second, &hospital, 48)).await;
        hooks.wait_for(2).await;
        let last = hooks.all().into_iter().rev().find(|got| got.accepted).unwrap();
        assert!(verify(&secret, &last.body, &last.headers).is_ok(), "the old secret verifies in the overlap");
        assert!(verify(&new_secret, &last.body, &last.headers).is_ok(), "and so does the new one");
        let endpoint = desk.call("WebhookEndpoint", json!({})).await;
        assert_eq!(endpoint["webhookEndpoint"]["url"], url.as_str());

        // A case the hospital requested ends: its open request is withdrawn, and it is told.
        let end = json!({ "caseId": second, "input": { "endedBy": "PATIENT", "cause": "OTHER" } });
        staff.call("EndCase", end).await;
        let told = hooks.wait_for(4).await;
        let types: Vec<&str> = told[2..].iter().map(|event| event["type"].as_str().unwrap()).collect();
        assert!(types.contains(&"admission.cancelled") && types.contains(&"case.ended"), "{types:?}");
        let ended = told.iter().find(|event| event["type"] == "case.ended").unwrap();
        assert_eq!((ended["data"]["caseId"].as_str(), ended["data"]["endedBy"].as_str()), (Some(second.as_str()), Some("patient")));
    }

    async fn deliveries_retry_with_growing_gaps_dead_letter_and_never_go_twice(db) {
        let app = db
            .app_with(|settings| {
                settings.webhooks.allow_private_network = Some(true);
                settings.webhooks.backoff_base_ms = 300;
                settings.webhooks.max_attempts = 4;
            })
            .await;
        let coordinator = app.coordinator("51").await;
        let admin = api::service::Principal::Staff {
            id: uuid::Uuid::now_v7(),
            role: api::service::StaffRole::NationalAdmin,
            branch: "11".into(),
        };
        let services = app.app.services();
        let new = api::service::NewHospital {
            name: "成都市第一人民医院".into(),
            branch_code: "51".into(),
            contact_name: "王".into(),
            contact_phone: "13800000001".into(),
        };
        let hospital = services.hospitals.register(&admin.national_admin().unwrap(), &admin, new, None).await.unwrap();
        let caller = api::service::Principal::Hospital { id: hospital.id, branch: "51".into() };
        let partner = caller.partner_hospital().unwrap();
        let (hooks, url) = Receiver::start().await;
        let issued = services.webhooks.register(&partner, &caller, "endpoint", url, None).await.unwrap();
        hooks.set_secret(&issued.secret);
        let request = |n: u32| {
            let (app, coordinator, hospital) = (&app, coordinator.clone(), hospital.id);
            async move {
                let volunteer = available(app, n).await;
                let (case, _) = app.open_case(volunteer.id, "51", api::service::cases::Requester::Centre("外院".into())).await;
                let input = api::service::green_channel::NewAdmission {
                    case_id: case,
                    hospital_id: hospital,
                    purpose: api::domain::admission::AdmissionPurpose::MedicalExam,
                    proposed_on: in_days(5),
                    alternatives: vec![],
                    stay_days: 1,
                    answer_within_hours: None,
                };
                let channel = &app.app.services().green_channel;
                channel.request(&coordinator.coordinator().unwrap(), &coordinator, input, None).await.unwrap()
            }
        };
        let webhooks = &services.webhooks;
        let deliver = |worker: &'static str| async move { webhooks.deliver_due(worker).await.unwrap() };

        // Three failures, then success: one event accepted, the gaps growing.
        hooks.fail_first.store(3, Ordering::SeqCst);
        request(1).await;
        let started = Instant::now();
        while hooks.accepted().is_empty() && started.elapsed() < StdDuration::from_secs(20) {
            deliver("w1").await;
            tokio::time::sleep(StdDuration::from_millis(10)).await;
        }
        let tries = hooks.all();
        assert_eq!(tries.len(), 4, "three refusals and one success");
        assert_eq!(hooks.accepted().len(), 1, "exactly one event accepted");
        let gaps: Vec<StdDuration> = tries.windows(2).map(|pair| pair[1].at - pair[0].at).collect();
        assert!(gaps[2] > gaps[0], "the retry gaps grow: {gaps:?}");
        let ids: Vec<&str> = tries.iter().map(|got| got.headers["webhook-id"].to_str().unwrap()).collect();
        assert!(ids.windows(2).all(|pair| pair[0] == pair[1]), "every try carries one webhook-id");

        // The receiver down past the limit: dead-lettered, and the branch alerted.
        hooks.down.store(true, Ordering::SeqCst);
        request(2).await;
        let started = Instant::now();
        loop {
            deliver("w1").await;
            let list = services.webhooks.deliveries(&partner, 10).await.unwrap();
            if list[0].status == "failed" || started.elapsed() > StdDuration::from_secs(20) {
                assert_eq!(list[0].status, "failed");
                assert_eq!(list[0].attempts, 4);
                assert_eq!(list[0].last_status, Some(503));
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
        let alerts =
            staff_alert::Entity::find().filter(staff_alert::Column::Kind.eq("job_failed")).count(app.app.db()).await.unwrap();
        assert_eq!(alerts, 1, "a dead delivery alerts the hospital's branch");

        // Asked again once the receiver is back, it goes with the same webhook-id.
        hooks.down.store(false, Ordering::SeqCst);
        let dead = services.webhooks.deliveries(&partner, 1).await.unwrap().remove(0);
        let again = services.webhooks.redeliver(&partner, &caller, "again", dead.id, None).await.unwrap();
        assert_eq!(again.message_id, dead.message_id);
        deliver("w1").await;
        assert_eq!(hooks.accepted().len(), 2);

        // Two workers at once never send one event twice once the receiver acknowledged it.
        let before = hooks.all().len();
        request(3).await;
        let (one, two) = tokio::join!(deliver("w1"), deliver("w2"));
        assert_eq!(one + two, 1, "one worker delivered it");
        assert_eq!(hooks.all().len(), before + 1, "the receiver saw it once");
    }

    async fn an_idempotency_key_replays_refuses_other_input_and_runs_once_under_concurrency(db) {
        let app = db.app_with(|settings| settings.webhooks.allow_private_network = Some(true)).await;
        let server = app.serve().await;
        let admin = app.staff_token("national_admin", "11").await;
        let staff = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let (hospital, token) = partner_hospital(&server, &admin, "绵阳市中心医院").await;
        let desk = Desk::hospital(&server, token);
        let (hooks, url) = Receiver::start().await;
        register(&desk, &hooks, &url).await;

        // Twenty concurrent accepts with one key: one change, one webhook, one audit row.
        let (case, _) = case_for(&app, 1, &hospital).await;
        let requested = staff.call("RequestAdmission", admission_input(&case, &hospital, 48)).await;
        let request = requested["requestAdmission"]["id"].as_str().unwrap().to_owned();
        let answers = futures::future::join_all((0..20).map(|_| desk.send("AcceptAdmission", accept_input(&request, "k-1")))).await;
        let succeeded: Vec<&Value> = answers.iter().filter(|answer| answer.get("errors").is_none()).collect();
        for answer in &answers {
            let codes = error_codes(answer);
            assert!(codes.is_empty() || codes == ["SERVICE_UNAVAILABLE"], "only a retryable refusal: {answer}");
        }
        assert!(!succeeded.is_empty());
        assert!(succeeded.iter().all(|answer| answer["data"] == succeeded[0]["data"]), "every success is the first answer");
        let row = admission_request::Entity::find_by_id(request.parse::<uuid::Uuid>().unwrap()).one(app.app.db()).await.unwrap().unwrap();
        assert_eq!((row.status.as_str(), row.version), ("accepted", 2), "one state change");
        assert_eq!(count_audit(&app, "admission.accepted").await, 1, "one audit row");
        let changed = webhook_event::Entity::find()
            .filter(webhook_event::Column::EventType.eq("admission.changed"))
            .count(app.app.db())
            .await
            .unwrap();
        assert_eq!(changed, 1, "one webhook");

        // A retry with the key replays the first answer; another input under it is CONFLICT.
        let replay = desk.call("AcceptAdmission", accept_input(&request, "k-1")).await;
        assert_eq!(replay, succeeded[0]["data"]);
        let mut other = accept_input(&request, "k-1");
        other["input"]["department"] = json!("骨髓移植科");
        let refused = desk.send("AcceptAdmission", other).await;
        assert_eq!(error_codes(&refused), ["CONFLICT"]);
        assert_eq!(field_of(&refused), Some("idempotencyKey"));
        // A new key for an answered request is the request's own CONFLICT.
        let twice = desk.send("AcceptAdmission", accept_input(&request, "k-2")).await;
        assert_eq!(error_codes(&twice), ["CONFLICT"]);
        assert_eq!(field_of(&twice), Some("input.requestId"));

        // Reschedule and cancel, each once under its key.
        let moved = json!({ "idempotencyKey": "k-3", "input": { "requestId": request, "admittedOn": in_days(10), "reason": "病房检修" } });
        let first = desk.call("RescheduleAdmission", moved.clone()).await;
        assert_eq!(desk.call("RescheduleAdmission", moved).await, first);
        assert_eq!(first["rescheduleAdmission"]["appointment"]["admittedOn"], in_days(10).to_string());
        let cancel = json!({ "idempotencyKey": "k-4", "input": { "requestId": request, "reason": "设备故障" } });
        assert_eq!(desk.call("CancelAdmission", cancel).await["cancelAdmission"]["status"], "CANCELLED");
        let deliveries = hooks.wait_for(4).await;
        assert_eq!(deliveries.last().unwrap()["type"], "admission.cancelled");
        let listed = desk.call("WebhookDeliveries", json!({ "first": 10 })).await;
        assert_eq!(listed["webhookDeliveries"].as_array().unwrap().len(), 4);
        let first_delivery = listed["webhookDeliveries"][3]["id"].clone();
        let resent = desk.call("RedeliverWebhook", json!({ "idempotencyKey": "k-5", "deliveryId": first_delivery })).await;
        assert_eq!(resent["redeliverWebhook"]["messageId"], listed["webhookDeliveries"][3]["messageId"]);
    }

    async fn bad_input_is_refused_by_field_and_stores_nothing(db) {
        let app = db.app_with(|settings| settings.webhooks.allow_private_network = Some(false)).await;
        let server = app.serve().await;
        let admin = app.staff_token("national_admin", "11").await;
        let staff = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let (hospital, token) = partner_hospital(&server, &admin, "德阳市人民医院").await;
        let desk = Desk::hospital(&server, token);
        let (case, _) = case_for(&app, 1, &hospital).await;

        let mut past = admission_input(&case, &hospital, 48);
        past["input"]["proposedOn"] = json!(in_days(-1));
        let mut far = admission_input(&case, &hospital, 48);
        far["input"]["proposedOn"] = json!(in_days(400));
        for (input, field) in [(past, "input.proposedOn"), (far, "input.proposedOn")] {
            let refused = staff.send("RequestAdmission", input).await;
            assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{refused}");
            assert_eq!(field_of(&refused), Some(field));
        }
        assert_eq!(admission_request::Entity::find().count(app.app.db()).await.unwrap(), 0, "nothing stored");

        let requested = staff.call("RequestAdmission", admission_input(&case, &hospital, 48)).await;
        let request = requested["requestAdmission"]["id"].as_str().unwrap().to_owned();
        let mut early = accept_input(&request, "b-1");
        early["input"]["admittedOn"] = json!(in_days(-2));
        let decline = |reason: &str, note: String| {
            json!({ "idempotencyKey": "b-2", "input": { "requestId": request, "reason": reason, "note": note } })
        };
        let cases = [
            ("AcceptAdmission", early, "input.admittedOn"),
            ("DeclineAdmission", decline("NO_WIFI", "满床".into()), "input.reason"),
            ("DeclineAdmission", decline("NO_BED", "  ".into()), "input.note"),
            ("DeclineAdmission", decline("NO_BED", "床".repeat(501)), "input.note"),
        ];
        for (document, variables, field) in cases {
            let refused = desk.send(document, variables).await;
            assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{document}: {refused}");
            assert!(field_of(&refused).is_some_and(|named| named.starts_with(field)), "{document}: {refused}");
        }
        for url in ["http://hooks.example-hospital.cn/registry", "https://10.0.0.8/hooks", "https://127.0.0.1/hooks"] {
            let refused = desk.send("RegisterWebhookEndpoint", json!({ "idempotencyKey": url, "url": url })).await;
            assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{url}: {refused}");
            assert_eq!(field_of(&refused), Some("url"));
        }
        let row = admission_request::Entity::find_by_id(request.parse::<uuid::Uuid>().unwrap()).one(app.app.db()).await.unwrap().unwrap();
        assert_eq!((row.status.as_str(), row.version), ("requested", 1), "nothing changed");
        assert_eq!(webhook_endpoint::Entity::find().count(app.app.db()).await.unwrap(), 0);
        assert_eq!(entity::idempotency_key::Entity::find().count(app.app.db()).await.unwrap(), 0, "a refused call keeps no key");
    }

    async fn hospitals_see_only_their_own_and_roles_stay_in_their_lane(db) {
        let app = db.app_with(|settings| settings.webhooks.allow_private_network = Some(true)).await;
        let server = app.serve().await;
        let admin = app.staff_token("national_admin", "11").await;
        let coordinator = app.staff_token("branch_coordinator", "51").await;
        let staff = Desk::staff(&server, coordinator.clone());
        let (x, x_token) = partner_hospital(&server, &admin, "医院甲").await;
        let (_, y_token) = partner_hospital(&server, &admin, "医院乙").await;
        let (x_desk, y_desk) = (Desk::hospital(&server, x_token.clone()), Desk::hospital(&server, y_token.clone()));
        let (hooks, url) = Receiver::start().await;
        register(&x_desk, &hooks, &url).await;
        let (case, _) = case_for(&app, 1, &x).await;
        let requested = staff.call("RequestAdmission", admission_input(&case, &x, 48)).await;
        let request = requested["requestAdmission"]["id"].as_str().unwrap().to_owned();
        hooks.wait_for(1).await;

        // Hospital Y can neither read, answer nor see the deliveries of X's request.
        assert_eq!(error_codes(&y_desk.send("AdmissionRequest", json!({ "id": request })).await), ["FORBIDDEN"]);
        let answer = y_desk.send("AcceptAdmission", accept_input(&request, "y-1")).await;
        assert_eq!(error_codes(&answer), ["FORBIDDEN"]);
        assert!(y_desk.call("AdmissionRequests", json!({})).await["admissionRequests"].as_array().unwrap().is_empty());
        assert!(y_desk.call("WebhookDeliveries", json!({})).await["webhookDeliveries"].as_array().unwrap().is_empty());
        let x_delivery = x_desk.call("WebhookDeliveries", json!({})).await["webhookDeliveries"][0]["id"].clone();
        let resend = y_desk.send("RedeliverWebhook", json!({ "idempotencyKey": "y-2", "deliveryId": x_delivery })).await;
        assert_eq!(error_codes(&resend), ["NOT_FOUND"]);

        // Staff cannot call hospital mutations, nor a hospital staff ones; nor another branch's staff.
        let as_staff = server.gql(Some(&coordinator), &registry_tests::mobile::client_document("hospital", "AcceptAdmission"), accept_input(&request, "s-1")).await.1;
        assert_eq!(error_codes(&as_staff), ["FORBIDDEN"]);
        let as_hospital = server.gql(Some(&x_token), &registry_tests::mobile::client_document("staff", "RequestAdmission"), admission_input(&case, &x, 48)).await.1;
        assert_eq!(error_codes(&as_hospital), ["FORBIDDEN"]);
        let elsewhere = Desk::staff(&server, app.staff_token("branch_coordinator", "11").await);
        assert_eq!(error_codes(&elsewhere.send("RequestAdmission", admission_input(&case, &x, 48)).await), ["FORBIDDEN"]);
        assert_eq!(error_codes(&elsewhere.send("CaseAdmissions", json!({ "caseId": case })).await), ["FORBIDDEN"]);
        let scorecard = elsewhere.send("HospitalScorecard", json!({ "branchCode": "51", "from": in_days(-1), "to": in_days(1) })).await;
        assert_eq!(error_codes(&scorecard), ["FORBIDDEN"]);
    }
}
