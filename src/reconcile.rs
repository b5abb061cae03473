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
                    let why = match p.dead_status {
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
                            tx.set_exit_status(&job.name, p.dead_status.map(i64::from))?;
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
    }
    Ok(report)
}
