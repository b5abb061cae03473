//! `mam send`, `mam ask`, `mam answer`: store messages (one transaction with
//! their events), then try to deliver at once to recipients that are running.

use std::io::Read;

use anyhow::{Context, Result};
use serde_json::json;

use crate::agent::probe::sanitize;
use crate::app::{Ctx, check_name};
use crate::cli::{AnswerArgs, AskArgs, SendArgs};
use crate::error::{not_found, usage};
use crate::mail::deliver::{self, Attempt};
use crate::registry::Registry;
use crate::registry::messages::{NewMessage, parse_id};
use crate::ui;

/// Bodies larger than this are refused outright (they go to attachments up to it).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

fn read_body(text: &[String], file: Option<&std::path::PathBuf>) -> Result<String> {
    let raw = if let Some(f) = file {
        let bytes = std::fs::read(f).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::Error::from(not_found(format!(
                    "message file {} does not exist",
                    f.display()
                )))
            } else {
                anyhow::Error::from(usage(format!(
                    "cannot read message file {}: {e}",
                    f.display()
                )))
            }
        })?;
        String::from_utf8(bytes)
            .map_err(|_| usage(format!("message file {} is not UTF-8 text", f.display())))?
    } else if text.len() == 1 && text[0] == "-" {
        let mut s = String::new();
        std::io::stdin()
            .take(MAX_BODY as u64 + 1)
            .read_to_string(&mut s)
            .context("cannot read the message from stdin")?;
        s
    } else {
        text.join(" ")
    };
    if raw.len() > MAX_BODY {
        return Err(
            usage(format!("message is larger than {} MiB", MAX_BODY >> 20))
                .hint("send a path to the file instead")
                .into(),
        );
    }
    let body = sanitize(&raw);
    if body.trim().is_empty() {
        return Err(usage("empty message")
            .hint("give the text as arguments, '-' for stdin, or --file")
            .into());
    }
    Ok(body)
}

/// Resolve a recipient: a job, `operator`, or `*` (every live agent but the sender).
fn recipients(reg: &Registry, to: &str, from: &str) -> Result<Vec<String>> {
    match to {
        "*" => Ok(reg
            .jobs()?
            .into_iter()
            .filter(|j| j.name != from && j.is_running())
            .map(|j| j.name)
            .collect()),
        "operator" => Ok(vec!["operator".into()]),
        name => {
            check_name(name)?;
            if reg.job(name)?.is_none() {
                return Err(not_found(format!("no job named {name:?} to send to"))
                    .hint("see `mam status --all`; `*` sends to every live agent, `operator` to the human")
                    .into());
            }
            Ok(vec![name.to_string()])
        }
    }
}

fn check_reply_to(reg: &Registry, id: Option<&str>) -> Result<()> {
    let Some(id) = id else { return Ok(()) };
    let (letter, _) = parse_id(id)?;
    let exists = match letter {
        'm' => reg.message(id)?.is_some(),
        'q' => reg.question_by_id(id)?.is_some(),
        _ => false,
    };
    if !exists {
        return Err(not_found(format!("--reply-to {id}: no such message or question")).into());
    }
    Ok(())
}

/// Try an immediate delivery to each running recipient.
fn deliver_now(ctx: &Ctx, reg: &mut Registry, to: &[String]) -> Result<Vec<Attempt>> {
    let mut out = Vec::new();
    for name in to {
        let live = reg.job(name)?.is_some_and(|j| j.is_running());
        if live && let Some(a) = deliver::deliver_next(ctx, reg, name)? {
            out.push(a);
        }
    }
    Ok(out)
}

fn report(
    ctx: &Ctx,
    json: bool,
    ids: &[(String, String)],
    attempts: &[Attempt],
    extra: serde_json::Value,
) {
    if json {
        let list: Vec<_> = ids
            .iter()
            .map(|(id, to)| {
                let state = attempts
                    .iter()
                    .find_map(|a| match a {
                        Attempt::Delivered { id: d, .. } if d == id => Some("delivered"),
                        _ => None,
                    })
                    .unwrap_or("queued");
                json!({"id": id, "to": to, "state": state})
            })
            .collect();
        let mut v = json!({"messages": list});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        ui::print_json(&v);
        return;
    }
    for (id, to) in ids {
        let delivered = attempts
            .iter()
            .any(|a| matches!(a, Attempt::Delivered { id: d, .. } if d == id));
        if ctx.global.quiet {
            println!("{id}");
        } else {
            println!(
                "{id} to {to}: {}",
                if delivered { "delivered" } else { "queued" }
            );
        }
    }
}

