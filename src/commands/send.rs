//! `mam send`, `mam ask`, `mam answer`: read the text, call `mail`, render.

use std::io::Read;

use anyhow::{Context, Result};
use serde_json::json;

use crate::app::Ctx;
use crate::cli::{AnswerArgs, AskArgs, SendArgs};
use crate::commands::Out;
use crate::error::{not_found, usage};
use crate::mail::{self, Sent};
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

fn report(ctx: &Ctx, json: bool, sent: &Sent, extra: serde_json::Value) {
    let out = Out::of(ctx, json);
    if out == Out::Json {
        let list: Vec<_> = sent
            .ids
            .iter()
            .map(|(id, to)| {
                let state = if sent.delivered(id) {
                    "delivered"
                } else {
                    "queued"
                };
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
    for (id, to) in &sent.ids {
        let state = if sent.delivered(id) {
            "delivered"
        } else {
            "queued"
        };
        match out {
            Out::Quiet => println!("{id}"),
            _ => println!("{id} to {to}: {state}"),
        }
    }
}

pub fn send(ctx: &Ctx, args: SendArgs) -> Result<()> {
    let from = ctx.actor(args.from.from.as_deref())?;
    let body = read_body(&args.text, args.file.as_ref())?;
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &from)?;
    let sent = mail::send(
        ctx,
        &mut reg,
        &from,
        &args.to,
        &body,
        args.reply_to.as_deref(),
    )?;
    if sent.ids.is_empty() {
        ctx.info("mam: no live agent to broadcast to; nothing sent");
    }
    report(ctx, args.json, &sent, json!({}));
    ctx.publish(&mut reg);
    Ok(())
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
