//! create / status / stop / resume against real tmux and the fake agent.

use std::time::Duration;

use crate::support::*;

#[test]
fn create_answers_the_trust_dialog_and_delivers_the_prompt_once() {
    let env = Env::new();
    let out = env.ok(&[
        "create",
        "alice",
        "--agent",
        "fake",
        "--prompt",
        "fix the bug",
    ]);
    assert!(
        out == "alice is busy in tmux session mam-alice\n"
            || out == "alice is ready in tmux session mam-alice\n",
        "{out}"
    );
    let log = env.log("alice");
    assert!(
        log.iter()
            .any(|r| r["event"] == "dialog" && r["answer"] == "accept"),
        "{log:?}"
    );
    assert_eq!(env.submits("alice"), vec!["fix the bug"]);
    let job = env.job("alice");
    assert!(job["state"] == "busy" || job["state"] == "ready", "{job}");
    assert_eq!(job["session"]["tmux_session"], "mam-alice");
    // Tagged for this workspace, remain-on-exit on, 200x50.
    let out = env.tmux(&[
        "display-message",
        "-p",
        "-t",
        "=mam-alice:",
        "#{@mam_job} #{remain-on-exit} #{window_width}x#{window_height}",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "alice on 200x50"
    );
    // The agent knows who it is.
    let start = &log[0];
    assert_eq!(start["env"]["MAM_AGENT"], "alice");
    assert_eq!(start["env"]["MAM_TMUX_SOCKET"], env.socket.as_str());
}

#[test]
fn an_agent_that_looks_ready_early_is_not_typed_into_until_it_is() {
    let env = Env::new();
    env.ok(&[
        "create",
        "slow",
        "--agent",
        "fake-slow",
        "--prompt",
        "only once",
    ]);
    let log = env.log("slow");
    assert!(
        !log.iter().any(|r| r["event"] == "discarded"),
        "typed too early: {log:?}"
    );
    assert_eq!(env.submits("slow"), vec!["only once"]);
}

#[test]
fn a_dialog_whose_highlighted_option_exits_is_never_answered() {
    let env = Env::new();
    // Waiting, with the last screen lines and how to look.
    env.expect(&[
        "create",
        "risky",
        "--agent",
        "fake-exitdefault",
        "--ready-timeout",
        "1.5",
        "--prompt",
        "x",
    ])
    .code(5)
    .replace_re(r"after \d+\.\ds:", "after <SECS>s:")
    .stdout_is("")
    .stderr_is(
        "mam: error: risky is not ready after <SECS>s: needs a human: bypass (job is now waiting)\n\
         last screen lines:\n\
         \x20 | WARNING: fake-agent is running in Bypass Permissions mode\n\
         \x20 | ❯ 1. No, exit\n\
         \x20 |   2. Yes, I accept\n\
         hint: the session is kept: `mam attach risky` to look, `mam stop risky` to end it\n",
    )
    .run();
    let log = env.log("risky");
    assert!(
        !log.iter().any(|r| r["event"] == "dialog"),
        "a key was pressed: {log:?}"
    );
    assert!(
        env.has_session("mam-risky"),
        "the session is kept for attach"
    );
    assert_eq!(env.job("risky")["state"], "waiting");
}

#[test]
fn prompts_arrive_exactly_once_byte_for_byte() {
    let env = Env::new();
    let five_kb: String = (0..140)
        .map(|i| format!("line {i:03} of a long prompt with words\n"))
        .collect::<String>();
    let five_kb = five_kb.trim_end().to_string();
    assert!(five_kb.len() > 4000);
    let cases: Vec<(&str, String, String)> = vec![
        ("one", "a single line".into(), "a single line".into()),
        (
            "multi",
            "first\nsecond\n\tthird".into(),
            "first\nsecond\n\tthird".into(),
        ),
        ("big", five_kb.clone(), five_kb.clone()),
        (
            "hostile",
            "\x1b[31mred\x1b[0m then C-c and \x03 and \x7f end;".into(),
            "[31mred[0m then C-c and  and  end;".into(),
        ),
        ("dash", "-n leading dash;".into(), "-n leading dash;".into()),
        ("semi", ";".into(), ";".into()),
    ];
    for (name, text, expected) in &cases {
        env.ok(&["create", name, "--agent", "fake-plain", "--prompt", text]);
        assert_eq!(&env.submits(name), &vec![expected.clone()], "job {name}");
    }
    // The tmux server survived all of it.
    assert!(env.tmux(&["list-sessions"]).status.success());
}

#[test]
fn a_swallowed_enter_is_rescued_once_and_the_prompt_arrives_once() {
    let env = Env::new();
    env.ok(&[
        "create",
        "h",
        "--agent",
        "fake-hasty",
        "--prompt",
        "short and quick",
    ]);
    assert_eq!(env.submits("h"), vec!["short and quick"]);
}

#[test]
fn prompt_file_and_stdin() {
    let env = Env::new();
    write(&env.path("task.md"), "from a file\nwith two lines\n");
    env.ok(&[
        "create",
        "f",
        "--agent",
        "fake-plain",
        "--prompt-file",
        "task.md",
    ]);
    assert_eq!(env.submits("f"), vec!["from a file\nwith two lines"]);
}

#[test]
fn readiness_timeout_fails_the_job_keeps_the_session_and_shows_the_screen() {
    let env = Env::new();
    env.expect(&[
        "create",
        "stuck",
        "--agent",
        "fake-plain",
        "--cmd",
        "sh -c 'echo still loading the model; sleep 30'",
        "--ready-timeout",
        "1",
    ])
    .code(5)
    .replace_re(r"after \d+\.\ds:", "after <SECS>s:")
    .stdout_is("")
    .stderr_is(
        "mam: error: stuck is not ready after <SECS>s: not ready before the timeout (job is now failed)\n\
         last screen lines:\n\
         \x20 | still loading the model\n\
         hint: the session is kept: `mam attach stuck` to look, `mam stop stuck` to end it\n",
    )
    .run();
    assert!(env.has_session("mam-stuck"));
    assert_eq!(env.job("stuck")["state"], "failed");
}

#[test]
fn a_start_up_error_fails_the_job() {
    let env = Env::new();
    // Failed or exited, whichever mam sees first: the reason either way.
    env.expect(&[
        "create",
        "e",
        "--agent",
        "fake-error",
        "--ready-timeout",
        "5",
    ])
    .code(5)
    .stdout_is("")
    .stderr_has("mam: error: e is not ready after ")
    .stderr_has(": start-up error: FATAL: cannot reach the model (job is now ")
    .stderr_has("  | FATAL: cannot reach the model\n")
    .stderr_has("hint: the session is kept: `mam attach e` to look, `mam stop e` to end it\n")
    .run();
    let state = env.job("e")["state"].clone();
    assert!(state == "failed" || state == "exited", "{state}");
}

#[test]
fn concurrent_creates_of_distinct_names_all_succeed() {
    let env = Env::new();
    let children: Vec<_> = (0..16)
        .map(|i| {
            env.cmd()
                .args([
                    "create",
                    &format!("w{i}"),
                    "--agent",
                    "fake-plain",
                    "--ready-timeout",
                    "60",
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, c) in children.into_iter().enumerate() {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "w{i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v = env.json(&["status", "--json"]);
    let jobs = v["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 16);
    assert!(jobs.iter().all(|j| j["state"] == "ready"), "{v}");
}

#[test]
fn concurrent_creates_of_one_name_exactly_one_wins() {
    let env = Env::new();
    let children: Vec<_> = (0..8)
        .map(|_| {
            env.cmd()
                .args(["create", "same", "--agent", "fake-plain"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<i32> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().status.code().unwrap())
        .collect();
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 4).count(), 7, "{codes:?}");
    assert_eq!(
        env.log("same")
            .iter()
            .filter(|r| r["event"] == "start")
            .count(),
        1
    );
}

#[test]
fn stop_reaps_the_whole_process_tree_and_is_idempotent() {
    let env = Env::new();
    // An agent that leaves a child behind which ignores SIGTERM.
    let cmd = format!(
        "sh -c 'trap \"\" TERM; (trap \"\" TERM; sleep 300) & exec {} --log {}'",
        fake_agent().display(),
        env.logs.join("{agent}.jsonl").display()
    );
    env.ok(&["create", "bob", "--agent", "fake-plain", "--cmd", &cmd]);
    let pid = env.job("bob")["session"]["pid"].as_i64().unwrap() as i32;
    let members = session_members(pid);
    assert!(
        members.len() >= 2,
        "expected the agent and its child: {members:?}"
    );
    env.expect(&["stop", "bob"])
        .stdout_is("bob: stopped\n")
        .stderr_is("")
        .run();
    assert!(
        alive(&members).is_empty(),
        "left alive: {:?}",
        alive(&members)
    );
    assert!(!env.has_session("mam-bob"));
    assert_eq!(env.job("bob")["state"], "stopped");
    // The agent was asked to exit first.
    assert!(env.log("bob").iter().any(|r| r["event"] == "exit"));
    // Second stop: fine.
    env.expect(&["stop", "bob"])
        .stdout_is("bob: already stopped\n")
        .stderr_is("")
        .run();
}

#[test]
fn stop_force_kills_at_once() {
    let env = Env::new();
    env.ok(&["create", "f", "--agent", "fake-plain"]);
    let pid = env.job("f")["session"]["pid"].as_i64().unwrap() as i32;
    env.ok(&["stop", "--force", "f"]);
    assert!(alive(&[pid]).is_empty());
    assert!(
        !env.log("f").iter().any(|r| r["event"] == "exit"),
        "no exit keys with --force"
    );
}

#[test]
fn a_same_named_session_mam_did_not_create_is_never_killed() {
    let env = Env::new();
    env.ok(&["create", "carol", "--agent", "fake-plain"]);
    // Behind mam's back: the session goes, and someone else's takes the name.
    assert!(
        env.tmux(&["kill-session", "-t", "=mam-carol"])
            .status
            .success()
    );
    assert!(
        env.tmux(&["new-session", "-d", "-s", "mam-carol", "--", "sleep", "300"])
            .status
            .success()
    );
    env.ok(&["stop", "carol"]);
    assert!(
        env.has_session("mam-carol"),
        "the foreign session was killed"
    );
    assert_eq!(env.job("carol")["state"], "stopped");
}

#[test]
fn create_over_a_foreign_session_is_a_conflict_and_leaves_no_job() {
    let env = Env::new();
    assert!(
        env.tmux(&["new-session", "-d", "-s", "mam-erin", "--", "sleep", "300"])
            .status
            .success()
    );
    // The cause names the tmux command; the message and the hint are exact.
    let err = env
        .expect(&["create", "erin", "--agent", "fake-plain"])
        .code(4)
        .stdout_is("")
        .stderr_has("duplicate session: mam-erin\n")
        .run()
        .stderr;
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert_eq!(
        lines[0],
        "mam: error: a tmux session named mam-erin exists already"
    );
    assert!(
        lines[1].starts_with("  caused by: `tmux new-session -d -s mam-erin "),
        "{err}"
    );
    assert_eq!(
        lines[2],
        "hint: it is not this workspace's job; stop it, or set another [tmux] prefix (now \"mam-\")"
    );
    assert!(env.job("erin").is_null(), "half-created job left behind");
    assert!(env.has_session("mam-erin"));
}

#[test]
fn resume_reuses_the_stored_conversation_id() {
    let env = Env::new();
    env.ok(&["create", "r", "--agent", "fake-plain"]);
    let id = env.job("r")["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(env.log("r")[0]["conversation"], id.as_str());
    env.ok(&["stop", "r"]);
    env.expect(&["resume", "r"])
        .stdout_is("r: resumed, ready\n")
        .stderr_is("")
        .run();
    let starts: Vec<_> = env
        .log("r")
        .into_iter()
        .filter(|x| x["event"] == "start")
        .collect();
    assert_eq!(starts.len(), 2);
    let args: Vec<&str> = starts[1]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let at = args
        .iter()
        .position(|a| *a == "--resume")
        .expect("resumed with --resume");
    assert_eq!(args[at + 1], id);
    env.wait_state("r", "ready");
    // Resuming a running job is a conflict.
    env.expect(&["resume", "r"])
        .code(4)
        .stdout_is("")
        .stderr_is(
            "mam: error: r is running already (state ready)\n\
             hint: `mam stop r` first, or `mam attach r`\n",
        )
        .run();
}

#[test]
fn resume_all_starts_pm_roles_first() {
    let env = Env::new();
    env.ok(&["create", "w1", "--agent", "fake-plain"]);
    env.ok(&["create", "boss", "--agent", "fake-plain", "--role", "pm"]);
    env.ok(&["stop", "--all"]);
    let out = env.ok(&["resume", "--all"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines, vec!["boss: resumed, ready", "w1: resumed, ready"]);
    // Each resumed agent is told it was restarted and why.
    for n in ["boss", "w1"] {
        let last = env.submits(n).pop().unwrap();
        let id = env.job(n)["conversation_id"].as_str().unwrap().to_string();
        let m = if n == "boss" { "m1" } else { "m2" };
        assert_eq!(
            last,
            format!(
                "[mam] {m} from operator: you were restarted by mam resume (it was stopped: mam stop); \
                 your conversation {id} was resumed. Check `mam inbox` and `mam threads` for anything pending."
            )
        );
    }
}

#[test]
fn status_uses_one_tmux_call_per_pass() {
    let env = Env::new();
    for n in ["a", "b", "c"] {
        env.ok(&["create", n, "--agent", "fake-plain", "--no-wait"]);
    }
    // Status reads the screen of a pane that drew since its state was
    // recorded; once all three are seen ready and still, a pass costs one
    // list-panes and nothing per pane.
    for n in ["a", "b", "c"] {
        env.wait_state(n, "ready");
    }
    env.ok(&["status"]);
    // A tmux wrapper that counts its invocations.
    let bin = env.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let counter = env.dir.path().join("tmux-calls");
    let real = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v tmux"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    write(
        &bin.join("tmux"),
        &format!(
            "#!/bin/sh\necho \"$*\" >> {}\nexec {} \"$@\"\n",
            counter.display(),
            real.trim()
        ),
    );
    std::process::Command::new("chmod")
        .args(["+x", bin.join("tmux").to_str().unwrap()])
        .status()
        .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = env
        .cmd()
        .env("PATH", &path)
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["jobs"].as_array().unwrap().len(), 3);
    let calls = std::fs::read_to_string(&counter).unwrap();
    assert_eq!(calls.lines().count(), 1, "tmux calls: {calls}");
    // UTF-8 forced (-u), mam's private server, one list-panes of every pane.
    let want = format!(
        "-u -L {} list-panes -a -F #{{pane_id}}\t",
        env.server.socket
    );
    assert!(calls.starts_with(&want), "{calls}");
}

#[test]
fn a_stopped_job_leaves_the_status_table_a_day_after_it_stopped() {
    let env = Env::new();
    env.ok(&["create", "old", "--agent", "fake-plain", "--no-wait"]);
    env.ok(&["stop", "old"]);
    let header =
        "NAME  KIND        ROLE    STATE    PROGRESS  INBOX  REMINDERS  THREADS  AGE  ACTIVITY\n";
    env.advance(Duration::from_secs(23 * 3600));
    env.expect(&["status"])
        .stdout_is(&format!(
            "{header}old   fake-plain  worker  stopped  -         0      0          0        23h  23h ago\n"
        ))
        .run();
    env.advance(Duration::from_secs(2 * 3600));
    env.expect(&["status"])
        .stdout_is("no jobs (--all shows old stopped and done jobs)\n")
        .stderr_is("")
        .run();
    env.expect(&["status", "--all"])
        .stdout_is(&format!(
            "{header}old   fake-plain  worker  stopped  -         0      0          0        1d   1d ago\n"
        ))
        .stderr_is("")
        .run();
    // Asked for by name, it is shown whatever its age.
    env.expect(&["status", "old"])
        .stdout_is(&format!(
            "{header}old   fake-plain  worker  stopped  -         0      0          0        1d   1d ago\n"
        ))
        .stderr_is("")
        .run();
}

#[test]
fn status_marks_dead_panes_and_missing_sessions() {
    let env = Env::new();
    env.ok(&["create", "gone", "--agent", "fake-plain"]);
    env.ok(&["create", "quit", "--agent", "fake-plain"]);
    env.tmux(&["kill-session", "-t", "=mam-gone"]);
    env.tmux(&["send-keys", "-t", "=mam-quit:", "C-d"]);
    env.eventually("the quit pane to die", Duration::from_secs(5), || {
        env.job("quit")["state"] == "exited"
    });
    assert_eq!(env.job("gone")["state"], "lost");
    let table = env.ok(&["status"]);
    assert!(table.starts_with("NAME"), "{table}");
    assert!(table.contains("lost"), "{table}");
}

#[test]
fn logs_and_whoami() {
    let env = Env::new();
    env.ok(&[
        "create",
        "w",
        "--agent",
        "fake-plain",
        "--prompt",
        "say something",
    ]);
    let logs = env.ok(&["logs", "w", "--lines", "50"]);
    assert!(logs.contains("› say something"), "{logs}");
    let me = env.json(&["whoami", "--json"]);
    assert_eq!(me["name"], "operator");
    let out = env
        .cmd()
        .env("MAM_AGENT", "w")
        .args(["whoami", "--json"])
        .output()
        .unwrap();
    let me: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(me["name"], "w");
    assert_eq!(me["role"], "worker");
    assert_eq!(me["tmux_session"], "mam-w");
}

#[test]
fn init_is_idempotent_and_makes_a_private_key() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let first = env.ok(&["init", "-q"]);
    let second = env.ok(&["init", "-q"]);
    assert_eq!(first, second);
    assert!(first.trim().starts_with('w'));
    let mode = std::fs::metadata(env.path(".mam/secret.key"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    for d in [".mam/attachments", ".mam/locks", ".mam/mam.db"] {
        assert!(env.path(d).exists(), "{d}");
    }
}

#[test]
fn status_piped_into_head_has_no_broken_pipe_error() {
    let env = Env::new();
    for n in 0..3 {
        env.ok(&[
            "create",
            &format!("p{n}"),
            "--agent",
            "fake-plain",
            "--no-wait",
        ]);
    }
    // `head -1` closes the pipe after one line, while mam may still write.
    for args in ["status", "completions bash"] {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("'{}' {args} | head -1", mam_bin().display()))
            .current_dir(&env.root)
            .env("MAM_TMUX_SOCKET", &env.socket)
            .env("HOME", &env.home)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "mam {args}");
    }
}
