//! Mail: messages, questions and answers between agents and the operator,
//! each stored in one transaction with its events, then offered at once to
//! recipients that are running (`deliver` types them with proof, or they
//! wait in the queue for the next pass).

pub mod deliver;
pub mod fleet;
pub mod fleet_state;
pub mod remind;

use anyhow::Result;

use crate::agent::probe::sanitize;
use crate::app::{Ctx, check_name};
use crate::error::{UserError, not_found, usage};
use crate::registry::messages::{NewMessage, parse_id};
use crate::registry::{Registry, Tx};
use deliver::Attempt;

/// Bodies larger than this are refused outright (they go to attachments up to it).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// A message or question body as it is stored: at most `MAX_BODY`, control
/// characters sanitized, not empty.
pub fn check_body(raw: &str) -> Result<String> {
    clean_body(raw, "give the text as arguments, '-' for stdin, or --file")
}

/// What storing (and trying to deliver) mail did: the message ids with their
/// recipients, and the delivery attempts made at once.
#[derive(Debug, Default)]
pub struct Sent {
    pub ids: Vec<(String, String)>,
    pub attempts: Vec<Attempt>,
}

impl Sent {
    /// Whether message `id` was delivered at once.
    pub fn delivered(&self, id: &str) -> bool {
        self.attempts
            .iter()
            .any(|a| matches!(a, Attempt::Delivered { id: d, .. } if d == id))
    }
}

/// Send `body` from `from` to `to` (a job, `operator`, or `*`: every live
/// agent but the sender). Nobody to broadcast to stores nothing.
pub fn send(
    ctx: &Ctx,
    reg: &mut Registry,
    from: &str,
    to: &str,
    body: &str,
    reply_to: Option<&str>,
) -> Result<Sent> {
    let item = Outgoing {
        to: to.to_string(),
        text: body.to_string(),
        reply_to: reply_to.map(str::to_string),
    };
    let mut sent = send_batch(ctx, reg, from, std::slice::from_ref(&item), |_| None)?;
    Ok(sent.remove(0))
}

/// One message of a batch: its recipient (as for [`send`]), its text (as
/// given: [`send_batch`] cleans it) and the message or question it answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outgoing {
    pub to: String,
    pub text: String,
    #[serde(default)]
    pub reply_to: Option<String>,
}

/// Send many messages from `from`: every item is checked first (an item
/// that names no job, answers no message, or whose text [`clean_body`]
/// refuses stores nothing at all), then
/// all are stored in one transaction with their events, then each running
/// recipient is offered its mail as a single send would. Returns what each
/// item sent, in order. `label(i)` names item `i` in an error about it
/// (`Some("line 3")`); `None` leaves the message as for a single send.
pub fn send_batch(
    ctx: &Ctx,
    reg: &mut Registry,
    from: &str,
    items: &[Outgoing],
    label: impl Fn(usize) -> Option<String>,
) -> Result<Vec<Sent>> {
    let mut plans: Vec<Vec<String>> = Vec::with_capacity(items.len());
    let mut texts = Vec::with_capacity(items.len());
    // Recipients resolved once per distinct `to` (a batch often has one).
    let mut resolved: std::collections::HashMap<&str, Vec<String>> = Default::default();
    if items.is_empty() {
        return Ok(Vec::new());
    }
    // A single send's messages name its flags; a batch's, its fields.
    let batch = label(0).is_some();
    for (i, item) in items.iter().enumerate() {
        let plan = clean_body(&item.text, EMPTY_ITEM).and_then(|text| {
            texts.push(text);
            let field = if batch { "reply_to" } else { "--reply-to" };
            check_reply_to(reg, item.reply_to.as_deref(), field)?;
            if let Some(r) = resolved.get(item.to.as_str()) {
                return Ok(r.clone());
            }
            let r = recipients(ctx, reg, &item.to, from)?;
            resolved.insert(&item.to, r.clone());
            Ok(r)
        });
        match (plan, label(i)) {
            (Ok(r), _) => plans.push(r),
            (Err(e), None) => return Err(e),
            (Err(e), Some(what)) => return Err(in_item(e, &what)),
        }
    }
    // What is too big for another host is refused before the broker is
    // looked for: the text is the user's to change.
    for (text, plan) in texts.iter().zip(&plans) {
        if plan.iter().any(|r| r.contains('@')) {
            fleet::check_remote_text(text)?;
        }
    }
    // This host's fleet name, needed only when some recipient is remote.
    let me = match plans.iter().flatten().find(|r| r.contains('@')) {
        Some(remote) => Some(fleet::sending_host(ctx, remote)?),
        None => None,
    };
    let ids: Vec<Vec<(String, String)>> = if plans.iter().all(Vec::is_empty) {
        vec![Vec::new(); items.len()]
    } else {
        reg.prepare_message_writes()?;
        reg.write(|tx| {
            items
                .iter()
                .zip(&texts)
                .zip(&plans)
                .map(|((item, text), recipients)| {
                    store(tx, from, item, text, recipients, me.as_deref())
                })
                .collect()
        })?
    };
    // After the commit: one offer per message stored, per recipient, in
    // order, as single sends one after another would make.
    let mut order: Vec<(&str, usize)> = Vec::new();
    for r in plans.iter().flatten() {
        match order.iter_mut().find(|(n, _)| n == r) {
            Some((_, k)) => *k += 1,
            None => order.push((r, 1)),
        }
    }
    let attempts = deliver_now(ctx, reg, &order)?;
    Ok(ids
        .into_iter()
        .map(|ids| {
            let attempts = attempts
                .iter()
                .filter(|a| ids.iter().any(|(id, _)| attempt_id(a) == id))
                .cloned()
                .collect();
            Sent { ids, attempts }
        })
        .collect())
}

