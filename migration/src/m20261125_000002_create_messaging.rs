//! The messaging backbone: templates, the outbox, the app inbox, opt-outs and inbound replies,
//! and each branch's messaging rules.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    blob, blob_null, integer, string, string_len, string_null, string_uniq, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid, uuid_null,
};

use crate::{Template, create_index, seed_templates};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Branch {
    Table,
    Code,
    SmsSignName,
    UtcOffsetMinutes,
    QuietHoursStart,
    QuietHoursEnd,
    DailyNonEssentialCap,
}

#[derive(DeriveIden)]
enum MessageTemplate {
    Table,
    Key,
    Locale,
    Purpose,
    Body,
}

#[derive(DeriveIden)]
enum OutboundMessage {
    Table,
    Id,
    Channel,
    Purpose,
    Status,
    BranchCode,
    VolunteerId,
    RecipientPhone,
    RecipientPhoneIndex,
    TemplateKey,
    Locale,
    Variables,
    Segments,
    DedupeKey,
    CampaignId,
    Attempts,
    NextAttemptAt,
    ClaimedBy,
    ClaimedUntil,
    Provider,
    ProviderMessageId,
    LastError,
    CreatedAt,
    UpdatedAt,
    SentAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum InboxNotification {
    Table,
    Id,
    VolunteerId,
    MessageId,
    TemplateKey,
    Body,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum MessagingOptOut {
    Table,
    PhoneIndex,
    Source,
    CreatedAt,
}

#[derive(DeriveIden)]
enum InboundReply {
    Table,
    Id,
    Provider,
    DedupeKey,
    Phone,
    PhoneIndex,
    Body,
    ReceivedAt,
    HandledAs,
    CreatedAt,
}

/// System templates: `{name}` placeholders, filled at queue time. Non-essential texts end with
/// the opt-out instruction that Chinese rules on bulk SMS ask for.
const TEMPLATES: [Template; 10] = [
    ("login_code", "zh-CN", "transactional", "您的验证码为{code}，{minutes}分钟内有效，请勿告诉他人。"),
    (
        "login_code",
        "en",
        "transactional",
        "Your verification code is {code}. It expires in {minutes} minutes. Do not share it.",
    ),
    (
        "checkup_due",
        "zh-CN",
        "non_essential",
        "{name}您好，您已一年多未确认登记信息，请在中华骨髓库App中核对联系方式。回复TD退订",
    ),
    (
        "checkup_due",
        "en",
        "non_essential",
        "Dear {name}, please confirm your contact details in the CMDP app: it has been over a year. Reply TD to opt out",
    ),
    ("pause_ending", "zh-CN", "non_essential", "{name}您好，您的暂停将于{date}结束，请在App中确认是否恢复。回复TD退订"),
    (
        "pause_ending",
        "en",
        "non_essential",
        "Dear {name}, your pause ends on {date}. Please confirm in the app whether you are available again. Reply TD to opt out",
    ),
    (
        "recommitment",
        "zh-CN",
        "non_essential",
        "{name}您好，感谢您加入中华骨髓库。配型成功时您仍愿意捐献吗？回复1愿意，回复2暂停一段时间。回复TD退订",
    ),
    (
        "recommitment",
        "en",
        "non_essential",
        "Dear {name}, thank you for joining the registry. Would you still donate if matched? Reply 1 yes, 2 to pause for a while. Reply TD to opt out",
    ),
    ("health_tip", "zh-CN", "non_essential", "{tip} 回复TD退订"),
    ("health_tip", "en", "non_essential", "{tip} Reply TD to opt out"),
];

/// Each branch's SMS sign name, clock and limits.
async fn add_branch_rules(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    // SQLite takes one column per ALTER TABLE.
    for column in [
        string_null(Branch::SmsSignName),
        integer(Branch::UtcOffsetMinutes).default(480).to_owned(),
        integer(Branch::QuietHoursStart).default(21 * 60).to_owned(),
        integer(Branch::QuietHoursEnd).default(8 * 60).to_owned(),
        integer(Branch::DailyNonEssentialCap).default(2).to_owned(),
    ] {
        let mut column = column;
        manager.alter_table(Table::alter().table(Branch::Table).add_column(&mut column).to_owned()).await?;
    }
    // The sender signature Chinese SMS rules require, e.g. 【中华骨髓库四川分库】.
    manager
        .exec_stmt(
            Query::update()
                .table(Branch::Table)
                // `||` concatenates on both PostgreSQL and SQLite.
                .value(Branch::SmsSignName, Expr::cust("'中华骨髓库' || name_zh || '分库'"))
                .to_owned(),
        )
        .await?;
    Ok(())
}

/// Message templates, seeded with the system's own.
async fn create_templates(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(MessageTemplate::Table)
                .col(string(MessageTemplate::Key))
                .col(string(MessageTemplate::Locale))
                .col(string(MessageTemplate::Purpose))
                .col(text(MessageTemplate::Body))
                .primary_key(Index::create().col(MessageTemplate::Key).col(MessageTemplate::Locale))
                .to_owned(),
        )
        .await?;
    seed_templates(manager, &TEMPLATES).await?;
    Ok(())
}

/// The outbox and the indexes its workers and reports use.
async fn create_outbox(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(OutboundMessage::Table)
                .col(uuid(OutboundMessage::Id).primary_key())
                .col(string(OutboundMessage::Channel))
                .col(string(OutboundMessage::Purpose))
                .col(string(OutboundMessage::Status))
                .col(string_len(OutboundMessage::BranchCode, 2))
                .col(uuid_null(OutboundMessage::VolunteerId))
                .col(blob_null(OutboundMessage::RecipientPhone))
                .col(blob_null(OutboundMessage::RecipientPhoneIndex))
                .col(string(OutboundMessage::TemplateKey))
                .col(string(OutboundMessage::Locale))
                .col(blob(OutboundMessage::Variables))
                .col(integer(OutboundMessage::Segments))
                .col(string_uniq(OutboundMessage::DedupeKey))
                .col(uuid_null(OutboundMessage::CampaignId))
                .col(integer(OutboundMessage::Attempts).default(0))
                .col(timestamp_with_time_zone(OutboundMessage::NextAttemptAt))
                .col(string_null(OutboundMessage::ClaimedBy))
                .col(timestamp_with_time_zone_null(OutboundMessage::ClaimedUntil))
                .col(string_null(OutboundMessage::Provider))
                .col(string_null(OutboundMessage::ProviderMessageId))
                .col(text_null(OutboundMessage::LastError))
                .col(timestamp_with_time_zone(OutboundMessage::CreatedAt))
                .col(timestamp_with_time_zone(OutboundMessage::UpdatedAt))
                .col(timestamp_with_time_zone_null(OutboundMessage::SentAt))
                .col(timestamp_with_time_zone_null(OutboundMessage::DeliveredAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_outbound_message_branch")
                        .from(OutboundMessage::Table, OutboundMessage::BranchCode)
                        .to(Branch::Table, Branch::Code),
                )
                .to_owned(),
        )
        .await?;
    for (name, columns) in [
        ("ix_outbound_message_due", vec![OutboundMessage::Status, OutboundMessage::NextAttemptAt]),
        ("ix_outbound_message_provider_id", vec![OutboundMessage::ProviderMessageId]),
        ("ix_outbound_message_recipient", vec![OutboundMessage::RecipientPhoneIndex, OutboundMessage::SentAt]),
        ("ix_outbound_message_campaign", vec![OutboundMessage::CampaignId, OutboundMessage::Status]),
    ] {
        create_index(manager, name, OutboundMessage::Table, columns).await?;
    }
    Ok(())
}

/// The app inbox.
async fn create_inbox(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(InboxNotification::Table)
                .col(uuid(InboxNotification::Id).primary_key())
                .col(uuid(InboxNotification::VolunteerId))
                .col(uuid(InboxNotification::MessageId).unique_key())
                .col(string(InboxNotification::TemplateKey))
                .col(blob(InboxNotification::Body))
                .col(timestamp_with_time_zone(InboxNotification::CreatedAt))
                .col(timestamp_with_time_zone_null(InboxNotification::ReadAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_inbox_notification_message")
                        .from(InboxNotification::Table, InboxNotification::MessageId)
                        .to(OutboundMessage::Table, OutboundMessage::Id),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("ix_inbox_notification_volunteer")
                .table(InboxNotification::Table)
                .col(InboxNotification::VolunteerId)
                .col(InboxNotification::CreatedAt)
                .to_owned(),
        )
        .await?;
    Ok(())
}

/// Opt-outs and inbound replies.
async fn create_replies(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(MessagingOptOut::Table)
                .col(blob(MessagingOptOut::PhoneIndex).primary_key())
                .col(string(MessagingOptOut::Source))
                .col(timestamp_with_time_zone(MessagingOptOut::CreatedAt))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(InboundReply::Table)
                .col(uuid(InboundReply::Id).primary_key())
                .col(string(InboundReply::Provider))
                .col(string_uniq(InboundReply::DedupeKey))
                .col(blob(InboundReply::Phone))
                .col(blob(InboundReply::PhoneIndex))
                .col(blob(InboundReply::Body))
                .col(timestamp_with_time_zone(InboundReply::ReceivedAt))
                .col(string(InboundReply::HandledAs))
                .col(timestamp_with_time_zone(InboundReply::CreatedAt))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("ix_inbound_reply_phone")
                .table(InboundReply::Table)
                .col(InboundReply::PhoneIndex)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_branch_rules(manager).await?;
        create_templates(manager).await?;
        create_outbox(manager).await?;
        create_inbox(manager).await?;
        create_replies(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            InboundReply::Table.into_iden(),
            MessagingOptOut::Table.into_iden(),
            InboxNotification::Table.into_iden(),
            OutboundMessage::Table.into_iden(),
            MessageTemplate::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        for column in [
            Branch::DailyNonEssentialCap,
            Branch::QuietHoursEnd,
            Branch::QuietHoursStart,
            Branch::UtcOffsetMinutes,
            Branch::SmsSignName,
        ] {
            manager.alter_table(Table::alter().table(Branch::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
