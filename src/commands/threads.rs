//! `mam threads`: open questions asked and owed, and messages queued.

use anyhow::Result;
use serde_json::{Value, json};

use crate::app::{Ctx, check_name};
use crate::cli::ThreadsArgs;
use crate::registry::now_ms;
use crate::ui;

pub fn run(ctx: &Ctx, args: ThreadsArgs) -> Result<()> {
    let who: Option<String> = match (&args.name, ctx.caller.as_str()) {
        (Some(n), _) => Some(n.clone()),
        (None, "operator") => None,
        (None, me) => Some(me.to_string()),
    };
    if let Some(w) = &who
        && w != "operator"
    {
        check_name(w)?;
    }
    let Some(reg) = ctx.registry_if_exists()? else {
        if args.json {
            ui::print_json(&json!({"threads": []}));
        }
        return Ok(());
    };
    if let Some(w) = &who
        && w != "operator"
        && reg.job(w)?.is_none()
    {
        return Err(crate::registry::jobs::unknown_job(w));
    }
    let threads: Vec<Value> = crate::mail::threads(&reg, who.as_deref(), now_ms())?
        .into_iter()
        .map(|t| {
            json!({"id": t.id, "type": t.kind, "name": t.name, "role": t.role,
                   "counterparty": t.counterparty, "summary": t.summary, "age_ms": t.age_ms})
        })
        .collect();
    if args.json {
        ui::print_json(&json!({"name": who, "threads": threads}));
        return Ok(());
    }
    if threads.is_empty() {
        if !ctx.global.quiet {
            println!("no open threads");
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = threads
        .iter()
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap_or("").to_string();
            vec![
                s("id"),
                s("name"),
                s("role"),
                s("counterparty"),
                ui::age(t["age_ms"].as_i64().unwrap_or(0)),
                s("summary"),
            ]
        })
        .collect();
    print!(
        "{}",
        ui::table(&["ID", "NAME", "ROLE", "WITH", "AGE", "SUMMARY"], &rows)
    );
    Ok(())
}