/// Store one item for its resolved recipients; returns (id, recipient).
fn store(
    tx: &Tx,
    from: &str,
    item: &Outgoing,
    text: &str,
    recipients: &[String],
    me: Option<&str>,
) -> Result<Vec<(String, String)>> {
    let kind = if item.to == "*" || item.to.starts_with("*@") {
        "broadcast"
    } else {
        "message"
    };
    recipients
        .iter()
        .map(|r| {
            let id = tx.insert_message(&NewMessage {
                from,
                to: r,
                kind,
                body: text,
                in_reply_to: item.reply_to.as_deref(),
                question_id: None,
            })?;
            let mid = format!("m{id}");
            // A remote recipient: its command goes in the fleet outbox, in
            // this transaction.
            if let (Some((job, host)), Some(me)) = (fleet::split_address(r), me) {
                let cmd = fleet::cmd_id(tx.ws(), &mid);
                let body =
                    fleet::command_body(&cmd, from, job, kind, text, item.reply_to.as_deref());
                tx.queue_fleet(host, me, "fleet.message", &cmd, job, &body, Some(id), true)?;
            }
            Ok((mid, r.clone()))
        })
        .collect()
}

/// An item's error, named: a usage error (exit 2) whose message starts with
/// `what`, keeping the hint.
fn in_item(e: anyhow::Error, what: &str) -> anyhow::Error {
    match e.downcast::<UserError>() {
        Ok(u) => {
            let mut out = usage(format!("{what}: {}", u.message));
            out.hint = u.hint;
            out.into()
        }
        Err(e) => e.context(what.to_string()),
    }
}

fn attempt_id(a: &Attempt) -> &str {
    match a {
        Attempt::Delivered { id, .. } | Attempt::Waiting { id, .. } => id,
    }
}

/// The hint for a batch item whose text is blank.
const EMPTY_ITEM: &str = "give every message a text that is not blank";

/// A message text as it is stored: sanitised (no control characters, no
/// trailing newlines), at most [`MAX_BODY`] bytes, not blank (else an
/// error with `empty_hint`).
pub fn clean_body(raw: &str, empty_hint: &str) -> Result<String> {
    if raw.len() > MAX_BODY {
        return Err(
            usage(format!("message is larger than {} MiB", MAX_BODY >> 20))
                .hint("send a path to the file instead")
                .into(),
        );
    }
    let body = sanitize(raw);
    if body.trim().is_empty() {
        return Err(usage("empty message").hint(empty_hint).into());
    }
    Ok(body)
}

