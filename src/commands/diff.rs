//! `mam diff NAME [--stat]`: what an agent changed in its worktree against
//! its base, committed and not; untracked files are listed after it.

use anyhow::Result;

use crate::agent::worktree;
use crate::app::{Ctx, check_name};
use crate::cli::DiffArgs;
use crate::error::not_found;

pub fn run(ctx: &Ctx, args: DiffArgs) -> Result<()> {
    check_name(&args.name)?;
    let Some(reg) = ctx.registry_if_exists()? else {
        return Err(crate::registry::jobs::unknown_job(&args.name));
    };
    let job = reg.require_job(&args.name)?;
    let Some(w) = &job.worktree else {
        return Err(not_found(format!("{} has no worktree", args.name))
            .hint(format!(
                "`git -C {} diff` shows changes in its workdir; `mam create NAME --worktree` gives a job its own",
                job.workdir
            ))
            .into());
    };
    if w.state != "present" || !std::path::Path::new(&w.path).is_dir() {
        return Err(
            not_found(format!("the worktree of {} is gone: {}", args.name, w.path))
                .hint(format!(
                    "its branch {} still holds its commits: `git log {}`",
                    w.branch, w.branch
                ))
                .into(),
        );
    }
    let (text, untracked) = worktree::diff(w, args.stat)?;
    print!("{text}");
    if !untracked.is_empty() {
        println!("untracked files:");
        for p in untracked {
            println!("  {p}");
        }
    }
    Ok(())
}
