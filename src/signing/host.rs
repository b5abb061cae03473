//! This host's Ed25519 key (`.mam/host.key`, 0600) and the signatures that
//! carry fleet traffic between hosts. Within a workspace events stay
//! HMAC-signed (`keys`); across hosts each host signs with its own private
//! key, so a host that can verify another's traffic cannot forge it. The
//! signature covers the same bytes as the HMAC: `topic + "\n" +
//! canonical(envelope without sig)`; `kid` names the signing host key.

use std::path::Path;

use anyhow::{Context, Result};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::envelope::Envelope;
use super::keys::{check_key_file, write_new_private};
use crate::error::{UserError, environment, usage};

/// The host key file's contents.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostKeyFile {
    /// The 32-byte Ed25519 secret seed, hex.
    secret: String,
    /// Unix ms.
    created_at: i64,
}

/// This host's signing key.
pub struct HostKey {
    signing: SigningKey,
    pub created_at: i64,
}

impl std::fmt::Debug for HostKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HostKey({})", self.kid())
    }
}

impl HostKey {
    /// Load the key file, creating it (0600) on first need.
    pub fn load_or_create(path: &Path, now_ms: i64) -> Result<HostKey> {
        if std::fs::symlink_metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
        {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            let file = HostKeyFile {
                secret: hex::encode(seed),
                created_at: now_ms,
            };
            let text = serde_json::to_string_pretty(&file)?;
            match write_new_private(path, text.as_bytes()) {
                Ok(()) => {}
                // Another process created it first; theirs is as good as ours.
                Err(e)
                    if e.downcast_ref::<std::io::Error>()
                        .is_some_and(|io| io.kind() == std::io::ErrorKind::AlreadyExists) => {}
                Err(e) => return Err(e),
            }
        }
        Self::load(path)
    }

    /// Load the key file, refusing unsafe or malformed files.
    pub fn load(path: &Path) -> Result<HostKey> {
        check_key_file(path)?;
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read host key file {}", path.display()))?;
        let malformed = |why: String| -> anyhow::Error {
            environment(format!("host key file {} is malformed: {why}", path.display()))
                .hint("restore it from a backup; or move it aside for a new key (every peer must then `mam fleet untrust` and `mam fleet trust` this host again)")
                .into()
        };
        let file: HostKeyFile = std::str::from_utf8(&bytes)
            .map_err(|_| malformed("not UTF-8 text".into()))
            .and_then(|t| serde_json::from_str(t).map_err(|e| malformed(e.to_string())))?;
        let seed: [u8; 32] = hex::decode(&file.secret)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| malformed("the secret is not 32 bytes of hex".into()))?;
        Ok(HostKey {
            signing: SigningKey::from_bytes(&seed),
            created_at: file.created_at,
        })
    }

    /// The public key, hex (what peers `mam fleet trust`).
    pub fn public_hex(&self) -> String {
        hex::encode(self.signing.verifying_key().to_bytes())
    }

    /// The key id: `h` + the first 8 hex digits of the public key's SHA-256.
    pub fn kid(&self) -> String {
        key_id(&self.signing.verifying_key().to_bytes())
    }

    /// Sign `env` for `topic`: sets `kid` and `sig` (hex Ed25519 signature).
    pub fn sign(&self, env: &mut Envelope, topic: &str) {
        env.kid = self.kid();
        env.sig = String::new();
        let sig = self.signing.sign(env.signing_input(topic).as_bytes());
        env.sig = hex::encode(sig.to_bytes());
    }
}

/// The key id of a public key.
pub fn key_id(public: &[u8; 32]) -> String {
    format!("h{}", hex::encode(&Sha256::digest(public)[..4]))
}

/// A public key as `mam fleet trust` takes it: 64 hex digits (an `ed25519:`
/// prefix is allowed), a valid curve point. Returns the normalised hex.
pub fn parse_public(text: &str) -> std::result::Result<String, UserError> {
    let hint = "copy the key that `mam fleet show` prints on that host (64 hex digits)";
    let t = text.trim();
    let t = t.strip_prefix("ed25519:").unwrap_or(t);
    let bytes: [u8; 32] = hex::decode(t)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            usage(format!(
                "invalid host key {text:?}: expected 32 bytes as 64 hex digits"
            ))
            .hint(hint)
        })?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| {
        usage(format!(
            "invalid host key {text:?}: not an Ed25519 public key"
        ))
        .hint(hint)
    })?;
    Ok(hex::encode(bytes))
}

