//! `mam mcp`: mam's tools for the agent it runs in, served over MCP on
//! stdio: JSON-RPC 2.0, one message per line. The server acts as the job
//! named by `MAM_AGENT` in the workspace of `MAM_WORKSPACE` — there is no
//! `--from`. Each tool is a thin call into the same code as its command
//! (`mail`, `tools`, the registry): the same checks, the same messages, and
//! an error class that becomes a tool error carrying it. A result is
//! structured JSON plus one line of text.
//!
//! Written here rather than taken from an SDK: mam serves tools only, over
//! stdio only, and what that needs of the protocol — the `initialize`
//! handshake with its version negotiation, `ping`, `tools/list`,
//! `tools/call`, notifications, JSON-RPC errors and batches — is this
//! file's loop. The official SDK brought an async runtime, a JSON Schema
//! generator and a date library for it: about a quarter of a clean build's
//! time (README, Build time).
//!
//! Requests are served one at a time, in the order they arrive, on the
//! thread that owns the context and the open registry; SQLite serializes
//! them against `mam` commands in other processes.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;

use anyhow::Result;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::app::Ctx;
use crate::error::{Code, code_of, hint_of, usage};
use crate::mail::remind::When;
use crate::model::{Role, Verdict};
use crate::registry::Registry;
use crate::tools::{DoneReport, Within};

/// What a tool call runs against: the context and, once opened, the registry.
struct State {
    ctx: Ctx,
    reg: Option<Registry>,
}

impl State {
    fn reg(&mut self) -> Result<&mut Registry> {
        Ok(self.parts()?.1)
    }

    /// The context and the registry (opened on first use, then kept).
    fn parts(&mut self) -> Result<(&Ctx, &mut Registry)> {
        if self.reg.is_none() {
            self.reg = Some(self.ctx.registry()?);
        }
        Ok((&self.ctx, self.reg.as_mut().expect("opened above")))
    }
}

/// The protocol revisions this server speaks, oldest first. Each has the
/// `initialize` handshake; what changed between them (structured tool
/// results from 2025-06-18, batches dropped then) costs an older client
/// nothing: it ignores the fields it does not know.
const VERSIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// JSON-RPC error codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const INTERNAL_ERROR: i64 = -32603;

/// The longest line taken as one message. A message's text may be 16 MiB,
/// which JSON's escapes can make a few times longer; past this the line is
/// skipped with an error instead of being held in memory.
const MAX_LINE: u64 = 128 << 20;

/// The most messages one batch may hold (each gets its own reply).
const MAX_BATCH: usize = 1000;

/// Serve MCP on stdin/stdout until the client closes stdin.
pub fn serve(ctx: Ctx) -> Result<()> {
    let mut st = State { ctx, reg: None };
    let tools = tool_list();
    let mut input = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    let mut line = Vec::new();
    let read_error = |e: std::io::Error| anyhow::anyhow!("cannot read MCP input: {e}");
    loop {
        line.clear();
        let n = (&mut input)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut line)
            .map_err(read_error)?;
        if n == 0 {
            return Ok(());
        }
        // Cut short by the cap (no newline read): the rest is skipped.
        let reply = if line.len() as u64 > MAX_LINE && line.last() != Some(&b'\n') {
            skip_line(&mut input).map_err(read_error)?;
            Some(error_reply(
                Value::Null,
                INVALID_REQUEST,
                format!(
                    "invalid request: a message longer than {} MiB",
                    MAX_LINE >> 20
                ),
            ))
        } else {
            handle_line(&mut st, &tools, &line)
        };
        let Some(reply) = reply else {
            continue;
        };
        let mut text = reply.to_string();
        text.push('\n');
        if out
            .write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            // The client is gone: nothing is left to answer.
            return Ok(());
        }
    }
}

/// Read and drop the rest of the current line.
fn skip_line(input: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
}

