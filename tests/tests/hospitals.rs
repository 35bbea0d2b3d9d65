//! Partner hospitals: registration, client credentials with rotation, and what each caller may
//! read: another hospital and another branch are refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use registry_tests::{both_backends, error_codes};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

const REGISTER: &str = "mutation($i: RegisterHospitalInput!) { registerHospital(input: $i) { id name branchCode contactName contactPhone } }";
const ISSUE: &str =
    "mutation($h: ID!) { issueHospitalCredentials(hospitalId: $h) { clientId clientSecret previousValidUntil } }";
const TOKEN: &str =
    "mutation($c: String!, $s: String!) { hospitalToken(clientId: $c, clientSecret: $s) { accessToken expiresIn } }";
const READ: &str = "query($id: ID!) { hospital(id: $id) { id name contactName contactPhone } }";

fn hospital(name: &str, branch: &str) -> Value {
    json!({ "i": { "name": name, "branchCode": branch, "contactName": "张医生", "contactPhone": "13800000009" } })
}

both_backends! {
    async fn each_caller_reads_only_the_hospitals_it_should(db) {
        let app = db.app().await;
        let admin = app.staff_token("national_admin", "11").await;
        let recruiter_51 = app.staff_token("branch_recruiter", "51").await;
        let recruiter_11 = app.staff_token("branch_recruiter", "11").await;
        let server = app.serve().await;

        let x = server.gql(Some(&admin), REGISTER, hospital("四川大学华西医院", "51")).await.1;
        let x = &x["data"]["registerHospital"];
        assert_eq!(x["contactName"], "张**");
        assert_eq!(x["contactPhone"], "138****0009");
        let x_id = x["id"].as_str().unwrap().to_owned();
        let y = server.gql(Some(&admin), REGISTER, hospital("北京协和医院", "11")).await.1;
        let y_id = y["data"]["registerHospital"]["id"].as_str().unwrap().to_owned();

        let issued = server.gql(Some(&admin), ISSUE, json!({ "h": x_id })).await.1;
        let issued = &issued["data"]["issueHospitalCredentials"];
        assert!(issued["previousValidUntil"].is_null());
        let exchanged = server.gql(None, TOKEN, json!({ "c": issued["clientId"], "s": issued["clientSecret"] })).await.1;
        let x_token = exchanged["data"]["hospitalToken"]["accessToken"].as_str().unwrap().to_owned();

        let own = server.gql(Some(&x_token), READ, json!({ "id": x_id })).await.1;
        assert_eq!(own["data"]["hospital"]["name"], "四川大学华西医院", "{own}");
        let other = server.gql(Some(&x_token), READ, json!({ "id": y_id })).await.1;
        assert_eq!(error_codes(&other), ["FORBIDDEN"], "hospital X cannot read hospital Y");
        let rotate = server.gql(Some(&x_token), ISSUE, json!({ "h": y_id })).await.1;
        assert_eq!(error_codes(&rotate), ["FORBIDDEN"], "hospital X cannot touch Y's credentials");

        let same_branch = server.gql(Some(&recruiter_51), READ, json!({ "id": x_id })).await.1;
        assert_eq!(same_branch["data"]["hospital"]["id"], x_id.as_str());
        let other_branch = server.gql(Some(&recruiter_11), READ, json!({ "id": x_id })).await.1;
        assert_eq!(error_codes(&other_branch), ["FORBIDDEN"], "branch-11 staff cannot see branch 51's hospital");
        let anonymous = server.gql(None, READ, json!({ "id": x_id })).await.1;
        assert_eq!(error_codes(&anonymous), ["UNAUTHENTICATED"]);
    }

    async fn credentials_rotate_with_an_overlap_and_wrong_secrets_are_refused(db) {
        let app = db.app().await;
        let admin = app.staff_token("national_admin", "11").await;
        let server = app.serve().await;
        let x = server.gql(Some(&admin), REGISTER, hospital("四川省人民医院", "51")).await.1;
        let x_id = x["data"]["registerHospital"]["id"].as_str().unwrap().to_owned();
        let first = server.gql(Some(&admin), ISSUE, json!({ "h": x_id })).await.1["data"]["issueHospitalCredentials"].clone();
        let second = server.gql(Some(&admin), ISSUE, json!({ "h": x_id })).await.1["data"]["issueHospitalCredentials"].clone();
        let until: chrono::DateTime<chrono::Utc> = second["previousValidUntil"].as_str().unwrap().parse().unwrap();
        let days = (until - chrono::Utc::now()).num_hours();
        assert!((167..=168).contains(&days), "a seven-day overlap, got {days} h");
        for credentials in [&first, &second] {
            let token = server.gql(None, TOKEN, json!({ "c": credentials["clientId"], "s": credentials["clientSecret"] })).await.1;
            assert!(token["data"]["hospitalToken"]["accessToken"].is_string(), "{token}");
        }
        let wrong = server.gql(None, TOKEN, json!({ "c": second["clientId"], "s": "hsk_wrong" })).await.1;
        assert_eq!(error_codes(&wrong), ["BAD_USER_INPUT"]);
        assert_eq!(wrong["errors"][0]["message"], "credentials: wrong client id or secret");
    }

    async fn bad_hospital_input_is_refused_naming_the_field_and_the_contact_is_encrypted(db) {
        let app = db.app().await;
        let admin = app.staff_token("national_admin", "11").await;
        let server = app.serve().await;
        for (input, field) in [
            (json!({ "i": { "name": "医院", "branchCode": "51", "contactName": "张医生", "contactPhone": "12345" } }), "contactPhone"),
            (json!({ "i": { "name": "医院", "branchCode": "99", "contactName": "张医生", "contactPhone": "13800000009" } }), "branchCode"),
            (json!({ "i": { "name": "", "branchCode": "51", "contactName": "张医生", "contactPhone": "13800000009" } }), "name"),
            (json!({ "i": { "name": "医院", "branchCode": "51", "contactName": "张".repeat(10_000), "contactPhone": "13800000009" } }), "contactName"),
        ] {
            let body = server.gql(Some(&admin), REGISTER, input).await.1;
            assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        }
        assert_eq!(entity::hospital::Entity::find().count(app.app.db()).await.unwrap(), 0);
        server.gql(Some(&admin), REGISTER, hospital("成都市第一人民医院", "51")).await;
        let stored = entity::hospital::Entity::find().one(app.app.db()).await.unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&stored.contact).contains("13800000009"));
        assert!(!String::from_utf8_lossy(&stored.contact).contains("张医生"));
    }
}
