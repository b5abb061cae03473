//! `mam resume`: reopen jobs that are not running, resuming their conversation.

use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use crate::agent::{Panes, runtime};
use crate::app::{Ctx, check_name};
use crate::cli::ResumeArgs;
use crate::duration::{Limit, seconds};
use crate::error::{conflict, not_found};
use crate::model::{JobState, Role};
use crate::registry::jobs::Job;
use crate::{lock, ui};

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
                return Err(
                    conflict(format!("{n} is running already (state {})", j.state))
                        .hint(format!("`mam stop {n}` first, or `mam attach {n}`"))
                        .into(),
                );
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
        let _lock = lock::lock(
            &ctx.paths.job_lock(&job.name),
            Duration::from_secs(60),
            true,
        )?;
        let job = reg.require_job(&job.name)?;
        let r = resume_one(ctx, &mut reg, &job, timeout);
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
        let Some(now) = reg.job(&job.name)? else {
            continue;
        };
        if !matches!(now.state, JobState::Ready | JobState::Busy) {
            continue;
        }
        let why = match (job.state, &job.reason) {
            (state, Some(r)) => format!("it was {state}: {r}"),
            (state, None) => format!("it was {state}"),
        };
        let how = match &now.conversation_id {
            Some(id) if job.conversation_id.as_deref() == Some(id.as_str()) => {
                format!("your conversation {id} was resumed")
            }
            _ => "a new conversation was started".to_string(),
        };
        let body = format!(
            "you were restarted by mam resume ({why}); {how}. Check `mam inbox` and `mam threads` for anything pending."
        );
        reg.write(|tx| {
            tx.insert_message(&crate::registry::messages::NewMessage {
                from: "operator",
                to: &job.name,
                kind: "system",
                body: &body,
                in_reply_to: None,
                question_id: None,
            })
            .map(drop)
        })?;
        crate::mail::deliver::deliver_next(ctx, &mut reg, &job.name)?;
    }
    if args.json {
        ui::print_json(&json!({"resumed": results}));
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn resume_one(
    ctx: &Ctx,
    reg: &mut crate::registry::Registry,
    job: &Job,
    timeout: Duration,
) -> Result<()> {
    let profile = ctx.profile(&job.kind)?;
    // The job works in its own worktree: it must still be there.
    if let Some(w) = &job.worktree {
        let gone = w.state == "removed" || !std::path::Path::new(&w.path).is_dir();
        if gone {
            if w.state == "present" {
                reg.write(|tx| {
                    tx.set_worktree_state(
                        &job.name,
                        "missing",
                        "deleted outside mam (seen by resume)",
                    )
                })?;
            }
            let how = if w.state == "removed" {
                "was removed (mam prune or stop --remove-worktree)"
            } else {
                "was deleted outside mam"
            };
            return Err(not_found(format!(
                "cannot resume {}: its worktree {} {how}",
                job.name, w.path
            ))
            .hint(if w.state == "removed" {
                "`mam create NEW --worktree` starts a new job in a new worktree".to_string()
            } else {
                format!(
                    "its branch {0} keeps its commits; `mam create NEW --worktree --base {0}` starts a job from there",
                    w.branch
                )
            })
            .into());
        }
    }
    // A dead pane or a stale session record: clear it away first.
    if job.session.is_some() {
        runtime::stop_job(&ctx.host(), reg, job, true, Duration::ZERO)?;
    }
    let mode = runtime::resume_mode(job, &profile);
    if let runtime::StartMode::Fresh(Some(id)) = &mode {
        reg.write(|tx| tx.set_conversation_id(&job.name, id))?;
    }
    let pane = runtime::start_job(&ctx.host(), reg, job, &profile, &mode, Some("mam resume"))?;
    let mut spinner = ui::Spinner::new(format!("resuming {}", job.name), ctx.global.quiet);
    let ready = runtime::await_ready(&ctx.host(), reg, &job.name, &pane, &profile, timeout, |n| {
        spinner.tick(n)
    });
    spinner.clear();
    ready
}
