//! Volunteers and their contacts, and what volunteer sign-in needs: one-time codes and the
//! rate-limit counters that hold across replicas.
//!
//! Identifying values (name, national ID, employer, every contact value) are ciphertexts bound
//! to their row; the ones staff look up exactly (ID number, phone, email, name) have a blind
//! index beside them.

use sea_orm_migration::prelude::*;

use crate::create_index;
use sea_orm_migration::schema::{
    blob, blob_null, date, date_null, integer, string, string_len, string_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Branch {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Volunteer {
    Table,
    Id,
    BranchCode,
    Status,
    StatusReason,
    StatusUntil,
    StatusChangedAt,
    Name,
    NameIndex,
    NationalId,
    NationalIdIndex,
    BirthDate,
    Sex,
    BloodAbo,
    BloodRh,
    HlaResolution,
    Occupation,
    Employer,
    ConsentVersion,
    HealthConsentAt,
    RegisteredAt,
    CoolingOffUntil,
    LastConfirmedAt,
    CredentialVersion,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum VolunteerContact {
    Table,
    Id,
    VolunteerId,
    Kind,
    Value,
    ValueIndex,
    VerifiedAt,
    StartedAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum SignInCode {
    Table,
    Id,
    PhoneIndex,
    CodeHash,
    ExpiresAt,
    FailedAttempts,
    ConsumedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RateLimit {
    Table,
    Key,
    WindowStartedAt,
    Hits,
}

/// A current contact of each kind per volunteer, and a current primary phone belongs to one
/// volunteer only: sign-in by phone must open exactly one record. Partial indexes read the same
/// on PostgreSQL and SQLite.
const CURRENT_CONTACT_INDEXES: [&str; 2] = [
    "CREATE UNIQUE INDEX ux_volunteer_contact_current ON volunteer_contact (volunteer_id, kind) \
     WHERE ended_at IS NULL",
    "CREATE UNIQUE INDEX ux_volunteer_contact_primary_phone ON volunteer_contact (value_index) \
     WHERE ended_at IS NULL AND kind = 'primary_phone'",
];

async fn create_volunteer(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Volunteer::Table)
                .col(uuid(Volunteer::Id).primary_key())
                .col(string_len(Volunteer::BranchCode, 2))
                .col(string(Volunteer::Status))
                .col(string_null(Volunteer::StatusReason))
                .col(date_null(Volunteer::StatusUntil))
                .col(timestamp_with_time_zone(Volunteer::StatusChangedAt))
                .col(blob(Volunteer::Name))
                .col(blob(Volunteer::NameIndex))
                .col(blob(Volunteer::NationalId))
                .col(blob(Volunteer::NationalIdIndex).unique_key())
                .col(date(Volunteer::BirthDate))
                .col(string(Volunteer::Sex))
                .col(string_null(Volunteer::BloodAbo))
                .col(string_null(Volunteer::BloodRh))
                .col(string(Volunteer::HlaResolution))
                .col(string_null(Volunteer::Occupation))
                .col(blob_null(Volunteer::Employer))
                .col(string(Volunteer::ConsentVersion))
                .col(timestamp_with_time_zone(Volunteer::HealthConsentAt))
                .col(timestamp_with_time_zone(Volunteer::RegisteredAt))
                .col(timestamp_with_time_zone(Volunteer::CoolingOffUntil))
                .col(timestamp_with_time_zone(Volunteer::LastConfirmedAt))
                .col(integer(Volunteer::CredentialVersion).default(1))
                .col(timestamp_with_time_zone(Volunteer::CreatedAt))
                .col(timestamp_with_time_zone(Volunteer::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_volunteer_branch")
                        .from(Volunteer::Table, Volunteer::BranchCode)
                        .to(Branch::Table, Branch::Code),
                )
                .to_owned(),
        )
        .await?;
    create_index(manager, "ix_volunteer_branch_status", Volunteer::Table, [Volunteer::BranchCode, Volunteer::Status])
        .await?;
    create_index(
        manager,
        "ix_volunteer_branch_confirmed",
        Volunteer::Table,
        [Volunteer::BranchCode, Volunteer::LastConfirmedAt],
    )
    .await?;
    create_index(manager, "ix_volunteer_name_index", Volunteer::Table, [Volunteer::NameIndex]).await
}

async fn create_contacts(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(VolunteerContact::Table)
                .col(uuid(VolunteerContact::Id).primary_key())
                .col(uuid(VolunteerContact::VolunteerId))
                .col(string(VolunteerContact::Kind))
                .col(blob(VolunteerContact::Value))
                .col(blob_null(VolunteerContact::ValueIndex))
                .col(timestamp_with_time_zone_null(VolunteerContact::VerifiedAt))
                .col(timestamp_with_time_zone(VolunteerContact::StartedAt))
                .col(timestamp_with_time_zone_null(VolunteerContact::EndedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_volunteer_contact_volunteer")
                        .from(VolunteerContact::Table, VolunteerContact::VolunteerId)
                        .to(Volunteer::Table, Volunteer::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    create_index(manager, "ix_volunteer_contact_volunteer", VolunteerContact::Table, [VolunteerContact::VolunteerId])
        .await?;
    create_index(manager, "ix_volunteer_contact_value_index", VolunteerContact::Table, [VolunteerContact::ValueIndex])
        .await?;
    let db = manager.get_connection();
    for statement in CURRENT_CONTACT_INDEXES {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

async fn create_sign_in(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(SignInCode::Table)
                .col(uuid(SignInCode::Id).primary_key())
                .col(blob(SignInCode::PhoneIndex))
                .col(blob(SignInCode::CodeHash))
                .col(timestamp_with_time_zone(SignInCode::ExpiresAt))
                .col(integer(SignInCode::FailedAttempts).default(0))
                .col(timestamp_with_time_zone_null(SignInCode::ConsumedAt))
                .col(timestamp_with_time_zone(SignInCode::CreatedAt))
                .to_owned(),
        )
        .await?;
    create_index(manager, "ix_sign_in_code_phone", SignInCode::Table, [SignInCode::PhoneIndex, SignInCode::CreatedAt])
        .await?;
    manager
        .create_table(
            Table::create()
                .table(RateLimit::Table)
                .col(string(RateLimit::Key).primary_key())
                .col(timestamp_with_time_zone(RateLimit::WindowStartedAt))
                .col(integer(RateLimit::Hits))
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_volunteer(manager).await?;
        create_contacts(manager).await?;
        create_sign_in(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [RateLimit::Table.into_iden(), SignInCode::Table.into_iden(), VolunteerContact::Table.into_iden()]
        {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(Volunteer::Table).to_owned()).await
    }
}
