//! `mam remind`, `mam reminders`, `mam retry`.

use anyhow::Result;
use serde_json::json;

use crate::app::Ctx;
use crate::cli::{RemindArgs, RemindersArgs, RetryArgs};
use crate::commands::Out;
use crate::mail::remind::{self, When};
use crate::registry::now_ms;
use crate::ui;

pub fn remind(ctx: &Ctx, args: RemindArgs) -> Result<()> {
    let owner = ctx.actor(args.from.from.as_deref())?;
    let when = match (&args.in_, &args.at) {
        (Some(d), _) => Some(When::In(d)),
        (None, Some(t)) => Some(When::At(t)),
        (None, None) => None,
    };
    let checked = remind::check(when, args.every.as_deref(), &args.text.join(" "))?;
    let mut reg = ctx.registry()?;
    let r = remind::remind(ctx, &mut reg, &owner, &args.to, &checked)?;
    match Out::of(ctx, args.json) {
        Out::Json => ui::print_json(&json!({"id": r.id, "target": r.target, "due_at": r.due_at})),
        Out::Quiet => println!("{}", r.id),
        Out::Human => println!("{} for {} at {}", r.id, r.target, r.due_at),
    }
    ctx.publish(&mut reg);
    Ok(())
}

pub fn list(ctx: &Ctx, args: RemindersArgs) -> Result<()> {
    let Some(reg) = ctx.registry_if_exists()? else {
        if args.json {
            ui::print_json(&json!({"reminders": []}));
        }
        return Ok(());
    };
    let rs = reg.reminders(args.name.as_deref(), args.all)?;
    if args.json {
        ui::print_json(&json!({"reminders": rs}));
        return Ok(());
    }
    if rs.is_empty() {
        if !ctx.global.quiet {
            println!("no reminders");
        }
        return Ok(());
    }
    let now = now_ms();
    let rows: Vec<Vec<String>> = rs
        .iter()
        .map(|r| {
            let due = if r.due_at > now {
                format!("in {}", ui::age(r.due_at - now))
            } else {
                format!("{} ago", ui::age(now - r.due_at))
            };
            vec![
                r.id.clone(),
                r.target.clone(),
                r.owner.clone(),
                r.state.to_string(),
                due,
                r.every_ms.map(ui::age).unwrap_or_else(|| "-".into()),
                r.attempts.to_string(),
                r.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print!(
        "{}",
        ui::table(
            &[
                "ID",
                "TARGET",
                "OWNER",
                "STATE",
                "DUE",
                "EVERY",
                "ATTEMPTS",
                "LAST ERROR"
            ],
            &rows
        )
    );
    Ok(())
}

pub fn retry(ctx: &Ctx, args: RetryArgs) -> Result<()> {
    let by = ctx.actor(args.from.from.as_deref())?;
    let mut reg = ctx.registry()?;
    remind::retry(ctx, &mut reg, &by, &args.rid)?;
    if !ctx.global.quiet {
        println!("{}: re-armed", args.rid);
    }
    ctx.publish(&mut reg);
    Ok(())
}
