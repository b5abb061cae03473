//! Reconciliation: keep the registry and tmux honest. One pass (`pass`)
//! observes tmux once, records what drifted (dead panes, missing sessions,
//! interrupted creates), follows each live agent's screen (`watch`), adopts
//! tagged sessions the registry lacks (`adopt`), delivers what waits, and
//! publishes the outbox. The daemon (`daemon`) runs passes and listens to
//! the broker for terminal events (`terminal`).

mod adopt;
mod daemon;
mod terminal;
mod watch;

pub use daemon::{DaemonEvent, run_daemon};
pub use terminal::{Heard, act_on_terminal, hear};
pub use watch::observe_pane;

use anyhow::Result;
use serde::Serialize;

use crate::agent::tmux::Pane;
use crate::agent::{Liveness, Panes};
use crate::app::Ctx;
use crate::mail::deliver::{self, Attempt};
use crate::model::JobState;
use crate::registry::Registry;
use crate::registry::jobs::Job;

#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Drift found and what was recorded: (job, from state, to state, why).
    pub drift: Vec<Drift>,
    pub deliveries: Vec<Attempt>,
    pub adopted: Vec<Adopted>,
    /// Worktrees found deleted outside mam (recorded `missing`).
    pub worktrees_missing: Vec<MissingWorktree>,
    /// Leases that expired this pass (each told to its holder).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leases_expired: Vec<crate::registry::leases::Lease>,
    /// Events published to the broker this pass (None: no broker configured).
    pub published: Option<crate::events::outbox::Flushed>,
    /// Why publishing failed, if it did (the events stay in the outbox).
    pub publish_error: Option<String>,
    /// Hooks run by `reconcile --once` (the daemon reports them one by one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<crate::hooks::HookRun>,
    pub dry_run: bool,
}

/// A tagged session of this workspace that the registry did not know.
#[derive(Debug, Serialize)]
pub struct Adopted {
    pub job: String,
    pub session: String,
    pub kind: String,
    pub state: JobState,
}

/// A job's worktree that is gone from disk although mam did not remove it.
#[derive(Debug, Serialize)]
pub struct MissingWorktree {
    pub job: String,
    pub path: String,
    pub branch: String,
}

#[derive(Debug, Serialize)]
pub struct Drift {
    pub job: String,
    pub from: JobState,
    pub to: JobState,
    pub why: String,
}

impl Report {
    pub fn lines(&self) -> Vec<String> {
        let mut v = Vec::new();
        for d in &self.drift {
            v.push(format!("{}: {} -> {} ({})", d.job, d.from, d.to, d.why));
        }
        for w in &self.worktrees_missing {
            v.push(format!(
                "{}: worktree {} is gone (deleted outside mam; branch {} keeps its commits)",
                w.job, w.path, w.branch
            ));
        }
        for a in &self.adopted {
            v.push(format!(
                "{}: adopted session {} ({}, {})",
                a.job, a.session, a.kind, a.state
            ));
        }
        for l in &self.leases_expired {
            v.push(format!(
                "{} on {} held by {}: expired (told {})",
                l.id, l.pattern, l.holder, l.holder
            ));
        }
        for a in &self.deliveries {
            match a {
                Attempt::Delivered { id, to, how } => {
                    v.push(format!("{id} delivered to {to} ({how})"))
                }
                Attempt::Waiting { id, to, why } => {
                    v.push(format!("{id} to {to} still queued: {why}"))
                }
            }
        }
        if let Some(p) = &self.published
            && (p.published > 0 || p.pending > 0)
        {
            v.push(format!(
                "events: {} published, {} waiting in the outbox",
                p.published, p.pending
            ));
        }
        if let Some(e) = &self.publish_error {
            v.push(format!("events not published: {e}"));
        }
        for h in &self.hooks {
            v.push(h.line());
        }
        if v.is_empty() {
            v.push("nothing to do".into());
        }
        v
    }
}

