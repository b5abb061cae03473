//! File leases and the shared docs, end to end: the real binary, a real
//! registry, real git with a real pre-commit hook, and real tmux sessions
//! for the agents. Time passes on mam's clock (`MAM_TEST_CLOCK_MS`, fixed
//! per run), never by sleeping.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::*;

/// mam's clock at the start of every test here: 2027-01-15T08:00:00.000Z.
const T0: i64 = 1_800_000_000_000;
const MIN: i64 = 60_000;

/// Jobs whose session is a plain shell, started without waiting: cheap
/// agent identities for lease tests that type nothing into them.
fn jobs(env: &Env, names: &[&str]) {
    for n in names {
        env.ok(&["create", "-q", n, "--agent", "shell", "--no-wait"]);
    }
}

/// `mam ARGS` with mam's clock standing at `ms`.
fn at<'a>(env: &'a Env, ms: i64, args: &[&str]) -> crate::support::expect::Expect<'a> {
    env.expect(args).env(CLOCK_ENV, &ms.to_string())
}

fn events_of(env: &Env, kind: &str) -> Vec<Value> {
    env.ok(&["events", "--kind", kind, "--json"])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["envelope"].clone())
        .collect()
}

#[test]
fn an_overlapping_lease_is_refused_naming_the_holder_until_release_or_expiry() {
    let env = Env::new();
    jobs(&env, &["alice", "bob"]);
    at(
        &env,
        T0,
        &[
            "lease",
            "src/**",
            "--ttl",
            "10m",
            "--reason",
            "refactor the parser",
        ],
    )
    .by_agent("alice")
    .stdout_is("l1 on src/** (exclusive) until 2027-01-15T08:10:00.000Z\n")
    .stderr_is("")
    .run();
    at(&env, T0 + MIN, &["lease", "src/a.rs"])
        .by_agent("bob")
        .code(4)
        .stdout_is("")
        .stderr_is(
            "mam: error: src/a.rs overlaps l1 on src/** (exclusive), held by alice until 2027-01-15T08:10:00.000Z (in 9m): refactor the parser\n\
             hint: wait for it, ask alice (`mam send alice …`), or lease a narrower path; the operator can break it with `mam release l1 --force`\n",
        )
        .run();
    // Released: bob gets it; now alice is refused.
    at(&env, T0 + 2 * MIN, &["release", "src/**"])
        .by_agent("alice")
        .stdout_is("l1 on src/**: released\n")
        .run();
    at(&env, T0 + 2 * MIN, &["lease", "src/a.rs", "--ttl", "5m"])
        .by_agent("bob")
        .stdout_is("l2 on src/a.rs (exclusive) until 2027-01-15T08:07:00.000Z\n")
        .run();
    at(&env, T0 + 3 * MIN, &["lease", "src"])
        .by_agent("alice")
        .code(4)
        .stderr_is(
            "mam: error: src overlaps l2 on src/a.rs (exclusive), held by bob until 2027-01-15T08:07:00.000Z (in 4m)\n\
             hint: wait for it, ask bob (`mam send bob …`), or lease a narrower path; the operator can break it with `mam release l2 --force`\n",
        )
        .run();
    assert!(events_of(&env, "lease.expired").is_empty());
    // Expired (no one waited): alice's next lease finds it so, and gets in.
    at(&env, T0 + 7 * MIN, &["lease", "src"])
        .by_agent("alice")
        .stdout_is("l3 on src (exclusive) until 2027-01-15T09:07:00.000Z\n")
        .run();
    at(&env, T0 + 7 * MIN, &["leases", "--all"])
        .stdout_is(
            "ID  HOLDER  PATTERN   MODE       STATE     EXPIRES  REASON\n\
             l1  alice   src/**    exclusive  released  -        refactor the parser\n\
             l2  bob     src/a.rs  exclusive  expired   -\n\
             l3  alice   src       exclusive  active    in 1h\n",
        )
        .run();
    // Expiry is reported exactly once, however many commands look again.
    for args in [
        &["leases"][..],
        &["lease", "check", "--as", "alice", "src/a.rs"],
        &["reconcile", "--once"],
        &["status"],
    ] {
        at(&env, T0 + 8 * MIN, args).run();
    }
    let expired = events_of(&env, "lease.expired");
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(
        expired[0]["body"],
        serde_json::json!({"id": "l2", "holder": "bob", "pattern": "src/a.rs", "shared": false,
                           "expires_at": "2027-01-15T08:07:00.000Z"})
    );
    assert_eq!(expired[0]["job"], "bob");
    // And bob is told.
    let inbox = env.json(&["inbox", "bob", "--all", "--json"]);
    let bodies: Vec<&str> = inbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        vec![
            "your lease l2 on src/a.rs expired at 2027-01-15T08:07:00.000Z and is released; others may now lease it. Lease it again with `mam lease src/a.rs` if you still need it."
        ]
    );
}

