//! `mam reconcile`: renders the report of `crate::reconcile` passes.

use anyhow::Result;

use crate::app::Ctx;
use crate::cli::ReconcileArgs;
use crate::duration::{Limit, seconds};
use crate::error::conflict;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::{lock, reconcile, ui};

pub fn run(ctx: &Ctx, args: ReconcileArgs) -> Result<()> {
    // A pass at most every 100 ms (a tiny interval would spin a core); 0 or
    // a negative value is refused, never quietly replaced by the default.
    let interval = match args.interval {
        Some(s) => seconds("--interval", s, Limit::PERIOD)?,
        None => ctx.config.reconcile_interval(),
    };
    let mut reg = ctx.registry()?;
    if args.once {
        let report = reconcile::once(ctx, &mut reg, args.dry_run)?;
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
    let Some(guard) = lock::try_lock(&ctx.paths.reconcile_lock)? else {
        let holder = std::fs::read_to_string(&ctx.paths.reconcile_lock).unwrap_or_default();
        let holder = holder.trim();
        return Err(conflict(format!(
            "another reconcile daemon{} holds {}",
            if holder.is_empty() {
                String::new()
            } else {
                format!(" (pid {holder})")
            },
            ctx.paths.reconcile_lock.display()
        ))
        .hint("one daemon per workspace; `mam reconcile --once` still works beside it")
        .into());
    };
    record_pid(guard.file())?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    if !args.json && !ctx.global.quiet {
        eprintln!(
            "mam: reconcile daemon (pid {}) every {:.1}s",
            std::process::id(),
            interval.as_secs_f64()
        );
    }
    let json = args.json;
    reconcile::run_daemon(ctx, &mut reg, interval, args.dry_run, &stop, |ev| {
        if json {
            println!("{}", serde_json::to_string(&ev).unwrap_or_default());
        } else if !ctx.global.quiet {
            match &ev {
                reconcile::DaemonEvent::Pass(r) => {
                    for line in r.lines().into_iter().filter(|l| l != "nothing to do") {
                        println!("{line}");
                    }
                }
                reconcile::DaemonEvent::Heard(h) => match (&h.kind, &h.job) {
                    (Some(k), Some(j)) => println!("{k} for {j}: {}", h.detail),
                    _ => println!("rejected {} ({})", h.topic, h.detail),
                },
                reconcile::DaemonEvent::Fleet(h) => match &h.reason {
                    Some(r) => println!("fleet: rejected {} ({r}: {})", h.topic, h.detail),
                    None => println!("fleet: {} {}", h.verdict, h.detail),
                },
                reconcile::DaemonEvent::Hook(h) => println!("{}", h.line()),
                reconcile::DaemonEvent::Broker { state, detail } => {
                    println!("broker {state}: {detail}")
                }
                reconcile::DaemonEvent::Error { during, error } => {
                    eprintln!("mam: reconcile: {during} failed: {error}; carrying on")
                }
            }
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
    })?;
    if !args.json && !ctx.global.quiet {
        eprintln!("mam: reconcile daemon stopped");
    }
    Ok(())
}

/// Write our pid into the held lock file, for the next daemon's message.
fn record_pid(file: &std::fs::File) -> Result<()> {
    use std::io::{Seek, Write};
    let mut f = file;
    f.set_len(0)?;
    f.seek(std::io::SeekFrom::Start(0))?;
    writeln!(f, "{}", std::process::id())?;
    Ok(())
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
