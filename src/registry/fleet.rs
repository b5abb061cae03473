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
    /// This host's clock minus the host's, as last measured on one of its
    /// genuine envelopes (ms), and when (None: never measured).
    pub skew_ms: Option<i64>,
    pub skew_at: Option<i64>,
}

const COLS: &str =
    "host, public_key, trusted, trusted_at, trusted_by, first_seen, last_seen, skew_ms, skew_at";

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
        skew_ms: r.get(7)?,
        skew_at: r.get(8)?,
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
        // What it said of its jobs is no longer believed either, nor is it
        // told this host's any more.
        self.tx
            .execute("DELETE FROM fleet_state WHERE host = ?1", [host])?;
        self.tx.execute(
            "DELETE FROM fleet_out WHERE host = ?1 AND kind IN ('fleet.state', 'fleet.status_request')",
            [host],
        )?;
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

impl Tx<'_> {
    /// Note the clock skew measured on a genuine envelope of `host` (this
    /// host's clock minus its timestamp) at `at`.
    pub fn host_skew(&self, host: &str, skew_ms: i64, at: i64) -> Result<()> {
        self.tx.execute(
            "UPDATE fleet_hosts SET skew_ms = ?2, skew_at = ?3 WHERE host = ?1",
            params![host, skew_ms, at],
        )?;
        Ok(())
    }

    /// Queue the fleet traffic of which only the newest matters (this
    /// host's state, a request for a peer's): one row per (kind, host),
    /// its body replaced. A row still waiting keeps its backoff (a broker
    /// that is down is not tried at every change); one already sent is due
    /// at once, its tries counted afresh.
    pub fn queue_fleet_latest(
        &self,
        host: &str,
        from_host: &str,
        kind: &str,
        body: &serde_json::Value,
    ) -> Result<()> {
        let now = now_ms();
        self.tx.execute(
            "INSERT INTO fleet_out (host, from_host, kind, cmd, job, body, needs_receipt, created_at, next_at) \
             VALUES (?1, ?2, ?3, ?3, '-', ?4, 0, ?5, ?5) \
             ON CONFLICT(kind, host, cmd) DO UPDATE SET body = excluded.body, from_host = excluded.from_host, \
             created_at = excluded.created_at, \
             tries = CASE WHEN done_at IS NULL THEN tries ELSE 0 END, \
             next_at = CASE WHEN done_at IS NULL THEN next_at ELSE excluded.next_at END, \
             done_at = NULL",
            params![host, from_host, kind, body.to_string(), now],
        )?;
        Ok(())
    }

    /// The broker is back: everything waiting is due now, not at the end of
    /// its backoff (which may have grown to 30 s while it was away).
    pub fn fleet_retry_now(&self, now: i64) -> Result<usize> {
        Ok(self.tx.execute(
            "UPDATE fleet_out SET next_at = ?1 WHERE done_at IS NULL AND next_at > ?1",
            [now],
        )?)
    }

    /// Keep `host`'s snapshot of its jobs unless a newer one (by the time
    /// `at` it was built) is kept already. Returns whether it was kept.
    pub fn store_fleet_state(
        &self,
        host: &str,
        at: i64,
        every_ms: i64,
        jobs: &str,
        now: i64,
    ) -> Result<bool> {
        let n = self.tx.execute(
            "INSERT INTO fleet_state (host, at, every_ms, received_at, jobs) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT(host) DO UPDATE SET at = excluded.at, every_ms = excluded.every_ms, \
             received_at = excluded.received_at, jobs = excluded.jobs WHERE excluded.at > fleet_state.at",
            params![host, at, every_ms, now, jobs],
        )?;
        Ok(n > 0)
    }
}

/// The newest snapshot of another host's jobs kept here.
#[derive(Debug, Clone)]
pub struct FleetState {
    pub host: String,
    /// When that host built it (its clock, unix ms).
    pub at: i64,
    /// How often it promised a snapshot at the latest.
    pub every_ms: i64,
    /// When it arrived (this host's clock).
    pub received_at: i64,
    /// Its jobs, as it sent them (a JSON list).
    pub jobs: String,
}

