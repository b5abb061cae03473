//! Delivery you can trust: proof from the agent's own record, a settled and
//! empty composer before typing, leftovers cleared and never glued to, a
//! human's draft never touched, exactly once under SIGKILL at any instant.
//! The fake agent here keeps a Claude-style record (`--record`) and can
//! look idle right after Enter, lose Enters, and drop input typed while busy
//! — each a behaviour a real CLI showed.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

/// Fake rules without `queued` (input typed while busy is lost), and the
/// record under `<logs>/claude` read through the `claude` store.
pub(crate) fn recorded_profile(env: &Env, name: &str, args: &str) -> String {
    tuned_profile(env, name, args, 200, 300)
}

/// The same with its own `settle_ms` and `turn_settle_ms`.
pub(crate) fn tuned_profile(
    env: &Env,
    name: &str,
    args: &str,
    settle: u64,
    turn_settle: u64,
) -> String {
    let rules = FAKE_RULES
        .replace("queued = ['Press up to edit queued messages']\n", "")
        .replace("settle_ms = 200", &format!("settle_ms = {settle}"))
        .replace(
            "turn_settle_ms = 300",
            &format!("turn_settle_ms = {turn_settle}"),
        );
    let record = env.logs.join("claude");
    let args = format!(r#""--record", "{}", {args}"#, record.display());
    format!(
        "{}conversation_store = \"claude\"\nclear = [\"C-c\"]\nenv = {{ CLAUDE_CONFIG_DIR = \"{}\" }}\n",
        env.fake_profile(name, &args, Some(&rules)),
        record.display()
    )
}

fn inbox(env: &Env, who: &str) -> Vec<Value> {
    env.json(&["inbox", who, "--all", "--json"])["messages"]
        .as_array()
        .unwrap()
        .clone()
}

/// Texts of the turns the agent's record holds.
fn record_turns(env: &Env) -> Vec<String> {
    let root = env.logs.join("claude").join("projects");
    let mut out = Vec::new();
    for d in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(d.path()).unwrap().flatten() {
            for l in std::fs::read_to_string(f.path()).unwrap().lines() {
                let v: Value = serde_json::from_str(l).unwrap();
                out.push(v["message"]["content"].as_str().unwrap().to_string());
            }
        }
    }
    out
}

#[test]
fn an_idle_looking_screen_after_enter_is_no_proof_and_nothing_is_lost() {
    let env = Env::new();
    // Looks idle for 400 ms after each Enter, then works for 1 s; an Enter
    // typed while it works is lost (the text stays in the composer).
    env.write_config(&tuned_profile(
        &env,
        "gem",
        r#""--busy", "1", "--idle-gap", "400", "--no-queue""#,
        200,
        800,
    ));
    env.ok(&[
        "create",
        "g",
        "--agent",
        "gem",
        "--prompt",
        "start the long task now",
    ]);
    let prompt_how = env.json(&["explain", "g", "--json"])["attempts"][0]["how"].clone();
    assert_eq!(prompt_how, "record");
    for i in 1..=5 {
        env.ok(&["send", "g", &format!("note {i}")]);
    }
    // Paced by `mam status` alone: each waits for a settled, empty composer.
    env.eventually("all five delivered", Duration::from_secs(40), || {
        env.ok(&["status"]);
        inbox(&env, "g").iter().all(|m| m["state"] == "delivered")
    });
    let expected: Vec<String> = std::iter::once("start the long task now".to_string())
        .chain((1..=5).map(|i| format!("[mam] m{i} from operator: note {i}")))
        .collect();
    // Exactly once each, in order, none glued to another. (The typed text of
    // m1..m4 may name how many more wait: compare the first line.)
    let firsts: Vec<String> = env
        .submits("g")
        .iter()
        .map(|t| t.lines().next().unwrap().to_string())
        .collect();
    assert_eq!(firsts, expected);
    assert_eq!(record_turns(&env).len(), 6);
    for m in inbox(&env, "g") {
        assert_eq!(m["how"], "record", "{m}");
    }
    assert!(
        !env.log("g").iter().any(|r| r["event"] == "lost-enter"),
        "mam typed into a busy agent: {:?}",
        env.log("g")
    );
}

