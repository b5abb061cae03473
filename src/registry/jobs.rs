//! Jobs and their tmux sessions. Every state change emits its event in the
//! same transaction.

use anyhow::{Context, Result};
use rusqlite::{Row, params};
use serde::Serialize;
use serde_json::json;

use super::{Registry, Tx, now_ms, opt};
use crate::error::{conflict, not_found};
use crate::model::{JobState, OnDone, Role, Verdict};

#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub name: String,
    pub kind: String,
    pub role: Role,
    pub workdir: String,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<(String, String)>,
    pub prompt: Option<String>,
    pub state: JobState,
    pub reason: Option<String>,
    pub progress: Option<i64>,
    pub progress_note: Option<String>,
    pub verdict: Option<Verdict>,
    pub details: Option<String>,
    pub artifacts: Vec<String>,
    pub on_done: OnDone,
    pub conversation_id: Option<String>,
    pub exit_status: Option<i64>,
    pub misses: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub state_since: i64,
    /// The live session, if any.
    pub session: Option<Session>,
    /// tmux window_activity (unix s) reconcile last classified.
    pub activity_seen: Option<i64>,
    /// When reconcile flagged it stuck (unix ms).
    pub stuck_at: Option<i64>,
    /// Whether its task prompt reached it: `pending`, `delivered`, or `None`
    /// (no prompt).
    pub prompt_state: Option<String>,
    /// mam's MCP server (`mam mcp`) is wired into the agent at start.
    pub mcp: bool,
    /// The job's own git worktree (`create --worktree`), if it has one.
    pub worktree: Option<Worktree>,
}

/// A job's git worktree as recorded at create.
#[derive(Debug, Clone, Serialize)]
pub struct Worktree {
    pub path: String,
    /// The top of the main checkout it was added from (where git worktree
    /// commands run).
    pub repo: String,
    pub branch: String,
    /// The base as given (`--base`, or the branch checked out then); None
    /// when that was a detached HEAD.
    pub base_ref: Option<String>,
    /// The commit the base named when the worktree was made.
    pub base_commit: String,
    /// Untracked files mam copied in (`[worktree] copy`), relative paths.
    pub copied: Vec<String>,
    /// `present`, `missing` (deleted outside mam) or `removed` (by mam).
    pub state: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub id: i64,
    pub tmux_session: String,
    pub pane_id: String,
    pub pane_pid: i64,
    pub started_at: i64,
}

impl Job {
    /// Registry says live and a session is recorded: the agent can be typed to.
    pub fn is_running(&self) -> bool {
        self.session.is_some() && self.state.is_live()
    }

    /// Shown by `mam status` without `--all` (and told to the fleet's other
    /// hosts): every job but those stopped or done over a day before `now`.
    pub fn is_recent(&self, now: i64) -> bool {
        const DAY_MS: i64 = 86_400_000;
        !matches!(self.state, JobState::Stopped | JobState::Done) || now - self.state_since < DAY_MS
    }
}

/// What `create` records.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub role: Role,
    pub workdir: &'a str,
    pub cmd: Option<&'a [String]>,
    pub env: &'a [(String, String)],
    pub prompt: Option<&'a str>,
    pub conversation_id: Option<&'a str>,
    pub on_done: OnDone,
    pub worktree: Option<&'a Worktree>,
    pub mcp: bool,
}

const JOB_COLUMNS: &str = "j.name, j.kind, j.role, j.workdir, j.cmd, j.env, j.prompt, j.state, j.reason, \
    j.progress, j.progress_note, j.verdict, j.details, j.artifacts, j.on_done, j.conversation_id, \
    j.exit_status, j.misses, j.created_at, j.updated_at, j.state_since, \
    s.id, s.tmux_session, s.pane_id, s.pane_pid, s.started_at, j.activity_seen, j.stuck_at, j.prompt_state, \
    j.worktree, j.worktree_repo, j.worktree_branch, j.worktree_base_ref, j.worktree_base_commit, \
    j.worktree_copied, j.worktree_state, j.mcp";

