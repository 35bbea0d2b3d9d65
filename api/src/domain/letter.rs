//! Leave letters' vocabulary: what a period of leave is for, the letter's languages and
//! status, its verification code, and the plain words a letter and its check page use.
//!
//! A letter certifies dates and their purpose, never health data: the words here name no
//! diagnosis, no patient and no HLA value, and a test holds the rendered letter to that.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::checked_code::{CheckedCode, CodeKind};

stored_names! {
    /// What a period of leave is for.
    LeavePurpose {
        /// The medical exam before donation.
        MedicalExam => "medical_exam",
        /// G-CSF injection days before a PBSC collection.
        Mobilisation => "mobilisation",
        /// The collection itself.
        Collection => "collection",
        /// Rest after collection.
        Rest => "rest",
    }
}

stored_names! {
    /// The letter's language: Simplified Chinese, English, or both on one page.
    LetterLanguage {
        ZhCn => "zh-CN",
        En => "en",
        Both => "both",
    }
}

stored_names! {
    /// Where a letter stands; expiry is read from its dates, not stored.
    LetterStatus {
        Valid => "valid",
        Revoked => "revoked",
        Superseded => "superseded",
    }
}

impl LeavePurpose {
    /// What the days are for, in plain words, as a letter and its check page say it.
    #[must_use]
    pub const fn words(self, language: Language) -> &'static str {
        match (self, language) {
            (Self::MedicalExam, Language::Zh) => "捐献前体检",
            (Self::MedicalExam, Language::En) => "the medical check-up before donation",
            (Self::Mobilisation, Language::Zh) => "捐献前准备（动员注射）",
            (Self::Mobilisation, Language::En) => "preparation for donation (daily injections)",
            (Self::Collection, Language::Zh) => "造血干细胞采集",
            (Self::Collection, Language::En) => "the stem-cell collection",
            (Self::Rest, Language::Zh) => "采集后休息",
            (Self::Rest, Language::En) => "rest after the collection",
        }
    }
}

/// One language of a page or a letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Zh,
    En,
}

impl LetterLanguage {
    /// The languages printed, Chinese first.
    #[must_use]
    pub fn printed(self) -> &'static [Language] {
        match self {
            Self::ZhCn => &[Language::Zh],
            Self::En => &[Language::En],
            Self::Both => &[Language::Zh, Language::En],
        }
    }
}

/// Days of leave for one purpose, first and last day included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeavePeriod {
    pub purpose: LeavePurpose,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl LeavePeriod {
    /// Days covered, both ends included.
    #[must_use]
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

/// A leave letter's verification code: 19 random characters (95 bits, so that guessing a
/// letter's code is pointless even without the page's rate limit) and a check character,
/// shown as five groups of four.
pub type LetterCode = CheckedCode<Verification>;

/// The kind of [`LetterCode`].
#[derive(Debug)]
pub struct Verification;

impl CodeKind for Verification {
    const RANDOM_CHARS: usize = 19;
    const SHAPE: &'static str = "must be 20 characters, as XXXX-XXXX-XXXX-XXXX-XXXX";
    const NAME: &'static str = "LetterCode";
    const INDEX_DOMAIN: &'static str = "letter_code";
}

/// What the letter says, around its dates, in one language.
#[derive(Clone, Copy, Debug)]
pub struct Wording {
    pub title: &'static str,
    pub salutation: &'static str,
    pub body: &'static str,
    pub request: &'static str,
    pub dates_heading: &'static str,
    pub verify: &'static str,
    pub code_label: &'static str,
    pub contact_label: &'static str,
    pub issued_label: &'static str,
}

impl Language {
    /// The letter's words. `{name}` and `{employer}` are filled in; nothing else is.
    #[must_use]
    pub const fn wording(self) -> Wording {
        match self {
            Self::Zh => Wording {
                title: "请假证明",
                salutation: "{employer}：",
                body: "{name}是中华骨髓库的志愿者，将参加一次自愿、无偿的造血干细胞捐献。",
                request: "恳请贵单位在以下日期准予假期，并在采集后给予休息。感谢贵单位对生命接力的支持。",
                dates_heading: "请假日期",
                verify: "扫描二维码或访问以下网址，可核验本证明：",
                code_label: "核验码",
                contact_label: "联系方式",
                issued_label: "出具日期",
            },
            Self::En => Wording {
                title: "Leave letter",
                salutation: "To {employer}:",
                body: "{name} is a volunteer of the China Marrow Donor Program and will take part in a voluntary, \
                       unpaid stem-cell donation.",
                request: "We ask you to grant leave on the dates below, and rest after the collection. Thank you for \
                          supporting a gift of life.",
                dates_heading: "Dates of leave",
                verify: "Scan the QR code or open this address to check this letter:",
                code_label: "Verification code",
                contact_label: "Contact",
                issued_label: "Issued on",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_letter_code_is_long_and_reads_back() {
        let code = LetterCode::generate();
        assert_eq!(code.grouped().len(), 24);
        assert_eq!(LetterCode::parse(&code.grouped().to_lowercase()).unwrap(), code);
        assert!(LetterCode::parse("ABCD-EFGH-JKMN").is_err());
    }

    #[test]
    fn the_words_name_no_health_data() {
        for language in [Language::Zh, Language::En] {
            let wording = language.wording();
            let all = [wording.body, wording.request, wording.title]
                .into_iter()
                .chain(LeavePurpose::ALL.iter().map(|purpose| purpose.words(language)))
                .collect::<String>()
                .to_lowercase();
            for word in ["patient", "leukaemia", "leukemia", "hla", "diagnos", "患者", "白血病", "诊断", "配型"]
            {
                assert!(!all.contains(word), "{word}");
            }
        }
    }

    #[test]
    fn a_period_counts_both_ends() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        assert_eq!(LeavePeriod { purpose: LeavePurpose::Rest, from: day(10), to: day(11) }.days(), 2);
    }
}
