//! Partner hospitals and their API client credentials.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    blob, string, string_len, string_uniq, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Branch {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Hospital {
    Table,
    Id,
    Name,
    BranchCode,
    Contact,
    DisabledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum HospitalCredential {
    Table,
    Id,
    HospitalId,
    ClientId,
    SecretHash,
    ExpiresAt,
    RevokedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Hospital::Table)
                    .col(uuid(Hospital::Id).primary_key())
                    .col(string(Hospital::Name))
                    .col(string_len(Hospital::BranchCode, 2))
                    .col(blob(Hospital::Contact))
                    .col(timestamp_with_time_zone_null(Hospital::DisabledAt))
                    .col(timestamp_with_time_zone(Hospital::CreatedAt))
                    .col(timestamp_with_time_zone(Hospital::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_hospital_branch")
                            .from(Hospital::Table, Hospital::BranchCode)
                            .to(Branch::Table, Branch::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HospitalCredential::Table)
                    .col(uuid(HospitalCredential::Id).primary_key())
                    .col(uuid(HospitalCredential::HospitalId))
                    .col(string_uniq(HospitalCredential::ClientId))
                    .col(blob(HospitalCredential::SecretHash))
                    .col(timestamp_with_time_zone_null(HospitalCredential::ExpiresAt))
                    .col(timestamp_with_time_zone_null(HospitalCredential::RevokedAt))
                    .col(timestamp_with_time_zone(HospitalCredential::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_hospital_credential_hospital")
                            .from(HospitalCredential::Table, HospitalCredential::HospitalId)
                            .to(Hospital::Table, Hospital::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(HospitalCredential::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Hospital::Table).to_owned()).await
    }
}
