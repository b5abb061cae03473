//! Reminders (`r<N>`): scheduling, claiming due ones under the per-target
//! rate limit (one transaction per pass), and recording how delivery went.

use anyhow::Result;
use rusqlite::{Row, params};
use serde::Serialize;
use serde_json::json;

use super::{Registry, Tx, event_job, now_ms, opt};
use crate::error::{conflict, not_found};
use crate::model::ReminderState;

/// Typed attempts at a stopped or gone target before a reminder fails.
pub const MAX_ATTEMPTS: i64 = 3;

#[derive(Debug, Clone, Serialize)]
pub struct Reminder {
    pub id: String,
    pub owner: String,
    pub target: String,
    pub text: String,
    pub due_at: i64,
    pub every_ms: Option<i64>,
    pub state: ReminderState,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub fired_at: Option<i64>,
}

const COLS: &str =
    "id, owner, target, text, due_at, every_ms, state, attempts, last_error, created_at, fired_at";

fn row(r: &Row) -> rusqlite::Result<Reminder> {
    Ok(Reminder {
        id: format!("r{}", r.get::<_, i64>(0)?),
        owner: r.get(1)?,
        target: r.get(2)?,
        text: r.get(3)?,
        due_at: r.get(4)?,
        every_ms: r.get(5)?,
        state: r.get(6)?,
        attempts: r.get(7)?,
        last_error: r.get(8)?,
        created_at: r.get(9)?,
        fired_at: r.get(10)?,
    })
}

/// The per-target limit: at most `burst` deliveries within `burst` intervals
/// of 3600/per_hour seconds, and at most `per_hour` in any hour. Excess is
/// deferred to a later pass, never dropped.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub burst: u32,
    pub per_hour: u32,
}

impl RateLimit {
    fn burst_window_ms(&self) -> i64 {
        let interval = 3_600_000 / i64::from(self.per_hour.max(1));
        interval * i64::from(self.burst.max(1))
    }
}

