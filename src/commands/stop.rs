//! `mam stop`: exit keys, then end the session and reap the agent's processes.

use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use crate::agent::runtime;
use crate::app::{Ctx, check_name};
use crate::cli::StopArgs;
use crate::duration::{Limit, seconds};
use crate::{lock, ui};

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
    let mut reports = Vec::new();
    for name in &names {
        let _lock = lock::lock(&ctx.paths.job_lock(name), Duration::from_secs(60), true)?;
        let job = reg.require_job(name)?;
        let r = runtime::stop_job(&ctx.host(), &mut reg, &job, args.force, wait)?;
        if !args.json && !ctx.global.quiet {
            println!("{}", r.line());
        }
        reports.push(r);
    }
    if args.json {
        ui::print_json(&json!({"stopped": reports}));
    }
    Ok(())
}
