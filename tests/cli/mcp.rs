//! `mam mcp`: JSON-RPC over stdio against the real binary — the handshake,
//! the tool list with its schemas (a golden file), each tool's happy path
//! and its main refusals, and tool calls racing `mam` commands on one
//! registry.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::support::mcp::McpClient;
use crate::support::*;

/// `mam mcp` as `who` (a job name, or `operator` with no MAM_AGENT).
fn mcp(env: &Env, who: &str) -> McpClient {
    let mut c = env.cmd();
    c.arg("mcp");
    if who != "operator" {
        c.env("MAM_AGENT", who);
    }
    McpClient::start(c).0
}

/// A successful tool result: its one-line text and its structured JSON,
/// which the second text block repeats.
#[track_caller]
fn ok(r: &Value) -> (String, Value) {
    assert_eq!(r["isError"], false, "{r}");
    let line = r["content"][0]["text"].as_str().unwrap().to_string();
    assert_eq!(r["content"][1]["text"], r["structuredContent"].to_string());
    assert!(!line.contains('\n'), "{line:?}");
    (line, r["structuredContent"].clone())
}

/// A refused tool call: its one line, class and exit code (the same as
/// the command line's).
#[track_caller]
fn refused(r: &Value) -> (String, String, i64) {
    assert_eq!(r["isError"], true, "{r}");
    let e = &r["structuredContent"]["error"];
    (
        r["content"][0]["text"].as_str().unwrap().to_string(),
        e["class"].as_str().unwrap().to_string(),
        e["exit_code"].as_i64().unwrap(),
    )
}

#[test]
fn initialize_and_the_tool_list_with_its_schemas() {
    let env = Env::new();
    let mut c = env.cmd();
    c.arg("mcp").env("MAM_AGENT", "alice");
    let (mut client, init) = McpClient::start(c);
    assert_eq!(init["protocolVersion"], "2025-06-18");
    assert_eq!(init["capabilities"], json!({"tools": {}}));
    assert_eq!(
        init["serverInfo"],
        json!({"name": "mam", "version": env!("CARGO_PKG_VERSION")})
    );
    let tools = client.request("tools/list", json!({}));
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "whoami",
            "send",
            "ask",
            "answer",
            "recv",
            "inbox",
            "get_open_threads",
            "cancel",
            "remind",
            "reminders",
            "cancel_reminder",
            "progress",
            "done",
            "fail",
            "lease",
            "release",
            "leases",
            "explain"
        ]
    );
    for t in tools["tools"].as_array().unwrap() {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert!(t["description"].as_str().unwrap().len() > 20, "{t}");
    }
    golden::assert_golden(
        "mcp-tools.json",
        &(serde_json::to_string_pretty(&tools).unwrap() + "\n"),
    );
    // An unknown tool is a JSON-RPC error, not a tool result.
    let id = client.send(
        "tools/call",
        json!({"name": "launch_missiles", "arguments": {}}),
    );
    let v = client.response(id);
    assert_eq!(v["error"]["code"], -32602, "{v}");
    assert_eq!(
        v["error"]["message"],
        "no tool named \"launch_missiles\"; tools/list has mam's tools"
    );
    // Closing stdin ends the server cleanly.
    assert_eq!(client.finish().0, Some(0));
}

/// `initialize` as a client asking for `version`: the version agreed.
fn agreed_version(env: &Env, version: &str) -> Value {
    let mut c = env.cmd();
    c.arg("mcp").env("MAM_AGENT", "alice");
    let mut client = McpClient::spawn(c);
    let init = client.request(
        "initialize",
        json!({"protocolVersion": version, "capabilities": {},
               "clientInfo": {"name": "mam-test", "version": "1"}}),
    );
    init["protocolVersion"].clone()
}

