//! Where the dashboard's data comes from, read incrementally: the registry's
//! event log from the last sequence seen (a job is re-read only when an
//! event names it; nothing is reloaded on a frame without news), and tmux
//! at most once a second, in one call that lists every pane and captures
//! the selected job's screen only.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::model::{Detail, FeedLine, JobRow, Model, ReminderLine, ThreadLine};
use crate::agent::tmux::{Pane, Tmux};
use crate::agent::{Liveness, Panes};
use crate::model::JobState;
use crate::registry::Registry;
use crate::registry::jobs::Job;

/// How often tmux is asked, at most.
pub const TMUX_EVERY: Duration = Duration::from_secs(1);

/// Events read per look at the log (more wait for the next look).
const EVENTS_PER_READ: i64 = 1000;

/// Failed hook runs shown, at most.
const HOOK_FAILURES: i64 = 3;

/// The jobs of the detail pane's lists, at most.
const DETAIL_ITEMS: i64 = 20;

/// What was read so far, to build the rows from.
#[derive(Default)]
pub struct Source {
    jobs: Vec<Job>,
    panes: Vec<Pane>,
    /// Per recipient: (queued, unread).
    messages: HashMap<String, (i64, i64)>,
    reminders: HashMap<String, (i64, i64)>,
    threads: HashMap<String, i64>,
    last_tmux: Option<Instant>,
    /// The pane whose screen the detail shows.
    captured: Option<String>,
}

impl Source {
    pub fn new() -> Source {
        Source::default()
    }

    /// The first read: every job, the counts, the last events.
    pub fn load(&mut self, reg: &Registry, m: &mut Model) -> Result<()> {
        self.jobs = reg.jobs()?;
        self.counts(reg, m)?;
        let last = reg.last_event_seq()?;
        let from = (last - super::model::FEED_MAX as i64).max(0);
        m.last_seq = from;
        let lines = read_events(reg, from)?;
        m.push_events(lines);
        m.last_seq = m.last_seq.max(last);
        self.rebuild(m);
        self.detail(reg, m)?;
        Ok(())
    }

    fn counts(&mut self, reg: &Registry, m: &mut Model) -> Result<()> {
        self.messages = reg.message_counts()?;
        self.reminders = reg.reminder_counts()?;
        self.threads.clear();
        for q in reg.open_questions(None)? {
            *self.threads.entry(q.asker).or_default() += 1;
            *self.threads.entry(q.target).or_default() += 1;
        }
        m.operator_unread = self.messages.get("operator").map_or(0, |c| c.1);
        m.hook_failures = reg
            .hook_runs_not_ok(HOOK_FAILURES)?
            .into_iter()
            .filter_map(|r| {
                let outcome = r.outcome?;
                let mut line = format!("{} on {} ({}): {outcome}", r.hook, r.kind, r.job);
                if !r.detail.is_empty() {
                    line.push_str(&format!(", {}", crate::mail::summarize(&r.detail, 60)));
                }
                Some(line)
            })
            .collect();
        Ok(())
    }

    /// Read the events after the last one seen; re-read the jobs they name
    /// and the counts. True when anything was new.
    pub fn poll_events(&mut self, reg: &Registry, m: &mut Model) -> Result<bool> {
        let lines = read_events(reg, m.last_seq)?;
        if lines.is_empty() {
            return Ok(false);
        }
        let mut named: Vec<String> = lines.iter().map(|l| l.job.clone()).collect();
        named.sort();
        named.dedup();
        for name in &named {
            let now = reg.job(name)?;
            let at = self.jobs.iter().position(|j| &j.name == name);
            match (now, at) {
                (Some(j), Some(i)) => self.jobs[i] = j,
                (Some(j), None) => self.jobs.push(j),
                (None, Some(i)) => {
                    self.jobs.remove(i);
                }
                (None, None) => {}
            }
        }
        m.push_events(lines);
        self.counts(reg, m)?;
        self.rebuild(m);
        self.detail(reg, m)?;
        Ok(true)
    }

    /// Whether tmux is due to be asked again.
    pub fn tmux_due(&self, now: Instant) -> bool {
        self.last_tmux.is_none_or(|t| now >= t + TMUX_EVERY)
    }

    /// When tmux is due next.
    pub fn tmux_next(&self) -> Option<Instant> {
        self.last_tmux.map(|t| t + TMUX_EVERY)
    }

    /// Ask tmux (one call): every pane, and the selected job's screen. True
    /// when what the dashboard shows changed.
    pub fn poll_tmux(&mut self, tmux: &Tmux, m: &mut Model) -> Result<bool> {
        self.last_tmux = Some(Instant::now());
        let pane = m.selected_row().and_then(|r| r.pane.clone());
        let (panes, screen) = tmux.list_panes_and_capture(pane.as_deref())?;
        self.panes = panes;
        self.captured = pane;
        let rows = self.rows(&m.ws);
        let changed = rows != m.jobs || screen != m.detail.screen;
        // Unchanged rows are neither replaced nor sorted again.
        if rows != m.jobs {
            m.set_jobs(rows);
        }
        m.detail.screen = screen;
        Ok(changed)
    }

    /// Read the other hosts' jobs from the fleet cache, when the panel is
    /// shown. True when what it shows changed.
    pub fn poll_fleet(&self, reg: &Registry, m: &mut Model) -> Result<bool> {
        let Some(panel) = &m.fleet else {
            return Ok(false);
        };
        let hosts = crate::mail::fleet_state::others(reg, &panel.me, m.now_ms)?;
        let changed = hosts != panel.hosts;
        if let Some(panel) = &mut m.fleet {
            panel.hosts = hosts;
        }
        Ok(changed)
    }