#[test]
fn text_left_in_the_composer_is_cleared_and_typed_once_never_glued() {
    let env = Env::new();
    // The first two Enters (the submit and the one rescue) are lost.
    env.write_config(&recorded_profile(&env, "lossy", r#""--lose-enter", "2""#));
    env.ok(&["create", "l", "--agent", "lossy"]);
    let out = env.ok(&["send", "l", "only once please"]);
    assert_eq!(out.trim(), "m1 to l: queued");
    let m = &inbox(&env, "l")[0];
    assert_eq!(
        m["last_error"],
        "the text is still in the agent's composer after a second submit"
    );
    assert_eq!(env.submits("l"), Vec::<String>::new());
    // The next look clears mam's own leftover and types it afresh.
    env.eventually("m1 delivered", Duration::from_secs(10), || {
        env.ok(&["reconcile", "--once"]);
        inbox(&env, "l")[0]["state"] == "delivered"
    });
    assert_eq!(
        env.submits("l"),
        vec!["[mam] m1 from operator: only once please"]
    );
    let attempts = env.json(&["explain", "l", "--json"])["attempts"].clone();
    let states: Vec<&str> = attempts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["proven", "cleared"]);
}

/// The attempt states of a job, newest first.
fn attempt_states(env: &Env, job: &str) -> Vec<String> {
    env.json(&["explain", job, "--json"])["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_double_press_clear_waits_for_its_hint_however_short_the_window() {
    let env = Env::new();
    // Claude-style clear: Esc shows `esc again to clear` for 250 ms, a
    // second Esc within that clears, a later one only arms again (fixed
    // 300 ms between the two always missed it). The first two Enters are
    // lost, so mam's text stays in the composer.
    let profile = recorded_profile(&env, "dbl", r#""--esc-clear", "250", "--lose-enter", "2""#)
        .replace(
            "clear = [\"C-c\"]\n",
            "clear = [\"Escape\", \"Escape\"]\nclear_armed = '(?m)esc again to clear$'\n",
        );
    env.write_config(&profile);
    env.ok(&["create", "d", "--agent", "dbl"]);
    let out = env.ok(&["send", "d", "only once please"]);
    assert_eq!(out.trim(), "m1 to d: queued");
    env.eventually("m1 delivered", Duration::from_secs(15), || {
        env.ok(&["reconcile", "--once"]);
        inbox(&env, "d")[0]["state"] == "delivered"
    });
    assert_eq!(
        env.submits("d"),
        vec!["[mam] m1 from operator: only once please"]
    );
    assert_eq!(attempt_states(&env, "d"), ["proven", "cleared"]);
    let events: Vec<String> = env
        .log("d")
        .iter()
        .filter_map(|r| r["event"].as_str().map(str::to_string))
        .filter(|e| e.starts_with("esc-"))
        .collect();
    assert_eq!(events, ["esc-armed", "esc-cleared"]);
}

#[test]
fn status_alone_clears_mams_leftover_in_a_composer_that_looks_busy() {
    let env = Env::new();
    // The first two Enters are lost: mam's text stays in the composer, so
    // the screen never looks ready again and the job is recorded busy.
    env.write_config(&recorded_profile(&env, "lossy", r#""--lose-enter", "2""#));
    env.ok(&["create", "l", "--agent", "lossy"]);
    let out = env.ok(&["send", "l", "only once please"]);
    assert_eq!(out.trim(), "m1 to l: queued");
    env.eventually("m1 delivered", Duration::from_secs(15), || {
        env.ok(&["status"]);
        inbox(&env, "l")[0]["state"] == "delivered"
    });
    assert_eq!(
        env.submits("l"),
        vec!["[mam] m1 from operator: only once please"]
    );
    assert_eq!(attempt_states(&env, "l"), ["proven", "cleared"]);
}

#[test]
fn a_humans_draft_is_never_cleared_submitted_or_typed_over() {
    let env = Env::new();
    env.write_config(&recorded_profile(&env, "rec", r#""--busy", "0""#));
    env.ok(&["create", "h", "--agent", "rec"]);
    let pane = env.job("h")["session"]["pane"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        env.tmux(&["send-keys", "-t", &pane, "-l", "my own draft"])
            .status
            .success()
    );
    let out = env.ok(&["send", "h", "from mam"]);
    assert_eq!(out.trim(), "m1 to h: queued");
    assert_eq!(
        inbox(&env, "h")[0]["last_error"],
        "the agent is not at an empty prompt"
    );
    env.ok(&["reconcile", "--once"]);
    assert_eq!(inbox(&env, "h")[0]["state"], "queued");
    let screen = String::from_utf8(env.tmux(&["capture-pane", "-p", "-t", &pane]).stdout).unwrap();
    assert!(screen.contains("> my own draft"), "{screen}");
    // stop does not type its exit command over the draft.
    let out = env.cmd().args(["stop", "h"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "mam: h: its composer holds text mam did not type (or it is not at its prompt); ending its session without typing the exit command\n"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "h: stopped\n");
    assert_eq!(env.submits("h"), Vec::<String>::new());
}

/// A tiny deterministic generator for kill delays.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn kill_after(mut cmd: Command, ms: u64) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(ms));
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
}

#[test]
fn sigkill_at_any_instant_loses_nothing_and_doubles_nothing() {
    let env = Env::new();
    env.write_config(&tuned_profile(&env, "rec", r#""--busy", "0""#, 100, 150));
    env.ok(&["create", "a", "--agent", "rec"]);
    let mut rng = Lcg(0x6d616d);
    let mut kills = 0;
    // sends killed at random instants (before, during and after typing)
    for i in 0..170 {
        let mut c = env.cmd();
        c.args(["send", "a", &format!("k{i} payload")]);
        kill_after(c, rng.next(300));
        kills += 1;
        // and now and then the repairing reconcile pass itself
        if i % 10 == 9 {
            let mut c = env.cmd();
            c.args(["reconcile", "--once"]);
            kill_after(c, rng.next(600));
            kills += 1;
        }
    }
    // creates killed at random instants
    for i in 0..15 {
        let mut c = env.cmd();
        c.args([
            "create",
            &format!("c{i}"),
            "--agent",
            "rec",
            "--prompt",
            &format!("prompt of job c{i} here"),
        ]);
        kill_after(c, rng.next(1500));
        kills += 1;
    }
    assert!(kills >= 200);
    // Let the deliverer repair and drain everything.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        env.ok(&["reconcile", "--once"]);
        let queued = inbox(&env, "a")
            .iter()
            .filter(|m| m["state"] == "queued")
            .count();
        let jobs = env.json(&["status", "--all", "--json"])["jobs"]
            .as_array()
            .unwrap()
            .clone();
        let starting = jobs
            .iter()
            .filter(|j| j["recorded_state"] == "starting")
            .count();
        let prompts = jobs
            .iter()
            .filter(|j| j["prompt"] == "pending" && (j["state"] == "ready" || j["state"] == "busy"))
            .count();
        if queued == 0 && starting == 0 && prompts == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{queued} still queued, {starting} starting, {prompts} prompts pending"
        );
    }
    // Every stored message reached the agent exactly once, unglued; sends
    // killed before they stored their message typed nothing.
    let stored: Vec<Value> = inbox(&env, "a");
    let mut seen: HashMap<String, usize> = HashMap::new();
    for t in env.submits("a") {
        assert_eq!(t.matches("[mam] ").count(), 1, "glued: {t:?}");
        let first = t.lines().next().unwrap().to_string();
        *seen.entry(first).or_default() += 1;
    }
    for m in &stored {
        assert_eq!(m["state"], "delivered", "{m}");
        let line = format!(
            "[mam] {} from operator: {}",
            m["id"].as_str().unwrap(),
            m["body"].as_str().unwrap()
        );
        assert_eq!(
            seen.remove(&line),
            Some(1),
            "{line} not delivered exactly once"
        );
    }
    assert!(seen.is_empty(), "typed but not stored: {seen:?}");
    assert!(
        stored.len() > 50,
        "too few sends got as far as storing: {}",
        stored.len()
    );
    // Every job that exists has its job.created event, and none is left starting.
    let jobs = env.json(&["status", "--all", "--json"])["jobs"]
        .as_array()
        .unwrap()
        .clone();
    let created = env.ok(&["events", "--kind", "job.created", "--json"]);
    for j in &jobs {
        let name = j["name"].as_str().unwrap();
        assert!(
            created
                .lines()
                .any(|l| serde_json::from_str::<Value>(l).unwrap()["envelope"]["job"] == name),
            "{name} has no job.created"
        );
        assert_ne!(j["recorded_state"], "starting", "{j}");
    }
    // A prompt that reached its agent reached it once.
    for j in jobs.iter().filter(|j| j["name"] != "a") {
        let name = j["name"].as_str().unwrap();
        let prompt = format!("prompt of job {name} here");
        let n = env.submits(name).iter().filter(|t| **t == prompt).count();
        assert!(n <= 1, "{name} got its prompt {n} times");
        if j["recorded_state"] == "ready" || j["recorded_state"] == "busy" {
            assert_eq!(n, 1, "{name} is running but never got its prompt");
        }
    }
}

#[test]
fn explain_shows_the_rules_the_record_and_the_attempts() {
    let env = Env::new();
    env.write_config(&recorded_profile(&env, "rec", r#""--busy", "0""#));
    env.ok(&[
        "create",
        "e",
        "--agent",
        "rec",
        "--prompt",
        "explain this job to me",
    ]);
    env.wait_state("e", "ready");
    let out = env.ok(&["explain", "e"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "e (rec): recorded ready");
    assert_eq!(lines[1], "screen shows: ready");
    let rules = lines
        .iter()
        .position(|l| *l == "rules (checked in this order):")
        .unwrap();
    let record = lines
        .iter()
        .position(|l| l.starts_with("record: "))
        .unwrap();
    assert_eq!(
        lines[rules + 1..record],
        [
            "    -   error   (?m)^FATAL: .*$",
            "    -   dialog  trust (answered with Enter)",
            "    -   dialog  bypass (answered with Enter)",
            "    -   busy    (?m)Working \\(esc to interrupt\\)$",
            "  match ready   (?m)^> ?$",
            "  match ready   (?m)^\\? for shortcuts$",
        ]
    );
    let store = env.logs.join("claude");
    assert_eq!(
        lines[record],
        format!(
            "record: claude store under {}; delivery proof is the agent's own record",
            store.display()
        )
    );
    assert_eq!(lines[record + 2], "prompt: delivered");
    assert_eq!(
        lines[record + 3],
        "mcp: not wired; the agent uses the mam command line"
    );
    assert_eq!(lines[record + 4], "attempts (newest first):");
    assert!(
        lines[record + 5].starts_with("  prompt proven ")
            && lines[record + 5].ends_with(" ago: proof: record"),
        "{out}"
    );
    let v = env.json(&["explain", "e", "--json"]);
    assert_eq!(v["recorded_state"], "ready");
    assert_eq!(v["attempts"][0]["item"], "prompt");
    assert_eq!(v["attempts"][0]["needle"], "explain this job to me");
}
