//! Development conveniences: what the development SMS gateway "sent" (so that a developer can
//! sign in without a phone), and synthetic volunteers, one at a time or a whole registry with
//! its history of donation cases.

pub mod cases;
pub mod registry;

use crate::domain::Phone;
use crate::error::{AppError, AppResult};
use crate::messaging::Messaging;
use crate::messaging::provider::SentSms;

/// The latest messages to a phone, newest first. Refused unless the development gateway is the
/// provider, which the production profile never allows.
pub fn recent_sms(messaging: &Messaging, phone: &str, last: i32) -> AppResult<Vec<SentSms>> {
    let gateway = messaging.development_sms().ok_or(AppError::Forbidden)?;
    let phone = Phone::parse(phone).map_err(AppError::field("phone"))?;
    let last = usize::try_from(last).ok().filter(|n| (1..=20).contains(n));
    let last = last.ok_or_else(|| AppError::invalid("last", "must be between 1 and 20"))?;
    Ok(gateway.recent(phone.expose(), last))
}

/// The `n`-th synthetic volunteer of a branch: an invented but valid ID number (a Chengdu
/// address code, a birth date from 1970 on), a mainland mobile in the 137 range and a name from
/// common characters. Distinct for every `n` below 12 million, so seeded data never collides.
/// For the development seed command, tests and benchmarks; nothing real is ever generated.
///
/// # Errors
/// Never for the parts this builds; [`Invalid`](crate::domain::Invalid) would mean a bug here.
pub fn synthetic_volunteer(n: u32, branch_code: &str) -> Result<crate::service::NewVolunteer, crate::domain::Invalid> {
    const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
    const GIVEN: [&str; 10] = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军"];
    let digit = |place: u32| (n / place % 10) as usize;
    let birth = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
        + chrono::Duration::days(i64::from(n / 1000 % 12_000));
    let sequence = u16::try_from(n % 1000).unwrap_or_default();
    Ok(crate::service::NewVolunteer {
        name: crate::domain::PersonName::parse(&format!(
            "{}{}{}",
            SURNAMES[digit(1)],
            GIVEN[digit(10)],
            GIVEN[digit(100)]
        ))?,
        national_id: crate::domain::NationalId::from_parts("510104", birth, sequence)?,
        phone: Phone::parse_mainland_mobile(&format!("137{:08}", n % 100_000_000))?,
        phone_verified: false,
        branch_code: branch_code.to_owned(),
        consent_version: "2026-01".into(),
        city: None,
        blood_group: None,
        backup_contacts: Vec::new(),
    })
}
