//! Closed lists of the volunteer's record: blood groups, how people relate to a volunteer,
//! where a family stands, and why a volunteer leaves. Each is stored by its `as_str` name.

/// ABO and Rh, when the volunteer knows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BloodGroup {
    pub abo: Abo,
    pub rh: Rh,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Abo {
    A,
    B,
    O,
    Ab,
}

impl Abo {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::O => "O",
            Self::Ab => "AB",
        }
    }

    #[must_use]
    pub fn parse(stored: &str) -> Option<Self> {
        [Self::A, Self::B, Self::O, Self::Ab].into_iter().find(|abo| abo.as_str() == stored)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Rh {
    Positive,
    Negative,
}

impl Rh {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Positive => "positive",
            Self::Negative => "negative",
        }
    }

    #[must_use]
    pub fn parse(stored: &str) -> Option<Self> {
        [Self::Positive, Self::Negative].into_iter().find(|rh| rh.as_str() == stored)
    }
}

stored_names! {
    /// How a backup contact or family member relates to the volunteer.
    Relationship {
        Parent => "parent",
        Spouse => "spouse",
        Child => "child",
        Sibling => "sibling",
        OtherRelative => "other_relative",
        Friend => "friend",
        Colleague => "colleague",
        Other => "other",
    }
}

impl Relationship {
    /// The word an SMS to the contact uses for the volunteer ("your friend …").
    #[must_use]
    pub const fn as_zh(self) -> &'static str {
        match self {
            Self::Parent => "子女",
            Self::Spouse => "配偶",
            Self::Child => "父母",
            Self::Sibling => "兄弟姐妹",
            Self::OtherRelative => "亲属",
            Self::Friend => "朋友",
            Self::Colleague => "同事",
            Self::Other => "熟人",
        }
    }
}

stored_names! {
    /// Where a family member stands on the registration.
    Stance {
        Supportive => "supportive",
        Undecided => "undecided",
        Opposed => "opposed",
    }
}

stored_names! {
    /// Why a volunteer leaves, in their words; the causes the registry tracks for regret.
    WithdrawalCause {
        Family => "family",
        Work => "work",
        Health => "health",
        Fear => "fear",
        Moved => "moved",
        Personal => "personal",
        Other => "other",
    }
}

stored_names! {
    /// The EMDIS reasons a volunteer may give for a pause in the app.
    PauseReason {
        /// `MR`: pregnancy counts as medical.
        Medical => "MR",
        /// `PR`: travel counts as personal.
        Personal => "PR",
        /// `MO`.
        Moved => "MO",
    }
}

stored_names! {
    /// How staff tried to reach a volunteer.
    AttemptChannel {
        PhoneCall => "phone_call",
        Sms => "sms",
        Wechat => "wechat",
        Letter => "letter",
        Visit => "visit",
        BackupContact => "backup_contact",
    }
}

stored_names! {
    /// What came of an attempt to reach a volunteer.
    AttemptOutcome {
        Reached => "reached",
        NoAnswer => "no_answer",
        /// The number belongs to someone else: the contact is marked invalid.
        WrongNumber => "wrong_number",
        /// The number is not in service: the contact is marked invalid.
        NotInService => "not_in_service",
        Refused => "refused",
        CallLater => "call_later",
    }
}

impl AttemptOutcome {
    /// Whether the outcome proves the contact tried is no way to reach the volunteer.
    #[must_use]
    pub const fn invalidates_contact(self) -> bool {
        matches!(self, Self::WrongNumber | Self::NotInService)
    }

    /// Whether the attempt failed to reach the volunteer: what counts towards marking them
    /// lost. A refusal or "call later" reached them.
    #[must_use]
    pub const fn failed_to_reach(self) -> bool {
        matches!(self, Self::NoAnswer | Self::WrongNumber | Self::NotInService)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_read_back() {
        for cause in WithdrawalCause::ALL {
            assert_eq!(WithdrawalCause::parse(cause.as_str()), Some(*cause));
        }
        assert_eq!(Relationship::parse("friend"), Some(Relationship::Friend));
        assert_eq!(Abo::parse("AB"), Some(Abo::Ab));
        assert_eq!(Rh::parse("neutral"), None);
    }
}
