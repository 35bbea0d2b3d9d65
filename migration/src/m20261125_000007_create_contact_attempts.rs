//! The log of staff's attempts to reach a volunteer, and the mark on a contact that proved
//! wrong: where the lost-contact work starts.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    blob_null, string, string_len, string_null, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
};

use crate::create_index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Volunteer {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum VolunteerContact {
    Table,
    InvalidAt,
}

#[derive(DeriveIden)]
enum ContactAttempt {
    Table,
    Id,
    VolunteerId,
    BranchCode,
    StaffId,
    Channel,
    Outcome,
    ContactKind,
    Note,
    AttemptedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut invalid_at = timestamp_with_time_zone_null(VolunteerContact::InvalidAt);
        manager
            .alter_table(Table::alter().table(VolunteerContact::Table).add_column(&mut invalid_at).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ContactAttempt::Table)
                    .col(uuid(ContactAttempt::Id).primary_key())
                    .col(uuid(ContactAttempt::VolunteerId))
                    .col(string_len(ContactAttempt::BranchCode, 2))
                    .col(uuid(ContactAttempt::StaffId))
                    .col(string(ContactAttempt::Channel))
                    .col(string(ContactAttempt::Outcome))
                    .col(string_null(ContactAttempt::ContactKind))
                    .col(blob_null(ContactAttempt::Note))
                    .col(timestamp_with_time_zone(ContactAttempt::AttemptedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_contact_attempt_volunteer")
                            .from(ContactAttempt::Table, ContactAttempt::VolunteerId)
                            .to(Volunteer::Table, Volunteer::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "ix_contact_attempt_volunteer",
            ContactAttempt::Table,
            [ContactAttempt::VolunteerId, ContactAttempt::AttemptedAt],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ContactAttempt::Table).to_owned()).await?;
        manager
            .alter_table(
                Table::alter().table(VolunteerContact::Table).drop_column(VolunteerContact::InvalidAt).to_owned(),
            )
            .await
    }
}