impl Registry {
    /// Every other host's newest snapshot, by host name.
    pub fn fleet_states(&self) -> Result<Vec<FleetState>> {
        let mut st = self.conn().prepare_cached(
            "SELECT host, at, every_ms, received_at, jobs FROM fleet_state ORDER BY host",
        )?;
        Ok(st
            .query_map([], |r| {
                Ok(FleetState {
                    host: r.get(0)?,
                    at: r.get(1)?,
                    every_ms: r.get(2)?,
                    received_at: r.get(3)?,
                    jobs: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

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

/// One row of the fleet's outbox, due to be published.
#[derive(Debug, Clone)]
pub struct FleetOut {
    pub id: i64,
    /// The host it goes to.
    pub host: String,
    /// This host's name when it was queued (the envelope's `src`).
    pub from_host: String,
    pub kind: String,
    pub cmd: String,
    pub job: String,
    pub body: serde_json::Value,
    pub tries: i64,
    /// The envelope sequence number this try is signed with.
    pub seq: i64,
}

/// A command received whose receipt is due.
#[derive(Debug, Clone)]
pub struct ReceiptDue {
    pub origin: String,
    pub cmd: String,
    /// The local message (None: nothing was stored, see `error`).
    pub message: Option<String>,
    /// `delivered` or `failed`.
    pub state: &'static str,
    pub how: Option<String>,
    pub error: Option<String>,
}

impl Tx<'_> {
    /// Queue fleet traffic to `host` (an upsert on (kind, host, cmd): queued
    /// again, it is due at once and not done).
    #[allow(clippy::too_many_arguments)]
    pub fn queue_fleet(
        &self,
        host: &str,
        from_host: &str,
        kind: &str,
        cmd: &str,
        job: &str,
        body: &serde_json::Value,
        message_id: Option<i64>,
        needs_receipt: bool,
    ) -> Result<()> {
        let now = now_ms();
        self.tx.execute(
            "INSERT INTO fleet_out (host, from_host, kind, cmd, job, body, message_id, needs_receipt, created_at, next_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) \
             ON CONFLICT(kind, host, cmd) DO UPDATE SET body = excluded.body, next_at = excluded.next_at, done_at = NULL",
            params![host, from_host, kind, cmd, job, body.to_string(), message_id, needs_receipt, now],
        )?;
        Ok(())
    }

    /// Up to `limit` rows due at `now`, oldest first, each given the next
    /// envelope sequence number (persisted before anything is published).
    pub fn fleet_due(&self, now: i64, limit: i64) -> Result<Vec<FleetOut>> {
        let mut st = self.tx.prepare_cached(
            "SELECT id, host, from_host, kind, cmd, job, body, tries FROM fleet_out \
             WHERE done_at IS NULL AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2",
        )?;
        let mut out: Vec<FleetOut> = st
            .query_map(params![now, limit], |r| {
                Ok(FleetOut {
                    id: r.get(0)?,
                    host: r.get(1)?,
                    from_host: r.get(2)?,
                    kind: r.get(3)?,
                    cmd: r.get(4)?,
                    job: r.get(5)?,
                    body: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
                    tries: r.get(7)?,
                    seq: 0,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        for row in &mut out {
            row.seq = self.tx.query_row(
                "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'fleet_seq' RETURNING CAST(value AS INTEGER)",
                [],
                |r| r.get(0),
            )?;
        }
        Ok(out)
    }

    /// The broker has row `id`: a receipt is done; a command waits for its
    /// receipt and is tried again later: 1 s after its first try, doubling,
    /// at most 30 s.
    pub fn fleet_published(&self, id: i64, now: i64) -> Result<()> {
        self.tx.execute(
            "UPDATE fleet_out SET tries = tries + 1, \
             done_at = CASE WHEN needs_receipt = 0 THEN ?2 ELSE done_at END, \
             next_at = ?2 + min(30000, 1000 << min(5, tries)) WHERE id = ?1",
            params![id, now],
        )?;
        Ok(())
    }

    /// Row `id` could not be published now (the broker is down or did not
    /// acknowledge it): it is tried again later, as after a try.
    pub fn fleet_not_published(&self, id: i64, now: i64) -> Result<()> {
        self.tx.execute(
            "UPDATE fleet_out SET tries = tries + 1, next_at = ?2 + min(30000, 1000 << min(5, tries)) WHERE id = ?1",
            params![id, now],
        )?;
        Ok(())
    }

    /// A receipt from `host` for command `cmd`: the command is done, and the
    /// local message it carried is marked delivered (with the remote proof)
    /// or failed (with the remote reason). Returns the local message id, or
    /// None when no command of ours matches (or it was settled before).
    pub fn fleet_receipt(
        &self,
        host: &str,
        cmd: &str,
        delivered: bool,
        how: &str,
        error: &str,
    ) -> Result<Option<String>> {
        let mid: Option<Option<i64>> = opt(self.tx.query_row(
            "UPDATE fleet_out SET done_at = ?3 WHERE kind = 'fleet.message' AND host = ?1 AND cmd = ?2 AND done_at IS NULL RETURNING message_id",
            params![host, cmd, now_ms()],
            |r| r.get(0),
        ))?;
        let Some(Some(n)) = mid else { return Ok(None) };
        let id = format!("m{n}");
        if delivered {
            self.mark_delivered(&id, how)?;
        } else {
            let changed = self.tx.execute(
                "UPDATE messages SET state = 'failed', last_error = ?2 WHERE id = ?1 AND state = 'queued'",
                params![n, error],
            )?;
            if changed > 0 {
                let to: String = self.tx.query_row(
                    "SELECT recipient FROM messages WHERE id = ?1",
                    [n],
                    |r| r.get(0),
                )?;
                self.emit("message.failed", &to, json!({"id": id, "error": error}))?;
            }
        }
        Ok(Some(id))
    }

    /// Whether command `cmd` from `origin` was received before; if so, its
    /// receipt is sent again (the sender did not get it).
    pub fn fleet_seen_before(&self, origin: &str, cmd: &str) -> Result<bool> {
        Ok(self.tx.execute(
            "UPDATE fleet_in SET receipt_state = NULL WHERE origin = ?1 AND cmd = ?2",
            params![origin, cmd],
        )? > 0)
    }

    /// Record command `cmd` from `origin`, stored as local message
    /// `message_id` (None: refused, with `error`; neither: a broadcast,
    /// stored for each live agent).
    pub fn fleet_received(
        &self,
        origin: &str,
        cmd: &str,
        message_id: Option<i64>,
        question: Option<&str>,
        error: Option<&str>,
    ) -> Result<()> {
        self.tx.execute(
            "INSERT INTO fleet_in (origin, cmd, message_id, question, received_at, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![origin, cmd, message_id, question, now_ms(), error],
        )?;
        Ok(())
    }

    /// For a question that came from another host (carried by local
    /// message `message_id`): that host and the question's id there.
    pub fn fleet_question_origin(&self, message_id: i64) -> Result<Option<(String, String)>> {
        opt(self.tx.query_row(
            "SELECT origin, question FROM fleet_in WHERE message_id = ?1 AND question IS NOT NULL",
            [message_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        ))
    }

    /// Commands received whose outcome is known and whose receipt is not
    /// queued yet; each is marked queued here (the caller queues it in this
    /// transaction).
    pub fn receipts_due(&self) -> Result<Vec<ReceiptDue>> {
        let mut st = self.tx.prepare_cached(
            "SELECT i.origin, i.cmd, i.message_id, \
             CASE WHEN i.message_id IS NULL AND i.error IS NULL THEN 'delivered' ELSE m.state END, \
             m.how, COALESCE(i.error, CASE WHEN m.state = 'cancelled' \
             THEN 'cancelled on the receiving host' ELSE m.last_error END) \
             FROM fleet_in i LEFT JOIN messages m ON m.id = i.message_id \
             WHERE i.receipt_state IS NULL AND (i.message_id IS NULL OR m.state IN ('delivered', 'read', 'failed', 'cancelled') \
             OR m.recipient = 'operator')",
        )?;
        let rows: Vec<ReceiptDue> = st
            .query_map([], |r| {
                let state: Option<String> = r.get(3)?;
                Ok(ReceiptDue {
                    origin: r.get(0)?,
                    cmd: r.get(1)?,
                    message: r.get::<_, Option<i64>>(2)?.map(|n| format!("m{n}")),
                    // The operator's mail waits in its inbox (for `recv`):
                    // stored there, it has arrived.
                    state: match state.as_deref() {
                        Some("delivered" | "read" | "queued") => "delivered",
                        _ => "failed",
                    },
                    how: r.get(4)?,
                    error: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        for r in &rows {
            self.tx.execute(
                "UPDATE fleet_in SET receipt_state = ?3 WHERE origin = ?1 AND cmd = ?2",
                params![r.origin, r.cmd, r.state],
            )?;
        }
        Ok(rows)
    }
}

impl Registry {
    /// When the next fleet row is due (None: nothing waits).
    pub fn fleet_next_due(&self) -> Result<Option<i64>> {
        Ok(self.conn().query_row(
            "SELECT min(next_at) FROM fleet_out WHERE done_at IS NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// Commands to other hosts still waiting for their receipt: how many,
    /// and when the oldest was queued.
    pub fn fleet_waiting(&self) -> Result<(i64, Option<i64>)> {
        Ok(self.conn().query_row(
            "SELECT count(*), min(created_at) FROM fleet_out WHERE kind = 'fleet.message' AND done_at IS NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Whether any fleet row waits for its receipt scan: a received command
    /// whose receipt is not queued.
    pub fn fleet_receipts_pending(&self) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM fleet_in WHERE receipt_state IS NULL)",
            [],
            |r| r.get(0),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use crate::error::{Code, code_of};
    use crate::registry::Registry;

    const K1: &str = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    const K2: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    #[test]
    fn trust_untrust_and_seen() {
        let (_dir, _, mut reg) = crate::registry::scratch();
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

    #[test]
    fn commands_are_tried_again_backing_off_and_receipts_once() {
        let (_dir, _, mut reg) = crate::registry::scratch();
        let body = serde_json::json!({"cmd": "w:m1"});
        reg.write(|t| {
            t.queue_fleet(
                "beta",
                "alpha",
                "fleet.message",
                "w:m1",
                "bob",
                &body,
                None,
                true,
            )
        })
        .unwrap();
        reg.write(|t| {
            t.queue_fleet(
                "beta",
                "alpha",
                "fleet.receipt",
                "w:m9",
                "-",
                &body,
                None,
                false,
            )
        })
        .unwrap();
        let mut now = 1_000_000_000_000i64.max(crate::registry::now_ms() + 1);
        let mut waits = Vec::new();
        let mut seqs = Vec::new();
        for _ in 0..7 {
            let due = reg.write(|t| t.fleet_due(now, 10)).unwrap();
            seqs.extend(due.iter().map(|r| r.seq));
            reg.write(|t| due.iter().try_for_each(|r| t.fleet_published(r.id, now)))
                .unwrap();
            let next = reg.fleet_next_due().unwrap().unwrap();
            waits.push(next - now);
            now = next;
        }
        assert_eq!(waits, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        // The receipt went once (first round: two rows), every try its own number.
        assert_eq!(seqs.len(), 8);
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
        // A receipt from another host settles nothing; the target's ends
        // the command's tries.
        reg.write(|t| t.fleet_receipt("gamma", "w:m1", true, "screen", ""))
            .unwrap();
        assert_eq!(reg.fleet_waiting().unwrap().0, 1);
        reg.write(|t| t.fleet_receipt("beta", "w:m1", true, "screen", ""))
            .unwrap();
        assert_eq!(reg.fleet_waiting().unwrap().0, 0);
        assert_eq!(reg.fleet_next_due().unwrap(), None);
    }

    #[test]
    fn only_the_newest_state_waits_and_only_the_newest_is_kept() {
        let (_dir, _, mut reg) = crate::registry::scratch();
        let state = |n: i64| serde_json::json!({"at": n, "every_ms": 1000, "jobs": []});
        let queue = |reg: &mut Registry, n: i64| {
            reg.write(|t| t.queue_fleet_latest("beta", "alpha", "fleet.state", &state(n)))
                .unwrap()
        };
        queue(&mut reg, 1);
        queue(&mut reg, 2);
        let now = crate::registry::now_ms() + 10;
        // The broker is down: one row, the newest body, backing off.
        let due = reg.write(|t| t.fleet_due(now, 10)).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].body, state(2));
        reg.write(|t| t.fleet_not_published(due[0].id, now))
            .unwrap();
        let backoff = reg.fleet_next_due().unwrap().unwrap();
        assert_eq!(backoff, now + 1000);
        // A change meanwhile replaces the body and keeps the backoff.
        queue(&mut reg, 3);
        assert_eq!(reg.fleet_next_due().unwrap(), Some(backoff));
        let due = reg.write(|t| t.fleet_due(backoff, 10)).unwrap();
        assert_eq!((due.len(), &due[0].body, due[0].tries), (1, &state(3), 1));
        // Sent: done, then due at once again at the next change, its tries
        // counted afresh.
        reg.write(|t| t.fleet_published(due[0].id, backoff))
            .unwrap();
        assert_eq!(reg.fleet_next_due().unwrap(), None);
        queue(&mut reg, 4);
        let due = reg.write(|t| t.fleet_due(i64::MAX, 10)).unwrap();
        assert_eq!((due.len(), &due[0].body, due[0].tries), (1, &state(4), 0));

        // The receiving side keeps the newest by its time.
        let keep = |reg: &mut Registry, at: i64, jobs: &str| {
            reg.write(|t| t.store_fleet_state("beta", at, 1000, jobs, 7))
                .unwrap()
        };
        assert!(keep(&mut reg, 20, "[1]"));
        assert!(!keep(&mut reg, 10, "[0]"));
        assert!(!keep(&mut reg, 20, "[0]"));
        assert!(keep(&mut reg, 30, "[2]"));
        let kept = reg.fleet_states().unwrap();
        assert_eq!(
            kept.iter()
                .map(|s| (s.host.as_str(), s.at, s.jobs.as_str()))
                .collect::<Vec<_>>(),
            [("beta", 30, "[2]")]
        );
    }
}
