//! Retention operations: each branch's rules for stale contacts and lost volunteers,
//! campaigns and their recipients, the lost-contact work queue, the monthly attrition
//! rollups, exports that wait for a second staff member, and the leases that let one replica
//! run a scheduled job.
//!
//! No personal value is stored here in clear: campaign segments and export filters refuse
//! exact personal filters (an ID number, a phone, a name) before they are written.
//!
//! Campaign recipients and work-queue entries are derived rows written in bulk (a campaign of
//! 100,000, a queue of 800,000), so they carry no foreign keys, whose per-row checks would
//! cost more than the insert itself; erasing a volunteer deletes theirs explicitly.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, date, integer, integer_null, string, string_len, string_len_null, string_null, text,
    timestamp_with_time_zone, timestamp_with_time_zone_null, uuid, uuid_null,
};

use crate::create_index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Branch {
    Table,
    Code,
    StaleContactDays,
    LostAfterAttempts,
    LostAttemptWindowDays,
    CampaignResponseDays,
}

#[derive(DeriveIden)]
enum Campaign {
    Table,
    Id,
    BranchCode,
    Name,
    TemplateKey,
    Locale,
    Variables,
    Sms,
    AppInbox,
    Segment,
    MaxRecipients,
    ResponseWindowDays,
    Status,
    Recipients,
    Queued,
    CreatedBy,
    CreatedAt,
    LaunchedBy,
    LaunchedAt,
    WindowClosesAt,
    QueuedAt,
    CancelledAt,
    LeaseUntil,
}

#[derive(DeriveIden)]
enum CampaignRecipient {
    Table,
    CampaignId,
    VolunteerId,
    BranchCode,
    QueuedAt,
    Response,
    RespondedAt,
}

#[derive(DeriveIden)]
enum LostContactEntry {
    Table,
    VolunteerId,
    BranchCode,
    Reasons,
    Priority,
    EnteredAt,
    RefreshedAt,
}

#[derive(DeriveIden)]
enum AttritionRollup {
    Table,
    BranchCode,
    Month,
    Volunteers,
    Pending,
    Available,
    Unavailable,
    Lost,
    Reserved,
    Reachable,
    Withdrawn,
    CampaignRecipients,
    CampaignReplies,
    StillWilling,
    Paused,
    OptedOut,
    ComputedAt,
}

#[derive(DeriveIden)]
enum VolunteerExport {
    Table,
    Id,
    BranchCode,
    Filter,
    Purpose,
    Rows,
    Status,
    RequestedBy,
    RequestedAt,
    ApprovedBy,
    ApprovedAt,
    ExpiresAt,
    Downloads,
}

#[derive(DeriveIden)]
enum JobLease {
    Table,
    Name,
    StartedAt,
    LeaseUntil,
}

fn to_branch(table: impl IntoIden, column: impl IntoIden, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(table, column).to(Branch::Table, Branch::Code).to_owned()
}

async fn add_branch_rules(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    // SQLite takes one column per ALTER TABLE.
    for mut column in [
        integer(Branch::StaleContactDays).default(365).to_owned(),
        integer(Branch::LostAfterAttempts).default(3).to_owned(),
        integer(Branch::LostAttemptWindowDays).default(30).to_owned(),
        integer(Branch::CampaignResponseDays).default(14).to_owned(),
    ] {
        manager.alter_table(Table::alter().table(Branch::Table).add_column(&mut column).to_owned()).await?;
    }
    Ok(())
}

async fn create_campaigns(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Campaign::Table)
                .col(uuid(Campaign::Id).primary_key())
                .col(string_len_null(Campaign::BranchCode, 2))
                .col(string(Campaign::Name))
                .col(string(Campaign::TemplateKey))
                .col(string(Campaign::Locale))
                .col(text(Campaign::Variables))
                .col(boolean(Campaign::Sms))
                .col(boolean(Campaign::AppInbox))
                .col(text(Campaign::Segment))
                .col(integer_null(Campaign::MaxRecipients))
                .col(integer(Campaign::ResponseWindowDays))
                .col(string(Campaign::Status))
                .col(integer(Campaign::Recipients).default(0))
                .col(integer(Campaign::Queued).default(0))
                .col(uuid(Campaign::CreatedBy))
                .col(timestamp_with_time_zone(Campaign::CreatedAt))
                .col(uuid_null(Campaign::LaunchedBy))
                .col(timestamp_with_time_zone_null(Campaign::LaunchedAt))
                .col(timestamp_with_time_zone_null(Campaign::WindowClosesAt))
                .col(timestamp_with_time_zone_null(Campaign::QueuedAt))
                .col(timestamp_with_time_zone_null(Campaign::CancelledAt))
                .col(timestamp_with_time_zone_null(Campaign::LeaseUntil))
                .foreign_key(&mut to_branch(Campaign::Table, Campaign::BranchCode, "fk_campaign_branch"))
                .to_owned(),
        )
        .await?;
    create_index(manager, "ix_campaign_branch", Campaign::Table, [Campaign::BranchCode, Campaign::CreatedAt]).await?;
    create_index(manager, "ix_campaign_status", Campaign::Table, [Campaign::Status]).await?;
    manager
        .create_table(
            Table::create()
                .table(CampaignRecipient::Table)
                .col(uuid(CampaignRecipient::CampaignId))
                .col(uuid(CampaignRecipient::VolunteerId))
                .col(string_len(CampaignRecipient::BranchCode, 2))
                .col(timestamp_with_time_zone_null(CampaignRecipient::QueuedAt))
                .col(string_null(CampaignRecipient::Response))
                .col(timestamp_with_time_zone_null(CampaignRecipient::RespondedAt))
                .primary_key(Index::create().col(CampaignRecipient::CampaignId).col(CampaignRecipient::VolunteerId))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "ix_campaign_recipient_volunteer",
        CampaignRecipient::Table,
        [CampaignRecipient::VolunteerId, CampaignRecipient::CampaignId],
    )
    .await
}

