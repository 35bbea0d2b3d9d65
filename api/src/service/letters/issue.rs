//! Issuing a letter (the donor from the app, or the branch's coordinator), reissuing it (the
//! new letter supersedes the old one) and revoking it.

use chrono::{DateTime, Utc};
use entity::{branch, donation_case, leave_letter, volunteer};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::schedule::{self, LeaveRules};
use super::{LetterFacts, LetterView, Letterhead, Letters, digest};
use crate::db;
use crate::domain::calendar;
use crate::domain::letter::{LeavePeriod, LetterCode, LetterLanguage, LetterStatus};
use crate::error::{AppError, AppResult};
use crate::pii::registry;
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::cases::in_scope;
use crate::service::{Principal, bounded_text};

/// The longest employer name, in characters: a company's full registered name fits.
pub const MAX_EMPLOYER_CHARS: usize = 100;

/// What a letter is asked for with.
#[derive(Clone, Debug)]
pub struct LetterRequest {
    pub periods: Vec<LeavePeriod>,
    /// The employer's name; none for the one on the donor's profile.
    pub employer: Option<String>,
    /// `zh-CN`, `en` or `both`.
    pub language: String,
}

/// Who a letter is issued or changed by, as the capabilities allow.
enum Author {
    Donor(Uuid),
    Staff { id: Uuid, scope: crate::service::BranchScope },
}

impl Author {
    fn of(actor: &Principal) -> AppResult<Self> {
        if let Ok(me) = actor.own_record() {
            return Ok(Self::Donor(me.id));
        }
        let coordinator = actor.coordinator()?;
        let Principal::Staff { id, .. } = actor else { return Err(actor.refusal()) };
        Ok(Self::Staff { id: *id, scope: coordinator.scope })
    }

    /// Whether the author may act on `case`: their own case, or their branch's.
    fn may_act_on(&self, case: &donation_case::Model) -> bool {
        match self {
            Self::Donor(id) => case.volunteer_id == Some(*id),
            Self::Staff { scope, .. } => scope.admits(&case.branch_code),
        }
    }

    fn staff_id(&self) -> Option<Uuid> {
        match self {
            Self::Donor(_) => None,
            Self::Staff { id, .. } => Some(*id),
        }
    }
}

impl Letters {
    /// Issues a letter for a case: the donor's own active case when `case_id` is none (the
    /// app), or the case a coordinator names.
    ///
    /// # Errors
    /// BAD_USER_INPUT naming the field (see [`schedule::check`]; `input.employer`,
    /// `input.language`); NOT_FOUND for no such case, or a donor without an active case;
    /// FORBIDDEN for another branch's case; CONFLICT on `caseId` for a case that has ended.
    pub async fn issue(
        &self,
        actor: &Principal,
        case_id: Option<Uuid>,
        request: LetterRequest,
        request_id: Option<&str>,
    ) -> AppResult<LetterView> {
        let author = Author::of(actor)?;
        let case = match (&author, case_id) {
            (Author::Donor(me), _) => self.active_case(*me).await?,
            (Author::Staff { scope, .. }, Some(id)) => in_scope(&self.db, scope, id).await?,
            (Author::Staff { .. }, None) => {
                return Err(AppError::invalid("caseId", "names the case the letter is for"));
            }
        };
        self.write_letter(actor, &author, &case, request, None, request_id).await
    }

    /// Issues a new letter in place of `letter_id`, which becomes superseded. Without an
    /// employer, the new letter names the one the old letter named.
    ///
    /// # Errors
    /// As [`Self::issue`]; NOT_FOUND for an unknown letter or another volunteer's; CONFLICT on
    /// `letterId` when it is no longer valid.
    pub async fn reissue(
        &self,
        actor: &Principal,
        letter_id: Uuid,
        mut request: LetterRequest,
        request_id: Option<&str>,
    ) -> AppResult<LetterView> {
        let author = Author::of(actor)?;
        let (letter, case) = self.letter_and_case_for(&author, letter_id).await?;
        if letter.status != LetterStatus::Valid.as_str() {
            return Err(AppError::Conflict { field: "letterId".into(), message: "is no longer valid".into() });
        }
        if request.employer.is_none() {
            request.employer = Some(self.facts(&letter)?.employer);
        }
        self.write_letter(actor, &author, &case, request, Some(letter.id), request_id).await
    }