#[test]
fn the_protocol_versions_errors_notifications_and_batches() {
    let env = Env::new();
    // A revision the server speaks is agreed; any other gets the newest.
    for (asked, agreed) in [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2026-07-28", "2025-11-25"),
        ("1999-01-01", "2025-11-25"),
    ] {
        assert_eq!(agreed_version(&env, asked), agreed, "asked {asked}");
    }

    let mut client = mcp(&env, "alice");
    let err = |id: Value, code: i64, message: &str| json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    let pong = |id: i64| json!({"jsonrpc": "2.0", "id": id, "result": {}});
    assert_eq!(
        client.exchange_raw(br#"{"jsonrpc":"2.0","id":1,"#),
        err(
            Value::Null,
            -32700,
            "parse error: EOF while parsing a value at line 1 column 24"
        )
    );
    assert_eq!(
        client.exchange_raw(b"\xff\xfe"),
        err(
            Value::Null,
            -32700,
            "parse error: expected value at line 1 column 1"
        )
    );
    assert_eq!(
        client.exchange_raw(b"42"),
        err(
            Value::Null,
            -32600,
            "invalid request: a message is a JSON object"
        )
    );
    assert_eq!(
        client.exchange_raw(b"[]"),
        err(Value::Null, -32600, "invalid request: an empty batch")
    );
    assert_eq!(
        client.exchange_raw(br#"{"jsonrpc":"2.0","id":"a","method":"resources/list"}"#),
        err(json!("a"), -32601, "method not found: resources/list")
    );
    assert_eq!(
        client.exchange_raw(br#"{"id":2,"method":"ping"}"#),
        err(
            json!(2),
            -32600,
            "invalid request: `jsonrpc` must be \"2.0\""
        )
    );
    assert_eq!(
        client.exchange_raw(br#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#),
        err(
            Value::Null,
            -32600,
            "invalid request: `id` is a string or an integer"
        )
    );
    assert_eq!(
        client.exchange_raw(br#"{"jsonrpc":"2.0","id":3,"method":7}"#),
        err(json!(3), -32600, "invalid request: `method` is a string")
    );
    assert_eq!(
        client.exchange_raw(br#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":[]}"#),
        err(json!(4), -32602, "tools/call: `params` is an object")
    );
    assert_eq!(
        client.exchange_raw(br#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{}}"#),
        err(json!(5), -32602, "tools/call: `name` is a string")
    );
    assert_eq!(
        client.exchange_raw(
            br#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"whoami","arguments":[1]}}"#
        ),
        err(json!(6), -32602, "tools/call whoami: `arguments` is an object")
    );
    // A notification, a response to nothing and a blank line get no reply:
    // the next line written answers the ping after them.
    client.write_raw(
        br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}}"#,
    );
    client.write_raw(br#"{"jsonrpc":"2.0","id":99,"result":{}}"#);
    client.write_raw(b"   ");
    assert_eq!(
        client.exchange_raw(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#),
        pong(7)
    );
    // A batch: one reply per request in it, in order, as one array.
    assert_eq!(
        client.exchange_raw(
            br#"[{"jsonrpc":"2.0","id":8,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":9,"method":"prompts/list"}]"#
        ),
        json!([pong(8), err(json!(9), -32601, "method not found: prompts/list")])
    );
    // A line of exactly 128 MiB is read whole (and is no JSON); one past
    // it is skipped, not held: an error. Either way the next line is served.
    for (len, id, reply) in [
        (
            128 << 20,
            11,
            err(
                Value::Null,
                -32700,
                "parse error: expected value at line 1 column 1",
            ),
        ),
        (
            (128 << 20) + 10,
            10,
            err(
                Value::Null,
                -32600,
                "invalid request: a message longer than 128 MiB",
            ),
        ),
    ] {
        let mut line = vec![b'x'; len];
        line.extend_from_slice(
            format!("\n{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"ping\"}}").as_bytes(),
        );
        assert_eq!(client.exchange_raw(&line), reply, "a line of {len} bytes");
        assert_eq!(client.next_line(), pong(id));
    }
    // A batch of more than 1000 is refused whole, with one error.
    let ping = r#"{"jsonrpc":"2.0","id":12,"method":"ping"}"#;
    let batch = format!("[{}]", vec![ping; 1001].join(","));
    assert_eq!(
        client.exchange_raw(batch.as_bytes()),
        err(
            Value::Null,
            -32600,
            "invalid request: a batch of more than 1000 messages"
        )
    );
    assert_eq!(client.finish(), (Some(0), String::new()));
}

#[test]
fn messaging_tools_act_as_the_agent_with_the_commands_checks() {
    let env = Env::new();
    env.ok(&["create", "alice", "--agent", "fake-plain"]);
    env.ok(&["create", "bob", "--agent", "fake-plain"]);
    let mut a = mcp(&env, "alice");
    let mut b = mcp(&env, "bob");

    let (line, v) = ok(&a.call("whoami", json!({})));
    assert_eq!(
        line,
        format!(
            "you are alice (worker, fake-plain) in {}; MCP not wired",
            env.root.display()
        )
    );
    assert_eq!(v["name"], "alice");
    assert_eq!(v["mcp"], false);

    // send: delivered into bob's pane, once, from alice.
    let (line, v) = ok(&a.call("send", json!({"to": "bob", "text": "hello bob"})));
    assert_eq!(line, "m1 to bob: delivered");
    assert_eq!(
        v,
        json!({"messages": [{"id": "m1", "to": "bob", "state": "delivered"}]})
    );
    assert_eq!(env.submits("bob"), ["[mam] m1 from alice: hello bob"]);
    // The same refusals as `mam send`, with the same messages and classes.
    assert_eq!(
        refused(&a.call("send", json!({"to": "nobody", "text": "x"}))),
        (
            "error: no job named \"nobody\" to send to (hint: see `mam status --all`; `*` sends to every live agent, `operator` to the human)".into(),
            "not_found".into(),
            3
        )
    );
    assert_eq!(
        refused(&a.call("send", json!({"to": "bob", "text": "  "}))),
        (
            "error: empty message (hint: give the text as arguments, '-' for stdin, or --file)"
                .into(),
            "usage".into(),
            2
        )
    );
    let (line, class, code) = refused(&a.call("send", json!({"text": "no recipient"})));
    assert_eq!(
        (line.as_str(), class.as_str(), code),
        (
            "error: send: give `to` and `text`, or `messages`",
            "usage",
            2
        )
    );
    let (line, _, code) =
        refused(&a.call("send", json!({"to": "bob", "text": "x", "from": "bob"})));
    assert_eq!(code, 2, "{line}"); // no --from over MCP: identity is fixed
    assert!(line.contains("unknown field `from`"), "{line}");

    // ask → bob sees it as an open thread, answers; alice receives it.
    let (line, v) = ok(&a.call("ask", json!({"to": "bob", "question": "ready to merge?"})));
    assert_eq!(line, "q1 asked of bob; m2 to bob: delivered");
    assert_eq!(v["question"], "q1");
    let (line, v) = ok(&b.call("get_open_threads", json!({})));
    assert_eq!(line, "1 open thread(s)");
    let t = &v["threads"][0];
    assert_eq!(
        (
            &t["kind"],
            &t["id"],
            &t["role"],
            &t["counterparty"],
            &t["summary"]
        ),
        (
            &json!("question"),
            &json!("q1"),
            &json!("target"),
            &json!("alice"),
            &json!("ready to merge?")
        )
    );
    assert!(t["age_seconds"].as_i64().unwrap() >= 0);
    let (line, v) = ok(&a.call("get_open_threads", json!({})));
    assert_eq!(line, "1 open thread(s)");
    assert_eq!(v["threads"][0]["role"], "asker");
    // Only the one asked may answer, and only a question id is one.
    assert_eq!(
        refused(&a.call("answer", json!({"question_id": "q1", "text": "me"}))).2,
        4
    );
    assert_eq!(
        refused(&b.call("answer", json!({"question_id": "m1", "text": "x"}))),
        (
            "error: m1 is not a question id (q<N>)".into(),
            "usage".into(),
            2
        )
    );
    let (line, _) = ok(&b.call("answer", json!({"question_id": "q1", "text": "yes"})));
    assert_eq!(line, "q1 answered; m3 to alice: delivered");
    assert_eq!(
        ok(&b.call("get_open_threads", json!({}))).0,
        "0 open thread(s)"
    );

    // inbox peeks, recv takes (a batch), and says what is left.
    env.ok(&["send", "alice", "from the operator"]);
    let (line, v) = ok(&a.call("inbox", json!({})));
    assert_eq!(line, "2 message(s) for alice");
    assert_eq!(v["messages"].as_array().unwrap().len(), 2);
    let (line, v) = ok(&a.call("recv", json!({"max": 1})));
    assert_eq!(line, "1 message(s) taken, 1 more waiting");
    assert_eq!(v["messages"][0]["id"], "m3");
    assert_eq!(v["messages"][0]["kind"], "answer");
    assert_eq!(v["remaining"], 1);
    let (line, v) = ok(&a.call("recv", json!({})));
    assert_eq!(line, "1 message(s) taken, 0 more waiting");
    assert_eq!(v["messages"][0]["body"], "from the operator");
    assert_eq!(
        ok(&a.call("recv", json!({}))).0,
        "0 message(s) taken, 0 more waiting"
    );
    assert_eq!(refused(&a.call("recv", json!({"max": 0}))).2, 2);

    // cancel: your own open question, never someone else's.
    let (_, v) = ok(&a.call("ask", json!({"to": "operator", "question": "lunch?"})));
    let q = v["question"].as_str().unwrap().to_string();
    let (line, class, code) = refused(&b.call("cancel", json!({"id": q})));
    assert_eq!(
        (line, class, code),
        (
            format!(
                "error: {q} belongs to alice, not to bob (hint: only its owner (or the operator) can cancel it)"
            ),
            "conflict".into(),
            4
        )
    );
    assert_eq!(
        ok(&a.call("cancel", json!({"id": q}))).0,
        format!("{q}: cancelled")
    );
    assert_eq!(refused(&a.call("cancel", json!({"id": q}))).2, 4); // not open any more
    assert_eq!(refused(&a.call("cancel", json!({"id": "m999"}))).2, 3);

    // remind / reminders / cancel_reminder.
    let (line, v) = ok(&a.call("remind", json!({"text": "check CI", "in": "10m"})));
    assert!(line.starts_with("r1 for alice at "), "{line}");
    assert_eq!(v["id"], "r1");
    assert_eq!(v["target"], "alice");
    let (line, v) = ok(&a.call("reminders", json!({})));
    assert_eq!(line, "1 reminder(s)");
    assert_eq!(v["reminders"][0]["text"], "check CI");
    assert_eq!(
        refused(&a.call("remind", json!({"text": "x"}))),
        (
            "error: say when: --in DUR or --at TIME".into(),
            "usage".into(),
            2
        )
    );
    assert_eq!(
        refused(&a.call("remind", json!({"text": "x", "in": "soon"}))).2,
        2
    );
    assert_eq!(
        refused(&a.call("remind", json!({"text": "x", "in": "1m", "to": "nobody"}))).2,
        3
    );
    assert_eq!(
        refused(&b.call("cancel_reminder", json!({"id": "r1"}))).2,
        4
    );
    assert_eq!(
        refused(&a.call("cancel_reminder", json!({"id": "m1"}))),
        (
            "error: m1 is not a reminder id (r<N>) (hint: use `cancel` for messages and questions)"
                .into(),
            "usage".into(),
            2
        )
    );
    assert_eq!(
        ok(&a.call("cancel_reminder", json!({"id": "r1"}))).0,
        "r1: cancelled"
    );
    assert_eq!(ok(&a.call("reminders", json!({}))).0, "0 reminder(s)");

    // explain is read-only and names the job's state.
    let (line, v) = ok(&a.call("explain", json!({})));
    assert_eq!(
        line,
        format!(
            "alice: recorded {}, screen shows {}",
            v["recorded_state"].as_str().unwrap(),
            v["screen_state"].as_str().unwrap()
        )
    );
    assert_eq!(v["name"], "alice");
    assert_eq!(v["mcp"], Value::Null);
    assert_eq!(refused(&a.call("explain", json!({"name": "ghost"}))).2, 3);

    // Each call's events were published with the same transactions as the
    // CLI's: the registry holds one message per send, nothing doubled.
    let all: Vec<Value> = env.json(&["inbox", "bob", "--all", "--json"])["messages"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(all.len(), 2);
    for c in [a, b] {
        assert_eq!(c.finish().0, Some(0));
    }
}

#[test]
fn report_tools_act_on_your_own_job_inside_its_workdir() {
    let env = Env::new();
    env.ok(&["create", "w", "--agent", "fake-plain", "--no-wait"]);
    env.ok(&[
        "create",
        "r",
        "--agent",
        "fake-plain",
        "--no-wait",
        "--role",
        "reviewer",
    ]);
    let mut w = mcp(&env, "w");
    let mut r = mcp(&env, "r");
    assert_eq!(
        ok(&w.call("progress", json!({"percent": 40, "note": "parser done"}))).0,
        "w: 40%"
    );
    let j = env.job("w");
    assert_eq!(
        (&j["progress"], &j["progress_note"]),
        (&json!(40), &json!("parser done"))
    );
    assert_eq!(
        refused(&w.call("progress", json!({"percent": 140}))),
        (
            "error: progress 140 is not between 0 and 100".into(),
            "usage".into(),
            2
        )
    );
    // Paths resolve inside the job's workdir; outside is refused.
    write(&env.path("report.md"), "all good");
    write(&env.path("details.md"), "two findings");
    assert_eq!(
        refused(&r.call("done", json!({"artifacts": ["missing.md"]}))).2,
        3
    );
    let (line, class, code) = refused(&r.call("done", json!({"artifacts": ["/etc/hostname"]})));
    assert_eq!((class.as_str(), code), ("usage", 2), "{line}");
    let (line, class, code) =
        refused(&r.call("done", json!({"details_file": "../../../etc/hostname"})));
    assert_eq!((class.as_str(), code), ("usage", 2), "{line}");
    assert!(line.starts_with("error: details file: "), "{line}");
    assert_eq!(
        refused(&r.call("done", json!({"verdict": "maybe"}))).0,
        "error: verdict \"maybe\" is neither `pass` nor `not-pass`"
    );
    assert_ne!(env.job("r")["recorded_state"], "done"); // nothing half done
    let (line, v) = ok(&r.call(
        "done",
        json!({"verdict": "not-pass", "details_file": "details.md", "artifacts": ["report.md"]}),
    ));
    assert_eq!(line, "r: done (not-pass)");
    assert_eq!(
        v,
        json!({"name": "r", "state": "done", "verdict": "not-pass"})
    );
    assert_eq!(env.job("r")["recorded_state"], "done");
    // The verdict event carries the details read from the file and the
    // artifact resolved inside the workdir.
    let events = env.ok(&["events", "--json"]);
    let verdict: Value = events
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["envelope"]["kind"] == "review.verdict")
        .expect("a review.verdict event");
    assert_eq!(
        verdict["envelope"]["body"],
        json!({"verdict": "not-pass", "artifacts": [env.path("report.md").display().to_string()],
               "details": "two findings"})
    );
    assert_eq!(
        refused(&w.call("fail", json!({"reason": " "}))).0,
        "error: say why the job failed"
    );
    assert_eq!(
        ok(&w.call("fail", json!({"reason": "out of disk"}))).0,
        "w: failed"
    );
    assert_eq!(env.job("w")["reason"], "out of disk");
    // The operator's server has no job of its own to report on.
    let mut op = mcp(&env, "operator");
    assert_eq!(refused(&op.call("progress", json!({"percent": 1}))).2, 2);
    // The operator (and a pm) see the whole workspace's threads.
    env.cmd()
        .env("MAM_AGENT", "w")
        .args(["ask", "r", "why?"])
        .output()
        .unwrap();
    let (line, v) = ok(&op.call("get_open_threads", json!({})));
    assert_eq!(line, "2 open thread(s) in the workspace");
    let roles: Vec<(&str, &str)> = v["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("w", "asker"), ("r", "target")]);
}

#[test]
fn an_unknown_agent_is_refused_by_every_tool_that_acts() {
    let env = Env::new();
    env.ok(&["init", "-q"]);
    let mut c = mcp(&env, "ghost");
    assert_eq!(
        refused(&c.call("whoami", json!({}))),
        (
            "error: MAM_AGENT is \"ghost\", but this workspace has no such job (hint: unset MAM_AGENT to act as the operator, or check --workspace)".into(),
            "not_found".into(),
            3
        )
    );
    assert_eq!(
        refused(&c.call("send", json!({"to": "operator", "text": "x"}))).2,
        3
    );
    assert_eq!(refused(&c.call("recv", json!({}))).2, 3);
    assert_eq!(refused(&c.call("get_open_threads", json!({}))).2, 3);
    assert_eq!(
        refused(&c.call("remind", json!({"text": "x", "in": "1m"}))).2,
        3
    );
    assert_eq!(
        env.json(&["inbox", "operator", "--json"])["messages"],
        json!([])
    );
}

#[test]
fn concurrent_tool_calls_and_commands_lose_nothing() {
    let env = Env::new();
    env.ok(&["create", "a", "--agent", "fake-plain", "--no-wait"]);
    let mut c = mcp(&env, "a");
    // 25 calls written at once (in flight together) while 25 `mam send`
    // processes race them, all as `a`, all to the operator.
    let ids: Vec<u64> = (0..25)
        .map(|i| {
            c.send(
                "tools/call",
                json!({"name": "send", "arguments": {"to": "operator", "text": format!("tool {i}")}}),
            )
        })
        .collect();
    let procs: Vec<_> = (0..25)
        .map(|i| {
            env.cmd()
                .env("MAM_AGENT", "a")
                .args(["send", "-q", "operator", &format!("cli {i}")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for id in ids {
        let v = c.response(id);
        ok(&v["result"]);
    }
    for p in procs {
        let out = p.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let msgs = env.json(&["inbox", "operator", "--all", "--json"])["messages"]
        .as_array()
        .unwrap()
        .clone();
    let bodies: HashSet<String> = msgs
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect();
    let want: HashSet<String> = (0..25)
        .flat_map(|i| [format!("tool {i}"), format!("cli {i}")])
        .collect();
    assert_eq!(msgs.len(), 50);
    assert_eq!(bodies, want);
    let ids: HashSet<&str> = msgs.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 50);
}

#[test]
fn create_wires_the_server_in_where_the_profile_knows_how() {
    let env = Env::new();
    // The fake agent with Gemini's wiring (a settings file named by an
    // environment variable; no arguments the fake agent would refuse).
    let mut extra = env.fake_profile("fake-mcp", r#""--trust""#, None);
    extra.push_str("mcp_wiring = \"gemini-defaults\"\nmcp = true\n");
    env.write_config(&extra);
    env.ok(&["create", "x", "--agent", "fake-mcp"]);
    let file = env.root.join(".mam/mcp/x.gemini.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        doc,
        json!({"mcpServers": {"mam": {
            "command": mam_bin().display().to_string(),
            "args": ["mcp"],
            "env": {"MAM_AGENT": "x", "MAM_WORKSPACE": env.root.display().to_string(),
                    "MAM_TMUX_SOCKET": env.socket,
                    "XDG_CONFIG_HOME": env.home.join(".config").display().to_string()},
            "trust": true}}})
    );
    let who = env
        .cmd()
        .env("MAM_AGENT", "x")
        .args(["whoami", "--json"])
        .output()
        .unwrap();
    let who: Value = serde_json::from_slice(&who.stdout).unwrap();
    assert_eq!(who["mcp"], true);
    let explain = env.ok(&["explain", "x"]);
    assert!(
        explain.contains("\nmcp: wired (gemini system defaults)\n"),
        "{explain}"
    );
    // The server it names acts as the job.
    let mut c = env.cmd();
    c.arg("mcp").env("MAM_AGENT", "x");
    let (mut client, _) = McpClient::start(c);
    assert_eq!(
        ok(&client.call("whoami", json!({}))).0,
        format!(
            "you are x (worker, fake-mcp) in {}; MCP wired",
            env.root.display()
        )
    );
    // --no-mcp leaves it out; --mcp where no wiring is known is refused.
    env.ok(&["create", "y", "--agent", "fake-mcp", "--no-mcp"]);
    assert!(!env.root.join(".mam/mcp/y.gemini.json").exists());
    assert!(
        env.ok(&["explain", "y"])
            .contains("\nmcp: not wired; the agent uses the mam command line\n")
    );
    env.expect(&["create", "z", "--agent", "fake-plain", "--mcp"])
        .code(2)
        .stderr_is(
            "mam: error: --mcp: mam does not know how to give fake-plain an MCP server\n\
             hint: MCP is wired for claude, codex and gemini; other agents use the `mam` command line\n",
        )
        .stdout_is("")
        .run();
    assert!(
        env.json(&["status", "--all", "--json"])["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["name"] != "z")
    );
}

/// `mam mcp` as job `who` with mam's clock standing at `ms`.
fn mcp_at(env: &Env, who: &str, ms: &str) -> McpClient {
    let mut c = env.cmd();
    c.arg("mcp").env("MAM_AGENT", who).env(CLOCK_ENV, ms);
    McpClient::start(c).0
}

#[test]
fn lease_tools_are_the_commands_leases() {
    let env = Env::new();
    for n in ["alice", "bob"] {
        env.ok(&["create", "-q", n, "--agent", "shell", "--no-wait"]);
    }
    let t0 = "1800000000000";
    let mut a = mcp_at(&env, "alice", t0);
    let mut b = mcp_at(&env, "bob", t0);
    let (line, v) = ok(&a.call(
        "lease",
        json!({"paths": ["src/**"], "ttl": "10m", "reason": "refactor the parser"}),
    ));
    assert_eq!(line, "l1 on src/**");
    assert_eq!(v["leases"][0]["holder"], "alice");
    assert_eq!(v["leases"][0]["shared"], false);
    assert_eq!(
        refused(&b.call("lease", json!({"paths": ["src/a.rs"]}))),
        (
            "error: src/a.rs overlaps l1 on src/** (exclusive), held by alice until 2027-01-15T08:10:00.000Z (in 10m): refactor the parser \
             (hint: wait for it, ask alice (`mam send alice …`), or lease a narrower path; the operator can break it with `mam release l1 --force`)"
                .into(),
            "conflict".into(),
            4
        )
    );
    assert_eq!(
        refused(&b.call("lease", json!({"paths": ["src/a.rs"], "ttl": "forever"}))).2,
        2
    );
    // What each sees, and who may release.
    assert_eq!(ok(&b.call("leases", json!({}))).0, "0 active lease(s)");
    assert_eq!(
        ok(&b.call("leases", json!({"all": true}))).0,
        "1 active lease(s)"
    );
    assert_eq!(refused(&b.call("release", json!({"leases": ["l1"]}))).2, 4);
    assert_eq!(
        ok(&a.call("release", json!({"leases": ["src/**"]}))).0,
        "l1 on src/**: released"
    );
    assert_eq!(
        ok(&b.call("lease", json!({"paths": ["src/a.rs"], "shared": true}))).0,
        "l2 on src/a.rs"
    );
    // The CLI sees the same registry.
    let v: Value = serde_json::from_str(&env.ok(&["leases", "bob", "--json"])).unwrap();
    assert_eq!(v["leases"][0]["id"], "l2", "{v}");
}

#[test]
fn send_takes_a_list_stored_all_or_nothing() {
    let env = Env::new();
    for n in ["alice", "bob", "carol"] {
        env.ok(&["create", "-q", n, "--agent", "shell", "--no-wait"]);
    }
    let mut a = mcp(&env, "alice");
    let (line, v) = ok(&a.call(
        "send",
        json!({"messages": [{"to": "bob", "text": "one"}, {"to": "carol", "text": "two", "reply_to": null}]}),
    ));
    assert_eq!(line, "m1 to bob: delivered; m2 to carol: delivered");
    assert_eq!(
        v,
        json!({"messages": [{"id": "m1", "to": "bob", "state": "delivered"},
                            {"id": "m2", "to": "carol", "state": "delivered"}]})
    );
    // One bad item: nothing of the list is stored.
    assert_eq!(
        refused(&a.call(
            "send",
            json!({"messages": [{"to": "bob", "text": "three"}, {"to": "ghost", "text": "four"}]}),
        )),
        (
            "error: messages[1]: no job named \"ghost\" to send to (hint: see `mam status --all`; `*` sends to every live agent, `operator` to the human)".into(),
            "usage".into(),
            2
        )
    );
    // Neither a message nor a list, or both: refused.
    assert_eq!(refused(&a.call("send", json!({"to": "bob"}))).2, 2);
    assert_eq!(
        refused(&a.call(
            "send",
            json!({"to": "bob", "text": "x", "messages": [{"to": "bob", "text": "y"}]})
        ))
        .0,
        "error: send: give `to` and `text`, or `messages`"
    );
    let inbox: Value = serde_json::from_str(&env.ok(&["inbox", "bob", "--json"])).unwrap();
    let texts: Vec<&str> = inbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["one"]);
}
