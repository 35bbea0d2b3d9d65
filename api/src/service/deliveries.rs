//! What staff may see of message delivery: their branch's messages and campaign totals; the
//! whole country for national administrators.

use uuid::Uuid;

use super::{Principal, StaffRole};
use crate::error::{AppError, AppResult};
use crate::messaging::{CampaignTotals, MessageDelivery, Messaging};

/// The branch a staff reader is limited to (`None`: every branch), or a refusal.
fn reader_branch(reader: &Principal) -> AppResult<Option<&str>> {
    match reader {
        Principal::Staff { role: StaffRole::NationalAdmin, .. } => Ok(None),
        Principal::Staff { role: StaffRole::BranchCoordinator | StaffRole::BranchRecruiter, branch, .. } => {
            Ok(Some(branch.as_str()))
        }
        _ => Err(reader.refusal()),
    }
}

/// A campaign's totals, counting only the reader's branch's messages.
pub async fn campaign_totals(messaging: &Messaging, reader: &Principal, campaign: Uuid) -> AppResult<CampaignTotals> {
    messaging.campaign_totals(campaign, reader_branch(reader)?).await
}

/// One message's delivery, if it is the reader's branch's.
pub async fn message_delivery(messaging: &Messaging, reader: &Principal, id: Uuid) -> AppResult<MessageDelivery> {
    let branch = reader_branch(reader)?;
    let delivery = messaging.message_delivery(id).await?.ok_or(AppError::NotFound { resource: "message" })?;
    if branch.is_some_and(|branch| branch != delivery.branch_code) {
        return Err(AppError::Forbidden);
    }
    Ok(delivery)
}
