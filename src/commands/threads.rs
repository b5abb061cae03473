//! `mam threads`: open questions asked and owed, and messages queued.

use anyhow::Result;
use serde_json::{Value, json};

use crate::app::{Ctx, check_name};
use crate::cli::ThreadsArgs;
use crate::mail::summarize;
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
    let now = now_ms();
    let mut threads: Vec<Value> = Vec::new();
    for q in reg.open_questions(who.as_deref())? {
        let entry = |role: &str, with: &str, name: &str| {
            json!({"id": q.id, "type": "question", "name": name, "role": role, "counterparty": with,
                   "summary": summarize(&q.text, 60), "age_ms": now - q.created_at})
        };
        match &who {
            Some(w) if *w == q.asker => threads.push(entry("asker", &q.target, w)),
            Some(w) => {
                if *w == q.target {
                    threads.push(entry("target", &q.asker, w));
                }
            }
            None => {
                threads.push(entry("asker", &q.target, &q.asker));
                threads.push(entry("target", &q.asker, &q.target));
            }
        }
    }
    for m in reg.queued_messages(who.as_deref())? {
        if m.kind == "question" {
            continue; // shown as its question
        }
        threads.push(
            json!({"id": m.id, "type": "message", "name": m.to, "role": "inbox",
                            "counterparty": m.from, "summary": summarize(&m.body, 60),
                            "age_ms": now - m.created_at}),
        );
    }
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
