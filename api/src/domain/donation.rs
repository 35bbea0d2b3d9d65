//! The donation case's vocabulary: its stages in the EMDIS order, whose side ends a case early
//! and why, and the follow-up schedule after collection. Each list is stored by its `as_str`
//! name.

use chrono::{Days, Months, NaiveDate};

stored_names! {
    /// The steps of a case, in order (the EMDIS MARR_STAT events). G-CSF start is PBSC only.
    Stage {
        SearchHit => "search_hit",
        CtRequested => "ct_requested",
        CtSampleTaken => "ct_sample_taken",
        CtResult => "ct_result",
        InfoSession => "info_session",
        ExamBooked => "exam_booked",
        ExamPassed => "exam_passed",
        Clearance => "clearance",
        GcsfStart => "gcsf_start",
        Collection => "collection",
        Transplant => "transplant",
        FollowUp => "follow_up",
    }
}

impl Stage {
    /// The step that must follow this one for `product`; `None` after the last.
    #[must_use]
    pub fn next(self, product: Product) -> Option<Self> {
        match (self, product) {
            (Self::Clearance, Product::Marrow) => Some(Self::Collection),
            _ => Self::ALL.get(self.rank() + 1).copied(),
        }
    }

    /// Where the stage stands in the order.
    #[must_use]
    pub fn rank(self) -> usize {
        Self::ALL.iter().position(|stage| *stage == self).unwrap_or_default()
    }

    /// The steps a case for `product` goes through, in order.
    pub fn path(product: Product) -> impl Iterator<Item = Self> {
        Self::ALL.iter().copied().filter(move |stage| product == Product::Pbsc || *stage != Self::GcsfStart)
    }

    /// From confirmatory typing on, the volunteer is reserved for the patient (RS): they
    /// cannot pause or withdraw in the app alone, and searches skip them.
    #[must_use]
    pub fn reserves(self) -> bool {
        self.rank() >= Self::CtRequested.rank()
    }

    /// A donor who backs out from clearance on is a late regret: the patient may be in
    /// conditioning already.
    #[must_use]
    pub fn is_late(self) -> bool {
        self.rank() >= Self::Clearance.rank()
    }

    /// The step's name and what it means for the donor, in Chinese and in English.
    #[must_use]
    pub const fn explained(self) -> Explained {
        let (title_zh, title_en, meaning_zh, meaning_en) = match self {
            Self::SearchHit => (
                "初步配型相合",
                "Search match",
                "一位患者的初步检索与您相合，分库协调员会尽快联系您。",
                "A patient's search matched your typing. Your coordinator will call you soon.",
            ),
            Self::CtRequested => (
                "高分辨确认配型",
                "Confirmatory typing requested",
                "移植医院请求再次采血确认配型，协调员会与您约定采样时间。",
                "The transplant centre asked for a blood sample to confirm the match; your coordinator will arrange it.",
            ),
            Self::CtSampleTaken => (
                "已采集确认样本",
                "Sample taken",
                "您的确认配型血样已送检，结果通常需要数周。",
                "Your confirmatory sample is at the laboratory; results usually take a few weeks.",
            ),
            Self::CtResult => (
                "确认配型结果",
                "Typing confirmed",
                "确认配型结果已返回，移植医院正在评估。",
                "The confirmatory result is back and the transplant centre is deciding.",
            ),
            Self::InfoSession => (
                "捐献知情说明",
                "Information session",
                "协调员向您和家人详细介绍捐献过程、风险与权益，您可以随时提问。",
                "Your coordinator explains donation, its risks and your rights to you and your family; ask anything.",
            ),
            Self::ExamBooked => (
                "已预约体检",
                "Medical exam booked",
                "捐献前体检已预约，费用由项目承担。",
                "Your pre-donation medical exam is booked; the programme covers its cost.",
            ),
            Self::ExamPassed => (
                "体检合格",
                "Medical exam passed",
                "体检结果合格，可以进入采集前确认。",
                "You are fit to donate; the next step is the final clearance.",
            ),
            Self::Clearance => (
                "采集前确认",
                "Clearance",
                "您已确认捐献，患者可能即将开始预处理，此后退出将危及患者生命。",
                "You confirmed the donation. The patient may now start conditioning, which cannot be undone.",
            ),
            Self::GcsfStart => (
                "动员剂注射",
                "G-CSF injections",
                "采集前连续数天注射动员剂，使造血干细胞进入外周血。",
                "For a few days before collection you receive injections that move stem cells into the blood.",
            ),
            Self::Collection => (
                "干细胞采集",
                "Collection",
                "采集当天在医院完成，之后请按医嘱休息。",
                "The collection takes place at the hospital; rest afterwards as advised.",
            ),
            Self::Transplant => (
                "移植",
                "Transplant",
                "您捐献的干细胞已输注给患者。",
                "Your stem cells have been given to the patient.",
            ),
            Self::FollowUp => (
                "捐献后随访",
                "Follow-up",
                "捐献后我们会定期询问您的健康状况，持续十年。",
                "We check on your health after donation, for ten years.",
            ),
        };
        Explained { title_zh, title_en, meaning_zh, meaning_en }
    }
}

