//! Typed, layered configuration: built-in defaults, then an optional TOML file, then
//! `REGISTRY_`-prefixed environment variables (`REGISTRY_HTTP__ADDR` sets `http.addr`).
//!
//! The file is `registry.toml` in the working directory when present, or the path in
//! `REGISTRY_CONFIG`. Secrets are [`SecretString`]s, which print as `[REDACTED]` in `Debug`.
//! The production profile refuses to start on development conveniences (generated keys, the
//! embedded database) and lists every problem at once, so an operator fixes them in one pass.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Which safety net applies. Development favours a first run with nothing installed;
/// production refuses anything that would be unsafe with real volunteers' data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    #[default]
    Development,
    Production,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub profile: Profile,
    /// Where the embedded database and the development keys live.
    pub data_dir: PathBuf,
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub graphql: GraphqlSettings,
    pub log: LogSettings,
    pub keys: KeySettings,
    pub messaging: MessagingSettings,
    pub auth: AuthSettings,
    pub volunteers: VolunteerSettings,
    pub webhooks: WebhookSettings,
    pub benefits: BenefitSettings,
    pub letters: LetterSettings,
}

/// Leave letters: the font they are set in, the address their QR code points to, and the
/// limits of their links and public check.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LetterSettings {
    /// A Simplified Chinese font file whose licence allows embedding (TrueType, OpenType or a
    /// collection). Unset, WenQuanYi Micro Hei, shipped in `api/assets/fonts`, is used.
    pub font_path: Option<PathBuf>,
    /// The face in a collection (`.ttc`): 0 for WenQuanYi Micro Hei; 2 is Simplified Chinese in
    /// Noto Sans CJK's `NotoSansCJK-Regular.ttc`.
    pub font_index: u32,
    /// The public address of this service, which letters print and their QR code holds:
    /// `{public_base_url}/letters/{code}`.
    pub public_base_url: String,
    /// How long a download link works, once.
    pub download_minutes: i64,
    /// A letter reads as expired this many days after its last day of leave: long enough for
    /// an employer's payroll to check it, short enough that it is not shown for ever.
    pub expires_after_days: i64,
    /// Public checks one client address may make per minute.
    pub checks_per_minute: u32,
}

impl Default for LetterSettings {
    fn default() -> Self {
        Self {
            font_path: None,
            font_index: 0,
            public_base_url: "http://127.0.0.1:8080".to_owned(),
            download_minutes: 5,
            expires_after_days: 90,
            checks_per_minute: 30,
        }
    }
}

/// How hospitals' entitlement checks are throttled.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BenefitSettings {
    /// Failed checks one hospital may make per window before its checks are refused: enough
    /// for a clerk's typos, far too few to try codes or ID numbers.
    pub failed_checks: u32,
    pub failed_checks_window_minutes: i64,
}

impl Default for BenefitSettings {
    fn default() -> Self {
        Self { failed_checks: 10, failed_checks_window_minutes: 60 }
    }
}

/// How the registry calls partner hospitals' webhook endpoints.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Whether endpoints may be plain HTTP and resolve to loopback, private or link-local
    /// addresses. Unset, development allows them (a receiver on the developer's machine) and
    /// production refuses them: an endpoint is a hospital's public HTTPS server, never a way
    /// into the registry's own network.
    pub allow_private_network: Option<bool>,
    /// How long one try waits for the receiver; well under a job's lease, so no two workers
    /// ever hold one delivery.
    pub timeout_ms: u64,
    /// Tries before a delivery is dead-lettered with an alert.
    pub max_attempts: i32,
    /// The first retry waits about this long, each later one twice the one before (with
    /// jitter), up to `backoff_max_ms`.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private_network: None,
            timeout_ms: 10_000,
            max_attempts: 8,
            backoff_base_ms: 30_000,
            backoff_max_ms: 6 * 60 * 60 * 1_000,
        }
    }
}

/// What self-service asks of volunteers and tells the people around them.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VolunteerSettings {
    /// The consent text a new enrolment must accept (its version, as published in the app).
    pub consent_version: String,
    /// Send each new backup contact one SMS explaining why they are listed.
    pub inform_backup_contacts: bool,
    /// The page a family information pack SMS links to.
    pub family_info_link: String,
}

impl Default for VolunteerSettings {
    fn default() -> Self {
        Self {
            consent_version: "2026-01".into(),
            inform_backup_contacts: true,
            family_info_link: "https://www.cmdp.org.cn/family".into(),
        }
    }
}

