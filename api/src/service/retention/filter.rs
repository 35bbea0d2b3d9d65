//! The staff search filters. One definition serves the search page, campaign segments, the
//! segment preview and exports, so "who is in this segment" has one answer everywhere.

use chrono::{DateTime, Months, NaiveDate, TimeZone, Utc};
use entity::campaign_recipient::{self, CampaignResponse};
use entity::volunteer::{self, DonorStatus, HlaResolution, StatusReason};
use entity::volunteer_contact::{self, ContactKind};
use entity::volunteer_name_prefix;
use sea_orm::sea_query::{Query, SimpleExpr};
use sea_orm::{ActiveEnum, ColumnTrait, Condition};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{Abo, NationalId, PersonName, Phone, Rh, check_branch_code};
use crate::error::{AppError, AppResult};
use crate::pii::KeyRing;
use crate::service::BranchScope;
use crate::service::volunteer::{name_index, name_prefix_index};

/// Oldest and youngest ages a filter may name: the register's donors are 18 to 60.
const AGES: std::ops::RangeInclusive<i32> = 0..=120;
/// Registration years a filter may name.
const YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;
/// Longest confirmation age a filter may name, in months (50 years).
const MONTHS: std::ops::RangeInclusive<i32> = 0..=600;
/// The registry's calendar: registration years start at midnight Beijing time.
const BEIJING_OFFSET_SECS: i32 = 8 * 3600;

/// Who answered a campaign how; `response: None` is those who did not answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CampaignAnswer {
    pub campaign_id: Uuid,
    pub response: Option<CampaignResponse>,
}

/// Which volunteers a search, segment or export is about. Every field narrows; an empty filter
/// is everyone the caller may read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VolunteerFilter {
    /// National roles narrow to one branch; branch staff may only name their own.
    pub branch_code: Option<String>,
    /// Exact, through the blind index.
    pub national_id: Option<NationalId>,
    /// Any current phone, through the blind index.
    pub phone: Option<Phone>,
    /// The whole name, through the blind index.
    pub name: Option<PersonName>,
    /// The first 2 to 4 characters of the name, normalised, through the prefix index.
    pub name_prefix: Option<String>,
    pub statuses: Vec<DonorStatus>,
    pub status_reasons: Vec<StatusReason>,
    pub abo: Option<Abo>,
    pub rh: Option<Rh>,
    pub hla_typed: Option<bool>,
    pub city: Option<String>,
    pub min_age: Option<i32>,
    pub max_age: Option<i32>,
    pub registered_from_year: Option<i32>,
    pub registered_to_year: Option<i32>,
    /// Last confirmed more than this many months ago: the stale.
    pub confirmed_over_months: Option<i32>,
    /// Last confirmed within this many months.
    pub confirmed_within_months: Option<i32>,
    pub campaign: Option<CampaignAnswer>,
}

/// The stored form of a segment or export filter: no personal value, statuses by their
/// EMDIS codes.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Stored {
    #[serde(skip_serializing_if = "Option::is_none")]
    branch_code: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    statuses: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    status_reasons: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    abo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rh: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hla_typed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_age: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_age: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registered_from_year: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registered_to_year: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirmed_over_months: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirmed_within_months: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign_id: Option<Uuid>,
    /// `no_reply`, or a response's stored name.
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign_response: Option<String>,
}

const NO_REPLY: &str = "no_reply";

