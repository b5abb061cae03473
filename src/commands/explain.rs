//! `mam explain NAME`: what mam sees of an agent and why it thinks what it
//! thinks — the screen's tail, each profile rule and whether it matches,
//! the recorded state beside the one the screen shows, where the agent's
//! record is, and the last delivery attempts with their proof or error.
//! What a user runs when a CLI update breaks detection.

use anyhow::Result;
use serde_json::json;

use crate::agent::profiles::Screen;
use crate::app::{Ctx, check_name};
use crate::cli::ExplainArgs;
use crate::ui;

pub fn run(ctx: &Ctx, args: ExplainArgs) -> Result<()> {
    check_name(&args.name)?;
    let reg = ctx
        .registry_if_exists()?
        .ok_or_else(|| crate::registry::jobs::unknown_job(&args.name))?;
    let job = reg.require_job(&args.name)?;
    let profile = ctx.profile(&job.kind)?;
    let snap = match &job.session {
        Some(s) => crate::agent::probe::snapshot(&ctx.tmux, &s.pane_id)?,
        None => None,
    };
    let screen = snap.as_ref().map(|s| s.screen.clone());
    let (live, rules) = match &snap {
        Some(s) if s.dead => ("exited".to_string(), Vec::new()),
        Some(s) => {
            let class = profile.classify(&s.screen);
            let live = match &class {
                Screen::Ready => "ready".to_string(),
                Screen::Busy => "busy".to_string(),
                Screen::Dialog(i) => {
                    format!("waiting (dialog mam answers: {})", profile.dialogs[*i].name)
                }
                Screen::NeedsHuman(i) => {
                    format!("waiting (needs a human: {})", profile.dialogs[*i].name)
                }
                Screen::Error(m) => format!("error ({m})"),
                Screen::Other => {
                    "unrecognised (no rule decides: starting, or text in the composer)".to_string()
                }
            };
            (live, profile.rule_report(&s.screen))
        }
        None if job.session.is_some() => ("lost (no tmux pane)".to_string(), Vec::new()),
        None => ("no session".to_string(), Vec::new()),
    };
    let store = crate::mail::deliver::store_of(&job, &profile);
    let record = store.as_ref().map(|s| {
        let files: Vec<String> = s
            .files(
                job.session
                    .as_ref()
                    .map_or(job.created_at, |x| x.started_at),
            )
            .keys()
            .map(|p| p.display().to_string())
            .collect();
        (s.kind.clone(), s.base.display().to_string(), files)
    });
    let attempts = reg.recent_attempts(&job.name, 5)?;
    if args.json {
        ui::print_json(&json!({
            "name": job.name,
            "pane": job.session.as_ref().map(|s| s.pane_id.clone()),
            "kind": job.kind,
            "recorded_state": job.state,
            "reason": job.reason,
            "screen_state": live,
            "screen_tail": screen.as_deref().map(|s| crate::agent::probe::tail_lines(s, 15)),
            "rules": rules.iter().map(|(k, n, m)| json!({"kind": k, "rule": n, "matches": m})).collect::<Vec<_>>(),
            "record": record.as_ref().map(|(k, b, f)| json!({"store": k, "base": b, "files": f})),
            "prompt": job.prompt_state,
            "typing": {"paste": format!("{:?}", profile.spec.paste).to_lowercase(),
                       "submit_key": profile.spec.submit_key,
                       "submit_delay_ms": profile.spec.submit_delay_ms,
                       "settle_ms": profile.spec.settle_ms,
                       "turn_settle_ms": profile.spec.turn_settle_ms},
            "attempts": attempts,
        }));
        return Ok(());
    }
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
        for (kind, rule, hit) in &rules {
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
    if attempts.is_empty() {
        println!("attempts: none");
    } else {
        println!("attempts (newest first):");
        for a in &attempts {
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
