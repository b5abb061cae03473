//! Messages (`m<N>`) and questions (`q<N>`). Each change is one short
//! `BEGIN IMMEDIATE` transaction with its event.

use anyhow::{Context, Result};
use rusqlite::{Row, params};
use serde::Serialize;
use serde_json::json;

use super::{Registry, Tx, event_job, now_ms, opt};
use crate::error::{conflict, not_found, usage};
use crate::model::{MessageState, QuestionState};

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: String,
    pub from: String,
    pub to: String,
    pub kind: String,
    pub body: String,
    pub in_reply_to: Option<String>,
    pub question: Option<String>,
    pub state: MessageState,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    pub read_at: Option<i64>,
    /// The proof of delivery: `record`, `screen`, `queued`, …
    pub how: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub id: String,
    pub asker: String,
    pub target: String,
    pub text: String,
    pub answer: Option<String>,
    pub state: QuestionState,
    pub message: Option<String>,
    pub created_at: i64,
}

/// What a new message needs.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub kind: &'a str,
    pub body: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub question_id: Option<i64>,
}

const MSG_COLS: &str = "id, sender, recipient, kind, body, in_reply_to, question_id, state, attempts, \
    last_error, created_at, delivered_at, read_at, how";

fn msg_row(r: &Row) -> rusqlite::Result<Message> {
    Ok(Message {
        id: format!("m{}", r.get::<_, i64>(0)?),
        from: r.get(1)?,
        to: r.get(2)?,
        kind: r.get(3)?,
        body: r.get(4)?,
        in_reply_to: r.get(5)?,
        question: r.get::<_, Option<i64>>(6)?.map(|q| format!("q{q}")),
        state: r.get(7)?,
        attempts: r.get(8)?,
        last_error: r.get(9)?,
        created_at: r.get(10)?,
        delivered_at: r.get(11)?,
        read_at: r.get(12)?,
        how: r.get(13)?,
    })
}

const Q_COLS: &str = "id, asker, target, text, answer, state, message_id, created_at";

fn q_row(r: &Row) -> rusqlite::Result<Question> {
    Ok(Question {
        id: format!("q{}", r.get::<_, i64>(0)?),
        asker: r.get(1)?,
        target: r.get(2)?,
        text: r.get(3)?,
        answer: r.get(4)?,
        state: r.get(5)?,
        message: r.get::<_, Option<i64>>(6)?.map(|m| format!("m{m}")),
        created_at: r.get(7)?,
    })
}

/// Parse `m12` / `q3` / `r7` into its letter and number.
pub fn parse_id(id: &str) -> Result<(char, i64)> {
    let mut chars = id.chars();
    let letter = chars.next().unwrap_or(' ');
    let num: Option<i64> = chars.as_str().parse().ok().filter(|n| *n > 0);
    match (letter, num) {
        ('m' | 'q' | 'r', Some(n)) => Ok((letter, n)),
        _ => Err(
            usage(format!("{id:?} is not a message, question or reminder id"))
                .hint("ids look like m12 (message), q3 (question), r7 (reminder)")
                .into(),
        ),
    }
}

/// How `insert_message` stores a message (see `Registry::prepare_message_writes`).
pub(super) const INSERT_MESSAGE: &str = "INSERT INTO messages (sender, recipient, kind, body, in_reply_to, question_id, created_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

