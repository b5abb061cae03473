//! `mam resume`: reopen jobs that are not running, resuming their conversation.

use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use crate::agent::Panes;
use crate::app::{Ctx, check_name};
use crate::cli::ResumeArgs;
use crate::duration::{Limit, seconds};
use crate::model::{JobState, Role};
use crate::registry::jobs::Job;
use crate::{tools, ui};

pub fn run(ctx: &Ctx, args: ResumeArgs) -> Result<()> {
    for n in &args.names {
        check_name(n)?;
    }
    let timeout =
        seconds("--ready-timeout", args.ready_timeout, Limit::ANY)?.max(Duration::from_millis(100));
    let mut reg = ctx.registry()?;
    ctx.tmux.version()?;
    let panes = ctx.tmux.list_panes()?;
    let tmux = Panes::new(reg.ws(), &panes);
    let is_running = |j: &Job| tmux.of(&j.name, &ctx.session_name(&j.name)).is_live();
    let mut jobs: Vec<Job> = if args.all {
        reg.jobs()?
            .into_iter()
            .filter(|j| !is_running(j) && j.state != JobState::Done)
            .filter(|j| j.worktree.as_ref().is_none_or(|w| w.state != "removed"))
            .collect()
    } else {
        let mut v = Vec::new();
        for n in &args.names {
            let j = reg.require_job(n)?;
            if is_running(&j) {
                return Err(tools::running_already(&j));
            }
            v.push(j);
        }
        v
    };
    // PM roles first, so workers come back to a manager that is listening.
    jobs.sort_by_key(|j| j.role != Role::Pm);
    let mut results = Vec::new();
    let mut first_error = None;
    for job in &jobs {
        let mut spinner = ui::Spinner::new(format!("resuming {}", job.name), ctx.global.quiet);
        let r = tools::resume(ctx, &mut reg, &job.name, timeout, &mut |n| spinner.tick(n));
        spinner.clear();
        let (state, err) = match r {
            Ok(()) => (Some(reg.require_job(&job.name)?.state), None),
            Err(e) => (reg.job(&job.name)?.map(|j| j.state), Some(e)),
        };
        if !args.json && !ctx.global.quiet {
            match &err {
                None => println!(
                    "{}: resumed, {}",
                    job.name,
                    state.map_or("", JobState::as_str)
                ),
                // The first failure is the command's error (printed once,
                // by main); later ones are printed here.
                Some(e) if first_error.is_some() => eprint!("{}", crate::error::render(e)),
                Some(_) => {}
            }
        }
        results.push(json!({"name": job.name, "state": state, "error": err.as_ref().map(|e| format!("{e:#}"))}));
        if first_error.is_none() {
            first_error = err;
        }
    }
    // Then tell every resumed agent what happened, once all are up (so a PM
    // hears it after its workers are back).
    for job in &jobs {
        tools::resumed_notice(ctx, &mut reg, job)?;
    }
    if args.json {
        ui::print_json(&json!({"resumed": results}));
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
