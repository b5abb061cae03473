//! Mail: messages, questions and answers between agents and the operator,
//! each stored in one transaction with its events, then offered at once to
//! recipients that are running (`deliver` types them with proof, or they
//! wait in the queue for the next pass).

pub mod deliver;
pub mod remind;

use anyhow::Result;

use crate::app::{Ctx, check_name};
use crate::error::{not_found, usage};
use crate::registry::Registry;
use crate::registry::messages::{NewMessage, parse_id};
use deliver::Attempt;

/// Bodies larger than this are refused outright (they go to attachments up to it).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// A message or question body as it is stored: at most `MAX_BODY`, control
/// characters sanitized, not empty.
pub fn check_body(raw: &str) -> Result<String> {
    if raw.len() > MAX_BODY {
        return Err(
            usage(format!("message is larger than {} MiB", MAX_BODY >> 20))
                .hint("send a path to the file instead")
                .into(),
        );
    }
    let body = crate::agent::probe::sanitize(raw);
    if body.trim().is_empty() {
        return Err(usage("empty message")
            .hint("give the text as arguments, '-' for stdin, or --file")
            .into());
    }
    Ok(body)
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
    check_reply_to(reg, reply_to)?;
    let recipients = recipients(reg, to, from)?;
    if recipients.is_empty() {
        return Ok(Sent::default());
    }
    let kind = if to == "*" { "broadcast" } else { "message" };
    let ids: Vec<(String, String)> = reg.write(|tx| {
        recipients
            .iter()
            .map(|r| {
                let id = tx.insert_message(&NewMessage {
                    from,
                    to: r,
                    kind,
                    body,
                    in_reply_to: reply_to,
                    question_id: None,
                })?;
                Ok((format!("m{id}"), r.clone()))
            })
            .collect()
    })?;
    let attempts = deliver_now(ctx, reg, &recipients)?;
    Ok(Sent { ids, attempts })
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
    if to == "*" {
        return Err(usage("a question goes to one recipient, not `*`").into());
    }
    let to = recipients(reg, to, from)?.remove(0);
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
        Ok((format!("q{q}"), format!("m{m}")))
    })?;
    let attempts = deliver_now(ctx, reg, std::slice::from_ref(&to))?;
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
        Ok((q.asker, format!("m{m}")))
    })?;
    let attempts = deliver_now(ctx, reg, std::slice::from_ref(&asker))?;
    Ok(Sent {
        ids: vec![(mid, asker)],
        attempts,
    })
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
