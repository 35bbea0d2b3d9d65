//! The integration-test harness.
//!
//! Every test gets a fresh database: a SQLite file in a temporary directory, and a uniquely
//! named PostgreSQL database created from `TEST_DATABASE_ADMIN_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), migrated by the app, and dropped afterwards
//! even when the test panics. `TEST_POSTGRES=skip` skips the PostgreSQL half on a machine
//! without it, loudly, and is refused under CI.
//!
//! Two tiers: [`TestApp::execute`] runs an operation in-process through the schema, and
//! [`TestApp::serve`] starts the real HTTP server on port 0.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)] // a panic is a test failure

mod database;
pub mod desk;
pub mod gateway;
mod logging;
pub mod mobile;
mod proxy;
pub mod receiver;
mod server;

use std::future::Future;

pub use api::config::{Profile, Settings};
pub use database::{Backend, TestDb, run};
pub use proxy::TcpProxy;
pub use server::Server;

/// Declares each test twice, as `<name>::sqlite` and `<name>::postgres`.
///
/// ```text
/// both_backends! {
///     async fn lists_branches(db) {
///         let app = db.app().await;
///         // ...
///     }
/// }
/// ```
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($db:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::run($crate::Backend::Sqlite, |$db: $crate::TestDb| async move $body).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::run($crate::Backend::Postgres, |$db: $crate::TestDb| async move $body).await;
            }
        }
    )*};
}

/// A built app over a test database.
#[derive(Clone, Debug)]
pub struct TestApp {
    /// Boxed: the app with all its services is large, and every test's future holds it.
    pub app: Box<api::App>,
}

impl TestApp {
    /// Runs an operation in-process, as an anonymous caller.
    pub async fn execute(&self, query: &str) -> async_graphql::Response {
        self.execute_request(async_graphql::Request::new(query)).await
    }

    pub async fn execute_request(&self, request: async_graphql::Request) -> async_graphql::Response {
        self.execute_as(api::service::Principal::Anonymous, request).await
    }

    /// Runs an operation in-process as `principal`, as the HTTP handler would after checking
    /// its token.
    pub async fn execute_as(
        &self,
        principal: api::service::Principal,
        request: impl Into<async_graphql::Request>,
    ) -> async_graphql::Response {
        self.app.schema().execute(request.into().data(principal)).await
    }

    /// Runs `work` and counts the SQL statements the app ran meanwhile.
    pub async fn count_statements<T>(&self, work: impl Future<Output = T>) -> (T, u64) {
        let before = self.app.metrics().statements();
        let out = work.await;
        (out, self.app.metrics().statements() - before)
    }

    /// An access token for a new staff account of `role` in `branch` (a national administrator
    /// is bootstrapped, in branch 11), issued directly: sign-in has its own tests, and the
    /// callers of this check only what each role may do.
    pub async fn staff_token(&self, role: &str, branch: &str) -> String {
        use api::service::{NewStaff, Principal, StaffRole};
        let role = StaffRole::parse(role).unwrap();
        let created = if role == StaffRole::NationalAdmin {
            self.app.staff().bootstrap_national_admin("admin", STAFF_PASSWORD).await.unwrap()
        } else {
            let admin =
                Principal::Staff { id: uuid::Uuid::now_v7(), role: StaffRole::NationalAdmin, branch: "11".into() };
            let input = NewStaff {
                username: format!("{}{branch}", role.as_str()),
                password: STAFF_PASSWORD.into(),
                role,
                branch_code: branch.into(),
            };
            self.app.staff().create(&admin.national_admin().unwrap(), &admin, input, None).await.unwrap()
        };
        let branch = if role == StaffRole::NationalAdmin { "11" } else { branch };
        let principal = Principal::Staff { id: created.id, role, branch: branch.into() };
        self.app.tokens().issue(&principal, 1, None, chrono::Utc::now()).unwrap()
    }

