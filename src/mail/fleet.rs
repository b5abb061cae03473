//! Mail between hosts. A message to `job@host` is stored here with that
//! remote recipient and, in the same transaction, a command in the fleet
//! outbox (`fleet.message`), which `events::outbox` publishes signed with
//! this host's key to the host's inbox until its receipt comes back. On the
//! target, the daemon hands what arrives on its inbox to [`receive`]: the
//! acceptance rule (`events::accept`), then the command stored once by its
//! id (a duplicate only gets its receipt again), then delivered with the
//! same proof as local mail; [`queue_receipts`] sends each outcome back.

use anyhow::Result;
use serde_json::{Value, json};

use crate::app::Ctx;
use crate::error::{not_found, usage};
use crate::events::accept::{Acceptor, Rejection};
use crate::events::mqtt::Incoming;
use crate::registry::messages::NewMessage;
use crate::registry::{Registry, now_ms};

/// `job@host` split into its job (or `operator`, or `*`: every live agent
/// there) and host; None for a bare
/// name.
pub fn split_address(to: &str) -> Option<(&str, &str)> {
    to.split_once('@')
}

/// Check a remote address: a valid job name (or `operator`) at a host this
/// one trusts. Returns the address as stored (`job@host`).
pub fn check_remote(reg: &Registry, job: &str, host: &str) -> Result<String> {
    if job != "operator" && job != "*" && !crate::app::valid_name(job)
        || !crate::app::valid_name(host)
    {
        return Err(usage(format!("invalid address {:?}", format!("{job}@{host}")))
            .hint("address a job on another host as job@host (both names: lowercase letters, digits, '-' and '_')")
            .into());
    }
    if !reg.fleet_host(host)?.is_some_and(|h| h.trusted) {
        return Err(not_found(format!("host {host:?} is not a trusted fleet host"))
            .hint(format!(
                "on {host}, `mam fleet show` prints its key; trust it here with `mam fleet trust {host} KEY`"
            ))
            .into());
    }
    Ok(format!("{job}@{host}"))
}

/// The largest text that goes to another host: commands travel as one MQTT
/// packet each (mam's limit is 1 MiB), so a longer one is refused when sent.
pub const MAX_REMOTE_TEXT: usize = 256 * 1024;

/// Refuse a text too long to go to another host.
pub fn check_remote_text(text: &str) -> Result<()> {
    if text.len() > MAX_REMOTE_TEXT {
        return Err(usage(format!(
            "message is larger than {} KiB, too large to send to another host",
            MAX_REMOTE_TEXT >> 10
        ))
        .hint("put it in a file the other host can read and send its path")
        .into());
    }
    Ok(())
}

/// This host's fleet name, for mail to `to` on another host. Such mail
/// travels over the MQTT broker, so without one configured it could never
/// leave: refused before anything is stored.
pub fn sending_host(ctx: &Ctx, to: &str) -> Result<String> {
    if ctx.config.broker.url.is_empty() {
        return Err(crate::error::environment(format!(
            "{to} is on another host, and mail between hosts travels over the MQTT broker, but none is configured"
        ))
        .hint("set [broker] url in .mam/config.toml on every host of the fleet (README, Several hosts)")
        .into());
    }
    Ok(ctx.config.fleet.host()?)
}

/// A command's id: the sending workspace, its message and a random part, so
/// a host whose registry was made anew, or restored from a backup (its
/// message ids starting over or repeating), is never taken for repeating
/// itself and has no new message dropped as a duplicate. Nothing parses it.
pub fn cmd_id(ws: &str, message: &str) -> String {
    let nonce = crate::signing::envelope::random_id();
    format!("{ws}:{message}:{}", &nonce[..12])
}

/// The command body that carries local message `id` to its remote recipient.
pub fn command_body(
    id: &str,
    from: &str,
    to_job: &str,
    kind: &str,
    body: &str,
    reply_to: Option<&str>,
) -> Value {
    json!({"cmd": id, "from": from, "to": to_job, "kind": kind, "text": body, "in_reply_to": reply_to})
}

/// What became of a command received.
enum Stored {
    /// Stored as local message (id) for its recipient.
    As(String, String),
    /// A broadcast, stored for these live agents.
    Broadcast(Vec<String>),
    /// Nothing stored: why (the failed receipt says so).
    Refused(String),
}

