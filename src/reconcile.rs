//! Reconciliation passes: observe tmux once, record what drifted (dead panes,
//! missing sessions), and deliver queued messages to agents that are ready.

use std::collections::HashMap;

use anyhow::Result;
use serde::Serialize;

use crate::app::Ctx;
use crate::deliver::{self, Attempt};
use crate::registry::Registry;
use crate::registry::jobs::is_live_state;

#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Drift found and what was recorded: (job, from state, to state, why).
    pub drift: Vec<Drift>,
    pub deliveries: Vec<Attempt>,
    pub adopted: Vec<Adopted>,
    /// Events published to the broker this pass (None: no broker configured).
    pub published: Option<crate::events::outbox::Flushed>,
    /// Why publishing failed, if it did (the events stay in the outbox).
    pub publish_error: Option<String>,
    pub dry_run: bool,
}

/// A tagged session of this workspace that the registry did not know.
#[derive(Debug, Serialize)]
pub struct Adopted {
    pub job: String,
    pub session: String,
    pub kind: String,
    pub state: String,
}

#[derive(Debug, Serialize)]
pub struct Drift {
    pub job: String,
    pub from: String,
    pub to: String,
    pub why: String,
}

impl Report {
    pub fn lines(&self) -> Vec<String> {
        let mut v = Vec::new();
        for d in &self.drift {
            v.push(format!("{}: {} -> {} ({})", d.job, d.from, d.to, d.why));
        }
        for a in &self.adopted {
            v.push(format!(
                "{}: adopted session {} ({}, {})",
                a.job, a.session, a.kind, a.state
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
        if v.is_empty() {
            v.push("nothing to do".into());
        }
        v
    }
}

/// One pass. Never treats a tmux failure as "no sessions".
pub fn pass(ctx: &Ctx, reg: &mut Registry, dry_run: bool) -> Result<Report> {
    let mut report = Report {
        dry_run,
        ..Report::default()
    };
    let panes = ctx.tmux.list_panes()?;
    let by_session: HashMap<&str, &crate::tmux::Pane> =
        panes.iter().map(|p| (p.session.as_str(), p)).collect();
    let jobs = reg.jobs()?;
    let known: std::collections::HashSet<String> = jobs.iter().map(|j| j.name.clone()).collect();
    for job in jobs {
        let Some(sess) = &job.session else {
            if let Some(d) = orphan_without_session(ctx, reg, &job, dry_run)? {
                report.drift.push(d);
            }
            continue;
        };
        if !is_live_state(&job.state) {
            continue;
        }
        match by_session.get(sess.tmux_session.as_str()) {
            Some(p) if p.tag_job == job.name && p.tag_ws == reg.ws() => {
                if !p.dead {
                    let orphan = if job.state == "starting" {
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
                        from: job.state.clone(),
                        to: "exited".into(),
                        why: why.clone(),
                    });
                    if !dry_run {
                        reg.write(|tx| {
                            tx.set_exit_status(&job.name, status.map(i64::from))?;
                            tx.set_state(&job.name, "exited", Some(&why))
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
                    from: job.state.clone(),
                    to: if lost {
                        "lost".into()
                    } else {
                        job.state.clone()
                    },
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
                            tx.set_state(&job.name, "lost", Some("its tmux session is gone"))?;
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
    report.adopted = adopt(ctx, reg, &panes, &known, dry_run)?;
    if !dry_run {
        discover_ids(ctx, reg)?;
    }
    if !dry_run {
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
    if job.state != "starting" {
        return Ok(None);
    }
    let Some(_lock) = crate::lock::try_lock(&ctx.paths.job_lock(&job.name))? else {
        return Ok(None); // its create is still at work
    };
    let why = "mam create was interrupted before the agent's session started";
    if !dry_run {
        reg.write(|tx| tx.set_state(&job.name, "failed", Some(why)).map(drop))?;
    }
    Ok(Some(Drift {
        job: job.name.clone(),
        from: job.state.clone(),
        to: "failed".into(),
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
    use crate::profiles::Screen;
    let Some(_lock) = crate::lock::try_lock(&ctx.paths.job_lock(&job.name))? else {
        return Ok(None); // its create is still at work
    };
    let profile = ctx.profile(&job.kind)?;
    let Some(snap) = crate::probe::snapshot(&ctx.tmux, pane)? else {
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
    let probe = crate::probe::wait_ready(&ctx.tmux, pane, &profile, ORPHAN_PROBE, |_| {})?;
    if probe.outcome == crate::probe::Outcome::Timeout {
        return Ok(None); // not decided yet: the screen watch goes on
    }
    // A failure is recorded with its reason (record_probe's error is only
    // for create to print).
    let _ = crate::runtime::record_probe(reg, &job.name, &probe);
    let now = reg.require_job(&job.name)?;
    Ok(Some(Drift {
        job: job.name.clone(),
        from: job.state.clone(),
        to: now.state.clone(),
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
        if let Ok(Some(s)) = crate::probe::snapshot(&ctx.tmux, pane)
            && s.dead_status.is_some()
        {
            return s.dead_status;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}

/// What the daemon did with one message from the broker.
#[derive(Debug, Clone, Serialize)]
pub struct Heard {
    pub topic: String,
    pub kind: Option<String>,
    pub job: Option<String>,
    /// accepted / rejected
    pub verdict: String,
    /// The rejection reason, or what was done (or why nothing was).
    pub detail: String,
}

/// Act on a verified terminal event: tear the job's session down only if the
/// job exists, wants that (`on_done = stop`), its live session's tags are
/// ours, and every artifact the event lists exists.
pub fn act_on_terminal(
    ctx: &Ctx,
    reg: &mut Registry,
    env: &crate::events::envelope::Envelope,
) -> Result<String> {
    let Some(job) = reg.job(&env.job)? else {
        return Ok(format!("not acting: no job named {}", env.job));
    };
    if job.on_done != "stop" {
        return Ok(format!(
            "not acting: {} keeps its session (on_done = {})",
            job.name, job.on_done
        ));
    }
    let Some(sess) = &job.session else {
        return Ok(format!("not acting: {} has no live session", job.name));
    };
    let panes = ctx.tmux.list_panes()?;
    match crate::runtime::live_pane(&panes, reg.ws(), &job, &sess.tmux_session) {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Ok(format!(
                "not acting: tmux has no session {}",
                sess.tmux_session
            ));
        }
        Err(e) => return Ok(format!("not acting: {e:#}")),
    }
    let artifacts: Vec<String> = env.body["artifacts"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if let Some(missing) = artifacts.iter().find(|a| !std::path::Path::new(a).exists()) {
        return Ok(format!("not acting: artifact {missing} does not exist"));
    }
    let _lock = crate::lock::lock(
        &ctx.paths.job_lock(&job.name),
        std::time::Duration::from_secs(30),
        false,
    )?;
    let job = reg.require_job(&job.name)?;
    crate::runtime::stop_job(ctx, reg, &job, false, std::time::Duration::from_secs(10))?;
    Ok(format!(
        "{}: session torn down after a verified {}",
        job.name, env.kind
    ))
}

/// Handle one message from the broker with the shared acceptance rule.
pub fn hear(
    ctx: &Ctx,
    reg: &mut Registry,
    acc: &mut crate::events::accept::Acceptor,
    msg: &crate::events::mqtt::Incoming,
) -> Result<Option<Heard>> {
    use crate::events::accept::Rejection;
    let verdict = acc.check(
        reg,
        &msg.topic,
        &msg.payload,
        msg.retain,
        msg.dup,
        crate::registry::now_ms(),
    )?;
    let heard = match verdict {
        Err(Rejection::Duplicate) => return Ok(None),
        Err(why) => Heard {
            topic: msg.topic.clone(),
            kind: None,
            job: None,
            verdict: "rejected".into(),
            detail: why.to_string(),
        },
        Ok(env) => {
            let detail = if env.kind == "job.done" || env.kind == "job.failed" {
                act_on_terminal(ctx, reg, &env)?
            } else {
                return Ok(None); // informational events need nothing from the daemon
            };
            Heard {
                topic: msg.topic.clone(),
                kind: Some(env.kind.clone()),
                job: Some(env.job.clone()),
                verdict: "accepted".into(),
                detail,
            }
        }
    };
    Ok(Some(heard))
}

/// What the daemon reports, line by line.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum DaemonEvent {
    Pass(Report),
    Heard(Heard),
    Broker { state: String, detail: String },
}

/// The daemon: passes every `interval`, one wildcard subscription between
/// them, until SIGINT/SIGTERM (which let the current pass finish). The caller
/// holds the daemon lock.
pub fn run_daemon(
    ctx: &Ctx,
    reg: &mut Registry,
    interval: std::time::Duration,
    dry_run: bool,
    stop: &std::sync::atomic::AtomicBool,
    mut report: impl FnMut(DaemonEvent),
) -> Result<()> {
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};
    let endpoint = crate::events::mqtt::endpoint(&ctx.config.broker)?;
    let filter = format!("{}/{}/#", ctx.config.broker.topic_prefix, reg.ws());
    let mut acc =
        crate::events::accept::Acceptor::new(ctx.config.replay_window(), ctx.config.key_grace());
    let mut sub: Option<crate::events::mqtt::Subscription> = None;
    let mut backoff = Duration::from_millis(250);
    let mut next_connect = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        report(DaemonEvent::Pass(pass(ctx, reg, dry_run)?));
        let until = Instant::now() + interval;
        while Instant::now() < until && !stop.load(Ordering::SeqCst) {
            if sub.is_none()
                && let Some(ep) = &endpoint
                && Instant::now() >= next_connect
            {
                match crate::events::mqtt::subscribe_within(ep, &filter, Duration::from_secs(3)) {
                    Ok(s) => {
                        sub = Some(s);
                        backoff = Duration::from_millis(250);
                        report(DaemonEvent::Broker {
                            state: "subscribed".into(),
                            detail: filter.clone(),
                        });
                    }
                    Err(e) => {
                        next_connect = Instant::now() + backoff;
                        report(DaemonEvent::Broker {
                            state: "unreachable".into(),
                            detail: format!("{e:#}; retrying in {:.1}s", backoff.as_secs_f64()),
                        });
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                    }
                }
            }
            let wait = until
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(100));
            match sub.as_mut() {
                Some(s) => match s.next(wait) {
                    Ok(Some(msg)) => {
                        if let Some(h) = hear(ctx, reg, &mut acc, &msg)? {
                            report(DaemonEvent::Heard(h));
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        sub = None;
                        next_connect = Instant::now() + backoff;
                        report(DaemonEvent::Broker {
                            state: "lost".into(),
                            detail: format!("{e:#}"),
                        });
                    }
                },
                None => std::thread::sleep(wait.max(Duration::from_millis(1))),
            }
        }
    }
    drop(sub); // disconnect cleanly
    Ok(())
}

/// Adopt sessions tagged with this workspace's id whose job the registry
/// lacks. Sessions without our tags are never touched, whatever their name.
fn adopt(
    ctx: &Ctx,
    reg: &mut Registry,
    panes: &[crate::tmux::Pane],
    known: &std::collections::HashSet<String>,
    dry_run: bool,
) -> Result<Vec<Adopted>> {
    let ws = reg.ws().to_string();
    let mut known = known.clone();
    let mut out = Vec::new();
    for p in panes
        .iter()
        .filter(|p| p.tag_ws == ws && !p.tag_job.is_empty())
    {
        // The registry as this pass read it (jobs are never renamed or
        // removed during a pass).
        if !crate::app::valid_name(&p.tag_job) || !known.insert(p.tag_job.clone()) {
            continue;
        }
        let info = ctx.tmux.run(&[
            "display-message",
            "-p",
            "-t",
            &p.pane_id,
            "#{pane_current_path}\t#{@mam_kind}\t#{@mam_role}",
        ])?;
        let mut f = info.trim_end_matches('\n').splitn(3, '\t');
        let workdir = f.next().unwrap_or("").to_string();
        let kind = Some(f.next().unwrap_or(""))
            .filter(|k| !k.is_empty())
            .unwrap_or("shell")
            .to_string();
        let role = match f.next().unwrap_or("") {
            r @ ("pm" | "reviewer") => r.to_string(),
            _ => "worker".to_string(),
        };
        let state = if p.dead {
            "exited"
        } else {
            let seen = match (
                ctx.profile(&kind),
                crate::probe::snapshot(&ctx.tmux, &p.pane_id)?,
            ) {
                (Ok(profile), Some(snap)) => state_on_screen(&profile.classify(&snap.screen)),
                _ => None,
            };
            seen.unwrap_or("busy")
        };
        out.push(Adopted {
            job: p.tag_job.clone(),
            session: p.session.clone(),
            kind: kind.clone(),
            state: state.into(),
        });
        if dry_run {
            continue;
        }
        reg.write(|tx| {
            tx.insert_job(&crate::registry::jobs::NewJob {
                name: &p.tag_job,
                kind: &kind,
                role: &role,
                workdir: &workdir,
                cmd: None,
                env: &[],
                prompt: None,
                conversation_id: None,
                on_done: "stop",
            })?;
            tx.start_session(&p.tag_job, &p.session, &p.pane_id, p.pid)?;
            tx.emit(
                "job.adopted",
                &p.tag_job,
                serde_json::json!({"session": p.session, "kind": kind}),
            )?;
            tx.set_state(&p.tag_job, state, Some("adopted by reconcile"))?;
            Ok(())
        })?;
    }
    Ok(out)
}

/// Follow a live agent between passes without reading every screen: tmux's
/// window_activity (from the one list-panes call) says whether anything was
/// drawn since the last look. Only then is the screen read and the job's
/// state corrected (a turn ended: busy → ready; a dialog: waiting; a new
/// turn: ready → busy). `ready` counts only on a settled screen: nothing
/// drawn for the profile's `settle_ms` after the second of the last
/// activity (an agent that shows its idle prompt for a moment after Enter
/// is still drawing). A busy agent whose screen has not changed for
/// `reconcile.stuck_after` is flagged stuck, once. Used by reconcile and by
/// `mam status`.
pub fn observe_pane(
    ctx: &Ctx,
    reg: &mut Registry,
    job: &crate::registry::jobs::Job,
    p: &crate::tmux::Pane,
    dry_run: bool,
) -> Result<Option<Drift>> {
    if !is_live_state(&job.state) {
        return Ok(None);
    }
    // Compared with tmux's window_activity: the system clock, whatever mam's is.
    let now = crate::clock::system_ms();
    if job.activity_seen == Some(p.activity) {
        let idle_ms = now - p.activity * 1000;
        if job.state == "busy"
            && job.stuck_at.is_none()
            && idle_ms >= ctx.config.stuck_after().as_millis() as i64
        {
            if !dry_run {
                reg.write(|tx| tx.observe(&job.name, Some(p.activity), Some(true)))?;
            }
            return Ok(Some(Drift {
                job: job.name.clone(),
                from: job.state.clone(),
                to: job.state.clone(),
                why: format!(
                    "stuck: busy with an unchanged screen for {}",
                    crate::ui::age(idle_ms)
                ),
            }));
        }
        return Ok(None);
    }
    // Something was drawn: read the screen once and see where the agent is.
    let Ok(profile) = ctx.profile(&job.kind) else {
        return Ok(None);
    };
    let Some(snap) = crate::probe::snapshot(&ctx.tmux, &p.pane_id)? else {
        return Ok(None);
    };
    let class = profile.classify(&snap.screen);
    let activity = snap.activity.max(p.activity);
    // window_activity has one-second resolution: the screen has been still
    // for at least `now - (activity + 1) s`.
    let still_ms = now - (activity + 1) * 1000;
    let settled = still_ms >= profile.spec.settle_ms as i64;
    let seen = state_on_screen(&class);
    let state = match seen {
        Some("ready") if !settled => None, // look again later
        // No longer at an empty prompt (a turn began that mam did not type,
        // or an agent without a busy marker is waiting on its model): not
        // ready any more, whatever else it is.
        None if job.state == "ready" && class == crate::profiles::Screen::Other => Some("busy"),
        s => s,
    };
    let reason = match &class {
        crate::profiles::Screen::Dialog(i) | crate::profiles::Screen::NeedsHuman(i) => {
            Some(format!("screen shows: {}", profile.dialogs[*i].name))
        }
        crate::profiles::Screen::Other if state == Some("busy") => {
            Some("not at an empty prompt".to_string())
        }
        _ => None,
    };
    let drift = match state {
        Some(s) if s != job.state => Some(Drift {
            job: job.name.clone(),
            from: job.state.clone(),
            to: s.to_string(),
            why: reason.clone().unwrap_or_else(|| "seen on screen".into()),
        }),
        _ => None,
    };
    if !dry_run {
        let id = if job.conversation_id.is_none() {
            profile.conversation_id_on(&snap.screen)
        } else {
            None
        };
        // What we read counts as seen only if that second had ended before
        // we read it (else a later redraw in the same second would go
        // unnoticed), and a ready screen only once it has settled.
        let counted = now >= (activity + 1) * 1000 && (seen != Some("ready") || settled);
        reg.write(|tx| {
            tx.observe(&job.name, counted.then_some(activity), Some(false))?;
            if let Some(id) = &id {
                tx.set_conversation_id(&job.name, id)?;
            }
            match state {
                Some(s) => tx.set_state(&job.name, s, reason.as_deref()).map(drop),
                None => Ok(()),
            }
        })?;
    }
    Ok(drift)
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
        let lookup = crate::discover::Lookup {
            home: &home,
            workdir: std::path::Path::new(&job.workdir),
            since_ms: since,
            owned: &owned,
        };
        if let Ok(Some(id)) = crate::discover::discover(&store, &lookup) {
            reg.write(|tx| tx.set_conversation_id(&job.name, &id))?;
        }
    }
    Ok(())
}

/// The job state a classified screen shows, if it shows one.
fn state_on_screen(screen: &crate::profiles::Screen) -> Option<&'static str> {
    use crate::profiles::Screen;
    match screen {
        Screen::Ready => Some("ready"),
        Screen::Busy => Some("busy"),
        Screen::Dialog(_) | Screen::NeedsHuman(_) => Some("waiting"),
        Screen::Error(_) | Screen::Other => None,
    }
}
