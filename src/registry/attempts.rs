//! Delivery attempts: one row per time mam types something into an agent,
//! written *before* the first key is sent and moved on at each step
//! (`typing` → `submitted` → `proven` / `lost` / `cleared` / `abandoned`).
//! A process killed at any instant leaves an open attempt (`typing` or
//! `submitted`) that the next delivery to that job repairs before it types
//! anything new. Finishing an attempt and marking its item delivered happen
//! in one transaction.

use anyhow::Result;
use rusqlite::{Row, params};
use serde::Serialize;
use serde_json::json;

use super::{Registry, Tx, now_ms, opt};

#[derive(Debug, Clone, Serialize)]
pub struct AttemptRow {
    pub id: i64,
    pub job: String,
    /// `m12`, `r3` or `prompt`.
    pub item: String,
    pub needle: Option<String>,
    /// JSON: the agent's record files and their sizes before typing.
    pub baseline: Option<String>,
    pub state: String,
    pub how: Option<String>,
    pub error: Option<String>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
}

impl AttemptRow {
    /// Typed (or being typed) and not settled yet.
    pub fn is_open(&self) -> bool {
        matches!(self.state.as_str(), "typing" | "submitted")
    }
}

const COLS: &str = "id, job, item, needle, baseline, state, how, error, started_at, ended_at";

fn row(r: &Row) -> rusqlite::Result<AttemptRow> {
    Ok(AttemptRow {
        id: r.get(0)?,
        job: r.get(1)?,
        item: r.get(2)?,
        needle: r.get(3)?,
        baseline: r.get(4)?,
        state: r.get(5)?,
        how: r.get(6)?,
        error: r.get(7)?,
        started_at: r.get(8)?,
        ended_at: r.get(9)?,
    })
}

impl Registry {
    /// A job's open attempts, oldest first.
    pub fn open_attempts(&self, job: &str) -> Result<Vec<AttemptRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLS} FROM attempts WHERE job = ?1 AND state IN ('typing', 'submitted') ORDER BY id"
        ))?;
        let rows = st.query_map([job], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A job's newest attempts, newest first.
    pub fn recent_attempts(&self, job: &str, limit: i64) -> Result<Vec<AttemptRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLS} FROM attempts WHERE job = ?1 ORDER BY id DESC LIMIT ?2"
        ))?;
        let rows = st.query_map(params![job, limit], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Tx<'_> {
    /// Record that mam is about to type `item` into `job`.
    pub fn begin_attempt(
        &self,
        job: &str,
        item: &str,
        needle: Option<&str>,
        baseline: Option<&str>,
    ) -> Result<i64> {
        self.tx.execute(
            "INSERT INTO attempts (job, item, needle, baseline, state, started_at) \
             VALUES (?1, ?2, ?3, ?4, 'typing', ?5)",
            params![job, item, needle, baseline, now_ms()],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    /// The text is in the composer; the submit key goes next.
    pub fn attempt_submitted(&self, id: i64) -> Result<()> {
        self.tx.execute(
            "UPDATE attempts SET state = 'submitted' WHERE id = ?1 AND state = 'typing'",
            [id],
        )?;
        Ok(())
    }

    /// Close an attempt: `proven` (with `how`), `lost`, `cleared` or
    /// `abandoned` (with why). Only an open attempt moves.
    pub fn end_attempt(
        &self,
        id: i64,
        state: &str,
        how: Option<&str>,
        error: Option<&str>,
    ) -> Result<bool> {
        let n = self.tx.execute(
            "UPDATE attempts SET state = ?2, how = ?3, error = ?4, ended_at = ?5 \
             WHERE id = ?1 AND state IN ('typing', 'submitted')",
            params![id, state, how, error, now_ms()],
        )?;
        Ok(n > 0)
    }

    /// Leave an attempt open with the reason it is not proven yet.
    pub fn attempt_note(&self, id: i64, error: &str) -> Result<()> {
        self.tx.execute(
            "UPDATE attempts SET error = ?2 WHERE id = ?1",
            params![id, error],
        )?;
        Ok(())
    }

    /// The job's task prompt reached it.
    pub fn prompt_delivered(&self, job: &str, how: &str) -> Result<()> {
        let n = self.tx.execute(
            "UPDATE jobs SET prompt_state = 'delivered' WHERE name = ?1 AND prompt_state = 'pending'",
            [job],
        )?;
        if n > 0 {
            self.emit("job.prompt_delivered", job, json!({"how": how}))?;
        }
        Ok(())
    }

    /// The prompt state of a job (`None`: it has no prompt).
    pub fn prompt_state(&self, job: &str) -> Result<Option<String>> {
        Ok(opt(self.tx.query_row(
            "SELECT prompt_state FROM jobs WHERE name = ?1",
            [job],
            |r| r.get::<_, Option<String>>(0),
        ))?
        .flatten())
    }
}
