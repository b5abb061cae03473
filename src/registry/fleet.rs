//! The other hosts of the fleet: each one's Ed25519 public key, whether its
//! traffic is acted on (trusted), and when it was last heard from. Trusting
//! and untrusting emit `fleet.trusted` / `fleet.untrusted` in the same
//! transaction.

use anyhow::Result;
use rusqlite::{Row, params};
use serde::Serialize;
use serde_json::json;

use super::{Registry, Tx, now_ms, opt};
use crate::error::{conflict, not_found};
use crate::signing::host::key_id_of_hex;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FleetHost {
    pub host: String,
    /// Hex; None when the host was only seen, never trusted.
    pub public_key: Option<String>,
    /// The key id of `public_key` ("" without one).
    pub key_id: String,
    pub trusted: bool,
    pub trusted_at: Option<i64>,
    pub trusted_by: String,
    pub first_seen: i64,
    pub last_seen: Option<i64>,
}

const COLS: &str = "host, public_key, trusted, trusted_at, trusted_by, first_seen, last_seen";

fn row(r: &Row) -> rusqlite::Result<FleetHost> {
    let public_key: Option<String> = r.get(1)?;
    Ok(FleetHost {
        host: r.get(0)?,
        key_id: public_key.as_deref().map(key_id_of_hex).unwrap_or_default(),
        public_key,
        trusted: r.get(2)?,
        trusted_at: r.get(3)?,
        trusted_by: r.get(4)?,
        first_seen: r.get(5)?,
        last_seen: r.get(6)?,
    })
}

/// What `trust_host` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustChange {
    /// The host is trusted now (it was unknown, or known but not trusted).
    Trusted,
    /// It was already trusted with this key: nothing changed.
    Unchanged,
}

impl Tx<'_> {
    fn fleet_host(&self, host: &str) -> Result<Option<FleetHost>> {
        opt(self.tx.query_row(
            &format!("SELECT {COLS} FROM fleet_hosts WHERE host = ?1"),
            [host],
            row,
        ))
    }

    /// Trust `host`'s traffic signed by `public_key` (normalised hex). A host
    /// already trusted with another key is a conflict: untrust it first, so a
    /// key is never replaced by accident.
    pub fn trust_host(&self, host: &str, public_key: &str, by: &str) -> Result<TrustChange> {
        let now = now_ms();
        let kid = key_id_of_hex(public_key);
        let other: Option<String> = opt(self.tx.query_row(
            "SELECT host FROM fleet_hosts WHERE public_key = ?1 AND trusted = 1 AND host <> ?2",
            params![public_key, host],
            |r| r.get(0),
        ))?;
        if let Some(other) = other {
            return Err(conflict(format!(
                "key {kid} is already trusted as host {other}; one key belongs to one host"
            ))
            .hint(format!(
                "check which host this key is from (`mam fleet show` there); if {other} was renamed, `mam fleet untrust {other}` first"
            ))
            .into());
        }
        match self.fleet_host(host)? {
            Some(h) if h.trusted && h.public_key.as_deref() == Some(public_key) => {
                return Ok(TrustChange::Unchanged);
            }
            Some(h) if h.trusted => {
                return Err(conflict(format!(
                    "host {host} is already trusted with another key ({}, not {kid})",
                    h.key_id
                ))
                .hint(format!(
                    "if {host} really has a new key, `mam fleet untrust {host}` first, then trust the new one"
                ))
                .into());
            }
            Some(_) => {
                self.tx.execute(
                    "UPDATE fleet_hosts SET public_key = ?2, trusted = 1, trusted_at = ?3, trusted_by = ?4 WHERE host = ?1",
                    params![host, public_key, now, by],
                )?;
            }
            None => {
                self.tx.execute(
                    "INSERT INTO fleet_hosts (host, public_key, trusted, trusted_at, trusted_by, first_seen) \
                     VALUES (?1, ?2, 1, ?3, ?4, ?3)",
                    params![host, public_key, now, by],
                )?;
            }
        }
        self.emit(
            "fleet.trusted",
            "-",
            json!({"host": host, "kid": kid, "by": by}),
        )?;
        Ok(TrustChange::Trusted)
    }

    /// Stop acting on `host`'s traffic. Returns whether it was trusted (an
    /// untrusted host stays as it is); an unknown host is not found.
    pub fn untrust_host(&self, host: &str, by: &str) -> Result<bool> {
        let Some(h) = self.fleet_host(host)? else {
            return Err(not_found(format!("unknown host {host:?}"))
                .hint("`mam fleet hosts` lists the hosts this workspace knows")
                .into());
        };
        if !h.trusted {
            return Ok(false);
        }
        self.tx
            .execute("UPDATE fleet_hosts SET trusted = 0 WHERE host = ?1", [host])?;
        self.emit(
            "fleet.untrusted",
            "-",
            json!({"host": host, "kid": h.key_id, "by": by}),
        )?;
        Ok(true)
    }

    /// Note that traffic claiming to be from `host` arrived at `at` (unix
    /// ms), trusted or not: an unknown host is added, untrusted.
    pub fn host_seen(&self, host: &str, at: i64) -> Result<()> {
        self.tx.execute(
            "INSERT INTO fleet_hosts (host, first_seen, last_seen) VALUES (?1, ?2, ?2) \
             ON CONFLICT(host) DO UPDATE SET last_seen = max(COALESCE(last_seen, 0), ?2)",
            params![host, at],
        )?;
        Ok(())
    }
}

