//! One durable queue for work that leaves the request (`job`): campaign launches today,
//! webhook deliveries, case deadlines and letter work next. A job is claimed with a lease that
//! another worker retakes when it runs out, retried with backoff, and dead-lettered after its
//! last attempt. Outbound messages keep their own table (they are the bulk of the traffic and
//! carry their provider's state) but are claimed by the same code, through the same columns.
//!
//! A job names the row it is about (`subject_id`), and a kind holds at most one job per
//! subject, so enqueueing twice in two racing transactions leaves one.
//!
//! Campaigns still launching keep going: each gets its launch job, with the campaign's id as
//! the job's (no job exists before this migration, so the ids cannot meet), and their launcher
//! lease on the campaign row is no longer read.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    integer, string, string_len_null, string_null, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
    uuid, uuid_null,
};

use crate::create_index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Job {
    Table,
    Id,
    Kind,
    SubjectId,
    BranchCode,
    Payload,
    Status,
    Attempts,
    MaxAttempts,
    RunAt,
    ClaimedBy,
    ClaimedUntil,
    LastError,
    CreatedAt,
    FinishedAt,
}

const LAUNCHES_IN_FLIGHT: &str = "INSERT INTO job \
     (id, kind, subject_id, branch_code, status, attempts, max_attempts, run_at, created_at) \
     SELECT id, 'campaign.launch', id, branch_code, 'queued', 0, 10, launched_at, launched_at \
     FROM campaign WHERE status = 'launching'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// The table and the launches it takes over exist together or not at all.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Job::Table)
                    .col(uuid(Job::Id).primary_key())
                    .col(string(Job::Kind))
                    .col(uuid_null(Job::SubjectId))
                    .col(string_len_null(Job::BranchCode, 2))
                    .col(text_null(Job::Payload))
                    .col(string(Job::Status))
                    .col(integer(Job::Attempts))
                    .col(integer(Job::MaxAttempts))
                    .col(timestamp_with_time_zone(Job::RunAt))
                    .col(string_null(Job::ClaimedBy))
                    .col(timestamp_with_time_zone_null(Job::ClaimedUntil))
                    .col(text_null(Job::LastError))
                    .col(timestamp_with_time_zone(Job::CreatedAt))
                    .col(timestamp_with_time_zone_null(Job::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_job_kind_subject")
                    .table(Job::Table)
                    .col(Job::Kind)
                    .col(Job::SubjectId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        create_index(manager, "ix_job_due", Job::Table, [Job::Kind, Job::Status, Job::RunAt]).await?;
        manager.get_connection().execute_unprepared(LAUNCHES_IN_FLIGHT).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Job::Table).to_owned()).await
    }
}