impl Tx<'_> {
    pub fn insert_message(&self, m: &NewMessage) -> Result<i64> {
        let now = now_ms();
        self.tx
            .prepare_cached(INSERT_MESSAGE)
            .and_then(|mut s| {
                s.execute(params![
                    m.from,
                    m.to,
                    m.kind,
                    m.body,
                    m.in_reply_to,
                    m.question_id,
                    now
                ])
            })
            .context("cannot store message")?;
        let id = self.tx.last_insert_rowid();
        let mut body = json!({"id": format!("m{id}"), "from": m.from, "to": m.to, "kind": m.kind,
                              "bytes": m.body.len() as i64});
        if let Some(r) = m.in_reply_to {
            body["in_reply_to"] = json!(r);
        }
        let job = event_job(m.to, m.from);
        self.emit("message.sent", job, body)?;
        Ok(id)
    }

    pub fn mark_delivered(&self, id: &str, how: &str) -> Result<()> {
        let (_, n) = parse_id(id)?;
        let changed = self.tx.execute(
            "UPDATE messages SET state = 'delivered', delivered_at = ?2, attempts = attempts + 1, last_error = NULL, \
             how = NULLIF(?3, '') WHERE id = ?1 AND state = 'queued'",
            params![n, now_ms(), how],
        )?;
        if changed > 0 {
            let to: String =
                self.tx
                    .query_row("SELECT recipient FROM messages WHERE id = ?1", [n], |r| {
                        r.get(0)
                    })?;
            self.emit("message.delivered", &to, json!({"id": id, "how": how}))?;
        }
        Ok(())
    }

    /// Record a failed delivery attempt (`typed`: keys were sent).
    pub fn note_attempt(&self, id: &str, error: &str, typed: bool) -> Result<()> {
        let (_, n) = parse_id(id)?;
        self.tx.execute(
            "UPDATE messages SET attempts = attempts + ?3, last_error = ?2 WHERE id = ?1 AND state = 'queued'",
            params![n, error, typed as i64],
        )?;
        Ok(())
    }

    pub fn insert_question(&self, asker: &str, target: &str, text: &str) -> Result<i64> {
        self.tx.execute(
            "INSERT INTO questions (asker, target, text, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![asker, target, text, now_ms()],
        )?;
        let id = self.tx.last_insert_rowid();
        self.emit(
            "question.asked",
            event_job(target, asker),
            json!({"id": format!("q{id}"), "asker": asker, "target": target}),
        )?;
        Ok(id)
    }

    pub fn link_question_message(&self, q: i64, m: i64) -> Result<()> {
        self.tx.execute(
            "UPDATE questions SET message_id = ?2 WHERE id = ?1",
            params![q, m],
        )?;
        Ok(())
    }

    pub fn question(&self, n: i64) -> Result<Option<Question>> {
        opt(self.tx.query_row(
            &format!("SELECT {Q_COLS} FROM questions WHERE id = ?1"),
            [n],
            q_row,
        ))
    }

    /// Answer an open question as `by`; returns the question.
    pub fn answer_question(&self, n: i64, by: &str, text: &str) -> Result<Question> {
        let q = self
            .question(n)?
            .ok_or_else(|| not_found(format!("no question q{n}")))?;
        if q.state != QuestionState::Open {
            return Err(conflict(format!("q{n} is {} already", q.state)).into());
        }
        // `operator@host`: the operator of the host the question was put to
        // (its target is `job@host`), answering over the fleet.
        let host_operator = by.strip_prefix("operator@").is_some_and(|h| {
            q.target
                .rsplit_once('@')
                .is_some_and(|(_, target_host)| target_host == h)
        });
        if by != "operator" && by != q.target && !host_operator {
            return Err(
                conflict(format!("q{n} was put to {}, not to {by}", q.target))
                    .hint("only its target (or the operator) can answer it")
                    .into(),
            );
        }
        self.tx.execute(
            "UPDATE questions SET state = 'answered', answer = ?2, answered_at = ?3 WHERE id = ?1",
            params![n, text, now_ms()],
        )?;
        self.emit(
            "question.answered",
            event_job(&q.asker, &q.target),
            json!({"id": format!("q{n}"), "by": by}),
        )?;
        Ok(q)
    }

    /// Cancel a queued message, an open question (and its undelivered
    /// message), as `by` (the owner, or the operator).
    pub fn cancel(&self, id: &str, by: &str) -> Result<String> {
        let (letter, n) = parse_id(id)?;
        let (owner, state, target): (String, String, String) = match letter {
            'm' => opt(self.tx.query_row(
                "SELECT sender, state, recipient FROM messages WHERE id = ?1",
                [n],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            ))?,
            'q' => opt(self.tx.query_row(
                "SELECT asker, state, target FROM questions WHERE id = ?1",
                [n],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            ))?,
            _ => {
                self.cancel_reminder(id, by)?;
                return Ok(by.to_string());
            }
        }
        .ok_or_else(|| not_found(format!("no {id} in this workspace")))?;
        if by != "operator" && by != owner {
            return Err(conflict(format!("{id} belongs to {owner}, not to {by}"))
                .hint("only its owner (or the operator) can cancel it")
                .into());
        }
        let open = if letter == 'm' { "queued" } else { "open" };
        if state != open {
            return Err(conflict(format!(
                "{id} is {state}; only a {open} one can be cancelled"
            ))
            .into());
        }
        if letter == 'm' {
            self.tx
                .execute("UPDATE messages SET state = 'cancelled' WHERE id = ?1", [n])?;
        } else {
            self.tx.execute(
                "UPDATE questions SET state = 'cancelled' WHERE id = ?1",
                [n],
            )?;
            self.tx.execute(
                "UPDATE messages SET state = 'cancelled' WHERE question_id = ?1 AND kind = 'question' AND state = 'queued'",
                [n],
            )?;
        }
        // A message to another host is no longer sent (a copy that host
        // already has is its own).
        self.tx.execute(
            "UPDATE fleet_out SET done_at = ?3 WHERE kind = 'fleet.message' AND done_at IS NULL AND message_id IN \
             (SELECT id FROM messages WHERE (?1 = 'm' AND id = ?2) OR (?1 = 'q' AND question_id = ?2 AND kind = 'question'))",
            params![letter.to_string(), n, now_ms()],
        )?;
        let job = event_job(&target, &owner);
        self.emit("message.cancelled", job, json!({"id": id, "by": by}))?;
        Ok(owner)
    }

    /// Hand out up to `n` of `who`'s oldest unread messages and mark them read.
    pub fn take_messages(&self, who: &str, n: i64) -> Result<Vec<Message>> {
        let now = now_ms();
        let mut st = self.tx.prepare_cached(&format!(
            "UPDATE messages SET state = 'read', read_at = ?3, delivered_at = COALESCE(delivered_at, ?3) \
             WHERE id IN (SELECT id FROM messages WHERE recipient = ?1 AND state IN ('queued', 'delivered') \
             ORDER BY id LIMIT ?2) RETURNING {MSG_COLS}"
        ))?;
        let mut v: Vec<Message> = st
            .query_map(params![who, n, now], msg_row)?
            .collect::<rusqlite::Result<_>>()?;
        v.sort_by_key(|m| m.created_at);
        v.sort_by_key(|m| m.id[1..].parse::<i64>().unwrap_or(0));
        Ok(v)
    }
}

