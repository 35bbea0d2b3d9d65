//! A synthetic registry at national scale, for benchmarks and demos: millions of invented
//! volunteers written straight into the database in bulk, row for row as registration writes
//! them (sealed, indexed, with name prefixes and backup contacts).
//!
//! What it models, from public figures where there are any:
//! - branch sizes: CMDP's 31 branches, weighted roughly by provincial population;
//! - blood groups of the Han Chinese population: O 34%, B 30%, A 28%, AB 8%, Rh negative 0.4%;
//! - registrations over 20 years, more of them recent;
//! - 30% of contacts stale (last confirmed over a year ago), a quarter of those marked lost;
//! - HLA typing for 92% (low 52%, intermediate 30%, high 10%), a few paused or reserved;
//! - two backup contacts for registrations of the last six years, when the app asked for them.
//!
//! Every volunteer is a pure function of its number and the seed ([`Synthetic::volunteer`]),
//! so a benchmark can recompute the phone or ID number of any of them in clear. ID numbers
//! are unique by construction (the address code and sequence encode the number within the
//! branch), and so are phones (a bijection of the number onto eight digits).

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::volunteer::{DonorStatus, HlaResolution, StatusReason};
use entity::{backup_contact, volunteer, volunteer_contact, volunteer_name_prefix};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ActiveValue::Set, DatabaseConnection};
use uuid::Uuid;

use crate::db::bulk;
use crate::domain::{Abo, BloodGroup, Invalid, NationalId, PersonName, Phone, Relationship, Rh};
use crate::pii::KeyRing;
use crate::service::NewVolunteer;
use crate::service::volunteer::{NewBackupContact, backup_contact_row, rows_of};

/// Branches with their weight in the register (per mille, summing to 1000) and two cities.
const BRANCHES: [(&str, u32, &str, &str); 31] = [
    ("11", 35, "北京", "北京"),
    ("12", 15, "天津", "天津"),
    ("13", 50, "石家庄", "唐山"),
    ("14", 20, "太原", "大同"),
    ("15", 12, "呼和浩特", "包头"),
    ("21", 30, "沈阳", "大连"),
    ("22", 15, "长春", "吉林"),
    ("23", 20, "哈尔滨", "大庆"),
    ("31", 35, "上海", "上海"),
    ("32", 75, "南京", "苏州"),
    ("33", 60, "杭州", "宁波"),
    ("34", 40, "合肥", "芜湖"),
    ("35", 35, "福州", "厦门"),
    ("36", 25, "南昌", "赣州"),
    ("37", 75, "济南", "青岛"),
    ("41", 65, "郑州", "洛阳"),
    ("42", 45, "武汉", "宜昌"),
    ("43", 40, "长沙", "株洲"),
    ("44", 100, "广州", "深圳"),
    ("45", 25, "南宁", "柳州"),
    ("46", 6, "海口", "三亚"),
    ("50", 25, "重庆", "重庆"),
    ("51", 50, "成都", "绵阳"),
    ("52", 15, "贵阳", "遵义"),
    ("53", 25, "昆明", "曲靖"),
    ("54", 1, "拉萨", "日喀则"),
    ("61", 30, "西安", "宝鸡"),
    ("62", 12, "兰州", "天水"),
    ("63", 3, "西宁", "海东"),
    ("64", 5, "银川", "石嘴山"),
    ("65", 11, "乌鲁木齐", "喀什"),
];
const SURNAMES: [&str; 24] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "欧阳",
];
const GIVEN: [&str; 32] = [
    "伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀", "霞", "平", "刚",
    "桂", "英", "华", "丽", "强", "玲", "文", "辉", "鹏", "红", "晨", "宇", "欣",
];
const MOBILE_PREFIXES: [&str; 12] =
    ["135", "136", "138", "139", "150", "151", "158", "159", "186", "187", "188", "189"];
/// Backup contacts' phones come from other ranges, so they never collide with a volunteer's.
const BACKUP_PREFIXES: [&str; 4] = ["171", "173", "176", "177"];
/// An odd multiplier coprime with 10^8: a bijection of 0..10^8 onto eight digits.
const SCRAMBLE: u64 = 48_271;
/// Registrations are spread over this many years before now.
const YEARS: f64 = 20.0;
/// Volunteers written per transaction.
const CHUNK: u32 = 2_000;