/// One line of input: the reply to write, if any (notifications and
/// responses get none, a batch one array).
fn handle_line(st: &mut State, tools: &Value, line: &[u8]) -> Option<Value> {
    let text = line.trim_ascii();
    if text.is_empty() {
        return None;
    }
    let msg: Value = match serde_json::from_slice(text) {
        Ok(v) => v,
        Err(e) => {
            return Some(error_reply(
                Value::Null,
                PARSE_ERROR,
                format!("parse error: {e}"),
            ));
        }
    };
    match msg {
        Value::Array(batch) if batch.is_empty() => Some(error_reply(
            Value::Null,
            INVALID_REQUEST,
            "invalid request: an empty batch".into(),
        )),
        Value::Array(batch) if batch.len() > MAX_BATCH => Some(error_reply(
            Value::Null,
            INVALID_REQUEST,
            format!("invalid request: a batch of more than {MAX_BATCH} messages"),
        )),
        Value::Array(batch) => {
            let replies: Vec<Value> = batch
                .into_iter()
                .filter_map(|m| handle_message(st, tools, m))
                .collect();
            (!replies.is_empty()).then_some(Value::Array(replies))
        }
        m => handle_message(st, tools, m),
    }
}

/// One JSON-RPC message: a request gets its reply; a notification, or a
/// response (this server sends no requests), gets none.
fn handle_message(st: &mut State, tools: &Value, msg: Value) -> Option<Value> {
    let Value::Object(mut m) = msg else {
        return Some(error_reply(
            Value::Null,
            INVALID_REQUEST,
            "invalid request: a message is a JSON object".into(),
        ));
    };
    let id = m.remove("id");
    let method = match m.remove("method") {
        Some(Value::String(s)) => s,
        Some(_) => {
            return Some(error_reply(
                id.unwrap_or(Value::Null),
                INVALID_REQUEST,
                "invalid request: `method` is a string".into(),
            ));
        }
        // A response (`result` or `error`): nothing was asked.
        None if id.is_some() && (m.contains_key("result") || m.contains_key("error")) => {
            return None;
        }
        None => {
            return Some(error_reply(
                id.unwrap_or(Value::Null),
                INVALID_REQUEST,
                "invalid request: no `method`".into(),
            ));
        }
    };
    let Some(id) = id else {
        // A notification (`notifications/initialized`, `…/cancelled`):
        // nothing to do and nothing to answer.
        return None;
    };
    if !(id.is_string() || id.is_i64() || id.is_u64()) {
        return Some(error_reply(
            Value::Null,
            INVALID_REQUEST,
            "invalid request: `id` is a string or an integer".into(),
        ));
    }
    if m.get("jsonrpc") != Some(&json!("2.0")) {
        return Some(error_reply(
            id,
            INVALID_REQUEST,
            "invalid request: `jsonrpc` must be \"2.0\"".into(),
        ));
    }
    let params = match m.remove("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p,
        Some(_) => {
            return Some(error_reply(
                id,
                INVALID_PARAMS,
                format!("{method}: `params` is an object"),
            ));
        }
    };
    Some(match request(st, tools, &method, params) {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, message)) => error_reply(id, code, message),
    })
}

fn error_reply(id: Value, code: i64, message: String) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// A request's result, or its JSON-RPC error.
fn request(
    st: &mut State,
    tools: &Value,
    method: &str,
    mut params: Map<String, Value>,
) -> Result<Value, (i64, String)> {
    match method {
        "initialize" => {
            // The client's revision if this server speaks it, else the
            // newest it does: the client decides whether it can go on.
            let asked = params.get("protocolVersion").and_then(Value::as_str);
            let version = match asked {
                Some(v) if VERSIONS.contains(&v) => v,
                _ => VERSIONS[VERSIONS.len() - 1],
            };
            Ok(json!({
                "protocolVersion": version,
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "mam", "version": env!("CARGO_PKG_VERSION")},
                "instructions": INSTRUCTIONS,
            }))
        }
        "ping" => Ok(json!({})),
        "tools/list" => Ok(tools.clone()),
        "tools/call" => {
            let name = match params.remove("name") {
                Some(Value::String(s)) => s,
                _ => return Err((INVALID_PARAMS, "tools/call: `name` is a string".into())),
            };
            if !TOOLS.iter().any(|t| t.0 == name) {
                return Err((
                    INVALID_PARAMS,
                    format!("no tool named {name:?}; tools/list has mam's tools"),
                ));
            }
            let args = match params.remove("arguments") {
                None | Some(Value::Null) => Value::Object(Map::new()),
                Some(a @ Value::Object(_)) => a,
                Some(_) => {
                    return Err((
                        INVALID_PARAMS,
                        format!("tools/call {name}: `arguments` is an object"),
                    ));
                }
            };
            // A panic is a bug in mam: the hook has told stderr (the client's
            // log of this server); the client gets an error and the server
            // goes on, with the registry opened afresh for the next call.
            let out =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call(st, &name, args)));
            let Ok(out) = out else {
                st.reg = None;
                return Err((
                    INTERNAL_ERROR,
                    format!(
                        "tools/call {name}: mam stopped on an internal error (a bug, reported on its stderr)"
                    ),
                ));
            };
            if let Some(reg) = st.reg.as_mut() {
                st.ctx.publish(reg);
            }
            Ok(match out {
                Ok((line, value)) => result(line, value, false),
                Err(e) => {
                    let (line, value) = error_result(&e);
                    result(line, value, true)
                }
            })
        }
        _ => Err((METHOD_NOT_FOUND, format!("method not found: {method}"))),
    }
}

