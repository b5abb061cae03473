//! `mam stop`: exit keys, then end the session and reap the agent's processes.

use anyhow::Result;
use serde_json::json;

use crate::agent::worktree;
use crate::app::{Ctx, check_name};
use crate::cli::StopArgs;
use crate::duration::{Limit, seconds};
use crate::error::conflict;
use crate::ui;

pub fn run(ctx: &Ctx, args: StopArgs) -> Result<()> {
    for n in &args.names {
        check_name(n)?;
    }
    let wait = seconds("--timeout", args.timeout, Limit::ANY)?;
    let Some(mut reg) = ctx.registry_if_exists()? else {
        if let Some(n) = args.names.first() {
            return Err(crate::registry::jobs::unknown_job(n));
        }
        return Ok(());
    };
    let names: Vec<String> = if args.all {
        reg.jobs()?
            .into_iter()
            .filter(|j| j.session.is_some() || j.state.is_live())
            .map(|j| j.name)
            .collect()
    } else {
        for n in &args.names {
            reg.require_job(n)?;
        }
        args.names.clone()
    };
    // --remove-worktree refuses before anything is stopped when work would
    // be lost (and looks again once the agent is gone).
    if args.remove_worktree && !args.force {
        for name in &names {
            let job = reg.require_job(name)?;
            if let Some(r) = worktree::retire(&mut reg, &job, false, true)?
                && r.kept()
            {
                return Err(refusal(&r));
            }
        }
    }
    let mut reports = Vec::new();
    let mut removed = Vec::new();
    let mut refused = None;
    for name in &names {
        let r = crate::tools::stop(ctx, &mut reg, name, args.force, wait)?;
        if !args.json && !ctx.global.quiet {
            println!("{}", r.line());
        }
        reports.push(r);
        if args.remove_worktree {
            let job = reg.require_job(name)?;
            match worktree::retire(&mut reg, &job, args.force, false)? {
                Some(w) if w.kept() => {
                    refused.get_or_insert(refusal(&w));
                    removed.push(w);
                }
                Some(w) => {
                    if !args.json && !ctx.global.quiet {
                        println!("{}", w.line());
                    }
                    removed.push(w);
                }
                None if !args.json && !ctx.global.quiet && job.worktree.is_none() => {
                    println!("{name}: has no worktree");
                }
                None => {}
            }
        }
    }
    if args.json {
        ui::print_json(&json!({"stopped": reports, "worktrees": removed}));
    }
    match refused {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The error for a worktree kept because removing it would lose work.
fn refusal(r: &worktree::Retired) -> anyhow::Error {
    conflict(format!(
        "not removing the worktree of {} ({}): {} would be lost",
        r.job,
        r.path,
        r.losses.join(" and ")
    ))
    .hint(format!(
        "commit, then merge into {} or push; or add --force to discard uncommitted changes (a branch with unmerged commits is always kept)",
        r.base
    ))
    .into()
}