async fn create_work_queue_and_rollups(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(LostContactEntry::Table)
                .col(uuid(LostContactEntry::VolunteerId).primary_key())
                .col(string_len(LostContactEntry::BranchCode, 2))
                .col(integer(LostContactEntry::Reasons))
                .col(integer(LostContactEntry::Priority))
                .col(timestamp_with_time_zone(LostContactEntry::EnteredAt))
                .col(timestamp_with_time_zone(LostContactEntry::RefreshedAt))
                .to_owned(),
        )
        .await?;
    // The queue is read highest priority first, longest waiting first, within a branch or
    // nationally: one index for each, each a keyset range scan.
    create_index(
        manager,
        "ix_lost_contact_entry_branch_order",
        LostContactEntry::Table,
        [
            LostContactEntry::BranchCode,
            LostContactEntry::Priority,
            LostContactEntry::EnteredAt,
            LostContactEntry::VolunteerId,
        ],
    )
    .await?;
    create_index(
        manager,
        "ix_lost_contact_entry_order",
        LostContactEntry::Table,
        [LostContactEntry::Priority, LostContactEntry::EnteredAt, LostContactEntry::VolunteerId],
    )
    .await?;
    let mut rollup = Table::create();
    rollup
        .table(AttritionRollup::Table)
        .col(string_len(AttritionRollup::BranchCode, 2))
        .col(date(AttritionRollup::Month));
    for column in [
        AttritionRollup::Volunteers,
        AttritionRollup::Pending,
        AttritionRollup::Available,
        AttritionRollup::Unavailable,
        AttritionRollup::Lost,
        AttritionRollup::Reserved,
        AttritionRollup::Reachable,
        AttritionRollup::Withdrawn,
        AttritionRollup::CampaignRecipients,
        AttritionRollup::CampaignReplies,
        AttritionRollup::StillWilling,
        AttritionRollup::Paused,
        AttritionRollup::OptedOut,
    ] {
        rollup.col(integer(column).default(0));
    }
    manager
        .create_table(
            rollup
                .col(timestamp_with_time_zone(AttritionRollup::ComputedAt))
                .primary_key(Index::create().col(AttritionRollup::BranchCode).col(AttritionRollup::Month))
                .foreign_key(&mut to_branch(
                    AttritionRollup::Table,
                    AttritionRollup::BranchCode,
                    "fk_attrition_rollup_branch",
                ))
                .to_owned(),
        )
        .await
}

async fn create_exports_and_leases(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(VolunteerExport::Table)
                .col(uuid(VolunteerExport::Id).primary_key())
                .col(string_len_null(VolunteerExport::BranchCode, 2))
                .col(text(VolunteerExport::Filter))
                .col(string(VolunteerExport::Purpose))
                .col(integer(VolunteerExport::Rows))
                .col(string(VolunteerExport::Status))
                .col(uuid(VolunteerExport::RequestedBy))
                .col(timestamp_with_time_zone(VolunteerExport::RequestedAt))
                .col(uuid_null(VolunteerExport::ApprovedBy))
                .col(timestamp_with_time_zone_null(VolunteerExport::ApprovedAt))
                .col(timestamp_with_time_zone(VolunteerExport::ExpiresAt))
                .col(integer(VolunteerExport::Downloads).default(0))
                .foreign_key(&mut to_branch(
                    VolunteerExport::Table,
                    VolunteerExport::BranchCode,
                    "fk_volunteer_export_branch",
                ))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "ix_volunteer_export_branch",
        VolunteerExport::Table,
        [VolunteerExport::BranchCode, VolunteerExport::RequestedAt],
    )
    .await?;
    manager
        .create_table(
            Table::create()
                .table(JobLease::Table)
                .col(string(JobLease::Name).primary_key())
                .col(timestamp_with_time_zone(JobLease::StartedAt))
                .col(timestamp_with_time_zone(JobLease::LeaseUntil))
                .to_owned(),
        )
        .await
}

/// The few volunteers a channel cannot reach, for the campaign preview to subtract from a
/// segment of any size. Partial indexes read the same on PostgreSQL and SQLite.
const UNREACHABLE_INDEXES: [(&str, &str); 3] = [
    ("ix_volunteer_sms_off", "CREATE INDEX ix_volunteer_sms_off ON volunteer (id) WHERE sms_non_essential = false"),
    (
        "ix_volunteer_inbox_off",
        "CREATE INDEX ix_volunteer_inbox_off ON volunteer (id) WHERE inbox_non_essential = false",
    ),
    (
        "ix_volunteer_contact_invalid",
        "CREATE INDEX ix_volunteer_contact_invalid ON volunteer_contact (volunteer_id) WHERE invalid_at IS NOT NULL",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (_, statement) in UNREACHABLE_INDEXES {
            manager.get_connection().execute_unprepared(statement).await?;
        }
        add_branch_rules(manager).await?;
        create_campaigns(manager).await?;
        create_work_queue_and_rollups(manager).await?;
        create_exports_and_leases(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in UNREACHABLE_INDEXES {
            manager.get_connection().execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        for table in [
            JobLease::Table.into_iden(),
            VolunteerExport::Table.into_iden(),
            AttritionRollup::Table.into_iden(),
            LostContactEntry::Table.into_iden(),
            CampaignRecipient::Table.into_iden(),
            Campaign::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        for column in [
            Branch::StaleContactDays,
            Branch::LostAfterAttempts,
            Branch::LostAttemptWindowDays,
            Branch::CampaignResponseDays,
        ] {
            manager.alter_table(Table::alter().table(Branch::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
