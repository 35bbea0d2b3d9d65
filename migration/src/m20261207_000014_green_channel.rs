//! The hospital green channel: fast-track admission requests, signed webhooks, idempotent
//! partner calls.
//!
//! `admission_request`: a coordinator's request that a partner hospital admit a case's donor for
//! the medical exam or for G-CSF and collection (FHIR: a `Task` on a `ServiceRequest`, answered
//! with an `Appointment`). It carries a proposed date and up to two alternatives, the stay, and
//! the deadline to answer. The hospital's answer (date, department, its contact, sealed) or its
//! coded decline, a later reschedule or cancellation (the reason sealed), and a re-route to
//! another hospital (`rerouted_from`) are columns of the row: the history of one request is one
//! row, and a re-route is a new row that names the one it replaced. At most one request per
//! case and purpose is open (a partial unique index). It names no volunteer: the donor is the
//! case's, so withdrawal, which unlinks the case, leaves nothing here to erase.
//!
//! `webhook_endpoint`: a hospital's HTTPS endpoint and its signing secret (sealed, as the
//! service must sign with it), with the previous secret kept through the rotation overlap.
//!
//! `webhook_event`: what the registry told a hospital, as the exact body it signs; and
//! `webhook_delivery`: each series of tries to send one (a redelivery is a new series of the
//! same event, so the receiver sees the same `webhook-id` and can drop the duplicate).
//!
//! `idempotency_key`: a partner's key for one mutation, the digest of its input and the first
//! answer (sealed), kept until `expires_at`.
//!
//! `branch.admission_answer_hours`: how long a hospital has to answer, by default.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    blob, blob_null, boolean, date, date_null, integer, integer_null, string, string_len, string_null, text,
    timestamp_with_time_zone, timestamp_with_time_zone_null, uuid, uuid_null,
};