impl VolunteerFilter {
    /// Checks the ranges a filter names; `at` prefixes the field names (`filter`, `segment`).
    ///
    /// # Errors
    /// BAD_USER_INPUT naming the field.
    pub fn check(&self, at: &str) -> AppResult<()> {
        let field = |name: &str| format!("{at}.{name}");
        if let Some(code) = &self.branch_code {
            check_branch_code(code).map_err(|reason| AppError::invalid(field("branchCode"), reason.to_string()))?;
        }
        if let Some(city) = &self.city
            && (city.trim().is_empty() || city.chars().count() > 50)
        {
            return Err(AppError::invalid(field("city"), "must be 1 to 50 characters"));
        }
        for (name, age) in [("minAge", self.min_age), ("maxAge", self.max_age)] {
            if age.is_some_and(|age| !AGES.contains(&age)) {
                return Err(AppError::invalid(field(name), "must be 0 to 120"));
            }
        }
        if let (Some(min), Some(max)) = (self.min_age, self.max_age)
            && min > max
        {
            return Err(AppError::invalid(field("maxAge"), "must not be below minAge"));
        }
        for (name, year) in
            [("registeredFromYear", self.registered_from_year), ("registeredToYear", self.registered_to_year)]
        {
            if year.is_some_and(|year| !YEARS.contains(&year)) {
                return Err(AppError::invalid(field(name), "must be a year from 1990 to 2100"));
            }
        }
        if let (Some(from), Some(to)) = (self.registered_from_year, self.registered_to_year)
            && from > to
        {
            return Err(AppError::invalid(field("registeredToYear"), "must not be before registeredFromYear"));
        }
        for (name, months) in [
            ("confirmedOverMonths", self.confirmed_over_months),
            ("confirmedWithinMonths", self.confirmed_within_months),
        ] {
            if months.is_some_and(|months| !MONTHS.contains(&months)) {
                return Err(AppError::invalid(field(name), "must be 0 to 600 months"));
            }
        }
        Ok(())
    }

    /// The branch the filter reads within `scope`: the caller's own for branch staff, the
    /// named one (or every branch) for national roles.
    ///
    /// # Errors
    /// FORBIDDEN when branch staff name another branch.
    pub fn branch_within(&self, scope: &BranchScope) -> AppResult<Option<String>> {
        scope.branch_read(self.branch_code.as_deref())
    }

    /// Whether the filter names a person (an ID number, phone or name): such a filter is a
    /// search, never a segment or an export, and is never stored.
    #[must_use]
    pub fn names_a_person(&self) -> bool {
        self.national_id.is_some() || self.phone.is_some() || self.name.is_some() || self.name_prefix.is_some()
    }

    /// The filter as stored with a campaign or an export.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `at` when the filter names a person.
    pub fn to_stored(&self, at: &str) -> AppResult<String> {
        if self.names_a_person() {
            return Err(AppError::invalid(
                at,
                "must describe a group of volunteers, not a person: no nationalId, phone, name or namePrefix",
            ));
        }
        let stored = Stored {
            branch_code: self.branch_code.clone(),
            statuses: self.statuses.iter().map(ActiveEnum::to_value).collect(),
            status_reasons: self.status_reasons.iter().map(ActiveEnum::to_value).collect(),
            abo: self.abo.map(|abo| abo.as_str().to_owned()),
            rh: self.rh.map(|rh| rh.as_str().to_owned()),
            hla_typed: self.hla_typed,
            city: self.city.clone(),
            min_age: self.min_age,
            max_age: self.max_age,
            registered_from_year: self.registered_from_year,
            registered_to_year: self.registered_to_year,
            confirmed_over_months: self.confirmed_over_months,
            confirmed_within_months: self.confirmed_within_months,
            campaign_id: self.campaign.map(|answer| answer.campaign_id),
            campaign_response: self
                .campaign
                .map(|answer| answer.response.map_or_else(|| NO_REPLY.to_owned(), |response| response.to_value())),
        };
        serde_json::to_string(&stored).map_err(AppError::internal)
    }

    /// Reads a stored filter back.
    ///
    /// # Errors
    /// INTERNAL when what is stored is not a filter this version wrote.
    pub fn from_stored(json: &str) -> AppResult<Self> {
        let unreadable = || AppError::internal(anyhow::anyhow!("stored filter unreadable"));
        let stored: Stored = serde_json::from_str(json).map_err(AppError::internal)?;
        let statuses = stored.statuses.iter().map(|code| DonorStatus::try_from_value(code).map_err(|_| unreadable()));
        let reasons =
            stored.status_reasons.iter().map(|code| StatusReason::try_from_value(code).map_err(|_| unreadable()));
        let campaign = match stored.campaign_id {
            None => None,
            Some(campaign_id) => {
                let response = match stored.campaign_response.as_deref() {
                    None | Some(NO_REPLY) => None,
                    Some(name) => Some(CampaignResponse::try_from_value(&name.to_owned()).map_err(|_| unreadable())?),
                };
                Some(CampaignAnswer { campaign_id, response })
            }
        };
        Ok(Self {
            branch_code: stored.branch_code,
            statuses: statuses.collect::<AppResult<_>>()?,
            status_reasons: reasons.collect::<AppResult<_>>()?,
            abo: stored.abo.as_deref().map(|abo| Abo::parse(abo).ok_or_else(unreadable)).transpose()?,
            rh: stored.rh.as_deref().map(|rh| Rh::parse(rh).ok_or_else(unreadable)).transpose()?,
            hla_typed: stored.hla_typed,
            city: stored.city,
            min_age: stored.min_age,
            max_age: stored.max_age,
            registered_from_year: stored.registered_from_year,
            registered_to_year: stored.registered_to_year,
            confirmed_over_months: stored.confirmed_over_months,
            confirmed_within_months: stored.confirmed_within_months,
            campaign,
            ..Self::default()
        })
    }

