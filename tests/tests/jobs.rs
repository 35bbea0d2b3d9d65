//! The job engine under a worker that dies mid-job, one test per kind of work: each job is
//! retaken or swept as its kind requires, and none reaches the outside world twice.
//!
//! A worker "dies" by its task being aborted in the middle of its work, as a killed process
//! stops; where the moment cannot be caught from outside (a job that takes milliseconds), the
//! worker takes its claim or lease and never comes back, which is the state a crash leaves.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use std::time::Duration;

use api::jobs::{JOBS, JobHandler, JobQueue, Lease, NewJob};
use api::messaging::{NewMessage, Recipient};
use api::service::retention::{LAUNCH, VolunteerFilter};
use async_trait::async_trait;
use chrono::Utc;
use entity::job::JobStatus;
use entity::outbound_message::{self, Status};
use entity::{inbox_notification, job, job_lease, staff_alert, volunteer};
use registry_tests::gateway::FakeGateway;
use registry_tests::{TestApp, both_backends, sms_recommitment, staff};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

fn message(recipient: Recipient, volunteer_id: Option<Uuid>, template: &str, variables: &[(&str, &str)]) -> NewMessage {
    NewMessage {
        recipient,
        volunteer_id,
        branch_code: "51".into(),
        template_key: template.into(),
        locale: "zh-CN".into(),
        variables: variables.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect(),
        dedupe_key: format!("jobs-test:{}", Uuid::now_v7()),
        campaign_id: None,
    }
}

async fn queue(app: &TestApp, message: NewMessage) -> Uuid {
    app.app.messaging().queue(app.app.db(), message).await.unwrap().id
}

async fn stored(app: &TestApp, id: Uuid) -> outbound_message::Model {
    outbound_message::Entity::find_by_id(id).one(app.app.db()).await.unwrap().unwrap()
}

async fn wait_for(mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out");
}

/// Makes every periodic lease run out, as the half hour a dead replica holds one would.
async fn expire_leases(app: &TestApp) {
    job_lease::Entity::update_many()
        .col_expr(job_lease::Column::LeaseUntil, Expr::value(Utc::now() - chrono::Duration::seconds(1)))
        .exec(app.app.db())
        .await
        .unwrap();
}

/// A kind that hands its job to the outside world and then waits there, for the engine's
/// at-most-once rule on the job table (webhooks will be such a kind).
struct HandsOverAndHangs;

#[async_trait]
impl JobHandler for HandsOverAndHangs {
    fn kind(&self) -> &'static str {
        "test.hands_over"
    }

    async fn run(&self, _job: &job::Model, lease: &Lease<'_>) -> api::error::AppResult<u64> {
        assert!(lease.hand_over().await?, "the worker holds its claim");
        std::future::pending().await
    }
}

