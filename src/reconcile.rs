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
    /// Events published to the broker this pass (None: no broker configured).
    pub published: Option<crate::events::outbox::Flushed>,
    /// Why publishing failed, if it did (the events stay in the outbox).
    pub publish_error: Option<String>,
    pub dry_run: bool,
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
    for job in reg.jobs()? {
        let Some(sess) = &job.session else { continue };
        if !is_live_state(&job.state) {
            continue;
        }
        match by_session.get(sess.tmux_session.as_str()) {
            Some(p) if p.tag_job == job.name && p.tag_ws == reg.ws() => {
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
    if !dry_run {
        report.deliveries = deliver::deliver_all(ctx, reg)?;
        report
            .deliveries
            .extend(deliver::deliver_reminders(ctx, reg)?);
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