/// Ask `to` a question: a question `q<N>` and the message that carries it,
/// in one transaction. Returns the question id beside what was sent.
pub fn ask(
    ctx: &Ctx,
    reg: &mut Registry,
    from: &str,
    to: &str,
    text: &str,
) -> Result<(String, Sent)> {
    if to == "*" || to.starts_with("*@") {
        return Err(usage(format!("a question goes to one recipient, not `{to}`")).into());
    }
    let to = recipients(ctx, reg, to, from)?.remove(0);
    let me = if to.contains('@') {
        fleet::check_remote_text(text)?;
        Some(fleet::sending_host(ctx, &to)?)
    } else {
        None
    };
    let (qid, mid) = reg.write(|tx| {
        let q = tx.insert_question(from, &to, text)?;
        let m = tx.insert_message(&NewMessage {
            from,
            to: &to,
            kind: "question",
            body: &format!("question q{q}: {text}"),
            in_reply_to: None,
            question_id: Some(q),
        })?;
        tx.link_question_message(q, m)?;
        // To another host: the question goes as a command; its answer comes
        // back naming this question.
        if let (Some((job, host)), Some(me)) = (fleet::split_address(&to), me.as_deref()) {
            let cmd = fleet::cmd_id(tx.ws(), &format!("m{m}"));
            let mut body = fleet::command_body(&cmd, from, job, "question", text, None);
            body["question"] = serde_json::json!(format!("q{q}"));
            tx.queue_fleet(host, me, "fleet.message", &cmd, job, &body, Some(m), true)?;
        }
        Ok((format!("q{q}"), format!("m{m}")))
    })?;
    let attempts = deliver_now(ctx, reg, &[(&to, 1)])?;
    Ok((
        qid,
        Sent {
            ids: vec![(mid, to)],
            attempts,
        },
    ))
}

/// The number of question id `qid` (`q<N>`); anything else is a usage error.
pub fn question_number(qid: &str) -> Result<i64> {
    match parse_id(qid)? {
        ('q', n) => Ok(n),
        _ => Err(usage(format!("{qid} is not a question id (q<N>)")).into()),
    }
}

/// Answer question `qid` as `by`: the question is closed and the answer
/// goes to its asker, in one transaction.
pub fn answer(ctx: &Ctx, reg: &mut Registry, by: &str, qid: &str, text: &str) -> Result<Sent> {
    let n = question_number(qid)?;
    // This host's fleet name, for an answer to a question from another host.
    let me = match reg.question_by_id(qid)? {
        Some(q) if q.asker.contains('@') => Some(fleet::sending_host(ctx, &q.asker)?),
        _ => None,
    };
    let (asker, mid) = reg.write(|tx| {
        let q = tx.answer_question(n, by, text)?;
        let m = tx.insert_message(&NewMessage {
            from: by,
            to: &q.asker,
            kind: "answer",
            body: &format!("answer to q{n} ({}): {text}", summarize(&q.text, 60)),
            in_reply_to: Some(qid),
            question_id: Some(n),
        })?;
        // A question from another host: the answer goes back to it, naming
        // the question there.
        if let (Some((job, _)), Some(me)) = (fleet::split_address(&q.asker), me.as_deref()) {
            let origin = match &q.message {
                Some(qm) => tx.fleet_question_origin(parse_id(qm)?.1)?,
                None => None,
            };
            if let Some((host, remote_q)) = origin {
                fleet::check_remote_text(text)?;
                let cmd = fleet::cmd_id(tx.ws(), &format!("m{m}"));
                let mut body = fleet::command_body(&cmd, by, job, "answer", text, None);
                body["question"] = serde_json::json!(remote_q);
                tx.queue_fleet(&host, me, "fleet.message", &cmd, job, &body, Some(m), true)?;
            }
        }
        Ok((q.asker, format!("m{m}")))
    })?;
    let attempts = deliver_now(ctx, reg, &[(&asker, 1)])?;
    Ok(Sent {
        ids: vec![(mid, asker)],
        attempts,
    })
}

/// Resolve a recipient: a job, `operator`, or `*` (every live agent but the
/// sender); or `job@host` (`operator@host`): on this host the job itself,
/// else that remote address, at a trusted host.
fn recipients(ctx: &Ctx, reg: &Registry, to: &str, from: &str) -> Result<Vec<String>> {
    if let Some((job, host)) = fleet::split_address(to) {
        if host == ctx.config.fleet.host()? {
            return recipients(ctx, reg, job, from);
        }
        return Ok(vec![fleet::check_remote(reg, job, host)?]);
    }
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
            if !reg.job_exists(name)? {
                return Err(not_found(format!("no job named {name:?} to send to"))
                    .hint("see `mam status --all`; `*` sends to every live agent, `operator` to the human")
                    .into());
            }
            Ok(vec![name.to_string()])
        }
    }
}

