//! The deliverer: queued messages → ready panes, verified on screen.
//!
//! Used by `send` (an immediate attempt when the recipient is ready) and by
//! `reconcile` (every queued message whose recipient is now ready). One
//! message per recipient per pass: the typed text tells the agent how many
//! more wait (`mam recv` hands them out). A message becomes `delivered` only
//! when the screen shows the agent took it; otherwise it stays `queued` with
//! `attempts` and `last_error`, and is retried later.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::app::Ctx;
use crate::lock;
use crate::probe::{self, Typed};
use crate::registry::Registry;
use crate::registry::messages::Message;

/// Typed attempts after which a message is given up as `failed`.
pub const MAX_TYPED_ATTEMPTS: i64 = 5;

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Attempt {
    Delivered { id: String, to: String, how: String },
    Waiting { id: String, to: String, why: String },
}

/// Try to deliver the oldest queued message of `to`.
pub fn deliver_next(ctx: &Ctx, reg: &mut Registry, to: &str) -> Result<Option<Attempt>> {
    let Some(msg) = reg.queued_messages(Some(to))?.into_iter().next() else {
        return Ok(None);
    };
    deliver(ctx, reg, &msg).map(Some)
}

/// One pass over every recipient with queued messages.
pub fn deliver_all(ctx: &Ctx, reg: &mut Registry) -> Result<Vec<Attempt>> {
    let heads = reg.queued_heads()?;
    let mut out = Vec::new();
    for msg in heads {
        out.push(deliver(ctx, reg, &msg)?);
    }
    Ok(out)
}

fn waiting(msg: &Message, why: impl Into<String>) -> Attempt {
    Attempt::Waiting {
        id: msg.id.clone(),
        to: msg.to.clone(),
        why: why.into(),
    }
}

/// Deliver one message if its recipient can take it now.
pub fn deliver(ctx: &Ctx, reg: &mut Registry, msg: &Message) -> Result<Attempt> {
    let Some(job) = reg.job(&msg.to)? else {
        return Ok(waiting(msg, "no such job"));
    };
    let Some(session) = job.session.clone().filter(|_| job.is_running()) else {
        let why = format!("{} is not running ({})", job.name, job.state);
        reg.write(|tx| tx.note_attempt(&msg.id, &why, false))?;
        return Ok(waiting(msg, why));
    };
    // Someone else typing into this pane right now: leave it to them.
    let Some(_lock) = lock::try_lock(&ctx.paths.job_lock(&job.name))? else {
        return Ok(waiting(msg, "another mam command is working on this agent"));
    };
    // Re-read under the lock: another process may have delivered it.
    match reg.message(&msg.id)? {
        Some(m) if m.state == "queued" => {}
        _ => return Ok(waiting(msg, "no longer queued")),
    }
    let profile = ctx.profile(&job.kind)?;
    let text = compose(ctx, reg, msg)?;
    let typed = probe::type_text(
        &ctx.tmux,
        &session.pane_id,
        &profile,
        &text,
        &probe::TypeOptions::default(),
    )?;
    match typed {
        Typed::Delivered { how, .. } => {
            reg.write(|tx| {
                tx.mark_delivered(&msg.id, how)?;
                tx.note_typed(&job.name, how)
            })?;
            Ok(Attempt::Delivered {
                id: msg.id.clone(),
                to: msg.to.clone(),
                how: how.to_string(),
            })
        }
        Typed::NotReady(why) => {
            reg.write(|tx| tx.note_attempt(&msg.id, &why, false))?;
            Ok(waiting(msg, why))
        }
        Typed::Unverified(why) => {
            reg.write(|tx| {
                tx.note_attempt(&msg.id, &why, true)?;
                tx.fail_message_after(&msg.id, MAX_TYPED_ATTEMPTS)
            })?;
            Ok(waiting(msg, why))
        }
    }
}

/// Longest excerpt typed for a body saved as an attachment.
const EXCERPT: usize = 240;

/// The text typed for a message: a header naming it, the body (or an excerpt
/// and the attachment path), and how many more wait.
pub fn compose(ctx: &Ctx, reg: &Registry, msg: &Message) -> Result<String> {
    let mut head = format!("[mam] {} from {}", msg.id, msg.from);
    if let Some(r) = &msg.in_reply_to {
        head.push_str(&format!(" (reply to {r})"));
    }
    let body = if msg.body.len() > ctx.config.messages.inline_max {
        let path = write_attachment(ctx, msg)?;
        let mut cut = EXCERPT.min(msg.body.len());
        while !msg.body.is_char_boundary(cut) {
            cut -= 1;
        }
        format!(
            "{}… [{} bytes; full text: {}]",
            msg.body[..cut].trim_end(),
            msg.body.len(),
            path.display()
        )
    } else {
        msg.body.clone()
    };
    let mut text = format!("{head}: {body}");
    match msg.kind.as_str() {
        "question" => {
            let q = msg.question.as_deref().unwrap_or("q?");
            text.push_str(&format!("\n(answer with: mam answer {q} \"…\")"));
        }
        "broadcast" => text.push_str("\n(broadcast: may need no action from you)"),
        _ => {}
    }
    let more = reg.queued_count(&msg.to)? - 1;
    if more > 0 {
        text.push_str(&format!("\n(+{more} more queued: mam recv)"));
    }
    Ok(probe::sanitize(&text))
}

