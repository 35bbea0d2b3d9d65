//! The staff console's contract: every document of `contract/staff/`, played over HTTP at its
//! documented largest page, with a pool of one database connection, on both databases. A
//! request that held one connection while waiting for another would deadlock here.
//!
//! It also calibrates the cost limit: each document's cost is read from a server whose limit
//! is 1, and the configured limit must admit the costliest with room (about twice), without
//! being far above it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use registry_tests::mobile::{client_dir, client_document};
use registry_tests::{Server, TestApp, both_backends, error_codes};
use serde_json::{Value, json};

fn document(name: &str) -> String {
    client_document("staff", name)
}

/// The console's reconnect actions, played in order by the staff-path scenario below.
const RECONNECTING: [&str; 3] = ["RecordVolunteerPhone", "SendVolunteerPhoneCode", "ConfirmVolunteerPhone"];

/// Each screen of the console with the variables that ask for its largest page.
fn screens(volunteer: &str, campaign: &str) -> Vec<(&'static str, Value)> {
    let today = chrono::Utc::now().date_naive();
    let ten_years_ago = today - chrono::Months::new(119);
    vec![
        ("SearchVolunteers", json!({ "filter": { "branchCode": "51" }, "first": 50 })),
        ("VolunteerRecord", json!({ "id": volunteer })),
        ("Campaign", json!({ "id": campaign, "first": 50 })),
        ("Campaigns", json!({ "branchCode": "51", "first": 50 })),
        ("LostContactQueue", json!({ "branchCode": "51", "first": 50 })),
        ("StaffAlerts", json!({ "includeResolved": true })),
        ("AuditTrail", json!({ "first": 200 })),
        ("VolunteerExports", json!({ "awaitingApproval": false })),
        ("AttritionFigures", json!({ "branchCode": "51", "from": ten_years_ago, "to": today })),
    ]
}

/// Sixty volunteers of branch 51, some stale and in the work queue, a campaign, an export and
/// an alert: every screen has something to show.
async fn a_branch_at_work(app: &TestApp, server: &Server, token: &str) -> (String, String) {
    let mut first = None;
    for n in 0..60 {
        let volunteer = app.register_volunteer(n, "51").await;
        if n % 2 == 0 {
            app.age_confirmation(volunteer.id, 400).await;
        }
        first.get_or_insert(volunteer.id.to_string());
    }
    app.app.services().work_queue.refresh(chrono::Utc::now()).await.unwrap();
    let create = "mutation($input: CampaignInput!) { createCampaign(input: $input) { id } }";
    let input = json!({ "name": "冬季唤醒", "segment": { "branchCode": "51", "confirmedOverMonths": 12 }, "templateKey": "recommitment" });
    let created = server.gql(Some(token), create, json!({ "input": input })).await.1;
    let campaign = created["data"]["createCampaign"]["id"].as_str().expect("a campaign").to_owned();
    let export =
        "mutation($f: VolunteerFilter, $p: String!) { requestVolunteerExport(filter: $f, purpose: $p) { id } }";
    let requested = server.gql(Some(token), export, json!({ "f": { "branchCode": "51" }, "p": "核对" })).await.1;
    assert!(requested.get("errors").is_none(), "{requested}");
    (first.unwrap(), campaign)
}

#[test]
fn every_staff_document_is_played_by_this_test() {
    let mut played: Vec<&str> = screens("", "").into_iter().map(|(name, _)| name).collect();
    played.extend(RECONNECTING);
    // Donation cases', the green channel's, benefits' and leave letters' documents are played
    // over HTTP by their own tests.
    let cases = [
        include_str!("cases.rs"),
        include_str!("green_channel.rs"),
        include_str!("benefits.rs"),
        include_str!("letters.rs"),
    ]
    .concat();
    for entry in std::fs::read_dir(client_dir("staff")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "graphql") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let in_cases = cases.contains(&format!("\"{name}\""));
            assert!(played.contains(&name.as_str()) || in_cases, "contract/staff/{name}.graphql is played by no test");
        }
    }
}