use crate::create_index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AdmissionRequest {
    Table,
    Id,
    CaseId,
    HospitalId,
    BranchCode,
    Purpose,
    Product,
    ProposedOn,
    AlternativeOn,
    SecondAlternativeOn,
    StayDays,
    Status,
    Version,
    RequestedAt,
    RequestedBy,
    AnswerDueAt,
    EscalatedAt,
    AnsweredAt,
    AnsweredLate,
    AdmittedOn,
    Department,
    Contact,
    DeclineReason,
    Note,
    ClosedAt,
    ReroutedFrom,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookEndpoint {
    Table,
    Id,
    HospitalId,
    Url,
    Secret,
    PreviousSecret,
    PreviousUntil,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookEvent {
    Table,
    Id,
    HospitalId,
    EventType,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDelivery {
    Table,
    Id,
    EventId,
    HospitalId,
    Status,
    Attempts,
    LastStatus,
    LastError,
    CreatedAt,
    UpdatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum IdempotencyKey {
    Table,
    Id,
    Owner,
    Key,
    Operation,
    RequestHash,
    Answer,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Branch {
    Table,
    AdmissionAnswerHours,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_admissions(manager).await?;
        create_webhooks(manager).await?;
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKey::Table)
                    .col(uuid(IdempotencyKey::Id).primary_key())
                    .col(string(IdempotencyKey::Owner))
                    .col(string(IdempotencyKey::Key))
                    .col(string(IdempotencyKey::Operation))
                    .col(blob(IdempotencyKey::RequestHash))
                    .col(blob(IdempotencyKey::Answer))
                    .col(timestamp_with_time_zone(IdempotencyKey::CreatedAt))
                    .col(timestamp_with_time_zone(IdempotencyKey::ExpiresAt))
                    .index(
                        Index::create()
                            .name("ux_idempotency_key")
                            .col(IdempotencyKey::Owner)
                            .col(IdempotencyKey::Key)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(manager, "ix_idempotency_key_expiry", IdempotencyKey::Table, [IdempotencyKey::ExpiresAt]).await?;
        let mut hours = integer(Branch::AdmissionAnswerHours).default(48).to_owned();
        manager.alter_table(Table::alter().table(Branch::Table).add_column(&mut hours).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AdmissionRequest::Table.into_iden(),
            WebhookEndpoint::Table.into_iden(),
            WebhookEvent::Table.into_iden(),
            WebhookDelivery::Table.into_iden(),
            IdempotencyKey::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager
            .alter_table(Table::alter().table(Branch::Table).drop_column(Branch::AdmissionAnswerHours).to_owned())
            .await
    }
}

async fn create_admissions(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use AdmissionRequest as A;
    manager
        .create_table(
            Table::create()
                .table(A::Table)
                .col(uuid(A::Id).primary_key())
                .col(uuid(A::CaseId))
                .col(uuid(A::HospitalId))
                .col(string_len(A::BranchCode, 2))
                .col(string(A::Purpose))
                .col(string(A::Product))
                .col(date(A::ProposedOn))
                .col(date_null(A::AlternativeOn))
                .col(date_null(A::SecondAlternativeOn))
                .col(integer(A::StayDays))
                .col(string(A::Status))
                .col(integer(A::Version))
                .col(timestamp_with_time_zone(A::RequestedAt))
                .col(uuid(A::RequestedBy))
                .col(timestamp_with_time_zone(A::AnswerDueAt))
                .col(timestamp_with_time_zone_null(A::EscalatedAt))
                .col(timestamp_with_time_zone_null(A::AnsweredAt))
                .col(boolean(A::AnsweredLate))
                .col(date_null(A::AdmittedOn))
                .col(string_null(A::Department))
                .col(blob_null(A::Contact))
                .col(string_null(A::DeclineReason))
                .col(blob_null(A::Note))
                .col(timestamp_with_time_zone_null(A::ClosedAt))
                .col(uuid_null(A::ReroutedFrom))
                .col(timestamp_with_time_zone(A::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_admission_request_hospital")
                        .from(A::Table, A::HospitalId)
                        .to(Alias::new("hospital"), Alias::new("id")),
                )
                .to_owned(),
        )
        .await?;
    // A hospital's open requests, oldest deadline first; and the deadline job's scan.
    create_index(manager, "ix_admission_request_hospital", A::Table, [A::HospitalId, A::Status, A::AnswerDueAt])
        .await?;
    create_index(manager, "ix_admission_request_due", A::Table, [A::Status, A::AnswerDueAt]).await?;
    create_index(manager, "ix_admission_request_case", A::Table, [A::CaseId]).await?;
    create_index(manager, "ix_admission_request_branch", A::Table, [A::BranchCode, A::RequestedAt]).await?;
    // One open request per case and purpose, whatever races the service's own check.
    manager
        .get_connection()
        .execute_unprepared(
            "CREATE UNIQUE INDEX ux_admission_request_open ON admission_request (case_id, purpose) \
             WHERE status IN ('requested', 'accepted')",
        )
        .await?;
    Ok(())
}

async fn create_webhooks(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(WebhookEndpoint::Table)
                .col(uuid(WebhookEndpoint::Id).primary_key())
                .col(uuid(WebhookEndpoint::HospitalId).unique_key())
                .col(string(WebhookEndpoint::Url))
                .col(blob(WebhookEndpoint::Secret))
                .col(blob_null(WebhookEndpoint::PreviousSecret))
                .col(timestamp_with_time_zone_null(WebhookEndpoint::PreviousUntil))
                .col(timestamp_with_time_zone(WebhookEndpoint::CreatedAt))
                .col(timestamp_with_time_zone(WebhookEndpoint::UpdatedAt))
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(WebhookEvent::Table)
                .col(uuid(WebhookEvent::Id).primary_key())
                .col(uuid(WebhookEvent::HospitalId))
                .col(string(WebhookEvent::EventType))
                .col(text(WebhookEvent::Payload))
                .col(timestamp_with_time_zone(WebhookEvent::CreatedAt))
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(WebhookDelivery::Table)
                .col(uuid(WebhookDelivery::Id).primary_key())
                .col(uuid(WebhookDelivery::EventId))
                .col(uuid(WebhookDelivery::HospitalId))
                .col(string(WebhookDelivery::Status))
                .col(integer(WebhookDelivery::Attempts))
                .col(integer_null(WebhookDelivery::LastStatus))
                .col(string_null(WebhookDelivery::LastError))
                .col(timestamp_with_time_zone(WebhookDelivery::CreatedAt))
                .col(timestamp_with_time_zone(WebhookDelivery::UpdatedAt))
                .col(timestamp_with_time_zone_null(WebhookDelivery::DeliveredAt))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "ix_webhook_delivery_hospital",
        WebhookDelivery::Table,
        [WebhookDelivery::HospitalId, WebhookDelivery::CreatedAt],
    )
    .await
}
