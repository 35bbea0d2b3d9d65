//! Use cases. Each service takes the acting [`Principal`] and checked input, owns the rules,
//! and returns domain values or an [`AppError`](crate::error::AppError). Transports (GraphQL,
//! HTTP) call services; services never know which transport called them.

mod branches;
pub mod development;
mod principal;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

pub use branches::BranchService;
pub use principal::{Principal, StaffRole};

use crate::messaging::Messaging;
use crate::pii::KeyRing;

/// Every service, built once at start-up and shared by all requests.
#[derive(Clone, Debug)]
pub struct Services {
    pub branches: BranchService,
    /// The outbox and its delivery, which every service that messages a volunteer uses.
    pub messaging: Messaging,
    /// Personal-data keys, for the services of later tables.
    pub keys: Arc<KeyRing>,
}

impl Services {
    #[must_use]
    pub fn new(db: DatabaseConnection, keys: Arc<KeyRing>, messaging: Messaging) -> Self {
        Self { branches: BranchService::new(db), messaging, keys }
    }
}
