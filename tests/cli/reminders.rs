//! Reminders: scheduled, delivered with the same verification as messages,
//! rate-limited per target (deferred, never dropped), retried. Time that
//! must pass for a reminder to fall due passes on mam's clock
//! (`Env::advance`), not on the wall clock.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

fn reminders(env: &Env) -> Vec<Value> {
    env.json(&["reminders", "--all", "--json"])["reminders"]
        .as_array()
        .unwrap()
        .clone()
}

fn reminder_texts(env: &Env, agent: &str) -> Vec<String> {
    env.submits(agent)
        .into_iter()
        .filter(|s| s.contains(" reminder from "))
        .collect()
}

#[test]
fn a_reminder_due_while_the_agent_is_busy_arrives_once_it_is_ready() {
    let env = Env::new();
    let rules = FAKE_RULES.replace("queued = ['Press up to edit queued messages']\n", "");
    env.write_config(&env.fake_profile("busy", r#""--busy", "2""#, Some(&rules)));
    env.ok(&["create", "b", "--agent", "busy", "--prompt", "work"]);
    env.expect(&["remind", "b", "--in", "1s", "check", "the", "build"])
        .times()
        .stdout_is("r1 for b at <TIME>\n")
        .stderr_is("")
        .run();
    assert_eq!(env.json(&["status", "--json"])["jobs"][0]["reminders"], 1);
    // Due now, while b is still busy with its prompt (2 s).
    env.advance(Duration::from_secs(1));
    env.eventually(
        "the reminder to be delivered",
        Duration::from_secs(15),
        || {
            env.ok(&["reconcile", "--once"]);
            reminders(&env)[0]["state"] == "delivered"
        },
    );
    assert_eq!(
        reminder_texts(&env, "b"),
        vec!["[mam] r1 reminder from operator: check the build"]
    );
    env.ok(&["reconcile", "--once"]);
    assert_eq!(reminder_texts(&env, "b").len(), 1, "delivered twice");
}

#[test]
fn many_due_reminders_arrive_at_the_configured_rate_none_dropped() {
    let env = Env::new();
    env.write_config("[reminders]\nburst = 3\nper_hour = 36000\n");
    env.ok(&["create", "r", "--agent", "fake-plain"]);
    for i in 0..20 {
        env.ok(&["remind", "-q", "r", "--in", "1s", &format!("ping {i}")]);
    }
    env.advance(Duration::from_secs(1));
    let mut passes = 0;
    env.eventually("all 20 reminders", Duration::from_secs(60), || {
        passes += 1;
        let report = env.json(&["reconcile", "--once", "--json"]);
        let delivered = report["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d.get("Delivered").is_some())
            .count();
        assert!(
            delivered <= 3,
            "pass {passes} delivered {delivered} > burst: {report}"
        );
        reminders(&env).iter().all(|r| r["state"] == "delivered")
    });
    assert!(
        passes >= 7,
        "20 reminders at a burst of 3 need at least 7 passes, took {passes}"
    );
    let texts = reminder_texts(&env, "r");
    assert_eq!(texts.len(), 20, "{texts:?}");
    let mut got: Vec<String> = texts
        .iter()
        .map(|t| t.rsplit(": ").next().unwrap().to_string())
        .collect();
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 20, "every reminder exactly once");
}

#[test]
fn a_reminder_to_a_stopped_agent_fails_with_its_reason_and_retry_rearms_it() {
    let env = Env::new();
    env.ok(&["create", "s", "--agent", "fake-plain"]);
    env.ok(&["stop", "s"]);
    env.ok(&["remind", "s", "--in", "1s", "wake up"]);
    env.advance(Duration::from_secs(1));
    for _ in 0..3 {
        env.ok(&["reconcile", "--once"]);
    }
    let r = &reminders(&env)[0];
    assert_eq!(r["state"], "failed", "{r}");
    assert_eq!(r["attempts"], 3);
    assert!(
        r["last_error"]
            .as_str()
            .unwrap()
            .contains("not running (stopped)"),
        "{r}"
    );
    // The table, read 5 s after it fell due.
    let later = r["due_at"].as_i64().unwrap() + 5_000;
    env.expect(&["reminders"])
        .env(CLOCK_ENV, &later.to_string())
        .stdout_is(
            "ID  TARGET  OWNER     STATE   DUE     EVERY  ATTEMPTS  LAST ERROR\n\
             r1  s       operator  failed  5s ago  -      3         s is not running (stopped)\n",
        )
        .stderr_is("")
        .run();
    env.fails(&["retry", "r9"], 3);
    env.ok(&["retry", "r1"]);
    let r = &reminders(&env)[0];
    assert_eq!(r["state"], "pending");
    assert_eq!(r["attempts"], 0);
    env.fails(&["retry", "r1"], 4); // not failed any more
    env.ok(&["resume", "s"]);
    env.eventually(
        "the reminder once s is ready",
        Duration::from_secs(10),
        || {
            env.ok(&["reconcile", "--once"]);
            !reminder_texts(&env, "s").is_empty()
        },
    );
    assert_eq!(
        reminder_texts(&env, "s"),
        vec!["[mam] r1 reminder from operator: wake up"]
    );
}

#[test]
fn repeating_reminders_reschedule_and_owners_cancel() {
    let env = Env::new();
    env.ok(&["create", "a", "--agent", "fake-plain"]);
    env.ok(&["create", "b", "--agent", "fake-plain", "--no-wait"]);
    let as_ =
        |who: &str, args: &[&str]| env.cmd().env("MAM_AGENT", who).args(args).output().unwrap();
    assert!(
        as_(
            "a",
            &["remind", "a", "--in", "1s", "--every", "1h", "stand", "up"]
        )
        .status
        .success()
    );
    env.advance(Duration::from_secs(1));
    env.ok(&["reconcile", "--once"]);
    let r = &reminders(&env)[0];
    assert_eq!(
        r["state"], "pending",
        "a repeating reminder stays pending: {r}"
    );
    assert!(
        r["due_at"].as_i64().unwrap() > r["fired_at"].as_i64().unwrap() + 3_500_000,
        "{r}"
    );
    assert_eq!(reminder_texts(&env, "a").len(), 1);
    // Someone else's: conflict; the owner's: cancelled.
    assert_eq!(as_("b", &["cancel", "r1"]).status.code(), Some(4));
    assert!(as_("a", &["cancel", "r1"]).status.success());
    assert_eq!(reminders(&env)[0]["state"], "cancelled");
}

#[test]
fn reminders_to_the_operator_wait_in_the_inbox() {
    let env = Env::new();
    env.ok(&["remind", "operator", "--in", "1s", "lunch"]);
    env.advance(Duration::from_secs(1));
    env.ok(&["reconcile", "--once"]);
    env.expect(&["recv"])
        .stdout_is("m1 from operator [reminder]:\n  lunch (reminder r1)\n")
        .stderr_is("")
        .run();
}

#[test]
fn bad_reminder_input() {
    let env = Env::new();
    env.ok(&["create", "a", "--agent", "fake-plain", "--no-wait"]);
    let out = env.mam(&["remind", "a", "text"]); // neither --in nor --at
    assert_eq!(out.status.code(), Some(2));
    env.fails(&["remind", "a", "--in", "soon", "x"], 2);
    env.fails(&["remind", "a", "--in", "0s", "x"], 2);
    env.fails(&["remind", "a", "--at", "half past", "x"], 2);
    env.fails(&["remind", "nobody", "--in", "1m", "x"], 3);
    // Up to a year ahead is fine; further is refused (bad_input.rs).
    let in_300_days = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(24 * 300))
        .unwrap()
        .to_string();
    env.ok(&["remind", "a", "--at", &in_300_days, "far future"]);
    env.fails(
        &["remind", "a", "--at", "2099-01-01T00:00:00Z", "too far"],
        2,
    );
}
