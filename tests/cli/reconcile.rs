//! `mam reconcile --once`: drift found and recorded honestly.

use crate::support::*;

#[test]
fn a_session_killed_behind_mams_back_is_lost_after_two_passes_and_resumable() {
    let env = Env::new();
    env.ok(&["create", "k", "--agent", "fake-plain"]);
    assert!(env.tmux(&["kill-session", "-t", "=mam-k"]).status.success());
    let first = env.json(&["reconcile", "--once", "--json"]);
    assert_eq!(first["drift"][0]["to"], "ready", "{first}");
    assert_eq!(
        env.job("k")["recorded_state"],
        "ready",
        "lost after one miss"
    );
    let second = env.json(&["reconcile", "--once", "--json"]);
    assert_eq!(second["drift"][0]["to"], "lost", "{second}");
    assert_eq!(env.job("k")["recorded_state"], "lost");
    let ev = env.ok(&["events", "--job", "k", "--kind", "job.state"]);
    assert!(
        ev.lines().last().unwrap().contains("\"to\":\"lost\""),
        "{ev}"
    );
    env.ok(&["resume", "k"]);
    assert_eq!(env.job("k")["state"], "ready");
    // Nothing to do now.
    assert_eq!(env.ok(&["reconcile", "--once"]).trim(), "nothing to do");
}

#[test]
fn a_dead_pane_is_recorded_as_exited_with_its_status() {
    let env = Env::new();
    env.ok(&[
        "create",
        "d",
        "--agent",
        "fake-plain",
        "--cmd",
        "sh -c 'printf \"> \\n? for shortcuts\\n\"; sleep 1; exit 3'",
    ]);
    env.eventually("the pane to die", std::time::Duration::from_secs(5), || {
        env.job("d")["state"] == "exited"
    });
    let r = env.json(&["reconcile", "--once", "--json"]);
    assert_eq!(r["drift"][0]["to"], "exited", "{r}");
    assert!(
        r["drift"][0]["why"].as_str().unwrap().contains("status 3"),
        "{r}"
    );
    assert_eq!(env.job("d")["recorded_state"], "exited");
}

#[test]
fn dry_run_changes_nothing() {
    let env = Env::new();
    env.ok(&["create", "k", "--agent", "fake-plain"]);
    env.tmux(&["kill-session", "-t", "=mam-k"]);
    for _ in 0..3 {
        env.ok(&["reconcile", "--once", "--dry-run"]);
    }
    assert_eq!(env.job("k")["recorded_state"], "ready");
}
