//! Staff search: the filter input, the order, and the Relay connection of results.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result};

use super::volunteer::{Abo, DonorStatus, Rh, StatusReason, Volunteer};
use crate::domain::{NationalId, PersonName, Phone};
use crate::error::{AppError, AppResult};
use crate::graphql::loaders::prefetch;
use crate::graphql::services;
use crate::service::VolunteerReader;
use crate::service::retention::{CampaignAnswer, SearchOrder, SearchPage, SortField, VolunteerFilter};
use crate::{domain, service};

/// Which volunteers to find. Every field narrows the result; an empty filter is everyone the
/// caller may read. Ages, years and months are whole numbers.
#[derive(Debug, Default, InputObject)]
#[graphql(name = "VolunteerFilter")]
pub struct VolunteerFilterInput {
    /// One branch (GB/T 2260 code). Branch staff always search their own branch; naming
    /// another is FORBIDDEN.
    pub branch_code: Option<String>,
    /// An exact national ID number (searched through its keyed index, never stored).
    pub national_id: Option<String>,
    /// Any current phone of the volunteer, exactly.
    pub phone: Option<String>,
    /// The whole name, exactly.
    pub name: Option<String>,
    /// The first 2 to 4 characters of the name.
    pub name_prefix: Option<String>,
    pub statuses: Option<Vec<DonorStatus>>,
    pub status_reasons: Option<Vec<StatusReason>>,
    pub abo: Option<Abo>,
    pub rh: Option<Rh>,
    /// Whether HLA typing has been done.
    pub hla_typed: Option<bool>,
    /// The city given at enrolment, exactly.
    pub city: Option<String>,
    pub min_age: Option<i32>,
    pub max_age: Option<i32>,
    pub registered_from_year: Option<i32>,
    pub registered_to_year: Option<i32>,
    /// Last confirmed more than this many months ago (the stale-contact segment is 12).
    pub confirmed_over_months: Option<i32>,
    /// Last confirmed within this many months.
    pub confirmed_within_months: Option<i32>,
    /// Recipients of this campaign; with `campaignResponse`, only those who answered so.
    pub campaign_id: Option<ID>,
    pub campaign_response: Option<CampaignResponseFilter>,
}

/// How a campaign's recipient answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum CampaignResponseFilter {
    /// Replied 1.
    StillWilling,
    /// Replied 2.
    Pause,
    /// Replied TD.
    OptedOut,
    /// Has not answered.
    NoReply,
}

impl VolunteerFilterInput {
    /// The filter, its personal values parsed; `at` names the argument (`filter`, `segment`).
    ///
    /// # Errors
    /// BAD_USER_INPUT naming the field.
    pub fn parse(self, at: &str) -> AppResult<VolunteerFilter> {
        let field = |name: &str| format!("{at}.{name}");
        let refused = |name: &str| {
            let field = field(name);
            move |reason: domain::Invalid| AppError::invalid(field, reason.to_string())
        };
        let campaign = match (self.campaign_id, self.campaign_response) {
            (None, None) => None,
            (None, Some(_)) => return Err(AppError::invalid(field("campaignId"), "is needed with campaignResponse")),
            (Some(id), response) => Some(CampaignAnswer {
                campaign_id: uuid::Uuid::parse_str(&id)
                    .map_err(|_| AppError::invalid(field("campaignId"), "is not an id"))?,
                response: match response {
                    None | Some(CampaignResponseFilter::NoReply) => None,
                    Some(CampaignResponseFilter::StillWilling) => {
                        Some(entity::campaign_recipient::CampaignResponse::StillWilling)
                    }
                    Some(CampaignResponseFilter::Pause) => Some(entity::campaign_recipient::CampaignResponse::Pause),
                    Some(CampaignResponseFilter::OptedOut) => {
                        Some(entity::campaign_recipient::CampaignResponse::OptedOut)
                    }
                },
            }),
        };
        Ok(VolunteerFilter {
            branch_code: self.branch_code,
            national_id: self
                .national_id
                .map(|id| NationalId::parse(&id))
                .transpose()
                .map_err(refused("nationalId"))?,
            phone: self.phone.map(|phone| Phone::parse(&phone)).transpose().map_err(refused("phone"))?,
            name: self.name.map(|name| PersonName::parse(&name)).transpose().map_err(refused("name"))?,
            name_prefix: self
                .name_prefix
                .map(|prefix| PersonName::search_prefix(&prefix))
                .transpose()
                .map_err(refused("namePrefix"))?,
            statuses: self.statuses.unwrap_or_default().into_iter().map(Into::into).collect(),
            status_reasons: self.status_reasons.unwrap_or_default().into_iter().map(Into::into).collect(),
            abo: self.abo.map(Into::into),
            rh: self.rh.map(Into::into),
            hla_typed: self.hla_typed,
            city: self.city,
            min_age: self.min_age,
            max_age: self.max_age,
            registered_from_year: self.registered_from_year,
            registered_to_year: self.registered_to_year,
            confirmed_over_months: self.confirmed_over_months,
            confirmed_within_months: self.confirmed_within_months,
            campaign,
        })
    }
}

/// The order of search results; ties go by the volunteer's id.
#[derive(Clone, Copy, Debug, InputObject)]
pub struct VolunteerOrder {
    pub field: VolunteerOrderField,
    #[graphql(default_with = "OrderDirection::Desc")]
    pub direction: OrderDirection,
}

impl Default for VolunteerOrder {
    fn default() -> Self {
        Self { field: VolunteerOrderField::RegisteredAt, direction: OrderDirection::Desc }
    }
}

impl From<VolunteerOrder> for SearchOrder {
    fn from(order: VolunteerOrder) -> Self {
        Self {
            field: match order.field {
                VolunteerOrderField::RegisteredAt => SortField::RegisteredAt,
                VolunteerOrderField::LastConfirmedAt => SortField::LastConfirmedAt,
            },
            descending: order.direction == OrderDirection::Desc,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum VolunteerOrderField {
    RegisteredAt,
    /// Ascending: the stalest confirmations first.
    LastConfirmedAt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum OrderDirection {
    Asc,
    Desc,
}

/// Figures of a search beyond its page, computed only when asked for.
#[derive(Debug)]
pub struct SearchTotals {
    reader: VolunteerReader,
    filter: VolunteerFilter,
}

#[Object]
impl SearchTotals {
    /// How many volunteers the filter finds in all (one count over the whole register: ask
    /// for it on the first page, not on every one).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(services(ctx)?.search.count(&self.reader, &self.filter).await?)
    }
}

pub type VolunteerConnection = Connection<String, Volunteer, SearchTotals, EmptyFields>;

/// A page as a Relay connection, with the relations its nodes select loaded for the whole page.
///
/// # Errors
/// Loading the relations failed.
pub async fn connection(
    ctx: &Context<'_>,
    page: SearchPage,
    reader: VolunteerReader,
    filter: VolunteerFilter,
    after: bool,
) -> Result<VolunteerConnection> {
    let ids: Vec<uuid::Uuid> = page.edges.iter().map(|(_, view)| view.id).collect();
    let look_ahead = ctx.look_ahead();
    prefetch(ctx, &look_ahead.field("edges").field("node"), &ids).await?;
    prefetch(ctx, &look_ahead.field("nodes"), &ids).await?;
    let mut connection = Connection::with_additional_fields(after, page.has_next_page, SearchTotals { reader, filter });
    connection.edges.extend(
        page.edges.into_iter().map(|(cursor, view): (String, service::VolunteerView)| Edge::new(cursor, view.into())),
    );
    Ok(connection)
}
