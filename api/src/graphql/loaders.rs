//! Per-request batching of a volunteer record's relations. A page of fifty search results or
//! work-queue entries, each with its backup contacts, costs one statement for the page and one
//! for every backup contact on it, not fifty-one.
//!
//! One [`DataLoader`] is made for each request (by the [`Loaders`] extension), never shared
//! across requests: what it holds was read for one caller. A resolver that returns a list of
//! volunteers calls [`prefetch`] with their ids, which loads every relation the query selects
//! for all of them at once; the relation fields then read the loader's cache. Batching by the
//! loader's timer alone would depend on how fast the list's fields happen to be polled.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest};
use async_graphql::{Context, Lookahead, Request, ServerResult};
use futures::future::BoxFuture;
use uuid::Uuid;

use crate::error::AppError;
use crate::service::Services;

/// Loads the relations of many volunteers at once.
#[derive(Debug)]
pub struct Relations {
    services: Services,
}

/// Declares a relation: its key type, the view each volunteer has a list of, and the batched
/// service call that reads them for many volunteers.
macro_rules! relations {
    ($($(#[$doc:meta])* $key:ident($field:literal) => $view:ty, |$services:ident, $ids:ident| $load:expr;)+) => {
        /// Loads, for all of `ids`, each relation that `node` (a volunteer's selection) asks for.
        async fn prefetch_selected(loader: &RelationLoader, node: &Lookahead<'_>, ids: &[Uuid]) -> async_graphql::Result<()> {
            let mut loads: Vec<BoxFuture<'_, async_graphql::Result<()>>> = Vec::new();
            $(
                if node.field($field).exists() {
                    let keys = ids.iter().map(|id| $key(*id));
                    loads.push(Box::pin(async move { loader.load_many(keys).await.map(|_| ()) }));
                }
            )+
            futures::future::try_join_all(loads).await.map(|_| ())
        }
        $(relation!($(#[$doc])* $key => $view, |$services, $ids| $load);)+
    };
}

macro_rules! relation {
    ($(#[$doc:meta])* $key:ident => $view:ty, |$services:ident, $ids:ident| $load:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub Uuid);

        impl Loader<$key> for Relations {
            type Value = Vec<$view>;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let $ids: Vec<Uuid> = keys.iter().map(|key| key.0).collect();
                let $services = &self.services;
                let mut found = $load.await.map_err(async_graphql::Error::from)?;
                Ok(keys.iter().map(|key| (*key, found.remove(&key.0).unwrap_or_default())).collect())
            }
        }
    };
}

relations! {
    /// The current contacts.
    CurrentContacts("contacts") => crate::service::volunteer::ContactView,
        |services, ids| services.contacts.contacts_of(&ids, false);
    /// Every contact, ended ones too.
    ContactHistory("contactHistory") => crate::service::volunteer::ContactView,
        |services, ids| services.contacts.contacts_of(&ids, true);
    BackupContacts("backupContacts") => crate::service::volunteer::BackupContactView,
        |services, ids| services.contacts.backup_contacts_of(&ids);
    FamilyMembers("familyMembers") => crate::service::volunteer::FamilyMemberView,
        |services, ids| services.family.members_of(&ids);
    ContactAttempts("contactAttempts") => crate::service::volunteer::AttemptView,
        |services, ids| services.attempts.attempts_of(&ids);
    StatusHistory("statusHistory") => crate::service::volunteer::StatusChangeView,
        |services, ids| services.status.histories(services.db(), &ids);
    /// The latest messages, with their delivery.
    Messages("messages") => crate::messaging::MessageDelivery,
        |services, ids| services.messaging.messages_of(&ids, MESSAGES_PER_VOLUNTEER);
}

/// How many of a volunteer's latest messages the record shows.
pub const MESSAGES_PER_VOLUNTEER: u64 = 50;

/// Loads every relation `node` selects for all the volunteers `ids` of a list, in one batch
/// each, before their fields are resolved.
///
/// # Errors
/// As [`load`].
pub async fn prefetch(ctx: &Context<'_>, node: &Lookahead<'_>, ids: &[Uuid]) -> async_graphql::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    prefetch_selected(loader(ctx)?, node, ids).await
}

/// The relation `key` of one volunteer, batched with every other asked for in this request.
///
/// # Errors
/// The schema was executed without the [`Loaders`] extension, or the read failed.
pub async fn load<K, V>(ctx: &Context<'_>, key: K) -> async_graphql::Result<Vec<V>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    Relations: Loader<K, Value = Vec<V>, Error = async_graphql::Error>,
    V: Send + Sync + Clone + 'static,
{
    Ok(loader(ctx)?.load_one(key).await?.unwrap_or_default())
}

/// This request's loader, which caches what it read for the request's lifetime.
type RelationLoader = DataLoader<Relations, HashMapCache>;

fn loader<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a RelationLoader> {
    Ok(ctx
        .data::<RelationLoader>()
        .map_err(|_| AppError::internal(anyhow::anyhow!("no relation loader on this request")))?)
}

/// Gives every request its own [`DataLoader`] of [`Relations`].
#[derive(Debug)]
pub struct Loaders {
    services: Services,
}

impl Loaders {
    #[must_use]
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

impl ExtensionFactory for Loaders {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequest { services: self.services.clone() })
    }
}

struct PerRequest {
    services: Services,
}

#[async_graphql::async_trait::async_trait]
impl Extension for PerRequest {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let loader = DataLoader::with_cache(
            Relations { services: self.services.clone() },
            tokio::spawn,
            HashMapCache::default(),
        );
        next.run(ctx, request.data(loader)).await
    }
}
