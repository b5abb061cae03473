//! The deliverer: queued messages, reminders and task prompts → ready
//! panes, each proven taken (from the agent's own record where it keeps
//! one), exactly once even when a process is killed mid-way.
//!
//! Used by `send` (an immediate attempt when the recipient is ready) and by
//! `reconcile` (every queued message whose recipient is now ready). One
//! message per recipient per pass: the typed text tells the agent how many
//! more wait (`mam recv` hands them out). A message becomes `delivered` only
//! when the screen shows the agent took it; otherwise it stays `queued` with
//! `attempts` and `last_error`, and is retried later.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use std::collections::BTreeMap;
use std::path::Path;

use crate::agent::probe::{self, Typed};
use crate::agent::profiles::{Profile, Screen};
use crate::agent::record::Store;
use crate::app::Ctx;
use crate::lock;
use crate::model::JobState;
use crate::registry::jobs::Job;
use crate::registry::messages::Message;
use crate::registry::{Registry, Tx};

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

/// Type the pending task prompt of every ready job that no other mam
/// command is working on (a `create` that was interrupted, or whose prompt
/// could not be proven delivered).
pub fn deliver_prompts(ctx: &Ctx, reg: &mut Registry) -> Result<Vec<Attempt>> {
    let mut out = Vec::new();
    for job in reg.jobs()? {
        // Busy too: the screen decides (a ready one is typed to; mam's own
        // half-typed prompt from an interrupted create is cleared first).
        if job.prompt_state.as_deref() != Some("pending")
            || !matches!(job.state, JobState::Ready | JobState::Busy)
            || job.session.is_none()
        {
            continue;
        }
        let Some(_lock) = lock::try_lock(&ctx.paths.job_lock(&job.name))? else {
            continue;
        };
        let profile = ctx.profile(&job.kind)?;
        let to = job.name.clone();
        out.push(match type_prompt(ctx, reg, &job.name, &profile)? {
            Typed::Delivered { how, .. } => Attempt::Delivered {
                id: "prompt".into(),
                to,
                how: how.into(),
            },
            Typed::NotReady(why) | Typed::Unverified(why) => Attempt::Waiting {
                id: "prompt".into(),
                to,
                why,
            },
        });
    }
    Ok(out)
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
    if !job.is_running() {
        let why = format!("{} is not running ({})", job.name, job.state);
        reg.write(|tx| tx.note_attempt(&msg.id, &why, false))?;
        return Ok(waiting(msg, why));
    }
    // Someone else typing into this pane right now: leave it to them.
    let Some(_lock) = lock::try_lock(&ctx.paths.job_lock(&job.name))? else {
        return Ok(waiting(msg, "another mam command is working on this agent"));
    };
    // Re-read under the lock: another process may have delivered it.
    let job = reg.require_job(&job.name)?;
    match reg.message(&msg.id)? {
        Some(m) if m.state == crate::model::MessageState::Queued => {}
        _ => return Ok(waiting(msg, "no longer queued")),
    }
    if !job.is_running() {
        return Ok(waiting(
            msg,
            format!("{} is not running ({})", job.name, job.state),
        ));
    }
    let profile = ctx.profile(&job.kind)?;
    let text = compose(ctx, reg, msg)?;
    let needle = message_needle(msg);
    match type_item(ctx, reg, &job, &profile, &msg.id, &text, Some(needle))? {
        Typed::Delivered { how, .. } => Ok(Attempt::Delivered {
            id: msg.id.clone(),
            to: msg.to.clone(),
            how: how.to_string(),
        }),
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

/// The header mam puts before a message's text, unique per message: what
/// is looked for in the agent's record.
fn header(msg: &Message) -> String {
    let mut head = format!("[mam] {} from {}", msg.id, msg.from);
    if let Some(r) = &msg.in_reply_to {
        head.push_str(&format!(" (reply to {r})"));
    }
    head
}

fn message_needle(msg: &Message) -> String {
    format!("{}:", header(msg))
}

/// How long an attempt whose submit key went out may go without showing in
/// the agent's record before it counts as lost (the CLIs write the turn
/// within a second of taking it).
const RECORD_GRACE_MS: i64 = 15_000;

/// What repairing a job's earlier, unfinished attempts found.
enum Repair {
    /// Nothing open (any more): the composer is free for a new attempt.
    Clean,
    /// An earlier attempt turned out delivered (its item).
    Delivered(String, &'static str),
    /// Not now: why.
    Wait(String),
}

/// The agent's record for a job, if its profile has one mam can read.
pub fn store_of(job: &Job, profile: &Profile) -> Option<Store> {
    Store::for_job(
        profile.spec.conversation_store.as_deref(),
        &profile.agent_env(&job.env),
        Path::new(&job.workdir),
    )
}

/// Mark an item delivered with its proof, and the job busy with it.
fn finish_item(tx: &Tx, job: &str, item: &str, how: &str) -> Result<()> {
    match item.chars().next() {
        Some('m') => tx.mark_delivered(item, how)?,
        Some('r') => tx.reminder_delivered(item, crate::registry::now_ms(), how)?,
        _ if item == "prompt" => tx.prompt_delivered(job, how)?,
        _ => {}
    }
    tx.note_typed(job, how)
}

/// Settle what earlier attempts on this job left behind, before anything new
/// is typed: an attempt the agent's record shows is delivered; mam's own
/// text still in the composer is cleared (never a human's: only with an
/// open attempt of mam's); a submitted attempt with no trace is lost once
/// the record had time to show it. The caller holds the job lock.
fn repair(
    ctx: &Ctx,
    reg: &mut Registry,
    job: &Job,
    profile: &Profile,
    store: Option<&Store>,
    pane: &str,
) -> Result<Repair> {
    for a in reg.open_attempts(&job.name)? {
        let baseline: BTreeMap<PathBuf, u64> = a
            .baseline
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or_default();
        let provable = store.is_some() && a.needle.is_some();
        if let (Some(st), Some(needle)) = (store, &a.needle)
            && st.shows(&baseline, 0, needle)
        {
            reg.write(|tx| {
                tx.end_attempt(a.id, "proven", Some("record"), None)?;
                finish_item(tx, &job.name, &a.item, "record")
            })?;
            return Ok(Repair::Delivered(a.item, "record"));
        }
        let Some(snap) = probe::snapshot(&ctx.tmux, pane)? else {
            return Ok(Repair::Wait("the pane is gone".into()));
        };
        let age = crate::registry::now_ms() - a.started_at;
        match profile.classify(&snap.screen) {
            Screen::Ready if a.state == "typing" => {
                // The submit key never went out and the composer is empty.
                reg.write(|tx| {
                    tx.end_attempt(a.id, "lost", None, Some("interrupted before submit"))
                        .map(drop)
                })?;
            }
            Screen::Ready if provable && age < RECORD_GRACE_MS => {
                return Ok(Repair::Wait(format!(
                    "waiting for the agent's record to show the earlier attempt at {}",
                    a.item
                )));
            }
            Screen::Ready if provable => {
                reg.write(|tx| {
                    tx.end_attempt(
                        a.id,
                        "lost",
                        None,
                        Some("submitted, but the agent's record never showed it"),
                    )
                    .map(drop)
                })?;
            }
            Screen::Ready => {
                // No record to ask: the text left the composer after the
                // submit key went out.
                reg.write(|tx| {
                    tx.end_attempt(a.id, "proven", Some("screen"), None)?;
                    finish_item(tx, &job.name, &a.item, "screen")
                })?;
                return Ok(Repair::Delivered(a.item, "screen"));
            }
            Screen::Other => {
                // mam's own text is still in the composer: clear it, never
                // append to it.
                if probe::clear_composer(&ctx.tmux, pane, profile)? {
                    reg.write(|tx| {
                        tx.end_attempt(a.id, "cleared", None, Some("left in the composer"))
                            .map(drop)
                    })?;
                } else {
                    let why = format!(
                        "mam's earlier text ({}) is still in the composer and could not be cleared",
                        a.item
                    );
                    reg.write(|tx| tx.attempt_note(a.id, &why))?;
                    return Ok(Repair::Wait(why));
                }
            }
            Screen::Busy => {
                return Ok(Repair::Wait(format!(
                    "the agent is working (perhaps on the earlier attempt at {})",
                    a.item
                )));
            }
            Screen::Dialog(i) | Screen::NeedsHuman(i) => {
                return Ok(Repair::Wait(format!(
                    "a dialog is showing ({})",
                    profile.dialogs[i].name
                )));
            }
            Screen::Error(m) => {
                return Ok(Repair::Wait(format!("the agent shows an error: {m}")));
            }
        }
    }
    Ok(Repair::Clean)
}

/// Type one item (`m12`, `r3`, `prompt`) into a job's pane with proof, and
/// record the outcome: an attempt row before the first key, `submitted`
/// before the submit key, and the item delivered in the same transaction
/// that closes the attempt. Earlier unfinished attempts are repaired first.
/// SIGINT/SIGTERM wait until the outcome is recorded. The caller holds the
/// job lock.
pub fn type_item(
    ctx: &Ctx,
    reg: &mut Registry,
    job: &Job,
    profile: &Profile,
    item: &str,
    text: &str,
    needle: Option<String>,
) -> Result<Typed> {
    let Some(pane) = job.session.as_ref().map(|s| s.pane_id.clone()) else {
        return Ok(Typed::NotReady(format!("{} has no session", job.name)));
    };
    let _hold = crate::os::SignalHold::new();
    let store = store_of(job, profile);
    match repair(ctx, reg, job, profile, store.as_ref(), &pane)? {
        Repair::Clean => {}
        Repair::Delivered(done, how) if done == item => {
            return Ok(Typed::Delivered {
                how,
                rescued: false,
            });
        }
        Repair::Delivered(done, _) => {
            return Ok(Typed::NotReady(format!(
                "the agent took an earlier attempt at {done}; this one waits for its turn"
            )));
        }
        Repair::Wait(why) => return Ok(Typed::NotReady(why)),
    }
    let needle = needle.filter(|_| store.is_some());
    let baseline = match (&store, &needle) {
        (Some(st), Some(_)) => st.files(0),
        _ => BTreeMap::new(),
    };
    let baseline_json = serde_json::to_string(&baseline)?;
    let id = reg.write(|tx| {
        tx.begin_attempt(
            &job.name,
            item,
            needle.as_deref(),
            needle.as_ref().map(|_| baseline_json.as_str()),
        )
    })?;
    let mut opts = probe::TypeOptions::default();
    if job.state == JobState::Ready {
        opts.known_settled_at = job.activity_seen;
    } else {
        // Not seen ready since it last took a turn: its idle-looking screen
        // must stay still longer before it counts.
        opts.still = Some(std::time::Duration::from_millis(
            profile.spec.turn_settle_ms.max(profile.spec.settle_ms),
        ));
    }
    let mut submitting = || reg.write(|tx| tx.attempt_submitted(id));
    let mut check = || match (&store, &needle) {
        (Some(st), Some(n)) => st.shows(&baseline, 0, n),
        _ => false,
    };
    let hooks = probe::Hooks {
        submitting: &mut submitting,
        recorded: if needle.is_some() {
            Some(&mut check)
        } else {
            None
        },
    };
    let typed = probe::type_text(&ctx.tmux, &pane, profile, text, &opts, hooks)?;
    match &typed {
        Typed::Delivered { how, .. } => reg.write(|tx| {
            tx.end_attempt(id, "proven", Some(how), None)?;
            finish_item(tx, &job.name, item, how)
        })?,
        Typed::NotReady(why) => {
            reg.write(|tx| tx.end_attempt(id, "abandoned", None, Some(why)).map(drop))?
        }
        Typed::Unverified(why) => reg.write(|tx| tx.attempt_note(id, why))?,
    }
    Ok(typed)
}

/// Longest excerpt typed for a body saved as an attachment.
const EXCERPT: usize = 240;

/// The text typed for a message: a header naming it, the body (or an excerpt
/// and the attachment path), and how many more wait.
pub fn compose(ctx: &Ctx, reg: &Registry, msg: &Message) -> Result<String> {
    let head = header(msg);
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
    let open = crate::os::create_private_file(&path);
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
        // One for another host goes out at once, as mail does.
        let ready = |t: &str| {
            t == "operator"
                || t.contains('@')
                || running.get(t).is_some_and(|j| j.state == JobState::Ready)
        };
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
    let me = if claimed.iter().any(|r| r.target.contains('@')) {
        Some(ctx.config.fleet.host()?)
    } else {
        None
    };
    for r in claimed {
        if let (Some((job, host)), Some(me)) = (super::fleet::split_address(&r.target), &me) {
            // Another host's job: a message to it, with its command in the
            // fleet outbox, in the transaction that marks the reminder fired.
            let body = format!("{} (reminder {})", r.text, r.id);
            let mid = reg.write(|tx| {
                let id = tx.insert_message(&crate::registry::messages::NewMessage {
                    from: &r.owner,
                    to: &r.target,
                    kind: "reminder",
                    body: &body,
                    in_reply_to: None,
                    question_id: None,
                })?;
                let cmd = super::fleet::cmd_id(tx.ws(), &format!("m{id}"));
                let cbody =
                    super::fleet::command_body(&cmd, &r.owner, job, "reminder", &body, None);
                tx.queue_fleet(host, me, "fleet.message", &cmd, job, &cbody, Some(id), true)?;
                let how = format!("sent as m{id}");
                tx.reminder_delivered(&r.id, now, &how)?;
                Ok(how)
            })?;
            out.push(Attempt::Delivered {
                id: r.id.clone(),
                to: r.target.clone(),
                how: mid,
            });
            continue;
        }
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
                tx.reminder_delivered(&r.id, now, "inbox")
            })?;
            out.push(Attempt::Delivered {
                id: r.id.clone(),
                to: r.target.clone(),
                how: "inbox".into(),
            });
            continue;
        }
        let job = &running[&r.target];
        let Some(_lock) = lock::try_lock(&ctx.paths.job_lock(&job.name))? else {
            reg.write(|tx| {
                tx.refund_fire(&r.target, now)?;
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
        let text = probe::sanitize(&header);
        let needle = format!("[mam] {} reminder from {}:", r.id, r.owner);
        let typed = type_item(ctx, reg, job, &profile, &r.id, &text, Some(needle))?;
        let attempt = match typed {
            Typed::Delivered { how, .. } => Attempt::Delivered {
                id: r.id.clone(),
                to: r.target.clone(),
                how: how.to_string(),
            },
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

/// Due reminders whose target is not running (and is not the operator),
/// with why: (id, reason).
fn reg_due_absent(
    tx: &crate::registry::Tx,
    now: i64,
    running: &std::collections::HashMap<String, crate::registry::jobs::Job>,
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (id, target, state) in tx.due_reminder_targets(now)? {
        // Another host's job is never running here: it is sent, not typed.
        if running.contains_key(&target) || target.contains('@') {
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

/// Type a job's pending task prompt into it, with proof, exactly once
/// (see `deliver::type_item`). The caller holds the job lock.
pub fn type_prompt(ctx: &Ctx, reg: &mut Registry, job: &str, profile: &Profile) -> Result<Typed> {
    let job = reg.require_job(job)?;
    let text = job
        .prompt
        .as_deref()
        .map(crate::agent::probe::sanitize)
        .unwrap_or_default();
    if job.prompt_state.as_deref() != Some("pending") || text.trim().is_empty() {
        return Ok(Typed::NotReady("no prompt waits".into()));
    }
    let text = match prompt_header(ctx, reg, &job.name)? {
        Some(head) => format!("{head}\n{text}"),
        None => text,
    };
    let needle = crate::agent::record::needle_for(&text);
    type_item(ctx, reg, &job, profile, "prompt", &text, needle)
}

/// The header of a first prompt while there are shared docs: where they
/// are (`MAM_SHARED_DIR`) and what they hold. None without shared docs,
/// so a prompt is then typed exactly as given.
fn prompt_header(ctx: &Ctx, reg: &Registry, job: &str) -> Result<Option<String>> {
    let files = reg.shared_files()?;
    if files.is_empty() {
        return Ok(None);
    }
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    Ok(Some(crate::agent::probe::sanitize(&format!(
        "[mam] {job}: shared docs (read-only) in $MAM_SHARED_DIR = {}: {}",
        ctx.shared_dir.display(),
        names.join(", ")
    ))))
}
