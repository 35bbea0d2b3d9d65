//! Loading the personal-data keys, and the development profile's generated ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use rand::RngCore;

use super::{BlindIndex, FieldCipher};
use crate::config::{DEVELOPMENT_KEY_PREFIX, KeySettings, Settings, decode_key};

/// Where the keys came from, so start-up can say so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    Configured,
    /// Development keys generated into this file now.
    Generated(PathBuf),
    /// Development keys kept in this file from an earlier start.
    Kept(PathBuf),
}

#[derive(Clone, Debug)]
pub struct KeyRing {
    pub cipher: FieldCipher,
    pub blind_index: BlindIndex,
    /// The Ed25519 seed that signs access tokens.
    pub token_signing: TokenSeed,
    pub origin: KeyOrigin,
}

/// The access-token signing seed; never printed.
#[derive(Clone)]
pub struct TokenSeed(pub [u8; 32]);

impl std::fmt::Debug for TokenSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSeed([REDACTED])")
    }
}

impl KeyRing {
    /// The configured keys; in development with none configured, the keys kept under the data
    /// directory, generated on first start so that data written once stays readable.
    ///
    /// # Errors
    /// Malformed keys, or an unreadable or unwritable key file.
    pub fn load(settings: &Settings) -> anyhow::Result<Self> {
        if !settings.keys.is_empty() || settings.is_production() {
            return Self::from_settings(&settings.keys, KeyOrigin::Configured);
        }
        let path = settings.data_dir().join("dev-keys.toml");
        if path.exists() {
            let keys = complete_key_file(&path)?;
            return Self::from_settings(&keys, KeyOrigin::Kept(path));
        }
        let keys = generate_key_file(&path)?;
        Self::from_settings(&keys, KeyOrigin::Generated(path))
    }

    /// Says at start-up where the keys came from; development keys get a warning, because data
    /// written with them is unreadable without the file.
    pub fn announce(&self) {
        match &self.origin {
            KeyOrigin::Configured => {
                tracing::info!(field_key = self.cipher.active_key_id(), "personal-data keys from configuration");
            }
            KeyOrigin::Generated(path) => {
                tracing::warn!(path = %path.display(), "development profile: generated personal-data keys; keep this file with the data");
            }
            KeyOrigin::Kept(path) => {
                tracing::warn!(path = %path.display(), "development profile: using the kept personal-data keys");
            }
        }
    }

    /// # Errors
    /// A missing or malformed key.
    pub fn from_settings(keys: &KeySettings, origin: KeyOrigin) -> anyhow::Result<Self> {
        let active = keys.field_active.as_deref().ok_or_else(|| anyhow!("keys.field_active is not set"))?;
        let field = keys
            .field
            .iter()
            .map(|(id, key)| {
                decode_key(key).map(|key| (id.clone(), key)).map_err(|reason| anyhow!("keys.field.{id} {reason}"))
            })
            .collect::<anyhow::Result<BTreeMap<_, _>>>()?;
        let cipher = FieldCipher::new(active, &field).map_err(|reason| anyhow!("keys.field: {reason}"))?;
        let blind = keys.blind_index.as_ref().ok_or_else(|| anyhow!("keys.blind_index is not set"))?;
        let blind_index = BlindIndex::new(decode_key(blind).map_err(|reason| anyhow!("keys.blind_index {reason}"))?);
        let token = keys.token_signing.as_ref().ok_or_else(|| anyhow!("keys.token_signing is not set"))?;
        let token_signing = TokenSeed(decode_key(token).map_err(|reason| anyhow!("keys.token_signing {reason}"))?);
        Ok(Self { cipher, blind_index, token_signing, origin })
    }
}

fn read_key_file(path: &Path) -> anyhow::Result<KeySettings> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn generate_key_file(path: &Path) -> anyhow::Result<KeySettings> {
    let id = format!("{DEVELOPMENT_KEY_PREFIX}1");
    let text = format!(
        "# Development keys, generated on first start. Production refuses them.\n\
         field_active = \"{id}\"\nblind_index = \"{}\"\ntoken_signing = \"{}\"\n\n[field]\n{id} = \"{}\"\n",
        random_key(),
        random_key(),
        random_key()
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write_private(path, &text)?;
    let keys = read_key_file(path)?;
    if keys.is_empty() {
        bail!("{} holds no keys", path.display());
    }
    Ok(keys)
}

/// A kept file from before token signing existed gets its signing key added, so data written
/// with its other keys stays readable.
fn complete_key_file(path: &Path) -> anyhow::Result<KeySettings> {
    let keys = read_key_file(path)?;
    if keys.token_signing.is_some() {
        return Ok(keys);
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (head, tables) =
        text.split_once("\n[").map_or((text.as_str(), String::new()), |(head, rest)| (head, format!("\n[{rest}")));
    let completed = format!("{}\ntoken_signing = \"{}\"\n{tables}", head.trim_end(), random_key());
    std::fs::write(path, completed).with_context(|| format!("writing {}", path.display()))?;
    read_key_file(path)
}

fn random_key() -> String {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    base64::engine::general_purpose::STANDARD.encode(key)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::Binding;

    #[test]
    fn development_keys_are_generated_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings { data_dir: dir.path().to_owned(), ..Settings::default() };
        let first = KeyRing::load(&settings).unwrap();
        assert!(matches!(first.origin, KeyOrigin::Generated(_)));
        let binding = Binding { table: "t", column: "c", row: uuid::Uuid::nil() };
        let stored = first.cipher.encrypt("kept", binding);
        let second = KeyRing::load(&settings).unwrap();
        assert!(matches!(second.origin, KeyOrigin::Kept(_)));
        assert_eq!(second.cipher.decrypt(&stored, binding).unwrap(), "kept");
        assert_eq!(second.cipher.active_key_id(), "dev-1");
    }

    #[test]
    fn a_kept_file_from_before_token_signing_gains_a_signing_key_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev-keys.toml");
        let old = format!(
            "field_active = \"dev-1\"\nblind_index = \"{}\"\n\n[field]\ndev-1 = \"{}\"\n",
            random_key(),
            random_key()
        );
        std::fs::write(&path, &old).unwrap();
        let before: KeySettings = toml::from_str(&old).unwrap();
        let completed = complete_key_file(&path).unwrap();
        assert!(completed.token_signing.is_some());
        assert_eq!(completed.field_active, before.field_active);
        assert_eq!(completed.field.keys().collect::<Vec<_>>(), before.field.keys().collect::<Vec<_>>());
        let settings = Settings { data_dir: dir.path().to_owned(), ..Settings::default() };
        assert!(matches!(KeyRing::load(&settings).unwrap().origin, KeyOrigin::Kept(_)));
    }
}