both_backends! {
    async fn scenario_new_number_staff_record_a_number_from_a_backup_contact_and_confirm_it_by_code(db) {
        let app = db.app_with(|settings| {
            settings.database.max_connections = 1;
            settings.auth.volunteer_codes.resend_after_secs = 0;
        }).await;
        let server = app.serve().await;
        let volunteer = app.register_volunteer(7, "51").await;
        let lost = entity::volunteer::ActiveModel {
            id: sea_orm::Set(volunteer.id),
            status: sea_orm::Set(entity::volunteer::DonorStatus::TemporarilyUnavailable),
            status_reason: sea_orm::Set(Some(entity::volunteer::StatusReason::UnableToContact)),
            hla_resolution: sea_orm::Set(entity::volunteer::HlaResolution::High),
            ..Default::default()
        };
        sea_orm::ActiveModelTrait::update(lost, app.app.db()).await.unwrap();
        let coordinator = app.staff_token("branch_coordinator", "51").await;
        let [record, send, confirm] = RECONNECTING.map(document);
        let new_phone = "+8613900000055";
        let input = json!({ "phone": new_phone, "source": "BACKUP_CONTACT", "note": "母亲告知新号码" });
        let id = volunteer.id.to_string();

        // Bad input and another branch change nothing.
        let bad = json!({ "volunteerId": id, "input": { "phone": "12345", "source": "BACKUP_CONTACT" } });
        let (_, refused) = server.gql(Some(&coordinator), &record, bad).await;
        assert_eq!(refused["errors"][0]["extensions"]["field"], "input.phone", "{refused}");
        let elsewhere = app.staff_token("branch_coordinator", "11").await;
        let (_, forbidden) = server.gql(Some(&elsewhere), &record, json!({ "volunteerId": id, "input": input })).await;
        assert_eq!(error_codes(&forbidden), ["FORBIDDEN"]);

        let (_, recorded) = server.gql(Some(&coordinator), &record, json!({ "volunteerId": id, "input": input })).await;
        let recorded = &recorded["data"]["recordVolunteerPhone"];
        assert_eq!(recorded["status"], "AV", "reaching her returns her from lost: {recorded}");
        let reported = recorded["contacts"].as_array().unwrap().iter().find(|c| c["kind"] == "REPORTED_PHONE").expect("recorded");
        assert_eq!((reported["value"].as_str(), reported["verifiedAt"].as_str()), (Some("139****0055"), None), "unverified");
        let find = "query($p: String!) { findVolunteers(phone: $p) { id } }";
        let (_, before) = server.gql(Some(&coordinator), find, json!({ "p": new_phone })).await;
        assert_eq!(before["data"]["findVolunteers"], json!([]), "not her sign-in number yet");

        let (_, sent) = server.gql(Some(&coordinator), &send, json!({ "volunteerId": id })).await;
        assert!(sent.get("errors").is_none(), "{sent}");
        let code = app.latest_code(new_phone).await.expect("a code to the new number");
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let (_, mistyped) = server.gql(Some(&coordinator), &confirm, json!({ "volunteerId": id, "code": wrong })).await;
        assert_eq!(mistyped["errors"][0]["extensions"]["field"], "code");
        let (_, confirmed) = server.gql(Some(&coordinator), &confirm, json!({ "volunteerId": id, "code": code })).await;
        assert_eq!(confirmed["data"]["confirmVolunteerPhone"]["primaryPhone"], "139****0055", "{confirmed}");
        let (_, found) = server.gql(Some(&coordinator), find, json!({ "p": new_phone })).await;
        assert_eq!(found["data"]["findVolunteers"][0]["id"], id, "staff find her by the new number");

        app.deliver(&["phone_changed_old"]).await;
        let old = app.app.messaging().development_sms().unwrap().recent(&volunteer.phone, 1);
        assert_eq!(old[0].template_key, "phone_changed_old", "the old number is told");
        let figures = "query($d: NaiveDate!) { attritionFigures(branchCode: \"51\", from: $d, to: $d) { reconnected { staff total } } }";
        let (_, counted) = server.gql(Some(&coordinator), figures, json!({ "d": chrono::Utc::now().date_naive() })).await;
        assert_eq!(counted["data"]["attritionFigures"][0]["reconnected"], json!({ "staff": 1, "total": 1 }), "{counted}");

        // Another volunteer's recorded number becomes hers when she signs in with it herself.
        let other = app.register_volunteer(8, "51").await;
        let other_phone = "+8613900000066";
        let input = json!({ "phone": other_phone, "source": "VOLUNTEER_CALL" });
        let (_, recorded) = server.gql(Some(&coordinator), &record, json!({ "volunteerId": other.id.to_string(), "input": input })).await;
        assert!(recorded.get("errors").is_none(), "{recorded}");
        let mut phone = registry_tests::mobile::Mobile::new(&server);
        assert_eq!(phone.sign_in(&app, other_phone).await, None, "signed in, not offered enrolment");
        let me = phone.call("Home", json!({})).await;
        assert_eq!((me["me"]["id"].as_str(), me["me"]["primaryPhone"].as_str()), (Some(other.id.to_string().as_str()), Some("139****0066")));
    }

    async fn every_console_screen_runs_at_its_largest_page_with_one_connection(db) {
        let app = db.app_with(|settings| settings.database.max_connections = 1).await;
        let server = app.serve().await;
        let admin = app.staff_token("national_admin", "11").await;
        let (volunteer, campaign) = a_branch_at_work(&app, &server, &admin).await;
        for (name, variables) in screens(&volunteer, &campaign) {
            let (status, body) = server.gql(Some(&admin), &document(name), variables).await;
            assert_eq!((status, error_codes(&body)), (200, vec![]), "{name}: {body}");
        }
        let searched = server.gql(Some(&admin), &document("SearchVolunteers"), screens(&volunteer, &campaign)[0].1.clone()).await.1;
        assert_eq!(searched["data"]["searchVolunteers"]["edges"].as_array().unwrap().len(), 50, "a full page");
    }
}

/// The cost of each screen, read from the refusal of a server whose limit is 1; the default
/// limit admits the costliest about twice over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cost_limit_fits_the_costliest_screen_about_twice() {
    registry_tests::run(registry_tests::Backend::Sqlite, |db| async move {
        let limit = api::config::Settings::default().graphql.max_complexity;
        let app = db.app_with(|settings| settings.graphql.max_complexity = 1).await;
        let server = app.serve().await;
        let admin = app.staff_token("national_admin", "11").await;
        let id = uuid::Uuid::nil().to_string();
        let mut costs = Vec::new();
        for (name, variables) in screens(&id, &id) {
            let (status, body) = server.gql(Some(&admin), &document(name), variables).await;
            assert_eq!(status, 400, "{name}: {body}");
            let message = body["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains("over the limit of 1"), "the refusal says the limit: {message}");
            let cost: usize = message.split_whitespace().nth(3).unwrap().trim_end_matches(',').parse().unwrap();
            costs.push((name, cost));
        }
        let (costliest, cost) = *costs.iter().max_by_key(|(_, cost)| *cost).unwrap();
        assert!(cost * 3 / 2 <= limit, "{costliest} costs {cost}, too close to the limit of {limit}: {costs:?}");
        assert!(
            limit <= cost * 3,
            "the limit of {limit} is far above the costliest screen ({costliest}, {cost}): {costs:?}"
        );
    })
    .await;
}
