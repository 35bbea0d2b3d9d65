//! The messaging backbone against a fake Tencent gateway that checks signatures: the outbox
//! and its transactions, retries, claims, the rules that protect volunteers, receipts, replies
//! and the app inbox.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report
#![allow(clippy::disallowed_methods)] // the tests write fixtures with raw transactions

use std::collections::BTreeMap;
use std::time::Duration;

use api::domain::Phone;
use api::messaging::{NewMessage, Recipient};
use entity::outbound_message::{self, Status};
use registry_tests::gateway::{CALLBACK_SECRET, FakeGateway, post_callback};
use registry_tests::{TestApp, both_backends};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn sms(phone: &str, template: &str, variables: &[(&str, &str)]) -> NewMessage {
    NewMessage {
        recipient: Recipient::Sms(Phone::parse(phone).unwrap()),
        volunteer_id: None,
        branch_code: "51".into(),
        template_key: template.into(),
        locale: "zh-CN".into(),
        variables: vars(variables),
        dedupe_key: Uuid::new_v4().to_string(),
        campaign_id: None,
    }
}

fn login_code(phone: &str) -> NewMessage {
    registry_tests::gateway::login_code(phone, "123456", Uuid::new_v4().to_string())
}

fn reminder(phone: &str) -> NewMessage {
    sms(phone, "health_tip", &[("tip", "献血前请吃早餐。")])
}

async fn queue(app: &TestApp, message: NewMessage) -> Uuid {
    app.app.messaging().queue(app.app.db(), message).await.unwrap().id
}

async fn message(app: &TestApp, id: Uuid) -> outbound_message::Model {
    outbound_message::Entity::find_by_id(id).one(app.app.db()).await.unwrap().unwrap()
}

/// The message queued under `dedupe_key`.
async fn queued_as(app: &TestApp, dedupe_key: &str) -> outbound_message::Model {
    outbound_message::Entity::find()
        .filter(outbound_message::Column::DedupeKey.eq(dedupe_key))
        .one(app.app.db())
        .await
        .unwrap()
        .unwrap()
}