/// A tool result: the one line first, then the JSON it summarizes.
fn result(line: String, value: Value, error: bool) -> Value {
    let text = value.to_string();
    json!({
        "content": [{"type": "text", "text": line}, {"type": "text", "text": text}],
        "structuredContent": value,
        "isError": error,
    })
}

/// An error as a tool error: mam's message and hint, and its class (the
/// exit code the same refusal has on the command line).
fn error_result(e: &anyhow::Error) -> (String, Value) {
    let code = code_of(e);
    let class = match code {
        Code::Ok => "ok",
        Code::Unexpected => "unexpected",
        Code::Usage => "usage",
        Code::NotFound => "not_found",
        Code::Conflict => "conflict",
        Code::Timeout => "timeout",
        Code::Environment => "environment",
        Code::Auth => "auth",
    };
    let message = e
        .chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ");
    let hint = hint_of(e).map(str::to_string);
    let line = match &hint {
        Some(h) => format!("error: {message} (hint: {h})"),
        None => format!("error: {message}"),
    };
    let value = json!({"error": {"class": class, "exit_code": code.as_i32(),
                                 "message": message, "hint": hint}});
    (line, value)
}

const INSTRUCTIONS: &str = "mam runs several coding agents side by side; you are one of them \
(see `whoami`). Use these tools to talk to the other agents and to the human operator \
(`operator`): `send` a message, `ask` a question (the answer comes back as a message), \
`recv` what was sent to you, `get_open_threads` for what is still open, and report on your \
own job with `progress`, `done` or `fail`.";

