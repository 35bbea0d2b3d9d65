//! Donation cases: from a patient's search hit to ten years of follow-up.
//!
//! `donation_case`: one volunteer matched for one patient. The patient is a reference code
//! only (the registry never holds the patient's name or diagnosis), with the sex and age band
//! the coordinator may share with the donor. The current stage, and when a case ended early,
//! the stage it ended at, whose side ended it and the coded cause, are plain columns: regret is
//! data the branch counts. At most one case per volunteer is active (a partial unique index).
//! Withdrawal unlinks a case from the volunteer (the id and the sealed note go) and keeps the
//! rest, which names no one, so the regret figures stay whole.
//!
//! `case_milestone`: each step recorded, with its date and who recorded it.
//!
//! `case_request`: a family concern or a question, raised by the coordinator or by the donor in
//! the app, with the family session booked for it and its outcome (sealed).
//!
//! `case_follow_up`: the check-ups after collection (day 2, week 1, month 1, month 6, then
//! yearly for ten years), each with the donor's answers to the health questionnaire (sealed:
//! health data).
//!
//! `case_stage_deadline`: how long each stage may wait for its next step, per branch.
//!
//! `case_figures`: the regret figures per month and branch, kept by the rollup job.
//!
//! `contact_attempt.case_id`: attempts to reach a donor for a case share the attempt log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    blob_null, boolean, date, date_null, integer, string, string_len, string_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid, uuid_null,
};

use crate::{Template, create_index, remove_templates, seed_templates};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DonationCase {
    Table,
    Id,
    VolunteerId,
    BranchCode,
    RequestingHospitalId,
    RequestingCentre,
    PatientReference,
    PatientSex,
    PatientAgeBand,
    PatientShared,
    Product,
    Urgency,
    CoordinatorId,
    CoordinatorPhone,
    State,
    Stage,
    StageOn,
    StageDueAt,
    OverdueAlertedAt,
    StaleContact,
    OpenedAt,
    OpenedBy,
    EndedAt,
    EndedStage,
    EndedBy,
    EndCause,
    EndNote,
    LateRegret,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CaseMilestone {
    Table,
    Id,
    CaseId,
    Stage,
    OccurredOn,
    RecordedAt,
    RecordedBy,
}

#[derive(DeriveIden)]
enum CaseRequest {
    Table,
    Id,
    CaseId,
    VolunteerId,
    BranchCode,
    Kind,
    RaisedBy,
    Detail,
    RaisedAt,
    SessionOn,
    SessionAttendees,
    ResolvedAt,
    ResolvedBy,
    Outcome,
}

#[derive(DeriveIden)]
enum CaseFollowUp {
    Table,
    Id,
    CaseId,
    VolunteerId,
    BranchCode,
    Checkpoint,
    DueOn,
    RemindedAt,
    AnsweredAt,
    Answers,
}

#[derive(DeriveIden)]
enum CaseStageDeadline {
    Table,
    BranchCode,
    Stage,
    ResponseDays,
}

#[derive(DeriveIden)]
enum CaseFigures {
    Table,
    BranchCode,
    Month,
    Figures,
    ComputedAt,
}

#[derive(DeriveIden)]
enum ContactAttempt {
    Table,
    CaseId,
}

#[derive(DeriveIden)]
enum Branch {
    Table,
    Code,
    CaseFailedAttempts,
    DonationRestDays,
}

/// How many days each stage waits for its next step before the coordinator is alerted, for
/// every branch to start from: a donor is called within two days of a search hit, a typing
/// sample is taken within a week, and so on.
const STAGE_DEADLINES: [(&str, i32); 11] = [
    ("search_hit", 2),
    ("ct_requested", 7),
    ("ct_sample_taken", 21),
    ("ct_result", 14),
    ("info_session", 14),
    ("exam_booked", 14),
    ("exam_passed", 14),
    ("clearance", 14),
    ("gcsf_start", 5),
    ("collection", 30),
    ("transplant", 30),
];

const TEMPLATES: [Template; 4] = [
    (
        "follow_up_due",
        "zh-CN",
        "non_essential",
        "{name}您好，感谢您的捐献。您的{checkpoint}健康随访已到期，请在App中填写简短问卷，如有不适请联系分库。",
    ),
    (
        "follow_up_due",
        "en",
        "non_essential",
        "Hello {name}, thank you for donating. Your {checkpoint} health check-up is due: please answer the short questionnaire in the app, and call the branch if you feel unwell.",
    ),
    (
        "case_step_done",
        "zh-CN",
        "non_essential",
        "您的捐献流程已进入新的一步：{step}。详情请查看App，如有疑问请联系您的协调员。",
    ),
    (
        "case_step_done",
        "en",
        "non_essential",
        "Your donation has reached a new step: {step}. See the app for details, and call your coordinator with any question.",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_cases(manager).await?;
        create_case_parts(manager).await?;
        let mut case = uuid_null(ContactAttempt::CaseId);
        manager.alter_table(Table::alter().table(ContactAttempt::Table).add_column(&mut case).to_owned()).await?;
        create_index(manager, "ix_contact_attempt_case", ContactAttempt::Table, [ContactAttempt::CaseId]).await?;
        for mut column in [
            integer(Branch::CaseFailedAttempts).default(3).to_owned(),
            integer(Branch::DonationRestDays).default(730).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Branch::Table).add_column(&mut column).to_owned()).await?;
        }
        seed_deadlines(manager).await?;
        seed_templates(manager, &TEMPLATES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DonationCase::Table.into_iden(),
            CaseMilestone::Table.into_iden(),
            CaseRequest::Table.into_iden(),
            CaseFollowUp::Table.into_iden(),
            CaseStageDeadline::Table.into_iden(),
            CaseFigures::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager
            .drop_index(Index::drop().name("ix_contact_attempt_case").table(ContactAttempt::Table).to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table(ContactAttempt::Table).drop_column(ContactAttempt::CaseId).to_owned())
            .await?;
        for column in [Branch::CaseFailedAttempts, Branch::DonationRestDays] {
            manager.alter_table(Table::alter().table(Branch::Table).drop_column(column).to_owned()).await?;
        }
        remove_templates(manager, &TEMPLATES).await
    }
}

