//! `mam cancel`, `mam progress`, `mam done`, `mam fail`: an agent acting on
//! its own threads and job (the operator: on any, with --job / --from).
//! The checks and the writes are `tools`'; this reads arguments and prints.

use anyhow::Result;

use crate::app::Ctx;
use crate::cli::{CancelArgs, DoneArgs, FailArgs, ProgressArgs};
use crate::tools::{self, DoneReport, Within};

pub fn cancel(ctx: &Ctx, args: CancelArgs) -> Result<()> {
    let by = ctx.actor(args.from.from.as_deref())?;
    crate::registry::messages::parse_id(&args.id)?;
    let mut reg = ctx.registry()?;
    tools::cancel(ctx, &mut reg, &by, &args.id)?;
    if !ctx.global.quiet {
        println!("{}: cancelled", args.id);
    }
    ctx.publish(&mut reg);
    Ok(())
}

pub fn progress(ctx: &Ctx, args: ProgressArgs) -> Result<()> {
    let job = ctx.own_job(args.job.job.as_deref())?;
    tools::check_pct(args.pct)?;
    let mut reg = ctx.registry()?;
    tools::progress(&mut reg, &job, args.pct, &args.note.join(" "))?;
    if !ctx.global.quiet {
        println!("{job}: {}%", args.pct);
    }
    ctx.publish(&mut reg);
    Ok(())
}

pub fn done(ctx: &Ctx, args: DoneArgs) -> Result<()> {
    let job = ctx.own_job(args.job.job.as_deref())?;
    let mut reg = ctx.registry()?;
    let report = DoneReport {
        verdict: args.verdict,
        details: args.details.as_deref(),
        details_file: args.details_file.as_deref(),
        artifacts: &args.artifacts,
    };
    tools::done(&mut reg, &job, &report, Within::Cwd(&ctx.cwd))?;
    if !ctx.global.quiet {
        match args.verdict {
            Some(v) => println!("{job}: done ({v})"),
            None => println!("{job}: done"),
        }
    }
    ctx.publish(&mut reg);
    Ok(())
}

pub fn fail(ctx: &Ctx, args: FailArgs) -> Result<()> {
    let job = ctx.own_job(args.job.job.as_deref())?;
    tools::check_reason(&args.reason.join(" "))?;
    let mut reg = ctx.registry()?;
    tools::fail(&mut reg, &job, &args.reason.join(" "))?;
    if !ctx.global.quiet {
        println!("{job}: failed");
    }
    ctx.publish(&mut reg);
    Ok(())
}
