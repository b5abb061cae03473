//! File leases (`l<N>`): who holds which path or glob, until when. Each
//! change is one row update with its event (`lease.acquired`,
//! `lease.renewed`, `lease.released`, `lease.expired`, `lease.broken`) in
//! the same transaction; whether two patterns overlap is the lease room's
//! rule, applied inside the caller's transaction.

use anyhow::Result;
use rusqlite::{Row, params};
use serde::Serialize;
use serde_json::json;

use super::messages::NewMessage;
use super::{Registry, Tx, now_ms, opt};
use crate::error::usage;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Lease {
    pub id: String,
    pub holder: String,
    pub pattern: String,
    pub shared: bool,
    pub reason: Option<String>,
    /// `active`, `released`, `expired` or `broken`.
    pub state: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
    pub ended_by: Option<String>,
    pub end_reason: Option<String>,
}

const COLS: &str = "id, holder, pattern, shared, reason, state, created_at, expires_at, ended_at, ended_by, end_reason";

fn row(r: &Row) -> rusqlite::Result<Lease> {
    Ok(Lease {
        id: format!("l{}", r.get::<_, i64>(0)?),
        holder: r.get(1)?,
        pattern: r.get(2)?,
        shared: r.get(3)?,
        reason: r.get(4)?,
        state: r.get(5)?,
        created_at: r.get(6)?,
        expires_at: r.get(7)?,
        ended_at: r.get(8)?,
        ended_by: r.get(9)?,
        end_reason: r.get(10)?,
    })
}

/// The number of lease id `l<N>`.
pub fn lease_number(id: &str) -> Result<i64> {
    id.strip_prefix('l')
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| usage(format!("{id:?} is not a lease id (l<N>)")).into())
}

/// The job a lease event belongs to: its holder, or `-` for the operator.
fn event_job(holder: &str) -> &str {
    if holder == "operator" { "-" } else { holder }
}

fn body(l: &Lease) -> serde_json::Value {
    let mut b = json!({
        "id": l.id,
        "holder": l.holder,
        "pattern": l.pattern,
        "shared": l.shared,
        "expires_at": crate::signing::rfc3339_ms(l.expires_at),
    });
    if let Some(r) = &l.reason {
        b["reason"] = json!(r);
    }
    b
}

