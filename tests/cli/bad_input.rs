//! Bad input (SPEC §8): a clear message, the right exit code, a hint where the
//! user can act, and nothing half done.

use std::os::unix::fs::PermissionsExt;

use crate::support::*;

#[test]
fn invalid_names_are_usage_errors() {
    let env = Env::new();
    for bad in ["Alice", "-x", "a b", "a;b", &"x".repeat(33), "../etc"] {
        let err = env.fails(&["create", "--agent", "fake-plain", "--", bad], 2);
        assert!(err.contains("hint:"), "{err}");
    }
    assert!(env.job("alice").is_null());
}

#[test]
fn unknown_job_agent_and_workdir_are_not_found() {
    let env = Env::new();
    let err = env.fails(&["stop", "nobody"], 3);
    assert!(err.contains("nobody"), "{err}");
    env.fails(&["resume", "nobody"], 3);
    env.fails(&["logs", "nobody"], 3);
    let err = env.fails(&["create", "a", "--agent", "nosuch"], 3);
    assert!(err.contains("known profiles"), "{err}");
    let err = env.fails(
        &[
            "create",
            "a",
            "--agent",
            "fake-plain",
            "--workdir",
            "/no/such/dir",
        ],
        3,
    );
    assert!(err.contains("/no/such/dir"), "{err}");
    let err = env.fails(
        &[
            "create",
            "a",
            "--agent",
            "fake-plain",
            "--prompt-file",
            "missing.md",
        ],
        3,
    );
    assert!(err.contains("missing.md"), "{err}");
    assert!(env.job("a").is_null(), "nothing half done");
    assert!(!env.has_session("mam-a"));
}

#[test]
fn unreadable_or_binary_prompt_files_are_refused() {
    let env = Env::new();
    std::fs::write(env.path("bin.dat"), [0xff, 0xfe, 0x00, 0x80]).unwrap();
    let err = env.fails(
        &[
            "create",
            "a",
            "--agent",
            "fake-plain",
            "--prompt-file",
            "bin.dat",
        ],
        2,
    );
    assert!(err.contains("not UTF-8"), "{err}");
    std::fs::create_dir(env.path("adir")).unwrap();
    env.fails(
        &[
            "create",
            "a",
            "--agent",
            "fake-plain",
            "--prompt-file",
            "adir",
        ],
        2,
    );
    assert!(env.job("a").is_null());
}

#[test]
fn malformed_config_names_the_key_and_the_file() {
    let env = Env::new();
    env.write_config("[tmux]\nsokket = \"x\"\n");
    let err = env.fails(&["status"], 2);
    assert!(err.contains("sokket"), "{err}");
    assert!(err.contains(".mam/config.toml"), "{err}");
    env.write_config("[tmux\n");
    let err = env.fails(&["status"], 2);
    assert!(err.contains(".mam/config.toml"), "{err}");
    // A bad profile pattern names the profile.
    env.write_config("[agents.broken]\ncmd = [\"true\"]\nready = ['(unclosed']\n");
    let err = env.fails(&["create", "x", "--agent", "broken"], 2);
    assert!(err.contains("broken") && err.contains("ready"), "{err}");
}

