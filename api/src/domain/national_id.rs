//! The Chinese resident identity number, GB 11643-1999.

use std::fmt;

use chrono::{Datelike, NaiveDate, Utc};

use super::Invalid;

/// Weights of the ISO 7064 MOD 11-2 check over the first 17 digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each remainder 0..=10.
const CHECK_CHARS: [u8; 11] = *b"10X98765432";
/// Province-level codes of GB/T 2260 that issue resident IDs, and 81/82/83 for the residence
/// permits of Hong Kong, Macao and Taiwan residents, which use the same format.
const PROVINCES: [&str; 35] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44",
    "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Sex {
    Female,
    Male,
}

/// A checked 18-character resident ID, normalised to upper case.
///
/// `Debug` prints the masked form, so an ID that slips into a log line shows no more than the
/// masked output every screen shows.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NationalId(String);

impl NationalId {
    /// Checks length, characters, province, birth date and the MOD 11-2 check character.
    ///
    /// # Errors
    /// [`Invalid`] naming the first rule the input breaks.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let id = raw.trim().to_ascii_uppercase();
        let bytes = id.as_bytes();
        if bytes.len() != 18 {
            return Err(Invalid("must be 18 characters"));
        }
        if !bytes[..17].iter().all(u8::is_ascii_digit) || !(bytes[17].is_ascii_digit() || bytes[17] == b'X') {
            return Err(Invalid("must be 17 digits followed by a digit or X"));
        }
        if !PROVINCES.contains(&&id[..2]) {
            return Err(Invalid("does not start with a known province code"));
        }
        let birth = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d")
            .map_err(|_| Invalid("does not contain a valid birth date"))?;
        if birth.year() < 1900 || birth > Utc::now().date_naive() {
            return Err(Invalid("does not contain a plausible birth date"));
        }
        let sum: u32 = bytes[..17].iter().zip(WEIGHTS).map(|(digit, weight)| u32::from(digit - b'0') * weight).sum();
        if CHECK_CHARS[(sum % 11) as usize] != bytes[17] {
            return Err(Invalid("check character does not match"));
        }
        Ok(Self(id))
    }

    /// The number for an address code, a birth date and a 3-digit sequence, with its check
    /// character computed: for synthetic volunteers in development and tests.
    ///
    /// # Errors
    /// [`Invalid`] when the parts do not make a valid number.
    pub fn from_parts(address_code: &str, birth: NaiveDate, sequence: u16) -> Result<Self, Invalid> {
        let first17 = format!("{address_code}{}{:03}", birth.format("%Y%m%d"), sequence % 1000);
        if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid("must be 17 digits followed by a digit or X"));
        }
        let sum: u32 = first17.bytes().zip(WEIGHTS).map(|(digit, weight)| u32::from(digit - b'0') * weight).sum();
        Self::parse(&format!("{first17}{}", char::from(CHECK_CHARS[(sum % 11) as usize])))
    }

    /// The normalised number, for encryption and the blind index. Never display it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    #[must_use]
    pub fn birth_date(&self) -> NaiveDate {
        // Checked in `parse`; re-deriving keeps the type a plain string.
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").unwrap_or_default()
    }

    /// The sequence's last digit is odd for men and even for women.
    #[must_use]
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 { Sex::Male } else { Sex::Female }
    }

    /// The province code the ID was issued under (not necessarily the volunteer's branch).
    #[must_use]
    pub fn province_code(&self) -> &str {
        &self.0[..2]
    }

    /// `110105********002X`: the address code and the last four, which staff use to confirm a
    /// caller's identity, without the birth date.
    #[must_use]
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

impl fmt::Debug for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NationalId({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "11010519491231002X";

    #[test]
    fn accepts_the_standard_example_and_derives_birth_date_and_sex() {
        let id = NationalId::parse(VALID).unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.province_code(), "11");
        assert_eq!(id.masked(), "110105********002X");
    }

    #[test]
    fn normalises_a_lower_case_check_character_and_whitespace() {
        assert_eq!(NationalId::parse(" 11010519491231002x ").unwrap().expose(), VALID);
    }

    #[test]
    fn an_odd_sequence_is_male() {
        // 110105 19491231 001: the weighted sum leaves remainder 0, whose check character is 1.
        let id = NationalId::parse("110105194912310011").unwrap();
        assert_eq!(id.sex(), Sex::Male);
    }

    #[test]
    fn refuses_each_broken_rule_with_its_own_reason() {
        let cases = [
            ("11010519491231002", "must be 18 characters"),
            ("1101051949123100AX", "must be 17 digits followed by a digit or X"),
            ("99010519491231002X", "does not start with a known province code"),
            ("110105194902300028", "does not contain a valid birth date"),
            ("110105189912310020", "does not contain a plausible birth date"),
            ("110105194912310021", "check character does not match"),
        ];
        for (raw, reason) in cases {
            assert_eq!(NationalId::parse(raw), Err(Invalid(reason)), "{raw}");
        }
    }

    #[test]
    fn debug_output_is_masked() {
        let id = NationalId::parse(VALID).unwrap();
        assert_eq!(format!("{id:?}"), "NationalId(110105********002X)");
    }
}