impl Tx<'_> {
    /// Every active lease, including ones past their expiry that no one
    /// has expired yet (call `expire_leases` first in the same transaction).
    pub fn active_leases(&self) -> Result<Vec<Lease>> {
        let mut st = self.tx.prepare_cached(&format!(
            "SELECT {COLS} FROM leases WHERE state = 'active' ORDER BY id"
        ))?;
        Ok(st.query_map([], row)?.collect::<rusqlite::Result<_>>()?)
    }

    pub fn lease(&self, id: &str) -> Result<Option<Lease>> {
        let n = lease_number(id)?;
        opt(self.tx.query_row(
            &format!("SELECT {COLS} FROM leases WHERE id = ?1"),
            [n],
            row,
        ))
    }

    /// A new active lease, with its `lease.acquired` event.
    pub fn insert_lease(
        &self,
        holder: &str,
        pattern: &str,
        shared: bool,
        reason: Option<&str>,
        expires_at: i64,
    ) -> Result<Lease> {
        let now = now_ms();
        self.tx.execute(
            "INSERT INTO leases (holder, pattern, shared, reason, state, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6)",
            params![holder, pattern, shared, reason, now, expires_at],
        )?;
        let l = Lease {
            id: format!("l{}", self.tx.last_insert_rowid()),
            holder: holder.into(),
            pattern: pattern.into(),
            shared,
            reason: reason.map(str::to_string),
            state: "active".into(),
            created_at: now,
            expires_at,
            ended_at: None,
            ended_by: None,
            end_reason: None,
        };
        self.emit("lease.acquired", event_job(holder), body(&l))?;
        Ok(l)
    }

    /// Move an active lease's expiry, with `lease.renewed`.
    pub fn renew_lease(&self, l: &Lease, expires_at: i64, by: &str) -> Result<Lease> {
        let n = lease_number(&l.id)?;
        self.tx.execute(
            "UPDATE leases SET expires_at = ?2 WHERE id = ?1 AND state = 'active'",
            params![n, expires_at],
        )?;
        let mut l = l.clone();
        l.expires_at = expires_at;
        let mut b = body(&l);
        b["by"] = json!(by);
        self.emit("lease.renewed", event_job(&l.holder), b)?;
        Ok(l)
    }

    /// End an active lease: `released` (by its holder, or its job ended) or
    /// `broken` (by the operator's `--force`), with the event of that name.
    /// Returns false when it was not active any more.
    pub fn end_lease(&self, l: &Lease, state: &str, by: &str, why: Option<&str>) -> Result<bool> {
        debug_assert!(state == "released" || state == "broken");
        let n = lease_number(&l.id)?;
        let changed = self.tx.execute(
            "UPDATE leases SET state = ?2, ended_at = ?3, ended_by = ?4, end_reason = ?5 \
             WHERE id = ?1 AND state = 'active'",
            params![n, state, now_ms(), by, why],
        )?;
        if changed == 0 {
            return Ok(false);
        }
        let mut b = body(l);
        b["by"] = json!(by);
        if let Some(w) = why {
            b["why"] = json!(w);
        }
        self.emit(&format!("lease.{state}"), event_job(&l.holder), b)?;
        Ok(true)
    }

    /// Expire every active lease past its time: each one changes state
    /// once (the write transaction serialises concurrent callers), with a
    /// `lease.expired` event and a system message telling its holder.
    pub fn expire_leases(&self, now: i64) -> Result<Vec<Lease>> {
        let mut st = self.tx.prepare_cached(&format!(
            "UPDATE leases SET state = 'expired', ended_at = ?1, ended_by = 'mam', end_reason = 'ttl' \
             WHERE state = 'active' AND expires_at <= ?1 RETURNING {COLS}"
        ))?;
        let mut gone: Vec<Lease> = st.query_map([now], row)?.collect::<rusqlite::Result<_>>()?;
        drop(st);
        gone.sort_by_key(|l| lease_number(&l.id).unwrap_or(0));
        for l in &gone {
            self.emit("lease.expired", event_job(&l.holder), body(l))?;
            let text = format!(
                "your lease {} on {} expired at {} and is released; others may now lease it. Lease it again with `mam lease {}` if you still need it.",
                l.id,
                l.pattern,
                crate::signing::rfc3339_ms(l.expires_at),
                shell_word(&l.pattern)
            );
            self.insert_message(&NewMessage {
                from: "operator",
                to: &l.holder,
                kind: "system",
                body: &text,
                in_reply_to: None,
                question_id: None,
            })?;
        }
        Ok(gone)
    }

    /// Release every active lease of `holder` because its job ended.
    pub fn release_leases_of(&self, holder: &str, why: &str) -> Result<usize> {
        let mut st = self.tx.prepare_cached(&format!(
            "SELECT {COLS} FROM leases WHERE state = 'active' AND holder = ?1 ORDER BY id"
        ))?;
        let held: Vec<Lease> = st
            .query_map([holder], row)?
            .collect::<rusqlite::Result<_>>()?;
        drop(st);
        for l in &held {
            self.end_lease(l, "released", "mam", Some(why))?;
        }
        Ok(held.len())
    }
}

/// A pattern as one shell word, for the text of a hint.
fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

impl Registry {
    /// Leases held by `holder` (or everyone's); active only unless `all`.
    pub fn leases(&self, holder: Option<&str>, all: bool) -> Result<Vec<Lease>> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {COLS} FROM leases WHERE (?1 IS NULL OR holder = ?1) AND (?2 OR state = 'active') ORDER BY id"
        ))?;
        Ok(st
            .query_map(params![holder, all], row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Whether an active lease is past its expiry at `now` (the index
    /// answers; a reader then takes a write transaction only when so).
    pub fn any_lease_due(&self, now: i64) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM leases WHERE state = 'active' AND expires_at <= ?1)",
            [now],
            |r| r.get(0),
        )?)
    }
}