#[test]
fn shared_leases_overlap_each_other_but_not_an_exclusive_one() {
    let env = Env::new();
    jobs(&env, &["a", "b", "c"]);
    at(&env, T0, &["lease", "docs", "--shared"])
        .by_agent("a")
        .stdout_is("l1 on docs (shared) until 2027-01-15T09:00:00.000Z\n")
        .run();
    at(&env, T0, &["lease", "docs/*.md", "--shared", "-q"])
        .by_agent("b")
        .stdout_is("l2\n")
        .run();
    at(&env, T0, &["lease", "docs/x.md"])
        .by_agent("c")
        .code(4)
        .stderr_is(
            "mam: error: docs/x.md overlaps l1 on docs (shared), held by a until 2027-01-15T09:00:00.000Z (in 1h)\n\
             docs/x.md overlaps l2 on docs/*.md (shared), held by b until 2027-01-15T09:00:00.000Z (in 1h)\n\
             hint: wait for it, ask a (`mam send a …`), or lease a narrower path; the operator can break it with `mam release l1 --force`\n",
        )
        .run();
    // A holder never conflicts with itself, and all-or-none: nothing of a
    // refused request is kept.
    at(
        &env,
        T0,
        &["lease", "-q", "--shared", "docs/x.md", "docs/y.md"],
    )
    .by_agent("a")
    .stdout_is("l3\nl4\n")
    .run();
    at(&env, T0, &["lease", "notes.txt", "docs/y.md"])
        .by_agent("c")
        .code(4)
        .run();
    at(&env, T0, &["leases", "c", "--json"])
        .stdout_is("{\n  \"leases\": []\n}\n")
        .run();
}

