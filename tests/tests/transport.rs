//! GraphQL over HTTP: limits, negotiation, request ids, GET rules and observability, against a
//! real server on a loopback port.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use registry_tests::{both_backends, error_codes};
use serde_json::{Value, json};

const DEEP: &str = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }";

fn aliases(count: usize) -> String {
    let fields: Vec<String> = (0..count).map(|i| format!("a{i}: __typename")).collect();
    format!("{{ {} }}", fields.join(" "))
}

both_backends! {
    async fn documents_over_a_limit_get_400_a_code_and_no_data(db) {
        let server = db.app().await.serve().await;
        for (what, query) in [
            ("depth over 10", DEEP.to_owned()),
            ("31 aliases", aliases(31)),
            ("15,001 characters", format!("{{ __typename }}{}", " ".repeat(15_001 - 14))),
        ] {
            let (status, body) = server.query(&query).await;
            assert_eq!(status, 400, "{what}: {body}");
            assert_eq!(error_codes(&body), ["GRAPHQL_VALIDATION_FAILED"], "{what}: {body}");
            assert!(body.get("data").is_none(), "{what}: {body}");
        }
        let (status, body) = server.query(&aliases(30)).await;
        assert_eq!(status, 200, "30 aliases are allowed: {body}");
    }

    async fn cost_over_the_complexity_limit_is_refused(db) {
        let server = db.app_with(|s| s.graphql.max_complexity = 3).await.serve().await;
        let (status, body) = server.query("{ branches { code nameZh nameEn } }").await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(error_codes(&body), ["GRAPHQL_VALIDATION_FAILED"]);
        let (status, _) = server.query("{ branches { code } }").await;
        assert_eq!(status, 200);
    }

    async fn malformed_requests_get_a_clear_4xx(db) {
        let server = db.app().await.serve().await;
        let post = |body: String, content_type: &'static str| {
            server.client.post(server.url("/graphql")).header("content-type", content_type).header("accept", "application/graphql-response+json").body(body).send()
        };
        let huge = json!({ "query": "{ __typename }", "variables": { "x": "a".repeat(1 << 20) } }).to_string();
        // Its own client: the server answers 413 before reading the body and closes the
        // connection, which must not be pooled for the requests below.
        let refused = reqwest::Client::new()
            .post(server.url("/graphql"))
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(huge)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 413, "1 MiB body");
        assert!(refused.headers()["content-type"].to_str().unwrap().starts_with("application/graphql-response+json"), "the GraphQL error shape");
        let refusal: Value = refused.json().await.unwrap();
        assert_eq!(error_codes(&refusal), ["BAD_REQUEST"], "{refusal}");
        assert!(refusal["errors"][0]["message"].as_str().unwrap().contains("65536 bytes"), "{refusal}");
        assert!(refusal.get("data").is_none(), "{refusal}");

        let batch = post(r#"[{"query":"{ __typename }"},{"query":"{ __typename }"}]"#.into(), "application/json").await.unwrap();
        assert_eq!(batch.status(), 400);
        let body: Value = batch.json().await.unwrap();
        assert_eq!(error_codes(&body), ["BAD_REQUEST"]);
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("batched"));

        let broken = post(r#"{"query": "{ __typename }""#.into(), "application/json").await.unwrap();
        assert_eq!(broken.status(), 400);
        assert_eq!(error_codes(&broken.json().await.unwrap()), ["BAD_REQUEST"]);

        let form = post("query=%7B__typename%7D".into(), "application/x-www-form-urlencoded").await.unwrap();
        assert_eq!(form.status(), 415, "a page can post forms cross-site; they are refused");

        let csv = server.client.post(server.url("/graphql")).header("accept", "text/csv").json(&json!({"query": "{ __typename }"})).send().await.unwrap();
        assert_eq!(csv.status(), 406);
    }

    async fn get_runs_queries_but_never_mutations(db) {
        let server = db.app().await.serve().await;
        let get = |query: &str| server.client.get(server.url("/graphql")).query(&[("query", query)]).header("accept", "application/graphql-response+json").send();

        let ok = get("{ branch(code: \"51\") { nameEn } }").await.unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.json::<Value>().await.unwrap()["data"]["branch"]["nameEn"], "Sichuan");

        let mutation = get("mutation { __typename }").await.unwrap();
        assert_eq!(mutation.status(), 405);
        assert_eq!(mutation.headers()["allow"], "POST");
        assert_eq!(error_codes(&mutation.json().await.unwrap()), ["METHOD_NOT_ALLOWED"]);

        let named = server.client.get(server.url("/graphql"))
            .query(&[("query", "query Q { __typename } mutation M { __typename }"), ("operationName", "M")])
            .send().await.unwrap();
        assert_eq!(named.status(), 405, "the selected operation decides");

        let page = server.client.get(server.url("/graphql")).header("accept", "text/html").send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("graphiql"), "browsers get GraphiQL in development");
    }

    async fn legacy_json_clients_get_200_for_graphql_errors_in_their_media_type(db) {
        let server = db.app().await.serve().await;
        let response = server.client.post(server.url("/graphql"))
            .header("accept", "application/json")
            .json(&json!({ "query": "{ nope }" }))
            .send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        assert_eq!(error_codes(&response.json().await.unwrap()), ["GRAPHQL_VALIDATION_FAILED"]);

        let parse = server.query("{").await;
        assert_eq!(parse.0, 400);
        assert_eq!(error_codes(&parse.1), ["GRAPHQL_PARSE_FAILED"]);
    }

    async fn every_response_and_error_carries_the_request_id(db) {
        let server = db.app().await.serve().await;
        let response = server.client.post(server.url("/graphql"))
            .header("x-request-id", "mobile-7f3a")
            .json(&json!({ "query": "{ nope }" }))
            .send().await.unwrap();
        assert_eq!(response.headers()["x-request-id"], "mobile-7f3a");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["requestId"], "mobile-7f3a");

        let generated = server.client.get(server.url("/healthz")).header("x-request-id", "bad id\twith spaces").send().await.unwrap();
        let id = generated.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(uuid::Uuid::parse_str(id).map(|u| u.get_version_num()), Ok(4), "unusable ids are replaced: {id}");
    }

    async fn health_readiness_and_metrics_answer(db) {
        let server = db.app().await.serve().await;
        let health = server.client.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let ready = server.client.get(server.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200);

        server.graphql(&json!({ "query": include_str!("../operations/Branches.graphql"), "operationName": "Branches" })).await;
        server.query("{ nope }").await;
        let metrics = server.client.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
        for expected in [
            "registry_graphql_requests_total{operation=\"Branches\"} 1",
            "registry_graphql_request_duration_seconds_count{operation=\"Branches\"} 1",
            "registry_graphql_errors_total{code=\"GRAPHQL_VALIDATION_FAILED\"} 1",
            "registry_db_pool_connections{state=\"max\"} 16",
            "registry_db_statements_total",
        ] {
            assert!(metrics.contains(expected), "missing {expected} in\n{metrics}");
        }
    }

    async fn role_and_scope_refusals_share_one_shape(db) {
        let app = db.app().await;
        let server = app.serve().await;
        let recruiter = app.staff_token("branch_recruiter", "51").await;
        let other_branch = app.staff_token("branch_coordinator", "11").await;
        let volunteer = app.register_volunteer(1, "51").await;

        // The role may not call the field at all: refused before execution, HTTP 403.
        let unmask = "mutation($id: ID!) { unmaskVolunteerField(volunteerId: $id, field: NATIONAL_ID, purpose: LEGAL) }";
        let (status, role) = server.gql(Some(&recruiter), unmask, json!({ "id": volunteer.id })).await;
        assert_eq!(status, 403, "{role}");
        assert_eq!(error_codes(&role), ["FORBIDDEN"]);
        assert_eq!(role["errors"][0]["extensions"]["reason"], "ROLE", "{role}");
        assert_eq!(role["errors"][0]["extensions"]["field"], "unmaskVolunteerField", "{role}");
        assert!(role.get("data").is_none(), "nothing ran: {role}");

        // The role may call it, but not on this record: refused during execution, HTTP 200,
        // the error at the field's path.
        let read = "query($id: ID!) { volunteer(id: $id) { id } }";
        let (status, scope) = server.gql(Some(&other_branch), read, json!({ "id": volunteer.id })).await;
        assert_eq!(status, 200, "{scope}");
        assert_eq!(error_codes(&scope), ["FORBIDDEN"]);
        assert_eq!(scope["errors"][0]["extensions"]["reason"], "SCOPE", "{scope}");
        assert_eq!(scope["errors"][0]["path"], json!(["volunteer"]), "{scope}");
        assert_eq!(scope["data"], Value::Null, "{scope}");
    }
}

