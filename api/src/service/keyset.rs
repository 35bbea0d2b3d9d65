//! Keyset cursors: a page ends at the sort key and id of its last row, and the next page starts
//! strictly after them. Unlike offsets, rows inserted meanwhile never shift a page already read.
//! Cursors are opaque to clients: URL-safe base64 of the parts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::SimpleExpr;
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Checks a page size, `first`, against the list's largest page.
///
/// # Errors
/// BAD_USER_INPUT on `first` outside 1 to `max`.
pub fn check_first(first: u64, max: u64) -> AppResult<()> {
    if (1..=max).contains(&first) { Ok(()) } else { Err(AppError::invalid("first", format!("must be 1 to {max}"))) }
}

/// How many rows to fetch for a page of `first`: one more, to tell whether more follow.
#[must_use]
pub const fn fetch_size(first: u64) -> u64 {
    first + 1
}

/// A page from rows fetched with [`fetch_size`]: the first `first` of them, and the cursor
/// after the last one kept when more follow.
#[must_use]
pub fn cut<T>(mut rows: Vec<T>, first: u64, cursor_of: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    let first = usize::try_from(first).unwrap_or(usize::MAX);
    let more = rows.len() > first;
    rows.truncate(first);
    let next = if more { rows.last().map(cursor_of) } else { None };
    (rows, next)
}

/// One page of a list: its rows, and the cursor after the last one when more follow. Every
/// list added from now on answers with it (in the schema, `…Page { nodes, nextCursor }`).
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub nodes: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The page from rows fetched with [`fetch_size`], as [`cut`] makes it.
    #[must_use]
    pub fn cut(rows: Vec<T>, first: u64, cursor_of: impl Fn(&T) -> String) -> Self {
        let (nodes, next_cursor) = cut(rows, first, cursor_of);
        Self { nodes, next_cursor }
    }

    /// The same page with each row turned into another type (the GraphQL one).
    #[must_use]
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { nodes: self.nodes.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

/// The cursor of a row in an order by a timestamp then the id, named `tag`.
#[must_use]
pub fn time_cursor(tag: &str, at: DateTime<Utc>, id: Uuid) -> String {
    encode(&[tag, &time_part(at), &id.to_string()])
}

/// The timestamp and id of a [`time_cursor`] of the order `tag`.
///
/// # Errors
/// BAD_USER_INPUT on `after` for anything else: another order's cursor, a forged one.
pub fn read_time_cursor(cursor: &str, tag: &str) -> AppResult<(DateTime<Utc>, Uuid)> {
    let read = || {
        let parts = decode(cursor, tag, 2)?;
        Some((parse_time(&parts[0])?, Uuid::parse_str(&parts[1]).ok()?))
    };
    read().ok_or_else(|| AppError::invalid("after", "is not a cursor of this list and order"))
}

/// A cursor from its parts (a tag naming the order it belongs to, then the key values).
#[must_use]
pub fn encode(parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(parts.join("|"))
}

/// The parts of a cursor that has `tag` and `n` parts after it, or `None` for anything else
/// (a cursor of another order, a forged one).
#[must_use]
pub fn decode(cursor: &str, tag: &str, n: usize) -> Option<Vec<String>> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let mut parts = text.split('|');
    if parts.next()? != tag {
        return None;
    }
    let rest: Vec<String> = parts.map(str::to_owned).collect();
    (rest.len() == n).then_some(rest)
}

/// A timestamp as a cursor part, to the nanosecond, so that it compares equal to the stored one.
#[must_use]
pub fn time_part(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A cursor part read back as a timestamp.
#[must_use]
pub fn parse_time(part: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(part).ok().map(|at| at.with_timezone(&Utc))
}

/// Rows after (`key`, `id`) in the order `key, id`, both ascending or both descending.
#[must_use]
pub fn after<K: ColumnTrait, I: ColumnTrait>(
    key: K,
    key_value: impl Into<sea_orm::Value> + Clone,
    id: I,
    id_value: Uuid,
    descending: bool,
) -> Condition {
    let (beyond, id_beyond): (SimpleExpr, SimpleExpr) = if descending {
        (key.lt(key_value.clone()), id.lt(id_value))
    } else {
        (key.gt(key_value.clone()), id.gt(id_value))
    };
    Condition::any().add(beyond).add(Condition::all().add(key.eq(key_value)).add(id_beyond))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_only_for_its_own_order() {
        let at = Utc::now();
        let id = Uuid::now_v7();
        let cursor = encode(&["registered", &time_part(at), &id.to_string()]);
        let parts = decode(&cursor, "registered", 2).unwrap();
        assert_eq!(parse_time(&parts[0]), Some(at));
        assert_eq!(parts[1], id.to_string());
        assert_eq!(decode(&cursor, "confirmed", 2), None);
        assert_eq!(decode("not a cursor", "registered", 2), None);
    }
}