#[test]
fn a_newer_registry_schema_is_refused() {
    let env = Env::new();
    env.ok(&["init"]);
    let c = rusqlite_set_version(&env.path(".mam/mam.db"), 999);
    assert!(c);
    let err = env.fails(&["status"], 6);
    assert!(err.contains("newer"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

fn rusqlite_set_version(db: &std::path::Path, v: i64) -> bool {
    let c = rusqlite::Connection::open(db).unwrap();
    c.pragma_update(None, "user_version", v).unwrap();
    true
}

#[test]
fn a_corrupt_registry_is_named() {
    let env = Env::new();
    env.ok(&["init"]);
    for f in ["mam.db-wal", "mam.db-shm"] {
        let _ = std::fs::remove_file(env.path(&format!(".mam/{f}")));
    }
    std::fs::write(env.path(".mam/mam.db"), vec![b'z'; 8192]).unwrap();
    let err = env.fails(&["status"], 6);
    assert!(err.contains("corrupt"), "{err}");
}

#[test]
fn a_key_file_readable_by_others_is_refused() {
    let env = Env::new();
    env.ok(&["init"]);
    let key = env.path(".mam/secret.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = env.fails(&["create", "a", "--agent", "fake-plain"], 6);
    assert!(
        err.contains("secret.key") && err.contains("chmod 600"),
        "{err}"
    );
    assert!(!env.has_session("mam-a"));
    // A symlinked key is refused too.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let real = env.dir.path().join("elsewhere.key");
    std::fs::rename(&key, &real).unwrap();
    std::os::unix::fs::symlink(&real, &key).unwrap();
    let err = env.fails(&["init"], 6);
    assert!(err.contains("symbolic link"), "{err}");
}

#[test]
fn no_tmux_on_path_is_an_environment_error_with_a_hint() {
    let env = Env::new();
    let out = env
        .cmd()
        .env("PATH", env.dir.path().join("empty-bin"))
        .args(["create", "a", "--agent", "fake-plain"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tmux is not installed"), "{err}");
    assert!(err.contains("apt-get install tmux"), "{err}");
    assert!(env.job("a").is_null());
}

#[test]
fn bad_flags_are_usage_errors() {
    let env = Env::new();
    let out = env.mam(&["create"]);
    assert_eq!(out.status.code(), Some(2));
    let out = env.mam(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let err = env.fails(
        &["create", "a", "--agent", "fake-plain", "--env", "NOEQUALS"],
        2,
    );
    assert!(err.contains("K=V"), "{err}");
    env.fails(
        &[
            "create",
            "a",
            "--agent",
            "fake-plain",
            "--ready-timeout",
            "-1",
        ],
        2,
    );
    env.fails(
        &[
            "create",
            "a",
            "--agent",
            "fake-plain",
            "--cmd",
            "unbalanced 'quote",
        ],
        2,
    );
    let out = env.mam(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_missing_workspace_dir_is_a_usage_error() {
    let env = Env::new();
    let err = env.fails(&["--workspace", "/no/such/ws", "status"], 2);
    assert!(err.contains("/no/such/ws"), "{err}");
}

/// A registry written by schema 1 (kept forever): every later build opens it,
/// migrates it forward, and keeps its jobs.
#[test]
fn an_old_registry_is_migrated_and_kept() {
    let env = Env::new();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/registry-v1.db");
    std::fs::copy(fixture, env.path(".mam/mam.db")).unwrap();
    let v = env.json(&["status", "--all", "--json"]);
    assert_eq!(v["workspace"], "w0ld0000v1ws");
    let job = &v["jobs"][0];
    assert_eq!(job["name"], "veteran");
    assert_eq!(job["role"], "pm");
    assert_eq!(
        job["conversation_id"],
        "11111111-2222-4333-8444-555555555555"
    );
    // Tables of later schemas work on it.
    assert_eq!(
        env.ok(&["send", "veteran", "welcome back"]).trim(),
        "m1 to veteran: queued"
    );
}

#[test]
fn seconds_flags_out_of_range_are_usage_errors_and_leave_nothing_behind() {
    let env = Env::new();
    env.ok(&["create", "s", "--agent", "fake-plain"]);
    env.ok(&["stop", "s"]);
    let create = |v: &'static str| -> Vec<&'static str> {
        vec!["create", "x", "--agent", "fake-plain", "--ready-timeout", v]
    };
    // (argv, flag, value, the lowest value the flag takes)
    let cases: Vec<(Vec<&str>, &str, &str, &str)> = vec![
        (create("1e308"), "--ready-timeout", "1e308", "0.001"),
        (create("inf"), "--ready-timeout", "inf", "0.001"),
        (create("0"), "--ready-timeout", "0", "0.001"),
        (
            vec!["resume", "s", "--ready-timeout", "1e308"],
            "--ready-timeout",
            "1e308",
            "0",
        ),
        (vec!["stop", "s", "--timeout=-5"], "--timeout", "-5", "0"),
        (vec!["recv", "--wait", "NaN"], "--wait", "NaN", "0"),
        (vec!["watch", "--for=-1"], "--for", "-1", "0"),
        (
            vec!["status", "--watch", "1e308"],
            "--watch",
            "1e308",
            "0.1",
        ),
        (vec!["status", "--watch", "0"], "--watch", "0", "0.1"),
        (
            vec!["reconcile", "--interval", "1e308"],
            "--interval",
            "1e308",
            "0.1",
        ),
        // Once silently the 10 s default, or a busy loop.
        (
            vec!["reconcile", "--interval", "0"],
            "--interval",
            "0",
            "0.1",
        ),
        (
            vec!["reconcile", "--interval=-5"],
            "--interval",
            "-5",
            "0.1",
        ),
        (
            vec!["reconcile", "--once", "--interval", "0.0000001"],
            "--interval",
            "0.0000001",
            "0.1",
        ),
    ];
    for (args, flag, value, lo) in &cases {
        let err = env.fails(args, 2);
        let shown: f64 = value.parse().unwrap();
        assert_eq!(
            err,
            format!(
                "mam: error: {flag} {shown}: expected a number of seconds from {lo} to 31557600 (a year)\n"
            ),
            "{args:?}"
        );
    }
    assert!(env.job("x").is_null(), "a rejected create left a job");
    assert!(!env.has_session("mam-x"));
    assert_eq!(env.job("s")["state"], "stopped");
}

/// Exit code, stdout and stderr of a prepared command.
fn outcome(mut cmd: std::process::Command) -> (Option<i32>, String, String) {
    let out = cmd.output().expect("run mam");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn text_durations_and_times_are_bounded_by_one_parser() {
    let env = Env::new();
    let cases: &[(&[&str], &str)] = &[
        // Was scheduled for 1970 (an overflowed timestamp) and fired at once.
        (
            &["remind", "operator", "--in", "99999999999h", "x"],
            "--in \"99999999999h\": expected a duration from 1ms to 1y",
        ),
        (
            &[
                "remind",
                "operator",
                "--in",
                "99999999999999999999999h",
                "x",
            ],
            "--in \"99999999999999999999999h\": expected a duration from 1ms to 1y",
        ),
        (
            &["remind", "operator", "--in", "0s", "x"],
            "--in \"0s\": expected a duration from 1ms to 1y",
        ),
        (
            &["remind", "operator", "--in=-5m", "x"],
            "--in \"-5m\": expected a duration from 1ms to 1y",
        ),
        (
            &["remind", "operator", "--in", "1m", "--every", "1s", "x"],
            "--every \"1s\": expected a duration from 1m to 1y",
        ),
        (
            &["remind", "operator", "--in", "1m", "--every", "2y", "x"],
            "--every \"2y\": expected a duration from 1m to 1y",
        ),
        (
            &["remind", "operator", "--at", "2099-01-01T00:00:00Z", "x"],
            "--at \"2099-01-01T00:00:00Z\": expected a time after now and at most 1y ahead",
        ),
        (
            &["remind", "operator", "--at", "2020-01-01T00:00:00Z", "x"],
            "--at \"2020-01-01T00:00:00Z\": expected a time after now and at most 1y ahead",
        ),
    ];
    for (args, msg) in cases {
        assert_eq!(
            env.fails(args, 2),
            format!("mam: error: {msg}\n"),
            "{args:?}"
        );
    }
    let err = env.fails(&["remind", "operator", "--in", "soon", "x"], 2);
    assert_eq!(
        err,
        "mam: error: --in \"soon\": not a duration\nhint: durations look like 90s, 15m, 2h, 1d or 1h30m\n"
    );
    // Nothing was scheduled.
    assert_eq!(
        env.json(&["reminders", "--all", "--json"])["reminders"],
        serde_json::json!([])
    );
    // The bounds themselves are accepted.
    env.ok(&[
        "remind", "-q", "operator", "--in", "1y", "--every", "1m", "ok",
    ]);
}

#[test]
fn duration_config_keys_are_bounded_and_name_the_file() {
    let env = Env::new();
    let file = env.path(".mam/config.toml");
    let cases = [
        // Once a daemon that busy-looped.
        (
            "[reconcile]\ninterval = \"0s\"\n",
            "reconcile.interval \"0s\": expected a duration from 100ms to 1y",
        ),
        (
            "[reconcile]\ninterval = \"1ns\"\n",
            "reconcile.interval \"1ns\": expected a duration from 100ms to 1y",
        ),
        (
            "[reconcile]\ninterval = \"99999999999999999999h\"\n",
            "reconcile.interval \"99999999999999999999h\": expected a duration from 100ms to 1y",
        ),
        (
            "[reconcile]\nstuck_after = \"2y\"\n",
            "reconcile.stuck_after \"2y\": expected a duration from 1ms to 1y",
        ),
        (
            "[security]\nreplay_window = \"0s\"\n",
            "security.replay_window \"0s\": expected a duration from 1ms to 1y",
        ),
        (
            "[security]\nkey_grace = \"-1s\"\n",
            "security.key_grace \"-1s\": expected a duration from 0s to 1y",
        ),
    ];
    for (cfg, msg) in cases {
        env.write_config(cfg);
        for args in [&["status"][..], &["reconcile", "--once"][..]] {
            assert_eq!(
                env.fails(args, 2),
                format!(
                    "mam: error: malformed config file {f}: {msg}\nhint: fix or remove the key in {f} (see `mam init` for a commented template)\n",
                    f = file.display()
                ),
                "{cfg}"
            );
        }
    }
    // A profile's pauses are bounded too (a huge one looked like a hang).
    env.write_config("[agents.slowpoke]\ncmd = [\"true\"]\nsubmit_delay_ms = 99999999999\n");
    assert_eq!(
        env.fails(&["create", "x", "--agent", "slowpoke"], 2),
        "mam: error: profile slowpoke: submit_delay_ms = 99999999999: expected milliseconds from 0 to 60000\n"
    );
    assert!(env.job("x").is_null());
}

/// A deterministic stream of values, hostile and ordinary, for every
/// duration flag and config key.
struct Values(u64);

impl Values {
    fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }

    fn value(&mut self) -> String {
        let numbers = [
            "0",
            "1",
            "-1",
            "-5",
            "0.0000001",
            "1e308",
            "-1e308",
            "1e-308",
            "NaN",
            "inf",
            "-inf",
            "99999999999",
            "18446744073709551616",
            "3.5",
            ".5",
            "007",
            "",
            " ",
            "1e3",
            "0x10",
        ];
        let units = [
            "", "", "ns", "ms", "s", "m", "h", "d", "w", "M", "y", "years", "x", "é", "s5m",
        ];
        let mut s = String::new();
        for _ in 0..=(self.next() % 2) {
            match self.next() % 4 {
                0 => s.push_str(&(self.next() % 1000).to_string()),
                1 => s.push_str(&self.next().to_string()),
                _ => s.push_str(self.pick(&numbers)),
            }
            s.push_str(self.pick(&units));
        }
        s
    }
}

/// Every duration flag and config key, fed random values: never a panic
/// (exit 101) or an unexpected error; each exit is success or a usage error
/// naming the flag (or the exit the command gives once its flags are fine).
#[test]
fn random_durations_never_panic() {
    let env = Env::new();
    env.ok(&["send", "-q", "operator", "for recv --peek"]);
    let mut g = Values(0x5eed_0fd0_0a71_0500);
    // (argv with V for the value, the flag or key, exits allowed besides 2)
    let flags: &[(&[&str], &str, &[i32])] = &[
        (&["remind", "-q", "operator", "--in=V", "x"], "--in", &[0]),
        (
            &["remind", "-q", "operator", "--in", "1m", "--every=V", "x"],
            "--every",
            &[0],
        ),
        (&["remind", "-q", "operator", "--at=V", "x"], "--at", &[0]),
        (&["reconcile", "--once", "--interval=V"], "--interval", &[0]),
        (&["stop", "nobody", "--timeout=V"], "--timeout", &[3]),
        (&["recv", "--peek", "--wait=V"], "--wait", &[0]),
        (
            &["resume", "--all", "--ready-timeout=V"],
            "--ready-timeout",
            &[0],
        ),
        (
            &["create", "x", "--agent", "nosuch", "--ready-timeout=V"],
            "--ready-timeout",
            &[3],
        ),
        (&["watch", "--for=V"], "--for", &[6]),
    ];
    let started = std::time::Instant::now();
    for (argv, flag, also) in flags {
        for _ in 0..10 {
            let v = g.value();
            let args: Vec<String> = argv.iter().map(|a| a.replace('V', &v)).collect();
            let mut cmd = env.cmd();
            cmd.args(&args);
            let (code, _, err) = outcome(cmd);
            let code = code.expect("mam ended by a signal");
            assert!(
                code == 2 || also.contains(&code),
                "{args:?}: exit {code}\n{err}"
            );
            if code == 2 {
                // Ours, or clap's for a value that is not a number at all.
                assert!(
                    err.starts_with(&format!("mam: error: {flag} "))
                        || err.starts_with("mam: error: invalid value") && err.contains(flag),
                    "{args:?}: {err}"
                );
            }
            assert!(!err.contains("panicked"), "{args:?}: {err}");
            assert!(!err.contains("internal error"), "{args:?}: {err}");
        }
    }
    // status --watch runs until stopped when its value is fine: give it a
    // moment, then end it.
    for _ in 0..4 {
        let v = g.value();
        let mut child = env
            .cmd()
            .arg("status")
            .arg(format!("--watch={v}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let until = std::time::Instant::now() + std::time::Duration::from_millis(300);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if std::time::Instant::now() > until {
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        match status {
            Some(s) => assert_eq!(s.code(), Some(2), "--watch={v}"),
            None => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
    for key in [
        "reconcile.interval",
        "reconcile.stuck_after",
        "security.replay_window",
        "security.key_grace",
    ] {
        let (table, name) = key.split_once('.').unwrap();
        for i in 0..10 {
            let v = g.value();
            let value = if i % 5 == 4 {
                v.clone() // sometimes not even a string
            } else {
                format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
            };
            env.write_config(&format!("[{table}]\n{name} = {value}\n"));
            let (code, _, err) = outcome({
                let mut c = env.cmd();
                c.args(["reconcile", "--once"]);
                c
            });
            let code = code.expect("mam ended by a signal");
            assert!(
                code == 0 || code == 2,
                "{key} = {value}: exit {code}\n{err}"
            );
            assert!(!err.contains("panicked"), "{key} = {value}: {err}");
        }
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "bounded in time"
    );
}

#[test]
fn reserved_names_are_refused_and_nothing_is_created() {
    let env = Env::new();
    let cases = [
        ("operator", "it is the human operator's address"),
        ("*", "it means every live agent"),
        ("@", "`job@host` addresses a job on another host"),
        ("a@host", "`job@host` addresses a job on another host"),
    ];
    for (name, why) in cases {
        assert_eq!(
            env.fails(&["create", "--agent", "fake-plain", "--", name], 2),
            format!("mam: error: job name {name:?} is reserved: {why}\nhint: pick another name\n")
        );
    }
    let v = env.json(&["status", "--all", "--json"]);
    assert_eq!(v["jobs"], serde_json::json!([]));
    assert!(!env.has_session("mam-operator"));
    assert!(
        !env.tmux(&["list-sessions"]).status.success(),
        "no tmux session at all"
    );
    // Not reserved: a role's name, or one that merely starts like it.
    env.ok(&["create", "pm", "--agent", "fake-plain", "--no-wait"]);
}

#[test]
fn env_may_not_set_mam_variables_or_exceed_its_limits() {
    let env = Env::new();
    let create = |e: &[String]| {
        let mut args: Vec<String> = ["create", "x", "--agent", "fake-plain"]
            .map(String::from)
            .to_vec();
        for kv in e {
            args.push("--env".into());
            args.push(kv.clone());
        }
        let mut c = env.cmd();
        c.args(&args);
        outcome(c)
    };
    for k in ["MAM_AGENT=pm", "MAM_WORKSPACE=/", "MAM_ANYTHING=1"] {
        let key = k.split('=').next().unwrap();
        assert_eq!(
            create(&[k.to_string()]),
            (
                Some(2),
                String::new(),
                format!(
                    "mam: error: --env {key}: MAM_* variables are mam's own (MAM_AGENT, MAM_WORKSPACE, …) and cannot be set\nhint: mam sets them for every agent; choose another variable name\n"
                )
            ),
            "{k}"
        );
    }
    // 120 KB used to fail in tmux with exit 1.
    let big = format!("BIG={}", "a".repeat(120 * 1024));
    assert_eq!(
        create(&[big]),
        (
            Some(2),
            String::new(),
            "mam: error: --env BIG=…: 122884 bytes; the limit is 4096 bytes\nhint: put large values in a file and pass its path\n".to_string()
        )
    );
    let three: Vec<String> = ["A", "B", "C"]
        .iter()
        .map(|k| format!("{k}={}", "v".repeat(4000)))
        .collect();
    assert_eq!(
        create(&three),
        (
            Some(2),
            String::new(),
            "mam: error: --env: 12006 bytes in all; the limit is 8192 bytes\nhint: put large values in a file and pass its path\n".to_string()
        )
    );
    assert!(env.job("x").is_null(), "nothing created");
    assert!(!env.has_session("mam-x"));
    // At the limits it works, and the agent gets the value.
    let two: Vec<String> = ["A", "B"]
        .iter()
        .map(|k| format!("{k}={}", "v".repeat(4094)))
        .collect();
    assert_eq!(create(&two).0, Some(0));
    let shown = env.tmux(&["show-environment", "-t", "mam-x", "A"]);
    assert_eq!(
        String::from_utf8_lossy(&shown.stdout).trim(),
        format!("A={}", "v".repeat(4094))
    );
}

#[test]
fn done_artifacts_must_lie_inside_the_jobs_workdir() {
    let env = Env::new();
    std::fs::create_dir(env.path("wd")).unwrap();
    env.ok(&["create", "a", "--agent", "fake-plain", "--workdir", "wd"]);
    let wd = env.path("wd");
    write(&wd.join("report.md"), "ok");
    let outside = env.dir.path().canonicalize().unwrap().join("outside.md");
    write(&outside, "secret");
    std::os::unix::fs::symlink(&outside, wd.join("link.md")).unwrap();
    let done = |artifact: &str| {
        let mut c = env.cmd();
        c.current_dir(&wd)
            .args(["done", "--job", "a", "--artifact", artifact]);
        outcome(c)
    };
    let hint = "hint: artifacts are files the job produced inside its workdir\n";
    let cases = [
        (
            "../../../../../../../../etc/passwd".to_string(),
            format!(
                "mam: error: artifact ../../../../../../../../etc/passwd resolves to /etc/passwd, outside the job's workdir {}\n{hint}",
                wd.display()
            ),
        ),
        (
            "/etc/passwd".to_string(),
            format!(
                "mam: error: artifact /etc/passwd is outside the job's workdir {}\n{hint}",
                wd.display()
            ),
        ),
        (
            "link.md".to_string(),
            format!(
                "mam: error: artifact link.md resolves to {}, outside the job's workdir {}\n{hint}",
                outside.display(),
                wd.display()
            ),
        ),
    ];
    for (artifact, msg) in cases {
        assert_eq!(done(&artifact), (Some(2), String::new(), msg), "{artifact}");
    }
    assert_eq!(
        done("nope.md"),
        (
            Some(3),
            String::new(),
            "mam: error: artifact nope.md does not exist\nhint: list only files the job produced\n"
                .to_string()
        )
    );
    assert_ne!(env.job("a")["recorded_state"], "done", "nothing half done");
    assert_eq!(
        done("report.md"),
        (Some(0), "a: done\n".into(), String::new())
    );
    let ev: serde_json::Value =
        serde_json::from_str(env.ok(&["events", "--kind", "job.done", "--json"]).trim()).unwrap();
    assert_eq!(
        ev["envelope"]["body"]["artifacts"],
        serde_json::json!([wd.join("report.md").display().to_string()])
    );
}

#[test]
fn a_missing_key_file_is_never_silently_replaced() {
    let env = Env::new();
    // A fresh workspace creates its key.
    env.ok(&["init", "-q"]);
    let key = env.path(".mam/secret.key");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // One with no events yet may get a new one (nothing it signed is lost).
    std::fs::remove_file(&key).unwrap();
    env.ok(&["status"]);
    assert!(key.exists());
    env.ok(&["send", "-q", "operator", "signed"]);
    std::fs::remove_file(&key).unwrap();
    let msg = format!(
        "mam: error: key file {} is missing, but registry {} holds 1 events signed with it\nhint: restore the key file from a backup; or run `mam key rotate` to sign with a new key from now on (earlier events will no longer verify)\n",
        key.display(),
        env.path(".mam/mam.db").display()
    );
    for args in [
        &["status"][..],
        &["send", "operator", "again"],
        &["init"],
        &["key", "show"],
    ] {
        assert_eq!(env.fails(args, 6), msg, "{args:?}");
        assert!(!key.exists(), "{args:?} minted a key");
    }
    // Asked for, a new key: earlier events then show they no longer verify.
    let out = env.ok(&["key", "rotate"]);
    assert!(
        out.starts_with("new signing key k")
            && out.ends_with(
                "; the old key file was missing, so events signed before no longer verify\n"
            ),
        "{out}"
    );
    assert!(env.ok(&["events"]).contains("BAD SIGNATURE"));
    env.ok(&["send", "-q", "operator", "after"]);
}

#[test]
fn malformed_key_corrupt_registry_and_binary_config_are_named() {
    let env = Env::new();
    env.ok(&["init", "-q"]);
    let key = env.path(".mam/secret.key");
    let good_key = std::fs::read(&key).unwrap();
    let hint = "hint: restore it from a backup; or move it aside and run `mam key rotate` for a new key (events signed with the old one will no longer verify)\n";
    for (bytes, why) in [
        (&b"{garbage"[..], "key must be a string at line 1 column 2"),
        (&[0xff, 0xfe][..], "not UTF-8 text"),
        (&br#"{"keys":[]}"#[..], "it holds no key"),
        (
            &br#"{"keys":[{"kid":"k1","secret":"zz","created_at":1}]}"#[..],
            "key k1 has no valid secret",
        ),
    ] {
        std::fs::write(&key, bytes).unwrap();
        assert_eq!(
            env.fails(&["status"], 6),
            format!(
                "mam: error: key file {} is malformed: {why}\n{hint}",
                key.display()
            )
        );
    }
    std::fs::write(&key, &good_key).unwrap();

    // Garbage for a registry.
    let db = env.path(".mam/mam.db");
    let saved = std::fs::read(&db).unwrap();
    for f in ["mam.db-wal", "mam.db-shm"] {
        let _ = std::fs::remove_file(env.path(&format!(".mam/{f}")));
    }
    std::fs::write(&db, vec![b'z'; 8192]).unwrap();
    assert_eq!(
        env.fails(&["status"], 6),
        format!(
            "mam: error: registry {} is corrupt: file is not a database\nhint: move it aside (mv .mam/mam.db .mam/mam.db.bad) and run `mam init`; `mam doctor` checks integrity\n",
            db.display()
        )
    );
    // Damage past the first page is found later, by whatever reads it: an
    // environment error with the same advice, never exit 1.
    std::fs::write(&db, &saved).unwrap();
    env.ok(&["send", "-q", "operator", "one"]);
    let _ = env.mam(&["reconcile", "--once"]);
    let healthy = std::fs::read(&db).unwrap();
    for offset in (4096..healthy.len()).step_by(4096) {
        let mut broken = healthy.clone();
        for b in &mut broken[offset..(offset + 4096).min(healthy.len())] {
            *b = 0xa5;
        }
        for f in ["mam.db-wal", "mam.db-shm"] {
            let _ = std::fs::remove_file(env.path(&format!(".mam/{f}")));
        }
        std::fs::write(&db, &broken).unwrap();
        for args in [
            &["status", "--all"][..],
            &["send", "operator", "x"],
            &["events"],
        ] {
            let (code, _, err) = outcome({
                let mut c = env.cmd();
                c.args(args);
                c
            });
            assert!(
                matches!(code, Some(0) | Some(6)),
                "{args:?} at {offset}: {code:?} {err}"
            );
            if code == Some(6) {
                assert!(
                    err.ends_with("and run `mam init`; `mam doctor` checks integrity\n"),
                    "{err}"
                );
            }
        }
    }
    std::fs::write(&db, &saved).unwrap();

    // A config file that is not UTF-8 is a usage error naming it.
    let cfg = env.path(".mam/config.toml");
    std::fs::write(&cfg, b"[tmux]\nprefix = \"\xff\"\n").unwrap();
    assert_eq!(
        env.fails(&["status"], 2),
        format!(
            "mam: error: config file {} is not UTF-8 text (invalid utf-8 sequence of 1 bytes from index 17)\nhint: save it as UTF-8 (TOML files are UTF-8)\n",
            cfg.display()
        )
    );
}

#[test]
fn a_tmux_socket_path_over_the_sun_path_limit_is_an_environment_error() {
    let env = Env::new();
    let uid = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&env.home).unwrap());
    let long = env.dir.path().canonicalize().unwrap().join("t".repeat(100));
    std::fs::create_dir(&long).unwrap();
    let socket = long.join(format!("tmux-{uid}")).join(&env.socket);
    let n = socket.as_os_str().len();
    assert!(n >= 108);
    let hint = "hint: set TMUX_TMPDIR to a short directory such as /tmp, or use a shorter tmux.socket (MAM_TMUX_SOCKET)\n";
    let (code, out, err) = outcome({
        let mut c = env.cmd();
        c.env("TMUX_TMPDIR", &long)
            .args(["create", "a", "--agent", "fake-plain"]);
        c
    });
    assert_eq!(
        (code, out, err),
        (
            Some(6),
            String::new(),
            format!(
                "mam: error: tmux socket path {} is {n} bytes; the limit is 107 (sun_path of a Unix socket)\n{hint}",
                socket.display()
            )
        )
    );
    assert!(env.job("a").is_null(), "nothing created");
    // A long -S path, the same.
    let path = long.join("sock");
    let (code, _, err) = outcome({
        let mut c = env.cmd();
        c.env("MAM_TMUX_SOCKET", &path)
            .args(["create", "a", "--agent", "fake-plain"]);
        c
    });
    assert_eq!(code, Some(6));
    assert_eq!(
        err,
        format!(
            "mam: error: tmux socket path {} is {} bytes; the limit is 107 (sun_path of a Unix socket)\n{hint}",
            path.display(),
            path.as_os_str().len()
        )
    );
    assert!(env.job("a").is_null());
    // doctor says so as a failed check.
    let (code, out, _) = outcome({
        let mut c = env.cmd();
        c.env("TMUX_TMPDIR", &long).args(["doctor", "--json"]);
        c
    });
    assert_eq!(code, Some(6));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let check = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "socket")
        .cloned()
        .unwrap();
    assert_eq!(
        check,
        serde_json::json!({
            "check": "socket",
            "status": "fail",
            "detail": format!("tmux socket path {} is {n} bytes; the limit is 107 (sun_path of a Unix socket)", socket.display()),
            "fix": hint.trim_start_matches("hint: ").trim_end(),
        })
    );
    // With the private server's ordinary socket, it is ok.
    let v = env.json(&["doctor", "--json"]);
    let check = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "socket")
        .cloned()
        .unwrap();
    assert_eq!(check["status"], "ok", "{check}");
}

#[test]
fn stop_says_what_it_did_to_a_failed_job() {
    let env = Env::new();
    env.write_config("[agents.never]\ncmd = [\"sleep\", \"60\"]\nready = ['NEVER READY']\n");
    env.fails(
        &["create", "z", "--agent", "never", "--ready-timeout", "0.5"],
        5,
    );
    assert_eq!(env.job("z")["state"], "failed");
    assert!(env.has_session("mam-z"), "kept for mam attach");
    assert_eq!(
        env.ok(&["stop", "z"]),
        "z: session ended; job stays failed\n"
    );
    assert!(!env.has_session("mam-z"));
    assert_eq!(env.job("z")["state"], "failed");
    assert_eq!(env.ok(&["stop", "z"]), "z: no session; job stays failed\n");
    // An ordinary job: stopped, then already stopped.
    env.ok(&["create", "a", "--agent", "fake-plain"]);
    assert_eq!(env.ok(&["stop", "a"]), "a: stopped\n");
    assert_eq!(env.ok(&["stop", "a"]), "a: already stopped\n");
    let v = env.json(&["stop", "z", "a", "--json"]);
    let states: Vec<(&str, &str)> = v["stopped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [("no session", "failed"), ("already stopped", "stopped")]
    );
}

#[test]
fn trailing_spaces_and_tabs_are_kept_only_newlines_dropped() {
    let env = Env::new();
    env.ok(&["send", "-q", "operator", "keep these  \t\r\n\r\n"]);
    let v = env.json(&["recv", "--json"]);
    assert_eq!(v["messages"][0]["body"], "keep these  \t");
    // And they reach an agent as typed.
    env.ok(&["create", "a", "--agent", "fake-plain"]);
    env.ok(&["send", "a", "spaces at the end   \n"]);
    env.eventually(
        "the message to arrive",
        std::time::Duration::from_secs(10),
        || !env.submits("a").is_empty(),
    );
    assert_eq!(
        env.submits("a"),
        ["[mam] m2 from operator: spaces at the end   "]
    );
}

/// Output that cannot be written (here: a full disk under stdout) is an
/// environment error with a hint, exit 6 — not a panic's exit 101.
#[test]
fn output_that_cannot_be_written_is_exit_6_not_a_panic() {
    let env = Env::new();
    env.ok(&["send", "-q", "operator", "hello"]);
    let mut cmd = env.cmd();
    cmd.args(["inbox", "operator"])
        .stdout(std::fs::File::create("/dev/full").expect("/dev/full"));
    let (code, _, err) = outcome(cmd);
    assert_eq!(
        (code, err.as_str()),
        (
            Some(6),
            concat!(
                "mam: error: cannot write the output: No space left on device (os error 28)\n",
                "hint: check the disk or the pipe the output goes to\n"
            )
        )
    );
}
