//! Employer leave letters: the donor asks the app for a letter covering the days of their
//! case's schedule (the medical exam; G-CSF days and collection; rest after it), the branch's
//! coordinator can issue, reissue and revoke one, and an employer checks a letter's code on a
//! public page without signing in.
//!
//! A letter certifies dates and what they are for, never health data: it names no diagnosis,
//! no patient, no HLA value and no ID number. What it was made from (the facts) is sealed with
//! a digest; the PDF is rendered again from them on each download and never stored.
//!
//! Who may do what, stated here once and taken as capabilities:
//! - the donor ([`OwnRecord`](crate::service::OwnRecord)) asks for, reissues, revokes and
//!   downloads letters of their own active case, and sees how often each was checked;
//! - a [`Coordinator`](crate::service::Coordinator) of the case's branch issues, reissues,
//!   revokes and downloads them (downloads are audited: the PDF holds the donor's full name);
//! - a [`VolunteerReader`](crate::service::VolunteerReader) of the branch lists a case's
//!   letters, without their contents;
//! - anyone checks a code, within a per-address rate limit.
//!
//! - `schedule.rs`: which dates a case's schedule and the branch's rules allow;
//! - `issue.rs`: issuing, reissuing and revoking;
//! - `read.rs`: the views and lists;
//! - `verify.rs`: the public check;
//! - `download.rs`: single-use download links and the PDF;
//! - `pdf.rs` and `qr.rs`: rendering.

mod download;
mod issue;
mod pdf;
pub mod qr;
mod read;
mod schedule;
mod verify;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use download::{DownloadLink, LinkPurge};
pub use issue::LetterRequest;
pub use pdf::{LetterFont, date};
pub use read::MAX_CHECKS_LISTED;
pub use verify::Verification;

use super::volunteer::VolunteerService;
use crate::config::LetterSettings;
use crate::domain::letter::{LeavePeriod, LetterLanguage};
use crate::pii::KeyRing;

/// The font shipped with the service: WenQuanYi Micro Hei (Apache-2.0, or GPL-3 with the font
/// embedding exception), as Debian packages it.
const SHIPPED_FONT: &[u8] = include_bytes!("../../../assets/fonts/wqy-microhei.ttc");

impl LetterFont {
    /// The configured font file, or the one shipped with the service.
    ///
    /// # Errors
    /// The configured file cannot be read, or is not a font with Chinese glyphs.
    pub fn load(settings: &LetterSettings) -> anyhow::Result<Self> {
        match &settings.font_path {
            Some(path) => {
                let data = std::fs::read(path)
                    .map_err(|error| anyhow::anyhow!("letters.font_path {}: {error}", path.display()))?;
                Self::new(data, settings.font_index)
            }
            None => Self::new(SHIPPED_FONT.to_vec(), settings.font_index),
        }
    }
}

/// Leave letters. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Letters {
    db: DatabaseConnection,
    keys: Arc<KeyRing>,
    volunteers: VolunteerService,
    font: LetterFont,
    settings: LetterSettings,
}

/// What a letter is made from: everything it prints, and nothing else. Sealed as JSON, with
/// the SHA-256 of that JSON as the letter's digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterFacts {
    /// The verification code, grouped as printed.
    pub code: String,
    pub verify_url: String,
    pub language: LetterLanguage,
    pub donor_name: String,
    pub employer: String,
    pub periods: Vec<LeavePeriod>,
    pub letterhead: Letterhead,
    /// The day it was issued, in the branch's time.
    pub issued_on: NaiveDate,
}

/// The issuing branch, as the letter's head prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letterhead {
    pub branch_code: String,
    pub name_zh: String,
    pub name_en: String,
    pub contact: Option<String>,
}

impl Letterhead {
    /// The branch as the programme's: `中华骨髓库四川分库`, `China Marrow Donor Program, Sichuan
    /// Branch`.
    #[must_use]
    pub fn of(branch: &entity::branch::Model) -> Self {
        Self {
            branch_code: branch.code.clone(),
            name_zh: format!("中华骨髓库{}分库", branch.name_zh),
            name_en: format!("China Marrow Donor Program, {} Branch", branch.name_en),
            contact: branch.letter_contact.clone(),
        }
    }
}

/// Where a letter stands for whoever reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    Valid,
    Revoked,
    Superseded,
    /// Valid once, and past its last day by more than the configured days.
    Expired,
}

/// A letter as the donor and staff list it.
#[derive(Clone, Debug)]
pub struct LetterView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub branch_code: String,
    pub periods: Vec<LeavePeriod>,
    pub language: LetterLanguage,
    pub standing: Standing,
    pub issued_at: DateTime<Utc>,
    /// Issued by staff rather than asked for in the app.
    pub issued_by_staff: bool,
    pub revoked_at: Option<DateTime<Utc>>,
    pub superseded_by: Option<Uuid>,
    pub digest: String,
    pub check_count: i32,
    pub last_checked_at: Option<DateTime<Utc>>,
    /// The code and the employer: for the donor and the branch's coordinators, not readers.
    pub code: Option<String>,
    pub employer: Option<String>,
}

impl Letters {
    #[must_use]
    pub fn new(
        db: DatabaseConnection,
        keys: Arc<KeyRing>,
        volunteers: VolunteerService,
        (font, settings): (LetterFont, LetterSettings),
    ) -> Self {
        Self { db, keys, volunteers, font, settings }
    }

    /// Renders facts as the PDF a download returns: for the benchmark and the tests, which
    /// measure and read the same renderer.
    ///
    /// # Errors
    /// krilla failed.
    pub fn render(&self, facts: &LetterFacts) -> anyhow::Result<Vec<u8>> {
        pdf::render(&self.font, facts)
    }
}

/// The digest of facts: hex SHA-256 of their JSON.
#[must_use]
pub fn digest(json: &str) -> String {
    crate::digest::sha256_hex(json.as_bytes())
}