/// Runs delivery rounds until `done` holds or two seconds pass.
async fn deliver_until(app: &TestApp, mut done: impl FnMut() -> bool) {
    for _ in 0..100 {
        app.app.messaging().deliver_batch("test-worker").await.unwrap();
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("delivery did not finish");
}

both_backends! {
    async fn a_message_queued_in_a_rolled_back_transaction_is_never_sent(db) {
        let gateway = FakeGateway::start().await;
        let app = db.app_with(gateway.configure()).await;
        let txn = app.app.db().begin().await.unwrap();
        app.app.messaging().queue(&txn, login_code("13800000001")).await.unwrap();
        txn.rollback().await.unwrap();
        assert_eq!(app.app.messaging().deliver_batch("w").await.unwrap(), 0);
        assert_eq!(gateway.requests(), 0);
        assert_eq!(outbound_message::Entity::find().count(app.app.db()).await.unwrap(), 0);
    }

    async fn a_committed_message_reaches_the_gateway_signed_with_its_sign_name_and_params(db) {
        let gateway = FakeGateway::start().await;
        let app = db.app_with(gateway.configure()).await;
        let id = queue(&app, login_code("13800000001")).await;
        assert_eq!(app.app.messaging().deliver_batch("w").await.unwrap(), 1);
        let accepted = gateway.accepted();
        assert_eq!(accepted.len(), 1);
        assert_eq!(gateway.bad_signatures(), 0);
        let sent = &accepted[0];
        assert_eq!(sent.phone, "+8613800000001");
        assert_eq!(sent.template_id, "1001");
        assert_eq!(sent.params, ["123456", "5"]);
        assert_eq!(sent.sign_name, "中华骨髓库四川分库");
        assert_eq!(sent.session_context, id.to_string());
        let stored = message(&app, id).await;
        assert_eq!(stored.status, Status::Accepted);
        assert_eq!(stored.provider_message_id.as_deref(), Some(sent.serial_no.as_str()));
        assert_eq!(stored.attempts, 1);
        assert!(stored.recipient_phone.as_ref().is_some_and(|c| !c.windows(8).any(|w| w == b"13800000")));
    }

    async fn the_same_dedupe_key_queues_once(db) {
        let app = db.app().await;
        let mut message = login_code("13800000001");
        message.dedupe_key = "login:+8613800000001:1".into();
        let first = app.app.messaging().queue(app.app.db(), message.clone()).await.unwrap();
        let second = app.app.messaging().queue(app.app.db(), message).await.unwrap();
        assert!(!first.duplicate && second.duplicate);
        assert_eq!(first.id, second.id);
        assert_eq!(outbound_message::Entity::find().count(app.app.db()).await.unwrap(), 1);
    }

    async fn prepared_messages_queue_in_bulk_once_and_are_sent_as_queued(db) {
        let gateway = FakeGateway::start().await;
        let app = db.app_with(gateway.configure()).await;
        let messaging = app.app.messaging();
        // More than one bulk statement's worth, mixing rows that fill different columns: SMS
        // with a phone and no volunteer, app messages with a volunteer and no phone.
        let batch: Vec<NewMessage> = (0..5_200_u32)
            .map(|n| {
                let mut message = if n % 100 == 0 {
                    login_code(&format!("1380{n:07}"))
                } else {
                    let mut message = reminder("13800000001");
                    message.recipient = Recipient::AppInbox { volunteer_id: Uuid::new_v4() };
                    message
                };
                message.dedupe_key = format!("bulk:{n}");
                message
            })
            .collect();
        let first = messaging.prepare(batch[..5_000].to_vec()).await.unwrap();
        assert_eq!(messaging.queue_prepared(app.app.db(), &first).await.unwrap(), 5_000);
        // A resumed batch: its first 5,000 are queued already and skipped, the rest go in.
        let again = messaging.prepare(batch.clone()).await.unwrap();
        assert_eq!(messaging.queue_prepared(app.app.db(), &again).await.unwrap(), 200);
        let count = |channel| {
            outbound_message::Entity::find().filter(outbound_message::Column::Channel.eq(channel)).count(app.app.db())
        };
        assert_eq!(count(outbound_message::Channel::Sms).await.unwrap(), 52);
        assert_eq!(count(outbound_message::Channel::AppInbox).await.unwrap(), 5_148);
        let inbox = queued_as(&app, "bulk:5001").await;
        assert!(inbox.recipient_phone.is_none() && inbox.recipient_phone_index.is_none());
        assert!(inbox.volunteer_id.is_some());
        assert_eq!((inbox.status, inbox.attempts, inbox.segments), (Status::Queued, 0, 0));
        // What went in through the arrays is read back and sent as any queued message is (the
        // app messages, for volunteers invented here, are set aside first).
        outbound_message::Entity::update_many()
            .col_expr(outbound_message::Column::Status, sea_orm::sea_query::Expr::value(Status::Cancelled))
            .filter(outbound_message::Column::Channel.eq(outbound_message::Channel::AppInbox))
            .exec(app.app.db())
            .await
            .unwrap();
        let sms = queued_as(&app, "bulk:5100").await;
        assert!(sms.volunteer_id.is_none() && sms.segments >= 1);
        deliver_until(&app, || gateway.accepted().iter().any(|sent| sent.session_context == sms.id.to_string()))
            .await;
        let sent = gateway.accepted().into_iter().find(|sent| sent.session_context == sms.id.to_string()).unwrap();
        assert_eq!((sent.phone.as_str(), sent.params[0].as_str()), ("+8613800005100", "123456"));
        assert_eq!(gateway.bad_signatures(), 0);
    }

    async fn a_missing_template_variable_is_refused_when_queued(db) {
        let app = db.app().await;
        let broken = sms("13800000001", "login_code", &[("code", "123456")]);
        let Err(err) = app.app.messaging().queue(app.app.db(), broken).await else { panic!("queued a garbled SMS") };
        let err = async_graphql::Error::from(err);
        let ext = err.extensions.unwrap();
        assert_eq!(ext.get("code"), Some(&async_graphql::Value::from("BAD_USER_INPUT")));
        assert_eq!(ext.get("field"), Some(&async_graphql::Value::from("variables")));
        assert!(err.message.contains("minutes"), "{}", err.message);
        assert_eq!(outbound_message::Entity::find().count(app.app.db()).await.unwrap(), 0);
    }

    async fn a_gateway_failing_three_times_then_succeeding_gets_exactly_one_accepted_send(db) {
        let gateway = FakeGateway::start().await;
        let app = db.app_with(gateway.configure()).await;
        gateway.fail_next(3);
        let id = queue(&app, login_code("13800000001")).await;
        deliver_until(&app, || !gateway.accepted().is_empty()).await;
        assert_eq!(gateway.requests(), 4);
        assert_eq!(gateway.accepted().len(), 1);
        let stored = message(&app, id).await;
        assert_eq!(stored.status, Status::Accepted);
        assert_eq!(stored.attempts, 4);
    }

    async fn throttling_is_retried_and_a_permanent_refusal_is_not(db) {
        let gateway = FakeGateway::start().await;
        let app = db.app_with(|s| { gateway.configure()(s); s.messaging.tencent.templates.remove("health_tip.zh-CN"); }).await;
        gateway.throttle_next(2);
        let code = queue(&app, login_code("13800000001")).await;
        deliver_until(&app, || !gateway.accepted().is_empty()).await;
        assert_eq!(message(&app, code).await.attempts, 3);

        app.set_quiet_hours("51", 0, 0).await;
        let unregistered = queue(&app, reminder("13800000002")).await;
        app.app.messaging().deliver_batch("w").await.unwrap();
        let stored = message(&app, unregistered).await;
        assert_eq!(stored.status, Status::Failed);
        assert_eq!(stored.last_error.as_deref(), Some("TemplateNotConfigured"));
        assert_eq!(stored.attempts, 1, "a permanent refusal is not retried");
    }

    async fn a_worker_lost_after_claiming_releases_its_claim_and_the_message_is_sent_once(db) {
        let gateway = FakeGateway::start().await;
        let app = db.app_with(|s| { gateway.configure()(s); s.messaging.claim_timeout_ms = 300; }).await;
        let id = queue(&app, login_code("13800000001")).await;
        assert_eq!(app.app.messaging().claim("lost-worker", 10).await.unwrap().len(), 1);
        assert_eq!(app.app.messaging().deliver_batch("w").await.unwrap(), 0, "the claim holds until it times out");
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(app.app.messaging().deliver_batch("w").await.unwrap(), 1);
        assert_eq!(app.app.messaging().deliver_batch("w").await.unwrap(), 0);
        assert_eq!(gateway.accepted().len(), 1);
        assert_eq!(message(&app, id).await.status, Status::Accepted);
    }

    async fn a_send_whose_worker_vanished_is_failed_not_resent(db) {
        let gateway = FakeGateway::start().await;
        let app = db.app_with(|s| { gateway.configure()(s); s.messaging.claim_timeout_ms = 200; }).await;
        let id = queue(&app, login_code("13800000001")).await;
        // A worker claimed it and handed it to the provider, then died before recording.
        app.app.messaging().claim("dead-worker", 10).await.unwrap();
        let mut sending: outbound_message::ActiveModel = message(&app, id).await.into();
        sending.status = Set(Status::Sending);
        sending.update(app.app.db()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(app.app.messaging().fail_lost_sends().await.unwrap(), 1);
        assert_eq!(app.app.messaging().deliver_batch("w").await.unwrap(), 0);
        assert_eq!(gateway.requests(), 0);
        let stored = message(&app, id).await;
        assert_eq!(stored.status, Status::Failed);
        assert!(stored.last_error.unwrap().starts_with("outcome unknown"));
    }

    async fn quiet_hours_hold_a_reminder_and_let_a_login_code_through(db) {
        let gateway = FakeGateway::start().await;
        let app = db.app_with(gateway.configure()).await;
        quiet_now(&app, "51").await;
        let code = queue(&app, login_code("13800000001")).await;
        let tip = queue(&app, reminder("13800000001")).await;
        app.app.messaging().deliver_batch("w").await.unwrap();
        assert_eq!(gateway.accepted().len(), 1);
        assert_eq!(gateway.accepted()[0].template_id, "1001");
        assert_eq!(message(&app, code).await.status, Status::Accepted);
        let held = message(&app, tip).await;
        assert_eq!(held.status, Status::Queued);
        assert!(held.next_attempt_at > chrono::Utc::now() + chrono::Duration::minutes(29), "held until the quiet hours end");
        assert_eq!(held.last_error.as_deref(), Some("held: quiet hours"));
        assert_eq!(held.attempts, 0, "holding is not an attempt");
    }

    async fn the_daily_cap_holds_the_third_reminder_until_tomorrow(db) {
        let gateway = FakeGateway::start().await;
        let app = db.app_with(gateway.configure()).await;
        let ids = [
            queue(&app, reminder("13800000001")).await,
            queue(&app, reminder("13800000001")).await,
            queue(&app, reminder("13800000001")).await,
        ];
        app.set_quiet_hours("51", 0, 0).await;
        app.app.messaging().deliver_batch("w").await.unwrap();
        assert_eq!(gateway.accepted().len(), 2, "the branch cap is 2 non-essential SMS a day");
        let statuses: Vec<Status> = futures::future::join_all(ids.iter().map(|id| message(&app, *id))).await.into_iter().map(|m| m.status).collect();
        assert_eq!(statuses.iter().filter(|s| **s == Status::Queued).count(), 1);
    }

    async fn a_volunteer_who_replied_td_gets_codes_but_no_campaign_messages(db) {
        let gateway = FakeGateway::start().await;
        let app = db.app_with(gateway.configure()).await;
        app.set_quiet_hours("51", 0, 0).await;
        let server = app.serve().await;
        let reply = json!({ "extend": "", "mobile": "13800000001", "nationcode": "86", "sign": "中华骨髓库四川分库", "text": "TD", "time": chrono::Utc::now().timestamp() });
        let answer = post_callback(&server.client, &server.url("/callbacks/sms/replies"), &reply, CALLBACK_SECRET).await;
        assert_eq!(answer.status(), 200);
        let mut campaign = sms("13800000001", "recommitment", &[("name", "张三")]);
        campaign.campaign_id = Some(Uuid::new_v4());
        let campaign = queue(&app, campaign).await;
        let code = queue(&app, login_code("13800000001")).await;
        app.app.messaging().deliver_batch("w").await.unwrap();
        assert_eq!(gateway.accepted().len(), 1);
        assert_eq!(message(&app, code).await.status, Status::Accepted);
        let cancelled = message(&app, campaign).await;
        assert_eq!(cancelled.status, Status::Cancelled);
        assert!(cancelled.last_error.unwrap().contains("opted out"));
        let replies = entity::inbound_reply::Entity::find().all(app.app.db()).await.unwrap();
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0].handled_as, "opt_out");
        // The same callback again is recognised and changes nothing.
        post_callback(&server.client, &server.url("/callbacks/sms/replies"), &reply, CALLBACK_SECRET).await;
        assert_eq!(entity::inbound_reply::Entity::find().count(app.app.db()).await.unwrap(), 1);
    }

    async fn answers_to_a_recommitment_sms_confirm_or_pause_the_volunteer(db) {
        use entity::volunteer::{self, DonorStatus, HlaResolution, StatusReason};
        use sea_orm::sea_query::Expr;
        let gateway = FakeGateway::start().await;
        let app = db.app_with(gateway.configure()).await;
        let server = app.serve().await;
        let typed = app.register_volunteer(1, "51").await;
        let other = app.register_volunteer(2, "51").await;
        let long_ago = chrono::Utc::now() - chrono::Duration::days(500);
        volunteer::Entity::update_many()
            .col_expr(volunteer::Column::Status, Expr::value(DonorStatus::TemporarilyUnavailable))
            .col_expr(volunteer::Column::StatusReason, Expr::value(StatusReason::UnableToContact))
            .col_expr(volunteer::Column::HlaResolution, Expr::value(HlaResolution::High))
            .col_expr(volunteer::Column::LastConfirmedAt, Expr::value(long_ago))
            .exec(app.app.db())
            .await
            .unwrap();
        let reply = |phone: &str, text: &str| {
            let mobile = phone.trim_start_matches("+86").to_owned();
            json!({ "extend": "", "mobile": mobile, "nationcode": "86", "sign": "中华骨髓库四川分库", "text": text, "time": chrono::Utc::now().timestamp() })
        };
        let url = server.url("/callbacks/sms/replies");
        let record = |id: Uuid| {
            let db = app.app.db().clone();
            async move { volunteer::Entity::find_by_id(id).one(&db).await.unwrap().unwrap() }
        };

        // A "1" that answers nothing is kept for staff, not read as consent.
        post_callback(&server.client, &url, &reply(&typed.phone, "1"), CALLBACK_SECRET).await;
        assert_eq!(record(typed.id).await.status, DonorStatus::TemporarilyUnavailable);

        for volunteer in [&typed, &other] {
            let mut ask = sms(&volunteer.phone, "recommitment", &[("name", "张三")]);
            ask.volunteer_id = Some(volunteer.id);
            queue(&app, ask).await;
        }
        post_callback(&server.client, &url, &reply(&typed.phone, "１"), CALLBACK_SECRET).await;
        let willing = record(typed.id).await;
        assert_eq!((willing.status, willing.status_reason), (DonorStatus::Available, None), "still willing: back on the register");
        assert!(willing.last_confirmed_at > long_ago + chrono::Duration::days(400), "and confirmed");

        volunteer::Entity::update_many()
            .col_expr(volunteer::Column::Status, Expr::value(DonorStatus::Available))
            .col_expr(volunteer::Column::StatusReason, Expr::value(Option::<StatusReason>::None))
            .filter(volunteer::Column::Id.eq(other.id))
            .exec(app.app.db())
            .await
            .unwrap();
        post_callback(&server.client, &url, &reply(&other.phone, "2"), CALLBACK_SECRET).await;
        let paused = record(other.id).await;
        assert_eq!((paused.status, paused.status_reason), (DonorStatus::TemporarilyUnavailable, Some(StatusReason::Personal)));
        let days = (paused.status_until.unwrap() - chrono::Utc::now().date_naive()).num_days();
        assert!((179..=181).contains(&days), "the branch's reply pause, 180 days: {days}");

        let handled: Vec<String> = entity::inbound_reply::Entity::find()
            .order_by_asc(entity::inbound_reply::Column::Id)
            .all(app.app.db())
            .await
            .unwrap()
            .into_iter()
            .map(|reply| reply.handled_as)
            .collect();
        assert_eq!(handled, ["unmatched", "recommitted", "paused"]);
    }

    async fn a_repeated_delivery_receipt_changes_nothing_the_second_time(db) {
        let gateway = FakeGateway::start().await;
        let app = db.app_with(gateway.configure()).await;
        let id = queue(&app, login_code("13800000001")).await;
        app.app.messaging().deliver_batch("w").await.unwrap();
        let serial = gateway.accepted()[0].serial_no.clone();
        let server = app.serve().await;
        let report = json!([{ "user_receive_time": "2026-11-25 10:00:00", "nationcode": "86", "mobile": "13800000001", "report_status": "SUCCESS", "errmsg": "DELIVRD", "description": "用户短信送达成功", "sid": serial }]);
        let first = post_callback(&server.client, &server.url("/callbacks/sms/reports"), &report, CALLBACK_SECRET).await;
        assert_eq!(first.status(), 200);
        let delivered = message(&app, id).await;
        assert_eq!(delivered.status, Status::Delivered);
        let second = post_callback(&server.client, &server.url("/callbacks/sms/reports"), &report, CALLBACK_SECRET).await;
        assert_eq!(second.status(), 200);
        assert_eq!(message(&app, id).await, delivered, "the second receipt changed the row");
        let metrics = server.client.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("registry_messages_total{channel=\"sms\",event=\"delivered\"} 1"), "{metrics}");
        assert!(metrics.contains("registry_messages_total{channel=\"sms\",event=\"sent\"} 1"), "{metrics}");
    }

    async fn a_forged_receipt_is_refused(db) {
        let gateway = FakeGateway::start().await;
        let app = db.app_with(gateway.configure()).await;
        let id = queue(&app, login_code("13800000001")).await;
        app.app.messaging().deliver_batch("w").await.unwrap();
        let serial = gateway.accepted()[0].serial_no.clone();
        let server = app.serve().await;
        let report = json!([{ "report_status": "SUCCESS", "errmsg": "DELIVRD", "sid": serial }]);
        let forged = post_callback(&server.client, &server.url("/callbacks/sms/reports"), &report, "not-the-secret").await;
        assert_eq!(forged.status(), 401);
        let unsigned = server.client.post(server.url("/callbacks/sms/reports")).json(&report).send().await.unwrap();
        assert_eq!(unsigned.status(), 401);
        let stale = {
            let body = report.to_string();
            let mut request = server.client.post(server.url("/callbacks/sms/reports"));
            for (name, value) in registry_tests::gateway::callback_headers(&body, CALLBACK_SECRET, chrono::Utc::now().timestamp() - 3600) {
                request = request.header(name, value);
            }
            request.body(body).send().await.unwrap()
        };
        assert_eq!(stale.status(), 401, "a replayed old callback is refused");
        assert_eq!(message(&app, id).await.status, Status::Accepted);
    }

    async fn campaign_totals_count_messages_by_status_and_segments(db) {
        let gateway = FakeGateway::start().await;
        let app = db.app_with(gateway.configure()).await;
        app.set_quiet_hours("51", 0, 0).await;
        let campaign = Uuid::now_v7();
        for phone in ["13800000001", "13800000002", "13800000003"] {
            let mut message = sms(phone, "recommitment", &[("name", "王五")]);
            message.campaign_id = Some(campaign);
            queue(&app, message).await;
        }
        let before = app.app.messaging().campaign_totals(campaign, None).await.unwrap();
        assert_eq!(before.count(Status::Queued), 3);
        assert_eq!(before.segments, 3, "each recommitment SMS fits one 70-character segment");
        app.app.messaging().deliver_batch("w").await.unwrap();
        let after = app.app.messaging().campaign_totals(campaign, None).await.unwrap();
        assert_eq!(after.count(Status::Accepted), 3);
        assert_eq!(after.count(Status::Queued), 0);
    }

    async fn staff_read_deliveries_of_their_own_branch_only(db) {
        use api::service::{Principal, StaffRole};
        let gateway = FakeGateway::start().await;
        let app = db.app_with(gateway.configure()).await;
        let campaign = Uuid::now_v7();
        let mut message = login_code("13800000001");
        message.campaign_id = Some(campaign);
        let id = queue(&app, message).await;
        app.app.messaging().deliver_batch("w").await.unwrap();
        let staff = |branch: &str| Principal::Staff { id: Uuid::now_v7(), role: StaffRole::BranchRecruiter, branch: branch.into() };
        let read = format!(r#"{{ messageDelivery(id: "{id}") {{ status recipientPhone attempts }} campaignDelivery(campaignId: "{campaign}") {{ accepted segments }} }}"#);
        let own = app.execute_as(staff("51"), read.as_str()).await;
        assert!(own.errors.is_empty(), "{:?}", own.errors);
        let own = own.data.into_json().unwrap();
        assert_eq!(own["messageDelivery"]["status"], "accepted");
        assert_eq!(own["messageDelivery"]["recipientPhone"], "138****0001");
        assert_eq!(own["campaignDelivery"]["accepted"], 1);
        let other = app.execute_as(staff("11"), format!(r#"{{ messageDelivery(id: "{id}") {{ status }} }}"#)).await;
        assert_eq!(other.errors[0].extensions.as_ref().unwrap().get("code"), Some(&async_graphql::Value::from("FORBIDDEN")));
        let totals = app.execute_as(staff("11"), format!(r#"{{ campaignDelivery(campaignId: "{campaign}") {{ accepted }} }}"#)).await;
        assert_eq!(totals.data.into_json().unwrap()["campaignDelivery"]["accepted"], 0, "branch 11 counts none of 51's messages");
    }

    async fn app_inbox_messages_land_in_the_volunteers_notification_list(db) {
        let app = db.app().await;
        let volunteer = Uuid::now_v7();
        let mut message = sms("13800000001", "checkup_due", &[("name", "李四")]);
        message.recipient = Recipient::AppInbox { volunteer_id: volunteer };
        let id = queue(&app, message).await;
        quiet_now(&app, "51").await;
        app.app.messaging().deliver_batch("w").await.unwrap();
        let stored = self::message(&app, id).await;
        assert_eq!(stored.status, Status::Delivered, "the inbox is silent, so quiet hours do not hold it");
        let inbox = entity::inbox_notification::Entity::find().all(app.app.db()).await.unwrap();
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].volunteer_id, volunteer);
        assert!(!String::from_utf8_lossy(&inbox[0].body).contains("李四"), "the inbox text is encrypted at rest");
    }

    async fn developers_read_the_codes_the_development_gateway_kept(db) {
        let app = db.app_with(|s| s.messaging.workers = 0).await;
        queue(&app, login_code("13800000001")).await;
        app.app.messaging().deliver_batch("w").await.unwrap();
        let response = app.execute(r#"{ developmentSms(phone: "138 0000 0001") { templateKey text } }"#).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let data = response.data.into_json().unwrap();
        assert_eq!(data["developmentSms"][0]["templateKey"], "login_code");
        assert!(data["developmentSms"][0]["text"].as_str().unwrap().starts_with("【中华骨髓库四川分库】您的验证码为123456"));
        let refused = db.app_with(|s| { FakeGatewayless::configure(s); }).await.execute(r#"{ developmentSms(phone: "13800000001") { text } }"#).await;
        assert_eq!(refused.errors[0].extensions.as_ref().unwrap().get("code"), Some(&async_graphql::Value::from("FORBIDDEN")));
    }
}

/// A Tencent configuration with no gateway behind it: enough to show that the development
/// query is refused wherever a real provider is configured.
struct FakeGatewayless;

impl FakeGatewayless {
    fn configure(settings: &mut api::config::Settings) {
        settings.messaging.provider = api::config::SmsProviderKind::Tencent;
        settings.messaging.workers = 0;
        settings.messaging.tencent.secret_id = Some("id".into());
        settings.messaging.tencent.secret_key = Some("key".into());
        settings.messaging.tencent.sdk_app_id = Some("1".into());
    }
}

/// Sets a branch's quiet hours to the hour around now, in its local time.
async fn quiet_now(app: &TestApp, branch: &str) {
    let local = chrono::Utc::now() + chrono::Duration::minutes(480);
    let minute = i32::try_from(chrono::Timelike::hour(&local) * 60 + chrono::Timelike::minute(&local)).unwrap();
    app.set_quiet_hours(branch, (minute - 30).rem_euclid(1440), (minute + 30).rem_euclid(1440)).await;
}
