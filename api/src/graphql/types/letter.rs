//! Leave letters in the contract: the donor's and staff's letters, the request for one, its
//! single-use download link, and the public check an employer makes. `LeavePurpose` mirrors
//! `crate::domain::letter` one to one (`remote`). The language is a string (`zh-CN`, `en` or
//! `both`), so that an unknown one is BAD_USER_INPUT on `input.language`, like every other
//! refusal of a value.

use async_graphql::{Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::letter::{self, Language};
use crate::service::letters as service;

/// What days of leave are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "letter::LeavePurpose")]
pub enum LeavePurpose {
    /// The medical exam before donation: the day the hospital accepted.
    MedicalExam,
    /// G-CSF injection days before a PBSC collection, ending the day before it.
    Mobilisation,
    /// The collection, from its scheduled day.
    Collection,
    /// Rest, from the day after the last collection day.
    Rest,
}

/// Where a letter stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum LetterStanding {
    Valid,
    /// Withdrawn by the donor or the branch.
    Revoked,
    /// Replaced by a reissued letter.
    Superseded,
    /// Past its last day of leave by more than the deployment's `letters.expires_after_days`.
    Expired,
}

impl From<service::Standing> for LetterStanding {
    fn from(standing: service::Standing) -> Self {
        match standing {
            service::Standing::Valid => Self::Valid,
            service::Standing::Revoked => Self::Revoked,
            service::Standing::Superseded => Self::Superseded,
            service::Standing::Expired => Self::Expired,
        }
    }
}

/// Days of leave for one purpose, both ends included.
#[derive(Debug, SimpleObject)]
pub struct LeavePeriod {
    pub purpose: LeavePurpose,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: i32,
    /// What the days are for, as the letter says it.
    pub words_zh: &'static str,
    pub words_en: &'static str,
}

impl From<letter::LeavePeriod> for LeavePeriod {
    fn from(period: letter::LeavePeriod) -> Self {
        Self {
            purpose: period.purpose.into(),
            from: period.from,
            to: period.to,
            days: i32::try_from(period.days()).unwrap_or(i32::MAX),
            words_zh: period.purpose.words(Language::Zh),
            words_en: period.purpose.words(Language::En),
        }
    }
}

/// One period a letter asks for.
#[derive(Debug, InputObject)]
pub struct LeavePeriodInput {
    pub purpose: LeavePurpose,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// What a letter is asked for with.
#[derive(Debug, InputObject)]
pub struct LeaveLetterInput {
    /// One to four periods, each purpose once, within the case's schedule and the branch's
    /// rules.
    pub periods: Vec<LeavePeriodInput>,
    /// The employer's name, 1 to 100 characters; omitted, the one the replaced letter named
    /// (a reissue) or the one on the donor's profile.
    pub employer: Option<String>,
    /// `zh-CN`, `en` or `both` (one page, Chinese first).
    pub language: String,
}

impl From<LeaveLetterInput> for service::LetterRequest {
    fn from(input: LeaveLetterInput) -> Self {
        Self {
            periods: input
                .periods
                .into_iter()
                .map(|period| letter::LeavePeriod { purpose: period.purpose.into(), from: period.from, to: period.to })
                .collect(),
            employer: input.employer,
            language: input.language,
        }
    }
}

/// A leave letter. The PDF is fetched through `leaveLetterDownload`.
#[derive(Debug, SimpleObject)]
pub struct LeaveLetter {
    pub id: ID,
    pub case_id: ID,
    pub periods: Vec<LeavePeriod>,
    /// `zh-CN`, `en` or `both`.
    pub language: &'static str,
    pub status: LetterStanding,
    pub issued_at: DateTime<Utc>,
    /// Issued by the branch rather than asked for in the app.
    pub issued_by_staff: bool,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The letter that replaced this one.
    pub superseded_by: Option<ID>,
    /// SHA-256 of the facts the letter was rendered from: the same facts, the same letter.
    pub digest: String,
    /// How many times the letter's code was checked.
    pub check_count: i32,
    pub last_checked_at: Option<DateTime<Utc>>,
    /// The verification code, as printed; for the donor and coordinators only.
    pub code: Option<String>,
    /// The employer named; for the donor and coordinators only.
    pub employer: Option<String>,
}

impl From<service::LetterView> for LeaveLetter {
    fn from(view: service::LetterView) -> Self {
        Self {
            id: view.id.into(),
            case_id: view.case_id.into(),
            periods: view.periods.into_iter().map(Into::into).collect(),
            language: view.language.as_str(),
            status: view.standing.into(),
            issued_at: view.issued_at,
            issued_by_staff: view.issued_by_staff,
            revoked_at: view.revoked_at,
            superseded_by: view.superseded_by.map(Into::into),
            digest: view.digest,
            check_count: view.check_count,
            last_checked_at: view.last_checked_at,
            code: view.code,
            employer: view.employer,
        }
    }
}

/// A single-use link to a letter's PDF.
#[derive(Debug, SimpleObject)]
pub struct LetterDownload {
    /// The public address.
    pub url: String,
    /// The same address relative to the API host.
    pub path: String,
    pub expires_at: DateTime<Utc>,
}

impl From<service::DownloadLink> for LetterDownload {
    fn from(link: service::DownloadLink) -> Self {
        Self { url: link.url, path: link.path, expires_at: link.expires_at }
    }
}

/// What an employer's check of a letter's code shows, and nothing more.
#[derive(Debug, SimpleObject)]
pub struct LetterCheck {
    pub status: LetterStanding,
    /// The donor's name, masked: the first character only.
    pub donor_name: String,
    pub periods: Vec<LeavePeriod>,
    pub branch_name_zh: String,
    pub branch_name_en: String,
    pub issued_at: DateTime<Utc>,
}

impl From<service::Verification> for LetterCheck {
    fn from(check: service::Verification) -> Self {
        Self {
            status: check.standing.into(),
            donor_name: check.masked_name,
            periods: check.periods.into_iter().map(Into::into).collect(),
            branch_name_zh: check.branch_name_zh,
            branch_name_en: check.branch_name_en,
            issued_at: check.issued_at,
        }
    }
}
