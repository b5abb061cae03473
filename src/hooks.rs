//! Hooks (`[[hooks]]` in config): a command run once for each event of the
//! kinds it names, with the event's envelope on stdin and `MAM_EVENT_KIND`,
//! `MAM_JOB`, `MAM_SUMMARY` (and `MAM_EVENT_SEQ`) in its environment. This is
//! the only place a hook's process is started.
//!
//! `reconcile` drives them: [`Runner::start_due`] claims, in the registry's
//! transaction that moves the hook cursor, each (event, hook) before the
//! hook starts, so two scanners or a restart never run one twice (a runner
//! that dies mid-run leaves its claim unfinished: the hook is not run again,
//! and `doctor` reports it as interrupted). [`Runner::poll`] settles the
//! hooks that ended or ran out of time (killed, with their process group),
//! and records each outcome; nothing a hook does stops the caller.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use crate::config::HookConfig;
use crate::registry::Registry;
use crate::registry::events::StoredEvent;
use crate::registry::hooks::{Claim, HookRunRow};

/// How a hook run ended, as reported (and recorded).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HookRun {
    pub seq: i64,
    /// The kind it ran on (`job.waiting` for a `job.state` into waiting).
    pub kind: String,
    pub job: String,
    /// The command, as a shell would quote it.
    pub hook: String,
    /// `ok`, `failed` or `timeout`.
    pub outcome: String,
    pub detail: String,
}

impl HookRun {
    pub fn line(&self) -> String {
        let tail = if self.detail.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.detail)
        };
        format!(
            "hook {} on {} for {}: {}{tail}",
            self.hook, self.kind, self.job, self.outcome
        )
    }
}

/// How many events one scan looks at.
const SCAN: i64 = 1000;
/// How much of a hook's stderr is kept in its record.
const STDERR_KEEP: usize = 400;

/// The `job.<state>` kind a `job.state` event stands for, when that state is
/// not an event kind of its own (`job.done`/`job.failed` are).
fn state_kind(kind: &str, body: &Value) -> Option<String> {
    if kind != "job.state" {
        return None;
    }
    let to = body.get("to")?.as_str()?;
    let k = format!("job.{to}");
    (!crate::config::EVENT_KINDS.contains(&k.as_str())).then_some(k)
}

/// The recipient an event is addressed to, if it has one.
fn recipient(body: &Value) -> Option<&str> {
    body.get("to")
        .or_else(|| body.get("target"))
        .and_then(Value::as_str)
}

/// The kind `hook` runs on for this event (None: it does not).
pub fn matched_kind(hook: &HookConfig, kind: &str, body: &Value) -> Option<String> {
    let k = match state_kind(kind, body) {
        Some(s) if hook.on.contains(&s) => s,
        _ if hook.on.iter().any(|o| o == kind) => kind.to_string(),
        _ => return None,
    };
    if let Some(to) = &hook.to
        && recipient(body) != Some(to.as_str())
    {
        return None;
    }
    Some(k)
}

/// One line saying what happened, for `MAM_SUMMARY`.
pub fn summary(kind: &str, job: &str, body: &Value) -> String {
    let s = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("?");
    match kind {
        "job.state" => {
            let mut t = format!("{job} is {}", s("to"));
            if let Some(r) = body.get("reason").and_then(Value::as_str) {
                t.push_str(&format!(": {r}"));
            }
            t
        }
        "question.asked" => format!("{} asks {} ({})", s("asker"), s("target"), s("id")),
        "question.answered" => format!("{} answered by {}", s("id"), s("by")),
        "message.sent" => format!("{} from {} to {}", s("id"), s("from"), s("to")),
        "message.failed" => format!("{} to {job} failed", s("id")),
        "reminder.failed" => format!("reminder {} for {job} failed: {}", s("id"), s("error")),
        "job.done" | "job.failed" => {
            let mut t = format!("{job} reported {}", &kind[4..]);
            if let Some(r) = body.get("summary").and_then(Value::as_str) {
                t.push_str(&format!(": {r}"));
            }
            t
        }
        "job.stuck" => format!("{job} shows no activity"),
        _ => format!("{kind} for {job}"),
    }
}

fn shown(run: &[String]) -> String {
    shlex::try_join(run.iter().map(String::as_str)).unwrap_or_else(|_| run.join(" "))
}

struct Running {
    seq: i64,
    identity: String,
    kind: String,
    job: String,
    hook: String,
    timeout: Duration,
    deadline: Instant,
    child: Child,
    stderr: Receiver<String>,
}

/// The hooks started and not yet settled.
#[derive(Default)]
pub struct Runner {
    running: Vec<Running>,
}

impl Runner {
    pub fn new() -> Runner {
        Runner::default()
    }

    /// Whether any hook is still running.
    pub fn busy(&self) -> bool {
        !self.running.is_empty()
    }

