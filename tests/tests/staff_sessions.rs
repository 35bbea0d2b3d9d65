//! Staff sign-in, refresh rotation with reuse detection, sign-out, disabling, the national
//! administrator's capability, and the append-only audit trail.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use entity::audit_event;
use registry_tests::{Server, TestApp, both_backends, error_codes};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = "correct horse battery staple";

const SIGN_IN: &str = "mutation($u: String!, $p: String!, $c: String) { staffSignIn(username: $u, password: $p, totpCode: $c) { accessToken refreshToken expiresIn } }";
const REFRESH: &str = "mutation($t: String!) { refreshStaffSession(refreshToken: $t) { accessToken refreshToken } }";
const CREATE: &str = "mutation($i: CreateStaffAccountInput!) { createStaffAccount(input: $i) { id totpUri } }";

/// The authenticator's code for the time step `steps_ahead` steps from now (one step of skew
/// is accepted, and each step signs in once).
fn code(totp_uri: &str, steps_ahead: u64) -> String {
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap();
    totp_rs::Totp::from_url(totp_uri).unwrap().generate(now + 30 * steps_ahead).to_string()
}

async fn sign_in(server: &Server, username: &str, password: &str) -> (String, String) {
    sign_in_with(server, username, password, None).await
}

async fn sign_in_with(server: &Server, username: &str, password: &str, code: Option<String>) -> (String, String) {
    let (status, body) = server.gql(None, SIGN_IN, json!({ "u": username, "p": password, "c": code })).await;
    assert_eq!(status, 200, "{body}");
    let session = &body["data"]["staffSignIn"];
    assert_eq!(session["expiresIn"], 900);
    (session["accessToken"].as_str().unwrap().to_owned(), session["refreshToken"].as_str().unwrap().to_owned())
}

/// A server with a bootstrapped national administrator, signed in with the current code; the
/// administrator's TOTP URI for later sign-ins.
async fn with_admin(app: &TestApp) -> (Server, String, String) {
    let created = app.app.staff().bootstrap_national_admin("admin", ADMIN_PASSWORD).await.unwrap();
    let uri = created.totp_uri.expect("national administrators get a second factor");
    let server = app.serve().await;
    let (access, _) = sign_in_with(&server, "admin", ADMIN_PASSWORD, Some(code(&uri, 0))).await;
    (server, access, uri)
}

fn recruiter(username: &str) -> Value {
    json!({ "i": { "username": username, "password": "a long enough password", "role": "BRANCH_RECRUITER", "branchCode": "51" } })
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    audit_event::Entity::find().all(app.app.db()).await.unwrap().into_iter().map(|event| event.action).collect()
}