/// Access tokens: who issues them, for whom, and for how long.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// The `iss` of every access token.
    pub issuer: String,
    /// The `aud` every access token must carry.
    pub audience: String,
    pub access_token_ttl_secs: u64,
    pub volunteer_codes: VolunteerCodeSettings,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            issuer: "cmdp-registry".into(),
            audience: "registry-api".into(),
            access_token_ttl_secs: 900,
            volunteer_codes: VolunteerCodeSettings::default(),
        }
    }
}

/// The one-time codes volunteers sign in with, and the limits that keep them from being guessed
/// or used to flood a phone.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VolunteerCodeSettings {
    pub ttl_secs: u64,
    /// Wrong codes tried before a code is locked.
    pub max_attempts: u32,
    /// Least time between two codes to the same phone.
    pub resend_after_secs: u64,
    pub per_phone_per_hour: u32,
    /// Code requests and sign-in attempts together, per client address.
    pub per_address_per_hour: u32,
    /// The branch whose SMS signature codes to phones of no volunteer (self-enrolment) carry.
    pub default_branch: String,
    /// Life of a code sent to a new number before it replaces a volunteer's phone.
    pub phone_change_ttl_secs: u64,
    /// Life of the enrolment ticket a correct code for an unknown phone hands out.
    pub enrolment_ticket_ttl_secs: u64,
    /// How recent a sign-in must be for a phone change.
    pub recent_sign_in_secs: u64,
}

impl Default for VolunteerCodeSettings {
    fn default() -> Self {
        Self {
            ttl_secs: 300,
            max_attempts: 5,
            resend_after_secs: 60,
            per_phone_per_hour: 5,
            // A recruitment drive enrols a few hundred students from one campus Wi-Fi (one
            // address behind NAT) in an hour, about four hits each (a code, a resend, a
            // sign-in, a mistyped one): 300 × 4. Each phone is protected by its own limits
            // (5 codes an hour, 5 tries a code); this one bounds SMS pumping and code spraying
            // from one address.
            per_address_per_hour: 1_200,
            default_branch: "11".into(),
            phone_change_ttl_secs: 600,
            enrolment_ticket_ttl_secs: 1800,
            recent_sign_in_secs: 900,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    pub addr: SocketAddr,
    /// Longest a request may run before it is answered SERVICE_UNAVAILABLE.
    pub request_timeout_ms: u64,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace_ms: u64,
    /// How long a client may take to send a request's head (request line and headers), on a
    /// new connection or a kept-alive one; past it the connection is closed. A client that
    /// dribbles its headers would otherwise hold a connection, and a shutdown, for ever.
    pub header_read_timeout_ms: u64,
    /// Take the client address from the last `X-Forwarded-For` entry (set by our own reverse
    /// proxy) instead of the connection; only behind a proxy that sets it.
    pub trust_forwarded_for: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            request_timeout_ms: 10_000,
            body_limit_bytes: 64 * 1024,
            shutdown_grace_ms: 20_000,
            header_read_timeout_ms: 5_000,
            trust_forwarded_for: false,
        }
    }
}

