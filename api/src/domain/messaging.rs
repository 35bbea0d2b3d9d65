//! Rules of the registry's messages that need no storage: filling a template, counting SMS
//! segments as the gateways bill them, and the quiet hours of a branch.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Timelike, Utc};

/// A template filled with its variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    /// Variable values in the order their placeholders appear: the parameter list of gateways
    /// whose templates are registered with them (Tencent's `TemplateParamSet`).
    pub params: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("variable `{0}` is missing")]
    Missing(String),
    #[error("variable `{0}` is not used by this template")]
    Unused(String),
    #[error("the template has an unclosed placeholder")]
    Unclosed,
}

/// Fills `{name}` placeholders. Every placeholder needs a value and every value a placeholder,
/// so a typo fails when the message is queued instead of reaching a volunteer garbled.
///
/// # Errors
/// A missing or unused variable, or a malformed template.
pub fn render(template: &str, variables: &BTreeMap<String, String>) -> Result<Rendered, TemplateError> {
    let mut text = String::with_capacity(template.len());
    let mut params = Vec::new();
    let mut used = std::collections::BTreeSet::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or(TemplateError::Unclosed)?;
        let name = &after[..close];
        let value = variables.get(name).ok_or_else(|| TemplateError::Missing(name.to_owned()))?;
        text.push_str(value);
        params.push(value.clone());
        used.insert(name);
        rest = &after[close + 1..];
    }
    text.push_str(rest);
    if let Some(unused) = variables.keys().find(|name| !used.contains(name.as_str())) {
        return Err(TemplateError::Unused(unused.clone()));
    }
    Ok(Rendered { text, params })
}

/// The text as it reaches the phone: the 【sign name】 first, as Chinese SMS rules require.
#[must_use]
pub fn signed_sms(sign_name: &str, text: &str) -> String {
    format!("【{sign_name}】{text}")
}

/// Segments billed for an SMS: Chinese gateways count every character (Chinese or not) and
/// bill 70 for a single message, 67 per segment once it is split.
#[must_use]
pub fn sms_segments(text: &str) -> u32 {
    let chars = u32::try_from(text.chars().count()).unwrap_or(u32::MAX);
    if chars <= 70 { 1 } else { chars.div_ceil(67) }
}

/// A branch's local clock and quiet hours, as minutes after local midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    pub utc_offset_minutes: i32,
    pub start: u32,
    pub end: u32,
}

impl QuietHours {
    /// When a non-essential message may go out: `None` if now, else the end of the quiet hours.
    #[must_use]
    pub fn hold_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let minute = self.local_minute(now);
        let quiet = if self.start <= self.end {
            self.start <= minute && minute < self.end
        } else {
            minute >= self.start || minute < self.end
        };
        quiet.then(|| self.next_local(now, self.end))
    }

    /// The next local day's first sending minute, for a volunteer who reached today's cap.
    #[must_use]
    pub fn next_day(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let midnight = self.next_local(now, 0);
        midnight + Duration::minutes(i64::from(self.end))
    }

    /// The start of the current local day, in UTC.
    #[must_use]
    pub fn local_day_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::minutes(i64::from(self.local_minute(now)))
            - Duration::seconds(i64::from(now.second()))
            - Duration::nanoseconds(i64::from(now.nanosecond()))
    }

    fn local_minute(&self, now: DateTime<Utc>) -> u32 {
        let local = now + Duration::minutes(i64::from(self.utc_offset_minutes));
        local.hour() * 60 + local.minute()
    }

    /// The next instant, after `now`, at which the local clock shows `minute`.
    fn next_local(&self, now: DateTime<Utc>, minute: u32) -> DateTime<Utc> {
        let today = self.local_day_start(now) + Duration::minutes(i64::from(minute));
        if today > now { today } else { today + Duration::days(1) }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn renders_placeholders_in_order_and_refuses_missing_or_unused_variables() {
        let rendered = render("码{code}，{minutes}分钟", &vars(&[("minutes", "5"), ("code", "123456")])).unwrap();
        assert_eq!(rendered.text, "码123456，5分钟");
        assert_eq!(rendered.params, ["123456", "5"]);
        assert_eq!(render("{code}", &vars(&[])), Err(TemplateError::Missing("code".into())));
        assert_eq!(render("{code}", &vars(&[("code", "1"), ("cod", "2")])), Err(TemplateError::Unused("cod".into())));
        assert_eq!(render("{code", &vars(&[])), Err(TemplateError::Unclosed));
    }

    #[test]
    fn counts_segments_as_the_gateways_bill_them() {
        assert_eq!(sms_segments(&"字".repeat(70)), 1);
        assert_eq!(sms_segments(&"字".repeat(71)), 2);
        assert_eq!(sms_segments(&"字".repeat(134)), 2);
        assert_eq!(sms_segments(&"字".repeat(135)), 3);
        assert_eq!(sms_segments(&"a".repeat(70)), 1);
    }

    #[test]
    fn quiet_hours_wrap_midnight_in_the_branch_time_zone() {
        let beijing = QuietHours { utc_offset_minutes: 480, start: 21 * 60, end: 8 * 60 };
        // 13:30 UTC is 21:30 in Beijing: held until 08:00 Beijing, 00:00 UTC the next day.
        let evening = Utc.with_ymd_and_hms(2026, 11, 25, 13, 30, 0).unwrap();
        assert_eq!(beijing.hold_until(evening), Some(Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap()));
        // 18:00 UTC is 02:00 in Beijing: still quiet, same release.
        let night = Utc.with_ymd_and_hms(2026, 11, 25, 18, 0, 0).unwrap();
        assert_eq!(beijing.hold_until(night), Some(Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap()));
        // 02:00 UTC is 10:00 in Beijing: send now.
        assert_eq!(beijing.hold_until(Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap()), None);
        assert_eq!(
            beijing.next_day(Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap()),
            Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap()
        );
        assert_eq!(
            beijing.local_day_start(Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 7).unwrap()),
            Utc.with_ymd_and_hms(2026, 11, 24, 16, 0, 0).unwrap()
        );
    }
}
