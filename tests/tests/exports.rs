//! Exports of search results: small ones at once, larger ones only after a second staff member
//! approves; only the requester downloads; every step audited; masked values only.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use entity::audit_event;
use registry_tests::{both_backends, error_codes, error_field, staff};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const REQUEST: &str = "mutation($f: VolunteerFilter, $p: String!) { requestVolunteerExport(filter: $f, purpose: $p) {
    id rows needsApproval approved } }";
const APPROVE: &str = "mutation($id: ID!) { approveVolunteerExport(id: $id) { approved approvedBy } }";
const DOWNLOAD: &str = "mutation($id: ID!) { downloadVolunteerExport(id: $id) { rows csv } }";

async fn audited(app: &registry_tests::TestApp, action: &str) -> u64 {
    audit_event::Entity::find().filter(audit_event::Column::Action.eq(action)).count(app.app.db()).await.unwrap()
}

both_backends! {
    async fn a_large_export_waits_for_a_second_staff_member_and_only_its_requester_downloads_it(db) {
        let app = db.app().await;
        let mut volunteers = Vec::new();
        for n in 0..120 {
            volunteers.push(app.register_volunteer(n, "51").await);
        }
        app.register_volunteer(500, "11").await;
        let requester = staff("branch_coordinator", "51");
        let second = staff("branch_coordinator", "51");
        let pause = "mutation($id: ID!) { setVolunteerStatus(volunteerId: $id, status: TU, reason: UC) { status } }";
        for volunteer in &volunteers[..3] {
            app.data_as(&requester, pause, json!({ "id": volunteer.id })).await;
        }

        // Three rows: the requester's at once.
        let small = app.data_as(&requester, REQUEST, json!({ "f": { "statuses": ["TU"] }, "p": "失联名单核对" })).await;
        let small = &small["requestVolunteerExport"];
        assert_eq!((small["rows"].clone(), small["needsApproval"].clone(), small["approved"].clone()), (json!(3), json!(false), json!(true)));
        let file = app.data_as(&requester, DOWNLOAD, json!({ "id": small["id"] })).await;
        let csv = file["downloadVolunteerExport"]["csv"].as_str().unwrap();
        assert_eq!(csv.lines().count(), 4, "a header and three rows: {csv}");
        assert!(csv.starts_with("id,branch,status"));
        for volunteer in &volunteers[..3] {
            assert!(csv.contains(&volunteer.id.to_string()));
            assert!(!csv.contains(&volunteer.phone[3..]) && !csv.contains(&volunteer.national_id), "masked only");
        }

        // The whole branch: 120 rows wait for a second staff member.
        let large = app.data_as(&requester, REQUEST, json!({ "p": "年度核查" })).await;
        let large = &large["requestVolunteerExport"];
        assert_eq!((large["rows"].clone(), large["needsApproval"].clone(), large["approved"].clone()), (json!(120), json!(true), json!(false)));
        let id = large["id"].clone();
        let early = app.response_as(&requester, DOWNLOAD, json!({ "id": id })).await;
        assert_eq!(error_codes(&early), ["CONFLICT"]);
        let own = app.response_as(&requester, APPROVE, json!({ "id": id })).await;
        assert_eq!(error_codes(&own), ["CONFLICT"], "nobody approves their own export");
        for (who, caller) in [("a recruiter", staff("branch_recruiter", "51")), ("another branch", staff("branch_coordinator", "11"))] {
            let refused = app.response_as(&caller, APPROVE, json!({ "id": id })).await;
            assert_eq!(error_codes(&refused), ["FORBIDDEN"], "{who}");
        }
        let waiting = app.data_as(&second, "{ volunteerExports(awaitingApproval: true) { id rows } }", json!({})).await;
        assert_eq!(waiting["volunteerExports"], json!([{ "id": id, "rows": 120 }]));
        let approved = app.data_as(&second, APPROVE, json!({ "id": id })).await;
        assert_eq!(approved["approveVolunteerExport"]["approved"], true);
        let api::service::Principal::Staff { id: second_id, .. } = &second else { unreachable!() };
        assert_eq!(approved["approveVolunteerExport"]["approvedBy"], second_id.to_string());
        let stranger = app.response_as(&second, DOWNLOAD, json!({ "id": id })).await;
        assert_eq!(error_codes(&stranger), ["FORBIDDEN"], "only the requester downloads");
        let file = app.data_as(&requester, DOWNLOAD, json!({ "id": id })).await;
        assert_eq!(file["downloadVolunteerExport"]["rows"], 120);
        assert_eq!(file["downloadVolunteerExport"]["csv"].as_str().unwrap().lines().count(), 121);

        assert_eq!(audited(&app, "volunteer_export.requested").await, 2);
        assert_eq!(audited(&app, "volunteer_export.approved").await, 1);
        assert_eq!(audited(&app, "volunteer_export.downloaded").await, 2);
    }

    async fn bad_export_requests_name_their_field_and_store_nothing(db) {
        let app = db.app().await;
        let volunteer = app.register_volunteer(1, "51").await;
        let recruiter = staff("branch_recruiter", "51");
        for (variables, field) in [
            (json!({ "f": { "phone": volunteer.phone }, "p": "核对" }), "filter"),
            (json!({ "f": { "nationalId": volunteer.national_id }, "p": "核对" }), "filter"),
            (json!({ "p": "" }), "purpose"),
            (json!({ "p": "理".repeat(201) }), "purpose"),
            (json!({ "f": { "minAge": 50, "maxAge": 20 }, "p": "核对" }), "filter.maxAge"),
        ] {
            let refused: Value = app.response_as(&recruiter, REQUEST, variables.clone()).await;
            assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{variables}");
            assert_eq!(error_field(&refused), field, "{variables}");
            assert!(!refused.to_string().contains(&volunteer.phone[3..]));
        }
        let other = app.response_as(&recruiter, REQUEST, json!({ "f": { "branchCode": "11" }, "p": "核对" })).await;
        assert_eq!(error_codes(&other), ["FORBIDDEN"]);
        assert_eq!(entity::volunteer_export::Entity::find().count(app.app.db()).await.unwrap(), 0);
    }
}