    /// Revokes a valid letter: its check says so from now on, and it can no longer be
    /// downloaded.
    ///
    /// # Errors
    /// NOT_FOUND for an unknown letter or another volunteer's; FORBIDDEN for another branch's;
    /// CONFLICT on `letterId` when it is not valid.
    pub async fn revoke(&self, actor: &Principal, letter_id: Uuid, request_id: Option<&str>) -> AppResult<LetterView> {
        let author = Author::of(actor)?;
        let (letter, _) = self.letter_and_case_for(&author, letter_id).await?;
        let revoked_by = author.staff_id();
        let row = db::write!(&self.db, |txn| {
            let now = Utc::now();
            let changed = leave_letter::Entity::update_many()
                .col_expr(leave_letter::Column::Status, Expr::value(LetterStatus::Revoked.as_str()))
                .col_expr(leave_letter::Column::RevokedAt, Expr::value(now))
                .col_expr(leave_letter::Column::RevokedBy, Expr::value(revoked_by))
                .filter(leave_letter::Column::Id.eq(letter.id))
                .filter(leave_letter::Column::Status.eq(LetterStatus::Valid.as_str()))
                .exec(txn)
                .await?;
            if changed.rows_affected == 0 {
                return Ok(Err(AppError::Conflict { field: "letterId".into(), message: "is not valid".into() }));
            }
            let entry = AuditEntry { subject: Some(("leave_letter", letter.id)), request_id, ..Default::default() };
            audit::record(txn, actor, AuditAction::LeaveLetterRevoked, entry).await?;
            Ok(Ok(leave_letter::Entity::find_by_id(letter.id).one(txn).await?.ok_or(AppError::Contended)?))
        })??;
        self.view(row, true)
    }