impl Tx<'_> {
    /// Pending reminders due by `now` for any target but the operator:
    /// (id, target, the target job's state if it exists).
    pub fn due_reminder_targets(&self, now: i64) -> Result<Vec<(i64, String, Option<String>)>> {
        let mut st = self.tx.prepare_cached(
            "SELECT r.id, r.target, j.state FROM reminders r LEFT JOIN jobs j ON j.name = r.target \
             WHERE r.state = 'pending' AND r.due_at <= ?1 AND r.target != 'operator'",
        )?;
        let rows = st.query_map([now], |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn insert_reminder(
        &self,
        owner: &str,
        target: &str,
        text: &str,
        due_at: i64,
        every_ms: Option<i64>,
    ) -> Result<String> {
        self.tx.execute(
            "INSERT INTO reminders (owner, target, text, due_at, every_ms, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![owner, target, text, due_at, every_ms, now_ms()],
        )?;
        let id = format!("r{}", self.tx.last_insert_rowid());
        self.emit(
            "reminder.scheduled",
            event_job(target, owner),
            json!({"id": id, "owner": owner, "target": target, "due_at": crate::signing::rfc3339_ms(due_at)}),
        )?;
        Ok(id)
    }

    fn reminder(&self, n: i64) -> Result<Option<Reminder>> {
        opt(self.tx.query_row(
            &format!("SELECT {COLS} FROM reminders WHERE id = ?1"),
            [n],
            row,
        ))
    }

    /// Claim due reminders whose targets are under their rate limit, oldest
    /// first; records a fire per claimed reminder. `deliverable(target)` says
    /// whether the target can take one now (claiming nothing for others).
    pub fn claim_due(
        &self,
        now: i64,
        limit: RateLimit,
        deliverable: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<Reminder>> {
        let mut st = self.tx.prepare_cached(&format!(
            "SELECT {COLS} FROM reminders WHERE state = 'pending' AND due_at <= ?1 ORDER BY due_at, id"
        ))?;
        let due: Vec<Reminder> = st.query_map([now], row)?.collect::<rusqlite::Result<_>>()?;
        let mut claimed = Vec::new();
        for r in due {
            if !deliverable(&r.target) {
                continue;
            }
            let (in_burst, in_hour): (i64, i64) = self.tx.query_row(
                "SELECT sum(at > ?2), count(*) FROM reminder_fires WHERE target = ?1 AND at > ?3",
                params![r.target, now - limit.burst_window_ms(), now - 3_600_000],
                |x| Ok((x.get::<_, Option<i64>>(0)?.unwrap_or(0), x.get(1)?)),
            )?;
            if in_burst >= i64::from(limit.burst) || in_hour >= i64::from(limit.per_hour) {
                continue; // deferred, not dropped
            }
            self.tx.execute(
                "INSERT INTO reminder_fires (target, at) VALUES (?1, ?2)",
                params![r.target, now],
            )?;
            claimed.push(r);
        }
        self.tx.execute(
            "DELETE FROM reminder_fires WHERE at < ?1",
            [now - 3_600_000],
        )?;
        Ok(claimed)
    }

    /// Give back one rate-limit slot taken at `at` for `target`.
    pub fn refund_fire(&self, target: &str, at: i64) -> Result<()> {
        self.tx.execute(
            "DELETE FROM reminder_fires WHERE rowid = (SELECT max(rowid) FROM reminder_fires WHERE target = ?1 AND at = ?2)",
            params![target, at],
        )?;
        Ok(())
    }

    /// A reminder was seen delivered: done, or re-armed when it repeats.
    pub fn reminder_delivered(&self, id: &str, now: i64, how: &str) -> Result<()> {
        let n = num(id)?;
        let Some(r) = self.reminder(n)? else {
            return Ok(());
        };
        match r.every_ms {
            Some(every) if every > 0 => {
                let mut next = r.due_at + every;
                while next <= now {
                    next += every;
                }
                self.tx.execute(
                    "UPDATE reminders SET due_at = ?2, fired_at = ?3, attempts = 0, last_error = NULL, how = ?4 WHERE id = ?1",
                    params![n, next, now, how],
                )?;
            }
            _ => {
                self.tx.execute(
                    "UPDATE reminders SET state = 'delivered', fired_at = ?2, attempts = attempts + 1, last_error = NULL, how = ?3 WHERE id = ?1",
                    params![n, now, how],
                )?;
            }
        }
        let job = event_job(&r.target, &r.owner);
        self.emit(
            "reminder.fired",
            job,
            json!({"id": id, "target": r.target, "how": how}),
        )?;
        Ok(())
    }

    /// A delivery did not happen. `counts`: it was a real attempt (the target
    /// is not running); after `MAX_ATTEMPTS` of those the reminder fails.
    pub fn reminder_missed(&self, id: &str, error: &str, counts: bool) -> Result<()> {
        let n = num(id)?;
        self.tx.execute(
            "UPDATE reminders SET attempts = attempts + ?3, last_error = ?2 WHERE id = ?1 AND state = 'pending'",
            params![n, error, counts as i64],
        )?;
        let failed = self.tx.execute(
            "UPDATE reminders SET state = 'failed' WHERE id = ?1 AND state = 'pending' AND attempts >= ?2",
            params![n, MAX_ATTEMPTS],
        )?;
        if failed > 0
            && let Some(r) = self.reminder(n)?
        {
            let job = event_job(&r.target, &r.owner);
            self.emit("reminder.failed", job, json!({"id": id, "error": error}))?;
        }
        Ok(())
    }

    /// Re-arm a failed reminder (owner or operator): pending, due now.
    pub fn retry_reminder(&self, id: &str, by: &str) -> Result<()> {
        let n = num(id)?;
        let r = self
            .reminder(n)?
            .ok_or_else(|| not_found(format!("no reminder {id}")))?;
        if by != "operator" && by != r.owner {
            return Err(conflict(format!("{id} belongs to {}, not to {by}", r.owner)).into());
        }
        if r.state != ReminderState::Failed {
            return Err(conflict(format!(
                "{id} is {}; only a failed reminder can be retried",
                r.state
            ))
            .into());
        }
        self.tx.execute(
            "UPDATE reminders SET state = 'pending', attempts = 0, due_at = ?2 WHERE id = ?1",
            params![n, now_ms()],
        )?;
        let job = event_job(&r.target, &r.owner);
        self.emit("reminder.retried", job, json!({"id": id}))?;
        Ok(())
    }

    pub fn cancel_reminder(&self, id: &str, by: &str) -> Result<()> {
        let n = num(id)?;
        let r = self
            .reminder(n)?
            .ok_or_else(|| not_found(format!("no {id} in this workspace")))?;
        if by != "operator" && by != r.owner {
            return Err(
                conflict(format!("{id} belongs to {}, not to {by}", r.owner))
                    .hint("only its owner (or the operator) can cancel it")
                    .into(),
            );
        }
        if r.state != ReminderState::Pending && r.state != ReminderState::Failed {
            return Err(conflict(format!("{id} is {}", r.state)).into());
        }
        self.tx.execute(
            "UPDATE reminders SET state = 'cancelled' WHERE id = ?1",
            [n],
        )?;
        let job = event_job(&r.target, &r.owner);
        self.emit("reminder.cancelled", job, json!({"id": id, "by": by}))?;
        Ok(())
    }
}

fn num(id: &str) -> Result<i64> {
    match crate::registry::messages::parse_id(id)? {
        ('r', n) => Ok(n),
        _ => Err(crate::error::usage(format!("{id} is not a reminder id (r<N>)")).into()),
    }
}

impl Registry {
    /// Reminders for `who` (as target or owner), or all; pending and failed
    /// only unless `all`.
    pub fn reminders(&self, who: Option<&str>, all: bool) -> Result<Vec<Reminder>> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {COLS} FROM reminders WHERE (?1 IS NULL OR target = ?1 OR owner = ?1) \
             AND (?2 OR state IN ('pending', 'failed')) ORDER BY due_at, id"
        ))?;
        Ok(st
            .query_map(params![who, all], row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Whether any pending reminder is due at `now` (uses the due index).
    pub fn any_reminder_due(&self, now: i64) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM reminders WHERE state = 'pending' AND due_at <= ?1)",
            [now],
            |r| r.get(0),
        )?)
    }

    /// Per target: (pending, failed) reminders, for the dashboard.
    pub fn reminder_counts(&self) -> Result<std::collections::HashMap<String, (i64, i64)>> {
        let mut st = self.conn().prepare_cached(
            "SELECT target, sum(state = 'pending'), sum(state = 'failed') FROM reminders \
             WHERE state IN ('pending', 'failed') GROUP BY target",
        )?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?))))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Pending reminders per target, for status.
    pub fn pending_reminder_counts(&self) -> Result<std::collections::HashMap<String, i64>> {
        let mut st = self.conn().prepare_cached(
            "SELECT target, count(*) FROM reminders WHERE state = 'pending' GROUP BY target",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
