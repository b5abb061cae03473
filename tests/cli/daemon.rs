//! The reconcile daemon: one per workspace, clean shutdown on signals, and
//! sessions torn down only on verified terminal events that check out.

use std::process::Stdio;
use std::time::Duration;

use mam::events::envelope::Envelope;
use serde_json::{Value, json};

use crate::broker::Broker;
use crate::support::daemon::{Daemon, signal};
use crate::support::*;

fn key(env: &Env) -> (String, String) {
    let ring: Value =
        serde_json::from_str(&std::fs::read_to_string(env.path(".mam/secret.key")).unwrap())
            .unwrap();
    let k = ring["keys"].as_array().unwrap().last().unwrap().clone();
    (
        k["kid"].as_str().unwrap().into(),
        k["secret"].as_str().unwrap().into(),
    )
}

fn done_event(env: &Env, ws: &str, job: &str, seq: i64, artifacts: &[&str]) -> (String, Vec<u8>) {
    let (kid, secret) = key(env);
    let topic = mam::events::topic("mam", ws, "job.done", job);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut e = Envelope {
        v: 1,
        id: mam::events::envelope::random_id(),
        ws: ws.into(),
        src: "s-other-host".into(),
        seq,
        ts: mam::events::rfc3339_ms(now),
        kind: "job.done".into(),
        job: job.into(),
        body: json!({"artifacts": artifacts}),
        kid,
        sig: String::new(),
    };
    e.sign(&topic, &hex::decode(secret).unwrap());
    (topic, e.to_wire().into_bytes())
}

#[test]
fn only_one_daemon_per_workspace() {
    let env = Env::new();
    env.ok(&["init"]);
    let first = Daemon::start(&env);
    first.wait_for("a first pass", Duration::from_secs(10), |v| {
        v["type"] == "pass"
    });
    let err = env.fails(&["reconcile"], 4);
    assert!(err.contains(&format!("pid {}", first.child.id())), "{err}");
    // --once still works beside it.
    env.ok(&["reconcile", "--once"]);
    let status = first.terminate();
    assert!(status.success(), "{status:?}");
    // The lock was released: another daemon may start.
    let second = Daemon::start(&env);
    second.wait_for("a pass", Duration::from_secs(10), |v| v["type"] == "pass");
    assert!(second.terminate().success());
}