/// `reconcile --once`: one pass, then the hooks due for the events written
/// so far, waited for (each until it ends or times out).
pub fn once(ctx: &Ctx, reg: &mut Registry, dry_run: bool) -> Result<Report> {
    let mut report = pass(ctx, reg, dry_run)?;
    if !dry_run {
        let mut runner = crate::hooks::Runner::new();
        report.hooks =
            runner.start_due(&ctx.config.hooks, reg, &ctx.paths.root, &ctx.paths.state)?;
        report.hooks.extend(runner.finish(reg)?);
    }
    Ok(report)
}

/// One pass. Never treats a tmux failure as "no sessions".
pub fn pass(ctx: &Ctx, reg: &mut Registry, dry_run: bool) -> Result<Report> {
    let mut report = Report {
        dry_run,
        ..Report::default()
    };
    let panes = ctx.tmux.list_panes()?;
    let ws = reg.ws().to_string();
    let tmux = Panes::new(&ws, &panes);
    let jobs = reg.jobs()?;
    let known: std::collections::HashSet<String> = jobs.iter().map(|j| j.name.clone()).collect();
    for job in &jobs {
        // A stat per worktree; no git call.
        if let Some(w) = &job.worktree
            && w.state == "present"
            && !std::path::Path::new(&w.path).is_dir()
        {
            report.worktrees_missing.push(MissingWorktree {
                job: job.name.clone(),
                path: w.path.clone(),
                branch: w.branch.clone(),
            });
            if !dry_run {
                reg.write(|tx| {
                    tx.set_worktree_state(
                        &job.name,
                        "missing",
                        "deleted outside mam (seen by reconcile)",
                    )
                })?;
            }
        }
    }
    for job in jobs {
        if job.session.is_none() {
            if let Some(d) = orphan_without_session(ctx, reg, &job, dry_run)? {
                report.drift.push(d);
            }
            continue;
        };
        if !job.state.is_live() {
            continue;
        }
        match tmux.of_job(&job).ours() {
            Some(p) => {
                if !p.dead {
                    let orphan = if job.state == JobState::Starting {
                        orphan_with_session(ctx, reg, &job, &p.pane_id, dry_run)?
                    } else {
                        None
                    };
                    match orphan {
                        Some(d) => report.drift.push(d),
                        None => report
                            .drift
                            .extend(observe_pane(ctx, reg, &job, p, dry_run)?),
                    }
                }
                if p.dead {
                    // tmux marks a pane dead when its pty closes, which can
                    // be a moment before it has reaped the exit status.
                    let status = p.dead_status.or_else(|| exit_status_soon(ctx, &p.pane_id));
                    let why = match status {
                        Some(s) => format!("the agent exited with status {s}"),
                        None => "the agent exited".into(),
                    };
                    report.drift.push(Drift {
                        job: job.name.clone(),
                        from: job.state,
                        to: JobState::Exited,
                        why: why.clone(),
                    });
                    if !dry_run {
                        reg.write(|tx| {
                            tx.set_exit_status(&job.name, status.map(i64::from))?;
                            tx.set_state(&job.name, JobState::Exited, Some(&why))
                        })?;
                    }
                }
            }
            _ => {
                // A missing session counts as lost only on the second pass in
                // a row that misses it (a session being replaced, or a slow
                // tmux, is not drift).
                let misses = job.misses + 1;
                let lost = misses >= 2;
                report.drift.push(Drift {
                    job: job.name.clone(),
                    from: job.state,
                    to: if lost { JobState::Lost } else { job.state },
                    why: if lost {
                        "its tmux session is gone (second pass in a row)".into()
                    } else {
                        "its tmux session is missing (first miss)".into()
                    },
                });
                if !dry_run {
                    reg.write(|tx| {
                        tx.set_misses(&job.name, misses)?;
                        if lost {
                            tx.end_session(&job.name, "lost")?;
                            tx.set_state(
                                &job.name,
                                JobState::Lost,
                                Some("its tmux session is gone"),
                            )?;
                        }
                        Ok(())
                    })?;
                }
                continue;
            }
        }
        if job.misses > 0 && !dry_run {
            reg.write(|tx| tx.set_misses(&job.name, 0))?;
        }
    }
    report.adopted = adopt::adopt(ctx, reg, &panes, &known, dry_run)?;
    if !dry_run {
        discover_ids(ctx, reg)?;
    }
    if !dry_run {
        // Before deliveries, so the holders' messages go out this pass.
        report.leases_expired = crate::lease::sweep(reg)?;
        report.deliveries = deliver::deliver_prompts(ctx, reg)?;
        report.deliveries.extend(deliver::deliver_all(ctx, reg)?);
        report
            .deliveries
            .extend(deliver::deliver_reminders(ctx, reg)?);
        reg.checkpoint()?;
        match crate::events::outbox::flush(
            &ctx.paths,
            &ctx.config.broker,
            reg,
            std::time::Duration::from_secs(3),
        ) {
            Ok(p) => report.published = p,
            Err(e) => report.publish_error = Some(format!("{e:#}")),
        }
    }
    Ok(report)
}

