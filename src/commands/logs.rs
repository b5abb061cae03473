//! `mam logs`: print a job's pane with recent history.

use anyhow::Result;

use crate::app::{Ctx, check_name};
use crate::cli::LogsArgs;
use crate::error::not_found;

pub fn run(ctx: &Ctx, args: LogsArgs) -> Result<()> {
    check_name(&args.name)?;
    let reg = ctx
        .registry_if_exists()?
        .ok_or_else(|| crate::registry::jobs::unknown_job(&args.name))?;
    let job = reg.require_job(&args.name)?;
    let sess = job.session.as_ref().ok_or_else(|| {
        not_found(format!(
            "{} has no live session (state {})",
            job.name, job.state
        ))
    })?;
    let text = ctx
        .tmux
        .capture_history(&sess.pane_id, args.lines)
        .map_err(|e| {
            if crate::agent::tmux::is_missing_target(&e) || crate::agent::tmux::is_no_server(&e) {
                not_found(format!("the tmux pane of {} is gone", job.name))
                    .hint("`mam reconcile --once` records it; `mam resume` restarts it")
                    .into()
            } else {
                e
            }
        })?;
    let lines: Vec<&str> = text.trim_end_matches('\n').lines().collect();
    let from = lines.len().saturating_sub(args.lines as usize);
    for l in &lines[from..] {
        println!("{}", l.trim_end());
    }
    Ok(())
}
