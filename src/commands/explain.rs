//! `mam explain NAME`: what mam sees of an agent and why it thinks what it
//! thinks — the screen's tail, each profile rule and whether it matches,
//! the recorded state beside the one the screen shows, where the agent's
//! record is, and the last delivery attempts with their proof or error.
//! What a user runs when a CLI update breaks detection.

use anyhow::Result;

use crate::app::{Ctx, check_name};
use crate::cli::ExplainArgs;
use crate::ui;

pub fn run(ctx: &Ctx, args: ExplainArgs) -> Result<()> {
    check_name(&args.name)?;
    let reg = ctx
        .registry_if_exists()?
        .ok_or_else(|| crate::registry::jobs::unknown_job(&args.name))?;
    let x = crate::tools::explain(ctx, &reg, &args.name)?;
    if args.json {
        ui::print_json(&x.to_json());
        return Ok(());
    }
    let (job, live, screen, rules, record, attempts) =
        (&x.job, &x.live, &x.screen, &x.rules, &x.record, &x.attempts);
    println!(
        "{} ({}): recorded {}{}",
        job.name,
        job.kind,
        job.state,
        job.reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    );
    println!("screen shows: {live}");
    if let Some(s) = &screen {
        println!("screen tail:");
        for l in crate::agent::probe::tail_lines(s, 15).lines() {
            println!("  | {l}");
        }
    }
    if !rules.is_empty() {
        println!("rules (checked in this order):");
        for (kind, rule, hit) in rules {
            println!(
                "  {} {kind:<7} {rule}",
                if *hit { "match" } else { "  -  " }
            );
        }
    }
    match &record {
        Some((kind, base, files)) => {
            println!("record: {kind} store under {base}; delivery proof is the agent's own record");
            for f in files {
                println!("  {f}");
            }
        }
        None => println!("record: none for this profile; delivery proof is the screen"),
    }
    if let Some(p) = &job.prompt_state {
        println!("prompt: {p}");
    }
    match x.mcp {
        Some(w) => println!("mcp: wired ({})", crate::tools::mcp_name(w)),
        None => println!("mcp: not wired; the agent uses the mam command line"),
    }
    if attempts.is_empty() {
        println!("attempts: none");
    } else {
        println!("attempts (newest first):");
        for a in attempts {
            let detail = match (&a.how, &a.error) {
                (Some(h), _) => format!("proof: {h}"),
                (None, Some(e)) => e.clone(),
                _ => String::new(),
            };
            println!(
                "  {} {} {} ago: {}{}",
                a.item,
                a.state,
                ui::age(crate::registry::now_ms() - a.started_at),
                detail,
                if a.is_open() {
                    " (open: repaired before the next delivery)"
                } else {
                    ""
                }
            );
        }
    }
    Ok(())
}