    /// Registers the `n`-th synthetic volunteer in `branch`, returning their id and, for the
    /// test to use, their phone and ID number in clear.
    pub async fn register_volunteer(&self, n: u32, branch: &str) -> Registered {
        let volunteer = api::service::development::synthetic_volunteer(n, branch).unwrap();
        let registered = Registered {
            phone: volunteer.phone.expose().to_owned(),
            national_id: volunteer.national_id.expose().to_owned(),
            id: uuid::Uuid::nil(),
        };
        let id = self.app.services().volunteers.register(volunteer, chrono::Utc::now()).await.unwrap();
        Registered { id, ..registered }
    }

    /// A coordinator of `branch` with a staff account of their own: a case names the coordinator
    /// responsible, which must be a real account.
    pub async fn coordinator(&self, branch: &str) -> api::service::Principal {
        use api::service::{NewStaff, Principal, StaffRole};
        let admin = Principal::Staff { id: uuid::Uuid::now_v7(), role: StaffRole::NationalAdmin, branch: "11".into() };
        let input = NewStaff {
            username: format!("coordinator.{branch}.{}", uuid::Uuid::now_v7().simple()),
            password: STAFF_PASSWORD.into(),
            role: StaffRole::BranchCoordinator,
            branch_code: branch.into(),
        };
        let created = self.app.staff().create(&admin.national_admin().unwrap(), &admin, input, None).await.unwrap();
        Principal::Staff { id: created.id, role: StaffRole::BranchCoordinator, branch: branch.into() }
    }

    /// Makes `volunteer` (of `branch`) available and HLA typed, and opens a donation case for
    /// them on a search hit today, for `requester`, as a new coordinator of the branch; returns
    /// the case's id and that coordinator.
    pub async fn open_case(
        &self,
        volunteer: uuid::Uuid,
        branch: &str,
        requester: api::service::cases::Requester,
    ) -> (uuid::Uuid, api::service::Principal) {
        use api::domain::donation::{Product, Urgency};
        use api::service::cases::{NewCase, PatientInfo};
        use sea_orm::{ActiveModelTrait, Set};
        entity::volunteer::ActiveModel {
            id: Set(volunteer),
            status: Set(entity::volunteer::DonorStatus::Available),
            hla_resolution: Set(entity::volunteer::HlaResolution::High),
            ..Default::default()
        }
        .update(self.app.db())
        .await
        .unwrap();
        let coordinator = self.coordinator(branch).await;
        let patient = PatientInfo { reference: "P-1".into(), sex: None, age_band: None, shared: false };
        let new = NewCase {
            volunteer_id: volunteer,
            requester,
            patient,
            product: Product::Pbsc,
            urgency: Urgency::Standard,
            coordinator_id: None,
            coordinator_phone: None,
            hit_on: None,
        };
        let cases = &self.app.services().cases;
        let case = cases.open(&coordinator.coordinator().unwrap(), &coordinator, new, None).await.unwrap();
        (case.id, coordinator)
    }

    /// Sets a branch's quiet hours, in minutes after local midnight; `start == end` is a window
    /// that never holds, for tests whose delivery must not depend on the hour they run.
    pub async fn set_quiet_hours(&self, branch: &str, start: i32, end: i32) {
        use sea_orm::{ActiveModelTrait, EntityTrait, Set};
        let mut row: entity::branch::ActiveModel =
            entity::branch::Entity::find_by_id(branch.to_owned()).one(self.app.db()).await.unwrap().unwrap().into();
        row.quiet_hours_start = Set(start);
        row.quiet_hours_end = Set(end);
        row.update(self.app.db()).await.unwrap();
        self.app.messaging().catalog().invalidate();
    }

