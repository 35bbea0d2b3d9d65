//! Retention operations, for branch staff: search the register, reach volunteers through
//! campaigns and the lost-contact work queue, and read the attrition figures.

mod attrition;
mod campaigns;
mod exports;
mod filter;
mod launcher;
mod replies;
mod scheduled;
mod search;
mod work_queue;

pub use attrition::{Attrition, MonthFigures, Reconnected};
pub use campaigns::{
    CampaignDefinition, CampaignPage, CampaignPreview, CampaignReplies, CampaignService, CampaignView,
};
pub use exports::{APPROVAL_THRESHOLD, ExportFile, ExportService, ExportView, MAX_ROWS};
pub use filter::{CampaignAnswer, VolunteerFilter};
pub use launcher::{CampaignLaunch, LAUNCH};
pub use replies::{CampaignReply, RECOMMITMENT_TEMPLATE, RESPONSE_WINDOW_DAYS};
pub use scheduled::RetentionJobs;
pub use search::{MAX_PAGE, SearchOrder, SearchPage, SearchService, SortField};
pub use work_queue::{LostContactReason, QueueEntry, QueuePage, QueueRefresh, WorkQueue};

/// How many rows of a grouped or aggregate read meet `condition` (0 when none do): one
/// aggregate statement instead of one count per figure.
fn count_where(condition: sea_orm::Condition) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, Func};
    Func::coalesce([Expr::from(Func::sum(Expr::case(condition, 1).finally(0))), Expr::val(0)]).into()
}
