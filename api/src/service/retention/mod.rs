//! Retention operations, for branch staff: search the register, reach volunteers through
//! campaigns and the lost-contact work queue, and read the attrition figures.

mod filter;
mod search;

pub use filter::{CampaignAnswer, VolunteerFilter};
pub use search::{MAX_PAGE, SearchOrder, SearchPage, SearchService, SortField};