    /// Rebuild the rows from the jobs, the panes and the counts.
    pub fn rebuild(&self, m: &mut Model) {
        let rows = self.rows(&m.ws);
        m.set_jobs(rows);
    }

    fn rows(&self, ws: &str) -> Vec<JobRow> {
        let tmux = Panes::new(ws, &self.panes);
        self.jobs
            .iter()
            .map(|j| {
                let mut r = row(j, &tmux);
                r.inbox = self.messages.get(&j.name).map_or(0, |c| c.1);
                r.threads = self.threads.get(&j.name).copied().unwrap_or(0);
                r.reminders = self.reminders.get(&j.name).copied().unwrap_or((0, 0));
                r
            })
            .collect()
    }

    /// Read the selected job's detail: inbox, threads, reminders, events
    /// (the screen comes with the next tmux pass).
    pub fn detail(&mut self, reg: &Registry, m: &mut Model) -> Result<()> {
        let Some(row) = m.selected_row().cloned() else {
            m.detail = Detail::default();
            return Ok(());
        };
        let same = m.detail.job == row.name;
        let screen = if same && self.captured == row.pane {
            m.detail.screen.take()
        } else {
            None
        };
        let name = row.name.as_str();
        let mut d = Detail {
            job: row.name.clone(),
            screen,
            ..Detail::default()
        };
        for msg in reg.inbox(name, false, DETAIL_ITEMS)? {
            d.inbox.push(format!(
                "{} from {}: {}",
                msg.id,
                msg.from,
                crate::mail::summarize(&msg.body, 60)
            ));
        }
        for t in crate::mail::threads(reg, Some(name), m.now_ms)? {
            if t.kind == "question" {
                d.threads.push(ThreadLine {
                    id: t.id,
                    role: t.role.to_string(),
                    with: t.counterparty,
                    summary: t.summary,
                });
            }
        }
        for r in reg.reminders(Some(name), false)? {
            if r.target == name {
                d.reminders.push(ReminderLine {
                    id: r.id,
                    state: r.state,
                    due_at: r.due_at,
                    text: crate::mail::summarize(&r.text, 60),
                    last_error: r.last_error,
                });
            }
        }
        d.events = m
            .feed
            .iter()
            .rev()
            .filter(|e| e.job == name)
            .take(5)
            .cloned()
            .collect();
        m.detail = d;
        Ok(())
    }
}

/// A job as tmux shows it now (what `mam status` shows, too).
pub fn row(job: &Job, tmux: &Panes) -> JobRow {
    let mut r = JobRow {
        name: job.name.clone(),
        kind: job.kind.clone(),
        role: job.role,
        state: job.state,
        note: job.stuck_at.map(|_| "stuck".to_string()),
        progress: crate::ui::progress(job.progress, job.verdict.map(|v| v.as_str())),
        inbox: 0,
        threads: 0,
        reminders: (0, 0),
        branch: job
            .worktree
            .as_ref()
            .filter(|w| w.state != "removed")
            .map(|w| w.branch.clone()),
        created_at: job.created_at,
        activity_ms: Some(job.updated_at),
        pane: None,
        session: job.session.as_ref().map(|s| s.tmux_session.clone()),
    };
    if job.session.is_none() {
        return r;
    }
    let seen = tmux.of_job(job);
    match seen.ours() {
        Some(p) => {
            if p.activity > 0 {
                r.activity_ms = Some((p.activity * 1000).max(job.updated_at));
            }
            r.pane = Some(p.pane_id.clone());
            if let Liveness::Dead(p) = seen {
                r.state = JobState::Exited;
                r.note = p.dead_status.map(|s| format!("status {s}"));
            }
        }
        None if job.state.is_live() => {
            r.state = JobState::Lost;
            r.note = Some("no tmux session".into());
        }
        _ => {}
    }
    r
}

/// The events after `since`, as feed lines.
fn read_events(reg: &Registry, since: i64) -> Result<Vec<FeedLine>> {
    Ok(reg
        .events(since, None, None, EVENTS_PER_READ)?
        .into_iter()
        .map(|e| {
            let env: serde_json::Value = serde_json::from_str(&e.envelope).unwrap_or_default();
            let ts_ms = env["ts"]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .map_or(0, |t| t.as_millisecond());
            FeedLine {
                seq: e.seq,
                ts_ms,
                summary: summary(&e.kind, &env["body"]),
                kind: e.kind,
                job: e.job,
            }
        })
        .collect())
}

/// One line for an event's body: `busy → ready (reason)` for a state
/// change, else its scalar fields as `key=value`.
pub fn summary(kind: &str, body: &serde_json::Value) -> String {
    if kind == "job.state" {
        let s = |k: &str| body[k].as_str().unwrap_or("?").to_string();
        let mut out = format!("{} → {}", s("from"), s("to"));
        if let Some(r) = body["reason"].as_str() {
            out.push_str(&format!(" ({r})"));
        }
        return out;
    }
    let Some(o) = body.as_object() else {
        return String::new();
    };
    let mut parts = Vec::new();
    for (k, v) in o {
        let v = match v {
            serde_json::Value::String(s) => crate::mail::summarize(s, 40),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => continue,
        };
        parts.push(format!("{k}={v}"));
    }
    parts.join(" ")
}