    /// The donor's active case: the newest one not ended.
    async fn active_case(&self, volunteer_id: Uuid) -> AppResult<donation_case::Model> {
        donation_case::Entity::find()
            .filter(donation_case::Column::VolunteerId.eq(volunteer_id))
            .filter(donation_case::Column::State.is_in(["active", "follow_up"]))
            .order_by_desc(donation_case::Column::OpenedAt)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "active donation case" })
    }

    /// A letter the author may act on, with its case. Another volunteer's letter is NOT_FOUND,
    /// so that ids cannot be probed; another branch's is FORBIDDEN, as for cases.
    pub(super) async fn letter_and_case(
        &self,
        actor: &Principal,
        letter_id: Uuid,
    ) -> AppResult<(leave_letter::Model, donation_case::Model)> {
        self.letter_and_case_for(&Author::of(actor)?, letter_id).await
    }

    async fn letter_and_case_for(
        &self,
        author: &Author,
        letter_id: Uuid,
    ) -> AppResult<(leave_letter::Model, donation_case::Model)> {
        let not_found = AppError::NotFound { resource: "leave letter" };
        let letter = leave_letter::Entity::find_by_id(letter_id).one(&self.db).await?.ok_or(not_found)?;
        if let Author::Donor(me) = author
            && letter.volunteer_id != *me
        {
            return Err(AppError::NotFound { resource: "leave letter" });
        }
        let case = donation_case::Entity::find_by_id(letter.case_id)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "leave letter" })?;
        if !author.may_act_on(&case) {
            return Err(AppError::Forbidden);
        }
        Ok((letter, case))
    }

    /// Checks the request, gathers the facts and writes the letter, superseding `replaces`.
    async fn write_letter(
        &self,
        actor: &Principal,
        author: &Author,
        case: &donation_case::Model,
        request: LetterRequest,
        replaces: Option<Uuid>,
        request_id: Option<&str>,
    ) -> AppResult<LetterView> {
        let language = LetterLanguage::parse(&request.language)
            .ok_or_else(|| AppError::invalid("input.language", "must be zh-CN, en or both"))?;
        let (Some(volunteer_id), "active" | "follow_up") = (case.volunteer_id, case.state.as_str()) else {
            return Err(AppError::Conflict { field: "caseId".into(), message: "the case has ended".into() });
        };
        let donor = volunteer::Entity::find_by_id(volunteer_id)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "donation case" })?;
        let employer = self.employer(&donor, request.employer.as_deref())?;
        let branch = branch::Entity::find_by_id(case.branch_code.clone())
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound { resource: "branch" })?;
        let case_schedule = schedule::of(&self.db, case).await?;
        schedule::check(&request.periods, &case_schedule, &LeaveRules::from(&branch))?;

        let now = Utc::now();
        let code = LetterCode::generate();
        let facts = LetterFacts {
            code: code.grouped(),
            verify_url: format!("{}/letters/{}", self.settings.public_base_url.trim_end_matches('/'), code.expose()),
            language,
            donor_name: self.volunteers.identity(&donor)?.0.expose().to_owned(),
            employer,
            periods: request.periods.clone(),
            letterhead: Letterhead::of(&branch),
            issued_on: calendar::today(now),
        };
        let (id, row) = self.new_row(case, volunteer_id, &facts, &code, author.staff_id(), now)?;
        let row = db::write!(&self.db, |txn| {
            if let Some(old) = replaces {
                let changed = leave_letter::Entity::update_many()
                    .col_expr(leave_letter::Column::Status, Expr::value(LetterStatus::Superseded.as_str()))
                    .col_expr(leave_letter::Column::SupersededBy, Expr::value(Some(id)))
                    .filter(leave_letter::Column::Id.eq(old))
                    .filter(leave_letter::Column::Status.eq(LetterStatus::Valid.as_str()))
                    .exec(txn)
                    .await?;
                if changed.rows_affected == 0 {
                    return Ok(Err(AppError::Conflict {
                        field: "letterId".into(),
                        message: "is no longer valid".into(),
                    }));
                }
            }
            leave_letter::Entity::insert(row.clone()).exec_without_returning(txn).await?;
            let entry = AuditEntry { subject: Some(("leave_letter", id)), request_id, ..Default::default() };
            audit::record(txn, actor, AuditAction::LeaveLetterIssued, entry).await?;
            Ok(Ok(leave_letter::Entity::find_by_id(id).one(txn).await?.ok_or(AppError::Contended)?))
        })??;
        self.view(row, true)
    }

    /// The employer named in the request, or the one on the donor's profile.
    fn employer(&self, donor: &volunteer::Model, given: Option<&str>) -> AppResult<String> {
        if let Some(given) = given {
            return bounded_text("input.employer", given, MAX_EMPLOYER_CHARS);
        }
        let stored = donor
            .employer
            .as_ref()
            .ok_or_else(|| AppError::invalid("input.employer", "give the employer's name: the profile names none"))?;
        self.keys.cipher.decrypt(stored, registry::VOLUNTEER_EMPLOYER.at(donor.id)).map_err(AppError::internal)
    }

    /// The row for new facts: sealed, digested, and indexed by code.
    fn new_row(
        &self,
        case: &donation_case::Model,
        volunteer_id: Uuid,
        facts: &LetterFacts,
        code: &LetterCode,
        issued_by: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> AppResult<(Uuid, leave_letter::ActiveModel)> {
        let id = Uuid::now_v7();
        let json = serde_json::to_string(facts).map_err(AppError::internal)?;
        let periods = serde_json::to_string(&facts.periods).map_err(AppError::internal)?;
        let first_day =
            facts.periods.iter().map(|p| p.from).min().ok_or(AppError::invalid("input.periods", "is empty"))?;
        let last_day = facts.periods.iter().map(|p| p.to).max().unwrap_or(first_day);
        Ok((
            id,
            leave_letter::ActiveModel {
                id: Set(id),
                case_id: Set(case.id),
                volunteer_id: Set(volunteer_id),
                branch_code: Set(case.branch_code.clone()),
                periods: Set(periods),
                first_day: Set(first_day),
                last_day: Set(last_day),
                language: Set(facts.language.as_str().to_owned()),
                facts: Set(self.keys.cipher.encrypt(&json, registry::LEAVE_LETTER_FACTS.at(id))),
                digest: Set(digest(&json)),
                code_index: Set(self.keys.blind_index.code(code)),
                status: Set(LetterStatus::Valid.as_str().to_owned()),
                superseded_by: Set(None),
                issued_at: Set(now),
                issued_by: Set(issued_by),
                revoked_at: Set(None),
                revoked_by: Set(None),
                check_count: Set(0),
                last_checked_at: Set(None),
            },
        ))
    }
}