impl Registry {
    /// Every known host, by name.
    pub fn fleet_hosts(&self) -> Result<Vec<FleetHost>> {
        let mut st = self
            .conn()
            .prepare_cached(&format!("SELECT {COLS} FROM fleet_hosts ORDER BY host"))?;
        Ok(st.query_map([], row)?.collect::<rusqlite::Result<_>>()?)
    }

    pub fn fleet_host(&self, host: &str) -> Result<Option<FleetHost>> {
        opt(self.conn().query_row(
            &format!("SELECT {COLS} FROM fleet_hosts WHERE host = ?1"),
            [host],
            row,
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::error::{Code, code_of};
    use crate::registry::Registry;
    use crate::workspace::Paths;

    const K1: &str = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    const K2: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    #[test]
    fn trust_untrust_and_seen() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().to_path_buf(), dir.path().join(".mam"));
        paths.ensure().unwrap();
        let mut reg = Registry::open(&paths, "mam").unwrap();
        use super::TrustChange::*;
        assert_eq!(
            reg.write(|t| t.trust_host("beta", K1, "operator")).unwrap(),
            Trusted
        );
        assert_eq!(
            reg.write(|t| t.trust_host("beta", K1, "operator")).unwrap(),
            Unchanged
        );
        let err = reg
            .write(|t| t.trust_host("beta", K2, "operator"))
            .unwrap_err();
        assert_eq!(code_of(&err), Code::Conflict);
        // One key, one host.
        let err = reg
            .write(|t| t.trust_host("gamma", K1, "operator"))
            .unwrap_err();
        assert_eq!(code_of(&err), Code::Conflict);
        let h = reg.fleet_host("beta").unwrap().unwrap();
        assert!(h.trusted);
        assert_eq!(h.public_key.as_deref(), Some(K1));
        assert_eq!(h.key_id, crate::signing::host::key_id_of_hex(K1));
        assert_eq!(h.last_seen, None);

        reg.write(|t| t.host_seen("beta", 5_000)).unwrap();
        reg.write(|t| t.host_seen("beta", 4_000)).unwrap();
        reg.write(|t| t.host_seen("gamma", 7_000)).unwrap();
        let hosts = reg.fleet_hosts().unwrap();
        assert_eq!(hosts.len(), 2);
        assert_eq!(hosts[0].last_seen, Some(5_000), "last seen never goes back");
        assert!(!hosts[1].trusted && hosts[1].public_key.is_none());

        assert!(reg.write(|t| t.untrust_host("beta", "operator")).unwrap());
        assert!(!reg.write(|t| t.untrust_host("beta", "operator")).unwrap());
        let err = reg
            .write(|t| t.untrust_host("delta", "operator"))
            .unwrap_err();
        assert_eq!(code_of(&err), Code::NotFound);
        // Untrusted, it may be trusted again, with a new key.
        assert_eq!(
            reg.write(|t| t.trust_host("beta", K2, "operator")).unwrap(),
            Trusted
        );
        let kinds: Vec<String> = reg
            .events(0, None, None, 100)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, ["fleet.trusted", "fleet.untrusted", "fleet.trusted"]);
    }
}