/// A job left in `starting` without a session by a `create` that was killed
/// between recording it and starting its tmux session: `failed`, with why.
fn orphan_without_session(
    ctx: &Ctx,
    reg: &mut Registry,
    job: &crate::registry::jobs::Job,
    dry_run: bool,
) -> Result<Option<Drift>> {
    if job.state != JobState::Starting {
        return Ok(None);
    }
    let Some(_lock) = crate::lock::try_lock(&ctx.paths.job_lock(&job.name))? else {
        return Ok(None); // its create is still at work
    };
    let why = "mam create was interrupted before the agent's session started";
    if !dry_run {
        reg.write(|tx| {
            tx.set_state(&job.name, JobState::Failed, Some(why))
                .map(drop)
        })?;
    }
    Ok(Some(Drift {
        job: job.name.clone(),
        from: job.state,
        to: JobState::Failed,
        why: why.into(),
    }))
}

/// How long reconcile probes an interrupted create's agent for readiness.
const ORPHAN_PROBE: std::time::Duration = std::time::Duration::from_secs(5);

/// A job in `starting` whose lock is free: its `create` was interrupted
/// after the session started, or ran with `--no-wait`. When its screen is
/// at a ready prompt or a dialog mam may answer, probe it as create would
/// (answering the dialog, waiting for a settled ready screen, a few seconds
/// at most) and record the outcome; its prompt, still pending, is then typed
/// by this pass's delivery. Anything else (still loading, working) is left
/// to the normal screen watch. `None`: not handled here.
fn orphan_with_session(
    ctx: &Ctx,
    reg: &mut Registry,
    job: &crate::registry::jobs::Job,
    pane: &str,
    dry_run: bool,
) -> Result<Option<Drift>> {
    use crate::agent::profiles::Screen;
    let Some(_lock) = crate::lock::try_lock(&ctx.paths.job_lock(&job.name))? else {
        return Ok(None); // its create is still at work
    };
    let profile = ctx.profile(&job.kind)?;
    let Some(snap) = crate::agent::probe::snapshot(&ctx.tmux, pane)? else {
        return Ok(None);
    };
    if dry_run
        || !matches!(
            profile.classify(&snap.screen),
            Screen::Ready | Screen::Dialog(_)
        )
    {
        return Ok(None);
    }
    let probe = crate::agent::probe::wait_ready(&ctx.tmux, pane, &profile, ORPHAN_PROBE, |_| {})?;
    if probe.outcome == crate::agent::probe::Outcome::Timeout {
        return Ok(None); // not decided yet: the screen watch goes on
    }
    // A failure is recorded with its reason (record_probe's error is only
    // for create to print).
    let _ = crate::agent::runtime::record_probe(reg, &job.name, &probe);
    let now = reg.require_job(&job.name)?;
    Ok(Some(Drift {
        job: job.name.clone(),
        from: job.state,
        to: now.state,
        why: format!(
            "probed after its create ended{}",
            now.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ),
    }))
}