const JOB_FROM: &str = "FROM jobs j LEFT JOIN sessions s ON s.job = j.name AND s.ended_at IS NULL";

fn job_from_row(r: &Row) -> rusqlite::Result<Job> {
    let json_col = |i: usize| -> rusqlite::Result<Option<String>> { r.get(i) };
    let session = match r.get::<_, Option<i64>>(21)? {
        Some(id) => Some(Session {
            id,
            tmux_session: r.get(22)?,
            pane_id: r.get(23)?,
            pane_pid: r.get(24)?,
            started_at: r.get(25)?,
        }),
        None => None,
    };
    Ok(Job {
        name: r.get(0)?,
        kind: r.get(1)?,
        role: r.get(2)?,
        workdir: r.get(3)?,
        cmd: json_col(4)?.and_then(|s| serde_json::from_str(&s).ok()),
        env: json_col(5)?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default(),
        prompt: r.get(6)?,
        state: r.get(7)?,
        reason: r.get(8)?,
        progress: r.get(9)?,
        progress_note: r.get(10)?,
        verdict: r.get(11)?,
        details: r.get(12)?,
        artifacts: json_col(13)?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default(),
        on_done: r.get(14)?,
        conversation_id: r.get(15)?,
        exit_status: r.get(16)?,
        misses: r.get(17)?,
        created_at: r.get(18)?,
        updated_at: r.get(19)?,
        state_since: r.get(20)?,
        session,
        activity_seen: r.get(26)?,
        stuck_at: r.get(27)?,
        prompt_state: r.get(28)?,
        worktree: match r.get::<_, Option<String>>(29)? {
            Some(path) => Some(Worktree {
                path,
                repo: r.get(30)?,
                branch: r.get(31)?,
                base_ref: r.get(32)?,
                base_commit: r.get(33)?,
                copied: serde_json::from_str(&r.get::<_, String>(34)?).unwrap_or_default(),
                state: r.get(35)?,
            }),
            None => None,
        },
        mcp: r.get(36)?,
    })
}

/// Read a job inside or outside a transaction. The statement is cached:
/// parsing its join of 37 columns costs more than running it, and a command
/// often reads the same job twice.
pub fn get(conn: &rusqlite::Connection, name: &str) -> Result<Option<Job>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} {JOB_FROM} WHERE j.name = ?1"
    ))?;
    opt(st.query_row([name], job_from_row))
}

impl Registry {
    pub fn job(&self, name: &str) -> Result<Option<Job>> {
        get(self.conn(), name)
    }

    /// Whether a job of that name exists (cheaper than [`Registry::job`]).
    pub fn job_exists(&self, name: &str) -> Result<bool> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT 1 FROM jobs WHERE name = ?1")?;
        Ok(opt(st.query_row([name], |_| Ok(())))?.is_some())
    }

    /// Whether the job exists and [`Job::is_running`] holds for it: live,
    /// with a session recorded (cheaper than [`Registry::job`]).
    pub fn job_running(&self, name: &str) -> Result<bool> {
        let mut st = self.conn().prepare_cached(
            "SELECT j.state FROM jobs j JOIN sessions s ON s.job = j.name AND s.ended_at IS NULL \
             WHERE j.name = ?1 LIMIT 1",
        )?;
        let state: Option<JobState> = opt(st.query_row([name], |r| r.get(0)))?;
        Ok(state.is_some_and(JobState::is_live))
    }

    /// A job that must exist (exit 3 otherwise).
    pub fn require_job(&self, name: &str) -> Result<Job> {
        self.job(name)?.ok_or_else(|| unknown_job(name))
    }

    pub fn jobs(&self) -> Result<Vec<Job>> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} {JOB_FROM} ORDER BY j.created_at, j.name"
        ))?;
        let rows = st.query_map([], job_from_row)?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .context("cannot list jobs")
    }
}

