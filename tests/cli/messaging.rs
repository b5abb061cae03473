//! send / broadcast / ask / answer / recv / inbox / threads / cancel /
//! progress / done / fail, delivered into real panes and verified on screen.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

/// Rules without `queued`: input while busy is not accepted.
fn no_queue_rules() -> String {
    FAKE_RULES.replace("queued = ['Press up to edit queued messages']\n", "")
}

fn inbox(env: &Env, who: &str) -> Vec<Value> {
    env.json(&["inbox", who, "--all", "--json"])["messages"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn a_message_to_a_ready_agent_arrives_once_and_is_marked_delivered() {
    let env = Env::new();
    env.ok(&["create", "alice", "--agent", "fake-plain"]);
    let out = env.ok(&["send", "alice", "please", "look at", "-v flag;"]);
    assert_eq!(out.trim(), "m1 to alice: delivered");
    assert_eq!(
        env.submits("alice"),
        vec!["[mam] m1 from operator: please look at -v flag;"]
    );
    let msgs = inbox(&env, "alice");
    assert_eq!(msgs[0]["state"], "delivered");
    assert_eq!(msgs[0]["attempts"], 1);
    // A reply names what it answers.
    let out = env
        .cmd()
        .env("MAM_AGENT", "alice")
        .args(["send", "operator", "--reply-to", "m1", "on it"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let m = &inbox(&env, "operator")[0];
    assert_eq!(m["in_reply_to"], "m1");
    assert_eq!(m["from"], "alice");
}

#[test]
fn a_message_to_a_busy_agent_waits_and_arrives_once_it_is_idle() {
    let env = Env::new();
    env.write_config(&env.fake_profile("busy", r#""--busy", "2""#, Some(&no_queue_rules())));
    env.ok(&["create", "b", "--agent", "busy", "--prompt", "long task"]);
    let out = env.ok(&["send", "b", "when you are free"]);
    assert_eq!(out.trim(), "m1 to b: queued");
    assert_eq!(
        env.submits("b"),
        vec!["long task"],
        "typed into a busy agent"
    );
    let m = &inbox(&env, "b")[0];
    assert_eq!(m["state"], "queued");
    assert_eq!(m["last_error"], "the agent is busy", "{m}");
    env.eventually(
        "delivery after the agent is idle",
        Duration::from_secs(10),
        || {
            env.ok(&["reconcile", "--once"]);
            inbox(&env, "b")[0]["state"] == "delivered"
        },
    );
    assert_eq!(
        env.submits("b"),
        vec!["long task", "[mam] m1 from operator: when you are free"]
    );
    // Another pass delivers nothing twice.
    env.ok(&["reconcile", "--once"]);
    assert_eq!(env.submits("b").len(), 2);
}

#[test]
fn input_while_busy_counts_as_delivered_when_the_agent_shows_it_queued() {
    let env = Env::new();
    env.write_config(&env.fake_profile("busyq", r#""--busy", "2""#, None));
    env.ok(&["create", "q", "--agent", "busyq", "--prompt", "long task"]);
    let out = env.ok(&["send", "q", "queued while you work"]);
    assert_eq!(out.trim(), "m1 to q: delivered");
    let queued: Vec<_> = env
        .log("q")
        .into_iter()
        .filter(|r| r["event"] == "queued")
        .collect();
    assert_eq!(queued.len(), 1, "{queued:?}");
    env.eventually(
        "the queued message to be processed",
        Duration::from_secs(6),
        || env.submits("q").len() == 2,
    );
    assert_eq!(
        env.submits("q")[1],
        "[mam] m1 from operator: queued while you work"
    );
}

#[test]
fn a_swallowed_enter_is_rescued_and_the_message_arrives_once() {
    let env = Env::new();
    env.ok(&["create", "h", "--agent", "fake-hasty"]);
    env.ok(&["send", "h", "quick"]);
    assert_eq!(env.submits("h"), vec!["[mam] m1 from operator: quick"]);
}

#[test]
fn a_message_to_a_stopped_agent_waits_and_an_unknown_one_is_refused() {
    let env = Env::new();
    env.ok(&["create", "s", "--agent", "fake-plain"]);
    env.ok(&["stop", "s"]);
    assert_eq!(env.ok(&["send", "s", "later"]).trim(), "m1 to s: queued");
    env.expect(&["send", "nobody", "hi"])
        .code(3)
        .stdout_is("")
        .stderr_is(
            "mam: error: no job named \"nobody\" to send to\n\
             hint: see `mam status --all`; `*` sends to every live agent, `operator` to the human\n",
        )
        .run();
    env.expect(&["send", "s"])
        .code(2)
        .stdout_is("")
        .stderr_is(
            "mam: error: empty message\n\
             hint: give the text as arguments, '-' for stdin, or --file\n",
        )
        .run();
    // resume delivers the oldest waiting message at once, then says why it restarted.
    env.ok(&["resume", "s"]);
    let got = env.submits("s");
    assert_eq!(got[0], "/exit", "stop typed /exit first");
    assert_eq!(
        got[1],
        "[mam] m1 from operator: later\n(+1 more queued: mam recv)"
    );
    env.ok(&["reconcile", "--once"]); // one message per pass: now the notice
    let got = env.submits("s");
    let id = env.job("s")["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        got[2],
        format!(
            "[mam] m2 from operator: you were restarted by mam resume (it was stopped: mam stop); \
             your conversation {id} was resumed. Check `mam inbox` and `mam threads` for anything pending."
        )
    );
}

#[test]
fn more_queued_messages_are_announced() {
    let env = Env::new();
    env.ok(&["create", "m", "--agent", "fake-plain"]);
    env.ok(&["stop", "m"]);
    for t in ["one", "two", "three"] {
        env.ok(&["send", "m", t]);
    }
    env.ok(&["resume", "m"]); // delivers the oldest (m1); the restart notice is m4
    assert_eq!(
        env.submits("m")[1],
        "[mam] m1 from operator: one\n(+3 more queued: mam recv)"
    );
    env.expect(&["recv", "--batch", "5"])
        .by_agent("m")
        .stdout_is(
            "m1 from operator:\n  one\n\
             m2 from operator:\n  two\n\
             m3 from operator:\n  three\n\
             m4 from operator [system]:\n  you were restarted by mam resume (it was stopped: mam stop); \
             your conversation <UUID> was resumed. Check `mam inbox` and `mam threads` for anything pending.\n",
        )
        .stderr_is("")
        .run();
}

#[test]
fn concurrent_sends_lose_nothing() {
    let env = Env::new();
    env.ok(&["create", "sink", "--agent", "fake-plain", "--no-wait"]);
    env.ok(&["stop", "--force", "sink"]);
    let threads: Vec<_> = (0..32)
        .map(|t| {
            let mut cmds = Vec::new();
            for i in 0..100 {
                let mut c = env.cmd();
                c.args(["send", "-q", "sink", &format!("t{t} n{i}")]);
                cmds.push(c);
            }
            std::thread::spawn(move || {
                let mut errors = Vec::new();
                for mut c in cmds {
                    let out = c.output().unwrap();
                    if !out.status.success() || !out.stderr.is_empty() {
                        errors.push(String::from_utf8_lossy(&out.stderr).into_owned());
                    }
                }
                errors
            })
        })
        .collect();
    let errors: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert!(
        errors.is_empty(),
        "{} failures, e.g. {:?}",
        errors.len(),
        errors.first()
    );
    let msgs = inbox(&env, "sink");
    assert_eq!(msgs.len(), 3200);
    let ids: HashSet<&str> = msgs.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3200);
    let bodies: HashSet<&str> = msgs.iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies.len(), 3200);
}

/// JSON Lines for `mam send --batch`: (to, text) each.
fn batch_lines(items: &[(&str, &str)]) -> String {
    items
        .iter()
        .map(|(to, text)| serde_json::json!({"to": to, "text": text}).to_string() + "\n")
        .collect()
}

#[test]
fn a_batch_stores_every_line_in_order_with_a_result_per_line() {
    let env = Env::new();
    env.ok(&["create", "sink", "--agent", "fake-plain", "--no-wait"]);
    env.ok(&["stop", "--force", "sink"]);
    assert_eq!(env.ok(&["send", "-q", "sink", "before"]).trim(), "m1");
    let input = concat!(
        r#"{"to": "sink", "text": "first"}"#,
        "\n\n",
        r#"{"to": "operator", "text": "second\u001b[31m red", "reply_to": null}"#,
        "\n",
        r#"{"to": "sink", "text": "third", "reply_to": "m1"}"#,
        "\n",
    );
    env.expect(&["send", "--batch"])
        .stdin(input)
        .stdout_is("m2 to sink: queued\nm3 to operator: queued\nm4 to sink: queued\n")
        .stderr_is("")
        .run();
    let msgs = inbox(&env, "sink");
    let bodies: Vec<&str> = msgs.iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["before", "first", "third"]);
    assert_eq!(msgs[2]["in_reply_to"], "m1");
    assert_eq!(inbox(&env, "operator")[0]["body"], "second[31m red");
    // --json: one line per input line, named by its line number.
    env.expect(&["send", "--batch", "--json"])
        .stdin(&batch_lines(&[("sink", "a"), ("operator", "b")]))
        .stdout_is(concat!(
            r#"{"line":1,"messages":[{"id":"m5","to":"sink","state":"queued"}]}"#,
            "\n",
            r#"{"line":2,"messages":[{"id":"m6","to":"operator","state":"queued"}]}"#,
            "\n",
        ))
        .stderr_is("")
        .run();
    // Every message has its signed event, in the same order.
    let events: Vec<Value> = env
        .ok(&["events", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &Value| e["envelope"]["kind"] == "message.sent")
        .collect();
    assert!(events.iter().all(|e| e["verified"] == true));
    let sent: Vec<&str> = events
        .iter()
        .map(|e| e["envelope"]["body"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(sent, ["m1", "m2", "m3", "m4", "m5", "m6"]);
}

#[test]
fn a_batch_delivers_to_a_ready_agent_after_it_is_stored() {
    let env = Env::new();
    env.ok(&["create", "alice", "--agent", "fake-plain"]);
    env.expect(&["send", "--batch"])
        .stdin(&batch_lines(&[("alice", "one"), ("alice", "two")]))
        .stdout_is("m1 to alice: delivered\nm2 to alice: delivered\n")
        .stderr_is("")
        .run();
    assert_eq!(
        env.submits("alice"),
        vec![
            "[mam] m1 from operator: one\n(+1 more queued: mam recv)",
            "[mam] m2 from operator: two"
        ]
    );
}

#[test]
fn a_bad_batch_line_stores_nothing_and_names_its_line() {
    let env = Env::new();
    env.ok(&["create", "sink", "--agent", "fake-plain", "--no-wait"]);
    env.ok(&["stop", "--force", "sink"]);
    let good = r#"{"to": "sink", "text": "fine"}"#;
    let cases = [
        (
            format!("{good}\n{good}\n{{\"to\": \"ghost\", \"text\": \"x\"}}\n"),
            "mam: error: line 3: no job named \"ghost\" to send to\nhint: see `mam status --all`; `*` sends to every live agent, `operator` to the human\n",
        ),
        (
            format!("{good}\n{{\"to\": \"sink\"}}\n"),
            "mam: error: line 2: missing field `text` (column 14)\nhint: each line is one JSON object: {\"to\": \"NAME\", \"text\": \"…\", \"reply_to\": \"m12\"} (reply_to optional)\n",
        ),
        (
            format!("{good}\nnot json\n"),
            "mam: error: line 2: expected ident (column 2)\nhint: each line is one JSON object: {\"to\": \"NAME\", \"text\": \"…\", \"reply_to\": \"m12\"} (reply_to optional)\n",
        ),
        (
            format!("{good}\n{{\"to\": \"sink\", \"text\": \" \\n \"}}\n"),
            "mam: error: line 2: empty message\nhint: give every message a text that is not blank\n",
        ),
        (
            format!("{good}\n{{\"to\": \"sink\", \"text\": \"x\", \"reply_to\": \"m99\"}}\n"),
            "mam: error: line 2: reply_to m99: no such message or question\n",
        ),
        (
            format!("{good}\n{{\"to\": \"sink\", \"text\": \"x\", \"cc\": \"bob\"}}\n"),
            "mam: error: line 2: unknown field `cc`, expected one of `to`, `text`, `reply_to` (column 32)\nhint: each line is one JSON object: {\"to\": \"NAME\", \"text\": \"…\", \"reply_to\": \"m12\"} (reply_to optional)\n",
        ),
        (
            "\n \n".to_string(),
            "mam: error: empty batch: no lines on stdin\nhint: give one JSON object per line: {\"to\": \"NAME\", \"text\": \"…\"}\n",
        ),
    ];
    for (input, stderr) in &cases {
        env.expect(&["send", "--batch"])
            .stdin(input)
            .code(2)
            .stdout_is("")
            .stderr_is(stderr)
            .run();
    }
    assert_eq!(inbox(&env, "sink").len(), 0, "a bad batch stored something");
    assert_eq!(inbox(&env, "operator").len(), 0);
}

#[test]
fn batches_and_single_sends_at_once_store_every_line_exactly_once() {
    let env = Env::new();
    env.ok(&["create", "sink", "--agent", "fake-plain", "--no-wait"]);
    env.ok(&["stop", "--force", "sink"]);
    const BATCHES: usize = 8;
    const LINES: usize = 250;
    const SINGLES: usize = 8;
    const SENDS: usize = 25;
    let mut threads = Vec::new();
    for b in 0..BATCHES {
        let mut c = env.cmd();
        c.args(["send", "--batch", "--json"]);
        let texts: Vec<String> = (0..LINES).map(|i| format!("batch {b} line {i}")).collect();
        let items: Vec<(&str, &str)> = texts.iter().map(|t| ("sink", t.as_str())).collect();
        let input = batch_lines(&items);
        threads.push(std::thread::spawn(move || {
            use std::io::Write;
            c.stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = c.spawn().unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(String::from_utf8_lossy(&out.stderr), "");
            // One result line per input line, each naming its own line.
            let lines: Vec<Value> = String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(lines.len(), LINES);
            for (i, l) in lines.iter().enumerate() {
                assert_eq!(l["line"], i + 1);
            }
            lines
                .iter()
                .map(|l| l["messages"][0]["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }));
    }
    for t in 0..SINGLES {
        let cmds: Vec<_> = (0..SENDS)
            .map(|i| {
                let mut c = env.cmd();
                c.args(["send", "-q", "sink", &format!("single {t} n{i}")]);
                c
            })
            .collect();
        threads.push(std::thread::spawn(move || {
            cmds.into_iter()
                .map(|mut c| {
                    let out = c.output().unwrap();
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    String::from_utf8(out.stdout).unwrap().trim().to_string()
                })
                .collect::<Vec<_>>()
        }));
    }
    let reported: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let total = BATCHES * LINES + SINGLES * SENDS;
    assert_eq!(reported.iter().collect::<HashSet<_>>().len(), total);
    let msgs = inbox(&env, "sink");
    assert_eq!(msgs.len(), total);
    let ids: HashSet<&str> = msgs.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, reported.iter().map(String::as_str).collect());
    let bodies: HashSet<&str> = msgs.iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies.len(), total);
    // Each batch's lines are contiguous ids: one transaction each.
    for b in 0..BATCHES {
        let mine: Vec<i64> = msgs
            .iter()
            .filter(|m| {
                m["body"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("batch {b} "))
            })
            .map(|m| m["id"].as_str().unwrap()[1..].parse().unwrap())
            .collect();
        assert_eq!(mine.len(), LINES);
        assert_eq!(
            mine.iter().max().unwrap() - mine.iter().min().unwrap(),
            LINES as i64 - 1
        );
    }
}

#[test]
fn a_broadcast_reaches_every_live_agent_but_the_sender_once() {
    let env = Env::new();
    for n in ["a", "b", "c"] {
        env.ok(&["create", n, "--agent", "fake-plain"]);
    }
    env.ok(&["create", "off", "--agent", "fake-plain"]);
    env.ok(&["stop", "off"]);
    let out = env
        .cmd()
        .env("MAM_AGENT", "a")
        .args(["send", "*", "standup in 5"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected_tail = "standup in 5\n(broadcast: may need no action from you)";
    assert!(
        env.submits("a").is_empty(),
        "the sender got its own broadcast"
    );
    for n in ["b", "c"] {
        let got = env.submits(n);
        assert_eq!(got.len(), 1, "{n}: {got:?}");
        assert!(
            got[0].starts_with("[mam] m") && got[0].ends_with(expected_tail),
            "{got:?}"
        );
    }
    assert!(inbox(&env, "off").is_empty());
}

#[test]
fn ask_answer_and_threads() {
    let env = Env::new();
    env.ok(&["create", "asker", "--agent", "fake-plain"]);
    env.ok(&["create", "expert", "--agent", "fake-plain"]);
    let as_ =
        |who: &str, args: &[&str]| env.cmd().env("MAM_AGENT", who).args(args).output().unwrap();
    let out = as_("asker", &["ask", "expert", "which", "port?"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "q1 asked of expert"
    );
    let typed = env.submits("expert");
    assert_eq!(
        typed,
        vec!["[mam] m1 from asker: question q1: which port?\n(answer with: mam answer q1 \"…\")"]
    );
    // Threads: asker to one side, target to the other.
    let t: Value = serde_json::from_slice(&as_("asker", &["threads", "--json"]).stdout).unwrap();
    assert_eq!(t["threads"][0]["role"], "asker");
    assert_eq!(t["threads"][0]["counterparty"], "expert");
    let t: Value = serde_json::from_slice(&as_("expert", &["threads", "--json"]).stdout).unwrap();
    assert_eq!(t["threads"][0]["role"], "target");
    // Someone else cannot answer or cancel it.
    env.ok(&["create", "other", "--agent", "fake-plain", "--no-wait"]);
    assert_eq!(
        as_("other", &["answer", "q1", "8080"]).status.code(),
        Some(4)
    );
    assert_eq!(as_("other", &["cancel", "q1"]).status.code(), Some(4));
    // The answer goes back as a reply to the question.
    assert!(as_("expert", &["answer", "q1", "8080"]).status.success());
    let reply = env.json(&["inbox", "asker", "--json"])["messages"][0].clone();
    assert_eq!(reply["in_reply_to"], "q1");
    assert_eq!(reply["kind"], "answer");
    assert_eq!(
        env.submits("asker"),
        vec!["[mam] m2 from expert (reply to q1): answer to q1 (which port?): 8080"]
    );
    // Answering twice: conflict.
    let out = as_("expert", &["answer", "q1", "9090"]);
    assert_eq!(out.status.code(), Some(4));
    // Closed: gone from threads.
    let t: Value = serde_json::from_slice(&as_("asker", &["threads", "--json"]).stdout).unwrap();
    assert!(
        t["threads"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["id"] != "q1"),
        "{t}"
    );
}

#[test]
fn cancelling_your_own_question_removes_it_from_threads() {
    let env = Env::new();
    env.ok(&["create", "x", "--agent", "fake-plain"]);
    env.ok(&["stop", "x"]);
    let out = env.ok(&["ask", "x", "still there?"]);
    assert!(out.starts_with("q1"), "{out}");
    assert_eq!(
        env.json(&["threads", "--json"])["threads"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    env.ok(&["cancel", "q1"]);
    assert!(
        env.json(&["threads", "--json"])["threads"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(inbox(&env, "x")[0]["state"], "cancelled");
    env.fails(&["cancel", "q1"], 4);
    env.fails(&["cancel", "q99"], 3);
    env.fails(&["cancel", "zz"], 2);
}

#[test]
fn recv_hands_each_message_out_once_across_concurrent_callers() {
    let env = Env::new();
    for i in 0..60 {
        env.ok(&[
            "send",
            "-q",
            "operator",
            "--from",
            "operator",
            &format!("n{i}"),
        ]);
    }
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let mut cmds: Vec<_> = (0..20)
                .map(|_| {
                    let mut c = env.cmd();
                    c.args(["recv", "--batch", "3", "--json"]);
                    c
                })
                .collect();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                for c in cmds.iter_mut() {
                    let out = c.output().unwrap();
                    assert!(out.status.success());
                    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
                    for m in v["messages"].as_array().unwrap() {
                        got.push(m["id"].as_str().unwrap().to_string());
                    }
                }
                got
            })
        })
        .collect();
    let all: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), 60, "handed out {} times", all.len());
    assert_eq!(unique.len(), 60);
    // Nothing left; --wait times out with exit 5.
    let out = env.mam(&["recv", "--wait", "0.3"]);
    assert_eq!(out.status.code(), Some(5));
}

#[test]
fn hostile_bodies_are_sanitised_and_break_nothing() {
    let env = Env::new();
    env.ok(&["create", "h", "--agent", "fake-plain"]);
    env.ok(&[
        "send",
        "h",
        "\x1b]0;title\x07\x1b[2J wipe \x03 ctrl-c; -- -rf ;",
    ]);
    let huge = "x".repeat(1 << 20);
    let file = env.path("huge.txt");
    write(&file, &huge);
    let out = env.ok(&["send", "h", "--file", "huge.txt"]);
    assert_eq!(out.trim(), "m2 to h: delivered");
    env.ok(&["send", "h", "after the storm"]);
    let got = env.submits("h");
    assert_eq!(
        got[0],
        "[mam] m1 from operator: ]0;title[2J wipe  ctrl-c; -- -rf ;"
    );
    let attachment = env.path(".mam/attachments/m2.md");
    assert!(
        got[1].contains(&attachment.display().to_string()),
        "{}",
        &got[1][..300.min(got[1].len())]
    );
    assert!(got[1].len() < 2000, "the excerpt is short");
    assert_eq!(std::fs::read_to_string(&attachment).unwrap(), huge);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&attachment).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(got[2], "[mam] m3 from operator: after the storm");
    assert!(env.tmux(&["list-sessions"]).status.success());
}

#[test]
fn a_long_broadcast_gets_an_attachment_per_recipient() {
    let env = Env::new();
    env.ok(&["create", "a", "--agent", "fake-plain"]);
    env.ok(&["create", "b", "--agent", "fake-plain"]);
    let long = "word ".repeat(400);
    env.ok(&["send", "*", &long]);
    for (n, id) in [("a", "m1"), ("b", "m2")] {
        let got = env.submits(n);
        assert_eq!(got.len(), 1);
        assert!(
            got[0].contains(&format!("attachments/{id}.md")),
            "{}",
            got[0]
        );
    }
}

#[test]
fn progress_done_and_fail_report_on_your_own_job() {
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
    let as_ =
        |who: &str, args: &[&str]| env.cmd().env("MAM_AGENT", who).args(args).output().unwrap();
    assert!(
        as_("w", &["progress", "40", "parser", "done"])
            .status
            .success()
    );
    let j = env.job("w");
    assert_eq!(j["progress"], 40);
    assert_eq!(j["progress_note"], "parser done");
    assert_eq!(as_("w", &["progress", "140"]).status.code(), Some(2));
    assert_eq!(
        as_("w", &["progress", "10", "--job", "r"]).status.code(),
        Some(4)
    );
    env.fails(&["progress", "10"], 2); // the operator must name the job
    write(&env.path("report.md"), "all good");
    assert_eq!(
        as_(
            "r",
            &["done", "--verdict", "pass", "--artifact", "missing.md"]
        )
        .status
        .code(),
        Some(3)
    );
    let out = as_(
        "r",
        &[
            "done",
            "--verdict",
            "not-pass",
            "--details",
            "tests fail",
            "--artifact",
            "report.md",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = env.job("r");
    assert_eq!(j["recorded_state"], "done");
    assert_eq!(j["verdict"], "not-pass");
    env.ok(&["fail", "--job", "w", "out of", "disk"]);
    let j = env.job("w");
    assert_eq!(j["recorded_state"], "failed");
    assert_eq!(j["reason"], "out of disk");
    // Verdicts are structured events on their own topic.
    env.expect(&["status", "--all"])
        .ages()
        .stdout_is(
            "NAME  KIND        ROLE      STATE   PROGRESS  INBOX  REMINDERS  THREADS  AGE  ACTIVITY\n\
             w     fake-plain  worker    failed  40%       0      0          0        <AGE> <AGE> ago\n\
             r     fake-plain  reviewer  done    not-pass  0      0          0        <AGE> <AGE> ago\n",
        )
        .stderr_is("")
        .run();
}

#[test]
fn from_is_for_the_operator_only() {
    let env = Env::new();
    env.ok(&["create", "a", "--agent", "fake-plain", "--no-wait"]);
    env.ok(&["send", "--from", "a", "operator", "relayed"]);
    assert_eq!(inbox(&env, "operator")[0]["from"], "a");
    let out = env
        .cmd()
        .env("MAM_AGENT", "a")
        .args(["send", "--from", "b", "operator", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = env
        .cmd()
        .env("MAM_AGENT", "ghost")
        .args(["send", "operator", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}
