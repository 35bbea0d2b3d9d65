//! People's names, as volunteers type them (Chinese, or Latin for minority and foreign names).

use std::fmt;

use super::Invalid;

/// Longest accepted name, in characters. Chinese names are 2 to 4; transliterated minority
/// names run long, so there is room, but not for a pasted paragraph.
const MAX_CHARS: usize = 50;

/// The name prefixes kept for search, in characters. Not one: a blind index of surnames alone
/// would group the whole register by surname and find nothing a coordinator could use.
const SEARCH_PREFIX_CHARS: std::ops::RangeInclusive<usize> = 2..=4;

/// A person's name: trimmed, inner whitespace collapsed, 1 to 50 printable characters.
/// `Debug` prints the masked form.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// # Errors
    /// [`Invalid`] when empty, too long, or holding control characters or digits.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if raw.len() > MAX_CHARS * 4 {
            return Err(Invalid("must be at most 50 characters"));
        }
        let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        let length = name.chars().count();
        if length == 0 {
            return Err(Invalid("must not be empty"));
        }
        if length > MAX_CHARS {
            return Err(Invalid("must be at most 50 characters"));
        }
        if name.chars().any(|c| c.is_control() || c.is_ascii_digit()) {
            return Err(Invalid("must be a name: no digits or control characters"));
        }
        Ok(Self(name))
    }

    /// The name in clear, for encryption. Never display it unmasked without an audited purpose.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The form the blind index is taken of, so that case and spacing do not defeat a search.
    #[must_use]
    pub fn normalised(&self) -> String {
        self.0.to_lowercase()
    }

    /// The normalised prefixes staff can search this name by: its first two, three and four
    /// characters (fewer for a shorter name).
    #[must_use]
    pub fn search_prefixes(&self) -> Vec<String> {
        let normalised: Vec<char> = self.normalised().chars().collect();
        SEARCH_PREFIX_CHARS
            .filter(|length| *length <= normalised.len())
            .map(|length| normalised[..length].iter().collect())
            .collect()
    }

    /// Reads a name prefix typed into a search, normalised as the stored prefixes are.
    ///
    /// # Errors
    /// [`Invalid`] unless it is two to four characters of a name.
    pub fn search_prefix(raw: &str) -> Result<String, Invalid> {
        let prefix = Self::parse(raw)?.normalised();
        if SEARCH_PREFIX_CHARS.contains(&prefix.chars().count()) {
            Ok(prefix)
        } else {
            Err(Invalid("must be the first 2 to 4 characters of a name; search a whole name by `name`"))
        }
    }

    /// The first character and a star for each other one: `张*`, `欧**娜`-style masks reveal
    /// more than a registry needs, so only the surname's first character stays.
    #[must_use]
    pub fn masked(&self) -> String {
        super::contact::masked_text(&self.0)
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PersonName").field(&self.masked()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_collapsed_and_bounded() {
        assert_eq!(PersonName::parse("  张  三 ").unwrap().expose(), "张 三");
        assert_eq!(PersonName::parse("").unwrap_err(), Invalid("must not be empty"));
        assert_eq!(PersonName::parse("   ").unwrap_err(), Invalid("must not be empty"));
        assert!(PersonName::parse(&"名".repeat(51)).is_err());
        assert!(PersonName::parse(&"a".repeat(10_000)).is_err());
        assert!(PersonName::parse("张三\u{0}").is_err());
        assert!(PersonName::parse("Zhang3").is_err());
        assert!(PersonName::parse("阿依古丽·买买提").is_ok());
    }

    #[test]
    fn masking_keeps_only_the_first_character() {
        assert_eq!(PersonName::parse("张三").unwrap().masked(), "张*");
        assert_eq!(PersonName::parse("欧阳娜娜").unwrap().masked(), "欧***");
        assert_eq!(PersonName::parse("李").unwrap().masked(), "李*");
        assert_eq!(format!("{:?}", PersonName::parse("Li Lei").unwrap()), "PersonName(\"L****\")");
    }

    #[test]
    fn search_prefixes_are_two_to_four_characters() {
        assert_eq!(PersonName::parse("欧阳娜娜").unwrap().search_prefixes(), ["欧阳", "欧阳娜", "欧阳娜娜"]);
        assert_eq!(PersonName::parse("张三").unwrap().search_prefixes(), ["张三"]);
        assert!(PersonName::parse("李").unwrap().search_prefixes().is_empty());
        assert_eq!(PersonName::parse("Li Lei").unwrap().search_prefixes(), ["li", "li ", "li l"]);
        assert_eq!(PersonName::search_prefix(" 王芳 ").unwrap(), "王芳");
        assert!(PersonName::search_prefix("王").is_err());
        assert!(PersonName::search_prefix("王芳芳芳芳").is_err());
    }
}
