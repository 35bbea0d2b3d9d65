//! The mobile home screen's throughput: the `Home` document of `contract/mobile/` against the
//! real server (token check, GraphQL, services, decryption and masking), against a bare axum
//! handler on the same database pool running the same SQL statements and returning the rows as
//! JSON: the ceiling the database and HTTP allow. Both are driven by the same loopback client,
//! in alternating rounds.
//!
//! ```text
//! cargo run --release -p bench --bin home -- [--requests 4000] [--concurrency 8] [--rounds 3]
//! ```
//!
//! PostgreSQL comes from `TEST_DATABASE_ADMIN_URL`, as in the tests; each run gets a fresh
//! database and drops it.

#![allow(clippy::print_stdout, clippy::cast_precision_loss, clippy::unwrap_used, clippy::expect_used)] // a report

use std::time::Instant;

use api::service::Principal;
use axum::extract::State;
use axum::routing::post;
use bench::arg;
use entity::volunteer_contact::ContactKind;
use entity::{backup_contact, inbox_notification, refresh_token, volunteer, volunteer_contact};
use futures::StreamExt;
use registry_tests::mobile::{document, enrolment};
use registry_tests::{Backend, TestApp, run};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};
use uuid::Uuid;

const PHONE: &str = "+8613800000001";

#[tokio::main]
async fn main() {
    let requests = arg("requests", 4_000);
    let concurrency = arg("concurrency", 8);
    let rounds = arg("rounds", 3);
    // Boxed: the served app's future is too large to move by value.
    run(Backend::Postgres, move |db| Box::pin(async move {
        let app = db.app_with(|settings| settings.database.max_connections = 16).await;
        let (token, id, family) = seed(&app).await;
        let server = app.serve().await;
        let bare = serve_bare(app.app.db().clone(), id, family).await;
        let client = reqwest::Client::new();
        let home = json!({ "query": document("Home") });
        let service_url = server.url("/graphql");

        let body = post_once(&client, &service_url, Some(&token), &home).await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(body["data"]["myNotifications"]["unreadCount"], 30);
        let bare_body = post_once(&client, &bare, None, &json!({})).await;
        assert_eq!(bare_body["notifications"].as_array().unwrap().len(), 6);

        let (mut service, mut ceiling) = (Vec::new(), Vec::new());
        drive(&client, &service_url, Some(&token), &home, requests / 4, concurrency).await; // warm-up
        drive(&client, &bare, None, &json!({}), requests / 4, concurrency).await;
        for _ in 0..rounds {
            service.push(drive(&client, &service_url, Some(&token), &home, requests, concurrency).await);
            ceiling.push(drive(&client, &bare, None, &json!({}), requests, concurrency).await);
        }
        let median = |runs: &mut Vec<f64>| {
            runs.sort_by(f64::total_cmp);
            runs[runs.len() / 2]
        };
        let (service, ceiling) = (median(&mut service), median(&mut ceiling));
        println!("home screen (contract/mobile/Home.graphql), {requests} requests x {rounds} rounds, {concurrency} in flight, PostgreSQL");
        println!("  volunteer with 4 contacts, 2 backup contacts, 30 notifications (5 shown, unread count)");
        println!("  bare axum handler, same 8 SQL statements:  {ceiling:>8.0} req/s");
        println!("  the service (token, GraphQL, decryption):  {service:>8.0} req/s   ratio {:.2}", service / ceiling);
        server.stop().await.unwrap();
    }))
    .await;
}

/// A volunteer enrolled through the contract, with more contacts and 30 notifications; returns
/// their access token, id and session.
async fn seed(app: &TestApp) -> (String, Uuid, Uuid) {
    let anonymous = Principal::Anonymous;
    let run = |principal: Principal, name: &str, variables: Value| {
        let request =
            async_graphql::Request::new(document(name)).variables(async_graphql::Variables::from_json(variables));
        let (app, name) = (app.clone(), name.to_owned());
        async move {
            let response = app.execute_as(principal, request).await;
            assert!(response.errors.is_empty(), "{name}: {:?}", response.errors);
            response.data.into_json().unwrap()
        }
    };
    run(anonymous.clone(), "RequestSignInCode", json!({ "phone": PHONE })).await;
    let code = app.latest_code(PHONE).await.unwrap();
    let signed_in = run(anonymous.clone(), "SignInWithCode", json!({ "phone": PHONE, "code": code })).await;
    let ticket = signed_in["signInWithCode"]["enrolmentTicket"].clone();
    let enrolled =
        run(anonymous, "Enrol", json!({ "enrolmentTicket": ticket, "phone": PHONE, "input": enrolment() })).await;
    let token = enrolled["enrol"]["accessToken"].as_str().unwrap().to_owned();
    let me = volunteer::Entity::find().one(app.app.db()).await.unwrap().unwrap();
    let principal = Principal::Volunteer { id: me.id };
    for (kind, value) in
        [("EMAIL", "zs@example.cn"), ("WECHAT", "zhangsan_88"), ("POSTAL_ADDRESS", "成都市武侯区人民南路四段1号")]
    {
        run(principal.clone(), "SetContact", json!({ "kind": kind, "value": value })).await;
    }
    for n in 0..30 {
        let message = api::messaging::NewMessage {
            recipient: api::messaging::Recipient::AppInbox { volunteer_id: me.id },
            volunteer_id: Some(me.id),
            branch_code: "51".into(),
            template_key: "health_tip".into(),
            locale: "zh-CN".into(),
            variables: [("tip".to_owned(), format!("第{n}条：献血前一晚请早睡"))].into(),
            dedupe_key: format!("bench-tip:{n}"),
            campaign_id: None,
        };
        app.app.messaging().queue(app.app.db(), message).await.unwrap();
    }
    while app.app.messaging().deliver_batch("bench").await.unwrap() > 0 {}
    let family = refresh_token::Entity::find().one(app.app.db()).await.unwrap().unwrap().family_id;
    (token, me.id, family)
}