both_backends! {
    async fn an_administrator_creates_staff_who_sign_in_and_are_audited(db) {
        let app = db.app().await;
        let (server, admin, _) = with_admin(&app).await;
        let (status, body) = server.gql(Some(&admin), CREATE, recruiter("li.ming")).await;
        assert_eq!(status, 200, "{body}");
        let (access, _) = sign_in(&server, "LI.MING", "a long enough password").await;
        let (status, body) = server.gql(Some(&access), "{ branches { code } }", json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["branches"].as_array().unwrap().len(), 31);
        let actions = audit_actions(&app).await;
        for expected in ["staff.create", "staff.sign_in"] {
            assert!(actions.iter().any(|a| a == expected), "{actions:?}");
        }
        assert!(app.app.staff().bootstrap_national_admin("second", ADMIN_PASSWORD).await.is_err(), "bootstrap works once");
    }

    async fn only_national_administrators_create_or_disable_staff(db) {
        let app = db.app().await;
        let (server, admin, _) = with_admin(&app).await;
        server.gql(Some(&admin), CREATE, recruiter("recruiter51")).await;
        let (recruiter_token, _) = sign_in(&server, "recruiter51", "a long enough password").await;
        let (status, body) = server.gql(Some(&recruiter_token), CREATE, recruiter("someone")).await;
        assert_eq!(status, 403, "the role gate refuses before anything runs: {body}");
        assert_eq!(error_codes(&body), ["FORBIDDEN"]);
        assert!(body.get("data").is_none());
        let (status, mixed) = server.gql(Some(&recruiter_token), "{ branches { code } auditEvents { nextCursor } }", json!({})).await;
        assert_eq!(status, 403, "an operation with one forbidden field runs nothing: {mixed}");
        assert!(mixed.get("data").is_none());
        let (status, body) = server.gql(None, CREATE, recruiter("someone")).await;
        assert_eq!(status, 401);
        assert_eq!(error_codes(&body), ["UNAUTHENTICATED"]);
        let (_, body) = server.gql(Some(&recruiter_token), "mutation($id: ID!) { disableStaffAccount(id: $id) }", json!({ "id": uuid::Uuid::now_v7() })).await;
        assert_eq!(error_codes(&body), ["FORBIDDEN"]);
        let accounts = entity::staff_account::Entity::find().count(app.app.db()).await.unwrap();
        assert_eq!(accounts, 2, "the refused calls changed nothing");
    }

    async fn bad_staff_input_is_refused_naming_the_field_and_changes_nothing(db) {
        let app = db.app().await;
        let (server, admin, _) = with_admin(&app).await;
        let cases = [
            (json!({ "i": { "username": "ok.name", "password": "short", "role": "AUDITOR", "branchCode": "51" } }), "BAD_USER_INPUT", "password"),
            (json!({ "i": { "username": "ok.name", "password": "PasswordPassword", "role": "AUDITOR", "branchCode": "51" } }), "BAD_USER_INPUT", "password"),
            (json!({ "i": { "username": "x", "password": "a long enough password", "role": "AUDITOR", "branchCode": "51" } }), "BAD_USER_INPUT", "username"),
            (json!({ "i": { "username": "a".repeat(10_000), "password": "a long enough password", "role": "AUDITOR", "branchCode": "51" } }), "BAD_USER_INPUT", "username"),
            (json!({ "i": { "username": "ok.name", "password": "a long enough password", "role": "AUDITOR", "branchCode": "99" } }), "BAD_USER_INPUT", "branchCode"),
            (json!({ "i": { "username": "admin", "password": "a long enough password", "role": "AUDITOR", "branchCode": "51" } }), "CONFLICT", "username"),
        ];
        for (variables, code, field) in cases {
            let (_, body) = server.gql(Some(&admin), CREATE, variables).await;
            assert_eq!(error_codes(&body), [code], "{body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        }
        assert_eq!(entity::staff_account::Entity::find().count(app.app.db()).await.unwrap(), 1);
    }

    async fn a_wrong_password_and_an_unknown_name_get_the_same_answer(db) {
        let app = db.app().await;
        let (server, _, _) = with_admin(&app).await;
        let (_, wrong) = server.gql(None, SIGN_IN, json!({ "u": "admin", "p": "not the password" })).await;
        let (_, unknown) = server.gql(None, SIGN_IN, json!({ "u": "nobody", "p": "not the password" })).await;
        assert_eq!(error_codes(&wrong), ["BAD_USER_INPUT"]);
        assert_eq!(wrong["errors"][0]["message"], unknown["errors"][0]["message"]);
        assert_eq!(wrong["errors"][0]["message"], "credentials: wrong user name, password or one-time code");
    }

    async fn refresh_rotates_and_reuse_of_a_spent_token_revokes_the_family(db) {
        let app = db.app().await;
        let (server, _, uri) = with_admin(&app).await;
        let (_, first) = sign_in_with(&server, "admin", ADMIN_PASSWORD, Some(code(&uri, 1))).await;
        let (status, body) = server.gql(None, REFRESH, json!({ "t": first })).await;
        assert_eq!(status, 200, "{body}");
        let second = body["data"]["refreshStaffSession"]["refreshToken"].as_str().unwrap().to_owned();
        assert_ne!(first, second);

        let (_, replay) = server.gql(None, REFRESH, json!({ "t": first })).await;
        assert_eq!(error_codes(&replay), ["BAD_USER_INPUT"], "a spent token is refused");
        let (_, after) = server.gql(None, REFRESH, json!({ "t": second })).await;
        assert_eq!(error_codes(&after), ["BAD_USER_INPUT"], "the whole family is revoked");
        let reuse = audit_event::Entity::find().filter(audit_event::Column::Action.eq("refresh_token.reuse")).count(app.app.db()).await.unwrap();
        assert_eq!(reuse, 1);
    }

    async fn sign_out_ends_the_session(db) {
        let app = db.app().await;
        let (server, _, uri) = with_admin(&app).await;
        let (_, refresh) = sign_in_with(&server, "admin", ADMIN_PASSWORD, Some(code(&uri, 1))).await;
        let (status, _) = server.gql(None, "mutation($t: String!) { signOut(refreshToken: $t) }", json!({ "t": refresh })).await;
        assert_eq!(status, 200);
        let (_, body) = server.gql(None, REFRESH, json!({ "t": refresh })).await;
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"]);
    }

    async fn a_disabled_accounts_live_access_token_stops_working_on_its_next_request(db) {
        let app = db.app().await;
        let (server, admin, _) = with_admin(&app).await;
        let (_, created) = server.gql(Some(&admin), CREATE, recruiter("leaving")).await;
        let id = created["data"]["createStaffAccount"]["id"].as_str().unwrap().to_owned();
        let (access, refresh) = sign_in(&server, "leaving", "a long enough password").await;
        assert_eq!(server.gql(Some(&access), "{ branches { code } }", json!({})).await.0, 200);

        let (status, body) = server.gql(Some(&admin), "mutation($id: ID!) { disableStaffAccount(id: $id) }", json!({ "id": id })).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = server.gql(Some(&access), "{ branches { code } }", json!({})).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(error_codes(&body), ["UNAUTHENTICATED"]);
        let (_, body) = server.gql(None, REFRESH, json!({ "t": refresh })).await;
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"]);
        let (_, body) = server.gql(None, SIGN_IN, json!({ "u": "leaving", "p": "a long enough password" })).await;
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"]);
        assert!(audit_actions(&app).await.iter().any(|a| a == "staff.disable"));
    }

    async fn coordinators_need_a_fresh_one_time_code_and_a_reset_replaces_it(db) {
        let app = db.app().await;
        let (server, admin, _) = with_admin(&app).await;
        let coordinator = json!({ "i": { "username": "coordinator51", "password": "a long enough password", "role": "BRANCH_COORDINATOR", "branchCode": "51" } });
        let (_, created) = server.gql(Some(&admin), CREATE, coordinator).await;
        let uri = created["data"]["createStaffAccount"]["totpUri"].as_str().unwrap().to_owned();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        let id = created["data"]["createStaffAccount"]["id"].as_str().unwrap().to_owned();
        let stored = entity::staff_account::Entity::find().filter(entity::staff_account::Column::Username.eq("coordinator51")).one(app.app.db()).await.unwrap().unwrap();
        let secret_b32 = uri.split("secret=").nth(1).unwrap().split('&').next().unwrap();
        assert!(!String::from_utf8_lossy(stored.totp_secret.as_ref().unwrap()).contains(secret_b32), "the TOTP secret is encrypted at rest");

        let attempt = |code: Option<String>| server.gql(None, SIGN_IN, json!({ "u": "coordinator51", "p": "a long enough password", "c": code }));
        assert_eq!(error_codes(&attempt(None).await.1), ["BAD_USER_INPUT"], "a password alone is not enough");
        assert_eq!(error_codes(&attempt(Some("000000".into())).await.1), ["BAD_USER_INPUT"]);
        let current = code(&uri, 0);
        let (status, body) = attempt(Some(current.clone())).await;
        assert_eq!(status, 200, "{body}");
        let access = body["data"]["staffSignIn"]["accessToken"].as_str().unwrap().to_owned();
        assert_eq!(error_codes(&attempt(Some(current)).await.1), ["BAD_USER_INPUT"], "a code works once");

        let (status, reset) = server.gql(Some(&admin), "mutation($id: ID!) { resetStaffSecondFactor(id: $id) }", json!({ "id": id })).await;
        assert_eq!(status, 200, "{reset}");
        let new_uri = reset["data"]["resetStaffSecondFactor"].as_str().unwrap().to_owned();
        assert_ne!(new_uri, uri);
        assert_eq!(server.gql(Some(&access), "{ branches { code } }", json!({})).await.0, 401, "the reset ends sessions");
        assert_eq!(error_codes(&attempt(Some(code(&uri, 1))).await.1), ["BAD_USER_INPUT"], "the old authenticator is useless");
        assert_eq!(attempt(Some(code(&new_uri, 1))).await.0, 200);
    }

    async fn auditors_page_through_the_trail_with_filters(db) {
        let app = db.app().await;
        let (server, admin, _) = with_admin(&app).await;
        for name in ["audit.one", "audit.two", "audit.three"] {
            server.gql(Some(&admin), CREATE, recruiter(name)).await;
        }
        let auditor = json!({ "i": { "username": "auditor", "password": "a long enough password", "role": "AUDITOR", "branchCode": "11" } });
        server.gql(Some(&admin), CREATE, auditor).await;
        let (auditor_token, _) = sign_in(&server, "auditor", "a long enough password").await;
        let page = "query($after: String) { auditEvents(first: 2, action: \"staff.create\", after: $after) { events { action subjectId requestId } nextCursor } }";
        let mut cursor: Option<String> = None;
        let mut seen = Vec::new();
        loop {
            let (_, body) = server.gql(Some(&auditor_token), page, json!({ "after": cursor })).await;
            let events = body["data"]["auditEvents"]["events"].as_array().unwrap().clone();
            assert!(!events.is_empty() && events.len() <= 2, "{body}");
            assert!(events.iter().all(|event| event["action"] == "staff.create"));
            seen.extend(events);
            match body["data"]["auditEvents"]["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let subjects: std::collections::BTreeSet<String> = seen.iter().map(|e| e["subjectId"].as_str().unwrap().to_owned()).collect();
        assert_eq!(seen.len(), 5, "the administrator, three recruiters and the auditor were created");
        assert_eq!(subjects.len(), 5, "pages do not repeat or skip");
        assert!(seen[0]["requestId"].is_string(), "staff mutations carry the request id");
        let (_, refused) = server.gql(Some(&auditor_token), page, json!({ "after": "not-a-cursor" })).await;
        assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"]);
    }

    async fn changing_ones_password_ends_every_session_and_checks_both_passwords(db) {
        let app = db.app().await;
        let (server, admin, _) = with_admin(&app).await;
        server.gql(Some(&admin), CREATE, recruiter("changer")).await;
        let (access, refresh) = sign_in(&server, "changer", "a long enough password").await;
        let change = "mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) }";
        let (_, wrong) = server.gql(Some(&access), change, json!({ "c": "not my password", "n": "a brand new passphrase" })).await;
        assert_eq!(error_codes(&wrong), ["BAD_USER_INPUT"]);
        assert_eq!(wrong["errors"][0]["extensions"]["field"], "currentPassword");
        let (_, weak) = server.gql(Some(&access), change, json!({ "c": "a long enough password", "n": "passwordpassword" })).await;
        assert_eq!(weak["errors"][0]["extensions"]["field"], "newPassword");
        let (status, body) = server.gql(Some(&access), change, json!({ "c": "a long enough password", "n": "a brand new passphrase" })).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(server.gql(Some(&access), "{ branches { code } }", json!({})).await.0, 401, "this session ended too");
        assert_eq!(error_codes(&server.gql(None, REFRESH, json!({ "t": refresh })).await.1), ["BAD_USER_INPUT"]);
        let (_, old) = server.gql(None, SIGN_IN, json!({ "u": "changer", "p": "a long enough password" })).await;
        assert_eq!(error_codes(&old), ["BAD_USER_INPUT"]);
        sign_in(&server, "changer", "a brand new passphrase").await;
        assert!(audit_actions(&app).await.iter().any(|a| a == "staff.password_change"));
    }

    async fn the_database_refuses_to_change_or_remove_audit_rows(db) {
        let app = db.app().await;
        app.app.staff().bootstrap_national_admin("admin", ADMIN_PASSWORD).await.unwrap();
        let before = audit_event::Entity::find().count(app.app.db()).await.unwrap();
        assert!(before >= 1);
        let update = app.app.db().execute_unprepared("UPDATE audit_event SET action = 'nothing happened'").await;
        assert!(update.is_err(), "UPDATE must be refused");
        let delete = app.app.db().execute_unprepared("DELETE FROM audit_event").await;
        assert!(delete.is_err(), "DELETE must be refused");
        let err = format!("{:?}", delete.unwrap_err());
        assert!(err.contains("append-only"), "{err}");
        assert_eq!(audit_event::Entity::find().count(app.app.db()).await.unwrap(), before);
        assert!(audit_actions(&app).await.iter().all(|a| a != "nothing happened"));
    }
}
