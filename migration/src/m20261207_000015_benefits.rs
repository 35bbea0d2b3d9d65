//! Donor benefits: each branch's rules, what a collection grants under them, the entitlements
//! of the donor and of the relatives they name, and what hospitals redeemed.
//!
//! `benefit_rule`: one version of a branch's rule. A rule is known by its `rule_key` across
//! versions; a change is a new row with the next `version`, and the old one gets
//! `superseded_at`. Who qualifies (`holders`: `donor`, `spouse`, `parent`, `child`,
//! `sibling`, comma-separated), what they get (`kind`: `blood_volume` as a multiple of the
//! donated volume or a fixed volume, `blood_uses`, `lifetime_priority`, or `recognition`
//! shown as information only), from when and how long (`starts_after_days`, `valid_years`,
//! none for life), the cumulative volume above which it applies (`lifetime_above_ml`), the
//! last collection date it covers (`applies_until`) and the legal basis shown to hospitals.
//!
//! `benefit_grant`: a rule version a case's collection granted, with the volume collected.
//! The relatives a donor names later are granted under these versions, not today's.
//!
//! `entitlement`: one holder's entitlement under one grant. The holder's name and ID number
//! are sealed, with a blind index of the ID number to check at the hospital; the redemption
//! code is sealed (the donor shows it again) with a blind index (the hospital's lookup).
//! `version` guards revocation; the balance changes only by a conditional update.
//!
//! `redemption`: what a hospital redeemed, and the proof of relationship it saw, by type only.
//! It names no one: withdrawal deletes the entitlement and leaves the hospital's record.
//!
//! `donation_case.collected_ml`: the volume collected, which volume rules multiply.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    blob, blob_null, boolean, date, date_null, integer, integer_null, string, string_len, text,
    timestamp_with_time_zone, timestamp_with_time_zone_null, uuid, uuid_null,
};
use sea_orm_migration::sea_orm::prelude::Uuid;

use crate::{Template, create_index, remove_templates, seed_templates};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BenefitRule {
    Table,
    Id,
    BranchCode,
    RuleKey,
    Version,
    TitleZh,
    TitleEn,
    Holders,
    Kind,
    VolumeMultiple,
    FixedMl,
    Uses,
    LifetimeAboveMl,
    StartsAfterDays,
    ValidYears,
    AppliesUntil,
    LegalBasis,
    CreatedBy,
    CreatedAt,
    SupersededAt,
}