#[derive(Clone)]
struct Bare {
    db: DatabaseConnection,
    id: Uuid,
    family: Uuid,
}

/// The comparator: the statements the service runs for the home screen (the token's two
/// checks, the record, its primary phone, its contacts, its backup contacts, a page of
/// notifications and the unread count), straight from a handler, rows as JSON.
async fn bare_home(State(bare): State<Bare>) -> axum::Json<Value> {
    let db = &bare.db;
    let version: Option<i32> = volunteer::Entity::find_by_id(bare.id)
        .select_only()
        .column(volunteer::Column::CredentialVersion)
        .into_tuple()
        .one(db)
        .await
        .unwrap();
    let live = refresh_token::Entity::find()
        .filter(refresh_token::Column::FamilyId.eq(bare.family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .count(db)
        .await
        .unwrap();
    let record = volunteer::Entity::find_by_id(bare.id).one(db).await.unwrap().unwrap();
    let primary = volunteer_contact::Entity::find()
        .filter(volunteer_contact::Column::VolunteerId.eq(bare.id))
        .filter(volunteer_contact::Column::Kind.eq(ContactKind::PrimaryPhone))
        .filter(volunteer_contact::Column::EndedAt.is_null())
        .one(db)
        .await
        .unwrap();
    let contacts = volunteer_contact::Entity::find()
        .filter(volunteer_contact::Column::VolunteerId.eq(bare.id))
        .filter(volunteer_contact::Column::EndedAt.is_null())
        .order_by_desc(volunteer_contact::Column::StartedAt)
        .all(db)
        .await
        .unwrap();
    let backups = backup_contact::Entity::find()
        .filter(backup_contact::Column::VolunteerId.eq(bare.id))
        .order_by_asc(backup_contact::Column::CreatedAt)
        .all(db)
        .await
        .unwrap();
    let notifications = inbox_notification::Entity::find()
        .filter(inbox_notification::Column::VolunteerId.eq(bare.id))
        .order_by_desc(inbox_notification::Column::Id)
        .limit(6)
        .all(db)
        .await
        .unwrap();
    let unread = inbox_notification::Entity::find()
        .filter(inbox_notification::Column::VolunteerId.eq(bare.id))
        .filter(inbox_notification::Column::ReadAt.is_null())
        .count(db)
        .await
        .unwrap();
    axum::Json(json!({
        "version": version,
        "live": live,
        "status": sea_orm::ActiveEnum::to_value(&record.status),
        "registeredAt": record.registered_at,
        "primary": primary.map(|contact| contact.started_at),
        "contacts": contacts.iter().map(|contact| json!({ "verifiedAt": contact.verified_at, "startedAt": contact.started_at })).collect::<Vec<_>>(),
        "backups": backups.iter().map(|backup| json!({ "relationship": backup.relationship })).collect::<Vec<_>>(),
        "notifications": notifications.iter().map(|row| json!({ "id": row.id, "kind": row.template_key, "createdAt": row.created_at })).collect::<Vec<_>>(),
        "unread": unread,
    }))
}

async fn serve_bare(db: DatabaseConnection, id: Uuid, family: Uuid) -> String {
    let router = axum::Router::new().route("/home", post(bare_home)).with_state(Bare { db, id, family });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/home", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

async fn post_once(client: &reqwest::Client, url: &str, token: Option<&str>, body: &Value) -> Value {
    let mut request = client.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

/// Sends `requests` POSTs, `concurrency` at a time; returns requests per second.
async fn drive(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &Value,
    requests: usize,
    concurrency: usize,
) -> f64 {
    let started = Instant::now();
    futures::stream::iter(0..requests)
        .map(|_| async {
            let mut request = client.post(url).json(body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert!(response.status().is_success());
            response.bytes().await.unwrap();
        })
        .buffer_unordered(concurrency)
        .for_each(|()| async {})
        .await;
    requests as f64 / started.elapsed().as_secs_f64()
}