/// A worktree as events carry it.
fn worktree_json(w: &Worktree) -> serde_json::Value {
    json!({
        "path": w.path,
        "branch": w.branch,
        "base": w.base_ref,
        "base_commit": w.base_commit,
    })
}

pub fn unknown_job(name: &str) -> anyhow::Error {
    not_found(format!("no job named {name:?} in this workspace"))
        .hint("see `mam status --all` for the jobs there are")
        .into()
}

impl Tx<'_> {
    /// Insert a new job in state `starting`, with its `job.created` event in
    /// the same transaction (so no job ever exists without it). A prompt is
    /// recorded as `pending` until a delivery proves it reached the agent.
    pub fn insert_job(&self, j: &NewJob) -> Result<()> {
        let now = now_ms();
        let res = self.tx.execute(
            "INSERT INTO jobs (name, kind, role, workdir, cmd, env, prompt, state, conversation_id, \
             created_at, updated_at, state_since, on_done, prompt_state, worktree, worktree_repo, \
             worktree_branch, worktree_base_ref, worktree_base_commit, worktree_copied, worktree_state, mcp) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'starting', ?8, ?9, ?9, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
            params![
                j.name,
                j.kind,
                j.role,
                j.workdir,
                j.cmd.map(|c| serde_json::to_string(c).unwrap_or_default()),
                serde_json::to_string(j.env)?,
                j.prompt,
                j.conversation_id,
                now,
                j.on_done,
                j.prompt.filter(|p| !p.trim().is_empty()).map(|_| "pending"),
                j.worktree.map(|w| &w.path),
                j.worktree.map(|w| &w.repo),
                j.worktree.map(|w| &w.branch),
                j.worktree.and_then(|w| w.base_ref.as_ref()),
                j.worktree.map(|w| &w.base_commit),
                serde_json::to_string(&j.worktree.map_or(&[][..], |w| &w.copied[..]))?,
                j.worktree.map(|w| &w.state),
                j.mcp,
            ],
        );
        match res {
            Ok(_) => {
                let mut body = json!({"kind": j.kind, "role": j.role, "workdir": j.workdir});
                if let Some(w) = j.worktree {
                    body["worktree"] = worktree_json(w);
                }
                self.emit("job.created", j.name, body)?;
                Ok(())
            }
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(conflict(format!("a job named {:?} exists already", j.name))
                    .hint(format!(
                        "pick another name, `mam resume {0}`, or remove it with `mam stop {0}` first",
                        j.name
                    ))
                    .into())
            }
            Err(e) => Err(e).context("cannot insert job"),
        }
    }

    /// Remove a job whose session could not be started, with a
    /// `job.removed` event (its `job.created` is already in the outbox).
    pub fn delete_job(&self, name: &str, why: &str) -> Result<()> {
        let n = self
            .tx
            .execute("DELETE FROM jobs WHERE name = ?1", [name])?;
        if n > 0 {
            self.emit("job.removed", name, json!({"why": why}))?;
        }
        Ok(())
    }

    pub fn job(&self, name: &str) -> Result<Option<Job>> {
        get(&self.tx, name)
    }

    /// Record what became of a job's worktree (`copied`: the files mam
    /// copied into it; `missing`: deleted outside mam; `removed`: by mam),
    /// with a `job.worktree` event when its state changes.
    pub fn set_worktree_state(&self, job: &str, state: &str, why: &str) -> Result<()> {
        let n = self.tx.execute(
            "UPDATE jobs SET worktree_state = ?2, updated_at = ?3 \
             WHERE name = ?1 AND worktree IS NOT NULL AND worktree_state IS NOT ?2",
            params![job, state, now_ms()],
        )?;
        if n > 0 {
            self.emit("job.worktree", job, json!({"state": state, "why": why}))?;
        }
        Ok(())
    }

    /// Record the untracked files mam copied into a job's worktree.
    pub fn set_worktree_copied(&self, job: &str, copied: &[String]) -> Result<()> {
        self.tx.execute(
            "UPDATE jobs SET worktree_copied = ?2 WHERE name = ?1",
            params![job, serde_json::to_string(copied)?],
        )?;
        Ok(())
    }

    /// Record a new live session for a job (ending any previous one).
    pub fn start_session(
        &self,
        job: &str,
        tmux_session: &str,
        pane_id: &str,
        pid: u32,
    ) -> Result<()> {
        let now = now_ms();
        self.tx.execute(
            "UPDATE sessions SET ended_at = ?2, end_reason = 'replaced' WHERE job = ?1 AND ended_at IS NULL",
            params![job, now],
        )?;
        self.tx.execute(
            "INSERT INTO sessions (job, tmux_session, pane_id, pane_pid, started_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![job, tmux_session, pane_id, pid, now],
        )?;
        self.tx.execute(
            "UPDATE jobs SET misses = 0, exit_status = NULL, updated_at = ?2 WHERE name = ?1",
            params![job, now],
        )?;
        self.emit(
            "job.session",
            job,
            json!({"session": tmux_session, "pane": pane_id, "pid": pid}),
        )?;
        Ok(())
    }

    /// End the live session of a job, if any.
    pub fn end_session(&self, job: &str, reason: &str) -> Result<()> {
        self.tx.execute(
            "UPDATE sessions SET ended_at = ?2, end_reason = ?3 WHERE job = ?1 AND ended_at IS NULL",
            params![job, now_ms(), reason],
        )?;
        Ok(())
    }

    /// A job's recorded state (exit 3 when there is no such job).
    fn current_state(&self, job: &str) -> Result<JobState> {
        opt(self
            .tx
            .query_row("SELECT state FROM jobs WHERE name = ?1", [job], |r| {
                r.get(0)
            }))?
        .ok_or_else(|| unknown_job(job))
    }

    /// Record what a proven delivery says of the agent: it took a turn, so
    /// it is busy (a job waiting on a human keeps that state). Never
    /// `ready`: only a settled ready screen says that. The screen is to be
    /// read afresh at the next look.
    pub fn note_typed(&self, job: &str, how: &str) -> Result<()> {
        if how == "exited" || self.current_state(job)? == JobState::Waiting {
            return Ok(());
        }
        self.tx.execute(
            "UPDATE jobs SET activity_seen = NULL WHERE name = ?1",
            [job],
        )?;
        self.set_state(job, JobState::Busy, None).map(drop)
    }

    /// Change a job's state (no-op when unchanged), with its event.
    pub fn set_state(&self, job: &str, state: JobState, reason: Option<&str>) -> Result<bool> {
        let now = now_ms();
        let old = self.current_state(job)?;
        if old == state {
            self.tx.execute(
                "UPDATE jobs SET reason = COALESCE(?2, reason), updated_at = ?3 WHERE name = ?1",
                params![job, reason, now],
            )?;
            return Ok(false);
        }
        self.tx.execute(
            "UPDATE jobs SET state = ?2, reason = ?3, updated_at = ?4, state_since = ?4 WHERE name = ?1",
            params![job, state, reason, now],
        )?;
        let mut body = json!({"from": old, "to": state});
        if let Some(r) = reason {
            body["reason"] = json!(r);
        }
        self.emit("job.state", job, body)?;
        self.release_if_ended(job, state)?;
        Ok(true)
    }

    pub fn set_conversation_id(&self, job: &str, id: &str) -> Result<()> {
        let n = self.tx.execute(
            "UPDATE jobs SET conversation_id = ?2, updated_at = ?3 WHERE name = ?1 AND conversation_id IS NOT ?2",
            params![job, id, now_ms()],
        )?;
        if n > 0 {
            self.emit("job.conversation", job, json!({"conversation_id": id}))?;
        }
        Ok(())
    }

    /// Record what reconcile saw; `stuck`: Some(true) flags (with its event),
    /// Some(false) clears, None leaves it.
    pub fn observe(&self, job: &str, activity: Option<i64>, stuck: Option<bool>) -> Result<()> {
        self.tx.execute(
            "UPDATE jobs SET activity_seen = ?2 WHERE name = ?1",
            params![job, activity],
        )?;
        match stuck {
            Some(true) => {
                let n = self.tx.execute(
                    "UPDATE jobs SET stuck_at = ?2 WHERE name = ?1 AND stuck_at IS NULL",
                    params![job, now_ms()],
                )?;
                if n > 0 {
                    self.emit("job.stuck", job, json!({"last_activity": activity}))?;
                }
            }
            Some(false) => {
                self.tx
                    .execute("UPDATE jobs SET stuck_at = NULL WHERE name = ?1", [job])?;
            }
            None => {}
        }
        Ok(())
    }

    pub fn set_misses(&self, job: &str, misses: i64) -> Result<()> {
        self.tx.execute(
            "UPDATE jobs SET misses = ?2 WHERE name = ?1",
            params![job, misses],
        )?;
        Ok(())
    }

    pub fn set_exit_status(&self, job: &str, status: Option<i64>) -> Result<()> {
        self.tx.execute(
            "UPDATE jobs SET exit_status = ?2 WHERE name = ?1",
            params![job, status],
        )?;
        Ok(())
    }
}

