//! The one page shape of lists added from now on: `nodes` and `nextCursor`, with keyset
//! cursors. The lists written before it keep their own shapes (`…Page { events }`, a Relay
//! connection for search) so as not to break their clients.

use async_graphql::{OutputType, SimpleObject};

use super::{CheckUp, DonationCase, RequestedCase, StaffAlert};
use crate::service::keyset;

/// A page of a list, in the list's order.
#[derive(Debug, SimpleObject)]
#[graphql(concrete(name = "StaffAlertPage", params(StaffAlert)))]
#[graphql(concrete(name = "DonationCasePage", params(DonationCase)))]
#[graphql(concrete(name = "RequestedCasePage", params(RequestedCase)))]
#[graphql(concrete(name = "CheckUpPage", params(CheckUp)))]
pub struct Page<T: OutputType> {
    /// The rows of this page.
    pub nodes: Vec<T>,
    /// Pass as `after` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

impl<T: OutputType, S: Into<T>> From<keyset::Page<S>> for Page<T> {
    fn from(page: keyset::Page<S>) -> Self {
        let page = page.map(Into::into);
        Self { nodes: page.nodes, next_cursor: page.next_cursor }
    }
}
