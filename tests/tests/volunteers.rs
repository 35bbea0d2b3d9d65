//! Volunteer sign-in by phone and one-time code, the limits that stop guessing and flooding,
//! volunteer sessions, masked records, who may read which record, and audited unmasking.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use entity::audit_event;
use registry_tests::{Server, TestApp, both_backends, error_codes};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const REQUEST: &str = "mutation($p: String!) { requestSignInCode(phone: $p) { expiresIn resendAfter } }";
const SIGN_IN: &str = "mutation($p: String!, $c: String!) { signInWithCode(phone: $p, code: $c) { enrolmentRequired session { accessToken refreshToken expiresIn } } }";
const ME: &str = "{ me { id branchCode status name nationalId primaryPhone sex age hlaTyped } }";
const READ: &str = "query($id: ID!) { volunteer(id: $id) { id name nationalId primaryPhone } }";
const FIND: &str = "query($n: String, $p: String) { findVolunteers(nationalId: $n, phone: $p) { id } }";
const UNMASK: &str = "mutation($id: ID!, $f: PersonalField!, $p: UnmaskPurpose!) { unmaskVolunteerField(volunteerId: $id, field: $f, purpose: $p) }";

/// Signs a volunteer in over HTTP: asks for a code, reads it from the development gateway, and
/// enters it. Returns the `signInWithCode` answer.
async fn sign_in(app: &TestApp, server: &Server, phone: &str) -> Value {
    let (status, body) = server.gql(None, REQUEST, json!({ "p": phone })).await;
    assert_eq!(status, 200, "{body}");
    let code = app.latest_code(phone).await.expect("a code was sent");
    let (status, body) = server.gql(None, SIGN_IN, json!({ "p": phone, "c": code })).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["signInWithCode"].clone()
}

fn access_token(signed_in: &Value) -> String {
    signed_in["session"]["accessToken"].as_str().expect("a session").to_owned()
}

async fn unmask_rows(app: &TestApp) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("volunteer.unmask"))
        .count(app.app.db())
        .await
        .unwrap()
}

