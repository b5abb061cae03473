//! `mam recv` (take messages, marking them read) and `mam inbox` (list them).

use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use crate::app::{Ctx, check_name};
use crate::cli::{InboxArgs, RecvArgs};
use crate::error::{timeout, usage};
use crate::registry::messages::Message;
use crate::registry::now_ms;
use crate::ui;

fn header(m: &Message) -> String {
    let mut h = format!("{} from {}", m.id, m.from);
    if let Some(r) = &m.in_reply_to {
        h.push_str(&format!(" (reply to {r})"));
    }
    if m.kind != "message" {
        h.push_str(&format!(" [{}]", m.kind));
    }
    h
}

pub fn recv(ctx: &Ctx, args: RecvArgs) -> Result<()> {
    let who = match &args.r#as {
        Some(n) => ctx.actor(Some(n))?,
        None => ctx.caller.clone(),
    };
    if who != "operator" {
        check_name(&who)?;
    }
    if args.batch == 0 {
        return Err(usage("--batch must be at least 1").into());
    }
    let wait = args
        .wait
        .map(|w| crate::duration::seconds("--wait", w, crate::duration::Limit::ANY))
        .transpose()?;
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &who)?;
    let deadline = wait.map(|w| Instant::now() + w);
    let got = loop {
        let got = crate::mail::take(&mut reg, &who, args.batch, args.peek)?;
        if !got.messages.is_empty() {
            break got;
        }
        match deadline {
            Some(d) if Instant::now() < d => std::thread::sleep(Duration::from_millis(100)),
            Some(_) => {
                return Err(timeout(format!(
                    "no message for {who} within {:.1}s",
                    args.wait.unwrap_or(0.0)
                ))
                .into());
            }
            None => break got,
        }
    };
    let (msgs, remaining) = (got.messages, got.remaining);
    if args.json {
        ui::print_json(&json!({"messages": msgs, "remaining": remaining}));
        return Ok(());
    }
    if msgs.is_empty() {
        if !ctx.global.quiet {
            eprintln!("no messages for {who}");
        }
        return Ok(());
    }
    for m in &msgs {
        println!("{}:", header(m));
        for line in m.body.lines() {
            println!("  {line}");
        }
    }
    if remaining > 0 && !ctx.global.quiet {
        println!("({remaining} more waiting: mam recv)");
    }
    Ok(())
}

pub fn inbox(ctx: &Ctx, args: InboxArgs) -> Result<()> {
    let who = args.name.clone().unwrap_or_else(|| ctx.caller.clone());
    if who != "operator" && !who.contains('@') {
        check_name(&who)?;
    }
    let Some(reg) = ctx.registry_if_exists()? else {
        if args.json {
            ui::print_json(&json!({"messages": []}));
        }
        return Ok(());
    };
    crate::mail::check_inbox_owner(&reg, &who)?;
    let msgs = reg.inbox(&who, args.all, 10_000)?;
    if args.json {
        ui::print_json(&json!({"name": who, "messages": msgs}));
        return Ok(());
    }
    if msgs.is_empty() {
        if !ctx.global.quiet {
            println!("no messages for {who}");
        }
        return Ok(());
    }
    let now = now_ms();
    let rows: Vec<Vec<String>> = msgs
        .iter()
        .map(|m| {
            vec![
                m.id.clone(),
                m.from.clone(),
                m.kind.clone(),
                m.state.to_string(),
                ui::age(now - m.created_at),
                crate::mail::summarize(&m.body, 60),
            ]
        })
        .collect();
    print!(
        "{}",
        ui::table(&["ID", "FROM", "KIND", "STATE", "AGE", "SUMMARY"], &rows)
    );
    Ok(())
}
