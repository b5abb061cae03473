//! The workspace's signing keys (`.mam/secret.key`): creation (0600), the
//! safety checks on every load, rotation, and lookup by key id.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::error::environment;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Key {
    pub kid: String,
    /// 32 random bytes, hex.
    pub secret: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms when a newer key replaced it; it verifies until then + grace.
    #[serde(default)]
    pub retired_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyRing {
    pub keys: Vec<Key>,
}

impl KeyRing {
    /// The key new events are signed with (the newest unretired).
    pub fn current(&self) -> &Key {
        self.keys
            .iter()
            .rev()
            .find(|k| k.retired_at.is_none())
            .or(self.keys.last())
            .expect("a key ring always holds a key")
    }

    /// The secret for `kid` if it may still verify at `now_ms`.
    pub fn verifying(&self, kid: &str, now_ms: i64, grace_ms: i64) -> KeyLookup<'_> {
        match self.keys.iter().find(|k| k.kid == kid) {
            None => KeyLookup::Unknown,
            Some(k) => match k.retired_at {
                Some(r) if now_ms > r + grace_ms => KeyLookup::Retired,
                _ => KeyLookup::Valid(k),
            },
        }
    }

    fn generate(now_ms: i64) -> Result<Key> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let mut kid = [0u8; 4];
        getrandom::fill(&mut kid).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        Ok(Key {
            kid: format!("k{}", hex::encode(kid)),
            secret: hex::encode(secret),
            created_at: now_ms,
            retired_at: None,
        })
    }

    /// Load the key file, refusing unsafe files.
    pub fn load(path: &Path) -> Result<KeyRing> {
        check_key_file(path)?;
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read key file {}", path.display()))?;
        let malformed = |why: String| -> anyhow::Error {
            environment(format!("key file {} is malformed: {why}", path.display()))
                .hint("restore it from a backup; or move it aside and run `mam key rotate` for a new key (events signed with the old one will no longer verify)")
                .into()
        };
        let ring: KeyRing = std::str::from_utf8(&bytes)
            .map_err(|_| malformed("not UTF-8 text".into()))
            .and_then(|text| serde_json::from_str(text).map_err(|e| malformed(e.to_string())))?;
        if ring.keys.is_empty() {
            return Err(malformed("it holds no key".into()));
        }
        if let Some(k) = ring
            .keys
            .iter()
            .find(|k| hex::decode(&k.secret).map_or(true, |s| s.is_empty()))
        {
            return Err(malformed(format!("key {} has no valid secret", k.kid)));
        }
        Ok(ring)
    }

    /// Whether the key file is missing (not merely unreadable).
    pub fn is_missing(path: &Path) -> bool {
        std::fs::symlink_metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
    }

    /// Create the key file with one key if it does not exist. Returns whether it was created.
    pub fn create_if_missing(path: &Path, now_ms: i64) -> Result<bool> {
        if std::fs::symlink_metadata(path).is_ok() {
            check_key_file(path)?;
            return Ok(false);
        }
        let ring = KeyRing {
            keys: vec![Self::generate(now_ms)?],
        };
        match write_new(path, &ring) {
            Ok(()) => Ok(true),
            // Another process won the race; theirs is as good as ours.
            Err(e)
                if e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::AlreadyExists) =>
            {
                check_key_file(path)?;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Add a new key, retire the current one; rewrite the file atomically.
    pub fn rotate(path: &Path, now_ms: i64) -> Result<KeyRing> {
        let mut ring = Self::load(path)?;
        for k in ring.keys.iter_mut().filter(|k| k.retired_at.is_none()) {
            k.retired_at = Some(now_ms);
        }
        ring.keys.push(Self::generate(now_ms)?);
        let tmp = path.with_extension("key.new");
        let _ = std::fs::remove_file(&tmp);
        write_new(&tmp, &ring)?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot replace key file {}", path.display()))?;
        Ok(ring)
    }
}

pub enum KeyLookup<'a> {
    Valid(&'a Key),
    Unknown,
    Retired,
}

fn write_new(path: &Path, ring: &KeyRing) -> Result<()> {
    write_new_private(path, serde_json::to_string_pretty(ring)?.as_bytes())
}

/// Write a new private (0600) file whole at `path`, failing with
/// `AlreadyExists` when something is there.
pub(crate) fn write_new_private(path: &Path, bytes: &[u8]) -> Result<()> {
    // Written whole under a private name, then linked into place: a process
    // racing to create the key sees either no file or the complete one
    // (never an empty or half-written key), and a link that finds the
    // name taken fails with AlreadyExists, as creating it would.
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let tmp = path.with_extension(format!("key.{}.new", hex::encode(nonce)));
    let _ = std::fs::remove_file(&tmp);
    let written = (|| -> Result<()> {
        let mut f = crate::os::create_private_file(&tmp).map_err(anyhow::Error::from)?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .with_context(|| format!("cannot write key file {}", tmp.display()))?;
        std::fs::hard_link(&tmp, path).map_err(anyhow::Error::from)
    })();
    let _ = std::fs::remove_file(&tmp);
    written
}

/// A key file must be a regular file (not a symlink), owned by us, and
/// readable by nobody else.
pub fn check_key_file(path: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    let fix = format!("chmod 600 {} (and check who changed it)", path.display());
    if meta.file_type().is_symlink() {
        return Err(environment(format!(
            "key file {} is a symbolic link; refusing to use it",
            path.display()
        ))
        .hint("replace it with the real file, mode 0600")
        .into());
    }
    if !meta.file_type().is_file() {
        return Err(
            environment(format!("key file {} is not a regular file", path.display())).into(),
        );
    }
    // (No owners or modes off POSIX: nothing to check there.)
    let (Some(uid), Some((owner, mode))) =
        (crate::os::effective_uid(), crate::os::owner_and_mode(&meta))
    else {
        return Ok(());
    };
    if owner != uid {
        return Err(environment(format!(
            "key file {} is owned by uid {owner}, not by you (uid {uid})",
            path.display(),
        ))
        .hint(format!("chown {uid} {}", path.display()))
        .into());
    }
    if mode & 0o077 != 0 {
        return Err(environment(format!(
            "key file {} is readable by others (mode {mode:04o}); its secret signs this workspace's events",
            path.display()
        ))
        .hint(fix)
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn processes_racing_to_create_the_key_all_read_the_same_whole_key() {
        for _ in 0..30 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("secret.key");
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
            let kids: Vec<_> = (0..8)
                .map(|_| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        KeyRing::create_if_missing(&path, 1).unwrap();
                        KeyRing::load(&path).unwrap().current().kid.clone()
                    })
                })
                .collect();
            let kids: Vec<String> = kids.into_iter().map(|k| k.join().unwrap()).collect();
            assert!(kids.windows(2).all(|w| w[0] == w[1]), "{kids:?}");
            let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
            assert_eq!(left.len(), 1, "temporary files left behind");
        }
    }

    #[test]
    fn create_check_rotate() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("secret.key");
        assert!(KeyRing::create_if_missing(&p, 1).unwrap());
        assert!(!KeyRing::create_if_missing(&p, 2).unwrap());
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let first = KeyRing::load(&p).unwrap().current().clone();
        let ring = KeyRing::rotate(&p, 1000).unwrap();
        assert_ne!(ring.current().kid, first.kid);
        assert!(matches!(
            ring.verifying(&first.kid, 1500, 1000),
            KeyLookup::Valid(_)
        ));
        assert!(matches!(
            ring.verifying(&first.kid, 2001, 1000),
            KeyLookup::Retired
        ));
        assert!(matches!(ring.verifying("kzzz", 0, 0), KeyLookup::Unknown));

        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = KeyRing::load(&p).unwrap_err();
        assert_eq!(crate::error::code_of(&err), crate::error::Code::Environment);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = t.path().join("link.key");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        assert_eq!(
            crate::error::code_of(&KeyRing::load(&link).unwrap_err()),
            crate::error::Code::Environment
        );
    }
}
