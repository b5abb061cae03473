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
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &[
                "create",
                "x",
                "--agent",
                "fake-plain",
                "--ready-timeout",
                "1e308",
            ],
            "--ready-timeout",
            "1e308",
        ),
        (
            &[
                "create",
                "x",
                "--agent",
                "fake-plain",
                "--ready-timeout",
                "inf",
            ],
            "--ready-timeout",
            "inf",
        ),
        (
            &["resume", "s", "--ready-timeout", "1e308"],
            "--ready-timeout",
            "1e308",
        ),
        (&["stop", "s", "--timeout=-5"], "--timeout", "-5"),
        (&["recv", "--wait", "NaN"], "--wait", "NaN"),
        (&["status", "--watch", "1e308"], "--watch", "1e308"),
        (&["reconcile", "--interval", "1e308"], "--interval", "1e308"),
    ];
    for (args, flag, value) in cases {
        let err = env.fails(args, 2);
        let shown: f64 = value.parse().unwrap();
        assert_eq!(
            err,
            format!(
                "mam: error: {flag} {shown}: expected a number of seconds from 0 to 31536000 (a year)\n"
            ),
            "{args:?}"
        );
    }
    assert!(env.job("x").is_null(), "a rejected create left a job");
    assert!(!env.has_session("mam-x"));
    assert_eq!(env.job("s")["state"], "stopped");
}
