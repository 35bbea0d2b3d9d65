//! Identity and the audit trail: staff accounts, refresh-token families, and the append-only
//! audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer_null, blob, blob_null, integer, string, string_len, string_null, string_uniq, text_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null, uuid, uuid_null,
};
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Branch {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum StaffAccount {
    Table,
    Id,
    Username,
    PasswordHash,
    Role,
    BranchCode,
    TotpSecret,
    TotpLastStep,
    CredentialVersion,
    DisabledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RefreshToken {
    Table,
    Id,
    FamilyId,
    SubjectKind,
    SubjectId,
    TokenHash,
    ExpiresAt,
    RotatedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    At,
    ActorKind,
    ActorId,
    ActorRole,
    ActorBranch,
    Action,
    SubjectKind,
    SubjectId,
    Field,
    Purpose,
    RequestId,
    Detail,
}

/// The database itself refuses to change or remove audit rows, whoever connects.
const APPEND_ONLY_POSTGRES: [&str; 3] = [
    "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$",
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event \
     FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event \
     FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
];
const APPEND_ONLY_SQLITE: [&str; 2] = [
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event \
     BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event \
     BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
];

async fn create_staff(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(StaffAccount::Table)
                .col(uuid(StaffAccount::Id).primary_key())
                .col(string_uniq(StaffAccount::Username))
                .col(string(StaffAccount::PasswordHash))
                .col(string(StaffAccount::Role))
                .col(string_len(StaffAccount::BranchCode, 2))
                .col(blob_null(StaffAccount::TotpSecret))
                .col(big_integer_null(StaffAccount::TotpLastStep))
                .col(integer(StaffAccount::CredentialVersion).default(1))
                .col(timestamp_with_time_zone_null(StaffAccount::DisabledAt))
                .col(timestamp_with_time_zone(StaffAccount::CreatedAt))
                .col(timestamp_with_time_zone(StaffAccount::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_staff_account_branch")
                        .from(StaffAccount::Table, StaffAccount::BranchCode)
                        .to(Branch::Table, Branch::Code),
                )
                .to_owned(),
        )
        .await
}

async fn create_refresh_tokens(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(RefreshToken::Table)
                .col(uuid(RefreshToken::Id).primary_key())
                .col(uuid(RefreshToken::FamilyId))
                .col(string(RefreshToken::SubjectKind))
                .col(uuid(RefreshToken::SubjectId))
                .col(blob(RefreshToken::TokenHash).unique_key())
                .col(timestamp_with_time_zone(RefreshToken::ExpiresAt))
                .col(timestamp_with_time_zone_null(RefreshToken::RotatedAt))
                .col(timestamp_with_time_zone_null(RefreshToken::RevokedAt))
                .col(timestamp_with_time_zone(RefreshToken::CreatedAt))
                .to_owned(),
        )
        .await?;
    for (name, column) in
        [("ix_refresh_token_family", RefreshToken::FamilyId), ("ix_refresh_token_subject", RefreshToken::SubjectId)]
    {
        manager.create_index(Index::create().name(name).table(RefreshToken::Table).col(column).to_owned()).await?;
    }
    Ok(())
}

async fn create_audit(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(AuditEvent::Table)
                .col(uuid(AuditEvent::Id).primary_key())
                .col(timestamp_with_time_zone(AuditEvent::At))
                .col(string(AuditEvent::ActorKind))
                .col(uuid_null(AuditEvent::ActorId))
                .col(string_null(AuditEvent::ActorRole))
                .col(string_null(AuditEvent::ActorBranch))
                .col(string(AuditEvent::Action))
                .col(string_null(AuditEvent::SubjectKind))
                .col(uuid_null(AuditEvent::SubjectId))
                .col(string_null(AuditEvent::Field))
                .col(string_null(AuditEvent::Purpose))
                .col(string_null(AuditEvent::RequestId))
                .col(text_null(AuditEvent::Detail))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(Index::create().name("ix_audit_event_at").table(AuditEvent::Table).col(AuditEvent::At).to_owned())
        .await?;
    let db = manager.get_connection();
    let statements: &[&str] = match manager.get_database_backend() {
        DatabaseBackend::Postgres => &APPEND_ONLY_POSTGRES,
        _ => &APPEND_ONLY_SQLITE,
    };
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_staff(manager).await?;
        create_refresh_tokens(manager).await?;
        create_audit(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [AuditEvent::Table.into_iden(), RefreshToken::Table.into_iden(), StaffAccount::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared("DROP FUNCTION audit_event_append_only()").await?;
        }
        Ok(())
    }
}