impl HttpSettings {
    #[must_use]
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    #[must_use]
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }

    #[must_use]
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…` selects PostgreSQL; unset means the SQLite file `<data_dir>/registry.db`.
    /// A secret, because a URL may carry a password.
    pub url: Option<SecretString>,
    pub max_connections: u32,
    /// How long a request waits for a pooled connection before failing fast.
    pub acquire_timeout_ms: u64,
    /// PostgreSQL `statement_timeout`: the server aborts a statement that runs longer.
    pub statement_timeout_ms: u64,
    /// Apply pending migrations at start-up. Turn off where DDL is a separate deployment step.
    pub migrate_on_start: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 16,
            acquire_timeout_ms: 3_000,
            statement_timeout_ms: 5_000,
            migrate_on_start: true,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphqlSettings {
    pub max_depth: usize,
    /// Cost limit: each field costs 1, a paged list `first × its selection`.
    pub max_complexity: usize,
    pub max_aliases: usize,
    /// Longest accepted query document, in characters.
    pub max_query_chars: usize,
}

impl Default for GraphqlSettings {
    fn default() -> Self {
        // The cost limit is about twice the costliest document of the contract: the audit trail
        // at its largest page, 200 rows of 15 fields, costs 3,000 (tests/tests/staff_console.rs
        // reads every document's cost and keeps this in step).
        Self { max_depth: 10, max_complexity: 6_000, max_aliases: 30, max_query_chars: 15_000 }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A `tracing` filter. SQL statements are logged at debug by `sea_orm` and `sqlx`: quiet by default.
    pub filter: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { format: LogFormat::Text, filter: "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn".into() }
    }
}

/// Which SMS gateway carries the registry's messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsProviderKind {
    /// Keeps messages in the process for developers and tests; nothing leaves the machine.
    #[default]
    Development,
    /// Tencent Cloud SMS, API 3.0 `SendSms` with TC3-HMAC-SHA256 signing.
    Tencent,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessagingSettings {
    /// Delivery workers in this process; 0 leaves delivery to dedicated worker processes.
    pub workers: usize,
    /// Messages one worker claims at a time.
    pub batch_size: u64,
    /// How often an idle worker looks for due messages.
    pub poll_interval_ms: u64,
    /// A claim not turned into a send within this time is taken back by another worker.
    pub claim_timeout_ms: u64,
    /// Sends tried before a message fails for good.
    pub max_attempts: u32,
    /// Retry backoff: doubles from the base, with jitter, up to the maximum.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// The provider's send rate limit, per process.
    pub send_rate_per_second: u32,
    pub provider: SmsProviderKind,
    pub tencent: TencentSettings,
    /// Shared secret of the delivery-report and reply callbacks (HMAC-SHA256 signatures).
    pub callback_secret: Option<SecretString>,
}

impl Default for MessagingSettings {
    fn default() -> Self {
        Self {
            workers: 2,
            batch_size: 50,
            poll_interval_ms: 250,
            claim_timeout_ms: 30_000,
            max_attempts: 6,
            backoff_base_ms: 2_000,
            backoff_max_ms: 600_000,
            send_rate_per_second: 1_000,
            provider: SmsProviderKind::Development,
            tencent: TencentSettings::default(),
            callback_secret: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TencentSettings {
    pub endpoint: String,
    pub region: String,
    pub secret_id: Option<String>,
    pub secret_key: Option<SecretString>,
    /// The `SmsSdkAppId` of the SMS application.
    pub sdk_app_id: Option<String>,
    /// Registered template ids by `<key>.<locale>`, e.g. `login_code.zh-CN = "449739"`.
    pub templates: BTreeMap<String, String>,
}

impl Default for TencentSettings {
    fn default() -> Self {
        Self {
            endpoint: "https://sms.tencentcloudapi.com".into(),
            region: "ap-guangzhou".into(),
            secret_id: None,
            secret_key: None,
            sdk_app_id: None,
            templates: BTreeMap::new(),
        }
    }
}

/// Keys for personal data at rest. Values are base64 of 32 random bytes.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeySettings {
    /// Id of the field-encryption key new values are encrypted with.
    pub field_active: Option<String>,
    /// Field-encryption keys by id; old ids stay until every value is re-encrypted.
    pub field: BTreeMap<String, SecretString>,
    /// The HMAC key of the blind index used for exact lookup.
    pub blind_index: Option<SecretString>,
    /// The Ed25519 seed that signs access tokens.
    pub token_signing: Option<SecretString>,
}

impl KeySettings {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.field_active.is_none()
            && self.field.is_empty()
            && self.blind_index.is_none()
            && self.token_signing.is_none()
    }
}

/// Key ids that the development profile generates. Production refuses them.
pub const DEVELOPMENT_KEY_PREFIX: &str = "dev-";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration could not be read: {0}")]
    Read(#[from] Box<figment::Error>),
    #[error("the production profile refuses to start:\n  - {}", .0.join("\n  - "))]
    Unsafe(Vec<String>),
}

impl Settings {
    /// Reads defaults, then the optional file, then the environment.
    ///
    /// # Errors
    /// A value of the wrong type, an unknown key, or an unsafe production setting.
    pub fn load() -> Result<Self, ConfigError> {
        let file = std::env::var_os("REGISTRY_CONFIG").map_or_else(|| PathBuf::from("registry.toml"), PathBuf::from);
        let settings: Self = Figment::new()
            .merge(Toml::file(file))
            .merge(Env::prefixed("REGISTRY_").ignore(&["config", "bootstrap_password"]).split("__"))
            .extract()
            .map_err(Box::new)?;
        settings.check_profile()?;
        Ok(settings)
    }

    /// The production profile's refusals. Development accepts anything that parses.
    ///
    /// # Errors
    /// [`ConfigError::Unsafe`] listing every problem.
    pub fn check_profile(&self) -> Result<(), ConfigError> {
        if self.profile == Profile::Development {
            return Ok(());
        }
        let mut problems = Vec::new();
        if self.database.url.is_none() {
            problems
                .push("database.url is not set: production does not fall back to the embedded SQLite file".to_owned());
        }
        match &self.keys.field_active {
            None => problems.push("keys.field_active is not set".to_owned()),
            Some(id) if !self.keys.field.contains_key(id) => {
                problems.push(format!("keys.field has no key with the active id {id:?}"));
            }
            Some(_) => {}
        }
        for (id, key) in &self.keys.field {
            if id.starts_with(DEVELOPMENT_KEY_PREFIX) {
                problems.push(format!("keys.field.{id} is a generated development key"));
            }
            if let Err(reason) = decode_key(key) {
                problems.push(format!("keys.field.{id} {reason}"));
            }
        }
        for (name, key) in [("blind_index", &self.keys.blind_index), ("token_signing", &self.keys.token_signing)] {
            match key {
                None => problems.push(format!("keys.{name} is not set")),
                Some(key) => {
                    if let Err(reason) = decode_key(key) {
                        problems.push(format!("keys.{name} {reason}"));
                    }
                }
            }
        }
        self.check_messaging(&mut problems);
        if problems.is_empty() { Ok(()) } else { Err(ConfigError::Unsafe(problems)) }
    }

    fn check_messaging(&self, problems: &mut Vec<String>) {
        let messaging = &self.messaging;
        if messaging.provider == SmsProviderKind::Development {
            problems.push("messaging.provider is development: no message would leave the process".to_owned());
        }
        if messaging.provider == SmsProviderKind::Tencent {
            for (name, missing) in [
                ("secret_id", messaging.tencent.secret_id.is_none()),
                ("secret_key", messaging.tencent.secret_key.is_none()),
                ("sdk_app_id", messaging.tencent.sdk_app_id.is_none()),
            ] {
                if missing {
                    problems.push(format!("messaging.tencent.{name} is not set"));
                }
            }
        }
        if messaging.callback_secret.is_none() {
            problems.push("messaging.callback_secret is not set: delivery reports could be forged".to_owned());
        }
    }

    /// The database URL in force: the configured one, or the embedded SQLite file.
    #[must_use]
    pub fn database_url(&self) -> SecretString {
        self.database.url.clone().unwrap_or_else(|| {
            let path = self.data_dir().join("registry.db");
            SecretString::from(format!("sqlite://{}?mode=rwc", path.display()))
        })
    }

    #[must_use]
    pub fn data_dir(&self) -> &Path {
        if self.data_dir.as_os_str().is_empty() { Path::new("data") } else { &self.data_dir }
    }

    #[must_use]
    pub fn is_production(&self) -> bool {
        self.profile == Profile::Production
    }
}

/// Decodes a base64 key of exactly 32 bytes.
///
/// # Errors
/// A reason that names the rule, never the key.
pub fn decode_key(key: &SecretString) -> Result<[u8; 32], &'static str> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key.expose_secret().trim())
        .map_err(|_| "is not valid base64")?;
    bytes.try_into().map_err(|_| "must be 32 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production() -> Settings {
        Settings { profile: Profile::Production, ..Settings::default() }
    }

    #[test]
    fn production_lists_every_missing_secret() {
        let Err(ConfigError::Unsafe(problems)) = production().check_profile() else {
            panic!("production must refuse missing secrets");
        };
        let text = problems.join("\n");
        for expected in ["database.url", "keys.field_active", "keys.blind_index", "keys.token_signing"] {
            assert!(text.contains(expected), "{text}");
        }
    }

    #[test]
    fn production_refuses_generated_development_keys_and_short_keys() {
        let mut settings = production();
        settings.database.url = Some("postgres://registry@db/registry".into());
        settings.keys.field_active = Some("dev-1".into());
        settings.keys.field.insert("dev-1".into(), "AAAA".into());
        settings.keys.blind_index = Some("AAAA".into());
        let Err(ConfigError::Unsafe(problems)) = settings.check_profile() else {
            panic!("production must refuse development keys");
        };
        let text = problems.join("\n");
        assert!(text.contains("keys.field.dev-1 is a generated development key"), "{text}");
        assert!(text.contains("keys.blind_index must be 32 bytes"), "{text}");
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let mut settings = Settings::default();
        settings.database.url = Some("postgres://u:hunter2@db/registry".into());
        settings.keys.blind_index = Some("c2VjcmV0LWtleS1tYXRlcmlhbA==".into());
        let text = format!("{settings:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("c2VjcmV0"), "{text}");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail dictates the closure's error type
    fn environment_overrides_the_file_which_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("registry.toml", "[http]\naddr = \"0.0.0.0:9000\"\nrequest_timeout_ms = 1234\n")?;
            jail.set_env("REGISTRY_HTTP__ADDR", "127.0.0.1:9100");
            let settings = Settings::load().map_err(|err| format!("{err}"))?;
            assert_eq!(settings.http.addr, SocketAddr::from(([127, 0, 0, 1], 9100)));
            assert_eq!(settings.http.request_timeout_ms, 1234);
            assert_eq!(settings.graphql.max_depth, 10);
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail dictates the closure's error type
    fn an_unknown_key_is_an_error_not_a_silent_default() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("REGISTRY_HTTP__ADRESS", "127.0.0.1:9100");
            assert!(Settings::load().is_err());
            Ok(())
        });
    }
}