/// A client that never finishes its request head is closed after the configured time, and a
/// shutdown does not wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_closed_and_do_not_hold_a_shutdown() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    registry_tests::run(registry_tests::Backend::Sqlite, |db| async move {
        let app = db.app_with(|s| s.http.header_read_timeout_ms = 1_000).await;
        let mut server = app.serve().await;
        // Five clients that send part of a head and then a header byte every 200 ms.
        let dribble = |addr: std::net::SocketAddr| async move {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let started = Instant::now();
            stream.write_all(b"POST /graphql HTTP/1.1\r\nHost: registry\r\n").await.unwrap();
            let mut closed_after = None;
            for _ in 0..50 {
                if stream.write_all(b"X").await.is_err() {
                    closed_after = Some(started.elapsed());
                    break;
                }
                let mut buf = [0u8; 256];
                // Closed (end of stream or reset); otherwise a 408 on its way, or nothing yet.
                if let Ok(Ok(0) | Err(_)) =
                    tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await
                {
                    closed_after = Some(started.elapsed());
                    break;
                }
            }
            closed_after
        };
        let slow = futures::future::join_all((0..5).map(|_| dribble(server.addr))).await;
        for closed_after in &slow {
            let closed_after = closed_after.expect("the server closed the connection");
            assert!(closed_after < Duration::from_secs(3), "closed after {closed_after:?}");
        }

        // New slow clients, then SIGTERM: the server exits at once, not after the 20 s grace.
        let mut held = Vec::new();
        for _ in 0..5 {
            let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
            stream.write_all(b"POST /graphql HTTP/1.1\r\nHost: regi").await.unwrap();
            held.push(stream);
        }
        let (status, _) = server.query("{ __typename }").await;
        assert_eq!(status, 200, "the server still answers others");
        let started = Instant::now();
        server.signal_stop();
        tokio::time::timeout(Duration::from_secs(5), server.finished()).await.expect("prompt exit").unwrap();
        assert!(started.elapsed() < Duration::from_secs(3), "shutdown took {:?}", started.elapsed());
        drop(held);
    })
    .await;
}