    /// The SQL condition on `volunteer` of this filter within `branch` (from
    /// [`Self::branch_within`]), as of `now`.
    #[must_use]
    pub fn condition(&self, keys: &KeyRing, branch: Option<&str>, now: DateTime<Utc>) -> Condition {
        let mut all = Condition::all();
        if let Some(branch) = branch {
            all = all.add(volunteer::Column::BranchCode.eq(branch));
        }
        if let Some(id) = &self.national_id {
            all = all.add(volunteer::Column::NationalIdIndex.eq(keys.blind_index.national_id(id)));
        }
        if let Some(name) = &self.name {
            all = all.add(volunteer::Column::NameIndex.eq(name_index(keys, name)));
        }
        if let Some(phone) = &self.phone {
            all = all.add(
                volunteer::Column::Id.in_subquery(
                    Query::select()
                        .column(volunteer_contact::Column::VolunteerId)
                        .from(volunteer_contact::Entity)
                        .and_where(volunteer_contact::Column::ValueIndex.eq(keys.blind_index.phone(phone)))
                        .and_where(
                            volunteer_contact::Column::Kind
                                .is_in([ContactKind::PrimaryPhone, ContactKind::SecondaryPhone]),
                        )
                        .and_where(volunteer_contact::Column::EndedAt.is_null())
                        .to_owned(),
                ),
            );
        }
        if let Some(prefix) = &self.name_prefix {
            all = all.add(
                volunteer::Column::Id.in_subquery(
                    Query::select()
                        .column(volunteer_name_prefix::Column::VolunteerId)
                        .from(volunteer_name_prefix::Entity)
                        .and_where(volunteer_name_prefix::Column::PrefixIndex.eq(name_prefix_index(keys, prefix)))
                        .to_owned(),
                ),
            );
        }
        if !self.statuses.is_empty() {
            all = all.add(volunteer::Column::Status.is_in(self.statuses.iter().copied()));
        }
        if !self.status_reasons.is_empty() {
            all = all.add(volunteer::Column::StatusReason.is_in(self.status_reasons.iter().copied()));
        }
        if let Some(abo) = self.abo {
            all = all.add(volunteer::Column::BloodAbo.eq(abo.as_str()));
        }
        if let Some(rh) = self.rh {
            all = all.add(volunteer::Column::BloodRh.eq(rh.as_str()));
        }
        if let Some(typed) = self.hla_typed {
            let untyped = HlaResolution::Untyped;
            all = all.add(if typed {
                volunteer::Column::HlaResolution.ne(untyped)
            } else {
                volunteer::Column::HlaResolution.eq(untyped)
            });
        }
        if let Some(city) = &self.city {
            all = all.add(volunteer::Column::City.eq(city.trim()));
        }
        let today = (now + chrono::Duration::seconds(i64::from(BEIJING_OFFSET_SECS))).date_naive();
        if let Some(min) = self.min_age {
            // At least `min` years old: born on or before this day `min` years ago.
            all = all.add(volunteer::Column::BirthDate.lte(years_before(today, min)));
        }
        if let Some(max) = self.max_age {
            // At most `max`: born after this day `max + 1` years ago.
            all = all.add(volunteer::Column::BirthDate.gt(years_before(today, max + 1)));
        }
        if let Some(year) = self.registered_from_year {
            all = all.add(volunteer::Column::RegisteredAt.gte(start_of_year(year)));
        }
        if let Some(year) = self.registered_to_year {
            all = all.add(volunteer::Column::RegisteredAt.lt(start_of_year(year + 1)));
        }
        if let Some(months) = self.confirmed_over_months {
            all = all.add(volunteer::Column::LastConfirmedAt.lt(months_before(now, months)));
        }
        if let Some(months) = self.confirmed_within_months {
            all = all.add(volunteer::Column::LastConfirmedAt.gte(months_before(now, months)));
        }
        if let Some(answer) = self.campaign {
            let response: SimpleExpr = match answer.response {
                Some(response) => campaign_recipient::Column::Response.eq(response),
                None => campaign_recipient::Column::Response.is_null(),
            };
            all = all.add(
                volunteer::Column::Id.in_subquery(
                    Query::select()
                        .column(campaign_recipient::Column::VolunteerId)
                        .from(campaign_recipient::Entity)
                        .and_where(campaign_recipient::Column::CampaignId.eq(answer.campaign_id))
                        .and_where(response)
                        .to_owned(),
                ),
            );
        }
        all
    }
}

