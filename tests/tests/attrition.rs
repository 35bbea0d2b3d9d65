//! Attrition figures: the hourly snapshot per branch and month, read per branch and nationally,
//! with their freshness; and who may read them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use api::messaging::InboundSms;
use api::service::retention::VolunteerFilter;
use registry_tests::{both_backends, error_codes, error_field, sms_recommitment, staff};
use serde_json::json;

const FIGURES: &str =
    "query($b: String, $f: NaiveDate!, $t: NaiveDate!) { attritionFigures(branchCode: $b, from: $f, to: $t) {
    month volunteers pending available unavailable lost reserved reachable reachableShare lostShare withdrawn
    campaignRecipients campaignReplies stillWilling paused optedOut campaignResponseRate computedAt } }";

fn reply(phone: &str, text: &str) -> InboundSms {
    serde_json::from_value(json!({
        "mobile": phone.trim_start_matches("+86"), "nationcode": "86", "text": text, "time": chrono::Utc::now().timestamp()
    }))
    .unwrap()
}

both_backends! {
    async fn the_snapshot_counts_statuses_reach_withdrawals_and_answers_per_branch_and_nationally(db) {
        let app = db.app_with(|settings| settings.messaging.workers = 0).await;
        let mut sichuan = Vec::new();
        for n in 0..10 {
            sichuan.push(app.register_volunteer(n, "51").await);
        }
        let beijing = app.register_volunteer(100, "11").await;
        let coordinator = staff("branch_coordinator", "51");
        let set = "mutation($id: ID!, $s: DonorStatus!, $r: StatusReason, $u: NaiveDate, $n: String) {
            setVolunteerStatus(volunteerId: $id, status: $s, reason: $r, until: $u, note: $n) { status } }";
        let typed = "mutation($id: ID!) { correctVolunteerRecord(volunteerId: $id, input: { hlaResolution: LOW }) { status } }";
        for volunteer in &sichuan[..6] {
            app.data_as(&coordinator, typed, json!({ "id": volunteer.id })).await;
        }
        for volunteer in &sichuan[..2] {
            app.data_as(&coordinator, set, json!({ "id": volunteer.id, "s": "TU", "r": "UC" })).await;
        }
        let later = (chrono::Utc::now() + chrono::Duration::days(60)).date_naive().to_string();
        app.data_as(&coordinator, set, json!({ "id": sichuan[2].id, "s": "TU", "r": "MR", "u": later })).await;
        app.data_as(&coordinator, set, json!({ "id": sichuan[9].id, "s": "DE", "r": "DD", "n": "家属告知" })).await;
        for volunteer in &sichuan[3..8] {
            app.age_confirmation(volunteer.id, 400).await;
        }

        // A campaign this month to the five stale ones: two answer 1, one answers TD.
        let services = app.app.services();
        let admin = staff("national_admin", "11");
        let segment = VolunteerFilter { branch_code: Some("51".into()), confirmed_over_months: Some(12), ..Default::default() };
        let definition = sms_recommitment("唤醒", segment);
        let reader = admin.volunteer_reader().unwrap();
        let campaign = services.campaigns.create(&reader, &admin, definition, None).await.unwrap();
        services.campaigns.launch(&reader, &admin, campaign.model.id, None).await.unwrap();
        assert_eq!(services.campaigns.launch_pending().await.unwrap(), 5);
        for (volunteer, text) in [(&sichuan[3], "1"), (&sichuan[4], "1"), (&sichuan[5], "TD")] {
            app.app.messaging().record_reply("tencent", &reply(&volunteer.phone, text)).await.unwrap();
        }

        let now = chrono::Utc::now();
        assert_eq!(services.attrition.snapshot(now).await.unwrap(), 31, "a row for every branch");
        let month = (now + chrono::Duration::hours(8)).date_naive();
        let first_day = chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&month), chrono::Datelike::month(&month), 1).unwrap();
        let variables = |branch: Option<&str>| json!({ "b": branch, "f": first_day, "t": month });
        let ours = app.data_as(&coordinator, FIGURES, variables(None)).await;
        let figures = &ours["attritionFigures"][0];
        assert_eq!(figures["month"], first_day.to_string());
        assert_eq!(figures["volunteers"], 9, "the deleted one is a tombstone now");
        assert_eq!(figures["pending"], 3);
        assert_eq!(figures["available"], 3, "typed, and neither paused nor lost");
        assert_eq!(figures["unavailable"], 3);
        assert_eq!(figures["lost"], 2);
        assert_eq!(figures["reachable"], 6, "four never stale, and two made fresh by answering 1 (TD confirms nothing)");
        assert_eq!(figures["withdrawn"], 1);
        assert_eq!(figures["campaignRecipients"], 5);
        assert_eq!(figures["campaignReplies"], 3);
        assert_eq!(figures["stillWilling"], 2);
        assert_eq!(figures["optedOut"], 1);
        assert!((figures["campaignResponseRate"].as_f64().unwrap() - 0.6).abs() < 1e-9);
        assert!((figures["lostShare"].as_f64().unwrap() - 2.0 / 9.0).abs() < 1e-9);
        assert!(figures["computedAt"].is_string());

        // Nationally, the Beijing volunteer counts too; a branch member asking for it reads their own.
        let national = app.data_as(&admin, FIGURES, variables(None)).await;
        assert_eq!(national["attritionFigures"][0]["volunteers"], 10);
        let beijing_only = app.data_as(&admin, FIGURES, variables(Some("11"))).await;
        assert_eq!(beijing_only["attritionFigures"][0]["volunteers"], 1);
        let refused = app.response_as(&staff("branch_recruiter", "11"), FIGURES, variables(Some("51"))).await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"]);
        let backwards = app.response_as(&coordinator, FIGURES, json!({ "f": month, "t": "2020-01-01" })).await;
        assert_eq!(error_field(&backwards), "to");
        let too_long = app.response_as(&coordinator, FIGURES, json!({ "f": "2000-01-01", "t": month })).await;
        assert_eq!(error_field(&too_long), "to");
        let _ = beijing;
    }
}