/// Every tool: name, description, input schema (JSON Schema).
const TOOLS: &[(&str, &str, &str)] = &[
    (
        "whoami",
        "Who you are in mam: your job name, role, agent kind, state, workspace and tmux session, and whether these tools are wired in (mcp).",
        r#"{"type":"object","properties":{},"additionalProperties":false}"#,
    ),
    (
        "send",
        "Send a message to another agent (by job name), to the human operator (`operator`), or to every live agent but you (`*`): give `to` and `text`. To send many at once, give `messages` instead: all are checked first and stored together, or none is. Each is typed into a running agent at once, or queued until it is ready. Returns each message id with its recipient and whether it was delivered or queued.",
        r#"{"type":"object","properties":{
            "to":{"type":"string","description":"Recipient: a job name (see get_open_threads or whoami), `operator` for the human, or `*` for every live agent but you."},
            "text":{"type":"string","description":"The message text (plain text, at most 16 MiB)."},
            "reply_to":{"type":"string","description":"Optional: the id of the message (m<N>) or question (q<N>) this replies to."},
            "messages":{"type":"array","description":"Instead of to/text/reply_to: several messages, each with its own to, text and optional reply_to.","items":{"type":"object","properties":{
                "to":{"type":"string","description":"Recipient, as for a single message."},
                "text":{"type":"string","description":"The message text."},
                "reply_to":{"type":"string","description":"Optional: the id this replies to."}},
              "required":["to","text"],"additionalProperties":false}}},
          "additionalProperties":false}"#,
    ),
    (
        "ask",
        "Ask one agent (or `operator`) a question. Returns the question id (q<N>); the answer arrives later as a message to you (see recv), and the question stays open in get_open_threads until answered or cancelled.",
        r#"{"type":"object","properties":{
            "to":{"type":"string","description":"Whom to ask: a job name or `operator` (not `*`)."},
            "question":{"type":"string","description":"The question text."}},
          "required":["to","question"],"additionalProperties":false}"#,
    ),
    (
        "answer",
        "Answer a question that was put to you. The question is closed and the answer goes to its asker. Only the agent asked can answer.",
        r#"{"type":"object","properties":{
            "question_id":{"type":"string","description":"The question id, q<N> (from the question message or get_open_threads)."},
            "text":{"type":"string","description":"The answer text."}},
          "required":["question_id","text"],"additionalProperties":false}"#,
    ),
    (
        "recv",
        "Take your oldest unread messages (marks them read) and say how many are still waiting.",
        r#"{"type":"object","properties":{
            "max":{"type":"integer","minimum":1,"maximum":1000,"default":10,"description":"How many messages to take at most."}},
          "additionalProperties":false}"#,
    ),
    (
        "inbox",
        "List your messages without marking them read: unread ones, or all with all=true.",
        r#"{"type":"object","properties":{
            "all":{"type":"boolean","default":false,"description":"Include messages already read, failed or cancelled."}},
          "additionalProperties":false}"#,
    ),
    (
        "get_open_threads",
        "What is still open for you: questions you asked (role asker) or owe an answer to (role target), and messages queued for you (kind message). The operator and a pm see the whole workspace.",
        r#"{"type":"object","properties":{},"additionalProperties":false}"#,
    ),
    (
        "cancel",
        "Cancel your own queued message (m<N>), open question (q<N>) or pending reminder (r<N>). What is not yours is refused.",
        r#"{"type":"object","properties":{
            "id":{"type":"string","description":"The id to cancel: m<N>, q<N> or r<N>."}},
          "required":["id"],"additionalProperties":false}"#,
    ),
    (
        "remind",
        "Schedule a reminder, typed into the target agent when it is due: give `in` (a duration) or `at` (a time), and optionally `every` to repeat.",
        r#"{"type":"object","properties":{
            "text":{"type":"string","description":"What the reminder says."},
            "to":{"type":"string","description":"Whom to remind: a job name, `operator`, or `job@host` for a job on another host of the fleet; default: you."},
            "in":{"type":"string","description":"Due after this duration, e.g. `90s`, `10m`, `2h`."},
            "at":{"type":"string","description":"Due at this time: RFC 3339 (2026-11-21T15:00:00Z), `2026-11-21 15:00` or `15:00` (local time)."},
            "every":{"type":"string","description":"Optional: repeat at this interval, e.g. `1h` (at least a minute)."}},
          "required":["text"],"additionalProperties":false}"#,
    ),
    (
        "reminders",
        "List reminders you own or that target you (the operator: all), with state, due time, attempts and last error.",
        r#"{"type":"object","properties":{
            "all":{"type":"boolean","default":false,"description":"Include delivered and cancelled reminders."}},
          "additionalProperties":false}"#,
    ),
    (
        "cancel_reminder",
        "Cancel a pending reminder you own (r<N>).",
        r#"{"type":"object","properties":{
            "id":{"type":"string","description":"The reminder id, r<N> (from remind or reminders)."}},
          "required":["id"],"additionalProperties":false}"#,
    ),
    (
        "progress",
        "Report progress on your own job: a percentage and an optional note the operator sees in `mam status`.",
        r#"{"type":"object","properties":{
            "percent":{"type":"integer","minimum":0,"maximum":100,"description":"How far along the job is, 0 to 100."},
            "note":{"type":"string","description":"Optional: a short note on what is happening."}},
          "required":["percent"],"additionalProperties":false}"#,
    ),
    (
        "done",
        "Report your own job done, with an optional verdict (reviewers), details, and the files it produced. Paths are relative to your workdir and must be inside it. Your session may be stopped afterwards.",
        r#"{"type":"object","properties":{
            "verdict":{"type":"string","enum":["pass","not-pass"],"description":"Optional: a review verdict."},
            "details":{"type":"string","description":"Optional: a summary of the result."},
            "details_file":{"type":"string","description":"Optional, instead of details: a file inside your workdir holding them."},
            "artifacts":{"type":"array","items":{"type":"string"},"description":"Optional: files the job produced, inside your workdir."}},
          "additionalProperties":false}"#,
    ),
    (
        "fail",
        "Report your own job failed, saying why.",
        r#"{"type":"object","properties":{
            "reason":{"type":"string","description":"Why the job failed."}},
          "required":["reason"],"additionalProperties":false}"#,
    ),
    (
        "lease",
        "Lease files before you edit them, so other agents keep off: paths or globs (`src/a.rs`, `src/**`, `docs/*.md`), relative to your working directory. Exclusive unless shared=true; a lease that overlaps another holder's is refused, naming the holder, the reason and when it expires. Returns the lease ids (l<N>).",
        r#"{"type":"object","properties":{
            "paths":{"type":"array","items":{"type":"string"},"minItems":1,"description":"Paths or globs to lease (`*` within a name, `**` across folders)."},
            "ttl":{"type":"string","description":"Optional: how long the lease lasts, e.g. `30m`, `2h` (default: the workspace's lease ttl, 1h)."},
            "reason":{"type":"string","description":"Optional: why you hold it, shown to whoever is refused."},
            "shared":{"type":"boolean","default":false,"description":"A shared lease only conflicts with exclusive ones."}},
          "required":["paths"],"additionalProperties":false}"#,
    ),
    (
        "release",
        "Release your leases, by id (l<N>) or by the path or glob as you leased it.",
        r#"{"type":"object","properties":{
            "leases":{"type":"array","items":{"type":"string"},"minItems":1,"description":"Lease ids (l<N>) or the leased paths or globs."}},
          "required":["leases"],"additionalProperties":false}"#,
    ),
    (
        "leases",
        "List active leases: yours, or everyone's with all=true (holder, pattern, exclusive or shared, expiry, reason).",
        r#"{"type":"object","properties":{
            "all":{"type":"boolean","default":false,"description":"Every holder's leases, not only yours."}},
          "additionalProperties":false}"#,
    ),
    (
        "explain",
        "Read-only: what mam sees of an agent and why it thinks what it thinks: recorded state, what its screen shows and which profile rules match, its record, whether MCP is wired, and the last delivery attempts.",
        r#"{"type":"object","properties":{
            "name":{"type":"string","description":"The job to explain; default: you."}},
          "additionalProperties":false}"#,
    ),
];