fn years_before(day: NaiveDate, years: i32) -> NaiveDate {
    let months = u32::try_from(years).unwrap_or_default().saturating_mul(12);
    day.checked_sub_months(Months::new(months)).unwrap_or(NaiveDate::MIN)
}

pub(crate) fn months_before(now: DateTime<Utc>, months: i32) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(u32::try_from(months).unwrap_or_default())).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn start_of_year(year: i32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(BEIJING_OFFSET_SECS)
        .and_then(|beijing| beijing.with_ymd_and_hms(year, 1, 1, 0, 0, 0).single())
        .map_or(DateTime::<Utc>::MIN_UTC, |start| start.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_segment_reads_back_the_same() {
        let filter = VolunteerFilter {
            branch_code: Some("51".into()),
            statuses: vec![DonorStatus::Available, DonorStatus::Pending],
            status_reasons: vec![StatusReason::UnableToContact],
            abo: Some(Abo::Ab),
            rh: Some(Rh::Negative),
            hla_typed: Some(true),
            city: Some("成都".into()),
            min_age: Some(18),
            max_age: Some(45),
            registered_from_year: Some(2010),
            registered_to_year: Some(2020),
            confirmed_over_months: Some(12),
            confirmed_within_months: None,
            campaign: Some(CampaignAnswer { campaign_id: Uuid::now_v7(), response: None }),
            ..VolunteerFilter::default()
        };
        let stored = filter.to_stored("segment").unwrap();
        assert_eq!(VolunteerFilter::from_stored(&stored).unwrap(), filter);
        assert!(!stored.contains("nationalId"));
    }

    #[test]
    fn a_filter_naming_a_person_is_never_stored() {
        let filter =
            VolunteerFilter { phone: Some(Phone::parse("+8613800000001").unwrap()), ..VolunteerFilter::default() };
        let refused = filter.to_stored("segment").unwrap_err();
        assert_eq!(refused.code(), crate::error::ErrorCode::BadUserInput);
    }

    #[test]
    fn ranges_are_checked_naming_the_field() {
        let backwards = VolunteerFilter { min_age: Some(40), max_age: Some(30), ..VolunteerFilter::default() };
        assert!(
            matches!(backwards.check("filter"), Err(AppError::BadUserInput { field, .. }) if field == "filter.maxAge")
        );
        let year = VolunteerFilter { registered_from_year: Some(1800), ..VolunteerFilter::default() };
        assert!(
            matches!(year.check("filter"), Err(AppError::BadUserInput { field, .. }) if field == "filter.registeredFromYear")
        );
    }

    #[test]
    fn branch_staff_read_only_their_own_branch() {
        let own = BranchScope::Branch("51".into());
        let other = VolunteerFilter { branch_code: Some("11".into()), ..VolunteerFilter::default() };
        assert!(matches!(other.branch_within(&own), Err(AppError::Forbidden)));
        assert_eq!(VolunteerFilter::default().branch_within(&own).unwrap().as_deref(), Some("51"));
        assert_eq!(VolunteerFilter::default().branch_within(&BranchScope::All).unwrap(), None);
    }
}
