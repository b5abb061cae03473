//! `mam prune`: remove the worktrees of jobs that are not running, where no
//! work is lost (nothing uncommitted; the branch merged into its base or
//! pushed). The others are kept and named, and the exit code is 4.

use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use crate::agent::{Panes, worktree};
use crate::app::Ctx;
use crate::cli::PruneArgs;
use crate::error::conflict;
use crate::{lock, ui};

pub fn run(ctx: &Ctx, args: PruneArgs) -> Result<()> {
    let Some(mut reg) = ctx.registry_if_exists()? else {
        if args.json {
            ui::print_json(&json!({"pruned": [], "running": []}));
        }
        return Ok(());
    };
    let panes = ctx.tmux.list_panes()?;
    let ws = reg.ws().to_string();
    let tmux = Panes::new(&ws, &panes);
    let mut results = Vec::new();
    let mut running = Vec::new();
    for job in reg.jobs()? {
        if job.worktree.as_ref().is_none_or(|w| w.state == "removed") {
            continue;
        }
        if tmux.of_job(&job).is_live() {
            running.push(job.name.clone());
            continue;
        }
        let _lock = lock::lock(
            &ctx.paths.job_lock(&job.name),
            Duration::from_secs(60),
            true,
        )?;
        let job = reg.require_job(&job.name)?;
        if let Some(r) = worktree::retire(&mut reg, &job, args.force, args.dry_run)? {
            results.push(r);
        }
    }
    let kept = results.iter().filter(|r| r.kept()).count();
    if args.json {
        ui::print_json(&json!({"pruned": results, "running": running, "dry_run": args.dry_run}));
    } else if !ctx.global.quiet {
        for r in &results {
            println!("{}", r.line());
        }
        for n in &running {
            println!("{n}: running; its worktree is left alone (`mam stop {n}` first)");
        }
        if results.is_empty() && running.is_empty() {
            println!("no worktrees to prune");
        }
    }
    if kept > 0 {
        return Err(conflict(format!(
            "{kept} {} kept: removing {} would lose work",
            if kept == 1 { "worktree" } else { "worktrees" },
            if kept == 1 { "it" } else { "them" }
        ))
        .hint("commit, then merge into the base or push; or `mam prune --force` to discard uncommitted changes (branches with unmerged commits are always kept)")
        .into());
    }
    Ok(())
}
