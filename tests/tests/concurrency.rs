//! Bursts and races, over HTTP, on both databases: what a recruitment drive, a campaign that
//! asks a thousand people to open the app, or a double tap meets. Each gets the answer a
//! single request would get; none gets INTERNAL or a false CONFLICT.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use std::time::{Duration, Instant};

use futures::future::join_all;
use registry_tests::mobile::{Mobile, document, signed_in_volunteers};
use registry_tests::{both_backends, error_codes};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

/// Every error code of every response, with how many times each was seen.
fn codes_of(responses: &[Value]) -> Vec<String> {
    let mut codes: Vec<String> = responses.iter().flat_map(error_codes).collect();
    codes.sort();
    codes
}

both_backends! {
    async fn sixty_four_simultaneous_sign_ins_with_a_pool_of_sixteen_all_succeed(db) {
        let app = db.app_with(|settings| settings.database.max_connections = 16).await;
        let server = app.serve().await;
        let mut phones = Vec::new();
        for i in 0..64 {
            let registered = app.register_volunteer(8_000 + i, "51").await;
            Mobile::new(&server).call("RequestSignInCode", json!({ "phone": registered.phone })).await;
            phones.push(registered.phone);
        }
        let mut attempts = Vec::new();
        for phone in &phones {
            attempts.push((phone.clone(), app.latest_code(phone).await.unwrap()));
        }
        let started = Instant::now();
        let answers = join_all(attempts.iter().map(|(phone, code)| {
            let server = &server;
            async move {
                server.gql(None, &document("SignInWithCode"), json!({ "phone": phone, "code": code })).await
            }
        }))
        .await;
        let took = started.elapsed();
        let bodies: Vec<Value> = answers.iter().map(|(_, body)| body.clone()).collect();
        assert_eq!(codes_of(&bodies), Vec::<String>::new(), "every sign-in succeeds (took {took:?})");
        for (status, body) in &answers {
            assert_eq!(*status, 200);
            assert!(body["data"]["signInWithCode"]["session"]["accessToken"].is_string(), "{body}");
        }
    }

    async fn forty_concurrent_contact_changes_by_twenty_volunteers_all_succeed(db) {
        let app = db.app().await;
        let server = app.serve().await;
        let volunteers = signed_in_volunteers(&app, &server, 9_000, 20).await;
        let calls = volunteers.iter().enumerate().flat_map(|(n, (_, token))| {
            (0..2).map(move |k| (token.clone(), format!("v{n}.try{k}@example.org")))
        });
        let answers = join_all(calls.map(|(token, email)| {
            let server = &server;
            async move {
                server.gql(Some(&token), &document("SetContact"), json!({ "kind": "EMAIL", "value": email })).await
            }
        }))
        .await;
        let bodies: Vec<Value> = answers.iter().map(|(_, body)| body.clone()).collect();
        assert_eq!(codes_of(&bodies), Vec::<String>::new(), "no false 'is taken', no INTERNAL");
        // Each volunteer ends with one current e-mail: one of the two they sent.
        for (n, (_, token)) in volunteers.iter().enumerate() {
            let home = server.gql(Some(token), &document("Home"), json!({})).await.1;
            let emails: Vec<&Value> = home["data"]["me"]["contacts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|contact| contact["kind"] == "EMAIL")
                .collect();
            assert_eq!(emails.len(), 1, "volunteer {n}: {home}");
        }
    }

    async fn adding_a_backup_contact_while_withdrawing_ends_in_a_clear_answer(db) {
        let app = db.app().await;
        let server = app.serve().await;
        let volunteers = signed_in_volunteers(&app, &server, 9_000, 8).await;
        let mut seen = Vec::new();
        for (n, (_, token)) in volunteers.iter().enumerate() {
            let notice = server.gql(Some(token), &document("WithdrawalNotice"), json!({})).await.1;
            let confirmation = notice["data"]["withdrawalNotice"]["confirmation"].clone();
            let contact = json!({ "input": {
                "name": "李四", "relationship": "FRIEND", "phone": format!("+86139{:08}", 70_000 + n)
            } });
            let (add, withdraw) = (document("AddBackupContact"), document("Withdraw"));
            let (added, withdrawn) = tokio::join!(
                server.gql(Some(token), &add, contact),
                server.gql(Some(token), &withdraw, json!({ "cause": "FAMILY", "confirmation": confirmation })),
            );
            assert_eq!(error_codes(&withdrawn.1), Vec::<String>::new(), "the withdrawal goes through: {}", withdrawn.1);
            seen.extend(error_codes(&added.1));
        }
        // The contact was added first (and erased with the rest), or the volunteer was gone by
        // then: NOT_FOUND, or UNAUTHENTICATED when the token's record was already purged.
        for code in &seen {
            assert!(["NOT_FOUND", "UNAUTHENTICATED"].contains(&code.as_str()), "{seen:?}");
        }
        // Withdrawal inside the cooling-off period deletes everything: nothing was left behind.
        assert_eq!(entity::backup_contact::Entity::find().count(app.app.db()).await.unwrap(), 0);
    }
}

/// Sixteen app users for thirty seconds over every self-service mutation, on the embedded
/// default: contention answers, never INTERNAL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_clients_for_thirty_seconds_over_the_self_service_mutations_get_no_internal_on_sqlite() {
    registry_tests::run(registry_tests::Backend::Sqlite, |db| async move {
        let app = db.app().await;
        let server = app.serve().await;
        let volunteers = signed_in_volunteers(&app, &server, 9_000, 16).await;
        let until = (chrono::Utc::now() + chrono::Duration::days(60)).date_naive().to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        let clients = volunteers.iter().enumerate().map(|(n, (_, token))| {
            let server = &server;
            let until = until.clone();
            async move {
                let mut answers = Vec::new();
                let mut round = 0u32;
                while Instant::now() < deadline {
                    round += 1;
                    let backup = json!({ "input": {
                        "name": "李四", "relationship": "FRIEND",
                        "phone": format!("+86139{:04}{:04}", n, round % 10_000)
                    } });
                    let calls: Vec<(&str, Value)> = vec![
                        ("SetContact", json!({ "kind": "EMAIL", "value": format!("c{n}.{round}@example.org") })),
                        ("UpdateMyProfile", json!({ "input": { "occupation": format!("教师{round}") } })),
                        (
                            "RecordFamilyMember",
                            json!({ "input": { "relationship": "PARENT", "name": "王芳", "stance": "SUPPORTIVE" } }),
                        ),
                        ("RequestFamilyInfoPack", json!({ "channel": "STAFF_CALL" })),
                        ("AddBackupContact", backup),
                        ("SetNotificationPreferences", json!({ "sms": true, "appInbox": round.is_multiple_of(2) })),
                        ("PauseAvailability", json!({ "reason": "PERSONAL", "until": until })),
                        ("ResumeAvailability", json!({})),
                        ("ConfirmMyDetails", json!({})),
                        ("RequestNameCorrection", json!({ "name": "张三丰" })),
                        ("MarkNotificationsRead", json!({ "ids": [] })),
                    ];
                    for (name, variables) in calls {
                        let (status, body) = server.gql(Some(token), &document(name), variables).await;
                        answers.push((name, status, body));
                    }
                    // Keep the backup list from filling up: remove the one just added.
                    let home = server.gql(Some(token), &document("Home"), json!({})).await.1;
                    if let Some(last) = home["data"]["me"]["backupContacts"].as_array().and_then(|list| list.last()) {
                        let removed = server
                            .gql(Some(token), &document("RemoveBackupContact"), json!({ "id": last["id"] }))
                            .await;
                        answers.push(("RemoveBackupContact", removed.0, removed.1));
                    }
                }
                answers
            }
        });
        let answers: Vec<_> = join_all(clients).await.into_iter().flatten().collect();
        let internal: Vec<_> = answers
            .iter()
            .filter(|(_, status, body)| *status >= 500 || error_codes(body).iter().any(|code| code == "INTERNAL"))
            .map(|(name, status, body)| format!("{name} {status} {body}"))
            .collect();
        assert!(
            internal.is_empty(),
            "{} of {} calls failed inside: {:#?}",
            internal.len(),
            answers.len(),
            &internal[..internal.len().min(5)]
        );
        let succeeded = answers.iter().filter(|(_, _, body)| body.get("errors").is_none()).count();
        assert!(succeeded * 2 > answers.len(), "most calls succeed: {succeeded} of {}", answers.len());
    })
    .await;
}