impl Registry {
    pub fn message(&self, id: &str) -> Result<Option<Message>> {
        let (_, n) = parse_id(id)?;
        opt(self.conn().query_row(
            &format!("SELECT {MSG_COLS} FROM messages WHERE id = ?1"),
            [n],
            msg_row,
        ))
    }

    /// Messages to `who`: unread only, or all.
    pub fn inbox(&self, who: &str, all: bool, limit: i64) -> Result<Vec<Message>> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {MSG_COLS} FROM messages WHERE recipient = ?1 \
             AND (?2 OR state IN ('queued', 'delivered')) ORDER BY id LIMIT ?3"
        ))?;
        Ok(st
            .query_map(params![who, all, limit], msg_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Unread messages waiting for `who` (queued or delivered, not yet read).
    pub fn unread_count(&self, who: &str) -> Result<i64> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM messages WHERE recipient = ?1 AND state IN ('queued', 'delivered')",
            [who],
            |r| r.get(0),
        )?)
    }

    /// Per recipient: (queued, unread) counts, for status.
    pub fn message_counts(&self) -> Result<std::collections::HashMap<String, (i64, i64)>> {
        let mut st = self.conn().prepare_cached(
            "SELECT recipient, sum(state = 'queued'), count(*) FROM messages \
             WHERE state IN ('queued', 'delivered') GROUP BY recipient",
        )?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?))))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Recipients with queued messages, and the oldest queued message of each.
    pub fn queued_heads(&self) -> Result<Vec<Message>> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {MSG_COLS} FROM messages WHERE id IN \
             (SELECT min(id) FROM messages WHERE state = 'queued' AND recipient != 'operator' AND instr(recipient, '@') = 0 GROUP BY recipient) \
             ORDER BY id"
        ))?;
        Ok(st
            .query_map([], msg_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    pub fn queued_count(&self, who: &str) -> Result<i64> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM messages WHERE recipient = ?1 AND state = 'queued'",
            [who],
            |r| r.get(0),
        )?)
    }

    /// Open questions involving `who` (or all, for None).
    pub fn open_questions(&self, who: Option<&str>) -> Result<Vec<Question>> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {Q_COLS} FROM questions WHERE state = 'open' AND (?1 IS NULL OR asker = ?1 OR target = ?1) ORDER BY id"
        ))?;
        Ok(st
            .query_map(params![who], q_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Queued messages to `who` (or all).
    pub fn queued_messages(&self, who: Option<&str>) -> Result<Vec<Message>> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {MSG_COLS} FROM messages WHERE state = 'queued' AND (?1 IS NULL OR recipient = ?1) ORDER BY id"
        ))?;
        Ok(st
            .query_map(params![who], msg_row)?
            .collect::<rusqlite::Result<_>>()?)
    }
}

impl Tx<'_> {
    /// Give up on a message after `max` typed attempts.
    pub fn fail_message_after(&self, id: &str, max: i64) -> Result<()> {
        let (_, n) = parse_id(id)?;
        let changed = self.tx.execute(
            "UPDATE messages SET state = 'failed' WHERE id = ?1 AND state = 'queued' AND attempts >= ?2",
            params![n, max],
        )?;
        if changed > 0 {
            let to: String =
                self.tx
                    .query_row("SELECT recipient FROM messages WHERE id = ?1", [n], |r| {
                        r.get(0)
                    })?;
            self.emit("message.failed", &to, json!({"id": id}))?;
        }
        Ok(())
    }
}

impl Registry {
    pub fn question_by_id(&self, id: &str) -> Result<Option<Question>> {
        let (_, n) = parse_id(id)?;
        opt(self.conn().query_row(
            &format!("SELECT {Q_COLS} FROM questions WHERE id = ?1"),
            [n],
            q_row,
        ))
    }
}
