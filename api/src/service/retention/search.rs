//! Staff search over the register: a filter, an order, and pages by a keyset cursor. Results
//! are masked views, built for a whole page at once.

use chrono::{DateTime, Utc};
use entity::volunteer;
use sea_orm::{
    DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
    Statement,
};

use super::filter::VolunteerFilter;
use crate::error::AppResult;
use crate::pii::KeyRing;
use crate::service::keyset;
use crate::service::volunteer::{VolunteerService, VolunteerView};
use crate::service::{BranchScope, VolunteerReader};

/// Largest page a search returns.
pub const MAX_PAGE: u64 = 50;
/// Rows read at a time when collecting a whole result.
const COLLECT_PAGE: u64 = 1000;

/// What a search is sorted by; the volunteer's id breaks ties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortField {
    RegisteredAt,
    /// Oldest confirmation first (ascending) is the order of stale-contact work.
    LastConfirmedAt,
}

impl SortField {
    const fn tag(self) -> &'static str {
        match self {
            Self::RegisteredAt => "registered",
            Self::LastConfirmedAt => "confirmed",
        }
    }

    const fn column(self) -> volunteer::Column {
        match self {
            Self::RegisteredAt => volunteer::Column::RegisteredAt,
            Self::LastConfirmedAt => volunteer::Column::LastConfirmedAt,
        }
    }

    fn key(self, model: &volunteer::Model) -> DateTime<Utc> {
        match self {
            Self::RegisteredAt => model.registered_at,
            Self::LastConfirmedAt => model.last_confirmed_at,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchOrder {
    pub field: SortField,
    pub descending: bool,
}

impl Default for SearchOrder {
    /// Newest registrations first.
    fn default() -> Self {
        Self { field: SortField::RegisteredAt, descending: true }
    }
}

/// One page of results, each with the cursor that continues after it.
#[derive(Clone, Debug)]
pub struct SearchPage {
    pub edges: Vec<(String, VolunteerView)>,
    pub has_next_page: bool,
}

#[derive(Clone, Debug)]
pub struct SearchService {
    db: DatabaseConnection,
    keys: std::sync::Arc<KeyRing>,
    volunteers: VolunteerService,
}

impl SearchService {
    pub(crate) fn new(db: DatabaseConnection, keys: std::sync::Arc<KeyRing>, volunteers: VolunteerService) -> Self {
        Self { db, keys, volunteers }
    }

    /// The `first` volunteers after `after` that `filter` finds within the reader's reach,
    /// masked.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `first`, `after` or a filter range; FORBIDDEN for a branch outside the
    /// reader's reach.
    pub async fn search(
        &self,
        reader: &VolunteerReader,
        filter: &VolunteerFilter,
        order: SearchOrder,
        first: u64,
        after: Option<&str>,
    ) -> AppResult<SearchPage> {
        let query = self.page_query(&reader.scope, filter, order, first, after, Utc::now())?;
        let mut models = query.all(&self.db).await?;
        let has_next_page = models.len() > usize::try_from(first).unwrap_or(usize::MAX);
        models.truncate(usize::try_from(first).unwrap_or(usize::MAX));
        let cursors: Vec<String> = models.iter().map(|model| cursor(order.field, model)).collect();
        let views = self.volunteers.views(&models).await?;
        Ok(SearchPage { edges: cursors.into_iter().zip(views).collect(), has_next_page })
    }

    /// Every volunteer `filter` finds within `scope`, masked, up to `limit`, oldest
    /// registration first, read in pages of a thousand: for exports.
    ///
    /// # Errors
    /// As [`Self::search`].
    pub(crate) async fn collect(
        &self,
        scope: &BranchScope,
        filter: &VolunteerFilter,
        limit: u64,
    ) -> AppResult<Vec<VolunteerView>> {
        let order = SearchOrder { field: SortField::RegisteredAt, descending: false };
        let now = Utc::now();
        let mut views = Vec::new();
        let mut after = None;
        while u64::try_from(views.len()).unwrap_or(u64::MAX) < limit {
            let page = limit.saturating_sub(u64::try_from(views.len()).unwrap_or(u64::MAX)).min(COLLECT_PAGE);
            let mut models = self.query(scope, filter, order, page, after.as_deref(), now)?.all(&self.db).await?;
            let more = u64::try_from(models.len()).unwrap_or_default() > page;
            models.truncate(usize::try_from(page).unwrap_or(usize::MAX));
            let Some(last) = models.last() else { break };
            after = Some(cursor(order.field, last));
            views.extend(self.volunteers.views(&models).await?);
            if !more {
                break;
            }
        }
        Ok(views)
    }

    /// How many volunteers `filter` finds within the reader's reach.
    ///
    /// # Errors
    /// As [`Self::search`].
    pub async fn count(&self, reader: &VolunteerReader, filter: &VolunteerFilter) -> AppResult<u64> {
        filter.check("filter")?;
        let branch = filter.branch_within(&reader.scope)?;
        let condition = filter.condition(&self.keys, branch.as_deref(), Utc::now());
        Ok(volunteer::Entity::find().filter(condition).count(&self.db).await?)
    }

    /// The statement one page runs, for benchmarks that time and EXPLAIN it beside the service.
    ///
    /// # Errors
    /// As [`Self::search`].
    pub fn page_statement(
        &self,
        scope: &BranchScope,
        filter: &VolunteerFilter,
        order: SearchOrder,
        first: u64,
    ) -> AppResult<Statement> {
        let query = self.page_query(scope, filter, order, first, None, Utc::now())?;
        Ok(query.build(self.db.get_database_backend()))
    }

    fn page_query(
        &self,
        scope: &BranchScope,
        filter: &VolunteerFilter,
        order: SearchOrder,
        first: u64,
        after: Option<&str>,
        now: DateTime<Utc>,
    ) -> AppResult<Select<volunteer::Entity>> {
        keyset::check_first(first, MAX_PAGE)?;
        self.query(scope, filter, order, first, after, now)
    }

    /// The query of `first` rows after `after` (and one more, to tell whether more follow).
    fn query(
        &self,
        scope: &BranchScope,
        filter: &VolunteerFilter,
        order: SearchOrder,
        first: u64,
        after: Option<&str>,
        now: DateTime<Utc>,
    ) -> AppResult<Select<volunteer::Entity>> {
        filter.check("filter")?;
        let branch = filter.branch_within(scope)?;
        let mut query = volunteer::Entity::find().filter(filter.condition(&self.keys, branch.as_deref(), now));
        if let Some(cursor) = after {
            let (at, id) = keyset::read_time_cursor(cursor, order.field.tag())?;
            query = query.filter(keyset::after(order.field.column(), at, volunteer::Column::Id, id, order.descending));
        }
        let direction = if order.descending { sea_orm::Order::Desc } else { sea_orm::Order::Asc };
        Ok(query
            .order_by(order.field.column(), direction.clone())
            .order_by(volunteer::Column::Id, direction)
            .limit(keyset::fetch_size(first)))
    }
}

fn cursor(field: SortField, model: &volunteer::Model) -> String {
    keyset::time_cursor(field.tag(), field.key(model), model.id)
}