#[test]
fn two_daemons_started_at_once_one_runs() {
    let env = Env::new();
    env.ok(&["init"]);
    let a = env
        .cmd()
        .args(["reconcile", "--interval", "0.3"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let b = env
        .cmd()
        .args(["reconcile", "--interval", "0.3"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let mut children = [a, b];
    let mut exited: Vec<i32> = Vec::new();
    for c in children.iter_mut() {
        if let Some(s) = c.try_wait().unwrap() {
            exited.push(s.code().unwrap_or(-1));
        }
    }
    assert_eq!(exited, vec![4], "exactly one exits 4, the other runs");
    for c in children.iter_mut() {
        signal(c.id() as i32, 15);
        let _ = c.wait();
    }
}

#[test]
fn sigterm_during_a_pass_finishes_it_and_releases_the_lock() {
    let env = Env::new();
    // The agent writes its record 1.5 s after taking a turn, so a pass that
    // typed a message waits that long for its proof: a signal that arrives
    // after the agent took the turn lands inside the pass.
    env.write_config(&crate::delivery::recorded_profile(
        &env,
        "late",
        r#""--record-delay", "1500""#,
    ));
    env.ok(&["create", "a", "--agent", "late"]);
    env.ok(&["stop", "a"]);
    for i in 0..3 {
        env.ok(&["send", "-q", "a", &format!("msg {i}")]);
    }
    env.ok(&["resume", "a"]); // delivers msg 0 (and its own notice)
    let state_of = |body: &str| -> String {
        let inbox = env.json(&["inbox", "a", "--all", "--json"]);
        inbox["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["body"] == body)
            .map(|m| m["state"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(state_of("msg 1"), "queued");
    let d = Daemon::start(&env);
    env.eventually("the agent to take msg 1", Duration::from_secs(15), || {
        env.submits("a").iter().any(|t| t.contains("msg 1"))
    });
    // Taken but not yet proven: the pass that typed it is still running.
    assert_eq!(
        state_of("msg 1"),
        "queued",
        "signal must land inside a pass"
    );
    let status = d.terminate();
    assert!(status.success(), "{status:?}");
    // The pass finished: msg 1 is delivered with its proof, typed once; what
    // the daemon did not reach is still queued and untyped.
    let inbox = env.json(&["inbox", "a", "--all", "--json"]);
    let typed = env.submits("a");
    let msg1 = inbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["body"] == "msg 1")
        .unwrap()
        .clone();
    assert_eq!(
        (msg1["state"].as_str(), msg1["how"].as_str()),
        (Some("delivered"), Some("record")),
        "{msg1}"
    );
    for m in inbox["messages"].as_array().unwrap() {
        let seen = typed
            .iter()
            .filter(|t| t.contains(m["body"].as_str().unwrap()))
            .count();
        match m["state"].as_str().unwrap() {
            "delivered" => assert_eq!(seen, 1, "{m}"),
            "queued" => assert_eq!(seen, 0, "{m}"),
            other => panic!("unexpected state {other}"),
        }
    }
    assert!(mam_lock_free(&env), "the daemon lock is still held");
}

#[test]
fn a_failed_pass_is_reported_and_the_daemon_goes_on() {
    let env = Env::new();
    env.ok(&["create", "b", "--agent", "fake-plain"]);
    // b's session disappears behind mam's back: the next pass must write.
    let killed = env.tmux(&["kill-session", "-t", "=mam-b"]);
    assert!(killed.status.success(), "{killed:?}");
    // Another process holds the registry's write lock longer than mam's
    // busy timeout (10 s): the daemon's first pass cannot write and fails.
    let db = rusqlite::Connection::open(env.path(".mam/mam.db")).unwrap();
    db.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let d = Daemon::start(&env);
    let err = d.wait_for("a failed pass", Duration::from_secs(30), |v| {
        v["type"] == "error"
    });
    db.execute_batch("ROLLBACK").unwrap();
    assert_eq!(err["during"], "pass", "{err}");
    assert_eq!(
        err["error"],
        "cannot start a write transaction: database is locked: Error code 5: The database file is locked",
        "the error names its cause"
    );
    // The daemon carried on: the next passes record b lost.
    let lost = d.wait_for("b recorded lost", Duration::from_secs(15), |v| {
        v["type"] == "pass"
            && v["drift"]
                .as_array()
                .is_some_and(|ds| ds.iter().any(|x| x["job"] == "b" && x["to"] == "lost"))
    });
    assert_eq!(lost["drift"][0]["from"], "ready", "{lost}");
    let status = d.terminate();
    assert!(status.success(), "{status:?}");
    assert_eq!(env.job("b")["state"], "lost");
}

fn mam_lock_free(env: &Env) -> bool {
    let out = env
        .cmd()
        .args(["reconcile", "--interval", "5"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut c = out.unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let running = c.try_wait().unwrap().is_none();
    signal(c.id() as i32, 15);
    let _ = c.wait();
    running
}

#[test]
fn only_a_verified_terminal_event_that_checks_out_tears_a_session_down() {
    let broker = Broker::plain();
    let env = Env::new();
    env.write_config(&broker.config_toml());
    let ws = env.ok(&["init", "-q"]).trim().to_string();
    env.ok(&["create", "w", "--agent", "fake-plain"]);
    env.ok(&["create", "k", "--agent", "fake-plain", "--on-done", "keep"]);
    write(&env.path("report.md"), "done");
    let report = env.path("report.md").display().to_string();

    // Retained before the daemon subscribes: rejected.
    let (topic, retained) = done_event(&env, &ws, "w", 1, &[&report]);
    broker.publish_raw(&topic, &retained, true);
    let d = Daemon::start(&env);
    d.wait_for("the subscription", Duration::from_secs(10), |v| {
        v["type"] == "broker" && v["state"] == "subscribed"
    });
    let h = d.heard(Duration::from_secs(5));
    assert!(h["detail"].as_str().unwrap().contains("retained"), "{h}");
    // Clearing the retained copy reaches live subscribers as an empty message.
    broker.publish_raw(&topic, b"", true);
    let h = d.heard(Duration::from_secs(5));
    assert!(h["detail"].as_str().unwrap().contains("malformed"), "{h}");

    // Forged: a flipped bit.
    let (_, good) = done_event(&env, &ws, "w", 2, &[&report]);
    let mut forged = good.clone();
    let i = forged.len() - 20;
    forged[i] ^= 0x02;
    broker.publish_raw(&topic, &forged, false);
    let h = d.heard(Duration::from_secs(5));
    assert_eq!(h["verdict"], "rejected", "{h}");

    // Genuine, but its artifact is missing: says why, kills nothing.
    let (_, missing) = done_event(&env, &ws, "w", 3, &["/no/such/artifact.md"]);
    broker.publish_raw(&topic, &missing, false);
    let h = d.heard(Duration::from_secs(5));
    assert!(
        h["detail"]
            .as_str()
            .unwrap()
            .contains("/no/such/artifact.md"),
        "{h}"
    );
    // A job that keeps its session is not torn down either.
    let (ktopic, keep) = done_event(&env, &ws, "k", 4, &[]);
    broker.publish_raw(&ktopic, &keep, false);
    let h = d.heard(Duration::from_secs(5));
    assert!(
        h["detail"].as_str().unwrap().contains("keeps its session"),
        "{h}"
    );
    assert!(env.has_session("mam-w") && env.has_session("mam-k"));

    // Genuine with its artifact: torn down.
    broker.publish_raw(&topic, &good, false);
    let h = d.heard(Duration::from_secs(15));
    assert!(h["detail"].as_str().unwrap().contains("torn down"), "{h}");
    assert!(!env.has_session("mam-w"));
    assert!(env.has_session("mam-k"));

    // Replayed, also across a daemon restart, after the job is back: nothing.
    env.ok(&["resume", "w"]);
    broker.publish_raw(&topic, &good, false);
    let h = d.heard(Duration::from_secs(5));
    assert!(h["detail"].as_str().unwrap().contains("replay"), "{h}");
    assert!(d.terminate().success());
    let d = Daemon::start(&env);
    d.wait_for("the subscription", Duration::from_secs(10), |v| {
        v["type"] == "broker" && v["state"] == "subscribed"
    });
    broker.publish_raw(&topic, &good, false);
    let h = d.heard(Duration::from_secs(5));
    assert!(h["detail"].as_str().unwrap().contains("replay"), "{h}");
    assert!(env.has_session("mam-w"));

    // The agent's own `mam done` is the genuine article end to end.
    let out = env
        .cmd()
        .env("MAM_AGENT", "w")
        .args(["done", "--artifact", &report])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let h = d.heard(Duration::from_secs(15));
    assert!(h["detail"].as_str().unwrap().contains("torn down"), "{h}");
    assert!(!env.has_session("mam-w"));
    assert_eq!(env.job("w")["recorded_state"], "done", "done stays done");
}

#[test]
fn the_daemon_reconnects_when_the_broker_comes_back() {
    let mut broker = Broker::plain();
    let env = Env::new();
    env.write_config(&broker.config_toml());
    env.ok(&["init"]);
    let d = Daemon::start(&env);
    d.wait_for("the subscription", Duration::from_secs(10), |v| {
        v["type"] == "broker" && v["state"] == "subscribed"
    });
    broker.stop();
    d.wait_for(
        "the broker to be noticed gone",
        Duration::from_secs(10),
        |v| v["type"] == "broker" && (v["state"] == "lost" || v["state"] == "unreachable"),
    );
    broker.start();
    d.wait_for("a new subscription", Duration::from_secs(20), |v| {
        v["type"] == "broker" && v["state"] == "subscribed"
    });
    // And it works: a genuine terminal event for a missing job is heard.
    let ws = env.json(&["init", "--json"])["workspace"]
        .as_str()
        .unwrap()
        .to_string();
    let (topic, ev) = done_event(&env, &ws, "nobody", 1, &[]);
    broker.publish_raw(&topic, &ev, false);
    let h = d.heard(Duration::from_secs(5));
    assert!(
        h["detail"]
            .as_str()
            .unwrap()
            .contains("no job named nobody"),
        "{h}"
    );
    assert!(d.terminate().success());
}

#[test]
fn a_signed_done_whose_artifacts_leave_the_workdir_tears_nothing_down() {
    let broker = Broker::plain();
    let env = Env::new();
    env.write_config(&broker.config_toml());
    let ws = env.ok(&["init", "-q"]).trim().to_string();
    std::fs::create_dir(env.path("wd")).unwrap();
    env.ok(&["create", "w", "--agent", "fake-plain", "--workdir", "wd"]);
    let wd = env.path("wd");
    write(&wd.join("report.md"), "done");
    let outside = env.dir.path().canonicalize().unwrap().join("outside.md");
    write(&outside, "not the job's");
    std::os::unix::fs::symlink(&outside, wd.join("link.md")).unwrap();
    let d = Daemon::start(&env);
    d.wait_for("the subscription", Duration::from_secs(10), |v| {
        v["type"] == "broker" && v["state"] == "subscribed"
    });
    let topic = mam::events::topic("mam", &ws, "job.done", "w");
    let cases = [
        (
            "../../../../etc/passwd".to_string(),
            format!(
                "not acting: artifact ../../../../etc/passwd resolves to /etc/passwd, outside the job's workdir {}",
                wd.display()
            ),
        ),
        (
            "/etc/passwd".to_string(),
            format!(
                "not acting: artifact /etc/passwd is outside the job's workdir {}",
                wd.display()
            ),
        ),
        (
            "link.md".to_string(),
            format!(
                "not acting: artifact link.md resolves to {}, outside the job's workdir {}",
                outside.display(),
                wd.display()
            ),
        ),
    ];
    for (seq, (artifact, detail)) in cases.iter().enumerate() {
        let (_, ev) = done_event(&env, &ws, "w", seq as i64 + 1, &[artifact]);
        broker.publish_raw(&topic, &ev, false);
        let h = d.heard(Duration::from_secs(5));
        assert_eq!(h["verdict"], "accepted", "{h}");
        assert_eq!(h["detail"], detail.as_str(), "{h}");
        assert!(env.has_session("mam-w"), "{artifact} tore the session down");
    }
    // Relative to the job's workdir (not the daemon's cwd), inside: torn down.
    let (_, ev) = done_event(&env, &ws, "w", 10, &["report.md"]);
    broker.publish_raw(&topic, &ev, false);
    let h = d.heard(Duration::from_secs(15));
    assert_eq!(
        h["detail"], "w: session torn down after a verified job.done",
        "{h}"
    );
    assert!(!env.has_session("mam-w"));
    assert!(d.terminate().success());
}

/// `[[hooks]]` on `job.waiting`: a hook that logs its input runs once when
/// the fake agent shows a dialog nobody may answer, and not again after the
/// daemon restarts; a failing hook and one that times out are recorded (and
/// shown by `doctor`), and the daemon goes on with its passes.
#[test]
fn a_hook_on_job_waiting_runs_once_across_restarts_and_failures_are_recorded() {
    let env = Env::new();
    let log = env.root.join("hook.log");
    env.write_config(&format!(
        r#"
[[hooks]]
on = ["job.waiting"]
run = ["sh", "-c", "printf '%s|%s|%s|' \"$MAM_EVENT_KIND\" \"$MAM_JOB\" \"$MAM_SUMMARY\" >> {log}; head -c 8 >> {log}; echo >> {log}"]

[[hooks]]
on = ["job.waiting"]
run = ["sh", "-c", "echo no luck >&2; exit 3"]

[[hooks]]
on = ["job.waiting"]
run = ["sleep", "30"]
timeout = "300ms"
"#,
        log = log.display()
    ));
    env.mam(&["init"]);
    let d = Daemon::start(&env);
    d.wait_for("a pass", Duration::from_secs(10), |v| v["type"] == "pass");
    let out = env.mam(&[
        "create",
        "risky",
        "--agent",
        "fake-exitdefault",
        "--ready-timeout",
        "1",
        "--prompt",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    let mut outcomes = Vec::new();
    while outcomes.len() < 3 {
        let v = d.wait_for("a hook run", Duration::from_secs(10), |v| {
            v["type"] == "hook"
        });
        outcomes.push((
            v["outcome"].as_str().unwrap().to_string(),
            v["detail"].as_str().unwrap().to_string(),
        ));
    }
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![
            ("failed".to_string(), "exit status 3: no luck".to_string()),
            ("ok".to_string(), String::new()),
            (
                "timeout".to_string(),
                "timed out after 300ms; killed".to_string()
            ),
        ]
    );
    // The daemon goes on.
    d.wait_for("a pass after the hooks", Duration::from_secs(10), |v| {
        v["type"] == "pass"
    });
    assert_eq!(d.terminate().code(), Some(0));
    let once = "job.waiting|risky|risky is waiting: screen shows: bypass|{\"body\":\n";
    assert_eq!(std::fs::read_to_string(&log).unwrap(), once);
    // A restarted daemon, and a `reconcile --once`, do not run it again.
    let d = Daemon::start(&env);
    d.wait_for("a pass", Duration::from_secs(10), |v| v["type"] == "pass");
    d.wait_for("a second pass", Duration::from_secs(10), |v| {
        v["type"] == "pass"
    });
    assert_eq!(d.terminate().code(), Some(0));
    let out = env.mam(&["reconcile", "--once", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report.get("hooks").is_none(), "{report}");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), once);
    // doctor shows the two that did not end well.
    let doctor = String::from_utf8(env.mam(&["doctor", "--json"]).stdout).unwrap();
    let doctor: Value = serde_json::from_str(&doctor).unwrap();
    let hooks: Vec<String> = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "hooks")
        .map(|c| {
            format!(
                "{} {}",
                c["status"].as_str().unwrap(),
                c["detail"].as_str().unwrap()
            )
        })
        .collect();
    let mut hooks = hooks;
    hooks.sort();
    assert_eq!(
        hooks,
        vec![
            "warn sh -c 'echo no luck >&2; exit 3' on event 3 (job.state for risky): failed: exit status 3: no luck".to_string(),
            "warn sleep 30 on event 3 (job.state for risky): timeout: timed out after 300ms; killed".to_string(),
        ]
    );
}