both_backends! {
    async fn an_sms_whose_worker_dies_mid_send_is_failed_for_staff_and_never_sent_again(db) {
        let gateway = FakeGateway::start().await;
        let app = db.app_with(|s| { gateway.configure()(s); s.messaging.claim_timeout_ms = 300; }).await;
        let id = queue(&app, message(Recipient::Sms(api::domain::Phone::parse("13800000001").unwrap()), None, "login_code", &[("code", "123456"), ("minutes", "5")])).await;
        gateway.stall_next(1);
        let messaging = app.app.messaging().clone();
        let doomed = tokio::spawn(async move { messaging.deliver_batch("doomed").await });
        wait_for(|| gateway.requests() == 1).await;
        doomed.abort();
        assert!(doomed.await.unwrap_err().is_cancelled());
        assert_eq!(stored(&app, id).await.status, Status::Sending, "it died after handing the message over");

        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(app.app.messaging().deliver_batch("survivor").await.unwrap(), 0, "a hand-over is never retaken");
        assert_eq!(app.app.messaging().fail_lost_sends().await.unwrap(), 1);
        let lost = stored(&app, id).await;
        assert_eq!(lost.status, Status::Failed);
        assert!(lost.last_error.unwrap().starts_with("outcome unknown"));
        assert_eq!(app.app.messaging().deliver_batch("survivor").await.unwrap(), 0);
        assert_eq!((gateway.requests(), gateway.accepted().len()), (1, 0), "the gateway saw it once");
    }

    async fn an_app_message_whose_worker_dies_after_claiming_is_retaken_and_delivered_once(db) {
        let app = db.app_with(|s| s.messaging.claim_timeout_ms = 300).await;
        let volunteer = app.register_volunteer(1, "51").await;
        let id = queue(&app, message(Recipient::AppInbox { volunteer_id: volunteer.id }, Some(volunteer.id), "health_tip", &[("tip", "多喝水")])).await;
        assert_eq!(app.app.messaging().claim("doomed", 10).await.unwrap().len(), 1);
        assert_eq!(app.app.messaging().deliver_batch("survivor").await.unwrap(), 0, "the claim holds until it runs out");

        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(app.app.messaging().deliver_batch("survivor").await.unwrap(), 1);
        assert_eq!(app.app.messaging().deliver_batch("survivor").await.unwrap(), 0);
        assert_eq!(stored(&app, id).await.status, Status::Delivered);
        let notifications = inbox_notification::Entity::find()
            .filter(inbox_notification::Column::MessageId.eq(id))
            .count(app.app.db())
            .await
            .unwrap();
        assert_eq!(notifications, 1);
    }

    async fn a_campaign_launch_whose_launcher_dies_is_retaken_and_each_recipient_gets_one_message(db) {
        let app = db.app().await;
        for n in 0..6 {
            app.register_volunteer(700 + n, "51").await;
        }
        let services = app.app.services();
        let admin = staff("national_admin", "11");
        let reader = admin.volunteer_reader().unwrap();
        for delay_ms in [0, 3, 10] {
            let filter = VolunteerFilter { branch_code: Some("51".into()), ..Default::default() };
            let id = services.campaigns.create(&reader, &admin, sms_recommitment("续约", filter), None).await.unwrap().model.id;
            services.campaigns.launch(&reader, &admin, id, None).await.unwrap();

            // The launcher is killed wherever it is after a few milliseconds.
            let campaigns = services.campaigns.clone();
            let doomed = tokio::spawn(async move { campaigns.launch_pending().await });
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            doomed.abort();
            let _ = doomed.await;
            // A statement it had sent still lands, as one from a killed process would.
            tokio::time::sleep(Duration::from_millis(200)).await;
            // Its claim runs out, as the minute a dead launcher holds one would.
            job::Entity::update_many()
                .col_expr(job::Column::ClaimedUntil, Expr::value(Utc::now() - chrono::Duration::seconds(1)))
                .filter(job::Column::Status.eq(JobStatus::Claimed))
                .exec(app.app.db())
                .await
                .unwrap();
            services.campaigns.launch_pending().await.unwrap();

            let launch = job::Entity::find()
                .filter(job::Column::Kind.eq(LAUNCH))
                .filter(job::Column::SubjectId.eq(id))
                .one(app.app.db())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(launch.status, JobStatus::Done, "after {delay_ms} ms");
            let mut messaged: Vec<Option<Uuid>> = outbound_message::Entity::find()
                .filter(outbound_message::Column::CampaignId.eq(id))
                .all(app.app.db())
                .await
                .unwrap()
                .into_iter()
                .map(|message| message.volunteer_id)
                .collect();
            messaged.sort();
            let before = messaged.len();
            messaged.dedup();
            assert_eq!((before, messaged.len()), (6, 6), "killed after {delay_ms} ms: one message each, none missing");
        }
    }

    async fn a_periodic_task_whose_replica_dies_is_retaken_and_queues_no_reminder_twice(db) {
        let app = db.app().await;
        let volunteer = app.register_volunteer(1, "51").await;
        volunteer::Entity::update_many()
            .col_expr(volunteer::Column::Status, Expr::value(entity::volunteer::DonorStatus::TemporarilyUnavailable))
            .col_expr(volunteer::Column::StatusReason, Expr::value(entity::volunteer::StatusReason::Medical))
            .col_expr(volunteer::Column::StatusUntil, Expr::value(Utc::now().date_naive() + chrono::Duration::days(10)))
            .filter(volunteer::Column::Id.eq(volunteer.id))
            .exec(app.app.db())
            .await
            .unwrap();
        let jobs = app.app.services().jobs.clone();

        // A replica starts the tasks and is killed wherever it is.
        let doomed = tokio::spawn({ let jobs = jobs.clone(); async move { jobs.run_periodic(Utc::now()).await } });
        tokio::time::sleep(Duration::from_millis(5)).await;
        doomed.abort();
        let _ = doomed.await;
        tokio::time::sleep(Duration::from_millis(200)).await;

        expire_leases(&app).await;
        let runs = jobs.run_periodic(Utc::now()).await.unwrap();
        let names: Vec<&str> = runs.iter().map(|(name, _)| *name).collect();
        let tasks = ["volunteer.pauses", "retention.work_queue", "retention.attrition", "cases.deadlines", "cases.follow_ups", "cases.figures", "admissions.deadlines", "letters.purge_links"];
        assert_eq!(names, tasks);
        assert!(runs.iter().all(|(_, run)| run.is_some()), "every task is retaken: {runs:?}");
        let held = jobs.run_periodic(Utc::now()).await.unwrap();
        assert!(held.iter().all(|(_, run)| run.is_none()), "a finished run holds its period: {held:?}");

        expire_leases(&app).await;
        let again = jobs.run_periodic(Utc::now()).await.unwrap();
        assert_eq!(again[0], ("volunteer.pauses", Some(0)), "a reminder is queued once");
        let reminders = outbound_message::Entity::find()
            .filter(outbound_message::Column::TemplateKey.eq("pause_ending"))
            .filter(outbound_message::Column::VolunteerId.eq(volunteer.id))
            .count(app.app.db())
            .await
            .unwrap();
        assert_eq!(reminders, 2, "one by SMS and one in the app");
    }

    async fn a_job_out_of_attempts_is_dead_lettered_with_an_alert_for_its_branch(db) {
        let app = db.app().await;
        let broken = NewJob { subject_id: None, max_attempts: 1, ..NewJob::about(LAUNCH, Uuid::nil()) }
            .for_branch(Some("51".into()));
        assert!(api::jobs::enqueue(app.app.db(), broken).await.unwrap());
        assert_eq!(app.app.services().campaigns.launch_pending().await.unwrap(), 0);
        let dead = job::Entity::find().filter(job::Column::Kind.eq(LAUNCH)).one(app.app.db()).await.unwrap().unwrap();
        assert_eq!((dead.status, dead.attempts), (JobStatus::Dead, 1));
        assert!(dead.last_error.is_some() && dead.finished_at.is_some());
        let alerts = staff_alert::Entity::find().filter(staff_alert::Column::Kind.eq("job_failed")).all(app.app.db()).await.unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!((alerts[0].branch_code.as_str(), alerts[0].volunteer_id), ("51", None));
    }

    async fn a_job_whose_worker_dies_after_handing_it_over_is_swept_dead_and_never_run_again(db) {
        let app = db.app().await;
        let queue = JobQueue::new(app.app.db().clone(), app.app.messaging().metrics().clone(), api::service::alerts::job_failed);
        let subject = Uuid::now_v7();
        let job = NewJob::about("test.hands_over", subject).for_branch(Some("51".into()));
        assert!(api::jobs::enqueue(app.app.db(), job.clone()).await.unwrap());
        assert!(!api::jobs::enqueue(app.app.db(), job).await.unwrap(), "one job per subject");

        let doomed = tokio::spawn({ let queue = queue.clone(); async move { queue.work(&HandsOverAndHangs, "doomed").await } });
        let handed_over = || async {
            job::Entity::find().filter(job::Column::Status.eq(JobStatus::HandedOver)).count(app.app.db()).await.unwrap()
        };
        for _ in 0..500 {
            if handed_over().await == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        doomed.abort();
        assert!(doomed.await.unwrap_err().is_cancelled());

        // Its lease runs out; no worker takes it again, and the sweep buries it.
        job::Entity::update_many()
            .col_expr(job::Column::ClaimedUntil, Expr::value(Utc::now() - chrono::Duration::seconds(1)))
            .exec(app.app.db())
            .await
            .unwrap();
        let kind = Condition::all().add(job::Column::Kind.eq("test.hands_over"));
        assert!(JOBS.claim(app.app.db(), "survivor", chrono::Duration::seconds(60), 10, kind).await.unwrap().is_empty());
        assert_eq!(queue.sweep("test.hands_over").await.unwrap(), 1);
        let dead = job::Entity::find().one(app.app.db()).await.unwrap().unwrap();
        assert_eq!(dead.status, JobStatus::Dead);
        assert!(dead.last_error.unwrap().starts_with("outcome unknown"));
        assert_eq!(staff_alert::Entity::find().filter(staff_alert::Column::Kind.eq("job_failed")).count(app.app.db()).await.unwrap(), 1);
    }
}
