//! Following a live agent's screen between passes.

use anyhow::Result;

use crate::app::Ctx;
use crate::model::JobState;
use crate::registry::Registry;

use super::Drift;

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
    p: &crate::agent::tmux::Pane,
    dry_run: bool,
) -> Result<Option<Drift>> {
    if !job.state.is_live() {
        return Ok(None);
    }
    // Compared with tmux's window_activity: the system clock, whatever mam's is.
    let now = crate::clock::system_ms();
    if job.activity_seen == Some(p.activity) {
        let idle_ms = now - p.activity * 1000;
        if job.state == JobState::Busy
            && job.stuck_at.is_none()
            && idle_ms >= ctx.config.stuck_after().as_millis() as i64
        {
            if !dry_run {
                reg.write(|tx| tx.observe(&job.name, Some(p.activity), Some(true)))?;
            }
            return Ok(Some(Drift {
                job: job.name.clone(),
                from: job.state,
                to: job.state,
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
    let Some(snap) = crate::agent::probe::snapshot(&ctx.tmux, &p.pane_id)? else {
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
        Some(JobState::Ready) if !settled => None, // look again later
        // No longer at an empty prompt (a turn began that mam did not type,
        // or an agent without a busy marker is waiting on its model): not
        // ready any more, whatever else it is.
        None if job.state == JobState::Ready && class == crate::agent::profiles::Screen::Other => {
            Some(JobState::Busy)
        }
        s => s,
    };
    let reason = match &class {
        crate::agent::profiles::Screen::Dialog(i)
        | crate::agent::profiles::Screen::NeedsHuman(i) => {
            Some(format!("screen shows: {}", profile.dialogs[*i].name))
        }
        crate::agent::profiles::Screen::Other if state == Some(JobState::Busy) => {
            Some("not at an empty prompt".to_string())
        }
        _ => None,
    };
    let drift = match state {
        Some(s) if s != job.state => Some(Drift {
            job: job.name.clone(),
            from: job.state,
            to: s,
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
        let counted = now >= (activity + 1) * 1000 && (seen != Some(JobState::Ready) || settled);
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

/// The job state a classified screen shows, if it shows one.
pub(super) fn state_on_screen(screen: &crate::agent::profiles::Screen) -> Option<JobState> {
    use crate::agent::profiles::Screen;
    match screen {
        Screen::Ready => Some(JobState::Ready),
        Screen::Busy => Some(JobState::Busy),
        Screen::Dialog(_) | Screen::NeedsHuman(_) => Some(JobState::Waiting),
        Screen::Error(_) | Screen::Other => None,
    }
}