async fn create_cases(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(DonationCase::Table)
                .col(uuid(DonationCase::Id).primary_key())
                .col(uuid_null(DonationCase::VolunteerId))
                .col(string_len(DonationCase::BranchCode, 2))
                .col(uuid_null(DonationCase::RequestingHospitalId))
                .col(string_null(DonationCase::RequestingCentre))
                .col(string(DonationCase::PatientReference))
                .col(string_null(DonationCase::PatientSex))
                .col(string_null(DonationCase::PatientAgeBand))
                .col(boolean(DonationCase::PatientShared))
                .col(string(DonationCase::Product))
                .col(string(DonationCase::Urgency))
                .col(uuid(DonationCase::CoordinatorId))
                .col(string_null(DonationCase::CoordinatorPhone))
                .col(string(DonationCase::State))
                .col(string(DonationCase::Stage))
                .col(date(DonationCase::StageOn))
                .col(timestamp_with_time_zone_null(DonationCase::StageDueAt))
                .col(timestamp_with_time_zone_null(DonationCase::OverdueAlertedAt))
                .col(boolean(DonationCase::StaleContact))
                .col(timestamp_with_time_zone(DonationCase::OpenedAt))
                .col(uuid(DonationCase::OpenedBy))
                .col(timestamp_with_time_zone_null(DonationCase::EndedAt))
                .col(string_null(DonationCase::EndedStage))
                .col(string_null(DonationCase::EndedBy))
                .col(string_null(DonationCase::EndCause))
                .col(blob_null(DonationCase::EndNote))
                .col(boolean(DonationCase::LateRegret))
                .col(timestamp_with_time_zone(DonationCase::UpdatedAt))
                .to_owned(),
        )
        .await?;
    // The case list: a branch's cases by state and stage, newest first.
    create_index(
        manager,
        "ix_donation_case_list",
        DonationCase::Table,
        [DonationCase::BranchCode, DonationCase::State, DonationCase::Stage, DonationCase::OpenedAt],
    )
    .await?;
    create_index(manager, "ix_donation_case_volunteer", DonationCase::Table, [DonationCase::VolunteerId]).await?;
    create_index(manager, "ix_donation_case_hospital", DonationCase::Table, [DonationCase::RequestingHospitalId])
        .await?;
    create_index(manager, "ix_donation_case_due", DonationCase::Table, [DonationCase::State, DonationCase::StageDueAt])
        .await?;
    // One active case per volunteer, whatever races the service's own check: PostgreSQL and
    // SQLite both take a partial index, which sea-query does not write.
    manager
        .get_connection()
        .execute_unprepared(
            "CREATE UNIQUE INDEX ux_donation_case_active ON donation_case (volunteer_id) WHERE state = 'active'",
        )
        .await?;
    Ok(())
}

