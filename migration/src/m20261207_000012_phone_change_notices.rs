//! The notices that go out when a volunteer's phone changes without the old phone taking part
//! (the old SIM is gone, or the record was recovered from a new number): to the old number,
//! and to each backup contact, so that a hijacked record is noticed by someone who can call the
//! branch. They are transactional: a security notice waits for no quiet hours and no opt-out.
//!
//! The old number may already belong to a stranger (numbers are recycled), so its notice names
//! no one; a backup contact knows the volunteer, and reads a masked name.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MessageTemplate {
    Table,
    Key,
    Locale,
    Purpose,
    Body,
}

const TEMPLATES: [(&str, &str, &str, &str); 4] = [
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
        let mut seed = Query::insert();
        seed.into_table(MessageTemplate::Table).columns([
            MessageTemplate::Key,
            MessageTemplate::Locale,
            MessageTemplate::Purpose,
            MessageTemplate::Body,
        ]);
        for (key, locale, purpose, body) in TEMPLATES {
            seed.values([key.into(), locale.into(), purpose.into(), body.into()])
                .map_err(|err| DbErr::Migration(err.to_string()))?;
        }
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let keys: Vec<&str> = TEMPLATES.iter().map(|(key, ..)| *key).collect();
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(MessageTemplate::Table)
                    .and_where(Expr::col(MessageTemplate::Key).is_in(keys))
                    .to_owned(),
            )
            .await
    }
}