/// One invented volunteer, in clear.
#[derive(Clone, Debug)]
pub struct SyntheticVolunteer {
    pub input: NewVolunteer,
    pub registered_at: DateTime<Utc>,
    pub last_confirmed_at: DateTime<Utc>,
    pub status: DonorStatus,
    pub status_reason: Option<StatusReason>,
    pub status_until: Option<NaiveDate>,
    pub hla: HlaResolution,
}

/// What a seeding wrote.
#[derive(Clone, Debug, Default)]
pub struct SeedReport {
    pub volunteers: u64,
    pub stale: u64,
    pub backup_contacts: u64,
}

/// A synthetic registry of `count` volunteers as of `now`.
#[derive(Clone, Copy, Debug)]
pub struct Synthetic {
    pub count: u32,
    pub seed: u64,
    pub now: DateTime<Utc>,
}

impl Synthetic {
    /// The branch of volunteer `n` and its number within the branch: branches hold contiguous
    /// ranges, sized by their weight.
    #[must_use]
    pub fn branch_of(&self, n: u32) -> (usize, u32) {
        let mut start = 0u32;
        for (index, (_, weight, ..)) in BRANCHES.iter().enumerate() {
            let size = u32::try_from(u64::from(self.count) * u64::from(*weight) / 1000).unwrap_or(u32::MAX);
            let last = index == BRANCHES.len() - 1;
            if n < start.saturating_add(size) || last {
                return (index, n - start);
            }
            start = start.saturating_add(size);
        }
        (BRANCHES.len() - 1, n)
    }

    /// The mobile of volunteer `n`, in clear.
    ///
    /// # Errors
    /// Never for `n` below a billion; [`Invalid`] would be a bug here.
    pub fn phone(n: u32) -> Result<Phone, Invalid> {
        scrambled_phone(&MOBILE_PREFIXES, u64::from(n))
    }