fn check_reply_to(reg: &Registry, id: Option<&str>, field: &str) -> Result<()> {
    let Some(id) = id else { return Ok(()) };
    let (letter, _) = parse_id(id)?;
    let exists = match letter {
        'm' => reg.message(id)?.is_some(),
        'q' => reg.question_by_id(id)?.is_some(),
        _ => false,
    };
    if !exists {
        return Err(not_found(format!("{field} {id}: no such message or question")).into());
    }
    Ok(())
}

/// Try an immediate delivery to each running recipient: up to `n` of its
/// queued messages, oldest first, stopping at the first that waits.
fn deliver_now(ctx: &Ctx, reg: &mut Registry, to: &[(&str, usize)]) -> Result<Vec<Attempt>> {
    let mut out = Vec::new();
    for &(name, n) in to {
        if !reg.job_running(name)? {
            continue;
        }
        for _ in 0..n {
            match deliver::deliver_next(ctx, reg, name)? {
                Some(a @ Attempt::Delivered { .. }) => out.push(a),
                Some(a) => {
                    out.push(a);
                    break;
                }
                None => break,
            }
        }
    }
    Ok(out)
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

/// What one take (or peek) of an inbox found: the messages, oldest first,
/// and how many unread ones are left behind them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Batch {
    pub messages: Vec<crate::registry::messages::Message>,
    pub remaining: i64,
}

/// Check whom an inbox belongs to: `operator`, or a job of this workspace.
pub fn check_inbox_owner(reg: &Registry, who: &str) -> Result<()> {
    // Messages sent to a job on another host are listed under its address.
    if let Some((job, host)) = fleet::split_address(who) {
        return fleet::check_remote(reg, job, host).map(|_| ());
    }
    if who != "operator" {
        check_name(who)?;
        if reg.job(who)?.is_none() {
            return Err(crate::registry::jobs::unknown_job(who));
        }
    }
    Ok(())
}

/// Take up to `max` of `who`'s oldest unread messages, marking them read
/// (`peek`: leave them unread), with the count still waiting after them.
pub fn take(reg: &mut Registry, who: &str, max: u32, peek: bool) -> Result<Batch> {
    if max == 0 {
        return Err(usage("--batch must be at least 1").into());
    }
    let batch = i64::from(max);
    let messages = if peek {
        reg.inbox(who, false, batch)?
    } else {
        reg.write(|tx| tx.take_messages(who, batch))?
    };
    let left = reg.unread_count(who)? - if peek { messages.len() as i64 } else { 0 };
    Ok(Batch {
        messages,
        remaining: left.max(0),
    })
}

/// One open thread: a question someone asked (`role` asker) or owes an
/// answer to (`role` target), or a message still queued for its recipient
/// (`role` inbox). `name` is whose thread it is.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Thread {
    pub id: String,
    /// `question` or `message`.
    pub kind: &'static str,
    pub name: String,
    pub role: &'static str,
    pub counterparty: String,
    pub summary: String,
    pub age_ms: i64,
}

/// The open threads of `who` (`None`: the whole workspace, both sides of
/// every question): open questions first, then queued messages.
pub fn threads(reg: &Registry, who: Option<&str>, now: i64) -> Result<Vec<Thread>> {
    let mut out = Vec::new();
    for q in reg.open_questions(who)? {
        let entry = |role: &'static str, with: &str, name: &str| Thread {
            id: q.id.clone(),
            kind: "question",
            name: name.to_string(),
            role,
            counterparty: with.to_string(),
            summary: summarize(&q.text, 60),
            age_ms: now - q.created_at,
        };
        match who {
            Some(w) if w == q.asker => out.push(entry("asker", &q.target, w)),
            Some(w) => {
                if w == q.target {
                    out.push(entry("target", &q.asker, w));
                }
            }
            None => {
                out.push(entry("asker", &q.target, &q.asker));
                out.push(entry("target", &q.asker, &q.target));
            }
        }
    }
    for m in reg.queued_messages(who)? {
        if m.kind == "question" {
            continue; // shown as its question
        }
        out.push(Thread {
            summary: summarize(&m.body, 60),
            age_ms: now - m.created_at,
            id: m.id,
            kind: "message",
            name: m.to,
            role: "inbox",
            counterparty: m.from,
        });
    }
    Ok(out)
}