/// What the daemon heard on this host's inbox.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FleetHeard {
    pub topic: String,
    pub kind: Option<String>,
    pub from_host: Option<String>,
    /// `accepted` / `rejected` / `duplicate`
    pub verdict: String,
    pub detail: String,
    /// The rejection's code (`untrusted-host`, `bad-signature`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Act on one message from this host's inbox. A command is stored (once)
/// and offered to its recipient at once; a receipt settles the local
/// message it answers. Everything else is rejected with its reason.
pub fn receive(
    ctx: &Ctx,
    reg: &mut Registry,
    acc: &mut Acceptor,
    me: &str,
    msg: &Incoming,
) -> Result<Option<FleetHeard>> {
    let verdict = acc.check_fleet(
        reg,
        me,
        &msg.topic,
        &msg.payload,
        msg.retain,
        msg.dup,
        now_ms(),
    )?;
    let env = match verdict {
        Err(Rejection::Duplicate) => return Ok(None),
        Err(why) => {
            return Ok(Some(FleetHeard {
                topic: msg.topic.clone(),
                kind: None,
                from_host: None,
                verdict: "rejected".into(),
                detail: why.to_string(),
                reason: Some(why.code().into()),
            }));
        }
        Ok(env) => env,
    };
    let heard = |verdict: &str, detail: String| FleetHeard {
        topic: msg.topic.clone(),
        kind: Some(env.kind.clone()),
        from_host: Some(env.src.clone()),
        verdict: verdict.into(),
        detail,
        reason: None,
    };
    let s = |k: &str| {
        env.body
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let origin = env.src.clone();
    let cmd = s("cmd");
    match env.kind.as_str() {
        "fleet.message" => {
            let (from, to, kind, text) = (s("from"), s("to"), s("kind"), s("text"));
            if cmd.is_empty()
                || text.is_empty()
                || (from != "operator" && !crate::app::valid_name(&from))
            {
                return Ok(Some(heard(
                    "rejected",
                    "a command without cmd or text, or from no valid name".into(),
                )));
            }
            let question = s("question");
            if to != "operator" && to != "*" && !crate::app::valid_name(&to) {
                return Ok(Some(heard(
                    "rejected",
                    "a command to no valid recipient name".into(),
                )));
            }
            let local = to == "operator" || reg.job(&to)?.is_some();
            // A broadcast goes to every agent live here when it arrives.
            let live: Vec<String> = if to == "*" {
                reg.jobs()?
                    .into_iter()
                    .filter(|j| j.is_running())
                    .map(|j| j.name)
                    .collect()
            } else {
                Vec::new()
            };
            let stored = reg.write(|t| {
                if t.fleet_seen_before(&origin, &cmd)? {
                    return Ok(None);
                }
                // A reason goes back in a receipt: bounded, whatever the
                // peer sent (it may quote a recipient of any length).
                let refuse = |why: String| -> Result<Option<Stored>> {
                    let why = super::summarize(&why, 200);
                    t.fleet_received(&origin, &cmd, None, None, Some(&why))?;
                    Ok(Some(Stored::Refused(why)))
                };
                if to == "*" {
                    if kind != "broadcast" || live.is_empty() {
                        return refuse(format!("no live agent on host {me} to broadcast to"));
                    }
                    let sender = format!("{from}@{origin}");
                    let text = crate::agent::probe::sanitize(&text);
                    for job in &live {
                        t.insert_message(&NewMessage {
                            from: &sender,
                            to: job,
                            kind: "broadcast",
                            body: &text,
                            in_reply_to: None,
                            question_id: None,
                        })?;
                    }
                    // Arrived: its receipt says delivered (each copy is then
                    // delivered here as local mail).
                    t.fleet_received(&origin, &cmd, None, None, None)?;
                    return Ok(Some(Stored::Broadcast(live.clone())));
                }
                if !local && kind != "answer" {
                    return refuse(format!("no job named {to:?} on host {me}"));
                }
                let sender = format!("{from}@{origin}");
                let text = crate::agent::probe::sanitize(&text);
                let (id, recipient, q) = match kind.as_str() {
                    "question" => {
                        if question.is_empty() {
                            return refuse("a question without its id".into());
                        }
                        let q = t.insert_question(&sender, &to, &text)?;
                        let id = t.insert_message(&NewMessage {
                            from: &sender,
                            to: &to,
                            kind: "question",
                            body: &format!("question q{q}: {text}"),
                            in_reply_to: None,
                            question_id: Some(q),
                        })?;
                        t.link_question_message(q, id)?;
                        (id, to.clone(), Some(question.as_str()))
                    }
                    "answer" => {
                        // Only the job and host it was put to may answer a
                        // question (its target is `job@host`).
                        let Ok(n) = super::question_number(&question) else {
                            return refuse(format!("no question {question:?} here"));
                        };
                        let q = match t.answer_question(n, &sender, &text) {
                            Ok(q) => q,
                            Err(e) => return refuse(format!("{e:#}")),
                        };
                        let id = t.insert_message(&NewMessage {
                            from: &sender,
                            to: &q.asker,
                            kind: "answer",
                            body: &format!(
                                "answer to q{n} ({}): {text}",
                                super::summarize(&q.text, 60)
                            ),
                            in_reply_to: Some(&question),
                            question_id: Some(n),
                        })?;
                        (id, q.asker, None)
                    }
                    k => {
                        let kind = if k == "broadcast" {
                            "broadcast"
                        } else {
                            "message"
                        };
                        let id = t.insert_message(&NewMessage {
                            from: &sender,
                            to: &to,
                            kind,
                            body: &text,
                            in_reply_to: None,
                            question_id: None,
                        })?;
                        (id, to.clone(), None)
                    }
                };
                t.fleet_received(&origin, &cmd, Some(id), q, None)?;
                Ok(Some(Stored::As(format!("m{id}"), recipient)))
            })?;
            match stored {
                None => Ok(Some(heard(
                    "duplicate",
                    format!("{origin}'s {cmd} was received before: its receipt goes again"),
                ))),
                Some(Stored::Refused(why)) => Ok(Some(heard(
                    "accepted",
                    format!("{origin}'s {cmd} refused: {why}"),
                ))),
                Some(Stored::Broadcast(jobs)) => {
                    for job in &jobs {
                        super::deliver::deliver_next(ctx, reg, job)?;
                    }
                    Ok(Some(heard(
                        "accepted",
                        format!("{origin}'s {cmd} broadcast to {}", jobs.join(", ")),
                    )))
                }
                Some(Stored::As(id, recipient)) => {
                    if reg.job(&recipient)?.is_some_and(|j| j.is_running()) {
                        super::deliver::deliver_next(ctx, reg, &recipient)?;
                    }
                    Ok(Some(heard(
                        "accepted",
                        format!("{origin}'s {cmd} stored as {id} for {recipient}"),
                    )))
                }
            }
        }
        "fleet.receipt" => {
            let delivered = s("state") == "delivered";
            let settled =
                reg.write(|t| t.fleet_receipt(&origin, &cmd, delivered, &s("how"), &s("error")))?;
            Ok(Some(heard(
                "accepted",
                match settled {
                    Some(id) => format!("receipt for {id}: {}", s("state")),
                    None => format!("receipt for {cmd}: settled before"),
                },
            )))
        }
        crate::mail::fleet_state::STATE => Ok(Some(
            match crate::mail::fleet_state::received(
                reg,
                &origin,
                &env.body,
                now_ms(),
                ctx.config.replay_window(),
            )? {
                Ok(detail) => heard("accepted", detail),
                Err(why) => heard("rejected", why),
            },
        )),
        crate::mail::fleet_state::REQUEST => {
            crate::mail::fleet_state::queue_snapshot(
                reg,
                me,
                std::slice::from_ref(&origin),
                ctx.config.fleet_heartbeat(),
                now_ms(),
            )?;
            Ok(Some(heard(
                "accepted",
                format!("{origin} asked for this host's state: it goes"),
            )))
        }
        other => Ok(Some(heard(
            "rejected",
            format!("unknown fleet kind {other:?}"),
        ))),
    }
}

/// Queue a receipt for every received command whose outcome is known.
/// Returns how many were queued.
pub fn queue_receipts(reg: &mut Registry, me: &str) -> Result<usize> {
    if !reg.fleet_receipts_pending()? {
        return Ok(0);
    }
    reg.write(|t| {
        let due = t.receipts_due()?;
        for r in &due {
            let body = json!({"cmd": r.cmd, "state": r.state, "how": r.how, "error": r.error, "message": r.message});
            t.queue_fleet(&r.origin, me, "fleet.receipt", &r.cmd, "-", &body, None, false)?;
        }
        Ok(due.len())
    })
}
