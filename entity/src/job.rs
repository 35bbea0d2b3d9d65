//! A unit of background work on the durable queue: what to do (`kind`), about which row
//! (`subject_id`), and where it stands.

use sea_orm::entity::prelude::*;

/// Where a job stands. A claim is only an intention, retaken when its lease runs out; a job
/// handed over to the outside world is never run again, and is dead-lettered if its worker
/// vanished before recording the outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum JobStatus {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "claimed")]
    Claimed,
    #[sea_orm(string_value = "handed_over")]
    HandedOver,
    #[sea_orm(string_value = "done")]
    Done,
    /// Out of attempts, or its outcome is unknown: a coordinator or operator looks at it.
    #[sea_orm(string_value = "dead")]
    Dead,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The handler that runs it, for example `campaign.launch`.
    pub kind: String,
    /// The row the job is about; a kind holds one job per subject.
    pub subject_id: Option<Uuid>,
    /// The branch whose coordinators hear of it if it dies.
    pub branch_code: Option<String>,
    /// What else the handler needs, as JSON; never personal data (the subject row holds it).
    #[sea_orm(column_type = "Text", nullable)]
    pub payload: Option<String>,
    pub status: JobStatus,
    /// Claims so far, counted when claimed, so a job that kills its worker every time still dies.
    pub attempts: i32,
    pub max_attempts: i32,
    /// Not claimed before this.
    pub run_at: DateTimeUtc,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
