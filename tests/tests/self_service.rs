//! The mobile app's self-service, played through over HTTP with only the documents of
//! `contract/mobile/`: scenarios 1 (phone change), 3 (pause) and 9 (withdrawal) of the domain
//! notes, the cooling-off purge, bad input that changes nothing, and the home screen's cost.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use api::domain::donation::Stage;
use api::service::cases::Requester;
use chrono::{Duration, Utc};
use entity::{
    backup_contact, lost_contact_entry, outbound_message, staff_alert, volunteer, volunteer_contact,
    volunteer_tombstone,
};
use registry_tests::mobile::{Mobile, enrolment};
use registry_tests::{TestApp, both_backends, error_codes};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const PHONE: &str = "+8613800000001";

/// Every test here plays the mobile contract with a pool of one database connection: a request
/// that held a connection while waiting for another would deadlock, and fail the test.
fn one_connection(settings: &mut registry_tests::Settings) {
    settings.database.max_connections = 1;
}

/// The one volunteer a test enrolled, straight from the database.
async fn the_volunteer(app: &TestApp) -> volunteer::Model {
    volunteer::Entity::find().one(app.app.db()).await.unwrap().expect("one volunteer")
}

/// Moves the volunteer's record, as time passing or staff would (typing, reserving).
async fn set(app: &TestApp, column: volunteer::Column, value: impl Into<sea_orm::Value>) {
    volunteer::Entity::update_many().col_expr(column, Expr::value(value)).exec(app.app.db()).await.unwrap();
}

async fn count_volunteers(app: &TestApp) -> u64 {
    volunteer::Entity::find().count(app.app.db()).await.unwrap()
}

fn field_of(body: &Value) -> String {
    body["errors"][0]["extensions"]["field"].as_str().unwrap_or_default().to_owned()
}