/// How a job reports its end.
#[derive(Debug, Clone)]
pub struct Finish<'a> {
    pub verdict: Option<Verdict>,
    pub details: Option<&'a str>,
    pub artifacts: &'a [String],
}

impl Tx<'_> {
    pub fn set_progress(&self, job: &str, pct: i64, note: Option<&str>) -> Result<()> {
        let n = self.tx.execute(
            "UPDATE jobs SET progress = ?2, progress_note = ?3, updated_at = ?4 WHERE name = ?1",
            params![job, pct, note, now_ms()],
        )?;
        if n == 0 {
            return Err(unknown_job(job));
        }
        let mut body = json!({"pct": pct});
        if let Some(note) = note {
            body["note"] = json!(note);
        }
        self.emit("job.progress", job, body)?;
        Ok(())
    }

    /// Move to a terminal state (`done` or `failed`) with one event
    /// (`job.done` / `job.failed`), plus `review.verdict` when a verdict is given.
    pub fn finish(
        &self,
        job: &str,
        state: JobState,
        f: &Finish,
        reason: Option<&str>,
    ) -> Result<()> {
        debug_assert!(state.is_terminal());
        let now = now_ms();
        let old = self.current_state(job)?;
        self.tx.execute(
            "UPDATE jobs SET state = ?2, reason = ?3, verdict = COALESCE(?4, verdict), details = COALESCE(?5, details), \
             artifacts = ?6, progress = CASE WHEN ?2 = 'done' THEN 100 ELSE progress END, \
             updated_at = ?7, state_since = ?7 WHERE name = ?1",
            params![
                job,
                state,
                reason,
                f.verdict,
                f.details,
                serde_json::to_string(f.artifacts)?,
                now
            ],
        )?;
        let mut body = json!({"from": old, "artifacts": f.artifacts});
        if let Some(v) = f.verdict {
            body["verdict"] = json!(v);
        }
        if let Some(r) = reason {
            body["reason"] = json!(r);
        }
        let kind = if state == JobState::Done {
            "job.done"
        } else {
            "job.failed"
        };
        self.emit(kind, job, body)?;
        if let Some(v) = f.verdict {
            let mut vb = json!({"verdict": v, "artifacts": f.artifacts});
            if let Some(d) = f.details {
                vb["details"] = json!(d);
            }
            self.emit("review.verdict", job, vb)?;
        }
        self.release_if_ended(job, state)?;
        Ok(())
    }

    /// A job that stopped, failed, finished or exited holds no leases: each
    /// is released with its event, in the transaction that ended the job.
    fn release_if_ended(&self, job: &str, state: JobState) -> Result<()> {
        if matches!(
            state,
            JobState::Stopped | JobState::Failed | JobState::Done | JobState::Exited
        ) {
            self.release_leases_of(job, &format!("job {state}"))?;
        }
        Ok(())
    }
}