async fn create_case_parts(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(CaseMilestone::Table)
                .col(uuid(CaseMilestone::Id).primary_key())
                .col(uuid(CaseMilestone::CaseId))
                .col(string(CaseMilestone::Stage))
                .col(date(CaseMilestone::OccurredOn))
                .col(timestamp_with_time_zone(CaseMilestone::RecordedAt))
                .col(uuid(CaseMilestone::RecordedBy))
                .to_owned(),
        )
        .await?;
    create_index(manager, "ix_case_milestone_case", CaseMilestone::Table, [CaseMilestone::CaseId]).await?;
    manager
        .create_table(
            Table::create()
                .table(CaseRequest::Table)
                .col(uuid(CaseRequest::Id).primary_key())
                .col(uuid(CaseRequest::CaseId))
                .col(uuid(CaseRequest::VolunteerId))
                .col(string_len(CaseRequest::BranchCode, 2))
                .col(string(CaseRequest::Kind))
                .col(string(CaseRequest::RaisedBy))
                .col(blob_null(CaseRequest::Detail))
                .col(timestamp_with_time_zone(CaseRequest::RaisedAt))
                .col(date_null(CaseRequest::SessionOn))
                .col(blob_null(CaseRequest::SessionAttendees))
                .col(timestamp_with_time_zone_null(CaseRequest::ResolvedAt))
                .col(uuid_null(CaseRequest::ResolvedBy))
                .col(blob_null(CaseRequest::Outcome))
                .to_owned(),
        )
        .await?;
    create_index(manager, "ix_case_request_case", CaseRequest::Table, [CaseRequest::CaseId]).await?;
    create_index(manager, "ix_case_request_volunteer", CaseRequest::Table, [CaseRequest::VolunteerId]).await?;
    manager
        .create_table(
            Table::create()
                .table(CaseFollowUp::Table)
                .col(uuid(CaseFollowUp::Id).primary_key())
                .col(uuid(CaseFollowUp::CaseId))
                .col(uuid(CaseFollowUp::VolunteerId))
                .col(string_len(CaseFollowUp::BranchCode, 2))
                .col(string(CaseFollowUp::Checkpoint))
                .col(date(CaseFollowUp::DueOn))
                .col(timestamp_with_time_zone_null(CaseFollowUp::RemindedAt))
                .col(timestamp_with_time_zone_null(CaseFollowUp::AnsweredAt))
                .col(blob_null(CaseFollowUp::Answers))
                .index(Index::create().unique().col(CaseFollowUp::CaseId).col(CaseFollowUp::Checkpoint))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "ix_case_follow_up_due",
        CaseFollowUp::Table,
        [CaseFollowUp::BranchCode, CaseFollowUp::DueOn],
    )
    .await?;
    create_index(manager, "ix_case_follow_up_volunteer", CaseFollowUp::Table, [CaseFollowUp::VolunteerId]).await?;
    manager
        .create_table(
            Table::create()
                .table(CaseStageDeadline::Table)
                .col(string_len(CaseStageDeadline::BranchCode, 2))
                .col(string(CaseStageDeadline::Stage))
                .col(integer(CaseStageDeadline::ResponseDays))
                .primary_key(Index::create().col(CaseStageDeadline::BranchCode).col(CaseStageDeadline::Stage))
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(CaseFigures::Table)
                .col(string_len(CaseFigures::BranchCode, 2))
                .col(date(CaseFigures::Month))
                .col(string(CaseFigures::Figures))
                .col(timestamp_with_time_zone(CaseFigures::ComputedAt))
                .primary_key(Index::create().col(CaseFigures::BranchCode).col(CaseFigures::Month))
                .to_owned(),
        )
        .await?;
    Ok(())
}

/// Every branch starts from [`STAGE_DEADLINES`].
async fn seed_deadlines(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    for (stage, days) in STAGE_DEADLINES {
        let select = Query::select()
            .column(Branch::Code)
            .expr(Expr::val(stage))
            .expr(Expr::val(days))
            .from(Branch::Table)
            .to_owned();
        let insert = Query::insert()
            .into_table(CaseStageDeadline::Table)
            .columns([CaseStageDeadline::BranchCode, CaseStageDeadline::Stage, CaseStageDeadline::ResponseDays])
            .select_from(select)
            .map_err(|err| DbErr::Migration(err.to_string()))?
            .to_owned();
        manager.exec_stmt(insert).await?;
    }
    Ok(())
}
