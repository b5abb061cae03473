//! The human output of the main commands and the main error messages,
//! compared exactly with the golden files under tests/golden/, which are
//! their spec. `MAM_BLESS=1 cargo test --test cli golden` rewrites the ones
//! that differ (and fails, naming them): review the diff before committing.
//!
//! The scenario is deterministic: fixed names and texts, and every output
//! read on mam's clock fixed at (start of the scenario + 2 h − 1.5 s) with
//! `MAM_TEST_CLOCK_MS`, so that every age is `1h` (anything stamped in the
//! scenario is between 1 s before its start — tmux's activity has second
//! resolution — and a few minutes after). Paths, ids and the tmux socket
//! are normalised by `Env::expect`.

use std::time::Duration;

use crate::support::*;

/// A small workspace: `alice` ready with progress, `bob` (pm) stopped,
/// messages delivered and queued, a question open each way, reminders
/// pending, delivered and failed. Returns the value of `MAM_TEST_CLOCK_MS`
/// that reads it two hours later.
fn scenario(env: &Env) -> String {
    let start = mam::clock::system_ms();
    env.ok(&["create", "alice", "--agent", "fake-plain"]);
    env.ok(&["create", "bob", "--agent", "fake-plain", "--role", "pm"]);
    env.ok(&["progress", "--job", "alice", "40", "reading the code"]);
    env.ok(&["send", "alice", "please review src/lib.rs"]);
    env.ok(&["remind", "-q", "bob", "--in", "1s", "check the CI"]);
    env.ok(&["stop", "bob"]);
    env.expect(&["send", "bob", "the build is red"])
        .stdout_is("m2 to bob: queued\n")
        .run();
    env.expect(&["ask", "bob", "which", "branch?"])
        .by_agent("alice")
        .stdout_is("q1 asked of bob\n")
        .run();
    env.expect(&["send", "operator", "review done, two nits"])
        .by_agent("alice")
        .stdout_is("m4 to operator: queued\n")
        .run();
    env.ok(&["ask", "alice", "ready to merge?"]);
    env.expect(&["remind", "alice", "--in", "3h", "--every", "1d", "stand up"])
        .times()
        .stdout_is("r2 for alice at <TIME>\n")
        .run();
    env.ok(&["remind", "-q", "operator", "--in", "1s", "lunch"]);
    // Let the 1 s reminders fall due without waiting for them.
    env.advance(Duration::from_secs(2));
    for _ in 0..3 {
        env.ok(&["reconcile", "--once"]);
    }
    // alice took q2 just now: read the workspace once her screen is still.
    env.wait_state("alice", "ready");
    (start + 2 * 3_600_000 - 1_500).to_string()
}

#[test]
fn the_human_output_of_the_main_commands() {
    let env = Env::new();
    let later = scenario(&env);
    let at = |args: &[&str]| env.expect(args).env(CLOCK_ENV, &later);
    at(&["status"])
        .stdout_golden("status.stdout")
        .stderr_is("")
        .run();
    at(&["status", "--format", "tmux"])
        .stdout_golden("status-tmux.stdout")
        .stderr_is("")
        .run();
    at(&["status", "--all", "alice"])
        .stdout_golden("status-alice.stdout")
        .stderr_is("")
        .run();
    at(&["inbox", "alice", "--all"])
        .stdout_golden("inbox-alice-all.stdout")
        .stderr_is("")
        .run();
    at(&["inbox", "bob"])
        .stdout_golden("inbox-bob.stdout")
        .stderr_is("")
        .run();
    at(&["threads"])
        .stdout_golden("threads.stdout")
        .stderr_is("")
        .run();
    at(&["threads", "alice"])
        .stdout_golden("threads-alice.stdout")
        .stderr_is("")
        .run();
    at(&["reminders", "--all"])
        .stdout_golden("reminders-all.stdout")
        .stderr_is("")
        .run();
    at(&["explain", "alice"])
        .stdout_golden("explain-alice.stdout")
        .stderr_is("")
        .run();
    at(&["explain", "bob"])
        .stdout_golden("explain-bob.stdout")
        .stderr_is("")
        .run();
}

/// `tmux X.Y` as doctor prints it (`tmux -V` may say `tmux 3.3a`).
fn tmux_version() -> String {
    let v = require_tmux();
    let digits: String = v
        .trim_start_matches("tmux ")
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    format!("tmux {digits}")
}

#[test]
fn doctor_in_a_workspace_with_a_job_and_with_the_test_clock_set() {
    let env = Env::new();
    let tmux = tmux_version();
    // The schema version moves with every migration (helpers add them in
    // parallel): the golden files name it <SCHEMA>.
    let schema = format!("schema {} ok", mam::registry::SCHEMA_VERSION);
    let check = |args: &[&str]| {
        env.expect(args)
            .replace(&tmux, "tmux <VERSION>")
            .replace(&schema, "schema <SCHEMA> ok")
            .stderr_is("")
    };
    check(&["doctor"])
        .stdout_golden("doctor-empty.stdout")
        .run();
    env.ok(&["create", "alice", "--agent", "fake-plain", "--no-wait"]);
    check(&["doctor"]).stdout_golden("doctor.stdout").run();
    env.expect(&["doctor"])
        .env(CLOCK_ENV, "+60000")
        .replace(&tmux, "tmux <VERSION>")
        .replace(&schema, "schema <SCHEMA> ok")
        .stdout_golden("doctor-test-clock.stdout")
        .stderr_is("")
        .run();
}

#[test]
fn the_main_error_messages() {
    let env = Env::new();
    env.ok(&["create", "alice", "--agent", "fake-plain", "--no-wait"]);
    env.ok(&["create", "bob", "--agent", "fake-plain", "--no-wait"]);
    let fails = |args: &[&str], code: i32, golden: &str| {
        env.expect(args)
            .code(code)
            .stdout_is("")
            .stderr_golden(&format!("errors/{golden}.stderr"))
            .run();
    };
    // Not found (3).
    fails(&["stop", "nobody"], 3, "unknown-job");
    fails(&["send", "nobody", "hi"], 3, "send-to-unknown-job");
    fails(&["create", "x", "--agent", "nope"], 3, "unknown-profile");
    fails(&["retry", "r9"], 3, "unknown-reminder");
    fails(&["answer", "q9", "yes"], 3, "unknown-question");
    // Usage (2): bad names and values, and clap's own.
    fails(&["create", "Bad Name!"], 2, "bad-name");
    fails(&["send", "alice"], 2, "empty-message");
    fails(&["remind", "alice", "--in", "soon", "x"], 2, "bad-duration");
    fails(&["create"], 2, "usage-missing-name");
    fails(&["frobnicate"], 2, "usage-unknown-command");
    fails(&["status", "--bogus"], 2, "usage-unknown-flag");
    // Conflict (4).
    fails(
        &["create", "alice", "--agent", "fake-plain"],
        4,
        "job-exists",
    );
    env.expect(&["remind", "-q", "alice", "--in", "1h", "x"])
        .by_agent("alice")
        .stdout_is("r1\n")
        .run();
    env.expect(&["cancel", "r1"])
        .by_agent("bob")
        .code(4)
        .stderr_golden("errors/not-yours.stderr")
        .run();
    fails(&["retry", "r1"], 4, "retry-not-failed");
}
