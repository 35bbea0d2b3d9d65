//! What the mobile app's self-service needs: branch rules for enrolment and availability,
//! enrolment tickets, backup contacts, family members, coordinator alerts, and the tombstones
//! that withdrawals leave behind.
//!
//! A withdrawal deletes the volunteer row and everything hanging from it; what the registry
//! may keep (DE, reason, date) moves to `volunteer_tombstone`, which holds no personal data.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    blob, blob_null, boolean, integer, string, string_len, string_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid, uuid_null,
};

use crate::{Template, create_index, remove_templates, seed_templates};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Branch {
    Table,
    Code,
    CoolingOffDays,
    ConfirmIntervalMonths,
    MaxPauseDays,
    PauseGraceDays,
    ReplyPauseDays,
}

#[derive(DeriveIden)]
enum Volunteer {
    Table,
    Id,
    City,
    LastSignInAt,
    PendingName,
    PendingNameAt,
    SmsNonEssential,
    InboxNonEssential,
}

#[derive(DeriveIden)]
enum SignInCode {
    Table,
    Purpose,
}

#[derive(DeriveIden)]
enum EnrolmentTicket {
    Table,
    Id,
    TicketHash,
    PhoneIndex,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BackupContact {
    Table,
    Id,
    VolunteerId,
    Name,
    Relationship,
    Phone,
    PhoneIndex,
    InformedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FamilyMember {
    Table,
    Id,
    VolunteerId,
    Relationship,
    Name,
    Phone,
    Stance,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StaffAlert {
    Table,
    Id,
    BranchCode,
    VolunteerId,
    Kind,
    CreatedAt,
    ResolvedAt,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    SubjectId,
    At,
}

#[derive(DeriveIden)]
enum VolunteerTombstone {
    Table,
    Id,
    BranchCode,
    StatusReason,
    WithdrawalCause,
    RegisteredAt,
    WithdrawnAt,
}

/// Templates of this migration's messages; like the first ones, non-essential texts end with
/// the opt-out instruction.
const TEMPLATES: [Template; 4] = [
    (
        "backup_contact_informed",
        "zh-CN",
        "non_essential",
        "您好，您的{relationship}{name}登记为中华骨髓库造血干细胞捐献志愿者，并留下您作为备用联系人：若无法联系到本人，工作人员可能致电您。无需任何操作。回复TD退订",
    ),
    (
        "backup_contact_informed",
        "en",
        "non_essential",
        "Hello, your {relationship} {name} has joined the stem cell donor registry and listed you as a backup contact: if they cannot be reached, staff may call you. Nothing to do. Reply TD to opt out",
    ),
    (
        "family_info_pack",
        "zh-CN",
        "non_essential",
        "您好，您的家人{name}是中华骨髓库志愿者，托我们向您介绍造血干细胞捐献：{link} 回复TD退订",
    ),
    (
        "family_info_pack",
        "en",
        "non_essential",
        "Hello, your relative {name} is a stem cell donor volunteer and asked us to tell you about donation: {link} Reply TD to opt out",
    ),
];

async fn add_columns(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    // SQLite takes one column per ALTER TABLE.
    let branch_rules = [
        integer(Branch::CoolingOffDays).default(7).to_owned(),
        integer(Branch::ConfirmIntervalMonths).default(12).to_owned(),
        integer(Branch::MaxPauseDays).default(365).to_owned(),
        integer(Branch::PauseGraceDays).default(14).to_owned(),
        integer(Branch::ReplyPauseDays).default(180).to_owned(),
    ];
    for mut column in branch_rules {
        manager.alter_table(Table::alter().table(Branch::Table).add_column(&mut column).to_owned()).await?;
    }
    let volunteer = [
        string_null(Volunteer::City),
        timestamp_with_time_zone_null(Volunteer::LastSignInAt),
        blob_null(Volunteer::PendingName),
        timestamp_with_time_zone_null(Volunteer::PendingNameAt),
        boolean(Volunteer::SmsNonEssential).default(true).to_owned(),
        boolean(Volunteer::InboxNonEssential).default(true).to_owned(),
    ];
    for mut column in volunteer {
        manager.alter_table(Table::alter().table(Volunteer::Table).add_column(&mut column).to_owned()).await?;
    }
    let mut purpose = string(SignInCode::Purpose).default("sign_in").to_owned();
    manager.alter_table(Table::alter().table(SignInCode::Table).add_column(&mut purpose).to_owned()).await?;
    seed_templates(manager, &TEMPLATES).await
}

/// A foreign key from `table.volunteer_id` to the volunteer, deleted with it.
fn owned_by_volunteer(table: impl IntoIden, column: impl IntoIden, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Volunteer::Table, Volunteer::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn create_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(EnrolmentTicket::Table)
                .col(uuid(EnrolmentTicket::Id).primary_key())
                .col(blob(EnrolmentTicket::TicketHash).unique_key())
                .col(blob(EnrolmentTicket::PhoneIndex))
                .col(timestamp_with_time_zone(EnrolmentTicket::ExpiresAt))
                .col(timestamp_with_time_zone_null(EnrolmentTicket::UsedAt))
                .col(timestamp_with_time_zone(EnrolmentTicket::CreatedAt))
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(BackupContact::Table)
                .col(uuid(BackupContact::Id).primary_key())
                .col(uuid(BackupContact::VolunteerId))
                .col(blob(BackupContact::Name))
                .col(string(BackupContact::Relationship))
                .col(blob(BackupContact::Phone))
                .col(blob(BackupContact::PhoneIndex))
                .col(timestamp_with_time_zone_null(BackupContact::InformedAt))
                .col(timestamp_with_time_zone(BackupContact::CreatedAt))
                .col(timestamp_with_time_zone(BackupContact::UpdatedAt))
                .foreign_key(&mut owned_by_volunteer(
                    BackupContact::Table,
                    BackupContact::VolunteerId,
                    "fk_backup_contact_volunteer",
                ))
                .to_owned(),
        )
        .await?;
    create_index(manager, "ix_backup_contact_volunteer", BackupContact::Table, [BackupContact::VolunteerId]).await?;
    create_index(manager, "ix_backup_contact_phone_index", BackupContact::Table, [BackupContact::PhoneIndex]).await?;
    manager
        .create_table(
            Table::create()
                .table(FamilyMember::Table)
                .col(uuid(FamilyMember::Id).primary_key())
                .col(uuid(FamilyMember::VolunteerId))
                .col(string(FamilyMember::Relationship))
                .col(blob_null(FamilyMember::Name))
                .col(blob_null(FamilyMember::Phone))
                .col(string(FamilyMember::Stance))
                .col(timestamp_with_time_zone(FamilyMember::CreatedAt))
                .col(timestamp_with_time_zone(FamilyMember::UpdatedAt))
                .foreign_key(&mut owned_by_volunteer(
                    FamilyMember::Table,
                    FamilyMember::VolunteerId,
                    "fk_family_member_volunteer",
                ))
                .to_owned(),
        )
        .await?;
    create_index(manager, "ix_family_member_volunteer", FamilyMember::Table, [FamilyMember::VolunteerId]).await
}

async fn create_alerts_and_tombstones(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(StaffAlert::Table)
                .col(uuid(StaffAlert::Id).primary_key())
                .col(string_len(StaffAlert::BranchCode, 2))
                .col(uuid_null(StaffAlert::VolunteerId))
                .col(string(StaffAlert::Kind))
                .col(timestamp_with_time_zone(StaffAlert::CreatedAt))
                .col(timestamp_with_time_zone_null(StaffAlert::ResolvedAt))
                .foreign_key(&mut owned_by_volunteer(
                    StaffAlert::Table,
                    StaffAlert::VolunteerId,
                    "fk_staff_alert_volunteer",
                ))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_staff_alert_branch")
                        .from(StaffAlert::Table, StaffAlert::BranchCode)
                        .to(Branch::Table, Branch::Code),
                )
                .to_owned(),
        )
        .await?;
    create_index(manager, "ix_staff_alert_branch", StaffAlert::Table, [StaffAlert::BranchCode, StaffAlert::CreatedAt])
        .await?;
    manager
        .create_table(
            Table::create()
                .table(VolunteerTombstone::Table)
                .col(uuid(VolunteerTombstone::Id).primary_key())
                .col(string_len(VolunteerTombstone::BranchCode, 2))
                .col(string(VolunteerTombstone::StatusReason))
                .col(string(VolunteerTombstone::WithdrawalCause))
                .col(timestamp_with_time_zone(VolunteerTombstone::RegisteredAt))
                .col(timestamp_with_time_zone(VolunteerTombstone::WithdrawnAt))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "ix_volunteer_tombstone_branch",
        VolunteerTombstone::Table,
        [VolunteerTombstone::BranchCode, VolunteerTombstone::WithdrawnAt],
    )
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(manager).await?;
        create_tables(manager).await?;
        create_alerts_and_tombstones(manager).await?;
        // A volunteer's access log reads the audit trail by subject.
        create_index(manager, "ix_audit_event_subject", AuditEvent::Table, [AuditEvent::SubjectId, AuditEvent::At])
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_audit_event_subject").table(AuditEvent::Table).to_owned()).await?;
        for table in [
            VolunteerTombstone::Table.into_iden(),
            StaffAlert::Table.into_iden(),
            FamilyMember::Table.into_iden(),
            BackupContact::Table.into_iden(),
            EnrolmentTicket::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        remove_templates(manager, &TEMPLATES).await?;
        manager
            .alter_table(Table::alter().table(SignInCode::Table).drop_column(SignInCode::Purpose).to_owned())
            .await?;
        for column in [
            Volunteer::City,
            Volunteer::LastSignInAt,
            Volunteer::PendingName,
            Volunteer::PendingNameAt,
            Volunteer::SmsNonEssential,
            Volunteer::InboxNonEssential,
        ] {
            manager.alter_table(Table::alter().table(Volunteer::Table).drop_column(column).to_owned()).await?;
        }
        for column in [
            Branch::CoolingOffDays,
            Branch::ConfirmIntervalMonths,
            Branch::MaxPauseDays,
            Branch::PauseGraceDays,
            Branch::ReplyPauseDays,
        ] {
            manager.alter_table(Table::alter().table(Branch::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