both_backends! {
    async fn alerts_come_a_page_at_a_time_newest_first_and_only_the_branch_s_own(db) {
        let app = db.app().await;
        for n in 0..5 {
            let volunteer = app.register_volunteer(900 + n, "51").await;
            let kind = api::service::alerts::AlertKind::FamilyCallRequested;
            api::service::alerts::raise(app.app.db(), "51", Some(volunteer.id), kind).await.unwrap();
        }
        api::service::alerts::raise(app.app.db(), "11", None, api::service::alerts::AlertKind::JobFailed).await.unwrap();
        let page = "query($after: String) { alerts(first: 2, after: $after) { nodes { id branchCode createdAt } nextCursor } }";
        let coordinator = registry_tests::staff("branch_coordinator", "51");
        let mut seen: Vec<Value> = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = app.data_as(&coordinator, page, json!({ "after": after })).await;
            let nodes = data["alerts"]["nodes"].as_array().unwrap().clone();
            assert!(nodes.len() <= 2 && nodes.iter().all(|alert| alert["branchCode"] == "51"));
            seen.extend(nodes);
            after = data["alerts"]["nextCursor"].clone();
            if after.is_null() {
                break;
            }
        }
        assert_eq!(seen.len(), 5, "every alert once, across three pages");
        let mut ids: Vec<&str> = seen.iter().map(|alert| alert["id"].as_str().unwrap()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 5);
        assert!(seen.windows(2).all(|pair| pair[0]["createdAt"].as_str() >= pair[1]["createdAt"].as_str()), "newest first");

        let national = app.data_as(&registry_tests::staff("national_admin", "11"), "{ alerts { nodes { id } } }", json!({})).await;
        assert_eq!(national["alerts"]["nodes"].as_array().unwrap().len(), 6, "national administrators see every branch");
        let bad = app.response_as(&coordinator, page, json!({ "after": "not-a-cursor" })).await;
        assert_eq!((error_codes(&bad), registry_tests::error_field(&bad)), (vec!["BAD_USER_INPUT".to_owned()], "after".to_owned()));
        let too_many = app.response_as(&coordinator, "{ alerts(first: 101) { nextCursor } }", json!({})).await;
        assert_eq!(registry_tests::error_field(&too_many), "first");
    }

    async fn scenario_1_a_phone_change_needs_a_code_to_the_new_number_and_keeps_the_old_in_history(db) {
        let app = db
            .app_with(|settings| {
                one_connection(settings);
                settings.auth.volunteer_codes.resend_after_secs = 0;
            })
            .await;
        let server = app.serve().await;
        let mut phone = Mobile::new(&server);
        phone.enrol(&app, PHONE, enrolment()).await;
        let new_phone = "+8613900000002";

        let sent = phone.call("RequestPhoneChangeCode", json!({ "phone": new_phone })).await;
        assert_eq!(sent["requestPhoneChangeCode"]["expiresIn"], 600, "valid 10 minutes");
        let code = app.latest_code(new_phone).await.unwrap();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..5 {
            let refused = phone.send("ChangePhone", json!({ "kind": "PRIMARY_PHONE", "phone": new_phone, "code": wrong })).await;
            assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"]);
            assert_eq!(field_of(&refused), "code");
        }
        let locked = phone.send("ChangePhone", json!({ "kind": "PRIMARY_PHONE", "phone": new_phone, "code": code })).await;
        assert_eq!(error_codes(&locked), ["BAD_USER_INPUT"], "5 wrong codes lock it, even for the right one");

        phone.call("RequestPhoneChangeCode", json!({ "phone": new_phone })).await;
        let code = app.latest_code(new_phone).await.unwrap();
        let changed = phone.call("ChangePhone", json!({ "kind": "PRIMARY_PHONE", "phone": new_phone, "code": code })).await;
        assert_eq!(changed["changePhone"]["primaryPhone"], "139****0002");

        let staff = app.staff_token("branch_coordinator", "51").await;
        let (_, found) = server
            .gql(Some(&staff), "query($p: String!) { findVolunteers(phone: $p) { id contactHistory { kind value endedAt } } }", json!({ "p": new_phone }))
            .await;
        let found = found["data"]["findVolunteers"].as_array().unwrap().clone();
        assert_eq!(found.len(), 1, "staff find the volunteer by the new number");
        let history = found[0]["contactHistory"].as_array().unwrap();
        let old = history.iter().find(|contact| contact["value"] == "138****0001").expect("the old number stays");
        assert!(old["endedAt"].is_string(), "with its end date");
        let (_, by_old) = server.gql(Some(&staff), "query($p: String!) { findVolunteers(phone: $p) { id } }", json!({ "p": PHONE })).await;
        assert_eq!(by_old["data"]["findVolunteers"], json!([]), "the old number no longer finds them");
    }

    async fn a_phone_change_needs_a_recent_sign_in(db) {
        let app = db.app_with(one_connection).await;
        let server = app.serve().await;
        let mut phone = Mobile::new(&server);
        phone.enrol(&app, PHONE, enrolment()).await;
        set(&app, volunteer::Column::LastSignInAt, Utc::now() - Duration::hours(1)).await;
        let refused = phone.send("RequestPhoneChangeCode", json!({ "phone": "+8613900000002" })).await;
        assert_eq!(error_codes(&refused), ["CONFLICT"]);
        assert_eq!(field_of(&refused), "session");
    }

    async fn a_volunteer_whose_old_sim_is_gone_changes_phone_with_their_id_number_and_is_announced(db) {
        let app = db.app_with(|settings| {
            one_connection(settings);
            settings.auth.volunteer_codes.resend_after_secs = 0;
        }).await;
        let server = app.serve().await;
        let mut phone = Mobile::new(&server);
        phone.enrol(&app, PHONE, enrolment()).await;
        // The old SIM is gone: no fresh sign-in by code is possible, the session still is.
        set(&app, volunteer::Column::LastSignInAt, Utc::now() - Duration::hours(1)).await;
        let new_phone = "+8613900000002";
        let request = |national_id: &str| json!({ "phone": new_phone, "nationalId": national_id });

        let malformed = phone.send("RequestPhoneChangeCode", request("51010419900307002X")).await;
        assert_eq!((error_codes(&malformed), field_of(&malformed)), (vec!["BAD_USER_INPUT".to_owned()], "nationalId".to_owned()));
        let someone_else = phone.send("RequestPhoneChangeCode", request("510104198506120032")).await;
        assert_eq!((error_codes(&someone_else), field_of(&someone_else)), (vec!["BAD_USER_INPUT".to_owned()], "nationalId".to_owned()));
        assert_eq!(app.latest_code(new_phone).await, None, "no code went out for a wrong ID number");

        phone.call("RequestPhoneChangeCode", request("510104199003070023")).await;
        let code = app.latest_code(new_phone).await.unwrap();
        let change = json!({ "kind": "PRIMARY_PHONE", "phone": new_phone, "code": code, "nationalId": "510104199003070023" });
        let changed = phone.call("ChangePhone", change).await;
        assert_eq!(changed["changePhone"]["primaryPhone"], "139****0002");

        // The old number and both backup contacts are told; the old number reads no name.
        app.deliver(&["phone_changed_old", "phone_changed_backup"]).await;
        let sms = app.app.messaging().development_sms().unwrap();
        let to_old = sms.recent(PHONE, 1);
        assert_eq!(to_old[0].template_key, "phone_changed_old");
        assert!(!to_old[0].text.contains('张'), "{}", to_old[0].text);
        for backup in ["+8613700000011", "+8613700000012"] {
            let notice = sms.recent(backup, 1);
            assert_eq!(notice[0].template_key, "phone_changed_backup", "{backup}");
            assert!(notice[0].text.contains("张*") && !notice[0].text.contains("张三"), "{}", notice[0].text);
        }

        // She was neither lost nor stale: keeping her number is not counted as a reconnection.
        let staff = app.staff_token("branch_coordinator", "51").await;
        let figures = "query($d: NaiveDate!) { attritionFigures(branchCode: \"51\", from: $d, to: $d) { reconnected { total } } }";
        let (_, counted) = server.gql(Some(&staff), figures, json!({ "d": Utc::now().date_naive() })).await;
        let months = counted["data"]["attritionFigures"].as_array().unwrap();
        assert!(months.iter().all(|month| month["reconnected"]["total"] == 0), "{counted}");

        // The ID number cannot be guessed: a few tries a day, then even the right one waits.
        let mut refused = Vec::new();
        for _ in 0..4 {
            refused.extend(error_codes(&phone.send("RequestPhoneChangeCode", request("510104198506120032")).await));
        }
        assert_eq!(refused.last().map(String::as_str), Some("RATE_LIMITED"), "{refused:?}");
        let locked = phone.send("RequestPhoneChangeCode", request("510104199003070023")).await;
        assert_eq!(error_codes(&locked), ["RATE_LIMITED"]);
    }

    async fn scenario_new_number_a_lost_volunteer_recovers_their_record_through_a_backup_contact(db) {
        let app = db.app_with(|settings| {
            one_connection(settings);
            settings.auth.volunteer_codes.resend_after_secs = 0;
        }).await;
        let server = app.serve().await;
        let mut old = Mobile::new(&server);
        old.enrol(&app, PHONE, enrolment()).await;
        let id = the_volunteer(&app).await.id;
        set(&app, volunteer::Column::HlaResolution, volunteer::HlaResolution::High).await;
        set(&app, volunteer::Column::Status, volunteer::DonorStatus::TemporarilyUnavailable).await;
        set(&app, volunteer::Column::StatusReason, volunteer::StatusReason::UnableToContact).await;
        lost_contact_entry::Entity::insert(lost_contact_entry::ActiveModel {
            volunteer_id: sea_orm::Set(id),
            branch_code: sea_orm::Set("51".into()),
            reasons: sea_orm::Set(1),
            priority: sea_orm::Set(1),
            entered_at: sea_orm::Set(Utc::now()),
            refreshed_at: sea_orm::Set(Utc::now()),
        })
        .exec_without_returning(app.app.db())
        .await
        .unwrap();

        // She reinstalls the app with her new number: enrolling says the ID number is hers to recover.
        let new_phone = "+8613900000002";
        let mut phone = Mobile::new(&server);
        let ticket = phone.sign_in(&app, new_phone).await.expect("a phone of no volunteer");
        let enrol = json!({ "enrolmentTicket": ticket, "phone": new_phone, "input": enrolment() });
        let taken = phone.send("Enrol", enrol).await;
        assert_eq!((error_codes(&taken), field_of(&taken)), (vec!["CONFLICT".to_owned()], "nationalId".to_owned()));
        assert!(taken["errors"][0]["message"].as_str().unwrap().contains("startRecovery"), "{taken}");

        let start = json!({ "enrolmentTicket": ticket, "phone": new_phone, "name": "张三", "nationalId": "510104199003070023" });
        let offer = phone.call("StartRecovery", start).await["startRecovery"].clone();
        let destinations = offer["destinations"].as_array().unwrap();
        assert_eq!(destinations.len(), 3, "the old phone and two backup contacts: {offer}");
        assert_eq!((destinations[0]["kind"].as_str(), destinations[0]["phone"].as_str()), (Some("OLD_PHONE"), Some("138****0001")));
        let parent = destinations.iter().find(|d| d["relationship"] == "PARENT").expect("the parent");
        assert_eq!(parent["phone"], "137****0011");

        phone.call("SendRecoveryCode", json!({ "recoveryId": offer["id"], "destinationId": parent["id"] })).await;
        app.deliver(&["recovery_code"]).await;
        let sent = app.app.messaging().development_sms().unwrap().recent("+8613700000011", 1);
        assert_eq!(sent[0].template_key, "recovery_code");
        let code = sent[0].params[0].clone();
        let session = phone.call("CompleteRecovery", json!({ "recoveryId": offer["id"], "code": code })).await;
        phone.token = Some(session["completeRecovery"]["accessToken"].as_str().unwrap().to_owned());

        // She is back, available, under the new number, and out of the lost-contact queue.
        let me = phone.call("Home", json!({})).await;
        assert_eq!(me["me"]["status"], "AV", "{me}");
        let record = the_volunteer(&app).await;
        assert!(record.last_confirmed_at > Utc::now() - Duration::minutes(1), "the confirmation is refreshed");
        let queued = lost_contact_entry::Entity::find().count(app.app.db()).await.unwrap();
        assert_eq!(queued, 0);
        let staff = app.staff_token("branch_coordinator", "51").await;
        let (_, found) = server.gql(Some(&staff), "query($p: String!) { findVolunteers(phone: $p) { id } }", json!({ "p": new_phone })).await;
        assert_eq!(found["data"]["findVolunteers"][0]["id"], id.to_string(), "staff find her by the new number");

        // The old number and both backup contacts got their notices.
        app.deliver(&["phone_changed_old", "phone_changed_backup"]).await;
        let sms = app.app.messaging().development_sms().unwrap();
        assert_eq!(sms.recent(PHONE, 1)[0].template_key, "phone_changed_old");
        for backup in ["+8613700000011", "+8613700000012"] {
            assert_eq!(sms.recent(backup, 1)[0].template_key, "phone_changed_backup", "{backup}");
        }
        // The retention programme counts her: reconnected, through a backup contact.
        let figures = "query($d: NaiveDate!) { attritionFigures(branchCode: \"51\", from: $d, to: $d) { reconnected { selfService backupContact staff total } } }";
        let today = Utc::now().date_naive();
        let (_, counted) = server.gql(Some(&staff), figures, json!({ "d": today })).await;
        assert_eq!(
            counted["data"]["attritionFigures"][0]["reconnected"],
            json!({ "selfService": 0, "backupContact": 1, "staff": 0, "total": 1 }),
            "{counted}"
        );
        let refused = phone.send("CompleteRecovery", json!({ "recoveryId": offer["id"], "code": code })).await;
        assert_eq!(error_codes(&refused), ["NOT_FOUND"], "a recovery completes once");
    }

    async fn recovery_tells_a_stranger_nothing_and_gives_no_record_without_a_code(db) {
        let app = db.app_with(|settings| {
            one_connection(settings);
            settings.auth.volunteer_codes.resend_after_secs = 0;
        }).await;
        let server = app.serve().await;
        let mut owner = Mobile::new(&server);
        owner.enrol(&app, PHONE, enrolment()).await;
        let stranger_phone = "+8613900000003";
        let mut stranger = Mobile::new(&server);
        let ticket = stranger.sign_in(&app, stranger_phone).await.unwrap();
        let start = |name: &str, national_id: &str| json!({ "enrolmentTicket": ticket, "phone": stranger_phone, "name": name, "nationalId": national_id });

        // A wrong name and an unregistered ID number answer alike (but for the request id).
        let without_id = |mut body: Value| {
            body["errors"][0]["extensions"].as_object_mut().unwrap().remove("requestId");
            body
        };
        let wrong_name = without_id(stranger.send("StartRecovery", start("李四", "510104199003070023")).await);
        let unregistered = without_id(stranger.send("StartRecovery", start("张三", "510104198506120032")).await);
        assert_eq!(wrong_name, unregistered);
        assert_eq!(error_codes(&wrong_name), ["BAD_USER_INPUT"]);
        assert_eq!(field_of(&wrong_name), "nationalId");
        let malformed = stranger.send("StartRecovery", start("张三", "12345")).await;
        assert_eq!(field_of(&malformed), "nationalId");

        // Knowing name and ID number opens the recovery, but only a code read back completes it.
        let offer = stranger.call("StartRecovery", start("张三", "510104199003070023")).await["startRecovery"].clone();
        let bad = stranger.send("CompleteRecovery", json!({ "recoveryId": offer["id"], "code": "123456" })).await;
        assert_eq!(field_of(&bad), "code", "no code was sent yet");
        let elsewhere = stranger.send("SendRecoveryCode", json!({ "recoveryId": offer["id"], "destinationId": uuid::Uuid::now_v7().to_string() })).await;
        assert_eq!(field_of(&elsewhere), "destinationId", "a code goes only where the record says");
        stranger.call("SendRecoveryCode", json!({ "recoveryId": offer["id"], "destinationId": offer["destinations"][0]["id"] })).await;
        for _ in 0..5 {
            let guess = stranger.send("CompleteRecovery", json!({ "recoveryId": offer["id"], "code": "000000" })).await;
            assert_eq!(field_of(&guess), "code");
        }
        let record = the_volunteer(&app).await;
        let primary = volunteer_contact::Entity::find()
            .filter(volunteer_contact::Column::VolunteerId.eq(record.id))
            .filter(volunteer_contact::Column::Kind.eq(volunteer_contact::ContactKind::PrimaryPhone))
            .filter(volunteer_contact::Column::EndedAt.is_null())
            .count(app.app.db())
            .await
            .unwrap();
        assert_eq!(primary, 1);
        let (_, by_stranger) = server.gql(Some(&app.staff_token("branch_coordinator", "51").await), "query($p: String!) { findVolunteers(phone: $p) { id } }", json!({ "p": stranger_phone })).await;
        assert_eq!(by_stranger["data"]["findVolunteers"], json!([]), "the record is still the owner's");

        // With no code to receive, they can only ask for a call: the branch sees the number and
        // calls it, and the record stays the owner's until a code is read back.
        stranger.call("RequestRecoveryCallBack", json!({ "recoveryId": offer["id"] })).await;
        stranger.call("RequestRecoveryCallBack", json!({ "recoveryId": offer["id"] })).await;
        let coordinator = registry_tests::staff("branch_coordinator", "51");
        let alerts = app.data_as(&coordinator, "{ alerts { nodes { kind volunteerId } } }", json!({})).await;
        let call_backs: Vec<&Value> = alerts["alerts"]["nodes"].as_array().unwrap().iter().filter(|a| a["kind"] == "recovery_call_back").collect();
        assert_eq!(call_backs.len(), 1, "asking twice alerts once: {alerts}");
        let unmask = "mutation($v: ID!) { unmaskVolunteerField(volunteerId: $v, field: REPORTED_PHONE, purpose: VOLUNTEER_REQUEST) }";
        let number = app.data_as(&coordinator, unmask, json!({ "v": record.id.to_string() })).await;
        assert_eq!(number["unmaskVolunteerField"], stranger_phone, "the number to call");
        let elsewhere = registry_tests::staff("branch_coordinator", "11");
        let none = app.data_as(&elsewhere, "{ alerts { nodes { kind } } }", json!({})).await;
        assert_eq!(none["alerts"]["nodes"], json!([]), "another branch sees none of it");

        // Tries lock: the ID number takes five a day, from any phone.
        let mut codes = Vec::new();
        for _ in 0..3 {
            codes.extend(error_codes(&stranger.send("StartRecovery", start("张三", "510104199003070023")).await));
        }
        assert_eq!(codes.last().map(String::as_str), Some("RATE_LIMITED"), "{codes:?}");
    }

    async fn scenario_3_a_pause_reminds_before_its_end_and_ends_only_when_confirmed(db) {
        let app = db.app_with(one_connection).await;
        let server = app.serve().await;
        let mut phone = Mobile::new(&server);
        phone.enrol(&app, PHONE, enrolment()).await;
        // Staff have typed her: she is on the register.
        set(&app, volunteer::Column::HlaResolution, volunteer::HlaResolution::High).await;
        set(&app, volunteer::Column::Status, volunteer::DonorStatus::Available).await;

        let until = Utc::now().date_naive() + Duration::days(120);
        let paused = phone.call("PauseAvailability", json!({ "reason": "MEDICAL", "until": until })).await;
        assert_eq!(paused["pauseAvailability"], json!({ "status": "TU", "statusReason": "MR", "statusUntil": until.to_string() }));

        let services = app.app.services();
        let early = services.availability.run_jobs(Utc::now()).await.unwrap();
        assert_eq!(early.reminders_queued, 0, "no reminder months ahead");
        let reminded = services.availability.run_jobs(Utc::now() + Duration::days(120 - 14)).await.unwrap();
        assert_eq!(reminded.reminders_queued, 2, "in the app and by SMS, 14 days before the end");
        let again = services.availability.run_jobs(Utc::now() + Duration::days(120 - 13)).await.unwrap();
        assert_eq!(again.reminders_queued, 0, "once per pause");
        let reminders = outbound_message::Entity::find()
            .filter(outbound_message::Column::TemplateKey.eq("pause_ending"))
            .all(app.app.db())
            .await
            .unwrap();
        let channels: std::collections::BTreeSet<_> = reminders.iter().map(|message| message.channel.as_str()).collect();
        assert_eq!(channels, ["app_inbox", "sms"].into(), "the SMS waits for the end of quiet hours, if need be");
        // The served app's own outbox workers may hold the app message a moment: wait for it.
        let mut home = json!({});
        for _ in 0..100 {
            while app.app.messaging().deliver_batch("test").await.unwrap() > 0 {}
            home = phone.call("Home", json!({})).await;
            if home["myNotifications"]["unreadCount"] == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(home["myNotifications"]["unreadCount"], 1);
        let notification = &home["myNotifications"]["items"][0];
        assert_eq!(notification["kind"], "pause_ending");
        assert!(notification["text"].as_str().unwrap().contains(&until.to_string()));
        let read = phone.call("MarkNotificationsRead", json!({ "ids": [notification["id"]] })).await;
        assert_eq!(read["markNotificationsRead"], 1);

        // The pause ends; she is still TU until she confirms.
        set(&app, volunteer::Column::StatusUntil, Utc::now().date_naive() - Duration::days(1)).await;
        services.availability.run_jobs(Utc::now()).await.unwrap();
        assert_eq!(phone.call("Home", json!({})).await["me"]["status"], "TU");
        let confirmed = phone.call("ConfirmMyDetails", json!({})).await;
        assert_eq!(confirmed["confirmMyDetails"]["status"], "AV");
        assert_eq!(confirmed["confirmMyDetails"]["statusReason"], Value::Null);

        // A pause that ends unconfirmed lapses to TU/UC after the grace period.
        phone.call("PauseAvailability", json!({ "reason": "PERSONAL", "until": until })).await;
        set(&app, volunteer::Column::StatusUntil, Utc::now().date_naive() - Duration::days(15)).await;
        let lapsed = services.availability.run_jobs(Utc::now()).await.unwrap();
        assert_eq!(lapsed.pauses_lapsed, 1);
        let home = phone.call("Home", json!({})).await;
        assert_eq!((home["me"]["status"].clone(), home["me"]["statusReason"].clone()), (json!("TU"), json!("UC")));
        assert_eq!(phone.call("ResumeAvailability", json!({})).await["resumeAvailability"]["status"], "AV");
    }

    async fn scenario_9_withdrawal_in_cooling_off_purges_and_later_leaves_a_tombstone(db) {
        let app = db.app_with(one_connection).await;
        let server = app.serve().await;
        let mut phone = Mobile::new(&server);
        phone.enrol(&app, PHONE, enrolment()).await;
        // Day 5 of the 7-day cooling-off.
        set(&app, volunteer::Column::CoolingOffUntil, Utc::now() + Duration::days(2)).await;
        let notice = phone.call("WithdrawalNotice", json!({})).await["withdrawalNotice"].clone();
        assert_eq!(notice["deletesEverything"], true);
        assert!(notice["explanation"].as_str().unwrap().contains("暂停"), "it offers a pause instead");
        let unconfirmed = phone.send("Withdraw", json!({ "cause": "FAMILY", "confirmation": "wc_1.00" })).await;
        assert_eq!((error_codes(&unconfirmed), field_of(&unconfirmed)), (vec!["BAD_USER_INPUT".into()], "confirmation".into()));
        assert_eq!(count_volunteers(&app).await, 1, "nothing changed");

        let done = phone.call("Withdraw", json!({ "cause": "FAMILY", "confirmation": notice["confirmation"] })).await;
        assert_eq!(done["withdraw"]["deletedEverything"], true);
        let db_ = app.app.db();
        assert_eq!(count_volunteers(&app).await, 0);
        assert_eq!(volunteer_contact::Entity::find().count(db_).await.unwrap(), 0);
        assert_eq!(backup_contact::Entity::find().count(db_).await.unwrap(), 0);
        assert_eq!(volunteer_tombstone::Entity::find().count(db_).await.unwrap(), 0, "no tombstone in cooling-off");
        assert_eq!(
            outbound_message::Entity::find().filter(outbound_message::Column::VolunteerId.is_not_null()).count(db_).await.unwrap(),
            0,
            "no message that names them"
        );
        assert_eq!(error_codes(&phone.send("Home", json!({})).await), ["UNAUTHENTICATED"], "their session is gone");

        // Later on: a tombstone (DE, reason, date) and no personal data.
        let mut later = Mobile::new(&server);
        let mut form = enrolment();
        form["nationalId"] = json!("510104198506120032");
        form["birthDate"] = json!("1985-06-12");
        form["sex"] = json!("MALE");
        later.enrol(&app, "+8613800000003", form).await;
        set(&app, volunteer::Column::CoolingOffUntil, Utc::now() - Duration::days(300)).await;
        let id = the_volunteer(&app).await.id;
        let notice = later.call("WithdrawalNotice", json!({})).await["withdrawalNotice"].clone();
        assert_eq!(notice["deletesEverything"], false);
        let done = later.call("Withdraw", json!({ "cause": "WORK", "confirmation": notice["confirmation"] })).await;
        assert_eq!(done["withdraw"]["deletedEverything"], false);
        let tombstone = volunteer_tombstone::Entity::find_by_id(id).one(db_).await.unwrap().expect("a tombstone");
        assert_eq!((tombstone.status_reason, tombstone.withdrawal_cause.as_str()), (volunteer::StatusReason::Personal, "work"));
        assert_eq!(count_volunteers(&app).await, 0, "the personal data went with the record");
        assert_eq!(volunteer_contact::Entity::find().count(db_).await.unwrap(), 0);
    }

    async fn a_volunteer_reserved_for_a_patient_is_sent_to_their_coordinator(db) {
        let app = db.app_with(one_connection).await;
        let server = app.serve().await;
        let mut phone = Mobile::new(&server);
        phone.enrol(&app, PHONE, enrolment()).await;
        // Reserved: a case for them past its search hit (confirmatory typing requested).
        let id = volunteer::Entity::find().one(app.app.db()).await.unwrap().unwrap().id;
        let (case, coordinator) = app.open_case(id, "51", Requester::Centre("Anthony Nolan".into())).await;
        let (cases, today) = (&app.app.services().cases, api::domain::calendar::today(Utc::now()));
        let reach = coordinator.coordinator().unwrap();
        cases.record_step(&reach, &coordinator, case, (Stage::CtRequested, today, None), None).await.unwrap();
        let notice = phone.call("WithdrawalNotice", json!({})).await["withdrawalNotice"].clone();
        let refused = phone.send("Withdraw", json!({ "cause": "FEAR", "confirmation": notice["confirmation"] })).await;
        assert_eq!((error_codes(&refused), field_of(&refused)), (vec!["CONFLICT".into()], "status".into()));
        assert_eq!(count_volunteers(&app).await, 1);
        let alert = staff_alert::Entity::find().one(app.app.db()).await.unwrap().expect("the coordinator is alerted");
        assert_eq!((alert.kind.as_str(), alert.branch_code.as_str()), ("withdrawal_during_case", "51"));
    }

    async fn bad_enrolments_name_their_field_and_change_nothing(db) {
        let app = db.app_with(one_connection).await;
        let server = app.serve().await;
        let mut phone = Mobile::new(&server);
        let ticket = phone.sign_in(&app, PHONE).await.unwrap();
        let long_name = "张".repeat(10_000);
        let cases: Vec<(&str, Value, &str)> = vec![
            ("a wrong ID checksum", json!({ "nationalId": "510104199003070021" }), "nationalId"),
            ("an ID that does not match the birth date", json!({ "birthDate": "1990-03-08" }), "birthDate"),
            ("an ID that does not match the sex", json!({ "sex": "MALE" }), "sex"),
            ("an empty name", json!({ "name": "" }), "name"),
            ("a 10,000-character name", json!({ "name": long_name }), "name"),
            ("one backup contact", json!({ "backupContacts": [{ "name": "张父", "relationship": "PARENT", "phone": "+8613700000011" }] }), "backupContacts"),
            ("a malformed backup phone", json!({ "backupContacts": [
                { "name": "张父", "relationship": "PARENT", "phone": "12345" },
                { "name": "李友", "relationship": "FRIEND", "phone": "+8613700000012" }] }), "backupContacts.0.phone"),
            ("an empty backup name", json!({ "backupContacts": [
                { "name": " ", "relationship": "PARENT", "phone": "+8613700000011" },
                { "name": "李友", "relationship": "FRIEND", "phone": "+8613700000012" }] }), "backupContacts.0.name"),
            ("no health-data consent", json!({ "healthDataConsent": false }), "healthDataConsent"),
            ("an old consent", json!({ "consentVersion": "2019-01" }), "consentVersion"),
            ("an empty city", json!({ "city": "" }), "city"),
            ("a province with no branch (Taiwan, 71)", json!({ "provinceCode": "71" }), "provinceCode"),
        ];
        for (what, change, field) in cases {
            let mut input = enrolment();
            for (key, value) in change.as_object().unwrap() {
                input[key] = value.clone();
            }
            let body = phone.send("Enrol", json!({ "enrolmentTicket": ticket, "phone": PHONE, "input": input })).await;
            assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{what}: {body}");
            assert_eq!(field_of(&body), field, "{what}");
            assert!(!body.to_string().contains("5101041990"), "{what}: the error repeats no ID number");
            assert_eq!(count_volunteers(&app).await, 0, "{what}: nothing written");
        }
        let malformed = phone.send("Enrol", json!({ "enrolmentTicket": ticket, "phone": "+86138", "input": enrolment() })).await;
        assert_eq!((error_codes(&malformed), field_of(&malformed)), (vec!["BAD_USER_INPUT".into()], "phone".into()));
        // The ticket was never spent: the corrected form goes through with it.
        let enrolled = phone.call("Enrol", json!({ "enrolmentTicket": ticket, "phone": PHONE, "input": enrolment() })).await;
        phone.token = Some(enrolled["enrol"]["accessToken"].as_str().unwrap().to_owned());
        let spent = phone.send("Enrol", json!({ "enrolmentTicket": ticket, "phone": PHONE, "input": enrolment() })).await;
        assert_eq!(field_of(&spent), "enrolmentTicket");

        // One person, one registration: another phone, the same ID number.
        let mut other = Mobile::new(&server);
        let ticket = other.sign_in(&app, "+8613800000009").await.unwrap();
        let twice = other.send("Enrol", json!({ "enrolmentTicket": ticket, "phone": "+8613800000009", "input": enrolment() })).await;
        assert_eq!((error_codes(&twice), field_of(&twice)), (vec!["CONFLICT".into()], "nationalId".into()));
        // The random request id may hold those digits by chance; nothing else may.
        let mut said = twice.clone();
        said["errors"][0]["extensions"]["requestId"].take();
        assert!(!said.to_string().contains("138"), "who holds it is not said");
        assert_eq!(count_volunteers(&app).await, 1);

        // Pauses: in the past, or beyond the branch's maximum.
        let before = the_volunteer(&app).await;
        let today = Utc::now().date_naive();
        for until in [today - Duration::days(1), today, today + Duration::days(400)] {
            let body = phone.send("PauseAvailability", json!({ "reason": "PERSONAL", "until": until })).await;
            assert_eq!((error_codes(&body), field_of(&body)), (vec!["BAD_USER_INPUT".into()], "until".into()), "{until}");
        }
        assert_eq!(the_volunteer(&app).await, before, "nothing changed");

        // Backup contacts: two must stay; names are checked.
        let home = phone.call("Home", json!({})).await;
        let first = home["me"]["backupContacts"][0]["id"].clone();
        let kept = phone.send("RemoveBackupContact", json!({ "id": first })).await;
        assert_eq!((error_codes(&kept), field_of(&kept)), (vec!["BAD_USER_INPUT".into()], "id".into()));
        let unnamed = phone.send("AddBackupContact", json!({ "input": { "name": "", "relationship": "SIBLING", "phone": "+8613700000013" } })).await;
        assert_eq!(field_of(&unnamed), "backupContact.name");
        let bad_phone = phone.send("AddBackupContact", json!({ "input": { "name": "张弟", "relationship": "SIBLING", "phone": "not a phone" } })).await;
        assert_eq!(field_of(&bad_phone), "backupContact.phone");
        let long = phone.send("RequestNameCorrection", json!({ "name": "张".repeat(10_000) })).await;
        assert_eq!(field_of(&long), "name");
        for (kind, value) in [("EMAIL", "not an address"), ("WECHAT", "1x"), ("POSTAL_ADDRESS", "")] {
            let body = phone.send("SetContact", json!({ "kind": kind, "value": value })).await;
            assert_eq!((error_codes(&body), field_of(&body)), (vec!["BAD_USER_INPUT".into()], "value".into()), "{kind}");
        }
        let huge = phone.send("UpdateMyProfile", json!({ "input": { "occupation": "x".repeat(10_000) } })).await;
        assert_eq!(field_of(&huge), "occupation");
        let malformed = phone.send("RequestPhoneChangeCode", json!({ "phone": "12345" })).await;
        assert_eq!(field_of(&malformed), "phone");
        let family = json!({ "input": { "relationship": "PARENT", "name": "", "stance": "OPPOSED" } });
        assert_eq!(field_of(&phone.send("RecordFamilyMember", family).await), "input.name");
        let too_many = phone.send("Notifications", json!({ "first": 51 })).await;
        assert_eq!(field_of(&too_many), "first");
        assert_eq!(volunteer_contact::Entity::find().count(app.app.db()).await.unwrap(), 1, "no contact was added");
        assert_eq!(entity::family_member::Entity::find().count(app.app.db()).await.unwrap(), 0);
        assert_eq!(backup_contact::Entity::find().count(app.app.db()).await.unwrap(), 2);
        assert_eq!(the_volunteer(&app).await, before, "nothing changed");
    }

    async fn the_profile_contacts_and_preferences_are_the_volunteers_to_keep(db) {
        let app = db.app_with(one_connection).await;
        let server = app.serve().await;
        let mut phone = Mobile::new(&server);
        phone.enrol(&app, PHONE, enrolment()).await;
        let consent = phone.call("ConsentVersion", json!({})).await;
        assert_eq!(consent["consentVersion"], "2026-01");

        let home = phone.call("Home", json!({})).await["me"].clone();
        assert_eq!((home["name"].clone(), home["nationalId"].clone(), home["primaryPhone"].clone()),
            (json!("张*"), json!("510104********0023"), json!("138****0001")));
        assert_eq!(home["status"], "PENDING");
        assert_eq!(home["checkUpDue"], false);
        assert_eq!(home["bloodGroup"], json!({ "abo": "A", "rh": "POSITIVE" }));
        assert_eq!(home["backupContacts"].as_array().unwrap().len(), 2);
        assert_eq!(home["backupContacts"][0]["phone"], "137****0011");
        assert!(home["contacts"][0]["verifiedAt"].is_string(), "the phone was proven by its code");

        let profile = phone.call("UpdateMyProfile", json!({ "input": { "occupation": "教师", "employer": "成都七中" } })).await;
        assert_eq!(profile["updateMyProfile"], json!({ "city": "成都", "occupation": "教师", "employer": "成***" }));
        let named = phone.call("RequestNameCorrection", json!({ "name": "张叁" })).await;
        assert_eq!(named["requestNameCorrection"], json!({ "name": "张*", "nameCorrectionPending": true }));

        let set = phone.call("SetContact", json!({ "kind": "EMAIL", "value": "Zhang.San@Example.cn" })).await;
        let contacts = set["setContact"]["contacts"].as_array().unwrap();
        assert!(contacts.iter().any(|contact| contact["kind"] == "EMAIL" && contact["value"] == "z********@example.cn"), "{contacts:?}");
        let added = phone.call("AddBackupContact", json!({ "input": { "name": "张弟", "relationship": "SIBLING", "phone": "+8613700000013" } })).await;
        let backups = added["addBackupContact"]["backupContacts"].as_array().unwrap().clone();
        assert_eq!(backups.len(), 3);
        let told = outbound_message::Entity::find()
            .filter(outbound_message::Column::TemplateKey.eq("backup_contact_informed"))
            .count(app.app.db())
            .await
            .unwrap();
        assert_eq!(told, 3, "each backup contact is told once why they are listed");
        let removed = phone.call("RemoveBackupContact", json!({ "id": backups[2]["id"] })).await;
        assert_eq!(removed["removeBackupContact"]["backupContacts"].as_array().unwrap().len(), 2);

        let off = phone.call("SetNotificationPreferences", json!({ "sms": false, "appInbox": true })).await;
        assert_eq!(off["setNotificationPreferences"], json!({ "sms": false, "appInbox": true }));
        let opted_out = entity::messaging_opt_out::Entity::find().count(app.app.db()).await.unwrap();
        assert_eq!(opted_out, 1, "the phone is opted out of non-essential SMS, as by a TD reply");
        phone.call("SetNotificationPreferences", json!({ "sms": true, "appInbox": true })).await;
        assert_eq!(entity::messaging_opt_out::Entity::find().count(app.app.db()).await.unwrap(), 0);

        // Staff: a coordinator reviews the name; another branch's staff are refused.
        let id = the_volunteer(&app).await.id.to_string();
        let other_branch = app.staff_token("branch_coordinator", "11").await;
        let review = "mutation($id: ID!) { reviewNameCorrection(volunteerId: $id, accept: true) }";
        let (_, refused) = server.gql(Some(&other_branch), review, json!({ "id": id })).await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"]);
        let coordinator = app.staff_token("branch_coordinator", "51").await;
        let (_, accepted) = server.gql(Some(&coordinator), review, json!({ "id": id })).await;
        assert_eq!(accepted["data"]["reviewNameCorrection"], true, "{accepted}");
        let home = phone.call("Home", json!({})).await;
        assert_eq!(home["me"]["name"], "张*");
        let unmask = "mutation($id: ID!) { unmaskVolunteerField(volunteerId: $id, field: NAME, purpose: DATA_CORRECTION) }";
        let (_, clear) = server.gql(Some(&coordinator), unmask, json!({ "id": id })).await;
        assert_eq!(clear["data"]["unmaskVolunteerField"], "张叁");
    }

    async fn staff_enrol_offline_recruits_who_later_sign_in_with_that_phone(db) {
        let app = db.app_with(one_connection).await;
        let server = app.serve().await;
        let enrol = "mutation($phone: String!, $input: EnrolmentInput!) { enrolOfflineRecruit(phone: $phone, input: $input) { id status primaryPhone } }";
        let other_branch = app.staff_token("branch_recruiter", "11").await;
        let (_, refused) = server.gql(Some(&other_branch), enrol, json!({ "phone": PHONE, "input": enrolment() })).await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"], "province 51 is not branch 11's");
        let recruiter = app.staff_token("branch_recruiter", "51").await;
        let (_, enrolled) = server.gql(Some(&recruiter), enrol, json!({ "phone": PHONE, "input": enrolment() })).await;
        assert_eq!(enrolled["data"]["enrolOfflineRecruit"]["status"], "PENDING", "{enrolled}");
        let mut phone = Mobile::new(&server);
        assert!(phone.sign_in(&app, PHONE).await.is_none(), "the recruit signs in, not enrols");
        let home = phone.call("Home", json!({})).await;
        assert!(home["me"]["contacts"][0]["verifiedAt"].is_string(), "the first sign-in proves the phone");
    }

    async fn the_home_screen_costs_the_same_statements_however_much_it_shows(db) {
        // In-process, without a server: its workers' polling would count as the home screen's.
        let app = db.app_with(one_connection).await;
        let run = |principal: api::service::Principal, name: &str, variables: Value| {
            let request = async_graphql::Request::new(registry_tests::mobile::document(name))
                .variables(async_graphql::Variables::from_json(variables));
            let app = app.clone();
            async move {
                let response = app.execute_as(principal, request).await;
                assert!(response.errors.is_empty(), "{:?}", response.errors);
                response.data.into_json().unwrap()
            }
        };
        let anonymous = api::service::Principal::Anonymous;
        run(anonymous.clone(), "RequestSignInCode", json!({ "phone": PHONE })).await;
        let code = app.latest_code(PHONE).await.unwrap();
        let signed_in = run(anonymous.clone(), "SignInWithCode", json!({ "phone": PHONE, "code": code })).await;
        let ticket = signed_in["signInWithCode"]["enrolmentTicket"].clone();
        run(anonymous, "Enrol", json!({ "enrolmentTicket": ticket, "phone": PHONE, "input": enrolment() })).await;
        let id = the_volunteer(&app).await.id;
        let principal = api::service::Principal::Volunteer { id };
        let home = registry_tests::mobile::document("Home");
        // Warm the caches (branch rules) so that both counts measure the same work.
        app.execute_as(principal.clone(), home.as_str()).await;
        let (response, few) = app.count_statements(app.execute_as(principal.clone(), home.as_str())).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);

        for (kind, value) in [("EMAIL", "zs@example.cn"), ("WECHAT", "zhangsan_88"), ("POSTAL_ADDRESS", "成都市武侯区人民南路四段1号")] {
            run(principal.clone(), "SetContact", json!({ "kind": kind, "value": value })).await;
        }
        let backup = json!({ "input": { "name": "张弟", "relationship": "SIBLING", "phone": "+8613700000013" } });
        run(principal.clone(), "AddBackupContact", backup).await;
        let messaging = app.app.messaging();
        for n in 0..30 {
            let message = api::messaging::NewMessage {
                recipient: api::messaging::Recipient::AppInbox { volunteer_id: id },
                volunteer_id: Some(id),
                branch_code: "51".into(),
                template_key: "health_tip".into(),
                locale: "zh-CN".into(),
                variables: [("tip".to_owned(), format!("第{n}条：多喝水"))].into(),
                dedupe_key: format!("tip:{n}"),
                campaign_id: None,
            };
            messaging.queue(app.app.db(), message).await.unwrap();
        }
        while messaging.deliver_batch("test").await.unwrap() > 0 {}
        let (response, many) = app.count_statements(app.execute_as(principal.clone(), home.as_str())).await;
        let data = response.data.into_json().unwrap();
        assert_eq!(data["myNotifications"]["unreadCount"], 30);
        assert_eq!(data["myNotifications"]["items"].as_array().unwrap().len(), 5);
        assert_eq!(data["me"]["contacts"].as_array().unwrap().len(), 4);
        let first = run(principal.clone(), "Notifications", json!({ "first": 20 })).await["myNotifications"].clone();
        let after = json!({ "first": 20, "after": first["nextCursor"] });
        let rest = run(principal, "Notifications", after).await["myNotifications"].clone();
        assert_eq!(rest["nextCursor"], Value::Null, "the last page");
        let pages: Vec<Value> = [&first, &rest].iter().flat_map(|page| page["items"].as_array().unwrap().clone()).collect();
        let texts: std::collections::BTreeSet<_> = pages.iter().map(|item| item["text"].as_str().unwrap().to_owned()).collect();
        assert_eq!((first["items"].as_array().unwrap().len(), pages.len(), texts.len()), (20, 30, 30), "two pages, every one once");
        let created: Vec<&str> = pages.iter().map(|item| item["createdAt"].as_str().unwrap()).collect();
        assert!(created.windows(2).all(|pair| pair[0] >= pair[1]), "newest first");
        assert_eq!(few, many, "statements with 1 contact and no notifications: {few}; with 4 and 30: {many}");
        assert!(many <= 8, "the home screen runs {many} statements");
    }

    async fn family_members_and_the_information_pack_reach_the_coordinator(db) {
        let app = db.app_with(one_connection).await;
        let server = app.serve().await;
        let mut phone = Mobile::new(&server);
        phone.enrol(&app, PHONE, enrolment()).await;
        let mother = json!({ "input": { "relationship": "PARENT", "name": "王秀英", "phone": "+8613700000021", "stance": "OPPOSED" } });
        phone.call("RecordFamilyMember", mother).await;
        let sister = json!({ "input": { "relationship": "SIBLING", "stance": "SUPPORTIVE" } });
        let family = phone.call("RecordFamilyMember", sister).await["recordFamilyMember"]["familyMembers"].clone();
        assert_eq!(family[0]["name"], "王**");
        assert_eq!(family[0]["phone"], "137****0021");
        assert_eq!(family[1]["name"], Value::Null);
        let bad = phone.send("RecordFamilyMember", json!({ "input": { "relationship": "PARENT", "phone": "555", "stance": "UNDECIDED" } })).await;
        assert_eq!((error_codes(&bad), field_of(&bad)), (vec!["BAD_USER_INPUT".into()], "input.phone".into()));

        let mother_id = family[0]["id"].clone();
        let moved = phone.call("SetFamilyMemberStance", json!({ "id": mother_id, "stance": "UNDECIDED" })).await;
        assert_eq!(moved["setFamilyMemberStance"]["familyMembers"][0]["stance"], "UNDECIDED");
        phone.call("RequestFamilyInfoPack", json!({ "channel": "SMS", "familyMemberId": mother_id })).await;
        let no_phone = phone.send("RequestFamilyInfoPack", json!({ "channel": "SMS", "familyMemberId": family[1]["id"] })).await;
        assert_eq!(field_of(&no_phone), "familyMemberId");
        phone.call("RequestFamilyInfoPack", json!({ "channel": "STAFF_CALL" })).await;
        let packs = outbound_message::Entity::find()
            .filter(outbound_message::Column::TemplateKey.eq("family_info_pack"))
            .count(app.app.db())
            .await
            .unwrap();
        assert_eq!(packs, 1, "one SMS with the link, to the mother");

        // Another volunteer cannot touch this family.
        let mut other = Mobile::new(&server);
        let mut form = enrolment();
        form["nationalId"] = json!("510104198506120032");
        form["birthDate"] = json!("1985-06-12");
        form["sex"] = json!("MALE");
        other.enrol(&app, "+8613800000003", form).await;
        let refused = other.send("RemoveFamilyMember", json!({ "id": mother_id })).await;
        assert_eq!(error_codes(&refused), ["NOT_FOUND"]);
        assert_eq!(other.call("Family", json!({})).await["me"]["familyMembers"], json!([]));

        // The coordinator of branch 51 sees the call request and the family at match time.
        let coordinator = app.staff_token("branch_coordinator", "51").await;
        let (_, alerts) = server.gql(Some(&coordinator), "{ staffAlerts { id kind volunteerId } }", json!({})).await;
        let alerts = alerts["data"]["staffAlerts"].as_array().unwrap().clone();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0]["kind"], "family_call_requested");
        let elsewhere = app.staff_token("branch_coordinator", "11").await;
        let (_, none) = server.gql(Some(&elsewhere), "{ staffAlerts { id } }", json!({})).await;
        assert_eq!(none["data"]["staffAlerts"], json!([]), "another branch sees none of it");
        let resolve = "mutation($id: ID!) { resolveStaffAlert(id: $id) }";
        let (_, refused) = server.gql(Some(&elsewhere), resolve, json!({ "id": alerts[0]["id"] })).await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"]);
        let (_, resolved) = server.gql(Some(&coordinator), resolve, json!({ "id": alerts[0]["id"] })).await;
        assert_eq!(resolved["data"]["resolveStaffAlert"], true);
        let view = "query($id: ID!) { volunteer(id: $id) { familyMembers { relationship stance } } }";
        let (_, seen) = server.gql(Some(&coordinator), view, json!({ "id": alerts[0]["volunteerId"] })).await;
        assert_eq!(seen["data"]["volunteer"]["familyMembers"][0], json!({ "relationship": "PARENT", "stance": "UNDECIDED" }));

        let removed = phone.call("RemoveFamilyMember", json!({ "id": mother_id })).await;
        assert_eq!(removed["removeFamilyMember"]["familyMembers"].as_array().unwrap().len(), 1);
    }

    async fn a_volunteer_downloads_their_data_and_sees_who_unmasked_it(db) {
        let app = db.app_with(one_connection).await;
        let server = app.serve().await;
        let mut phone = Mobile::new(&server);
        phone.enrol(&app, PHONE, enrolment()).await;
        phone.call("RecordFamilyMember", json!({ "input": { "relationship": "SPOUSE", "name": "李娜", "stance": "SUPPORTIVE" } })).await;
        phone.call("UpdateMyProfile", json!({ "input": { "employer": "成都七中" } })).await;
        assert_eq!(phone.call("MyDataAccessLog", json!({})).await["myDataAccessLog"], json!([]));

        let id = the_volunteer(&app).await.id.to_string();
        let coordinator = app.staff_token("branch_coordinator", "51").await;
        let unmask = "mutation($id: ID!) { unmaskVolunteerField(volunteerId: $id, field: PRIMARY_PHONE, purpose: CONTACT_FOR_MATCH) }";
        server.gql(Some(&coordinator), unmask, json!({ "id": id })).await;
        let log = phone.call("MyDataAccessLog", json!({})).await["myDataAccessLog"].clone();
        assert_eq!(log.as_array().unwrap().len(), 1);
        assert_eq!(
            (log[0]["role"].clone(), log[0]["field"].clone(), log[0]["purpose"].clone()),
            (json!("branch_coordinator"), json!("PRIMARY_PHONE"), json!("CONTACT_FOR_MATCH"))
        );
        assert!(!log.to_string().contains("branch_coordinator51"), "no staff names");

        let export = phone.call("MyDataExport", json!({})).await["myDataExport"].clone();
        let volunteer = &export["volunteer"];
        assert_eq!((volunteer["name"].clone(), volunteer["nationalId"].clone()), (json!("张三"), json!("510104199003070023")));
        assert_eq!(volunteer["employer"], "成都七中");
        assert_eq!(export["contacts"][0]["value"], PHONE);
        assert_eq!(export["backupContacts"][0]["name"], "张父");
        assert_eq!(export["family"][0]["name"], "李娜");
        assert_eq!(export["accessLog"].as_array().unwrap().len(), 1);

        // Staff cannot ask for it; a volunteer has no way to name another record.
        let (status, refused) = server.gql(Some(&coordinator), "{ myDataExport }", json!({})).await;
        assert_eq!((status, error_codes(&refused)), (403, vec!["FORBIDDEN".to_owned()]));

        // The session goes on with a refresh token and ends with sign-out.
        let refreshed = phone.call("RefreshSession", json!({ "refreshToken": phone.refresh_token })).await;
        let refresh_token = refreshed["refreshSession"]["refreshToken"].as_str().unwrap().to_owned();
        phone.token = Some(refreshed["refreshSession"]["accessToken"].as_str().unwrap().to_owned());
        assert_eq!(phone.call("NotificationPreferences", json!({})).await["myNotificationPreferences"], json!({ "sms": true, "appInbox": true }));
        assert_eq!(phone.call("SignOut", json!({ "refreshToken": refresh_token })).await["signOut"], true);
        assert_eq!(error_codes(&phone.send("Home", json!({})).await), ["UNAUTHENTICATED"], "signed out at once");
    }

    async fn staff_log_attempts_and_a_dead_number_is_marked_invalid(db) {
        let app = db.app_with(one_connection).await;
        let server = app.serve().await;
        let mut phone = Mobile::new(&server);
        phone.enrol(&app, PHONE, enrolment()).await;
        let id = the_volunteer(&app).await.id.to_string();
        let log = "mutation($id: ID!, $input: ContactAttemptInput!) { logContactAttempt(volunteerId: $id, input: $input) { outcome note } }";
        let recruiter = app.staff_token("branch_recruiter", "51").await;
        let elsewhere = app.staff_token("branch_recruiter", "11").await;
        let input = json!({ "channel": "PHONE_CALL", "outcome": "NOT_IN_SERVICE", "contactKind": "PRIMARY_PHONE", "note": "空号，提示音：您拨打的号码不存在" });
        let (_, refused) = server.gql(Some(&elsewhere), log, json!({ "id": id, "input": input })).await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"], "another branch's volunteer");
        let long = json!({ "channel": "VISIT", "outcome": "NO_ANSWER", "note": "x".repeat(10_000) });
        let (_, bad) = server.gql(Some(&recruiter), log, json!({ "id": id, "input": long })).await;
        assert_eq!((error_codes(&bad), field_of(&bad)), (vec!["BAD_USER_INPUT".into()], "input.note".into()));
        assert_eq!(entity::contact_attempt::Entity::find().count(app.app.db()).await.unwrap(), 0, "nothing logged");

        let (_, logged) = server.gql(Some(&recruiter), log, json!({ "id": id, "input": input })).await;
        assert_eq!(logged["data"]["logContactAttempt"]["outcome"], "NOT_IN_SERVICE", "{logged}");
        let backup = json!({ "channel": "BACKUP_CONTACT", "outcome": "REACHED", "note": "父亲说他换了号码" });
        server.gql(Some(&recruiter), log, json!({ "id": id, "input": backup })).await;

        let view = "query($id: ID!) { volunteer(id: $id) { contacts { kind invalidAt } contactAttempts { channel outcome contactKind note } } }";
        let (_, seen) = server.gql(Some(&recruiter), view, json!({ "id": id })).await;
        let record = &seen["data"]["volunteer"];
        assert!(record["contacts"][0]["invalidAt"].is_string(), "the dead number is marked: {seen}");
        let attempts = record["contactAttempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 2);
        assert_eq!(attempts[0]["channel"], "BACKUP_CONTACT", "newest first");
        assert_eq!(attempts[1]["contactKind"], "PRIMARY_PHONE");
        let (_, own) = phone.server.gql(phone.token.as_deref(), "{ me { contactAttempts { id } } }", json!({})).await;
        assert_eq!(error_codes(&own), ["FORBIDDEN"], "staff's log is not the volunteer's to read");
    }
}