#[test]
fn thirty_two_concurrent_leases_of_one_path_have_exactly_one_winner() {
    let env = Env::new();
    let names: Vec<String> = (0..32).map(|i| format!("w{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    jobs(&env, &refs);
    // Hold the registry's write lock while all 32 start, so that they all
    // reach their write at once: each must then see the others' leases
    // inside its own transaction, or more than one would win.
    let db = rusqlite::Connection::open(env.path(".mam/mam.db")).unwrap();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    let children: Vec<_> = names
        .iter()
        .map(|n| {
            let mut c = env.cmd();
            c.args(["lease", "-q", "src/hot.rs"])
                .env("MAM_AGENT", n)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            (n.clone(), c.spawn().unwrap())
        })
        .collect();
    let wal = env.path(".mam/mam.db-wal");
    env.eventually(
        "all 32 to wait for the registry's write lock",
        std::time::Duration::from_secs(30),
        || {
            children
                .iter()
                .all(|(_, c)| waits_on_registry(c.id(), &wal))
        },
    );
    db.execute_batch("COMMIT").unwrap();
    let mut winners = Vec::new();
    let mut refused = 0;
    for (n, c) in children {
        let out = c.wait_with_output().unwrap();
        match out.status.code() {
            Some(0) => winners.push(n),
            Some(4) => {
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(
                    err.starts_with(
                        "mam: error: src/hot.rs overlaps l1 on src/hot.rs (exclusive), held by w"
                    ),
                    "{err}"
                );
                refused += 1;
            }
            other => panic!(
                "{n}: exit {other:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
    assert_eq!((winners.len(), refused), (1, 31), "winners: {winners:?}");
    let leases = env.json(&["leases", "--all", "--json"]);
    let all = leases["leases"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{leases}");
    assert_eq!(all[0]["holder"], winners[0].as_str());
    assert_eq!(events_of(&env, "lease.acquired").len(), 1);
}

/// Whether process `pid` has the registry open (its WAL) and is asleep:
/// in SQLite's busy wait, since nothing else it does after opening the
/// registry sleeps.
fn waits_on_registry(pid: u32, wal: &std::path::Path) -> bool {
    let asleep = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s[s.rfind(')').unwrap() + 2..].starts_with('S'));
    let open = std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
        fds.flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t == wal))
    });
    asleep && open
}

#[test]
fn a_stopped_or_failed_job_releases_its_leases_with_an_event() {
    let env = Env::new();
    jobs(&env, &["s", "f"]);
    at(&env, T0, &["lease", "-q", "a.txt"]).by_agent("s").run();
    at(&env, T0, &["lease", "-q", "b.txt", "c/**"])
        .by_agent("f")
        .run();
    env.ok(&["stop", "s"]);
    env.expect(&["fail", "gave", "up"]).by_agent("f").run();
    let released = events_of(&env, "lease.released");
    let seen: Vec<(String, String, String)> = released
        .iter()
        .map(|e| {
            (
                e["body"]["id"].as_str().unwrap().to_string(),
                e["body"]["by"].as_str().unwrap().to_string(),
                e["body"]["why"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("l1".into(), "mam".into(), "job stopped".into()),
            ("l2".into(), "mam".into(), "job failed".into()),
            ("l3".into(), "mam".into(), "job failed".into()),
        ]
    );
    env.expect(&["leases"]).stdout_is("no leases\n").run();
}

#[test]
fn only_the_operator_breaks_another_holders_lease_and_it_is_recorded() {
    let env = Env::new();
    jobs(&env, &["alice", "bob"]);
    at(&env, T0, &["lease", "-q", "src/a.rs"])
        .by_agent("alice")
        .run();
    at(&env, T0, &["release", "l1"])
        .by_agent("bob")
        .code(4)
        .stderr_is(
            "mam: error: l1 on src/a.rs is held by alice, not by bob\nhint: ask alice to release it\n",
        )
        .run();
    at(&env, T0, &["release", "l1", "--force"])
        .by_agent("bob")
        .code(4)
        .stderr_is(
            "mam: error: --force is for the operator only; you are bob\nhint: ask the holder to release it, or ask the operator\n",
        )
        .run();
    at(&env, T0, &["release", "src/a.rs"])
        .code(3)
        .stderr_is(
            "mam: error: operator holds no active lease on src/a.rs\nhint: `mam leases` lists them; release by id (l<N>) or by the pattern as leased\n",
        )
        .run();
    at(&env, T0, &["release", "l1"])
        .code(4)
        .stderr_is(
            "mam: error: l1 on src/a.rs is held by alice, not by operator\nhint: break it with `mam release l1 --force`\n",
        )
        .run();
    at(
        &env,
        T0,
        &["release", "l1", "--force", "--reason", "alice is stuck"],
    )
    .stdout_is("l1 on src/a.rs: broken (held by alice)\n")
    .run();
    let broken = events_of(&env, "lease.broken");
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0]["body"]["by"], "operator");
    assert_eq!(broken[0]["body"]["why"], "alice is stuck");
    at(&env, T0, &["release", "l1"])
        .code(4)
        .stderr_is("mam: error: l1 on src/a.rs is broken already\n")
        .run();
    // Renew: the holder's own, active one.
    at(&env, T0, &["lease", "-q", "x"]).by_agent("bob").run();
    at(&env, T0 + MIN, &["lease", "renew", "l2", "--ttl", "2h"])
        .by_agent("bob")
        .stdout_is("l2 on x (exclusive) until 2027-01-15T10:01:00.000Z\n")
        .run();
    at(&env, T0 + MIN, &["lease", "renew", "l2"])
        .by_agent("alice")
        .code(4)
        .stderr_is("mam: error: l2 on x is held by bob, not by alice\n")
        .run();
    at(&env, T0 + 3 * 60 * MIN, &["lease", "renew", "l2"])
        .by_agent("bob")
        .code(4)
        .stderr_is("mam: error: l2 on x is expired\nhint: lease it again: mam lease x --ttl …\n")
        .run();
}

#[test]
fn lease_input_is_checked_before_anything_is_written() {
    let env = Env::new();
    env.expect(&["lease", "../outside"])
        .code(2)
        .stderr_is(
            "mam: error: \"../outside\" is outside the workspace <ROOT>\nhint: leases name paths inside the workspace (relative to where you are, or absolute)\n",
        )
        .run();
    env.expect(&["lease", "src/{a,b}.rs"])
        .code(2)
        .stderr_is(
            "mam: error: lease pattern \"src/{a,b}.rs\": {a,b} alternation is not supported; lease each pattern separately\nhint: a lease is a path or a glob with *, ?, [a-z] and ** (see README: Leases)\n",
        )
        .run();
    env.expect(&["lease", "a", "--ttl", "0s"])
        .code(2)
        .stderr_is("mam: error: --ttl \"0s\": expected a duration from 1s to 1y\n")
        .run();
    env.expect(&["lease", "check"])
        .code(2)
        .stderr_is("mam: error: name the files to check, or --staged for git's staged files\n")
        .run();
    assert!(
        !env.path(".mam/mam.db").exists(),
        "nothing was to be written"
    );
}

/// `git ARGS` in the workspace as the agent `agent` (None: the operator)
/// would run it, with mam's test environment for the hook.
fn git(env: &Env, agent: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut c = Command::new("git");
    c.current_dir(&env.root)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .env("HOME", &env.home)
        .env("XDG_CONFIG_HOME", env.home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .env("MAM_TMUX_SOCKET", &env.socket)
        .env(CLOCK_ENV, T0.to_string())
        .env_remove("MAM_WORKSPACE")
        .env_remove("MAM_STATE_DIR")
        .env_remove("TMUX")
        .stdin(Stdio::null());
    match agent {
        Some(a) => c.env("MAM_AGENT", a),
        None => c.env_remove("MAM_AGENT"),
    };
    c.output()
        .expect("git is required: install it (e.g. `sudo apt-get install git`)")
}

#[track_caller]
fn git_ok(env: &Env, agent: Option<&str>, args: &[&str]) -> String {
    let out = git(env, agent, args);
    check_ok(&format!("git {}", args.join(" ")), &out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_pre_commit_hook_refuses_another_agents_leased_file_and_allows_ones_own() {
    let env = Env::new();
    git_ok(&env, None, &["init", "-q"]);
    std::fs::create_dir_all(env.path("src")).unwrap();
    write(&env.path("src/a.rs"), "a\n");
    write(&env.path("src/b.rs"), "b\n");
    write(&env.path(".gitignore"), ".mam/\n");
    git_ok(&env, None, &["add", "."]);
    git_ok(&env, None, &["commit", "-q", "-m", "start"]);
    jobs(&env, &["alice", "bob"]);
    env.expect(&["lease", "hook", "install"])
        .stdout_is("installed <ROOT>/.git/hooks/pre-commit\n")
        .run();
    env.expect(&["lease", "hook", "install"])
        .stdout_is("already installed: <ROOT>/.git/hooks/pre-commit\n")
        .run();
    at(&env, T0, &["lease", "src/a.rs", "--reason", "parser"])
        .by_agent("alice")
        .stdout_is("l1 on src/a.rs (exclusive) until 2027-01-15T09:00:00.000Z\n")
        .run();
    // bob touches alice's file (and one of his own): refused, nothing committed.
    write(&env.path("src/a.rs"), "a by bob\n");
    write(&env.path("src/b.rs"), "b by bob\n");
    git_ok(&env, Some("bob"), &["add", "src"]);
    let out = git(&env, Some("bob"), &["commit", "-q", "-m", "bob"]);
    assert_eq!(out.status.code(), Some(1), "the commit went through");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "mam: error: 1 file is leased by another agent:\n  \
         src/a.rs: l1 on src/a.rs (exclusive), held by alice until 2027-01-15T09:00:00.000Z (in 1h): parser\n\
         hint: leave these files to their holder or ask them (`mam send alice …`); `git commit --no-verify` skips this check\n"
    );
    assert_eq!(git_ok(&env, None, &["rev-list", "--count", "HEAD"]), "1\n");
    // The same staged change committed by alice, who holds the lease: allowed.
    let out = git(&env, Some("alice"), &["commit", "-q", "-m", "alice"]);
    check_ok("alice's commit", &out);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(git_ok(&env, None, &["rev-list", "--count", "HEAD"]), "2\n");
    // `lease check --staged --json` says the same as data.
    write(&env.path("src/a.rs"), "again\n");
    git_ok(&env, None, &["add", "src/a.rs"]);
    let out = at(
        &env,
        T0,
        &["lease", "check", "--staged", "--as", "bob", "--json"],
    )
    .code(4)
    .run();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["checked"], 1);
    assert_eq!(v["conflicts"][0]["path"], "src/a.rs");
    assert_eq!(v["conflicts"][0]["lease"]["holder"], "alice");
    at(&env, T0, &["lease", "check", "--staged", "--as", "alice"])
        .stdout_is("")
        .stderr_is("")
        .run();
}

#[test]
fn the_hook_goes_where_core_hooks_path_says_and_leaves_another_hook_alone() {
    let env = Env::new();
    git_ok(&env, None, &["init", "-q"]);
    git_ok(&env, None, &["config", "core.hooksPath", "githooks"]);
    env.expect(&["lease", "hook", "install"])
        .stdout_is("installed <ROOT>/githooks/pre-commit\n")
        .run();
    let hook = std::fs::read_to_string(env.path("githooks/pre-commit")).unwrap();
    assert_eq!(hook, env.lease_hook_script());
    git_ok(&env, None, &["config", "--unset", "core.hooksPath"]);
    write(&env.path(".git/hooks/pre-commit"), "#!/bin/sh\nexit 0\n");
    env.expect(&["lease", "hook", "install"])
        .code(4)
        .stderr_is(&format!(
            "mam: error: <ROOT>/.git/hooks/pre-commit is a pre-commit hook mam did not write; left as it is\n\
             hint: add this line to it: {} --workspace <ROOT> lease check --staged\n",
            mam_bin().display()
        ))
        .run();
    assert_eq!(
        std::fs::read_to_string(env.path(".git/hooks/pre-commit")).unwrap(),
        "#!/bin/sh\nexit 0\n"
    );
}

/// The README's overlap table, row by row, through the real commands.
#[test]
fn the_readme_overlap_table_is_what_mam_does() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("| lease A | lease B | conflict |")
        .expect("README has the overlap table");
    let rows: Vec<(String, String, bool)> = readme[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let unquote = |s: &str| s.trim_matches('`').to_string();
            (unquote(cells[0]), unquote(cells[1]), cells[2] == "yes")
        })
        .collect();
    assert!(rows.len() >= 10, "{rows:?}");
    let env = Env::new();
    jobs(&env, &["a", "b"]);
    for (a, b, conflict) in rows {
        env.expect(&["lease", "-q", &a]).by_agent("a").run();
        let out = env
            .expect(&["lease", "-q", &b])
            .by_agent("b")
            .code(if conflict { 4 } else { 0 })
            .run();
        assert_eq!(out.code == Some(4), conflict, "{a} vs {b}");
        env.expect(&["release", "-q", &a]).by_agent("a").run();
        if !conflict {
            env.expect(&["release", "-q", &b]).by_agent("b").run();
        }
    }
}

