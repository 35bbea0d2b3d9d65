//! What staff search and the staff record need: keyed prefixes of names (names are
//! ciphertexts, so a prefix can only be found through a blind index of it), the indexes the
//! common searches and segments walk, and the history of every status change with who made it
//! and why.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    blob, blob_null, date_null, string, string_null, timestamp_with_time_zone, uuid, uuid_null,
};

use crate::create_index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Volunteer {
    Table,
    Id,
    BranchCode,
    LastConfirmedAt,
    RegisteredAt,
    City,
    BloodAbo,
    BloodRh,
}

#[derive(DeriveIden)]
enum OutboundMessage {
    Table,
    VolunteerId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum VolunteerNamePrefix {
    Table,
    PrefixIndex,
    VolunteerId,
}

#[derive(DeriveIden)]
enum VolunteerStatusChange {
    Table,
    Id,
    VolunteerId,
    Status,
    Reason,
    Until,
    ChangedAt,
    ActorKind,
    ActorId,
    ActorRole,
    Source,
    Note,
}

/// Indexes of the searches staff run most: a branch's stale segment (oldest confirmation first),
/// registrations by date, and blood group within a city. Each ends in the id, the tie-breaker of
/// the keyset cursors, so a page is one range scan.
const SEARCH_INDEXES: [(&str, &[Volunteer]); 5] = [
    ("ix_volunteer_branch_confirmed_id", &[Volunteer::BranchCode, Volunteer::LastConfirmedAt, Volunteer::Id]),
    ("ix_volunteer_confirmed_id", &[Volunteer::LastConfirmedAt, Volunteer::Id]),
    ("ix_volunteer_branch_registered_id", &[Volunteer::BranchCode, Volunteer::RegisteredAt, Volunteer::Id]),
    ("ix_volunteer_registered_id", &[Volunteer::RegisteredAt, Volunteer::Id]),
    ("ix_volunteer_city_blood", &[Volunteer::City, Volunteer::BloodAbo, Volunteer::BloodRh]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The stale-segment index replaces the narrower one of the volunteer migration.
        manager
            .drop_index(Index::drop().name("ix_volunteer_branch_confirmed").table(Volunteer::Table).to_owned())
            .await?;
        for (name, columns) in SEARCH_INDEXES {
            create_index(manager, name, Volunteer::Table, columns.iter().copied()).await?;
        }
        // A volunteer's messages, for the staff record, the work queue and erasure.
        create_index(
            manager,
            "ix_outbound_message_volunteer",
            OutboundMessage::Table,
            [OutboundMessage::VolunteerId, OutboundMessage::CreatedAt],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(VolunteerNamePrefix::Table)
                    .col(blob(VolunteerNamePrefix::PrefixIndex))
                    .col(uuid(VolunteerNamePrefix::VolunteerId))
                    .primary_key(
                        Index::create().col(VolunteerNamePrefix::PrefixIndex).col(VolunteerNamePrefix::VolunteerId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_volunteer_name_prefix_volunteer")
                            .from(VolunteerNamePrefix::Table, VolunteerNamePrefix::VolunteerId)
                            .to(Volunteer::Table, Volunteer::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "ix_volunteer_name_prefix_volunteer",
            VolunteerNamePrefix::Table,
            [VolunteerNamePrefix::VolunteerId],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(VolunteerStatusChange::Table)
                    .col(uuid(VolunteerStatusChange::Id).primary_key())
                    .col(uuid(VolunteerStatusChange::VolunteerId))
                    .col(string(VolunteerStatusChange::Status))
                    .col(string_null(VolunteerStatusChange::Reason))
                    .col(date_null(VolunteerStatusChange::Until))
                    .col(timestamp_with_time_zone(VolunteerStatusChange::ChangedAt))
                    .col(string(VolunteerStatusChange::ActorKind))
                    .col(uuid_null(VolunteerStatusChange::ActorId))
                    .col(string_null(VolunteerStatusChange::ActorRole))
                    .col(string(VolunteerStatusChange::Source))
                    .col(blob_null(VolunteerStatusChange::Note))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_volunteer_status_change_volunteer")
                            .from(VolunteerStatusChange::Table, VolunteerStatusChange::VolunteerId)
                            .to(Volunteer::Table, Volunteer::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "ix_volunteer_status_change_volunteer",
            VolunteerStatusChange::Table,
            [VolunteerStatusChange::VolunteerId, VolunteerStatusChange::ChangedAt],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [VolunteerStatusChange::Table.into_iden(), VolunteerNamePrefix::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager
            .drop_index(Index::drop().name("ix_outbound_message_volunteer").table(OutboundMessage::Table).to_owned())
            .await?;
        for (name, _) in SEARCH_INDEXES {
            manager.drop_index(Index::drop().name(name).table(Volunteer::Table).to_owned()).await?;
        }
        create_index(
            manager,
            "ix_volunteer_branch_confirmed",
            Volunteer::Table,
            [Volunteer::BranchCode, Volunteer::LastConfirmedAt],
        )
        .await
    }
}
