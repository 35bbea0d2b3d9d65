//! The registry's 31 provincial branches, keyed by GB/T 2260 province code.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, string_len, timestamp_with_time_zone};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Branch {
    Table,
    Code,
    NameZh,
    NameEn,
    CreatedAt,
    UpdatedAt,
}

/// The CMDP's provincial branches (GB/T 2260 code, Chinese name, English name).
/// Branches are reference data the registry cannot run without, so they ship with the schema.
const BRANCHES: [(&str, &str, &str); 31] = [
    ("11", "北京", "Beijing"),
    ("12", "天津", "Tianjin"),
    ("13", "河北", "Hebei"),
    ("14", "山西", "Shanxi"),
    ("15", "内蒙古", "Inner Mongolia"),
    ("21", "辽宁", "Liaoning"),
    ("22", "吉林", "Jilin"),
    ("23", "黑龙江", "Heilongjiang"),
    ("31", "上海", "Shanghai"),
    ("32", "江苏", "Jiangsu"),
    ("33", "浙江", "Zhejiang"),
    ("34", "安徽", "Anhui"),
    ("35", "福建", "Fujian"),
    ("36", "江西", "Jiangxi"),
    ("37", "山东", "Shandong"),
    ("41", "河南", "Henan"),
    ("42", "湖北", "Hubei"),
    ("43", "湖南", "Hunan"),
    ("44", "广东", "Guangdong"),
    ("45", "广西", "Guangxi"),
    ("46", "海南", "Hainan"),
    ("50", "重庆", "Chongqing"),
    ("51", "四川", "Sichuan"),
    ("52", "贵州", "Guizhou"),
    ("53", "云南", "Yunnan"),
    ("54", "西藏", "Tibet"),
    ("61", "陕西", "Shaanxi"),
    ("62", "甘肃", "Gansu"),
    ("63", "青海", "Qinghai"),
    ("64", "宁夏", "Ningxia"),
    ("65", "新疆", "Xinjiang"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Branch::Table)
                    .col(string_len(Branch::Code, 2).primary_key())
                    .col(string(Branch::NameZh))
                    .col(string(Branch::NameEn))
                    .col(timestamp_with_time_zone(Branch::CreatedAt).default(Expr::current_timestamp()))
                    .col(timestamp_with_time_zone(Branch::UpdatedAt).default(Expr::current_timestamp()))
                    .to_owned(),
            )
            .await?;

        let mut seed = Query::insert();
        seed.into_table(Branch::Table).columns([Branch::Code, Branch::NameZh, Branch::NameEn]);
        for (code, name_zh, name_en) in BRANCHES {
            seed.values([code.into(), name_zh.into(), name_en.into()])
                .map_err(|err| DbErr::Migration(err.to_string()))?;
        }
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Branch::Table).to_owned()).await
    }
}
