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
    // switch-client only works when we are inside a client of this same server.
    let inside_same_server = std::env::var("TMUX").ok().is_some_and(|t| {
        let ours = crate::tmux::socket_path_hint(ctx.tmux.socket().unwrap_or("default"));
        t.split(',').next() == Some(ours.to_string_lossy().as_ref())
    });
    if std::env::var_os("TMUX").is_some() && !inside_same_server {
        // Nested attach to another server: tmux refuses while $TMUX is set.
        // SAFETY: single-threaded at this point; we only drop one variable.
        unsafe { std::env::remove_var("TMUX") };
    }
    ctx.tmux.attach(&session, inside_same_server)
}