/// Save a long body as `.mam/attachments/<id>.md` (0600, never through a symlink).
pub fn write_attachment(ctx: &Ctx, msg: &Message) -> Result<PathBuf> {
    let path = ctx.paths.attachments.join(format!("{}.md", msg.id));
    let open = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path);
    match open {
        Ok(mut f) => {
            f.write_all(msg.body.as_bytes())
                .with_context(|| format!("cannot write attachment {}", path.display()))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let meta = std::fs::symlink_metadata(&path)?;
            if !meta.file_type().is_file() {
                anyhow::bail!(
                    "attachment {} is not a regular file; refusing it",
                    path.display()
                );
            }
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot create attachment {}", path.display()));
        }
    }
    Ok(path)
}

/// One pass over due reminders: claim what the rate limits allow (one
/// transaction), type each into its target with the same verification as
/// messages, record the outcome. A target that is not running gets an
/// attempt and `last_error`; a busy one keeps the reminder pending.
pub fn deliver_reminders(ctx: &Ctx, reg: &mut Registry) -> Result<Vec<Attempt>> {
    use crate::registry::reminders::RateLimit;
    let now = crate::registry::now_ms();
    if !reg.any_reminder_due(now)? {
        return Ok(Vec::new()); // the usual pass: no job list to read
    }
    let jobs = reg.jobs()?;
    let running: std::collections::HashMap<String, crate::registry::jobs::Job> = jobs
        .into_iter()
        .filter(|j| j.is_running())
        .map(|j| (j.name.clone(), j))
        .collect();
    let limit = RateLimit {
        burst: ctx.config.reminders.burst,
        per_hour: ctx.config.reminders.per_hour,
    };
    let (claimed, absent) = reg.write(|tx| {
        // Only a ready agent can take one now; a busy one keeps its
        // reminders pending without spending its rate limit.
        let ready = |t: &str| t == "operator" || running.get(t).is_some_and(|j| j.state == "ready");
        let claimed = tx.claim_due(now, limit, &ready)?;
        let absent: Vec<_> = reg_due_absent(tx, now, &running)?;
        for (id, why) in &absent {
            tx.reminder_missed(id, why, true)?;
        }
        Ok((claimed, absent))
    })?;
    let mut out: Vec<Attempt> = absent
        .into_iter()
        .map(|(id, why)| Attempt::Waiting {
            id,
            to: String::new(),
            why,
        })
        .collect();
    for r in claimed {
        let header = format!("[mam] {} reminder from {}: {}", r.id, r.owner, r.text);
        if r.target == "operator" {
            // The operator reads reminders with `mam recv`.
            reg.write(|tx| {
                tx.insert_message(&crate::registry::messages::NewMessage {
                    from: &r.owner,
                    to: "operator",
                    kind: "reminder",
                    body: &format!("{} (reminder {})", r.text, r.id),
                    in_reply_to: None,
                    question_id: None,
                })?;
                tx.reminder_delivered(&r.id, now)
            })?;
            out.push(Attempt::Delivered {
                id: r.id.clone(),
                to: r.target.clone(),
                how: "inbox".into(),
            });
            continue;
        }
        let job = &running[&r.target];
        let pane = job
            .session
            .as_ref()
            .map(|s| s.pane_id.clone())
            .unwrap_or_default();
        let Some(_lock) = lock::try_lock(&ctx.paths.job_lock(&job.name))? else {
            reg.write(|tx| {
                tx.reminder_missed(&r.id, "another mam command is working on this agent", false)
            })?;
            out.push(Attempt::Waiting {
                id: r.id.clone(),
                to: r.target.clone(),
                why: "agent locked".into(),
            });
            continue;
        };
        let profile = ctx.profile(&job.kind)?;
        let typed = probe::type_text(
            &ctx.tmux,
            &pane,
            &profile,
            &probe::sanitize(&header),
            &probe::TypeOptions::default(),
        )?;
        let attempt = match typed {
            Typed::Delivered { how, .. } => {
                reg.write(|tx| {
                    tx.reminder_delivered(&r.id, crate::registry::now_ms())?;
                    tx.note_typed(&job.name, how)
                })?;
                Attempt::Delivered {
                    id: r.id.clone(),
                    to: r.target.clone(),
                    how: how.to_string(),
                }
            }
            Typed::NotReady(why) => {
                // Nothing was typed: the claim gives its rate-limit slot back.
                reg.write(|tx| {
                    tx.refund_fire(&r.target, now)?;
                    tx.reminder_missed(&r.id, &why, false)
                })?;
                Attempt::Waiting {
                    id: r.id.clone(),
                    to: r.target.clone(),
                    why,
                }
            }
            Typed::Unverified(why) => {
                reg.write(|tx| tx.reminder_missed(&r.id, &why, true))?;
                Attempt::Waiting {
                    id: r.id.clone(),
                    to: r.target.clone(),
                    why,
                }
            }
        };
        out.push(attempt);
    }
    Ok(out)
}

/// Due reminders whose target is not running (and is not the operator).
fn reg_due_absent(
    tx: &crate::registry::Tx,
    now: i64,
    running: &std::collections::HashMap<String, crate::registry::jobs::Job>,
) -> Result<Vec<(String, String)>> {
    let mut st = tx.prepare_cached(
        "SELECT r.id, r.target, j.state FROM reminders r LEFT JOIN jobs j ON j.name = r.target \
         WHERE r.state = 'pending' AND r.due_at <= ?1 AND r.target != 'operator'",
    )?;
    let rows = st.query_map([now], |x| {
        Ok((
            x.get::<_, i64>(0)?,
            x.get::<_, String>(1)?,
            x.get::<_, Option<String>>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, target, state) = row?;
        if running.contains_key(&target) {
            continue;
        }
        let why = match state {
            Some(s) => format!("{target} is not running ({s})"),
            None => format!("{target} does not exist"),
        };
        out.push((format!("r{id}"), why));
    }
    Ok(out)
}
