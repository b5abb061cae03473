//! Adoption: sessions tagged with this workspace whose job the registry lacks.

use anyhow::Result;

use crate::app::Ctx;
use crate::model::{JobState, OnDone, Role};
use crate::registry::Registry;

use super::Adopted;
use super::watch::state_on_screen;

/// Adopt sessions tagged with this workspace's id whose job the registry
/// lacks. Sessions without our tags are never touched, whatever their name.
pub(super) fn adopt(
    ctx: &Ctx,
    reg: &mut Registry,
    panes: &[crate::agent::tmux::Pane],
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
        if !crate::app::valid_name(&p.tag_job)
            || crate::app::reserved_name(&p.tag_job).is_some()
            || !known.insert(p.tag_job.clone())
        {
            continue;
        }
        let (workdir, kind, role) = ctx.tmux.pane_origin(&p.pane_id)?;
        let kind = if kind.is_empty() {
            "shell".to_string()
        } else {
            kind
        };
        let role = Role::parse(&role).unwrap_or(Role::Worker);
        let state = if p.dead {
            JobState::Exited
        } else {
            let seen = match (
                ctx.profile(&kind),
                crate::agent::probe::snapshot(&ctx.tmux, &p.pane_id)?,
            ) {
                (Ok(profile), Some(snap)) => state_on_screen(&profile.classify(&snap.screen)),
                _ => None,
            };
            seen.unwrap_or(JobState::Busy)
        };
        out.push(Adopted {
            job: p.tag_job.clone(),
            session: p.session.clone(),
            kind: kind.clone(),
            state,
        });
        if dry_run {
            continue;
        }
        reg.write(|tx| {
            tx.insert_job(&crate::registry::jobs::NewJob {
                name: &p.tag_job,
                kind: &kind,
                role,
                workdir: &workdir,
                cmd: None,
                env: &[],
                prompt: None,
                conversation_id: None,
                on_done: OnDone::Stop,
                worktree: None,
                mcp: false,
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
