//! The registry's calendar: months start at midnight Beijing time, wherever a server runs.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

/// China Standard Time, which has no daylight saving.
const BEIJING: Duration = Duration::hours(8);

/// `now`'s date in Beijing time.
#[must_use]
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    (now + BEIJING).date_naive()
}

/// The first day of `now`'s month, in Beijing time.
#[must_use]
pub fn month_of(now: DateTime<Utc>) -> NaiveDate {
    let local = today(now);
    local.with_day(1).unwrap_or(local)
}

/// The instant a month begins.
#[must_use]
pub fn start_of(month: NaiveDate) -> DateTime<Utc> {
    month.and_hms_opt(0, 0, 0).map_or(DateTime::<Utc>::MIN_UTC, |midnight| midnight.and_utc() - BEIJING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_follow_beijing_time() {
        let late_utc = DateTime::parse_from_rfc3339("2026-11-30T17:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(month_of(late_utc), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert_eq!(start_of(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()).to_rfc3339(), "2026-11-30T16:00:00+00:00");
    }
}
