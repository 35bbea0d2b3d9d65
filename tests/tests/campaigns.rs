//! Retention campaigns and the lost-contact work queue, played through over HTTP against the
//! fake Tencent gateway (which verifies our signatures and signs the delivery reports and
//! replies it relays back): scenario 2 (the recommitment campaign) and the lost-contact part of
//! scenario 4 of the domain notes, on both databases.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use std::time::Duration;

use api::service::Principal;
use api::service::retention::VolunteerFilter;
use api::service::volunteer::NewBackupContact;
use entity::campaign::CampaignStatus;
use entity::{campaign, campaign_recipient, inbound_reply, job, messaging_opt_out, outbound_message, volunteer};
use registry_tests::gateway::{AcceptedSms, FakeGateway};
use registry_tests::{Registered, Server, TestApp, both_backends, error_codes, error_field, sms_recommitment, staff};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

const CREATE: &str = "mutation($input: CampaignInput!) { createCampaign(input: $input) {
    id status branchCode preview { recipients smsRecipients inboxRecipients segmentsPerSms smsSegments } } }";
const LAUNCH: &str = "mutation($id: ID!) { launchCampaign(id: $id) { status recipients } }";
const PAGE: &str = "query($id: ID!) { campaign(id: $id) { status recipients queued windowClosesAt
    delivery { queued sent delivered failed cancelled }
    replies { stillWilling pause optedOut noReply responseRate }
    nonResponders(first: 50) { totalCount edges { node { id } } } } }";
const QUEUE: &str = "query($b: String, $n: Int, $a: String) { lostContactQueue(branchCode: $b, first: $n, after: $a) {
    nextCursor entries { reasons priority failedAttempts canMarkLost volunteer { id status backupContacts { name phone } } } } }";

