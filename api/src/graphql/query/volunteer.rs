use async_graphql::{Context, ID, Object, Result};

use crate::error::AppError;
use crate::graphql::loaders::prefetch;
use crate::graphql::types::{
    DataAccess, NotificationPage, NotificationPreferences, Page, StaffAlert, Volunteer, VolunteerFilterInput,
    WithdrawalNotice,
};
use crate::graphql::{parse_id, principal, request_id, services};
use crate::service::retention::{MAX_PAGE, SearchOrder};

#[derive(Debug, Default)]
pub struct VolunteerQuery;

#[Object]
impl VolunteerQuery {
    /// The signed-in volunteer's own record, masked.
    ///
    /// Access: volunteers (their own record only).
    async fn me(&self, ctx: &Context<'_>) -> Result<Volunteer> {
        let me = principal(ctx).own_record()?;
        Ok(services(ctx)?.volunteers.me(&me).await?.into())
    }

    /// The signed-in volunteer's notifications, newest first: `first` of them (1 to 50) after
    /// the cursor `after`, with the unread count.
    ///
    /// Access: volunteers.
    async fn my_notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: u64,
        after: Option<ID>,
    ) -> Result<NotificationPage> {
        let me = principal(ctx).own_record()?;
        let after = after.map(|cursor| parse_id("after", &cursor)).transpose()?;
        let inbox = &services(ctx)?.inbox;
        let page = inbox.page(&me, first, after).await?;
        Ok(NotificationPage {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor.map(|id| ID(id.to_string())),
            unread_count: inbox.unread(&me).await?,
        })
    }

    /// The channels the signed-in volunteer accepts non-essential messages on.
    ///
    /// Access: volunteers.
    async fn my_notification_preferences(&self, ctx: &Context<'_>) -> Result<NotificationPreferences> {
        let me = principal(ctx).own_record()?;
        Ok(services(ctx)?.inbox.preferences(&me).await?.into())
    }

    /// What withdrawing would mean, and the confirmation `withdraw` asks for.
    ///
    /// Access: volunteers.
    async fn withdrawal_notice(&self, ctx: &Context<'_>) -> Result<WithdrawalNotice> {
        let me = principal(ctx).own_record()?;
        Ok(services(ctx)?.availability.withdrawal_notice(&me).await?.into())
    }

    /// The version of the consent text a new enrolment accepts.
    ///
    /// Access: anyone.
    async fn consent_version(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(services(ctx)?.volunteers.consent_version().to_owned())
    }

    /// A volunteer record, masked.
    ///
    /// Access: national administrators; coordinators and recruiters of the volunteer's branch.
    async fn volunteer(&self, ctx: &Context<'_>, id: ID) -> Result<Volunteer> {
        let reader = principal(ctx).volunteer_reader()?;
        let id = parse_id("id", &id)?;
        Ok(services(ctx)?.volunteers.get(&reader, id).await?.into())
    }

    /// The volunteers an exact national ID number or current phone finds, masked; give exactly
    /// one of the two. Only POST: the arguments are personal data, which must not travel in URLs.
    ///
    /// Access: national administrators; coordinators and recruiters (their branch's volunteers).
    #[graphql(
        deprecation = "use searchVolunteers(filter: { nationalId }) or (filter: { phone }), which pages and sorts"
    )]
    async fn find_volunteers(
        &self,
        ctx: &Context<'_>,
        national_id: Option<String>,
        phone: Option<String>,
    ) -> Result<Vec<Volunteer>> {
        let reader = principal(ctx).volunteer_reader()?;
        let filter = match (national_id, phone) {
            (Some(national_id), None) => VolunteerFilterInput { national_id: Some(national_id), ..Default::default() },
            (None, Some(phone)) => VolunteerFilterInput { phone: Some(phone), ..Default::default() },
            _ => return Err(AppError::invalid("nationalId", "give exactly one of nationalId and phone").into()),
        };
        // The old field named the arguments, not a filter: keep its field names in errors.
        let filter = filter.parse("filter").map_err(|err| match err {
            AppError::BadUserInput { field, message } => {
                AppError::BadUserInput { field: field.trim_start_matches("filter.").to_owned(), message }
            }
            other => other,
        })?;
        let page = services(ctx)?.search.search(&reader, &filter, SearchOrder::default(), MAX_PAGE, None).await?;
        let ids: Vec<uuid::Uuid> = page.edges.iter().map(|(_, view)| view.id).collect();
        prefetch(ctx, &ctx.look_ahead(), &ids).await?;
        Ok(page.edges.into_iter().map(|(_, view)| view.into()).collect())
    }

    /// Everything the registry holds about the signed-in volunteer, personal fields in clear
    /// (to them alone), as one JSON document to download. Each export is audited.
    ///
    /// Access: volunteers.
    async fn my_data_export(&self, ctx: &Context<'_>) -> Result<async_graphql::Json<serde_json::Value>> {
        let me = principal(ctx).own_record()?;
        Ok(async_graphql::Json(services(ctx)?.privacy.export(&me, request_id(ctx)).await?))
    }

    /// Which staff roles saw the signed-in volunteer's data unmasked, when, which field and
    /// why; the latest 100, newest first. No staff names.
    ///
    /// Access: volunteers.
    async fn my_data_access_log(&self, ctx: &Context<'_>) -> Result<Vec<DataAccess>> {
        let me = principal(ctx).own_record()?;
        Ok(services(ctx)?.privacy.access_log(&me).await?.into_iter().map(Into::into).collect())
    }

    /// Alerts for the caller's branch (all branches for national administrators), newest
    /// first, a page of `first` (at most 100) after the cursor `after`; open ones unless
    /// `includeResolved`.
    ///
    /// Access: national administrators; branch coordinators (their branch).
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] include_resolved: bool,
        #[graphql(default = 50)] first: u64,
        after: Option<String>,
    ) -> Result<Page<StaffAlert>> {
        let coordinator = principal(ctx).unmasker()?;
        let page = services(ctx)?.alerts.page(&coordinator, include_resolved, first, after.as_deref()).await?;
        Ok(page.into())
    }

    /// Alerts raised from the app for the caller's branch (all branches for national
    /// administrators), newest first, the latest 100; open ones unless `includeResolved`.
    ///
    /// Access: national administrators; branch coordinators (their branch).
    #[graphql(deprecation = "Use `alerts`, which pages past the latest 100.")]
    async fn staff_alerts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] include_resolved: bool,
    ) -> Result<Vec<StaffAlert>> {
        let coordinator = principal(ctx).unmasker()?;
        let alerts = services(ctx)?.alerts.list(&coordinator, include_resolved).await?;
        Ok(alerts.into_iter().map(Into::into).collect())
    }
}