    /// Claim the hooks due for the events written since the last scan and
    /// start them in `dir`. The cursor moves even with no hooks configured,
    /// so a hook added later runs on what happens from then on. A hook that
    /// cannot start is recorded as failed and returned.
    pub fn start_due(
        &mut self,
        hooks: &[HookConfig],
        reg: &mut Registry,
        dir: &Path,
        scratch: &Path,
    ) -> Result<Vec<HookRun>> {
        let mut ended = Vec::new();
        loop {
            if reg.last_event_seq()? <= reg.hooks_cursor()? {
                return Ok(ended);
            }
            let claims = reg.claim_hook_runs(SCAN, |ev| {
                let body = body_of(ev);
                hooks
                    .iter()
                    .filter(|h| matched_kind(h, &ev.kind, &body).is_some())
                    .map(|h| (h.identity(), h.timeout().as_millis() as i64))
                    .collect()
            })?;
            for c in claims {
                let Some(h) = hooks.iter().find(|h| h.identity() == c.hook) else {
                    continue;
                };
                if let Some(failed) = self.start(h, &c, dir, scratch) {
                    reg.finish_hook_run(failed.seq, &c.hook, &failed.outcome, &failed.detail)?;
                    ended.push(failed);
                }
            }
        }
    }

    /// Start one claimed run; Some(outcome) when it could not start.
    fn start(&mut self, h: &HookConfig, c: &Claim, dir: &Path, scratch: &Path) -> Option<HookRun> {
        let body = body_of(&c.event);
        let kind = matched_kind(h, &c.event.kind, &body).unwrap_or_else(|| c.event.kind.clone());
        let hook = shown(&h.run);
        let fail = |kind: String, detail: String| HookRun {
            seq: c.event.seq,
            kind,
            job: c.event.job.clone(),
            hook: shown(&h.run),
            outcome: "failed".into(),
            detail,
        };
        // stdin is a file holding the envelope (unlinked once open), not a
        // pipe: a hook that exits without reading it cannot SIGPIPE mam.
        let input = match stdin_file(scratch, c.event.seq, &c.event.envelope) {
            Ok(f) => f,
            Err(e) => return Some(fail(kind, format!("cannot write its input: {e}"))),
        };
        let mut cmd = Command::new(&h.run[0]);
        cmd.args(&h.run[1..])
            .current_dir(dir)
            .env("MAM_EVENT_KIND", &kind)
            .env("MAM_EVENT_SEQ", c.event.seq.to_string())
            .env("MAM_JOB", &c.event.job)
            .env("MAM_SUMMARY", summary(&c.event.kind, &c.event.job, &body))
            .stdin(Stdio::from(input))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        crate::os::own_process_group(&mut cmd);
        let mut child = match cmd.spawn() {
            Ok(ch) => ch,
            Err(e) => {
                return Some(HookRun {
                    seq: c.event.seq,
                    kind,
                    job: c.event.job.clone(),
                    hook,
                    outcome: "failed".into(),
                    detail: format!("cannot run {:?}: {e}", h.run[0]),
                });
            }
        };
        let (tx, rx) = channel();
        if let Some(mut err) = child.stderr.take() {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = err.read_to_end(&mut buf);
                let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
            });
        }
        let timeout = h.timeout();
        self.running.push(Running {
            seq: c.event.seq,
            identity: c.hook.clone(),
            kind,
            job: c.event.job.clone(),
            hook,
            timeout,
            deadline: Instant::now() + timeout,
            child,
            stderr: rx,
        });
        None
    }

    /// Settle the hooks that ended or ran out of time (those are killed with
    /// their process group), record each, and return them.
    pub fn poll(&mut self, reg: &mut Registry) -> Result<Vec<HookRun>> {
        let mut ended = Vec::new();
        let mut still = Vec::new();
        for mut r in std::mem::take(&mut self.running) {
            let status = match r.child.try_wait() {
                Ok(s) => s,
                Err(e) => {
                    ended.push(settle(&r, "failed", format!("cannot wait for it: {e}")));
                    continue;
                }
            };
            match status {
                Some(st) => {
                    let err = stderr_tail(&r.stderr);
                    let run = if st.success() {
                        settle(&r, "ok", String::new())
                    } else {
                        let how = match st.code() {
                            Some(c) => format!("exit status {c}"),
                            None => "ended by a signal".into(),
                        };
                        settle(&r, "failed", join(how, &err))
                    };
                    // Whatever it left behind in its group goes with it.
                    crate::os::kill_group(r.child.id());
                    ended.push(run);
                }
                None if Instant::now() >= r.deadline => {
                    crate::os::kill_group(r.child.id());
                    let _ = r.child.kill();
                    let _ = r.child.wait();
                    let err = stderr_tail(&r.stderr);
                    let how = format!(
                        "timed out after {}; killed",
                        crate::duration::show(r.timeout)
                    );
                    ended.push(settle(&r, "timeout", join(how, &err)));
                }
                None => still.push(r),
            }
        }
        self.running = still;
        let mut out = Vec::new();
        for (run, identity) in ended {
            reg.finish_hook_run(run.seq, &identity, &run.outcome, &run.detail)?;
            out.push(run);
        }
        Ok(out)
    }

    /// Wait for every running hook to end or time out (`reconcile --once`,
    /// and a daemon that is stopping).
    pub fn finish(&mut self, reg: &mut Registry) -> Result<Vec<HookRun>> {
        let mut out = Vec::new();
        while self.busy() {
            out.extend(self.poll(reg)?);
            if self.busy() {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Ok(out)
    }
}

fn stdin_file(scratch: &Path, seq: i64, envelope: &str) -> std::io::Result<std::fs::File> {
    let path = scratch.join(format!(".hook-{}-{seq}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut f = crate::os::create_private_file(&path)?;
    f.write_all(envelope.as_bytes())?;
    f.write_all(b"\n")?;
    drop(f);
    let r = std::fs::File::open(&path);
    let _ = std::fs::remove_file(&path);
    r
}

fn body_of(ev: &StoredEvent) -> Value {
    serde_json::from_str::<Value>(&ev.envelope)
        .ok()
        .and_then(|v| v.get("body").cloned())
        .unwrap_or(Value::Null)
}

fn stderr_tail(rx: &Receiver<String>) -> String {
    // The reader ends when the pipe closes; a grandchild that kept it open
    // was killed with the group, so this is short.
    let text = rx
        .recv_timeout(Duration::from_millis(200))
        .unwrap_or_default();
    let text = text.trim();
    let mut start = text.len().saturating_sub(STDERR_KEEP);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].replace('\n', " / ")
}

fn join(how: String, err: &str) -> String {
    if err.is_empty() {
        how
    } else {
        format!("{how}: {err}")
    }
}

fn settle(r: &Running, outcome: &str, detail: String) -> (HookRun, String) {
    (
        HookRun {
            seq: r.seq,
            kind: r.kind.clone(),
            job: r.job.clone(),
            hook: r.hook.clone(),
            outcome: outcome.into(),
            detail,
        },
        r.identity.clone(),
    )
}

/// A recorded run as doctor shows it: `interrupted` when it never finished
/// and its time ran out long ago (the process running it died).
pub fn describe(row: &HookRunRow, now_ms: i64) -> Option<String> {
    let hook = serde_json::from_str::<Value>(&row.hook)
        .ok()
        .and_then(|v| {
            v.get("run").and_then(Value::as_array).map(|a| {
                shown(
                    &a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect::<Vec<_>>(),
                )
            })
        })
        .unwrap_or_else(|| row.hook.clone());
    let what = match row.outcome.as_deref() {
        Some(o) => format!("{o}: {}", row.detail),
        None if now_ms > row.started_at + row.timeout_ms + 5_000 => {
            "interrupted: its runner ended before it did (not run again)".to_string()
        }
        None => return None,
    };
    Some(format!(
        "{hook} on event {} ({} for {}): {what}",
        row.event_seq, row.kind, row.job
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hook(on: &[&str], to: Option<&str>) -> HookConfig {
        HookConfig {
            on: on.iter().map(|s| s.to_string()).collect(),
            to: to.map(String::from),
            run: vec!["true".into()],
            timeout: "1s".into(),
        }
    }

    #[test]
    fn kinds_states_and_the_recipient_filter() {
        let waiting = json!({"from": "busy", "to": "waiting"});
        let h = hook(&["job.waiting"], None);
        assert_eq!(
            matched_kind(&h, "job.state", &waiting).as_deref(),
            Some("job.waiting")
        );
        assert_eq!(matched_kind(&h, "job.state", &json!({"to": "busy"})), None);
        // job.done is its own event: a job.state into done does not count twice.
        let done = hook(&["job.done"], None);
        assert_eq!(
            matched_kind(&done, "job.state", &json!({"to": "done"})),
            None
        );
        assert_eq!(
            matched_kind(&done, "job.done", &json!({})).as_deref(),
            Some("job.done")
        );
        let op = hook(&["question.asked", "job.waiting"], Some("operator"));
        let q = json!({"id": "q1", "asker": "a", "target": "operator"});
        assert_eq!(
            matched_kind(&op, "question.asked", &q).as_deref(),
            Some("question.asked")
        );
        let q2 = json!({"id": "q2", "asker": "a", "target": "b"});
        assert_eq!(matched_kind(&op, "question.asked", &q2), None);
        assert_eq!(matched_kind(&op, "job.state", &waiting), None);
        assert_eq!(summary("question.asked", "a", &q), "a asks operator (q1)");
    }
}
