//! `mam cancel`, `mam progress`, `mam done`, `mam fail`: an agent acting on
//! its own threads and job (the operator: on any, with --job / --from).

use std::path::Path;

use anyhow::Result;

use crate::app::Ctx;
use crate::artifacts::Refused;
use crate::cli::{CancelArgs, DoneArgs, FailArgs, ProgressArgs};
use crate::error::{not_found, usage};
use crate::model::JobState;
use crate::registry::jobs::Finish;

pub fn cancel(ctx: &Ctx, args: CancelArgs) -> Result<()> {
    let by = ctx.actor(args.from.from.as_deref())?;
    crate::registry::messages::parse_id(&args.id)?;
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &by)?;
    reg.write(|tx| tx.cancel(&args.id, &by))?;
    if !ctx.global.quiet {
        println!("{}: cancelled", args.id);
    }
    ctx.publish(&mut reg);
    Ok(())
}

pub fn progress(ctx: &Ctx, args: ProgressArgs) -> Result<()> {
    let job = ctx.own_job(args.job.job.as_deref())?;
    if !(0..=100).contains(&args.pct) {
        return Err(usage(format!("progress {} is not between 0 and 100", args.pct)).into());
    }
    let note = crate::agent::probe::sanitize(&args.note.join(" "));
    let mut reg = ctx.registry()?;
    reg.require_job(&job)?;
    reg.write(|tx| {
        tx.set_progress(
            &job,
            args.pct,
            (!note.trim().is_empty()).then_some(note.as_str()),
        )
    })?;
    if !ctx.global.quiet {
        println!("{job}: {}%", args.pct);
    }
    ctx.publish(&mut reg);
    Ok(())
}

pub fn done(ctx: &Ctx, args: DoneArgs) -> Result<()> {
    let job = ctx.own_job(args.job.job.as_deref())?;
    let details = match (&args.details, &args.details_file) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(f)) => Some(
            std::fs::read_to_string(f)
                .map_err(|e| not_found(format!("cannot read details file {}: {e}", f.display())))?,
        ),
        _ => None,
    };
    let mut reg = ctx.registry()?;
    let record = reg.require_job(&job)?;
    let mut artifacts = Vec::new();
    for a in &args.artifacts {
        match crate::artifacts::resolve(Path::new(&record.workdir), &ctx.cwd, a) {
            Ok(real) => artifacts.push(real.display().to_string()),
            Err(e @ Refused::Missing { .. }) => {
                return Err(not_found(e.to_string())
                    .hint("list only files the job produced")
                    .into());
            }
            Err(e @ Refused::Outside { .. }) => {
                return Err(usage(e.to_string())
                    .hint("artifacts are files the job produced inside its workdir")
                    .into());
            }
        }
    }
    let verdict = args.verdict;
    reg.write(|tx| {
        tx.finish(
            &job,
            JobState::Done,
            &Finish {
                verdict,
                details: details.as_deref(),
                artifacts: &artifacts,
            },
            None,
        )
    })?;
    if !ctx.global.quiet {
        match verdict {
            Some(v) => println!("{job}: done ({v})"),
            None => println!("{job}: done"),
        }
    }
    ctx.publish(&mut reg);
    Ok(())
}

pub fn fail(ctx: &Ctx, args: FailArgs) -> Result<()> {
    let job = ctx.own_job(args.job.job.as_deref())?;
    let reason = crate::agent::probe::sanitize(&args.reason.join(" "));
    if reason.trim().is_empty() {
        return Err(usage("say why the job failed").into());
    }
    let mut reg = ctx.registry()?;
    reg.require_job(&job)?;
    reg.write(|tx| {
        tx.finish(
            &job,
            JobState::Failed,
            &Finish {
                verdict: None,
                details: None,
                artifacts: &[],
            },
            Some(&reason),
        )
    })?;
    if !ctx.global.quiet {
        println!("{job}: failed");
    }
    ctx.publish(&mut reg);
    Ok(())
}
