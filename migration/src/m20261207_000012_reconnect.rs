//! Reconnecting volunteers whose number changed.
//!
//! `record_recovery`: a volunteer with a new phone reclaiming their record, from the match of
//! name and ID number to the code read back from the old phone or a backup contact. It holds the
//! new phone sealed (its binding is in `api::pii::registry`) and is erased with the volunteer.
//!
//! `reconnection_count`: volunteers reconnected (returned from TU/UC or from a stale contact),
//! per branch, month and path, counted in the transaction that reconnects them. It holds no one's
//! data, so withdrawal leaves the figures whole.
//!
//! The code a recovery sends says what it is for (`recovery_code`), since it may reach a relative
//! who reads it out: only to the volunteer, in person or on a call they expected.
//!
//! The notices that go out when a volunteer's phone changes without the old phone taking part
//! (the old SIM is gone, or the record was recovered from a new number): to the old number,
//! and to each backup contact, so that a hijacked record is noticed by someone who can call the
//! branch. They are transactional: a security notice waits for no quiet hours and no opt-out.
//!
//! The old number may already belong to a stranger (numbers are recycled), so its notice names
//! no one; a backup contact knows the volunteer, and reads a masked name.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    blob, blob_null, date, integer, string, string_len, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
    uuid_null,
};

use crate::{Template, create_index, remove_templates, seed_templates};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RecordRecovery {
    Table,
    Id,
    VolunteerId,
    NewPhone,
    NewPhoneIndex,
    DestinationId,
    DestinationPhoneIndex,
    CreatedAt,
    ExpiresAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum ReconnectionCount {
    Table,
    BranchCode,
    Month,
    Path,
    Reconnected,
}

const TEMPLATES: [Template; 6] = [
    (
        "recovery_code",
        "zh-CN",
        "transactional",
        "中华骨髓库：有人正在找回其志愿者登记记录，验证码{code}，{minutes}分钟内有效。请只在本人当面或来电请您帮忙时告诉对方。",
    ),
    (
        "recovery_code",
        "en",
        "transactional",
        "CMDP: someone is recovering their donor record. Code {code}, valid {minutes} minutes. Share it only with the volunteer, in person or on a call you expected.",
    ),
    (
        "phone_changed_old",
        "zh-CN",
        "transactional",
        "中华骨髓库提示：在本库登记此号码的志愿者已于{date}更换联系电话。如非本人操作，请立即联系分库。",
    ),
    (
        "phone_changed_old",
        "en",
        "transactional",
        "CMDP notice: the donor volunteer registered with this number changed their phone on {date}. If this was not you, call the branch now.",
    ),
    (
        "phone_changed_backup",
        "zh-CN",
        "transactional",
        "中华骨髓库提示：您的亲友{name}已于{date}更换登记的联系电话。如非其本人操作，请联系分库。",
    ),
    (
        "phone_changed_backup",
        "en",
        "transactional",
        "CMDP notice: your relative {name} changed the phone registered with the donor registry on {date}. If this was not them, please call the branch.",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RecordRecovery::Table)
                    .col(uuid(RecordRecovery::Id).primary_key())
                    .col(uuid(RecordRecovery::VolunteerId))
                    .col(blob(RecordRecovery::NewPhone))
                    .col(blob(RecordRecovery::NewPhoneIndex))
                    .col(uuid_null(RecordRecovery::DestinationId))
                    .col(blob_null(RecordRecovery::DestinationPhoneIndex))
                    .col(timestamp_with_time_zone(RecordRecovery::CreatedAt))
                    .col(timestamp_with_time_zone(RecordRecovery::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RecordRecovery::CompletedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReconnectionCount::Table)
                    .col(string_len(ReconnectionCount::BranchCode, 2))
                    .col(date(ReconnectionCount::Month))
                    .col(string(ReconnectionCount::Path))
                    .col(integer(ReconnectionCount::Reconnected))
                    .primary_key(
                        Index::create()
                            .col(ReconnectionCount::BranchCode)
                            .col(ReconnectionCount::Month)
                            .col(ReconnectionCount::Path),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(manager, "ix_record_recovery_volunteer", RecordRecovery::Table, [RecordRecovery::VolunteerId])
            .await?;
        seed_templates(manager, &TEMPLATES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RecordRecovery::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ReconnectionCount::Table).to_owned()).await?;
        remove_templates(manager, &TEMPLATES).await
    }
}
