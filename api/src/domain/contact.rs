//! The contact values a volunteer types besides phones, and short free texts (city, occupation,
//! employer): each trimmed and bounded, so that a pasted paragraph or a control character never
//! reaches storage.

use super::Invalid;

/// The first character and a star for each other one (`张*`, `四*******`): enough for its owner
/// to recognise, too little for anyone else to use.
#[must_use]
pub fn masked_text(text: &str) -> String {
    let mut chars = text.chars();
    let first = chars.next().unwrap_or('*');
    let rest = chars.filter(|c| !c.is_whitespace()).count().max(1);
    std::iter::once(first).chain(std::iter::repeat_n('*', rest)).collect()
}

/// A trimmed, single-line text of 1 to `max` characters.
///
/// # Errors
/// [`Invalid`] when empty, too long, or holding control characters.
pub fn short_text(raw: &str, max: usize) -> Result<String, Invalid> {
    if raw.len() > max * 4 {
        return Err(Invalid("is too long"));
    }
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.chars().count() {
        0 => Err(Invalid("must not be empty")),
        n if n > max => Err(Invalid("is too long")),
        _ if text.chars().any(char::is_control) => Err(Invalid("must not hold control characters")),
        _ => Ok(text),
    }
}

/// An e-mail address, lower-cased. Only its shape is checked (one `@`, a dotted domain): the
/// one real check is a message that arrives.
///
/// # Errors
/// [`Invalid`] for anything that cannot be an address.
pub fn email(raw: &str) -> Result<String, Invalid> {
    let address = raw.trim().to_lowercase();
    let shape = Invalid("must be an e-mail address");
    if address.len() > 254 || address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(shape);
    }
    let Some((local, domain)) = address.split_once('@') else { return Err(shape) };
    let dotted = domain.split('.').count() >= 2 && domain.split('.').all(|label| !label.is_empty());
    if local.is_empty() || domain.contains('@') || !dotted {
        return Err(shape);
    }
    Ok(address)
}

/// A WeChat id: 6 to 20 characters, a letter first, then letters, digits, `-` or `_`
/// (WeChat's own rule for ids users choose).
///
/// # Errors
/// [`Invalid`] for anything else.
pub fn wechat_id(raw: &str) -> Result<String, Invalid> {
    let id = raw.trim();
    let mut chars = id.chars();
    let letter_first = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if (6..=20).contains(&id.len()) && letter_first && rest_ok {
        Ok(id.to_owned())
    } else {
        Err(Invalid("must be a WeChat id: 6 to 20 letters, digits, - or _, starting with a letter"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_are_trimmed_and_bounded() {
        assert_eq!(short_text("  成都   市 ", 50).unwrap(), "成都 市");
        assert!(short_text(" ", 50).is_err());
        assert!(short_text(&"字".repeat(51), 50).is_err());
        assert!(short_text(&"a".repeat(10_000), 50).is_err());
        assert!(short_text("a\u{7}b", 50).is_err());
    }

    #[test]
    fn emails_and_wechat_ids_are_checked_for_shape() {
        assert_eq!(email(" Li.Lei@Example.CN ").unwrap(), "li.lei@example.cn");
        for bad in ["", "no-at", "a@b", "a@@b.cn", "@b.cn", "a b@c.cn", "a@b..cn"] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert!(wechat_id("li_lei-88").is_ok());
        for bad in ["", "8lilei", "short", "li lei 88", "汉字汉字汉字", &"a".repeat(21)] {
            assert!(wechat_id(bad).is_err(), "{bad}");
        }
    }
}