/// The `tools/list` result: every tool with its input schema.
fn tool_list() -> Value {
    let tools: Vec<Value> = TOOLS
        .iter()
        .map(|(name, description, schema)| {
            let schema: Value =
                serde_json::from_str(schema).expect("the tool schemas are valid JSON");
            json!({"name": name, "description": description, "inputSchema": schema})
        })
        .collect();
    json!({ "tools": tools })
}

/// A tool's arguments as its struct; a bad shape is a usage error.
fn args<T: for<'de> Deserialize<'de>>(tool: &str, v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| usage(format!("{tool}: invalid arguments: {e}")).into())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Nothing {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendArgs {
    to: Option<String>,
    text: Option<String>,
    reply_to: Option<String>,
    messages: Option<Vec<crate::mail::Outgoing>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AskArgs {
    to: String,
    question: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerArgs {
    question_id: String,
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecvArgs {
    max: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllArgs {
    #[serde(default)]
    all: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdArgs {
    id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemindArgs {
    text: String,
    to: Option<String>,
    #[serde(rename = "in")]
    in_: Option<String>,
    at: Option<String>,
    every: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgressArgs {
    percent: i64,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DoneArgs {
    verdict: Option<String>,
    details: Option<String>,
    details_file: Option<String>,
    #[serde(default)]
    artifacts: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailArgs {
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeaseArgs {
    paths: Vec<String>,
    ttl: Option<String>,
    reason: Option<String>,
    #[serde(default)]
    shared: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseArgs {
    leases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainArgs {
    name: Option<String>,
}

/// What sending did, per message: id, recipient, delivered or queued.
fn sent_json(sent: &crate::mail::Sent) -> Vec<Value> {
    sent.ids
        .iter()
        .map(|(id, to)| {
            let state = if sent.delivered(id) {
                "delivered"
            } else {
                "queued"
            };
            json!({"id": id, "to": to, "state": state})
        })
        .collect()
}

fn sent_line(sent: &crate::mail::Sent) -> String {
    sent_json(sent)
        .iter()
        .map(|m| format!("{} to {}: {}", m["id"], m["to"], m["state"]).replace('"', ""))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Run tool `name` as the caller: a one-line text and the JSON result.
fn call(st: &mut State, name: &str, a: Value) -> Result<(String, Value)> {
    let me = st.ctx.caller.clone();
    match name {
        "whoami" => {
            args::<Nothing>(name, a)?;
            let reg = st.ctx.registry_if_exists()?;
            let v = crate::tools::whoami(&st.ctx, reg.as_ref())?;
            let line = format!(
                "you are {} ({}{}) in {}; MCP {}",
                v["name"].as_str().unwrap_or(""),
                v["role"].as_str().unwrap_or(""),
                v["kind"]
                    .as_str()
                    .map(|k| format!(", {k}"))
                    .unwrap_or_default(),
                st.ctx.paths.root.display(),
                if v["mcp"] == json!(true) {
                    "wired"
                } else {
                    "not wired"
                },
            );
            Ok((line, v))
        }
        "send" => {
            let a: SendArgs = args(name, a)?;
            let (to, text) = match (a.to, a.text, a.messages) {
                (None, None, Some(items)) if a.reply_to.is_none() => {
                    let (ctx, reg) = st.parts()?;
                    ctx.check_actor(reg, &me)?;
                    let all = crate::mail::send_batch(ctx, reg, &me, &items, |i| {
                        Some(format!("messages[{i}]"))
                    })?;
                    let json: Vec<Value> = all.iter().flat_map(sent_json).collect();
                    let line = all.iter().map(sent_line).collect::<Vec<_>>().join("; ");
                    return Ok((line, json!({"messages": json})));
                }
                (Some(to), Some(text), None) => (to, text),
                _ => {
                    return Err(usage("send: give `to` and `text`, or `messages`").into());
                }
            };
            let body = crate::mail::check_body(&text)?;
            let (ctx, reg) = st.parts()?;
            ctx.check_actor(reg, &me)?;
            let sent = crate::mail::send(ctx, reg, &me, &to, &body, a.reply_to.as_deref())?;
            let line = if sent.ids.is_empty() {
                "no live agent to broadcast to; nothing sent".to_string()
            } else {
                sent_line(&sent)
            };
            Ok((line, json!({"messages": sent_json(&sent)})))
        }
        "ask" => {
            let a: AskArgs = args(name, a)?;
            let text = crate::mail::check_body(&a.question)?;
            let (ctx, reg) = st.parts()?;
            ctx.check_actor(reg, &me)?;
            let (qid, sent) = crate::mail::ask(ctx, reg, &me, &a.to, &text)?;
            let line = format!("{qid} asked of {}; {}", sent.ids[0].1, sent_line(&sent));
            Ok((line, json!({"question": qid, "messages": sent_json(&sent)})))
        }
        "answer" => {
            let a: AnswerArgs = args(name, a)?;
            crate::mail::question_number(&a.question_id)?;
            let text = crate::mail::check_body(&a.text)?;
            let (ctx, reg) = st.parts()?;
            ctx.check_actor(reg, &me)?;
            let sent = crate::mail::answer(ctx, reg, &me, &a.question_id, &text)?;
            let line = format!("{} answered; {}", a.question_id, sent_line(&sent));
            Ok((
                line,
                json!({"question": a.question_id, "messages": sent_json(&sent)}),
            ))
        }
        "recv" => {
            let a: RecvArgs = args(name, a)?;
            let reg = st.reg()?;
            crate::mail::check_inbox_owner(reg, &me)?;
            let got = crate::mail::take(reg, &me, a.max.unwrap_or(10), false)?;
            let line = format!(
                "{} message(s) taken, {} more waiting",
                got.messages.len(),
                got.remaining
            );
            Ok((line, serde_json::to_value(&got)?))
        }
        "inbox" => {
            let a: AllArgs = args(name, a)?;
            let reg = st.reg()?;
            crate::mail::check_inbox_owner(reg, &me)?;
            let msgs = reg.inbox(&me, a.all, 10_000)?;
            let line = format!("{} message(s) for {me}", msgs.len());
            Ok((line, json!({"name": me, "messages": msgs})))
        }
        "get_open_threads" => {
            args::<Nothing>(name, a)?;
            let reg = st.reg()?;
            crate::mail::check_inbox_owner(reg, &me)?;
            let whole = me == "operator" || reg.job(&me)?.is_some_and(|j| j.role == Role::Pm);
            let who = (!whole).then_some(me.as_str());
            let now = crate::registry::now_ms();
            let threads: Vec<Value> = crate::mail::threads(reg, who, now)?
                .into_iter()
                .map(|t| {
                    json!({"kind": t.kind, "id": t.id, "name": t.name, "role": t.role,
                           "counterparty": t.counterparty, "summary": t.summary,
                           "age_seconds": t.age_ms / 1000})
                })
                .collect();
            let line = format!(
                "{} open thread(s){}",
                threads.len(),
                if whole { " in the workspace" } else { "" }
            );
            Ok((line, json!({"threads": threads})))
        }
        "cancel" => {
            let a: IdArgs = args(name, a)?;
            let ctx = &st.ctx;
            crate::registry::messages::parse_id(&a.id)?;
            let reg = st.reg.get_or_insert(ctx.registry()?);
            crate::tools::cancel(ctx, reg, &me, &a.id)?;
            Ok((
                format!("{}: cancelled", a.id),
                json!({"id": a.id, "state": "cancelled"}),
            ))
        }
        "cancel_reminder" => {
            let a: IdArgs = args(name, a)?;
            let ctx = &st.ctx;
            if !matches!(crate::registry::messages::parse_id(&a.id)?, ('r', _)) {
                return Err(usage(format!("{} is not a reminder id (r<N>)", a.id))
                    .hint("use `cancel` for messages and questions")
                    .into());
            }
            let reg = st.reg.get_or_insert(ctx.registry()?);
            crate::tools::cancel(ctx, reg, &me, &a.id)?;
            Ok((
                format!("{}: cancelled", a.id),
                json!({"id": a.id, "state": "cancelled"}),
            ))
        }
        "remind" => {
            let a: RemindArgs = args(name, a)?;
            let when = match (&a.in_, &a.at) {
                (Some(d), _) => Some(When::In(d)),
                (None, Some(t)) => Some(When::At(t)),
                (None, None) => None,
            };
            let checked = crate::mail::remind::check(when, a.every.as_deref(), &a.text)?;
            let to = a.to.unwrap_or_else(|| me.clone());
            let (ctx, reg) = st.parts()?;
            let r = crate::mail::remind::remind(ctx, reg, &me, &to, &checked)?;
            let line = format!("{} for {} at {}", r.id, r.target, r.due_at);
            Ok((line, serde_json::to_value(&r)?))
        }
        "reminders" => {
            let a: AllArgs = args(name, a)?;
            let reg = st.reg()?;
            let who = (me != "operator").then_some(me.as_str());
            let rs = reg.reminders(who, a.all)?;
            Ok((
                format!("{} reminder(s)", rs.len()),
                json!({"reminders": rs}),
            ))
        }
        "progress" => {
            let a: ProgressArgs = args(name, a)?;
            let job = st.ctx.own_job(None)?;
            crate::tools::check_pct(a.percent)?;
            let reg = st.reg()?;
            crate::tools::progress(reg, &job, a.percent, a.note.as_deref().unwrap_or(""))?;
            Ok((
                format!("{job}: {}%", a.percent),
                json!({"name": job, "progress": a.percent}),
            ))
        }
        "done" => {
            let a: DoneArgs = args(name, a)?;
            let job = st.ctx.own_job(None)?;
            let verdict = match a.verdict.as_deref() {
                None => None,
                Some(v) => Some(Verdict::parse(v).ok_or_else(|| {
                    usage(format!("verdict {v:?} is neither `pass` nor `not-pass`"))
                })?),
            };
            let artifacts: Vec<PathBuf> = a.artifacts.iter().map(PathBuf::from).collect();
            let details_file = a.details_file.as_deref().map(std::path::Path::new);
            let report = DoneReport {
                verdict,
                details: a.details.as_deref(),
                details_file,
                artifacts: &artifacts,
            };
            let reg = st.reg()?;
            crate::tools::done(reg, &job, &report, Within::Workdir)?;
            let line = match verdict {
                Some(v) => format!("{job}: done ({v})"),
                None => format!("{job}: done"),
            };
            Ok((
                line,
                json!({"name": job, "state": "done", "verdict": verdict}),
            ))
        }
        "fail" => {
            let a: FailArgs = args(name, a)?;
            let job = st.ctx.own_job(None)?;
            crate::tools::check_reason(&a.reason)?;
            let reg = st.reg()?;
            crate::tools::fail(reg, &job, &a.reason)?;
            Ok((
                format!("{job}: failed"),
                json!({"name": job, "state": "failed"}),
            ))
        }
        "lease" => {
            let a: LeaseArgs = args(name, a)?;
            let ttl = match a.ttl.as_deref() {
                Some(t) => crate::duration::parse("ttl", t, crate::duration::Limit::LEASE)?,
                None => st.ctx.config.lease_ttl(),
            };
            let reason = a
                .reason
                .as_deref()
                .map(crate::agent::probe::sanitize)
                .filter(|r| !r.trim().is_empty());
            let (ctx, reg) = st.parts()?;
            ctx.check_actor(reg, &me)?;
            let root = crate::lease::root_for(reg, &me, &ctx.cwd, &ctx.paths.root)?;
            let patterns = a
                .paths
                .iter()
                .map(|p| crate::lease::pattern::from_user(p, &ctx.cwd, &root))
                .collect::<Result<Vec<_>>>()?;
            let got = crate::lease::lease(
                reg,
                &me,
                &crate::lease::Request {
                    patterns: &patterns,
                    ttl,
                    reason: reason.as_deref(),
                    shared: a.shared,
                },
            )?;
            let line = got
                .iter()
                .map(|l| format!("{} on {}", l.id, l.pattern))
                .collect::<Vec<_>>()
                .join("; ");
            Ok((line, json!({"leases": got})))
        }
        "release" => {
            let a: ReleaseArgs = args(name, a)?;
            let (ctx, reg) = st.parts()?;
            ctx.check_actor(reg, &me)?;
            let root = crate::lease::root_for(reg, &me, &ctx.cwd, &ctx.paths.root)?;
            let targets = a
                .leases
                .iter()
                .map(|t| {
                    crate::lease::Target::parse(t, |p| {
                        crate::lease::pattern::from_user(p, &ctx.cwd, &root)
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let done = crate::lease::release(reg, &me, &targets, false, None)?;
            let line = done
                .iter()
                .map(|l| format!("{} on {}: {}", l.id, l.pattern, l.state))
                .collect::<Vec<_>>()
                .join("; ");
            Ok((line, json!({"released": done})))
        }
        "leases" => {
            let a: AllArgs = args(name, a)?;
            let reg = st.reg()?;
            let holder = (!a.all).then_some(me.as_str());
            let got = crate::lease::leases(reg, holder, false)?;
            Ok((
                format!("{} active lease(s)", got.len()),
                json!({"leases": got}),
            ))
        }
        "explain" => {
            let a: ExplainArgs = args(name, a)?;
            let target = a.name.unwrap_or_else(|| me.clone());
            let (ctx, reg) = st.parts()?;
            let x = crate::tools::explain(ctx, reg, &target)?;
            let line = format!(
                "{}: recorded {}, screen shows {}",
                x.job.name, x.job.state, x.live
            );
            Ok((line, x.to_json()))
        }
        _ => Err(usage(format!("no tool named {name:?}")).into()),
    }
}