async fn gql(server: &Server, token: &str, query: &str, variables: Value) -> Value {
    let (status, body) = server.gql(Some(token), query, variables).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

/// Waits until `done` holds, or fails after 30 s.
async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

async fn record(app: &TestApp, volunteer: &Registered) -> volunteer::Model {
    volunteer::Entity::find_by_id(volunteer.id).one(app.app.db()).await.unwrap().unwrap()
}

async fn add_backup_contacts(app: &TestApp, volunteer: &Registered, phones: &[&str]) {
    let me = Principal::Volunteer { id: volunteer.id }.own_record().unwrap();
    for (n, phone) in phones.iter().enumerate() {
        let contact = NewBackupContact::parse(
            "backupContact",
            if n == 0 { "王父" } else { "李友" },
            api::domain::Relationship::Parent,
            phone,
        )
        .unwrap();
        app.app.services().contacts.add_backup_contact(&me, contact).await.unwrap();
    }
}

both_backends! {
    async fn scenario_2_a_recommitment_campaign_reads_its_answers_and_sends_the_silent_to_the_work_queue(db) {
        let gateway = FakeGateway::start().await;
        let configure = gateway.configure();
        let app = db
            .app_with(|settings| {
                configure(settings);
                settings.messaging.workers = 2;
                settings.messaging.poll_interval_ms = 20;
                settings.volunteers.inform_backup_contacts = false;
            })
            .await;
        app.set_quiet_hours("51", 0, 0).await;
        let mut stale = Vec::new();
        for n in 0..30 {
            let volunteer = app.register_volunteer(n, "51").await;
            stale.push(volunteer);
        }
        let mut fresh = Vec::new();
        for n in 30..40 {
            fresh.push(app.register_volunteer(n, "51").await);
        }
        let elsewhere = app.register_volunteer(40, "11").await;
        let coordinator = staff("branch_coordinator", "51");
        let correct = "mutation($id: ID!, $input: VolunteerCorrectionInput!) { correctVolunteerRecord(volunteerId: $id, input: $input) { id } }";
        for volunteer in &stale {
            app.data_as(&coordinator, correct, json!({ "id": volunteer.id, "input": { "hlaResolution": "LOW" } })).await;
        }
        app.data_as(&coordinator, correct, json!({ "id": stale[25].id, "input": { "bloodGroup": { "abo": "AB", "rh": "NEGATIVE" } } })).await;
        add_backup_contacts(&app, &stale[25], &["+8613600000001", "+8613600000002"]).await;
        let lost = "mutation($id: ID!) { setVolunteerStatus(volunteerId: $id, status: TU, reason: UC) { status } }";
        for volunteer in &stale[..3] {
            app.data_as(&coordinator, lost, json!({ "id": volunteer.id })).await;
        }
        for volunteer in stale.iter().chain([&elsewhere]) {
            app.age_confirmation(volunteer.id, 400).await;
        }
        let server = app.serve().await;
        let base = format!("http://{}", server.addr);
        // One of them opted out of non-essential SMS long ago.
        assert_eq!(gateway.reply(&base, &stale[29].phone, "TD").await.status(), 200);

        // Define: branch 51, confirmed over 12 months ago.
        let token = app.staff_token("branch_coordinator", "51").await;
        let input = json!({ "name": "2026年冬季唤醒", "segment": { "confirmedOverMonths": 12 }, "templateKey": "recommitment" });
        let created = gql(&server, &token, CREATE, json!({ "input": input })).await;
        let created = &created["createCampaign"];
        assert_eq!(created["status"], "DRAFT");
        assert_eq!(created["branchCode"], "51", "branch staff reach their own branch");
        let preview = &created["preview"];
        assert_eq!(preview["recipients"], 30, "the stale of branch 51 only: {preview}");
        assert_eq!(preview["smsRecipients"], 29, "the opted-out phone is not counted");
        assert_eq!(preview["inboxRecipients"], 0, "the app is not a channel of this campaign");
        let per_sms = preview["segmentsPerSms"].as_u64().unwrap();
        assert!((1..=3).contains(&per_sms));
        assert_eq!(preview["smsSegments"].as_u64().unwrap(), 29 * per_sms);
        let id = created["id"].as_str().unwrap().to_owned();

        // Launch: recipients fixed, messages queued by the launcher, delivered by the workers.
        let launched = gql(&server, &token, LAUNCH, json!({ "id": id })).await;
        assert_eq!(launched["launchCampaign"]["recipients"], 30);
        let again = gql(&server, &token, LAUNCH, json!({ "id": id })).await;
        assert_eq!(again["launchCampaign"]["recipients"], 30, "launching again changes nothing");
        eventually("the gateway accepted 29 SMS", || async { gateway.accepted().len() >= 29 }).await;
        eventually("the campaign is launched", || async {
            let page = gql(&server, &token, PAGE, json!({ "id": id })).await;
            page["campaign"]["status"] == "LAUNCHED" && page["campaign"]["delivery"]["cancelled"] == 1
        })
        .await;
        let accepted = gateway.accepted();
        assert_eq!(accepted.len(), 29, "one SMS each, none twice, none to the opted-out phone");
        assert_eq!(gateway.bad_signatures(), 0);
        let sms_to = |volunteer: &Registered| -> AcceptedSms {
            accepted.iter().find(|sms| sms.phone == volunteer.phone).cloned().expect("an SMS to this volunteer")
        };
        assert!(!accepted.iter().any(|sms| sms.phone == fresh[0].phone || sms.phone == elsewhere.phone));

        // The gateway reports once the sends are recorded (a real gateway's reports come
        // seconds later; one that arrived before the send is recorded would find no message).
        eventually("every send is recorded", || async {
            let page = gql(&server, &token, PAGE, json!({ "id": id })).await;
            page["campaign"]["delivery"]["sent"] == 29
        })
        .await;
        // The gateway reports: four numbers no longer reach anyone.
        for (n, volunteer) in stale[..29].iter().enumerate() {
            let delivered = !(17..21).contains(&n);
            assert_eq!(gateway.report(&base, &sms_to(volunteer), delivered).await.status(), 200);
        }
        // The answers: 1 from ten (three of them marked lost), 2 from five, TD from two.
        for volunteer in &stale[..10] {
            gateway.reply(&base, &volunteer.phone, "1").await;
        }
        for volunteer in &stale[10..15] {
            gateway.reply(&base, &volunteer.phone, "２").await;
        }
        for volunteer in &stale[15..17] {
            gateway.reply(&base, &volunteer.phone, "TD").await;
        }
        // A "1" from someone the campaign did not ask is no consent.
        gateway.reply(&base, &fresh[0].phone, "1").await;

        for volunteer in &stale[..3] {
            let model = record(&app, volunteer).await;
            assert_eq!(model.status, volunteer::DonorStatus::Available, "a lost volunteer who answers 1 is back");
            assert!(chrono::Utc::now() - model.last_confirmed_at < chrono::Duration::minutes(5));
        }
        for volunteer in &stale[10..15] {
            let model = record(&app, volunteer).await;
            assert_eq!((model.status, model.status_reason), (volunteer::DonorStatus::TemporarilyUnavailable, Some(volunteer::StatusReason::Personal)));
            let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
            assert_eq!(model.status_until, Some(today + chrono::Duration::days(180)), "the branch's reply pause");
        }
        let opted_out = messaging_opt_out::Entity::find().count(app.app.db()).await.unwrap();
        assert_eq!(opted_out, 3);
        let unmatched = inbound_reply::Entity::find()
            .filter(inbound_reply::Column::HandledAs.eq("unmatched"))
            .count(app.app.db())
            .await
            .unwrap();
        assert_eq!(unmatched, 1);
        assert_eq!(record(&app, &fresh[0]).await.status, volunteer::DonorStatus::Pending);

        // The campaign page: delivery, answers; non-responders once the window closes.
        let page = gql(&server, &token, PAGE, json!({ "id": id })).await;
        let page = &page["campaign"];
        assert_eq!(page["delivery"], json!({ "queued": 0, "sent": 25, "delivered": 25, "failed": 4, "cancelled": 1 }));
        assert_eq!(page["replies"]["stillWilling"], 10);
        assert_eq!(page["replies"]["pause"], 5);
        assert_eq!(page["replies"]["optedOut"], 2);
        assert_eq!(page["replies"]["noReply"], 13);
        assert!((page["replies"]["responseRate"].as_f64().unwrap() - 17.0 / 30.0).abs() < 1e-9);
        assert_eq!(page["nonResponders"], json!(null), "the window is still open");
        campaign::Entity::update_many()
            .col_expr(campaign::Column::WindowClosesAt, Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)))
            .exec(app.app.db())
            .await
            .unwrap();
        let page = gql(&server, &token, PAGE, json!({ "id": id })).await;
        assert_eq!(page["campaign"]["nonResponders"]["totalCount"], 13);

        // Tomorrow's work queue: the silent and the unreachable, the rarest first, with the
        // backup contacts to try.
        app.app.services().work_queue.refresh(chrono::Utc::now()).await.unwrap();
        let queue = gql(&server, &token, QUEUE, json!({ "n": 50 })).await;
        let entries = queue["lostContactQueue"]["entries"].as_array().unwrap();
        let queued: std::collections::BTreeSet<String> =
            entries.iter().map(|entry| entry["volunteer"]["id"].as_str().unwrap().to_owned()).collect();
        let expected: std::collections::BTreeSet<String> = stale[15..].iter().map(|v| v.id.to_string()).collect();
        assert_eq!(queued, expected, "the silent, the unreachable and the opted-out, not those who answered 1 or 2");
        assert_eq!(entries[0]["volunteer"]["id"], stale[25].id.to_string(), "typed and AB negative: first");
        assert_eq!(entries[0]["volunteer"]["backupContacts"].as_array().unwrap().len(), 2);
        assert_eq!(entries[0]["volunteer"]["backupContacts"][0]["phone"], "136****0001");
        let failed = entries.iter().find(|entry| entry["volunteer"]["id"] == stale[18].id.to_string()).unwrap();
        assert_eq!(failed["reasons"], json!(["STALE_CONTACT", "MESSAGE_FAILED", "NO_CAMPAIGN_REPLY"]));
        let opted = entries.iter().find(|entry| entry["volunteer"]["id"] == stale[15].id.to_string()).unwrap();
        assert_eq!(opted["reasons"], json!(["STALE_CONTACT"]));

        // Another branch sees none of it.
        let beijing = app.staff_token("branch_recruiter", "11").await;
        let theirs = gql(&server, &beijing, QUEUE, json!({ "n": 50 })).await;
        assert!(!theirs.to_string().contains(&stale[25].id.to_string()));
        let (_, refused) = server.gql(Some(&beijing), PAGE, json!({ "id": id })).await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"]);
        let (_, refused) = server.gql(Some(&beijing), QUEUE, json!({ "b": "51" })).await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"]);
    }

    async fn scenario_4_a_stale_volunteer_is_worked_through_backup_contacts_marked_lost_and_restored(db) {
        let app = db.app_with(|settings| settings.volunteers.inform_backup_contacts = false).await;
        let volunteer = app.register_volunteer(1, "51").await;
        let coordinator = staff("branch_coordinator", "51");
        let correct = "mutation($id: ID!) { correctVolunteerRecord(volunteerId: $id, input: { hlaResolution: HIGH }) { status } }";
        app.data_as(&coordinator, correct, json!({ "id": volunteer.id })).await;
        add_backup_contacts(&app, &volunteer, &["+8613600000011", "+8613600000012"]).await;
        app.age_confirmation(volunteer.id, 400).await;
        let recruiter = staff("branch_recruiter", "51");
        let queue = |app: &TestApp| {
            let app = app.clone();
            let recruiter = recruiter.clone();
            async move { app.data_as(&recruiter, QUEUE, json!({ "n": 10 })).await["lostContactQueue"]["entries"].clone() }
        };
        assert_eq!(queue(&app).await, json!([]), "the queue is the daily job's");
        let refreshed = app.app.services().work_queue.refresh(chrono::Utc::now()).await.unwrap();
        assert_eq!(refreshed.queued, 1);
        let entries = queue(&app).await;
        assert_eq!(entries[0]["reasons"], json!(["STALE_CONTACT"]));
        assert_eq!(entries[0]["priority"], 40);
        assert_eq!(entries[0]["volunteer"]["backupContacts"].as_array().unwrap().len(), 2);
        assert_eq!(entries[0]["canMarkLost"], false);

        let attempt = "mutation($id: ID!, $c: AttemptChannel!) { logContactAttempt(volunteerId: $id, input: { channel: $c, outcome: NO_ANSWER }) { id } }";
        for channel in ["PHONE_CALL", "SMS", "BACKUP_CONTACT"] {
            app.data_as(&recruiter, attempt, json!({ "id": volunteer.id, "c": channel })).await;
        }
        let entries = queue(&app).await;
        assert_eq!(entries[0]["failedAttempts"], 3);
        assert_eq!(entries[0]["canMarkLost"], true);
        let marked = app.data_as(&recruiter, "mutation($id: ID!) { markVolunteerLost(volunteerId: $id) { status statusReason } }", json!({ "id": volunteer.id })).await;
        assert_eq!(marked["markVolunteerLost"], json!({ "status": "TU", "statusReason": "UC" }));
        assert_eq!(queue(&app).await, json!([]), "lost: off the queue at once");

        // Months later a visit finds them: back on the register, and off the queue for good.
        let reached = "mutation($id: ID!) { logContactAttempt(volunteerId: $id, input: { channel: VISIT, outcome: REACHED }) { id } }";
        app.data_as(&recruiter, reached, json!({ "id": volunteer.id })).await;
        assert_eq!(record(&app, &volunteer).await.status, volunteer::DonorStatus::Available);
        let refreshed = app.app.services().work_queue.refresh(chrono::Utc::now()).await.unwrap();
        assert_eq!((refreshed.queued, refreshed.left), (0, 1));
        assert_eq!(queue(&app).await, json!([]));
    }

    async fn a_launcher_waits_out_anothers_lease_and_resumes_after_the_cursor_it_committed(db) {
        let app = db.app().await;
        for n in 0..6 {
            app.register_volunteer(600 + n, "51").await;
        }
        let services = app.app.services();
        let admin = staff("national_admin", "11");
        let reader = admin.volunteer_reader().unwrap();
        let definition = sms_recommitment("续约", VolunteerFilter { branch_code: Some("51".into()), ..Default::default() });
        let id = services.campaigns.create(&reader, &admin, definition, None).await.unwrap().model.id;
        services.campaigns.launch(&reader, &admin, id, None).await.unwrap();
        let recipients: Vec<uuid::Uuid> = campaign_recipient::Entity::find()
            .select_only()
            .column(campaign_recipient::Column::VolunteerId)
            .filter(campaign_recipient::Column::CampaignId.eq(id))
            .order_by_asc(campaign_recipient::Column::VolunteerId)
            .into_tuple()
            .all(app.app.db())
            .await
            .unwrap();
        assert_eq!(recipients.len(), 6);

        // Another launcher committed the first two recipients and still holds the launch job.
        campaign::ActiveModel { id: Set(id), queued_through: Set(Some(recipients[1])), queued: Set(2), ..Default::default() }
            .update(app.app.db())
            .await
            .unwrap();
        let db = app.app.db();
        let held = move |until: chrono::DateTime<chrono::Utc>| async move {
            job::Entity::update_many()
                .col_expr(job::Column::Status, Expr::value(job::JobStatus::Claimed))
                .col_expr(job::Column::ClaimedBy, Expr::value("another-launcher"))
                .col_expr(job::Column::ClaimedUntil, Expr::value(until))
                .filter(job::Column::Kind.eq("campaign.launch"))
                .filter(job::Column::SubjectId.eq(id))
                .exec(db)
                .await
                .unwrap()
                .rows_affected
        };
        assert_eq!(held(chrono::Utc::now() + chrono::Duration::seconds(30)).await, 1, "launching enqueued its job");
        assert_eq!(services.campaigns.launch_pending().await.unwrap(), 0, "its lease is respected");

        // Its lease ran out: this launcher takes over after the cursor and queues the other four.
        held(chrono::Utc::now() - chrono::Duration::seconds(1)).await;
        assert_eq!(services.campaigns.launch_pending().await.unwrap(), 4);
        let messaged: Vec<Option<uuid::Uuid>> = outbound_message::Entity::find()
            .select_only()
            .column(outbound_message::Column::VolunteerId)
            .filter(outbound_message::Column::CampaignId.eq(id))
            .order_by_asc(outbound_message::Column::VolunteerId)
            .into_tuple()
            .all(app.app.db())
            .await
            .unwrap();
        assert_eq!(messaged, recipients[2..].iter().copied().map(Some).collect::<Vec<_>>());
        let launched = campaign::Entity::find_by_id(id).one(app.app.db()).await.unwrap().unwrap();
        assert_eq!((launched.status, launched.queued), (CampaignStatus::Launched, 6));
        assert_eq!(launched.queued_through, Some(recipients[5]));
        assert!(launched.queued_at.is_some() && launched.lease_until.is_none());
        assert_eq!(services.campaigns.launch_pending().await.unwrap(), 0, "a launched campaign is done");
    }

    async fn campaign_input_and_queue_pages_are_checked_and_change_nothing(db) {
        let app = db.app().await;
        for n in 0..5 {
            let volunteer = app.register_volunteer(n, "51").await;
            app.age_confirmation(volunteer.id, 400).await;
        }
        let recruiter = staff("branch_recruiter", "51");
        let valid = json!({ "name": "唤醒", "segment": { "confirmedOverMonths": 12 }, "templateKey": "recommitment" });
        let with = |field: &str, value: Value| {
            let mut input = valid.clone();
            input[field] = value;
            json!({ "input": input })
        };
        for (variables, field) in [
            (with("name", json!("")), "input.name"),
            (with("name", json!("名".repeat(101))), "input.name"),
            (with("segment", json!({ "phone": "+8613800000001" })), "input.segment"),
            (with("segment", json!({ "minAge": 60, "maxAge": 18 })), "input.segment.maxAge"),
            (with("templateKey", json!("login_code")), "input.templateKey"),
            (with("templateKey", json!("no_such_template")), "input.templateKey"),
            (with("variables", json!([{ "name": "name", "value": "x" }])), "input.variables"),
            (with("variables", json!([{ "name": "unused", "value": "x" }])), "input.variables"),
            (with("sms", json!(false)), "input.sms"),
            (with("maxRecipients", json!(0)), "input.maxRecipients"),
            (with("responseWindowDays", json!(61)), "input.responseWindowDays"),
        ] {
            let refused = app.response_as(&recruiter, CREATE, variables.clone()).await;
            assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{variables}: {refused}");
            assert_eq!(error_field(&refused), field, "{variables}");
            assert!(!refused.to_string().contains("13800000001"));
        }
        assert_eq!(campaign::Entity::find().count(app.app.db()).await.unwrap(), 0, "nothing was written");
        let other = app.response_as(&recruiter, CREATE, with("segment", json!({ "branchCode": "11" }))).await;
        assert_eq!(error_codes(&other), ["FORBIDDEN"]);

        // A capped campaign takes the stalest first; a cancelled one cannot be launched.
        let capped = app.data_as(&recruiter, CREATE, with("maxRecipients", json!(3))).await;
        assert_eq!(capped["createCampaign"]["preview"]["recipients"], 3);
        let id = capped["createCampaign"]["id"].as_str().unwrap().to_owned();
        app.data_as(&recruiter, "mutation($id: ID!) { cancelCampaign(id: $id) { status } }", json!({ "id": id })).await;
        let refused = app.response_as(&recruiter, LAUNCH, json!({ "id": id })).await;
        assert_eq!(error_codes(&refused), ["CONFLICT"]);
        let listed = app.data_as(&recruiter, "{ campaigns(first: 5) { campaigns { id status } nextCursor } }", json!({})).await;
        assert_eq!(listed["campaigns"]["campaigns"][0]["status"], "CANCELLED");

        for (variables, field) in [(json!({ "n": 0 }), "first"), (json!({ "n": 51 }), "first"), (json!({ "a": "bm9wZQ" }), "after")] {
            let refused = app.response_as(&recruiter, QUEUE, variables.clone()).await;
            assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{variables}");
            assert_eq!(error_field(&refused), field);
        }
    }
}