/// A step's name and meaning, as the donor's timeline shows them.
#[derive(Clone, Copy, Debug)]
pub struct Explained {
    pub title_zh: &'static str,
    pub title_en: &'static str,
    pub meaning_zh: &'static str,
    pub meaning_en: &'static str,
}

stored_names! {
    /// What is collected.
    Product {
        /// Peripheral blood stem cells, after G-CSF.
        Pbsc => "pbsc",
        Marrow => "marrow",
    }
}

stored_names! {
    Urgency {
        Standard => "standard",
        Urgent => "urgent",
    }
}

stored_names! {
    /// Where a case is.
    CaseState {
        /// Moving through its steps; the volunteer has at most one.
        Active => "active",
        /// Collected and transplanted; the check-ups run.
        FollowUp => "follow_up",
        /// Ended early.
        Ended => "ended",
    }
}

stored_names! {
    /// Whose side ended a case early. Only the donor's side is regret.
    EndedBy {
        Donor => "donor",
        /// The patient or the transplant centre.
        Patient => "patient",
        /// The registry, e.g. a medical deferral.
        Registry => "registry",
    }
}

stored_names! {
    /// Why a case ended early, as the registry counts it.
    EndCause {
        Family => "family",
        Fear => "fear",
        Health => "health",
        Work => "work",
        LostContact => "lost_contact",
        Personal => "personal",
        Other => "other",
    }
}

stored_names! {
    /// What a donor or coordinator raises on a case.
    RequestKind {
        /// The donor's family is worried: it blocks clearance until resolved.
        FamilyConcern => "family_concern",
        /// The donor has a question for the coordinator.
        Question => "question",
    }
}

stored_names! {
    /// The patient's sex, when the coordinator shares it.
    PatientSex {
        Female => "female",
        Male => "male",
    }
}

stored_names! {
    /// The patient's age band, when the coordinator shares it: a band, never an age.
    AgeBand {
        Child => "0-17",
        Young => "18-39",
        Middle => "40-59",
        Older => "60+",
    }
}

stored_names! {
    /// The check-ups after collection (DKMS practice): day 2, week 1, month 1, month 6, then
    /// yearly for ten years.
    Checkpoint {
        Day2 => "day_2",
        Week1 => "week_1",
        Month1 => "month_1",
        Month6 => "month_6",
        Year1 => "year_1",
        Year2 => "year_2",
        Year3 => "year_3",
        Year4 => "year_4",
        Year5 => "year_5",
        Year6 => "year_6",
        Year7 => "year_7",
        Year8 => "year_8",
        Year9 => "year_9",
        Year10 => "year_10",
    }
}

impl Checkpoint {
    /// When the check-up is due after a collection on `collected`.
    #[must_use]
    pub fn due(self, collected: NaiveDate) -> NaiveDate {
        let due = match self {
            Self::Day2 => collected.checked_add_days(Days::new(2)),
            Self::Week1 => collected.checked_add_days(Days::new(7)),
            Self::Month1 => collected.checked_add_months(Months::new(1)),
            Self::Month6 => collected.checked_add_months(Months::new(6)),
            yearly => {
                let years = u32::try_from(yearly.rank() - Self::Month6.rank()).unwrap_or(1);
                collected.checked_add_months(Months::new(12 * years))
            }
        };
        due.unwrap_or(NaiveDate::MAX)
    }

    fn rank(self) -> usize {
        Self::ALL.iter().position(|checkpoint| *checkpoint == self).unwrap_or_default()
    }

    /// How an SMS names the check-up.
    #[must_use]
    pub fn as_zh(self) -> String {
        match self {
            Self::Day2 => "捐献后第2天".into(),
            Self::Week1 => "捐献后1周".into(),
            Self::Month1 => "捐献后1个月".into(),
            Self::Month6 => "捐献后6个月".into(),
            yearly => format!("捐献后{}年", yearly.rank() - Self::Month6.rank()),
        }
    }
}

stored_names! {
    /// What a donor may report in the follow-up questionnaire.
    Symptom {
        Fatigue => "fatigue",
        BonePain => "bone_pain",
        InjectionSite => "injection_site",
        Fever => "fever",
        Bleeding => "bleeding",
        Other => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marrow_skips_gcsf_and_pbsc_does_not() {
        assert_eq!(Stage::Clearance.next(Product::Marrow), Some(Stage::Collection));
        assert_eq!(Stage::Clearance.next(Product::Pbsc), Some(Stage::GcsfStart));
        assert_eq!(Stage::FollowUp.next(Product::Pbsc), None);
        assert!(!Stage::path(Product::Marrow).any(|stage| stage == Stage::GcsfStart));
        assert!(Stage::CtRequested.reserves() && !Stage::SearchHit.reserves());
    }

    #[test]
    fn follow_ups_run_ten_years() {
        let collected = NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
        assert_eq!(Checkpoint::Day2.due(collected), NaiveDate::from_ymd_opt(2026, 2, 2).unwrap());
        assert_eq!(Checkpoint::Month1.due(collected), NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
        assert_eq!(Checkpoint::Year10.due(collected), NaiveDate::from_ymd_opt(2036, 1, 31).unwrap());
        assert_eq!(Checkpoint::Year3.as_zh(), "捐献后3年");
    }
}
