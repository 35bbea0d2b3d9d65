//! The registry's branches: the first real data, served to anyone.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use registry_tests::both_backends;

both_backends! {
    async fn the_31_branches_are_listed_in_code_order_with_one_statement(db) {
        let app = db.app().await;
        let (response, statements) = app.count_statements(app.execute(include_str!("../operations/Branches.graphql"))).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let data = response.data.into_json().unwrap();
        let branches = data["branches"].as_array().unwrap();
        assert_eq!(branches.len(), 31);
        let codes: Vec<&str> = branches.iter().map(|b| b["code"].as_str().unwrap()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        assert_eq!(codes, sorted);
        assert_eq!(codes.first(), Some(&"11"));
        assert_eq!(codes.last(), Some(&"65"));
        let sichuan = branches.iter().find(|b| b["code"] == "51").unwrap();
        assert_eq!(sichuan["nameZh"], "四川");
        assert_eq!(sichuan["nameEn"], "Sichuan");
        assert_eq!(statements, 1, "listing branches is one SELECT");
    }

    async fn a_branch_is_found_by_its_code_and_an_unknown_code_is_null(db) {
        let app = db.app().await;
        let found = app.execute(r#"{ branch(code: "51") { nameEn } }"#).await;
        assert_eq!(found.data.into_json().unwrap()["branch"]["nameEn"], "Sichuan");
        let missing = app.execute(r#"{ branch(code: "99") { nameEn } }"#).await;
        assert!(missing.errors.is_empty());
        assert!(missing.data.into_json().unwrap()["branch"].is_null());
    }

    async fn a_malformed_branch_code_is_refused_naming_the_field(db) {
        let server = db.app().await.serve().await;
        let (status, body) = server.query(r#"{ branch(code: "5") { nameEn } }"#).await;
        assert_eq!(status, 200, "a field error is an execution result");
        let err = &body["errors"][0];
        assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(err["extensions"]["field"], "code");
        assert!(err["message"].as_str().unwrap().starts_with("code:"), "{err}");
    }
}