/// Re-read a dead pane's exit status for up to 300 ms.
fn exit_status_soon(ctx: &Ctx, pane: &str) -> Option<i32> {
    let until = std::time::Instant::now() + std::time::Duration::from_millis(300);
    while std::time::Instant::now() < until {
        if let Ok(Some(s)) = crate::agent::probe::snapshot(&ctx.tmux, pane)
            && s.dead_status.is_some()
        {
            return s.dead_status;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}

/// Find conversation ids for live jobs that lack one, from where their CLI
/// keeps its sessions (`conversation_store` of the profile).
fn discover_ids(ctx: &Ctx, reg: &mut Registry) -> Result<()> {
    let jobs = reg.jobs()?;
    let owned: std::collections::HashSet<String> = jobs
        .iter()
        .filter_map(|j| j.conversation_id.clone())
        .collect();
    let Some(home) = std::env::var_os("HOME").map(std::path::PathBuf::from) else {
        return Ok(());
    };
    for job in jobs
        .iter()
        .filter(|j| j.conversation_id.is_none() && j.session.is_some())
    {
        let store = ctx
            .profile(&job.kind)
            .ok()
            .and_then(|p| p.spec.conversation_store);
        let Some(store) = store else { continue };
        let since = job
            .session
            .as_ref()
            .map_or(job.created_at, |s| s.started_at);
        let lookup = crate::agent::discover::Lookup {
            home: &home,
            workdir: std::path::Path::new(&job.workdir),
            since_ms: since,
            owned: &owned,
        };
        if let Ok(Some(id)) = crate::agent::discover::discover(&store, &lookup) {
            reg.write(|tx| tx.set_conversation_id(&job.name, &id))?;
        }
    }
    Ok(())
}

/// Message counts per recipient: (queued, unread).
pub type Counts = std::collections::HashMap<String, (i64, i64)>;

/// Make the registry honest before showing it, without a daemon: re-read
/// the screen of every live job whose pane drew since its state was
/// recorded (unchanged panes cost nothing), record what changed, and hand
/// waiting prompts and messages to agents that are now ready (oldest first,
/// one each), or whose composer still holds mam's text from an unfinished
/// attempt. Returns the jobs and message counts (queued, unread) per
/// recipient as they are after that. What `mam status` shows.
pub fn refresh(
    ctx: &Ctx,
    reg: &mut crate::registry::Registry,
    panes: &[Pane],
) -> Result<(Vec<Job>, Counts)> {
    let jobs = reg.jobs()?;
    let ws = reg.ws().to_string();
    let tmux = Panes::new(&ws, panes);
    let mut changed = false;
    for job in &jobs {
        if let Liveness::Live(p) = tmux.of_job(job)
            && job.state.is_live()
            && job.activity_seen != Some(p.activity)
        {
            observe_pane(ctx, reg, job, p, false)?;
            changed = true;
        }
    }
    let jobs = if changed { reg.jobs()? } else { jobs };
    let counts = reg.message_counts()?;
    // Pending prompts first (one pass over the jobs), then one queued
    // message for each ready job. `tried`: the registry may have changed.
    let mut tried = false;
    if jobs
        .iter()
        .any(|j| j.state == JobState::Ready && j.prompt_state.as_deref() == Some("pending"))
    {
        tried |= !crate::mail::deliver::deliver_prompts(ctx, reg)?.is_empty();
    }
    // Also a job recorded busy that has an unfinished attempt of mam's: its
    // text left in the composer keeps the screen from ever looking ready
    // (the delivery settles that attempt first, from the screen: it clears
    // mam's leftover, or waits while the agent works).
    for job in &jobs {
        let candidate = job.session.is_some()
            && job.prompt_state.as_deref() != Some("pending")
            && counts.get(&job.name).is_some_and(|c| c.0 > 0)
            && (job.state == JobState::Ready
                || (job.state == JobState::Busy && !reg.open_attempts(&job.name)?.is_empty()));
        if candidate {
            tried |= crate::mail::deliver::deliver_next(ctx, reg, &job.name)?.is_some();
        }
    }
    if tried {
        Ok((reg.jobs()?, reg.message_counts()?))
    } else {
        Ok((jobs, counts))
    }
}
