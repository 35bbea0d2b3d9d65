//! Phone numbers, held in E.164 and checked by libphonenumber's metadata.

use std::fmt;

use phonenumber::{Mode, PhoneNumber, country};

use super::Invalid;

/// A valid phone number, normalised to E.164 (`+8613800000001`).
///
/// Numbers without a country code are read as mainland Chinese, as volunteers type them.
/// `Debug` prints the masked form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    e164: String,
    country_code: u16,
    mainland_mobile: bool,
}

impl Phone {
    /// # Errors
    /// [`Invalid`] when the text is not a phone number, or not a valid one for its country.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 32 {
            return Err(Invalid("must be a phone number"));
        }
        let number = phonenumber::parse(Some(country::Id::CN), raw).map_err(|_| Invalid("must be a phone number"))?;
        if !phonenumber::is_valid(&number) {
            return Err(Invalid("is not a valid phone number"));
        }
        Ok(Self::from_number(&number))
    }

    /// Like [`Phone::parse`], but only a mainland mobile (+86 1xx xxxx xxxx) can receive the
    /// registry's SMS, so contact numbers that must be reachable by SMS go through this.
    ///
    /// # Errors
    /// [`Invalid`] when the number is not a valid mainland mobile.
    pub fn parse_mainland_mobile(raw: &str) -> Result<Self, Invalid> {
        let phone = Self::parse(raw)?;
        if phone.mainland_mobile { Ok(phone) } else { Err(Invalid("must be a mainland mobile number")) }
    }

    /// A phone this service stored (E.164, checked by [`Phone::parse`] when it was written),
    /// read back. Mainland mobiles, nearly every stored number, are recognised by their form;
    /// libphonenumber's parsing is the costly part of reading a page of records or queueing a
    /// campaign. Any other number is parsed again.
    ///
    /// # Errors
    /// [`Invalid`] when what is stored is not a phone number (a corrupted value).
    pub fn from_stored(e164: &str) -> Result<Self, Invalid> {
        if let Some(national) = e164.strip_prefix("+86")
            && national.len() == 11
            && national.starts_with('1')
            && national.bytes().all(|byte| byte.is_ascii_digit())
        {
            return Ok(Self { e164: e164.to_owned(), country_code: 86, mainland_mobile: true });
        }
        Self::parse(e164)
    }

    fn from_number(number: &PhoneNumber) -> Self {
        let e164 = number.format().mode(Mode::E164).to_string();
        let national = number.national().to_string();
        let country_code = number.code().value();
        let mainland_mobile = country_code == 86 && national.len() == 11 && national.starts_with('1');
        Self { e164, country_code, mainland_mobile }
    }

    /// The E.164 form, for encryption, the blind index and the SMS gateway. Never display it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.e164
    }

    #[must_use]
    pub fn is_mainland_mobile(&self) -> bool {
        self.mainland_mobile
    }

    /// `138****0001` for a mainland mobile, as Chinese services show it; otherwise the country
    /// code and the last four digits.
    #[must_use]
    pub fn masked(&self) -> String {
        let digits = &self.e164[1..];
        let last4 = &digits[digits.len().saturating_sub(4)..];
        if self.mainland_mobile {
            format!("{}****{last4}", &digits[2..5])
        } else {
            format!("+{}****{last4}", self.country_code)
        }
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_national_and_international_forms_as_the_same_e164() {
        for raw in ["13800000001", "+8613800000001", "+86 138 0000 0001", "008613800000001"] {
            let phone = Phone::parse(raw).unwrap();
            assert_eq!(phone.expose(), "+8613800000001", "{raw}");
            assert!(phone.is_mainland_mobile());
        }
    }

    #[test]
    fn masks_a_mainland_mobile_as_chinese_services_do() {
        assert_eq!(Phone::parse("13800000001").unwrap().masked(), "138****0001");
        assert_eq!(format!("{:?}", Phone::parse("13900000002").unwrap()), "Phone(139****0002)");
    }

    #[test]
    fn refuses_what_is_not_a_valid_number() {
        for raw in ["", "hello", "1380000000", "138000000011", "+86 12345", &"1".repeat(40)] {
            assert!(Phone::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn a_landline_or_foreign_number_is_not_a_mainland_mobile() {
        let landline = Phone::parse("010 6552 9988").unwrap();
        assert!(!landline.is_mainland_mobile());
        assert_eq!(Phone::parse_mainland_mobile("+44 20 7946 0018"), Err(Invalid("must be a mainland mobile number")));
        assert_eq!(Phone::parse("+44 20 7946 0018").unwrap().masked(), "+44****0018");
    }

    #[test]
    fn a_stored_number_reads_back_as_it_parsed() {
        for raw in ["+8613800000001", "+8617100000002", "+14155550123", "+85291234567", "+861012345678"] {
            let parsed = Phone::parse(raw).unwrap();
            assert_eq!(Phone::from_stored(parsed.expose()).unwrap(), parsed, "{raw}");
        }
        assert!(Phone::from_stored("not a phone").is_err());
    }
}
