//! A campaign's launcher keeps one cursor, the last recipient (in volunteer order) whose
//! messages are queued, instead of stamping each recipient row: marking 100,000 recipients
//! rewrote 100,000 rows inside the launch, and the cursor says the same in one.
//!
//! The outbox index on the gateway's message id holds only the messages a gateway accepted: a
//! queued message has none, and indexing its null cost every queued row an index entry that no
//! lookup reads.
//!
//! In-flight campaigns keep their place: the cursor of each is its last stamped recipient, since
//! recipients were always queued in volunteer order.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{timestamp_with_time_zone_null, uuid_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Campaign {
    Table,
    QueuedThrough,
}

#[derive(DeriveIden)]
enum CampaignRecipient {
    Table,
    QueuedAt,
}

const CURSOR_FROM_STAMPS: &str = "UPDATE campaign SET queued_through = (\
     SELECT r.volunteer_id FROM campaign_recipient r \
     WHERE r.campaign_id = campaign.id AND r.queued_at IS NOT NULL \
     ORDER BY r.volunteer_id DESC LIMIT 1)";

const STAMPS_FROM_CURSOR: &str = "UPDATE campaign_recipient SET queued_at = (\
     SELECT COALESCE(c.queued_at, c.launched_at) FROM campaign c \
     WHERE c.id = campaign_recipient.campaign_id AND campaign_recipient.volunteer_id <= c.queued_through)";

const PROVIDER_ID_PARTIAL: &str = "CREATE INDEX ix_outbound_message_provider_id ON outbound_message \
     (provider_message_id) WHERE provider_message_id IS NOT NULL";

const PROVIDER_ID_FULL: &str = "CREATE INDEX ix_outbound_message_provider_id ON outbound_message (provider_message_id)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// On SQLite too (its default is none): the cursor is derived from the stamps it replaces,
    /// so both must change together or not at all. One transaction is also one connection, so
    /// each statement sees the schema the one before it left.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .alter_table(
                Table::alter().table(Campaign::Table).add_column(uuid_null(Campaign::QueuedThrough)).to_owned(),
            )
            .await?;
        db.execute_unprepared(CURSOR_FROM_STAMPS).await?;
        manager
            .alter_table(
                Table::alter().table(CampaignRecipient::Table).drop_column(CampaignRecipient::QueuedAt).to_owned(),
            )
            .await?;
        db.execute_unprepared("DROP INDEX ix_outbound_message_provider_id").await?;
        db.execute_unprepared(PROVIDER_ID_PARTIAL).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX ix_outbound_message_provider_id").await?;
        db.execute_unprepared(PROVIDER_ID_FULL).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CampaignRecipient::Table)
                    .add_column(timestamp_with_time_zone_null(CampaignRecipient::QueuedAt))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(STAMPS_FROM_CURSOR).await?;
        manager
            .alter_table(Table::alter().table(Campaign::Table).drop_column(Campaign::QueuedThrough).to_owned())
            .await?;
        Ok(())
    }
}
