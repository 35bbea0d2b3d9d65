//! Migrations that carry data over, run from the schema before them on both databases: an
//! in-flight campaign keeps its place when the launcher's per-recipient stamps become one
//! cursor, and going back down stamps the recipients the cursor had passed; and its launch
//! becomes a job when background work moves onto the job engine.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use chrono::Utc;
use entity::{campaign, job};
use migration::{Migrator, MigratorTrait};
use registry_tests::both_backends;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Statement, Value};
use uuid::Uuid;

/// Migrations applied before the campaign cursor (0010).
const BEFORE_THE_CURSOR: u32 = 9;

async fn execute(db: &DatabaseConnection, sql: &str, values: Vec<Value>) {
    db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, values)).await.unwrap();
}

/// Placeholders `$1, $2, …` on PostgreSQL and `?` on SQLite.
fn placeholders(db: &DatabaseConnection, count: usize) -> String {
    let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;
    (1..=count).map(|n| if postgres { format!("${n}") } else { "?".to_owned() }).collect::<Vec<_>>().join(", ")
}

both_backends! {
    async fn an_in_flight_campaign_keeps_its_place_across_the_cursor_migration_and_back(db) {
        let app = db.app_with(|settings| settings.database.migrate_on_start = false).await;
        let conn = app.app.db();
        Migrator::up(conn, Some(BEFORE_THE_CURSOR)).await.unwrap();

        // A launch stopped after stamping its first three recipients (in volunteer order).
        let now = Utc::now();
        let id = Uuid::now_v7();
        let campaign_sql = format!(
            "INSERT INTO campaign (id, branch_code, name, template_key, locale, variables, sms, app_inbox, segment, \
             response_window_days, status, recipients, queued, created_by, created_at, launched_at) VALUES ({})",
            placeholders(conn, 16)
        );
        let values: Vec<Value> = vec![
            id.into(), "51".into(), "续约".into(), "recommitment".into(), "zh-CN".into(), "{}".into(), true.into(),
            false.into(), "{}".into(), 7.into(), "launching".into(), 5.into(), 3.into(), Uuid::now_v7().into(),
            now.into(), now.into(),
        ];
        execute(conn, &campaign_sql, values).await;
        let mut recipients: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
        recipients.sort();
        let recipient_sql = format!(
            "INSERT INTO campaign_recipient (campaign_id, volunteer_id, branch_code, queued_at) VALUES ({})",
            placeholders(conn, 4)
        );
        for (n, recipient) in recipients.iter().enumerate() {
            let queued_at: Option<chrono::DateTime<Utc>> = (n < 3).then_some(now);
            execute(conn, &recipient_sql, vec![id.into(), (*recipient).into(), "51".into(), queued_at.into()]).await;
        }

        Migrator::up(conn, None).await.unwrap();
        let migrated = campaign::Entity::find_by_id(id).one(conn).await.unwrap().unwrap();
        assert_eq!(migrated.queued_through, Some(recipients[2]), "the launcher resumes after the last stamped");
        let launch = job::Entity::find().filter(job::Column::SubjectId.eq(id)).one(conn).await.unwrap().unwrap();
        assert_eq!((launch.kind.as_str(), launch.status), ("campaign.launch", job::JobStatus::Queued), "its launch is a job");

        // Down through the cursor migration, and the ones after it.
        let since_the_cursor = u32::try_from(Migrator::migrations().len()).unwrap() - BEFORE_THE_CURSOR;
        Migrator::down(conn, Some(since_the_cursor)).await.unwrap();
        let stamped = conn
            .query_all_raw(Statement::from_string(
                conn.get_database_backend(),
                "SELECT queued_at IS NOT NULL AS stamped FROM campaign_recipient ORDER BY volunteer_id",
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get::<bool>("", "stamped").unwrap())
            .collect::<Vec<_>>();
        assert_eq!(stamped, [true, true, true, false, false]);
        Migrator::up(conn, None).await.unwrap();
        let again = campaign::Entity::find_by_id(id).one(conn).await.unwrap().unwrap();
        assert_eq!(again.queued_through, Some(recipients[2]), "up after down lands in the same place");
    }
}
