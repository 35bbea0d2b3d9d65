//! One version of a branch's benefit rule. Stored names (`holders`, `kind`) are
//! `api::domain::benefit`'s.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "benefit_rule")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub branch_code: String,
    /// The rule's name across its versions.
    pub rule_key: String,
    pub version: i32,
    pub title_zh: String,
    pub title_en: String,
    /// Who qualifies, comma-separated: `donor`, `spouse`, `parent`, `child`, `sibling`.
    pub holders: String,
    /// `blood_volume`, `blood_uses`, `lifetime_priority` or `recognition`.
    pub kind: String,
    /// For `blood_volume`: a multiple of the donated volume…
    pub volume_multiple: Option<i32>,
    /// …or a fixed volume in ml.
    pub fixed_ml: Option<i32>,
    /// For `blood_uses`: how many.
    pub uses: Option<i32>,
    /// The rule applies only once the donor's donated volume, in all, reaches this.
    pub lifetime_above_ml: Option<i32>,
    /// Days from collection before the entitlement starts.
    pub starts_after_days: i32,
    /// Years it lasts from its start; none for life.
    pub valid_years: Option<i32>,
    /// The last collection date the rule covers; none while it is in force.
    pub applies_until: Option<Date>,
    /// Shown to hospitals with every check.
    pub legal_basis: String,
    /// The staff member who wrote this version; none for a seeded rule.
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// When a later version replaced this one.
    pub superseded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
