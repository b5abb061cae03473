//! `mam reconcile`: renders the report of `crate::reconcile` passes.

use std::time::Duration;

use anyhow::Result;

use crate::app::Ctx;
use crate::cli::ReconcileArgs;
use crate::error::conflict;
use crate::{lock, reconcile, ui};

pub fn run(ctx: &Ctx, args: ReconcileArgs) -> Result<()> {
    let mut reg = ctx.registry()?;
    if args.once {
        let report = reconcile::pass(ctx, &mut reg, args.dry_run)?;
        print(ctx, &report, args.json);
        if let Some(e) = report.publish_error {
            // The pass itself ran; publishing is part of its job, so say so.
            return Err(
                crate::error::environment(format!("events not published: {e}"))
                    .hint("`mam doctor` checks the broker; the events wait in the outbox")
                    .into(),
            );
        }
        return Ok(());
    }
    let Some(_guard) = lock::try_lock(&ctx.paths.reconcile_lock)? else {
        return Err(conflict(format!(
            "another reconcile daemon holds {}",
            ctx.paths.reconcile_lock.display()
        ))
        .into());
    };
    let interval = match args.interval {
        Some(s) if s > 0.0 => Duration::from_secs_f64(s),
        _ => ctx.config.reconcile_interval(),
    };
    loop {
        let report = reconcile::pass(ctx, &mut reg, args.dry_run)?;
        print(ctx, &report, args.json);
        std::thread::sleep(interval);
    }
}

fn print(ctx: &Ctx, r: &reconcile::Report, json: bool) {
    if json {
        ui::print_json(&serde_json::to_value(r).unwrap_or_default());
        return;
    }
    if ctx.global.quiet {
        return;
    }
    for line in r.lines() {
        println!("{line}");
    }
}