pub fn send(ctx: &Ctx, args: SendArgs) -> Result<()> {
    let from = ctx.actor(args.from.from.as_deref())?;
    let body = read_body(&args.text, args.file.as_ref())?;
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &from)?;
    check_reply_to(&reg, args.reply_to.as_deref())?;
    let to = recipients(&reg, &args.to, &from)?;
    if to.is_empty() {
        ctx.info("mam: no live agent to broadcast to; nothing sent");
        report(ctx, args.json, &[], &[], json!({}));
        return Ok(());
    }
    let kind = if args.to == "*" {
        "broadcast"
    } else {
        "message"
    };
    let ids: Vec<(String, String)> = reg.write(|tx| {
        to.iter()
            .map(|r| {
                let id = tx.insert_message(&NewMessage {
                    from: &from,
                    to: r,
                    kind,
                    body: &body,
                    in_reply_to: args.reply_to.as_deref(),
                    question_id: None,
                })?;
                Ok((format!("m{id}"), r.clone()))
            })
            .collect()
    })?;
    let attempts = deliver_now(ctx, &mut reg, &to)?;
    report(ctx, args.json, &ids, &attempts, json!({}));
    ctx.publish(&mut reg);
    Ok(())
}

pub fn ask(ctx: &Ctx, args: AskArgs) -> Result<()> {
    let from = ctx.actor(args.from.from.as_deref())?;
    let text = read_body(&args.question, None)?;
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &from)?;
    if args.to == "*" {
        return Err(usage("a question goes to one recipient, not `*`").into());
    }
    let to = recipients(&reg, &args.to, &from)?;
    let (qid, mid) = reg.write(|tx| {
        let q = tx.insert_question(&from, &to[0], &text)?;
        let m = tx.insert_message(&NewMessage {
            from: &from,
            to: &to[0],
            kind: "question",
            body: &format!("question q{q}: {text}"),
            in_reply_to: None,
            question_id: Some(q),
        })?;
        tx.link_question_message(q, m)?;
        Ok((format!("q{q}"), format!("m{m}")))
    })?;
    let attempts = deliver_now(ctx, &mut reg, &to)?;
    if !args.json {
        if ctx.global.quiet {
            println!("{qid}");
        } else {
            println!("{qid} asked of {}", to[0]);
        }
    }
    if args.json {
        report(
            ctx,
            true,
            &[(mid, to[0].clone())],
            &attempts,
            json!({"question": qid}),
        );
    }
    ctx.publish(&mut reg);
    Ok(())
}

pub fn answer(ctx: &Ctx, args: AnswerArgs) -> Result<()> {
    let by = ctx.actor(args.from.from.as_deref())?;
    let (letter, n) = parse_id(&args.qid)?;
    if letter != 'q' {
        return Err(usage(format!("{} is not a question id (q<N>)", args.qid)).into());
    }
    let text = read_body(&args.text, None)?;
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &by)?;
    let (asker, mid) = reg.write(|tx| {
        let q = tx.answer_question(n, &by, &text)?;
        let m = tx.insert_message(&NewMessage {
            from: &by,
            to: &q.asker,
            kind: "answer",
            body: &format!("answer to q{n} ({}): {text}", summarize(&q.text, 60)),
            in_reply_to: Some(&args.qid),
            question_id: Some(n),
        })?;
        Ok((q.asker, format!("m{m}")))
    })?;
    let attempts = deliver_now(ctx, &mut reg, std::slice::from_ref(&asker))?;
    report(
        ctx,
        args.json,
        &[(mid, asker)],
        &attempts,
        json!({"question": args.qid}),
    );
    ctx.publish(&mut reg);
    Ok(())
}

/// One line, at most `n` characters.
pub fn summarize(text: &str, n: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > n || text.lines().nth(1).is_some() {
        let cut: String = line.chars().take(n.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    } else {
        line.to_string()
    }
}
