//! Employer leave letters: what a letter was made from, its status, the checks of its code, and
//! the single-use links that download its PDF.
//!
//! `leave_letter`: one letter for one case. The facts it was rendered from (the donor's name,
//! the employer, the periods, the branch's letterhead, the code) are one sealed JSON document,
//! `facts`, with `digest`, the SHA-256 of that document: the same facts render the same letter
//! again, so the PDF itself is never stored. The periods and their dates are kept in clear too
//! (`periods`, `first_day`, `last_day`): they are what the public check shows and they name no
//! one. The verification code is found by its blind index. `status` is `valid`, `revoked` or
//! `superseded` (with `superseded_by`); expiry is computed from `last_day`. `check_count` and
//! `last_checked_at` count the public checks.
//!
//! `leave_letter_check`: when each public check happened, which the donor sees. No address.
//!
//! `letter_download`: a short-lived, single-use link to a letter's PDF, found by a hash of its
//! token, which is never stored.
//!
//! `donation_case.planned_exam_on`, `planned_collection_on`: the dates the coordinator planned
//! for the exam and the collection, for letters where no partner hospital has accepted a date.
//!
//! `branch.letter_*`: the branch's rules for leave (G-CSF days 4–5, collection days up to 2,
//! rest days up to 2, after the domain's typical PBSC absence) and the contact printed under
//! its letterhead.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    blob, date, date_null, integer, string, string_len, string_null, text, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid, uuid_null,
};

use crate::create_index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LeaveLetter {
    Table,
    Id,
    CaseId,
    VolunteerId,
    BranchCode,
    Periods,
    FirstDay,
    LastDay,
    Language,
    Facts,
    Digest,
    CodeIndex,
    Status,
    SupersededBy,
    IssuedAt,
    IssuedBy,
    RevokedAt,
    RevokedBy,
    CheckCount,
    LastCheckedAt,
}

#[derive(DeriveIden)]
enum LeaveLetterCheck {
    Table,
    Id,
    LetterId,
    CheckedAt,
}

#[derive(DeriveIden)]
enum LetterDownload {
    Table,
    TokenHash,
    LetterId,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum DonationCase {
    Table,
    PlannedExamOn,
    PlannedCollectionOn,
}

#[derive(DeriveIden)]
enum Branch {
    Table,
    LetterGcsfDaysMin,
    LetterGcsfDaysMax,
    LetterCollectionDaysMax,
    LetterRestDaysMax,
    LetterContact,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use LeaveLetter as L;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(uuid(L::Id).primary_key())
                    .col(uuid(L::CaseId))
                    .col(uuid(L::VolunteerId))
                    .col(string_len(L::BranchCode, 2))
                    .col(text(L::Periods))
                    .col(date(L::FirstDay))
                    .col(date(L::LastDay))
                    .col(string(L::Language))
                    .col(blob(L::Facts))
                    .col(string(L::Digest))
                    .col(blob(L::CodeIndex).unique_key())
                    .col(string(L::Status))
                    .col(uuid_null(L::SupersededBy))
                    .col(timestamp_with_time_zone(L::IssuedAt))
                    .col(uuid_null(L::IssuedBy))
                    .col(timestamp_with_time_zone_null(L::RevokedAt))
                    .col(uuid_null(L::RevokedBy))
                    .col(integer(L::CheckCount).default(0))
                    .col(timestamp_with_time_zone_null(L::LastCheckedAt))
                    .to_owned(),
            )
            .await?;
        create_index(manager, "ix_leave_letter_volunteer", L::Table, [L::VolunteerId]).await?;
        create_index(manager, "ix_leave_letter_case", L::Table, [L::CaseId]).await?;
        manager
            .create_table(
                Table::create()
                    .table(LeaveLetterCheck::Table)
                    .col(uuid(LeaveLetterCheck::Id).primary_key())
                    .col(uuid(LeaveLetterCheck::LetterId))
                    .col(timestamp_with_time_zone(LeaveLetterCheck::CheckedAt))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "ix_leave_letter_check_letter",
            LeaveLetterCheck::Table,
            [LeaveLetterCheck::LetterId, LeaveLetterCheck::CheckedAt],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(LetterDownload::Table)
                    .col(blob(LetterDownload::TokenHash).primary_key())
                    .col(uuid(LetterDownload::LetterId))
                    .col(timestamp_with_time_zone(LetterDownload::CreatedAt))
                    .col(timestamp_with_time_zone(LetterDownload::ExpiresAt))
                    .col(timestamp_with_time_zone_null(LetterDownload::UsedAt))
                    .to_owned(),
            )
            .await?;
        create_index(manager, "ix_letter_download_expiry", LetterDownload::Table, [LetterDownload::ExpiresAt]).await?;
        create_index(manager, "ix_letter_download_letter", LetterDownload::Table, [LetterDownload::LetterId]).await?;
        for (column, default) in [
            (Branch::LetterGcsfDaysMin, 4),
            (Branch::LetterGcsfDaysMax, 5),
            (Branch::LetterCollectionDaysMax, 2),
            (Branch::LetterRestDaysMax, 2),
        ] {
            let mut column = integer(column).default(default).to_owned();
            manager.alter_table(Table::alter().table(Branch::Table).add_column(&mut column).to_owned()).await?;
        }
        let mut contact = string_null(Branch::LetterContact);
        manager.alter_table(Table::alter().table(Branch::Table).add_column(&mut contact).to_owned()).await?;
        for column in [DonationCase::PlannedExamOn, DonationCase::PlannedCollectionOn] {
            let mut column = date_null(column);
            manager.alter_table(Table::alter().table(DonationCase::Table).add_column(&mut column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in
            [LetterDownload::Table.into_iden(), LeaveLetterCheck::Table.into_iden(), LeaveLetter::Table.into_iden()]
        {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        for column in [
            Branch::LetterGcsfDaysMin,
            Branch::LetterGcsfDaysMax,
            Branch::LetterCollectionDaysMax,
            Branch::LetterRestDaysMax,
            Branch::LetterContact,
        ] {
            manager.alter_table(Table::alter().table(Branch::Table).drop_column(column).to_owned()).await?;
        }
        for column in [DonationCase::PlannedExamOn, DonationCase::PlannedCollectionOn] {
            manager.alter_table(Table::alter().table(DonationCase::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