#[derive(DeriveIden)]
enum BenefitGrant {
    Table,
    Id,
    CaseId,
    VolunteerId,
    BranchCode,
    RuleId,
    DonatedMl,
    CollectedOn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Entitlement {
    Table,
    Id,
    GrantId,
    VolunteerId,
    CaseId,
    BranchCode,
    RuleId,
    Holder,
    FamilyMemberId,
    HolderName,
    HolderNationalId,
    HolderIdIndex,
    Kind,
    GrantedMl,
    RemainingMl,
    GrantedUses,
    RemainingUses,
    Unlimited,
    StartsOn,
    ExpiresOn,
    Code,
    CodeIndex,
    Status,
    RevokedAt,
    RevokedBy,
    RevokeReason,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Redemption {
    Table,
    Id,
    EntitlementId,
    HospitalId,
    BranchCode,
    VolumeMl,
    Uses,
    Proof,
    RemainingMl,
    RemainingUses,
    RedeemedAt,
}

#[derive(DeriveIden)]
enum DonationCase {
    Table,
    CollectedMl,
}

/// Sichuan's regulation on blood donation, Art. 15 (1997 text), as `../shared/domain.md`
/// quotes it: the donor gets 3× the donated volume within 3 years, the same volume after that,
/// and priority without limit for life above 800 ml cumulative; spouse and direct relatives
/// (parents, children; siblings are not direct relatives) get the same volume. The regulation
/// sets no window for relatives: we give them the donor's first window, 3 years.
const SICHUAN_BASIS: &str = "《四川省公民献血条例》第十五条：献血者自献血之日起三年内免费享用献血量三倍的血液，三年后免费享用与献血量等量的血液；累计献血量达800毫升以上的，终身免费享用血液。献血者的配偶和直系亲属免费享用与献血量等量的血液。（参照适用于造血干细胞捐献者）";

/// Branch 51's rules: key, version, titles, holders, kind, multiple, fixed ml, lifetime
/// threshold, start offset in days, window in years.
type SeedRule = (
    u128,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<i32>,
    Option<i32>,
    Option<i32>,
    i32,
    Option<i32>,
);
const SICHUAN_RULES: [SeedRule; 4] = [
    (
        0x0190_0000_0000_7000_8000_0000_0051_0001,
        "donor-threefold",
        "捐献者本人：三年内优先用血，三倍于捐献量",
        "The donor: blood priority within 3 years, three times the donated volume",
        "donor",
        "blood_volume",
        Some(3),
        None,
        None,
        0,
        Some(3),
    ),
    (
        0x0190_0000_0000_7000_8000_0000_0051_0002,
        "donor-after-three-years",
        "捐献者本人：三年后终身优先用血，与捐献量等量",
        "The donor: after 3 years, for life, the donated volume",
        "donor",
        "blood_volume",
        Some(1),
        None,
        None,
        3 * 365 + 1,
        None,
    ),
    (
        0x0190_0000_0000_7000_8000_0000_0051_0003,
        "donor-lifetime",
        "捐献者本人：累计捐献800毫升以上，终身优先用血",
        "The donor: above 800 ml donated in all, blood priority for life",
        "donor",
        "lifetime_priority",
        None,
        None,
        Some(800),
        0,
        None,
    ),
    (
        0x0190_0000_0000_7000_8000_0000_0051_0004,
        "relatives-same-volume",
        "配偶及直系亲属：三年内优先用血，与捐献量等量",
        "Spouse, parents and children: blood priority within 3 years, the donated volume",
        "spouse,parent,child",
        "blood_volume",
        Some(1),
        None,
        None,
        0,
        Some(3),
    ),
];

const TEMPLATES: [Template; 4] = [
    (
        "entitlement_code",
        "zh-CN",
        "transactional",
        "您好，您的家人是造血干细胞捐献者。感谢您一家对生命的守护：您在合作医院用血时可享受优先关爱，请出示本人身份证和关爱码 {code}，有效期至{expires}。",
    ),
    (
        "entitlement_code",
        "en",
        "transactional",
        "Hello, someone in your family donated blood stem cells. With our thanks for your family's care for life, you have blood priority at partner hospitals: show your ID card and care code {code}, valid until {expires}.",
    ),
    (
        "entitlement_redeemed",
        "zh-CN",
        "transactional",
        "您家人的用血关爱已在{hospital}使用{amount}，剩余{remaining}。感谢您的捐献，愿家人早日康复。",
    ),
    (
        "entitlement_redeemed",
        "en",
        "transactional",
        "Your family's blood priority was used at {hospital}: {amount}, {remaining} left. Thank you for donating; we wish your family a quick recovery.",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_rules(manager).await?;
        create_entitlements(manager).await?;
        let mut collected = integer_null(DonationCase::CollectedMl);
        manager.alter_table(Table::alter().table(DonationCase::Table).add_column(&mut collected).to_owned()).await?;
        seed_rules(manager).await?;
        seed_templates(manager, &TEMPLATES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        remove_templates(manager, &TEMPLATES).await?;
        for table in [
            Redemption::Table.into_iden(),
            Entitlement::Table.into_iden(),
            BenefitGrant::Table.into_iden(),
            BenefitRule::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager
            .alter_table(Table::alter().table(DonationCase::Table).drop_column(DonationCase::CollectedMl).to_owned())
            .await
    }
}

async fn create_rules(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use BenefitRule as R;
    manager
        .create_table(
            Table::create()
                .table(R::Table)
                .col(uuid(R::Id).primary_key())
                .col(string_len(R::BranchCode, 2))
                .col(string(R::RuleKey))
                .col(integer(R::Version))
                .col(string(R::TitleZh))
                .col(string(R::TitleEn))
                .col(string(R::Holders))
                .col(string(R::Kind))
                .col(integer_null(R::VolumeMultiple))
                .col(integer_null(R::FixedMl))
                .col(integer_null(R::Uses))
                .col(integer_null(R::LifetimeAboveMl))
                .col(integer(R::StartsAfterDays))
                .col(integer_null(R::ValidYears))
                .col(date_null(R::AppliesUntil))
                .col(text(R::LegalBasis))
                .col(uuid_null(R::CreatedBy))
                .col(timestamp_with_time_zone(R::CreatedAt).default(Expr::current_timestamp()))
                .col(timestamp_with_time_zone_null(R::SupersededAt))
                .index(
                    Index::create()
                        .name("ux_benefit_rule_version")
                        .col(R::BranchCode)
                        .col(R::RuleKey)
                        .col(R::Version)
                        .unique(),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(BenefitGrant::Table)
                .col(uuid(BenefitGrant::Id).primary_key())
                .col(uuid(BenefitGrant::CaseId))
                .col(uuid(BenefitGrant::VolunteerId))
                .col(string_len(BenefitGrant::BranchCode, 2))
                .col(uuid(BenefitGrant::RuleId))
                .col(integer_null(BenefitGrant::DonatedMl))
                .col(date(BenefitGrant::CollectedOn))
                .col(timestamp_with_time_zone(BenefitGrant::CreatedAt))
                .index(
                    Index::create()
                        .name("ux_benefit_grant")
                        .col(BenefitGrant::CaseId)
                        .col(BenefitGrant::RuleId)
                        .unique(),
                )
                .to_owned(),
        )
        .await?;
    create_index(manager, "ix_benefit_grant_volunteer", BenefitGrant::Table, [BenefitGrant::VolunteerId]).await
}

async fn create_entitlements(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Entitlement as E;
    manager
        .create_table(
            Table::create()
                .table(E::Table)
                .col(uuid(E::Id).primary_key())
                .col(uuid(E::GrantId))
                .col(uuid(E::VolunteerId))
                .col(uuid(E::CaseId))
                .col(string_len(E::BranchCode, 2))
                .col(uuid(E::RuleId))
                .col(string(E::Holder))
                .col(uuid_null(E::FamilyMemberId))
                .col(blob(E::HolderName))
                .col(blob(E::HolderNationalId))
                .col(blob(E::HolderIdIndex))
                .col(string(E::Kind))
                .col(integer_null(E::GrantedMl))
                .col(integer_null(E::RemainingMl))
                .col(integer_null(E::GrantedUses))
                .col(integer_null(E::RemainingUses))
                .col(boolean(E::Unlimited))
                .col(date(E::StartsOn))
                .col(date_null(E::ExpiresOn))
                .col(blob(E::Code))
                .col(blob(E::CodeIndex).unique_key())
                .col(string(E::Status))
                .col(timestamp_with_time_zone_null(E::RevokedAt))
                .col(uuid_null(E::RevokedBy))
                .col(blob_null(E::RevokeReason))
                .col(integer(E::Version))
                .col(timestamp_with_time_zone(E::CreatedAt))
                .col(timestamp_with_time_zone(E::UpdatedAt))
                .index(Index::create().name("ux_entitlement_holder").col(E::GrantId).col(E::HolderIdIndex).unique())
                .to_owned(),
        )
        .await?;
    create_index(manager, "ix_entitlement_volunteer", E::Table, [E::VolunteerId]).await?;
    create_index(manager, "ix_entitlement_case", E::Table, [E::CaseId]).await?;
    manager
        .create_table(
            Table::create()
                .table(Redemption::Table)
                .col(uuid(Redemption::Id).primary_key())
                .col(uuid(Redemption::EntitlementId))
                .col(uuid(Redemption::HospitalId))
                .col(string_len(Redemption::BranchCode, 2))
                .col(integer_null(Redemption::VolumeMl))
                .col(integer_null(Redemption::Uses))
                .col(string(Redemption::Proof))
                .col(integer_null(Redemption::RemainingMl))
                .col(integer_null(Redemption::RemainingUses))
                .col(timestamp_with_time_zone(Redemption::RedeemedAt))
                .to_owned(),
        )
        .await?;
    create_index(manager, "ix_redemption_entitlement", Redemption::Table, [Redemption::EntitlementId]).await?;
    create_index(manager, "ix_redemption_hospital", Redemption::Table, [Redemption::HospitalId, Redemption::RedeemedAt])
        .await
}

async fn seed_rules(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use BenefitRule as R;
    let mut seed = Query::insert();
    seed.into_table(R::Table).columns([
        R::Id,
        R::BranchCode,
        R::RuleKey,
        R::Version,
        R::TitleZh,
        R::TitleEn,
        R::Holders,
        R::Kind,
        R::VolumeMultiple,
        R::LifetimeAboveMl,
        R::StartsAfterDays,
        R::ValidYears,
        R::LegalBasis,
    ]);
    for (id, key, title_zh, title_en, holders, kind, multiple, _fixed, above, after, years) in SICHUAN_RULES {
        seed.values([
            Uuid::from_u128(id).into(),
            "51".into(),
            key.into(),
            1.into(),
            title_zh.into(),
            title_en.into(),
            holders.into(),
            kind.into(),
            multiple.into(),
            above.into(),
            after.into(),
            years.into(),
            SICHUAN_BASIS.into(),
        ])
        .map_err(|err| DbErr::Migration(err.to_string()))?;
    }
    manager.exec_stmt(seed).await
}