both_backends! {
    async fn a_volunteer_signs_in_once_per_code_and_sees_their_record_masked(db) {
        let app = db.app().await;
        let volunteer = app.register_volunteer(7, "51").await;
        let server = app.serve().await;
        let signed_in = sign_in(&app, &server, &volunteer.phone).await;
        assert_eq!(signed_in["enrolmentRequired"], false);
        assert_eq!(signed_in["session"]["expiresIn"], 900);
        let token = access_token(&signed_in);
        let spent = app.latest_code(&volunteer.phone).await.unwrap();
        let (_, again) = server.gql(None, SIGN_IN, json!({ "p": volunteer.phone, "c": spent })).await;
        assert_eq!(error_codes(&again), ["BAD_USER_INPUT"], "a code signs in once");

        let (status, body) = server.gql(Some(&token), ME, json!({})).await;
        assert_eq!(status, 200, "{body}");
        let me = &body["data"]["me"];
        assert_eq!(me["id"], volunteer.id.to_string());
        assert_eq!(me["status"], "PENDING");
        assert_eq!(me["hlaTyped"], false);
        let id = &volunteer.national_id;
        assert_eq!(me["nationalId"], format!("{}********{}", &id[..6], &id[14..]));
        let phone = &volunteer.phone;
        assert_eq!(me["primaryPhone"], format!("{}****{}", &phone[3..6], &phone[10..]));
        assert_eq!(me["name"].as_str().unwrap().chars().filter(|c| *c == '*').count(), 2);
        assert!(!body.to_string().contains(id.as_str()) && !body.to_string().contains(&phone[3..]));

        // The refresh token rotates for volunteers as for staff, and sign-out ends it.
        let refresh = signed_in["session"]["refreshToken"].as_str().unwrap();
        let rotate = "mutation($t: String!) { refreshSession(refreshToken: $t) { refreshToken } }";
        let (_, renewed) = server.gql(None, rotate, json!({ "t": refresh })).await;
        let renewed = renewed["data"]["refreshSession"]["refreshToken"].as_str().unwrap().to_owned();
        server.gql(None, "mutation($t: String!) { signOut(refreshToken: $t) }", json!({ "t": renewed })).await;
        let (_, after) = server.gql(None, rotate, json!({ "t": renewed })).await;
        assert_eq!(error_codes(&after), ["BAD_USER_INPUT"]);
    }

    async fn the_answer_does_not_tell_whether_a_phone_is_registered(db) {
        let app = db.app().await;
        let volunteer = app.register_volunteer(8, "51").await;
        let server = app.serve().await;
        let (_, known) = server.gql(None, REQUEST, json!({ "p": volunteer.phone })).await;
        let (_, unknown) = server.gql(None, REQUEST, json!({ "p": "+8613900000002" })).await;
        assert_eq!(known, unknown);
        assert!(known["errors"].is_null(), "{known}");

        // Only the holder of the phone, entering its code, learns that it is not registered.
        let code = app.latest_code("+8613900000002").await.unwrap();
        let (_, body) = server.gql(None, SIGN_IN, json!({ "p": "13900000002", "c": code })).await;
        assert_eq!(body["data"]["signInWithCode"], json!({ "enrolmentRequired": true, "session": null }));
    }

    async fn wrong_codes_lock_the_code_even_for_the_right_one(db) {
        let app = db.app().await;
        let volunteer = app.register_volunteer(9, "51").await;
        let server = app.serve().await;
        server.gql(None, REQUEST, json!({ "p": volunteer.phone })).await;
        let code = app.latest_code(&volunteer.phone).await.unwrap();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..5 {
            let (_, body) = server.gql(None, SIGN_IN, json!({ "p": volunteer.phone, "c": wrong })).await;
            assert_eq!(error_codes(&body), ["BAD_USER_INPUT"]);
            assert_eq!(body["errors"][0]["extensions"]["field"], "code");
        }
        let (_, locked) = server.gql(None, SIGN_IN, json!({ "p": volunteer.phone, "c": code })).await;
        assert_eq!(error_codes(&locked), ["BAD_USER_INPUT"], "the right code after the limit: {locked}");

        // A malformed code or phone is refused naming the field.
        let (_, short) = server.gql(None, SIGN_IN, json!({ "p": volunteer.phone, "c": "12345" })).await;
        assert_eq!(short["errors"][0]["extensions"]["field"], "code");
        let (_, phone) = server.gql(None, REQUEST, json!({ "p": "12345" })).await;
        assert_eq!(phone["errors"][0]["extensions"]["field"], "phone");
        assert!(!phone.to_string().contains("12345"), "the error repeats no input: {phone}");
    }

    async fn resends_wait_and_limits_per_phone_and_address_answer_with_a_retry_time(db) {
        let app = db.app_with(|settings| {
            settings.auth.volunteer_codes.resend_after_secs = 0;
            settings.auth.volunteer_codes.per_phone_per_hour = 2;
            settings.auth.volunteer_codes.per_address_per_hour = 4;
        }).await;
        let server = app.serve().await;
        for _ in 0..2 {
            let (status, body) = server.gql(None, REQUEST, json!({ "p": "13900000003" })).await;
            assert_eq!(status, 200, "{body}");
        }
        // Execution had begun, so the status is 200 (GraphQL over HTTP); the code says why.
        let (status, phone_limited) = server.gql(None, REQUEST, json!({ "p": "13900000003" })).await;
        assert_eq!(status, 200, "{phone_limited}");
        assert_eq!(error_codes(&phone_limited), ["RATE_LIMITED"]);
        let retry = phone_limited["errors"][0]["extensions"]["retryAfterSeconds"].as_u64().unwrap();
        assert!((3000..=3600).contains(&retry), "{retry}");

        server.gql(None, REQUEST, json!({ "p": "13900000004" })).await;
        let (_, address_limited) = server.gql(None, REQUEST, json!({ "p": "13900000005" })).await;
        assert_eq!(error_codes(&address_limited), ["RATE_LIMITED"], "the fifth request from one address");

        let cooled = db.app_with(|settings| settings.auth.volunteer_codes.resend_after_secs = 60).await;
        let server = cooled.serve().await;
        server.gql(None, REQUEST, json!({ "p": "13900000006" })).await;
        let (_, again) = server.gql(None, REQUEST, json!({ "p": "13900000006" })).await;
        assert_eq!(error_codes(&again), ["RATE_LIMITED"]);
        let retry = again["errors"][0]["extensions"]["retryAfterSeconds"].as_u64().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
    }

    async fn a_volunteer_reaches_only_their_own_record(db) {
        let app = db.app().await;
        let a = app.register_volunteer(10, "51").await;
        let b = app.register_volunteer(11, "51").await;
        let server = app.serve().await;
        let token = access_token(&sign_in(&app, &server, &a.phone).await);
        let (_, me) = server.gql(Some(&token), ME, json!({})).await;
        assert_eq!(me["data"]["me"]["id"], a.id.to_string());
        let (status, read_b) = server.gql(Some(&token), READ, json!({ "id": b.id })).await;
        assert_eq!((status, error_codes(&read_b)), (403, vec!["FORBIDDEN".to_owned()]));
        let unmask = json!({ "id": b.id, "f": "PRIMARY_PHONE", "p": "VOLUNTEER_REQUEST" });
        let (_, unmask_b) = server.gql(Some(&token), UNMASK, unmask).await;
        assert_eq!(error_codes(&unmask_b), ["FORBIDDEN"]);
        let (_, find) = server.gql(Some(&token), FIND, json!({ "p": b.phone })).await;
        assert_eq!(error_codes(&find), ["FORBIDDEN"]);
    }

    async fn staff_see_only_their_branch_and_hospitals_no_volunteer(db) {
        let app = db.app().await;
        let sichuan = app.register_volunteer(12, "51").await;
        let beijing = app.register_volunteer(13, "11").await;
        let coordinator_51 = app.staff_token("branch_coordinator", "51").await;
        let admin = app.staff_token("national_admin", "11").await;
        let server = app.serve().await;

        let (_, own) = server.gql(Some(&coordinator_51), READ, json!({ "id": sichuan.id })).await;
        assert_eq!(own["data"]["volunteer"]["id"], sichuan.id.to_string());
        let (_, other) = server.gql(Some(&coordinator_51), READ, json!({ "id": beijing.id })).await;
        assert_eq!(error_codes(&other), ["FORBIDDEN"]);
        let (_, unmask) = server
            .gql(Some(&coordinator_51), UNMASK, json!({ "id": beijing.id, "f": "NATIONAL_ID", "p": "LEGAL" }))
            .await;
        assert_eq!(error_codes(&unmask), ["FORBIDDEN"]);

        // Exact lookups go through the blind index and stay within the branch.
        let (_, by_id) = server.gql(Some(&coordinator_51), FIND, json!({ "n": sichuan.national_id })).await;
        assert_eq!(by_id["data"]["findVolunteers"], json!([{ "id": sichuan.id.to_string() }]));
        let (_, by_phone) = server.gql(Some(&coordinator_51), FIND, json!({ "p": beijing.phone })).await;
        assert_eq!(by_phone["data"]["findVolunteers"], json!([]));
        let (_, national) = server.gql(Some(&admin), FIND, json!({ "p": beijing.phone })).await;
        assert_eq!(national["data"]["findVolunteers"], json!([{ "id": beijing.id.to_string() }]));
        let (_, both) = server.gql(Some(&admin), FIND, json!({ "n": sichuan.national_id, "p": sichuan.phone })).await;
        assert_eq!(error_codes(&both), ["BAD_USER_INPUT"]);
        let (_, malformed) = server.gql(Some(&admin), FIND, json!({ "n": "11010519491231002Y" })).await;
        assert_eq!(malformed["errors"][0]["extensions"]["field"], "nationalId");
        assert!(!malformed.to_string().contains("11010519491231002"), "the error repeats no input");

        // Lookups by personal data are refused over GET, whose URLs end up in logs.
        let url = format!("{}?query={{findVolunteers(phone:\"{}\"){{id}}}}", server.url("/graphql"), sichuan.phone);
        let get = server.client.get(url).header("authorization", format!("Bearer {admin}")).send().await.unwrap();
        assert_eq!(get.status().as_u16(), 405);

        let hospital = api::service::Principal::Hospital { id: uuid::Uuid::now_v7(), branch: "51".into() };
        for operation in [READ, FIND] {
            let variables = async_graphql::Variables::from_json(json!({ "id": sichuan.id, "p": sichuan.phone }));
            let request = async_graphql::Request::new(operation).variables(variables);
            let body = app.execute_as(hospital.clone(), request).await;
            let body = serde_json::to_value(&body).unwrap();
            assert_eq!(error_codes(&body), ["FORBIDDEN"], "{operation}");
        }
    }

    async fn unmasking_needs_a_role_that_allows_it_and_a_purpose_and_is_audited_once(db) {
        let app = db.app().await;
        let volunteer = app.register_volunteer(14, "51").await;
        let recruiter = app.staff_token("branch_recruiter", "51").await;
        let coordinator = app.staff_token("branch_coordinator", "51").await;
        let server = app.serve().await;

        let (_, no_purpose) = server
            .gql(Some(&coordinator), "mutation($id: ID!) { unmaskVolunteerField(volunteerId: $id, field: NATIONAL_ID) }", json!({ "id": volunteer.id }))
            .await;
        assert_eq!(error_codes(&no_purpose), ["GRAPHQL_VALIDATION_FAILED"]);
        let (_, by_recruiter) = server
            .gql(Some(&recruiter), UNMASK, json!({ "id": volunteer.id, "f": "NATIONAL_ID", "p": "CONTACT_FOR_MATCH" }))
            .await;
        assert_eq!(error_codes(&by_recruiter), ["FORBIDDEN"]);
        assert_eq!(unmask_rows(&app).await, 0, "refusals unmask nothing and record no unmasking");

        let response = server
            .client
            .post(server.url("/graphql"))
            .header("authorization", format!("Bearer {coordinator}"))
            .header("x-request-id", "unmask-test-1")
            .json(&json!({ "query": UNMASK, "variables": { "id": volunteer.id, "f": "NATIONAL_ID", "p": "CONTACT_FOR_MATCH" } }))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["data"]["unmaskVolunteerField"], volunteer.national_id.as_str());
        let (_, phone) = server
            .gql(Some(&coordinator), UNMASK, json!({ "id": volunteer.id, "f": "PRIMARY_PHONE", "p": "DATA_CORRECTION" }))
            .await;
        assert_eq!(phone["data"]["unmaskVolunteerField"], volunteer.phone.as_str());

        let rows = audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq("volunteer.unmask"))
            .all(app.app.db())
            .await
            .unwrap();
        assert_eq!(rows.len(), 2, "one row per unmasking");
        let first = rows.iter().find(|row| row.field.as_deref() == Some("national_id")).unwrap();
        assert_eq!(first.purpose.as_deref(), Some("contact_for_match"));
        assert_eq!(first.actor_kind, "staff");
        assert_eq!(first.actor_role.as_deref(), Some("branch_coordinator"));
        assert_eq!(first.actor_branch.as_deref(), Some("51"));
        assert_eq!(first.subject_id, Some(volunteer.id));
        assert_eq!(first.request_id.as_deref(), Some("unmask-test-1"));
    }
}
