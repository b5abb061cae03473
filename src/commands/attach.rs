//! `mam attach`: attach to a job's session on the right tmux server.

use anyhow::Result;

use crate::app::{Ctx, check_name};
use crate::cli::AttachArgs;
use crate::error::not_found;

pub fn run(ctx: &Ctx, args: AttachArgs) -> Result<()> {
    check_name(&args.name)?;
    let reg = ctx
        .registry_if_exists()?
        .ok_or_else(|| crate::registry::jobs::unknown_job(&args.name))?;
    let job = reg.require_job(&args.name)?;
    let session = job
        .session
        .as_ref()
        .map(|s| s.tmux_session.clone())
        .ok_or_else(|| {
            not_found(format!(
                "{} has no live session (state {})",
                job.name, job.state
            ))
            .hint(format!("`mam resume {}` to start it again", job.name))
        })?;
    ctx.tmux.attach_here(&session)
}
