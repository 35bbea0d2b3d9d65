//! Codes that people read, type and scan: random Crockford base-32 characters and a check
//! character, shown in groups of four. A redemption code and a leave letter's verification code
//! are both of this shape and differ only in length.
//!
//! The check character is Luhn mod 32, which catches every single mistyped character and every
//! swap of two neighbours but `0`/`Z`, so a typo is told apart from a wrong code before any
//! lookup.

use std::marker::PhantomData;

use rand::Rng;

use super::Invalid;

/// Crockford's base-32 alphabet: no I, L, O or U, so a code read aloud or copied by hand is
/// not mistaken.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// What one kind of code is: how many random characters it has, and how it is described when
/// its length is wrong.
pub trait CodeKind {
    /// Random characters before the check character.
    const RANDOM_CHARS: usize;
    /// The refusal for a wrong length, naming the shape.
    const SHAPE: &'static str;
    /// The name in `Debug`, which never shows the code.
    const NAME: &'static str;
    /// The blind index's domain, so that equal codes of two kinds never share an index.
    const INDEX_DOMAIN: &'static str;
}

/// A code of kind `K`, normalised: upper case, no separators.
pub struct CheckedCode<K> {
    normalised: String,
    kind: PhantomData<K>,
}

impl<K> Clone for CheckedCode<K> {
    fn clone(&self) -> Self {
        Self { normalised: self.normalised.clone(), kind: PhantomData }
    }
}

impl<K> PartialEq for CheckedCode<K> {
    fn eq(&self, other: &Self) -> bool {
        self.normalised == other.normalised
    }
}

impl<K> Eq for CheckedCode<K> {}

impl<K: CodeKind> std::fmt::Debug for CheckedCode<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}([REDACTED])", K::NAME)
    }
}

impl<K: CodeKind> CheckedCode<K> {
    /// A new random code.
    #[must_use]
    pub fn generate() -> Self {
        let mut rng = rand::thread_rng();
        let mut code: String =
            (0..K::RANDOM_CHARS).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect();
        code.push(check_char(&code));
        Self { normalised: code, kind: PhantomData }
    }

    /// Reads a code as typed: case, spaces and hyphens do not matter, and I, L and O read as
    /// 1, 1 and 0.
    ///
    /// # Errors
    /// [`Invalid`] for a wrong length, a character outside the alphabet, or a check character
    /// that does not match.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code: String = raw
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| match c.to_ascii_uppercase() {
                'I' | 'L' => '1',
                'O' => '0',
                other => other,
            })
            .collect();
        if code.chars().count() != K::RANDOM_CHARS + 1 {
            return Err(Invalid(K::SHAPE));
        }
        if !code.bytes().all(|byte| ALPHABET.contains(&byte)) {
            return Err(Invalid("holds a character that is not in a code"));
        }
        let (body, check) = code.split_at(K::RANDOM_CHARS);
        if !check.starts_with(check_char(body)) {
            return Err(Invalid("does not check: a character is mistyped"));
        }
        Ok(Self { normalised: code, kind: PhantomData })
    }

    /// The normalised code, for the blind index and for links.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.normalised
    }

    /// The code as shown and printed, in groups of four: `XXXX-XXXX-XXXX`.
    #[must_use]
    pub fn grouped(&self) -> String {
        let chars: Vec<char> = self.normalised.chars().collect();
        chars.chunks(4).map(|chunk| chunk.iter().collect::<String>()).collect::<Vec<_>>().join("-")
    }
}

/// Luhn mod N over the alphabet.
fn check_char(body: &str) -> char {
    let n = ALPHABET.len();
    let mut factor = 2;
    let mut sum = 0;
    for byte in body.bytes().rev() {
        let value = ALPHABET.iter().position(|&c| c == byte).unwrap_or(0);
        let addend = factor * value;
        sum += addend / n + addend % n;
        factor = if factor == 2 { 1 } else { 2 };
    }
    char::from(ALPHABET[(n - sum % n) % n])
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Short;
    impl CodeKind for Short {
        const RANDOM_CHARS: usize = 11;
        const SHAPE: &'static str = "must be 12 characters";
        const NAME: &'static str = "Short";
        const INDEX_DOMAIN: &'static str = "short";
    }
    type Code = CheckedCode<Short>;

    #[test]
    fn a_generated_code_reads_back_however_it_is_typed() {
        for _ in 0..200 {
            let code = Code::generate();
            let grouped = code.grouped();
            assert_eq!(grouped.len(), 14);
            assert_eq!(Code::parse(&grouped.to_lowercase()).unwrap(), code);
            assert_eq!(Code::parse(&grouped.replace('-', " ")).unwrap(), code);
        }
    }

    #[test]
    fn every_single_typo_and_neighbour_swap_is_caught() {
        let code = Code::generate();
        let chars: Vec<u8> = code.expose().bytes().collect();
        for at in 0..chars.len() {
            for &other in ALPHABET {
                if other == chars[at] {
                    continue;
                }
                let mut typo = chars.clone();
                typo[at] = other;
                assert!(Code::parse(std::str::from_utf8(&typo).unwrap()).is_err());
            }
            let pair = [chars[at], chars.get(at + 1).copied().unwrap_or(chars[at])];
            if pair[0] != pair[1] && pair != *b"0Z" && pair != *b"Z0" {
                let mut swapped = chars.clone();
                swapped.swap(at, at + 1);
                assert!(Code::parse(std::str::from_utf8(&swapped).unwrap()).is_err());
            }
        }
    }

    #[test]
    fn confusable_letters_read_as_digits_and_bad_shapes_are_refused() {
        let code = Code::generate();
        let typed = code.expose().replace('1', "l").replace('0', "O");
        assert_eq!(Code::parse(&typed).unwrap(), code);
        assert_eq!(Code::parse("ABC"), Err(Invalid("must be 12 characters")));
        assert!(Code::parse("ABCD-EFGH-JKU!").is_err());
        assert!(!format!("{code:?}").contains(code.expose()));
    }
}