/// The key id of a public key in hex (as stored); "" when it is not one.
pub fn key_id_of_hex(public_hex: &str) -> String {
    hex::decode(public_hex)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(|b| key_id(&b))
        .unwrap_or_default()
}

/// Whether `env` carries a valid signature for `topic` by the host whose
/// public key (hex) is `public_hex`. Strict verification (no malleable or
/// small-order forms).
pub fn verify(env: &Envelope, topic: &str, public_hex: &str) -> bool {
    let Some(key) = hex::decode(public_hex)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
    else {
        return false;
    };
    let Some(sig) = hex::decode(&env.sig)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
    else {
        return false;
    };
    key.verify_strict(
        env.signing_input(topic).as_bytes(),
        &Signature::from_bytes(&sig),
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Envelope {
        Envelope {
            v: 1,
            id: "ab".repeat(16),
            ws: "w1".into(),
            src: "alpha".into(),
            seq: 3,
            ts: "2026-01-01T00:00:00.000Z".into(),
            kind: "fleet.message".into(),
            job: "bob".into(),
            body: json!({"to": "bob", "body": "hi"}),
            kid: String::new(),
            sig: String::new(),
        }
    }

    #[test]
    fn created_once_private_and_signatures_bind_topic_key_and_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("host.key");
        let k = HostKey::load_or_create(&p, 1).unwrap();
        let again = HostKey::load_or_create(&p, 2).unwrap();
        assert_eq!(k.public_hex(), again.public_hex(), "created only once");
        assert_eq!(again.created_at, 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(k.kid().len(), 9);
        assert!(k.kid().starts_with('h'));
        assert_eq!(key_id_of_hex(&k.public_hex()), k.kid());

        let topic = "mam/fleet/beta/inbox";
        let mut e = sample();
        k.sign(&mut e, topic);
        assert_eq!(e.kid, k.kid());
        assert!(verify(&e, topic, &k.public_hex()));
        // Round trip through the wire form keeps it valid.
        let back: Envelope = serde_json::from_str(&e.to_wire()).unwrap();
        assert!(verify(&back, topic, &k.public_hex()));
        // Another host's topic, another key, a changed field, no signature.
        assert!(!verify(&e, "mam/fleet/gamma/inbox", &k.public_hex()));
        let other = HostKey::load_or_create(&dir.path().join("other.key"), 1).unwrap();
        assert!(!verify(&e, topic, &other.public_hex()));
        let mut t = e.clone();
        t.body = json!({"to": "bob", "body": "hj"});
        assert!(!verify(&t, topic, &k.public_hex()));
        let mut u = e.clone();
        u.sig = String::new();
        assert!(!verify(&u, topic, &k.public_hex()));
        assert!(!verify(&e, topic, "zz"));
    }

    #[test]
    fn public_keys_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let k = HostKey::load_or_create(&dir.path().join("host.key"), 1).unwrap();
        let pk = k.public_hex();
        assert_eq!(parse_public(&pk).unwrap(), pk);
        assert_eq!(
            parse_public(&format!("ed25519:{}", pk.to_uppercase())).unwrap(),
            pk
        );
        for bad in ["", "abc", &pk[..62], &format!("{pk}00"), &"g".repeat(64)] {
            let e = parse_public(bad).unwrap_err();
            assert!(e.message.contains("invalid host key"), "{}", e.message);
        }
    }

    #[test]
    fn a_malformed_or_open_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("host.key");
        write_new_private(&p, b"{\"secret\":\"00\",\"created_at\":1}").unwrap();
        let err = HostKey::load(&p).unwrap_err();
        assert!(format!("{err:#}").contains("not 32 bytes"), "{err:#}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let q = dir.path().join("open.key");
            HostKey::load_or_create(&q, 1).unwrap();
            std::fs::set_permissions(&q, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = HostKey::load(&q).unwrap_err();
            assert_eq!(crate::error::code_of(&err), crate::error::Code::Environment);
        }
    }
}
