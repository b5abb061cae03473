//! Hook runs: the cursor over the event log that the hook scan has passed,
//! the claim of each (event, hook) before the hook starts, and its outcome.

use anyhow::Result;
use rusqlite::params;

use super::events::StoredEvent;
use super::{Registry, now_ms};

/// One claimed run: the event and the hook's identity (`HookRun.hook`).
#[derive(Debug, Clone)]
pub struct Claim {
    pub event: StoredEvent,
    pub hook: String,
}

/// A recorded run of a hook.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HookRunRow {
    pub event_seq: i64,
    pub hook: String,
    pub kind: String,
    pub job: String,
    pub started_at: i64,
    pub timeout_ms: i64,
    pub finished_at: Option<i64>,
    /// `ok`, `failed`, `timeout`, or None (running, or its runner died).
    pub outcome: Option<String>,
    pub detail: String,
}

impl Registry {
    /// The last event the hook scan has looked at.
    pub fn hooks_cursor(&self) -> Result<i64> {
        let v: Option<String> = super::opt(self.conn.query_row(
            "SELECT value FROM meta WHERE key = 'hooks_seq'",
            [],
            |r| r.get(0),
        ))?;
        Ok(v.and_then(|s| s.parse().ok()).unwrap_or(0))
    }

    /// The newest event's sequence number (0: none).
    pub fn last_event_seq(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?)
    }

    /// In one transaction: read up to `limit` events after the cursor, ask
    /// `due` which hooks (identity, timeout in ms) each one is for, insert a
    /// claim for each (a claim already there is not returned: someone else
    /// has it), and move the cursor past them. Only the claims returned may
    /// be run, so each hook runs at most once per event whoever scans.
    pub fn claim_hook_runs(
        &mut self,
        limit: i64,
        mut due: impl FnMut(&StoredEvent) -> Vec<(String, i64)>,
    ) -> Result<Vec<Claim>> {
        self.write(|tx| {
            let cursor: i64 = tx
                .tx
                .query_row(
                    "SELECT value FROM meta WHERE key = 'hooks_seq'",
                    [],
                    |r| r.get::<_, String>(0),
                )
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let mut st = tx.tx.prepare_cached(
                "SELECT seq, kind, job, topic, envelope, published_at IS NOT NULL FROM events \
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let events = st
                .query_map(params![cursor, limit], |r| {
                    Ok(StoredEvent {
                        seq: r.get(0)?,
                        kind: r.get(1)?,
                        job: r.get(2)?,
                        topic: r.get(3)?,
                        envelope: r.get(4)?,
                        published: r.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let Some(last) = events.last().map(|e| e.seq) else {
                return Ok(Vec::new());
            };
            let now = now_ms();
            let mut claims = Vec::new();
            for ev in events {
                for (hook, timeout_ms) in due(&ev) {
                    let n = tx.tx.execute(
                        "INSERT OR IGNORE INTO hook_runs (event_seq, hook, kind, job, started_at, timeout_ms) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![ev.seq, hook, ev.kind, ev.job, now, timeout_ms],
                    )?;
                    if n == 1 {
                        claims.push(Claim {
                            event: ev.clone(),
                            hook,
                        });
                    }
                }
            }
            tx.tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('hooks_seq', ?1)",
                [last.to_string()],
            )?;
            Ok(claims)
        })
    }

    /// Record how a claimed run ended.
    pub fn finish_hook_run(
        &mut self,
        event_seq: i64,
        hook: &str,
        outcome: &str,
        detail: &str,
    ) -> Result<()> {
        self.write(|tx| {
            tx.tx.execute(
                "UPDATE hook_runs SET finished_at = ?3, outcome = ?4, detail = ?5 \
                 WHERE event_seq = ?1 AND hook = ?2",
                params![event_seq, hook, now_ms(), outcome, detail],
            )?;
            Ok(())
        })
    }

    /// Runs that did not end `ok` (failed, timed out, or unfinished), newest
    /// first, at most `limit`.
    pub fn hook_runs_not_ok(&self, limit: i64) -> Result<Vec<HookRunRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT event_seq, hook, kind, job, started_at, timeout_ms, finished_at, outcome, detail \
             FROM hook_runs WHERE outcome IS NULL OR outcome <> 'ok' \
             ORDER BY started_at DESC, event_seq DESC LIMIT ?1",
        )?;
        let rows = st.query_map([limit], run_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every recorded run of `hook` (oldest first), for tests and `doctor`.
    pub fn hook_runs(&self) -> Result<Vec<HookRunRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT event_seq, hook, kind, job, started_at, timeout_ms, finished_at, outcome, detail \
             FROM hook_runs ORDER BY event_seq, hook",
        )?;
        let rows = st.query_map([], run_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// A `hook_runs` row, selected in the column order both queries use.
fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HookRunRow> {
    Ok(HookRunRow {
        event_seq: r.get(0)?,
        hook: r.get(1)?,
        kind: r.get(2)?,
        job: r.get(3)?,
        started_at: r.get(4)?,
        timeout_ms: r.get(5)?,
        finished_at: r.get(6)?,
        outcome: r.get(7)?,
        detail: r.get(8)?,
    })
}