const HELLO_SHA: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

#[test]
fn only_the_operator_or_a_pm_changes_the_shared_docs_and_changes_behind_its_back_are_found() {
    let env = Env::new();
    env.ok(&[
        "create",
        "-q",
        "pm",
        "--agent",
        "fake-plain",
        "--role",
        "pm",
    ]);
    env.ok(&["create", "-q", "w", "--agent", "fake-plain"]);
    write(&env.path("guide.md"), "hello\n");
    env.expect(&["shared", "add", "guide.md"])
        .by_agent("w")
        .code(4)
        .stderr_is(
            "mam: error: only the operator or a pm may change the shared docs; w is a worker\n\
             hint: ask the operator or your pm to add it (`mam send pm …`)\n",
        )
        .run();
    assert!(!env.path(".mam/shared/guide.md").exists());
    env.expect(&["shared", "add", "guide.md", "--as", "style.md"])
        .by_agent("pm")
        .stdout_is("added style.md (6 bytes, sha256 5891b5b522d5)\ntold w\n")
        .run();
    let file = env.path(".mam/shared/style.md");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "hello\n");
    assert!(std::fs::metadata(&file).unwrap().permissions().readonly());
    // The broadcast reached w with the usual hint; the event says what changed.
    env.eventually(
        "w to get the broadcast",
        std::time::Duration::from_secs(10),
        || {
            env.ok(&["status"]);
            !env.submits("w").is_empty()
        },
    );
    assert_eq!(
        env.submits("w"),
        vec![format!(
            "[mam] m1 from pm: shared docs changed by pm: added style.md (sha256 5891b5b522d5); read them in $MAM_SHARED_DIR ({}/.mam/shared)\n(broadcast: may need no action from you)",
            env.root.display()
        )]
    );
    let changed = events_of(&env, "shared.changed");
    assert_eq!(changed.len(), 1);
    assert_eq!(
        changed[0]["body"],
        serde_json::json!({"by": "pm", "added": ["style.md"], "removed": []})
    );
    let list = env.json(&["shared", "list", "--json"]);
    assert_eq!(list["files"][0]["sha256"], HELLO_SHA);
    env.expect(&["shared", "verify"])
        .stdout_is("1 shared files, all as recorded\n")
        .run();
    // Edited behind mam's back: verify and doctor both say so.
    let mut perms = std::fs::metadata(&file).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&file, perms).unwrap();
    write(&file, "tampered\n");
    env.expect(&["shared", "verify"])
        .code(4)
        .stdout_is("")
        .stderr_is(
            "mam: error: the shared docs in <ROOT>/.mam/shared differ from their manifest:\n  \
             style.md: changed behind mam's back (sha256 5891b5b522d5… recorded, 92e78d0b0329… now)\n\
             hint: add the right content again with `mam shared add FILE` (or `mam shared rm NAME`)\n",
        )
        .run();
    let doctor = env.expect(&["doctor"]).code(6).run();
    let shared: Vec<&str> = doctor
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("fail  shared"))
        .take(2)
        .collect();
    assert_eq!(
        shared,
        vec![
            "fail  shared     style.md: changed behind mam's back (sha256 5891b5b522d5… recorded, 92e78d0b0329… now)",
            "                 fix: add the right content again with `mam shared add FILE` (or `mam shared rm NAME`)",
        ]
    );
    // The operator removes it; the directory and the manifest agree again.
    env.expect(&["shared", "rm", "style.md"])
        .stdout_is("removed style.md\ntold pm, w\n")
        .run();
    env.expect(&["shared", "verify"])
        .stdout_is("0 shared files, all as recorded\n")
        .run();
}

#[test]
fn agents_get_the_shared_dir_in_their_environment_and_their_first_prompt() {
    let env = Env::new();
    write(&env.path("guide.md"), "hello\n");
    env.ok(&["shared", "add", "-q", "guide.md"]);
    env.ok(&[
        "create",
        "-q",
        "late",
        "--agent",
        "fake-plain",
        "--prompt",
        "do the work",
    ]);
    let dir = format!("{}/.mam/shared", env.root.display());
    assert_eq!(
        env.submits("late"),
        vec![format!(
            "[mam] late: shared docs (read-only) in $MAM_SHARED_DIR = {dir}: guide.md\ndo the work"
        )]
    );
    let shown = env
        .server
        .ok(&["show-environment", "-t", "mam-late", "MAM_SHARED_DIR"]);
    assert_eq!(shown, format!("MAM_SHARED_DIR={dir}\n"));
}
