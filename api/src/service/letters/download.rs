//! Single-use download links: a mutation returns a link that works once, for a few minutes,
//! and holds nothing but a random token (no personal data in the URL). The PDF is rendered
//! from the letter's sealed facts on the way out.

use chrono::{DateTime, Duration, Utc};
use entity::{leave_letter, letter_download};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{Letters, Standing};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::{Principal, opaque_token};

/// Where the app fetches a letter's PDF, once.
#[derive(Clone, Debug)]
pub struct DownloadLink {
    /// The public address, `{public_base_url}/letters/download/{token}`.
    pub url: String,
    /// The same, relative to this service: the app calls the API host it already knows.
    pub path: String,
    pub expires_at: DateTime<Utc>,
}

impl Letters {
    /// A new link to a valid letter's PDF. Staff downloads are audited: the PDF holds the
    /// donor's full name.
    ///
    /// # Errors
    /// As for acting on the letter; CONFLICT on `letterId` for a letter that is revoked,
    /// superseded or expired.
    pub async fn download_link(
        &self,
        actor: &Principal,
        letter_id: Uuid,
        request_id: Option<&str>,
    ) -> AppResult<DownloadLink> {
        let (letter, _) = self.letter_and_case(actor, letter_id).await?;
        if self.standing(&letter) != Standing::Valid {
            return Err(AppError::Conflict { field: "letterId".into(), message: "is not valid".into() });
        }
        let token = opaque_token::new();
        let hash = opaque_token::hash(&token);
        let now = Utc::now();
        let expires_at = now + Duration::minutes(self.settings.download_minutes);
        let staff = actor.own_record().is_err();
        db::write!(&self.db, |txn| {
            let row = letter_download::ActiveModel {
                token_hash: Set(hash.clone()),
                letter_id: Set(letter.id),
                created_at: Set(now),
                expires_at: Set(expires_at),
                used_at: Set(None),
            };
            letter_download::Entity::insert(row).exec_without_returning(txn).await?;
            if staff {
                let entry = AuditEntry {
                    subject: Some(("leave_letter", letter.id)),
                    purpose: Some("leave letter for the donor's employer"),
                    request_id,
                    ..Default::default()
                };
                audit::record(txn, actor, AuditAction::LeaveLetterDownloaded, entry).await?;
            }
            Ok(())
        })?;
        let path = format!("/letters/download/{token}");
        let url = format!("{}{path}", self.settings.public_base_url.trim_end_matches('/'));
        Ok(DownloadLink { url, path, expires_at })
    }

    /// Spends a link and renders its letter. `None` for a link that is unknown, used, expired,
    /// or whose letter is no longer valid: each is the same "gone" to whoever holds it.
    ///
    /// # Errors
    /// The database failed, or rendering did.
    pub async fn download(&self, token: &str) -> AppResult<Option<Vec<u8>>> {
        if token.len() > 64 {
            return Ok(None);
        }
        let hash = opaque_token::hash(token);
        let letter_id = db::write!(&self.db, |txn| {
            let now = Utc::now();
            let Some(link) = letter_download::Entity::find_by_id(hash.clone()).one(txn).await? else {
                return Ok(None);
            };
            let spent = letter_download::Entity::update_many()
                .col_expr(letter_download::Column::UsedAt, Expr::value(Some(now)))
                .filter(letter_download::Column::TokenHash.eq(hash.clone()))
                .filter(letter_download::Column::UsedAt.is_null())
                .filter(letter_download::Column::ExpiresAt.gt(now))
                .exec(txn)
                .await?;
            Ok((spent.rows_affected == 1).then_some(link.letter_id))
        })?;
        let Some(letter_id) = letter_id else { return Ok(None) };
        let Some(letter) = leave_letter::Entity::find_by_id(letter_id).one(&self.db).await? else { return Ok(None) };
        if self.standing(&letter) != Standing::Valid {
            return Ok(None);
        }
        let facts = self.facts(&letter)?;
        // A few milliseconds of CPU: off the request workers, so that other requests go on.
        let font = self.font.clone();
        let pdf = tokio::task::spawn_blocking(move || super::pdf::render(&font, &facts))
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::internal)?;
        Ok(Some(pdf))
    }

    /// Deletes links past their expiry, for the periodic purge.
    ///
    /// # Errors
    /// The database failed.
    pub async fn purge_links(&self, now: DateTime<Utc>) -> AppResult<u64> {
        let gone = letter_download::Entity::delete_many()
            .filter(letter_download::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await?;
        Ok(gone.rows_affected)
    }
}

/// Deletes expired download links every hour.
#[derive(Debug)]
pub struct LinkPurge(pub Letters);

#[async_trait::async_trait]
impl crate::jobs::Periodic for LinkPurge {
    fn name(&self) -> &'static str {
        "letters.purge_links"
    }

    fn every(&self) -> Duration {
        Duration::hours(1)
    }

    async fn run(&self, now: DateTime<Utc>) -> AppResult<u64> {
        self.0.purge_links(now).await
    }
}
