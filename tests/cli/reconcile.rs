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
    env.wait_state("k", "ready");
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
    // tmux 3.3a now and then never records a dead pane's exit status (its
    // pane_dead_status stays empty); when it does, it must be the right one.
    let why = r["drift"][0]["why"].as_str().unwrap();
    assert!(why == "the agent exited" || why.contains("status 3"), "{r}");
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

#[test]
fn a_turn_that_ended_makes_the_job_ready_again() {
    let env = Env::new();
    env.write_config(&env.fake_profile("b1", r#""--busy", "1""#, None));
    env.ok(&["create", "t", "--agent", "b1", "--prompt", "short task"]);
    assert_eq!(env.job("t")["recorded_state"], "busy");
    env.eventually(
        "the turn to end",
        std::time::Duration::from_secs(10),
        || {
            env.ok(&["reconcile", "--once"]);
            env.job("t")["recorded_state"] == "ready"
        },
    );
}

#[test]
fn a_busy_agent_with_an_unchanged_screen_is_flagged_stuck_once() {
    let env = Env::new();
    env.write_config("[reconcile]\nstuck_after = \"1s\"\n");
    env.ok(&[
        "create",
        "s",
        "--agent",
        "fake-plain",
        "--no-wait",
        "--cmd",
        "sh -c 'printf \"thinking hard\\nWorking (esc to interrupt)\\n\"; sleep 300'",
    ]);
    env.eventually(
        "the job to be seen busy",
        std::time::Duration::from_secs(5),
        || {
            env.ok(&["reconcile", "--once"]);
            env.job("s")["recorded_state"] == "busy"
        },
    );
    env.eventually("the stuck flag", std::time::Duration::from_secs(6), || {
        let r = env.json(&["reconcile", "--once", "--json"]);
        r["drift"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["why"].as_str().unwrap().starts_with("stuck"))
    });
    let j = env.job("s");
    assert!(j["stuck_since"].is_string(), "{j}");
    env.expect(&["status"])
        .ages()
        .stdout_is(
            "NAME  KIND        ROLE    STATE         PROGRESS  INBOX  REMINDERS  THREADS  AGE  ACTIVITY\n\
             s     fake-plain  worker  busy (stuck)  -         0      0          0        <AGE> <AGE> ago\n",
        )
        .stderr_is("")
        .run();
    // Flagged once: the next pass reports nothing new, and one event.
    let r = env.json(&["reconcile", "--once", "--json"]);
    assert!(r["drift"].as_array().unwrap().is_empty(), "{r}");
    let ev = env.ok(&["events", "--kind", "job.stuck"]);
    assert_eq!(ev.lines().count(), 1, "{ev}");
}

#[test]
fn a_pass_without_a_utf8_locale_still_sees_live_jobs() {
    let env = Env::new();
    env.ok(&["create", "c", "--agent", "fake-plain"]);
    // As cron runs it: no locale at all, then the C locale.
    for (key, value) in [("LC_ALL", None), ("LC_ALL", Some("C"))] {
        for _ in 0..2 {
            let mut cmd = env.cmd();
            cmd.env_remove("LANG").env_remove("LC_CTYPE");
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
            let out = cmd.args(["reconcile", "--once"]).output().unwrap();
            check_ok("reconcile --once without a UTF-8 locale", &out);
            assert_eq!(String::from_utf8_lossy(&out.stdout), "nothing to do\n");
        }
    }
    assert_eq!(env.job("c")["recorded_state"], "ready");
}