    /// Volunteer `n`, the same for the same seed every time.
    ///
    /// # Errors
    /// Never for the numbers of the registry; [`Invalid`] would be a bug here.
    pub fn volunteer(&self, n: u32) -> Result<SyntheticVolunteer, Invalid> {
        let mut rng = StdRng::seed_from_u64(self.seed ^ u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let (branch_index, k) = self.branch_of(n);
        let (branch, _, capital, second) = BRANCHES[branch_index];
        // More registrations recently: years ago is 20 × (1 − √u), a density falling to zero at 20.
        let years_ago = YEARS * (1.0 - rng.r#gen::<f64>().sqrt());
        let registered_at = self.now - days(years_ago * 365.25);
        let age_at_registration = rng.gen_range(18..=40);
        let birth =
            (registered_at - days(f64::from(age_at_registration) * 365.25 + rng.gen_range(0.0..365.0))).date_naive();
        let address = format!("{branch}{:02}{:02}", 1 + k / 100_000, (k / 1000) % 100);
        let national_id = NationalId::from_parts(&address, birth, u16::try_from(k % 1000).unwrap_or_default())?;
        let surname = SURNAMES[rng.gen_range(0..SURNAMES.len())];
        let given: String = (0..rng.gen_range(1..=2)).map(|_| GIVEN[rng.gen_range(0..GIVEN.len())]).collect();
        let name = PersonName::parse(&format!("{surname}{given}"))?;
        let abo = match rng.gen_range(0..100) {
            0..34 => Abo::O,
            34..64 => Abo::B,
            64..92 => Abo::A,
            _ => Abo::Ab,
        };
        let rh = if rng.gen_bool(0.004) { Rh::Negative } else { Rh::Positive };
        let city = match rng.gen_range(0..100) {
            0..45 => Some(capital.to_owned()),
            45..75 => Some(second.to_owned()),
            _ => None,
        };
        let older_than_a_year = years_ago > 1.0;
        // 30% stale overall: about 9.75% registered within the year, who cannot be.
        let stale = older_than_a_year && rng.gen_bool(0.3324);
        let last_confirmed_at = if stale {
            let span = (self.now - registered_at).num_days() - 366;
            self.now - Duration::days(366 + rng.gen_range(0..=span.max(0)))
        } else {
            let span = (self.now - registered_at).num_days().min(365);
            self.now - Duration::days(rng.gen_range(0..=span.max(0)))
        };
        let hla = match rng.gen_range(0..100) {
            0..8 => HlaResolution::Untyped,
            8..60 => HlaResolution::Low,
            60..90 => HlaResolution::Intermediate,
            _ => HlaResolution::High,
        };
        let (status, status_reason, status_until) = if hla == HlaResolution::Untyped {
            (DonorStatus::Pending, None, None)
        } else if stale && rng.gen_bool(0.25) {
            (DonorStatus::TemporarilyUnavailable, Some(StatusReason::UnableToContact), None)
        } else if rng.gen_bool(0.015) {
            let reason = [StatusReason::Medical, StatusReason::Personal, StatusReason::Moved][rng.gen_range(0..3)];
            let until = self.now.date_naive() + Duration::days(rng.gen_range(1..=300));
            (DonorStatus::TemporarilyUnavailable, Some(reason), Some(until))
        } else if rng.gen_bool(0.0005) {
            (DonorStatus::ReservedForAnotherPatient, None, None)
        } else {
            (DonorStatus::Available, None, None)
        };
        let backup_contacts = if years_ago < 6.0 {
            (0..2u64)
                .map(|slot| {
                    let relationship = if slot == 0 { Relationship::Parent } else { Relationship::Friend };
                    let name = PersonName::parse(&format!(
                        "{}{}",
                        SURNAMES[rng.gen_range(0..SURNAMES.len())],
                        GIVEN[rng.gen_range(0..GIVEN.len())]
                    ))?;
                    Ok(NewBackupContact {
                        name,
                        relationship,
                        phone: scrambled_phone(&BACKUP_PREFIXES, u64::from(n) * 2 + slot)?,
                    })
                })
                .collect::<Result<Vec<_>, Invalid>>()?
        } else {
            Vec::new()
        };
        Ok(SyntheticVolunteer {
            input: NewVolunteer {
                name,
                national_id,
                phone: Self::phone(n)?,
                phone_verified: years_ago < 6.0,
                branch_code: branch.to_owned(),
                consent_version: "2026-01".into(),
                city,
                blood_group: Some(BloodGroup { abo, rh }),
                backup_contacts,
            },
            registered_at,
            last_confirmed_at,
            status,
            status_reason,
            status_until,
            hla,
        })
    }

    /// Writes the registry into `db`, with `tasks` writers in parallel, reporting progress every
    /// hundred thousand volunteers to `progress`.
    ///
    /// # Errors
    /// A volunteer that does not build (a bug), or the database failed; chunks written stay.
    pub async fn write(
        self,
        db: &DatabaseConnection,
        keys: Arc<KeyRing>,
        tasks: u32,
        progress: impl Fn(u64) + Send + Sync + 'static,
    ) -> anyhow::Result<SeedReport> {
        let chunks = self.count.div_ceil(CHUNK);
        let progress = Arc::new(progress);
        let mut writers = tokio::task::JoinSet::new();
        for task in 0..tasks.max(1) {
            let (db, keys, progress) = (db.clone(), Arc::clone(&keys), Arc::clone(&progress));
            writers.spawn(async move {
                let mut report = SeedReport::default();
                for chunk in (task..chunks).step_by(usize::try_from(tasks.max(1)).unwrap_or(1)) {
                    let first = chunk * CHUNK;
                    let numbers = first..(first + CHUNK).min(self.count);
                    let written = self.write_chunk(&db, &keys, numbers).await?;
                    report.volunteers += written.volunteers;
                    report.stale += written.stale;
                    report.backup_contacts += written.backup_contacts;
                    if (u64::from(first) / 100_000) != (u64::from(first + CHUNK) / 100_000) {
                        progress(u64::from(first + CHUNK).min(u64::from(self.count)));
                    }
                }
                anyhow::Ok(report)
            });
        }
        let mut total = SeedReport::default();
        while let Some(done) = writers.join_next().await {
            let report = done??;
            total.volunteers += report.volunteers;
            total.stale += report.stale;
            total.backup_contacts += report.backup_contacts;
        }
        crate::db::bulk::ready_after_load(db).await?;
        Ok(total)
    }

    async fn write_chunk(
        &self,
        db: &DatabaseConnection,
        keys: &KeyRing,
        numbers: std::ops::Range<u32>,
    ) -> anyhow::Result<SeedReport> {
        let mut report = SeedReport::default();
        let (mut volunteers, mut contacts, mut prefixes, mut backups) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let stale_before = self.now - Duration::days(365);
        for n in numbers {
            let synthetic = self.volunteer(n).map_err(|err| anyhow::anyhow!("synthetic volunteer {n}: {err}"))?;
            let id = Uuid::now_v7();
            let rows = rows_of(keys, id, &synthetic.input, synthetic.registered_at, 7);
            let mut row = rows.volunteer;
            row.status = Set(synthetic.status);
            row.status_reason = Set(synthetic.status_reason);
            row.status_until = Set(synthetic.status_until);
            row.hla_resolution = Set(synthetic.hla);
            row.last_confirmed_at = Set(synthetic.last_confirmed_at);
            row.updated_at = Set(synthetic.last_confirmed_at);
            volunteers.push(row);
            contacts.push(rows.primary_phone);
            prefixes.extend(rows.name_prefixes);
            for contact in &synthetic.input.backup_contacts {
                backups.push(backup_contact_row(
                    keys,
                    Uuid::now_v7(),
                    id,
                    contact,
                    Some(synthetic.registered_at),
                    synthetic.registered_at,
                ));
            }
            report.volunteers += 1;
            report.stale += u64::from(synthetic.last_confirmed_at < stale_before);
            report.backup_contacts += u64::try_from(synthetic.input.backup_contacts.len()).unwrap_or_default();
        }
        crate::db::write!(db, |txn| {
            bulk::insert::<volunteer::Entity, _>(txn, volunteers.clone(), None).await?;
            bulk::insert::<volunteer_contact::Entity, _>(txn, contacts.clone(), None).await?;
            bulk::insert::<volunteer_name_prefix::Entity, _>(txn, prefixes.clone(), None).await?;
            bulk::insert::<backup_contact::Entity, _>(txn, backups.clone(), None).await?;
            Ok(())
        })
        .map_err(|err| anyhow::anyhow!("writing a chunk failed: {err:?}"))?;
        Ok(report)
    }
}

fn scrambled_phone(prefixes: &[&str], n: u64) -> Result<Phone, Invalid> {
    let count = u64::try_from(prefixes.len()).unwrap_or(1);
    let prefix = prefixes[usize::try_from(n % count).unwrap_or_default()];
    let digits = (n / count).wrapping_mul(SCRAMBLE) % 100_000_000;
    Phone::parse_mainland_mobile(&format!("{prefix}{digits:08}"))
}

fn days(days: f64) -> Duration {
    #[allow(clippy::cast_possible_truncation)] // whole seconds of at most 20 years
    Duration::seconds((days * 86_400.0) as i64)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_and_phones_are_unique_and_the_mix_is_realistic() {
        let registry = Synthetic { count: 60_000, seed: 7, now: Utc::now() };
        let (mut ids, mut phones, mut stale, mut negative) = (HashSet::new(), HashSet::new(), 0, 0);
        for n in 0..registry.count {
            let volunteer = registry.volunteer(n).unwrap();
            assert!(ids.insert(volunteer.input.national_id.expose().to_owned()), "ID of {n} repeats");
            assert!(phones.insert(volunteer.input.phone.expose().to_owned()), "phone of {n} repeats");
            assert!(volunteer.last_confirmed_at >= volunteer.registered_at - Duration::days(1));
            stale += u32::from(volunteer.last_confirmed_at < registry.now - Duration::days(365));
            negative += u32::from(volunteer.input.blood_group.unwrap().rh == Rh::Negative);
        }
        let share = f64::from(stale) / f64::from(registry.count);
        assert!((0.28..0.32).contains(&share), "stale share {share}");
        assert!((100..400).contains(&negative), "{negative} Rh negative");
        assert_eq!(registry.volunteer(42).unwrap().input.phone, registry.volunteer(42).unwrap().input.phone);
        assert_eq!(registry.branch_of(0).0, 0);
        assert_eq!(BRANCHES.iter().map(|(_, weight, ..)| weight).sum::<u32>(), 1000);
    }
}
