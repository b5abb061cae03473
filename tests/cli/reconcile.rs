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

#[test]
fn tagged_sessions_are_adopted_and_untagged_ones_left_alone() {
    let env = Env::new();
    let ws = env.ok(&["init", "-q"]).trim().to_string();
    let fa = fake_agent().display().to_string();
    let ok = env
        .tmux(&[
            "new-session",
            "-d",
            "-s",
            "mam-ghost",
            "-x",
            "200",
            "-y",
            "50",
            "-c",
            env.root.to_str().unwrap(),
            "--",
            &fa,
            ";",
            "set-option",
            "@mam_ws",
            &ws,
            ";",
            "set-option",
            "@mam_job",
            "ghost",
            ";",
            "set-option",
            "@mam_kind",
            "fake-plain",
            ";",
            "set-option",
            "@mam_role",
            "reviewer",
        ])
        .status
        .success();
    assert!(ok);
    assert!(
        env.tmux(&["new-session", "-d", "-s", "mam-stray", "--", "sleep", "300"])
            .status
            .success()
    );
    assert!(
        env.tmux(&[
            "new-session",
            "-d",
            "-s",
            "mam-alien",
            "--",
            "sleep",
            "300",
            ";",
            "set-option",
            "@mam_ws",
            "wsomeoneelse",
            ";",
            "set-option",
            "@mam_job",
            "alien"
        ])
        .status
        .success()
    );
    env.eventually(
        "the fake agent to draw",
        std::time::Duration::from_secs(5),
        || {
            String::from_utf8_lossy(
                &env.tmux(&["capture-pane", "-p", "-t", "=mam-ghost:"])
                    .stdout,
            )
            .contains("? for shortcuts")
        },
    );
    let r = env.json(&["reconcile", "--once", "--json"]);
    let adopted = r["adopted"].as_array().unwrap();
    assert_eq!(adopted.len(), 1, "{r}");
    assert_eq!(adopted[0]["job"], "ghost");
    let j = env.job("ghost");
    assert_eq!(j["kind"], "fake-plain");
    assert_eq!(j["role"], "reviewer");
    assert_eq!(j["state"], "ready");
    assert_eq!(j["workdir"], env.root.to_str().unwrap());
    assert!(env.job("stray").is_null() && env.job("alien").is_null());
    // Adopted means managed: messages reach it, stop ends it.
    assert_eq!(
        env.ok(&["send", "ghost", "welcome"]).trim(),
        "m1 to ghost: delivered"
    );
    env.ok(&["stop", "ghost"]);
    assert!(!env.has_session("mam-ghost"));
    assert!(env.has_session("mam-stray") && env.has_session("mam-alien"));
}
