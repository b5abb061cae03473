//! `mam send`, `mam ask`, `mam answer`: read the text, call `mail`, render.

use std::io::Read;

use anyhow::{Context, Result};
use serde_json::json;

use crate::app::Ctx;
use crate::cli::{AnswerArgs, AskArgs, SendArgs};
use crate::commands::Out;
use crate::error::{not_found, usage};
use crate::mail::{self, Outgoing, Sent};
use crate::ui;

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
            .take(mail::MAX_BODY as u64 + 1)
            .read_to_string(&mut s)
            .context("cannot read the message from stdin")?;
        s
    } else {
        text.join(" ")
    };
    mail::check_body(&raw)
}

fn messages_json(sent: &Sent) -> Vec<serde_json::Value> {
    sent.ids
        .iter()
        .map(|(id, to)| json!({"id": id, "to": to, "state": state(sent, id)}))
        .collect()
}

fn state(sent: &Sent, id: &str) -> &'static str {
    if sent.delivered(id) {
        "delivered"
    } else {
        "queued"
    }
}

fn print_sent(out: Out, sent: &Sent) {
    for (id, to) in &sent.ids {
        match out {
            Out::Quiet => println!("{id}"),
            _ => println!("{id} to {to}: {}", state(sent, id)),
        }
    }
}

fn report(ctx: &Ctx, json: bool, sent: &Sent, extra: serde_json::Value) {
    let out = Out::of(ctx, json);
    if out == Out::Json {
        let mut v = json!({"messages": messages_json(sent)});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        ui::print_json(&v);
        return;
    }
    print_sent(out, sent);
}

pub fn send(ctx: &Ctx, args: SendArgs) -> Result<()> {
    let from = ctx.actor(args.from.from.as_deref())?;
    let Some(to) = args.to.as_deref().filter(|_| !args.batch) else {
        return send_batch(ctx, &from, args.json);
    };
    let body = read_body(&args.text, args.file.as_ref())?;
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &from)?;
    let sent = mail::send(ctx, &mut reg, &from, to, &body, args.reply_to.as_deref())?;
    if sent.ids.is_empty() {
        ctx.info("mam: no live agent to broadcast to; nothing sent");
    }
    report(ctx, args.json, &sent, json!({}));
    ctx.publish(&mut reg);
    Ok(())
}

/// The most `--batch` reads from stdin.
pub const MAX_BATCH: usize = 64 * 1024 * 1024;

/// `mam send --batch`: every line of stdin parsed and checked before
/// anything is stored; a bad line names its number and nothing is sent.
fn send_batch(ctx: &Ctx, from: &str, json: bool) -> Result<()> {
    let mut input = Vec::new();
    std::io::stdin()
        .take(MAX_BATCH as u64 + 1)
        .read_to_end(&mut input)
        .context("cannot read the batch from stdin")?;
    if input.len() > MAX_BATCH {
        return Err(
            usage(format!("batch is larger than {} MiB", MAX_BATCH >> 20))
                .hint("split it into several `mam send --batch` runs")
                .into(),
        );
    }
    let (lines, items) = parse_batch(&input)?;
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, from)?;
    let sent = mail::send_batch(ctx, &mut reg, from, &items, |i| {
        Some(format!("line {}", lines[i]))
    })?;
    let out = Out::of(ctx, json);
    for (line, s) in lines.iter().zip(&sent) {
        if out == Out::Json {
            ui::print_json_line(&json!({"line": line, "messages": messages_json(s)}));
        } else {
            print_sent(out, s);
        }
    }
    ctx.publish(&mut reg);
    Ok(())
}

/// The batch's items with the (1-based) line each came from; blank lines
/// are skipped. A line that is not UTF-8, not JSON, or not an object of
/// `to`, `text` and optional `reply_to` is a usage error naming the line
/// (`mail::send_batch` checks the rest, naming the line too).
pub fn parse_batch(input: &[u8]) -> Result<(Vec<usize>, Vec<Outgoing>)> {
    let mut lines = Vec::new();
    let mut items = Vec::new();
    for (i, raw) in input.split(|&b| b == b'\n').enumerate() {
        let n = i + 1;
        let bad = |why: String| usage(format!("line {n}: {why}"));
        let text = std::str::from_utf8(raw).map_err(|_| bad("not UTF-8 text".into()))?;
        if text.trim().is_empty() {
            continue;
        }
        let item: Outgoing = serde_json::from_str(text).map_err(|e| {
            // serde_json says "at line 1 column C" of the one line it saw.
            let full = e.to_string();
            let at = format!(" at line {} column {}", e.line(), e.column());
            let why = full.strip_suffix(&at).unwrap_or(&full);
            bad(format!("{why} (column {})", e.column())).hint(
                r#"each line is one JSON object: {"to": "NAME", "text": "…", "reply_to": "m12"} (reply_to optional)"#,
            )
        })?;
        lines.push(n);
        items.push(item);
    }
    if items.is_empty() {
        return Err(usage("empty batch: no lines on stdin")
            .hint(r#"give one JSON object per line: {"to": "NAME", "text": "…"}"#)
            .into());
    }
    Ok((lines, items))
}

pub fn ask(ctx: &Ctx, args: AskArgs) -> Result<()> {
    let from = ctx.actor(args.from.from.as_deref())?;
    let text = read_body(&args.question, None)?;
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &from)?;
    let (qid, sent) = mail::ask(ctx, &mut reg, &from, &args.to, &text)?;
    match Out::of(ctx, args.json) {
        Out::Json => report(ctx, true, &sent, json!({"question": qid})),
        Out::Quiet => println!("{qid}"),
        Out::Human => println!("{qid} asked of {}", sent.ids[0].1),
    }
    ctx.publish(&mut reg);
    Ok(())
}

pub fn answer(ctx: &Ctx, args: AnswerArgs) -> Result<()> {
    let by = ctx.actor(args.from.from.as_deref())?;
    // Checked before the text is read (which may be stdin).
    mail::question_number(&args.qid)?;
    let text = read_body(&args.text, None)?;
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &by)?;
    let sent = mail::answer(ctx, &mut reg, &by, &args.qid, &text)?;
    report(ctx, args.json, &sent, json!({"question": args.qid}));
    ctx.publish(&mut reg);
    Ok(())
}