    /// Makes a volunteer's last confirmation `days` old, as time passing would.
    pub async fn age_confirmation(&self, id: uuid::Uuid, days: i64) {
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::volunteer::Entity::update_many()
            .col_expr(
                entity::volunteer::Column::LastConfirmedAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::days(days)),
            )
            .filter(entity::volunteer::Column::Id.eq(id))
            .exec(self.app.db())
            .await
            .unwrap();
    }

    /// Runs `query` in-process as `principal` and returns its data, failing on any error.
    pub async fn data_as(
        &self,
        principal: &api::service::Principal,
        query: &str,
        variables: serde_json::Value,
    ) -> serde_json::Value {
        let response = self.response_as(principal, query, variables).await;
        assert!(response.get("errors").is_none(), "{query}: {response}");
        response["data"].clone()
    }

    /// Runs `query` in-process as `principal` and returns the whole response as JSON.
    pub async fn response_as(
        &self,
        principal: &api::service::Principal,
        query: &str,
        variables: serde_json::Value,
    ) -> serde_json::Value {
        let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
        serde_json::to_value(self.execute_as(principal.clone(), request).await).unwrap()
    }

    /// Delivers what is queued and returns the latest sign-in code the development gateway
    /// "sent" to `phone` (E.164), as a developer reads it from `developmentSms`.
    pub async fn latest_code(&self, phone: &str) -> Option<String> {
        self.deliver(&["login_code"]).await;
        let sent = self.app.messaging().development_sms()?.recent(phone, 1).into_iter().next()?;
        (sent.template_key == "login_code").then(|| sent.params.first().cloned()).flatten()
    }

    /// Delivers what is queued until no message of `templates` is in flight: a served app's own
    /// workers may hold one mid-delivery, so this waits for them too.
    pub async fn deliver(&self, templates: &[&str]) {
        use entity::outbound_message::{Column, Entity, Status};
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let messaging = self.app.messaging();
        for _ in 0..500 {
            while messaging.deliver_batch("test").await.unwrap() > 0 {}
            let in_flight = Entity::find()
                .filter(Column::TemplateKey.is_in(templates.iter().copied()))
                .filter(Column::Status.is_in([Status::Queued, Status::Claimed, Status::Sending]))
                .count(self.app.db())
                .await
                .unwrap();
            if in_flight == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Starts the HTTP server on a free loopback port.
    pub async fn serve(&self) -> Server {
        Server::start((*self.app).clone()).await
    }

    /// Serves on `listener`, bound before the app was built.
    #[must_use]
    pub fn serve_on(&self, listener: tokio::net::TcpListener) -> Server {
        Server::start_on((*self.app).clone(), listener)
    }
}

/// A staff caller of `role` (`national_admin`, `branch_coordinator`, …) in `branch`, for
/// in-process calls: what the HTTP handler would make of their token.
#[must_use]
pub fn staff(role: &str, branch: &str) -> api::service::Principal {
    api::service::Principal::Staff {
        id: uuid::Uuid::now_v7(),
        role: api::service::StaffRole::parse(role).unwrap(),
        branch: branch.into(),
    }
}

/// An SMS-only campaign of the `recommitment` template (zh-CN, no shared variables, no cap,
/// a 7-day answer window) to `segment`, for in-process calls.
#[must_use]
pub fn sms_recommitment(
    name: &str,
    segment: api::service::retention::VolunteerFilter,
) -> api::service::retention::CampaignDefinition {
    api::service::retention::CampaignDefinition {
        name: name.into(),
        segment,
        template_key: "recommitment".into(),
        locale: "zh-CN".into(),
        variables: std::collections::BTreeMap::new(),
        sms: true,
        app_inbox: false,
        max_recipients: None,
        response_window_days: Some(7),
    }
}

/// The `extensions.field` of a response's first error.
#[must_use]
pub fn error_field(response: &serde_json::Value) -> String {
    response["errors"][0]["extensions"]["field"].as_str().unwrap_or_default().to_owned()
}

/// The password of the staff accounts [`TestApp::staff_token`] creates.
pub const STAFF_PASSWORD: &str = "correct horse battery staple";

/// A volunteer a test registered, with what only the test may know in clear.
#[derive(Clone, Debug)]
pub struct Registered {
    pub id: uuid::Uuid,
    /// E.164.
    pub phone: String,
    pub national_id: String,
}

/// The `extensions.code` of each error of a response.
#[must_use]
pub fn error_codes(response: &serde_json::Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| errors.iter().filter_map(|err| err["extensions"]["code"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The input field the first error names, when it names one.
#[must_use]
pub fn field_of(response: &serde_json::Value) -> Option<&str> {
    response["errors"][0]["extensions"]["field"].as_str()
}

/// Beijing's today, plus `days`: the calendar the registry dates steps and admissions by.
#[must_use]
pub fn in_days(days: i64) -> chrono::NaiveDate {
    api::domain::calendar::today(chrono::Utc::now()) + chrono::Duration::days(days)
}
