//! `create --worktree`, git-aware `status`, `diff`, `stop --remove-worktree`,
//! `prune`, resume and reconcile of worktree jobs: real git in a temporary
//! repository (no system or global config of this machine: HOME is the
//! test's own), real tmux, the fake agent.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

/// git as the test's user: this HOME, no system config, a fixed identity.
fn git_cmd(env: &Env, dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("git");
    c.arg("-C")
        .arg(dir)
        .args(args)
        .env("HOME", &env.home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_CONFIG_GLOBAL")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid");
    c
}

#[track_caller]
fn git(env: &Env, dir: &Path, args: &[&str]) -> String {
    let out = match git_cmd(env, dir, args).output() {
        Ok(o) => o,
        Err(_) => panic!("git is required: install it with `sudo apt-get install git`"),
    };
    check_ok(&format!("git {}", args.join(" ")), &out);
    String::from_utf8(out.stdout).unwrap()
}

/// A workspace that is a git repository on `main` with one commit
/// (`.mam/` ignored, as users do).
fn repo() -> Env {
    let env = Env::new();
    git(&env, &env.root, &["init", "-q", "-b", "main"]);
    write(&env.path("README.md"), "hello\n");
    write(&env.path(".gitignore"), ".mam/\n");
    git(&env, &env.root, &["add", "."]);
    git(&env, &env.root, &["commit", "-q", "-m", "first"]);
    env
}

fn wt(env: &Env, name: &str) -> PathBuf {
    env.path(&format!(".mam/worktrees/{name}"))
}

/// Commit `file` (with `text`) in `dir`.
fn commit(env: &Env, dir: &Path, file: &str, text: &str) {
    write(&dir.join(file), text);
    git(env, dir, &["add", file]);
    git(env, dir, &["commit", "-q", "-m", &format!("add {file}")]);
}

fn branches(env: &Env) -> Vec<String> {
    git(env, &env.root, &["branch", "--format=%(refname:short)"])
        .lines()
        .map(str::to_string)
        .collect()
}

/// The worktree part of a job's `status --json` row.
fn seen(env: &Env, name: &str) -> Value {
    env.job(name)["worktree"].clone()
}

fn seen_as(path: &Path, branch: &str, dirty: u64, ahead: u64, behind: u64) -> Value {
    json!({
        "path": path.display().to_string(),
        "branch": branch,
        "dirty": dirty,
        "ahead": ahead,
        "behind": behind,
        "base": "main",
        "state": "present",
    })
}

#[test]
fn three_agents_work_side_by_side_each_in_its_own_worktree() {
    let env = repo();
    for n in ["a", "b", "c"] {
        env.expect(&["create", n, "--agent", "fake-plain", "--worktree"])
            .stdout_is(&format!(
                "{n} is ready in tmux session mam-{n}\n\
                 worktree <ROOT>/.mam/worktrees/{n} on branch mam/{n} from main\n"
            ))
            .run();
        // The agent runs in its worktree.
        assert_eq!(
            env.log(n)[0]["cwd"],
            wt(&env, n).display().to_string(),
            "{n}"
        );
        assert_eq!(env.job(n)["workdir"], wt(&env, n).display().to_string());
    }
    // What each agent does, in its own checkout.
    commit(&env, &wt(&env, "a"), "a1.txt", "one\n");
    commit(&env, &wt(&env, "a"), "a2.txt", "two\n");
    write(&wt(&env, "b").join("README.md"), "changed by b\n");
    write(&wt(&env, "b").join("b-new.txt"), "new\n");
    commit(&env, &wt(&env, "c"), "c1.txt", "c\n");
    write(&wt(&env, "c").join("c-draft.txt"), "draft\n");
    // Each sees only its own changes; the main checkout none of them.
    for (n, files) in [
        ("a", vec!["a1.txt", "a2.txt"]),
        ("b", vec!["b-new.txt"]),
        ("c", vec!["c1.txt", "c-draft.txt"]),
    ] {
        for f in ["a1.txt", "a2.txt", "b-new.txt", "c1.txt", "c-draft.txt"] {
            assert_eq!(
                wt(&env, n).join(f).exists(),
                files.contains(&f),
                "{f} in {n}'s worktree"
            );
            assert!(!env.path(f).exists(), "{f} in the main checkout");
        }
    }
    assert_eq!(
        std::fs::read_to_string(env.path("README.md")).unwrap(),
        "hello\n"
    );
    assert_eq!(seen(&env, "a"), seen_as(&wt(&env, "a"), "mam/a", 0, 2, 0));
    assert_eq!(seen(&env, "b"), seen_as(&wt(&env, "b"), "mam/b", 2, 0, 0));
    assert_eq!(seen(&env, "c"), seen_as(&wt(&env, "c"), "mam/c", 1, 1, 0));
    // The base moves on: every branch is behind it by one.
    commit(&env, &env.root, "main-later.txt", "later\n");
    assert_eq!(seen(&env, "b"), seen_as(&wt(&env, "b"), "mam/b", 2, 0, 1));
    // (Spaces collapsed: the age columns' widths vary with the ages.)
    env.expect(&["status"])
        .ages()
        .replace_re(" +", " ")
        .stdout_is(
            "NAME KIND ROLE STATE PROGRESS INBOX REMINDERS THREADS AGE ACTIVITY BRANCH GIT\n\
             a fake-plain worker ready - 0 0 0 <AGE> <AGE> ago mam/a +2 -1 vs main, clean\n\
             b fake-plain worker ready - 0 0 0 <AGE> <AGE> ago mam/b +0 -1 vs main, 2 dirty\n\
             c fake-plain worker ready - 0 0 0 <AGE> <AGE> ago mam/c +1 -1 vs main, 1 dirty\n",
        )
        .run();
    // What each changed against its base, committed and not.
    env.expect(&["diff", "c", "--stat"])
        .stdout_is(
            " c1.txt | 1 +\n 1 file changed, 1 insertion(+)\nuntracked files:\n  c-draft.txt\n",
        )
        .run();
    env.expect(&["diff", "b"])
        .replace_re(r"index [0-9a-f]+\.\.[0-9a-f]+", "index <OLD>..<NEW>")
        .stdout_is(
            "diff --git a/README.md b/README.md\n\
             index <OLD>..<NEW> 100644\n\
             --- a/README.md\n\
             +++ b/README.md\n\
             @@ -1 +1 @@\n\
             -hello\n\
             +changed by b\n\
             untracked files:\n  b-new.txt\n",
        )
        .run();
}

#[test]
fn status_without_worktrees_is_unchanged_and_runs_no_git() {
    // No git on PATH at all: status of jobs without a worktree never needs it.
    let env = Env::new();
    env.ok(&["create", "p", "--agent", "fake-plain"]);
    // A PATH with tmux and nothing else.
    let bin = env.dir.path().join("only-tmux");
    std::fs::create_dir_all(&bin).unwrap();
    let tmux = find_program("tmux").expect("tmux on PATH");
    std::os::unix::fs::symlink(&tmux, bin.join("tmux")).unwrap();
    let out = env
        .cmd()
        .args(["status", "--json"])
        .env("PATH", &bin)
        .output()
        .unwrap();
    check_ok("mam status --json without git", &out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["jobs"][0]["worktree"], Value::Null);
}

#[test]
fn a_claude_profile_worktree_job_never_shows_the_trust_dialog() {
    let env = repo();
    // The fake agent shows Claude Code's trust dialog unless Claude's
    // config trusts its folder; "fake-claude" has Claude's trust setup,
    // "fake-untrusting" not (the control: it shows the dialog).
    let base = format!(
        r#""{}", "--log", "{}", "--trust-config""#,
        fake_agent().display(),
        env.logs.join("{agent}.jsonl").display()
    );
    env.write_config(&format!(
        "[agents.fake-claude]\ncmd = [{base}]\ntrust_setup = \"claude-json\"\n{FAKE_RULES}\n\
         [agents.fake-untrusting]\ncmd = [{base}]\n{FAKE_RULES}\n"
    ));
    env.ok(&["create", "t", "--agent", "fake-claude", "--worktree"]);
    let log = env.log("t");
    assert_eq!(log[0]["cwd"], wt(&env, "t").display().to_string());
    assert!(
        !log.iter().any(|r| r["event"] == "dialog"),
        "the trust dialog came up: {log:?}"
    );
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(env.home.join(".claude.json")).unwrap())
            .unwrap();
    assert_eq!(
        cfg["projects"][wt(&env, "t").display().to_string()]["hasTrustDialogAccepted"],
        true
    );
    // Without the trust setup the same agent asks (and mam answers it).
    env.ok(&["create", "u", "--agent", "fake-untrusting", "--worktree"]);
    assert!(
        env.log("u").iter().any(|r| r["event"] == "dialog"),
        "{:?}",
        env.log("u")
    );
}

#[test]
fn remove_worktree_refuses_uncommitted_and_unmerged_work_and_succeeds_after_a_merge() {
    let env = repo();
    env.ok(&["create", "a", "--agent", "fake-plain", "--worktree"]);
    let dir = wt(&env, "a");
    write(&dir.join("work.txt"), "unsaved\n");
    // Uncommitted: refused before anything is stopped.
    env.expect(&["stop", "a", "--remove-worktree"])
        .code(4)
        .stdout_is("")
        .stderr_is(
            "mam: error: not removing the worktree of a (<ROOT>/.mam/worktrees/a): 1 uncommitted change (work.txt) would be lost\n\
             hint: commit, then merge into main or push; or add --force to discard uncommitted changes (a branch with unmerged commits is always kept)\n",
        )
        .run();
    assert!(env.has_session("mam-a"), "stopped although refused");
    // Committed but not merged: still refused.
    git(&env, &dir, &["add", "work.txt"]);
    git(&env, &dir, &["commit", "-q", "-m", "work"]);
    env.expect(&["stop", "a", "--remove-worktree"])
        .code(4)
        .stdout_is("")
        .stderr_is(
            "mam: error: not removing the worktree of a (<ROOT>/.mam/worktrees/a): 1 commit not merged into main and not pushed would be lost\n\
             hint: commit, then merge into main or push; or add --force to discard uncommitted changes (a branch with unmerged commits is always kept)\n",
        )
        .run();
    assert!(dir.is_dir() && env.has_session("mam-a"));
    // Merged into its base: removed, and its branch with it.
    git(
        &env,
        &env.root,
        &["merge", "-q", "--no-ff", "-m", "merge a", "mam/a"],
    );
    env.expect(&["stop", "a", "--remove-worktree"])
        .stdout_is(
            "a: stopped\n\
             a: removed worktree <ROOT>/.mam/worktrees/a; branch mam/a deleted (merged into main)\n",
        )
        .run();
    assert!(!dir.exists());
    assert_eq!(branches(&env), ["main"]);
    assert_eq!(
        std::fs::read_to_string(env.path("work.txt")).unwrap(),
        "unsaved\n"
    );
    assert_eq!(seen(&env, "a")["state"], "removed");
    env.expect(&["resume", "a"])
        .code(3)
        .stderr_is(
            "mam: error: cannot resume a: its worktree <ROOT>/.mam/worktrees/a was removed (mam prune or stop --remove-worktree)\n\
             hint: `mam create NEW --worktree` starts a new job in a new worktree\n",
        )
        .run();

    // --force discards uncommitted changes, saying so, and keeps a branch
    // with unmerged commits.
    env.ok(&["create", "b", "--agent", "fake-plain", "--worktree"]);
    commit(&env, &wt(&env, "b"), "kept.txt", "kept\n");
    write(&wt(&env, "b").join("scratch.txt"), "scratch\n");
    env.expect(&["stop", "b", "--remove-worktree", "--force"])
        .stdout_is(
            "b: stopped\n\
             b: removed worktree <ROOT>/.mam/worktrees/b; discarded 1 uncommitted change (scratch.txt); branch mam/b kept (1 commit not merged into main and not pushed)\n",
        )
        .run();
    assert!(!wt(&env, "b").exists());
    assert_eq!(branches(&env), ["main", "mam/b"]);
    assert_eq!(git(&env, &env.root, &["show", "mam/b:kept.txt"]), "kept\n");
}

#[test]
fn prune_removes_exactly_the_merged_and_pushed_ones_and_never_an_unmerged_commit() {
    let env = repo();
    // A remote that p5 pushes to.
    let remote = env.dir.path().join("remote.git");
    git(
        &env,
        &env.root,
        &["init", "-q", "--bare", &remote.display().to_string()],
    );
    git(
        &env,
        &env.root,
        &["remote", "add", "origin", &remote.display().to_string()],
    );
    for n in ["p1", "p2", "p3", "p4", "p5"] {
        env.ok(&["create", n, "--agent", "fake-plain", "--worktree"]);
    }
    commit(&env, &wt(&env, "p1"), "p1.txt", "1\n"); // merged below
    commit(&env, &wt(&env, "p2"), "p2.txt", "2\n"); // unmerged
    write(&wt(&env, "p3").join("p3.txt"), "3\n"); // uncommitted
    // p4: untouched.
    commit(&env, &wt(&env, "p5"), "p5.txt", "5\n"); // pushed, not merged
    git(&env, &wt(&env, "p5"), &["push", "-q", "origin", "mam/p5"]);
    git(&env, &env.root, &["merge", "-q", "--ff-only", "mam/p1"]);
    // A running job's worktree is left alone.
    env.ok(&["stop", "p1", "p2", "p3", "p5"]);
    let before = branches(&env);
    env.expect(&["prune", "--dry-run"])
        .code(4)
        .stdout_is(
            "p1: would remove worktree <ROOT>/.mam/worktrees/p1; branch mam/p1 deleted (merged into main)\n\
             p2: would keep worktree <ROOT>/.mam/worktrees/p2: 1 commit not merged into main and not pushed\n\
             p3: would keep worktree <ROOT>/.mam/worktrees/p3: 1 uncommitted change (p3.txt)\n\
             p5: would remove worktree <ROOT>/.mam/worktrees/p5; branch mam/p5 kept (1 commit not merged into main; pushed)\n\
             p4: running; its worktree is left alone (`mam stop p4` first)\n",
        )
        .stderr_is(
            "mam: error: 2 worktrees kept: removing them would lose work\n\
             hint: commit, then merge into the base or push; or `mam prune --force` to discard uncommitted changes (branches with unmerged commits are always kept)\n",
        )
        .run();
    assert_eq!(branches(&env), before, "a dry run changed branches");
    for n in ["p1", "p2", "p3", "p4", "p5"] {
        assert!(wt(&env, n).is_dir(), "a dry run removed {n}");
    }
    env.expect(&["prune"])
        .code(4)
        .stdout_is(
            "p1: removed worktree <ROOT>/.mam/worktrees/p1; branch mam/p1 deleted (merged into main)\n\
             p2: kept worktree <ROOT>/.mam/worktrees/p2: 1 commit not merged into main and not pushed\n\
             p3: kept worktree <ROOT>/.mam/worktrees/p3: 1 uncommitted change (p3.txt)\n\
             p5: removed worktree <ROOT>/.mam/worktrees/p5; branch mam/p5 kept (1 commit not merged into main; pushed)\n\
             p4: running; its worktree is left alone (`mam stop p4` first)\n",
        )
        .stderr_is(
            "mam: error: 2 worktrees kept: removing them would lose work\n\
             hint: commit, then merge into the base or push; or `mam prune --force` to discard uncommitted changes (branches with unmerged commits are always kept)\n",
        )
        .run();
    let gone: Vec<bool> = ["p1", "p2", "p3", "p4", "p5"]
        .iter()
        .map(|n| wt(&env, n).exists())
        .collect();
    assert_eq!(gone, [false, true, true, true, false]);
    assert_eq!(
        branches(&env),
        ["main", "mam/p2", "mam/p3", "mam/p4", "mam/p5"]
    );
    // --force: p2's worktree goes, its branch (an unmerged commit) stays;
    // p3's change is discarded and said so.
    env.expect(&["prune", "--force"])
        .stdout_is(
            "p2: removed worktree <ROOT>/.mam/worktrees/p2; branch mam/p2 kept (1 commit not merged into main and not pushed)\n\
             p3: removed worktree <ROOT>/.mam/worktrees/p3; discarded 1 uncommitted change (p3.txt); branch mam/p3 deleted (merged into main)\n\
             p4: running; its worktree is left alone (`mam stop p4` first)\n",
        )
        .run();
    assert_eq!(branches(&env), ["main", "mam/p2", "mam/p4", "mam/p5"]);
    // Every commit an agent made is still on a branch.
    for (rev, file) in [
        ("main", "p1.txt"),
        ("mam/p2", "p2.txt"),
        ("mam/p5", "p5.txt"),
    ] {
        git(
            &env,
            &env.root,
            &["cat-file", "-e", &format!("{rev}:{file}")],
        );
    }
    env.ok(&["stop", "p4"]);
    env.expect(&["prune"])
        .stdout_is("p4: removed worktree <ROOT>/.mam/worktrees/p4; branch mam/p4 deleted (merged into main)\n")
        .run();
    env.expect(&["prune"])
        .stdout_is("no worktrees to prune\n")
        .run();
}

#[test]
fn copy_and_setup_prepare_the_worktree_and_a_failing_setup_fails_the_job() {
    let env = repo();
    write(&env.path(".env"), "SECRET=1\n");
    std::fs::create_dir_all(env.path("conf/deep")).unwrap();
    write(&env.path("conf/deep/local.toml"), "x = 1\n");
    env.write_config(
        "[worktree]\ncopy = [\".env\", \"conf\", \"not-there\"]\n\
         setup = [\"test -f .env && echo \\\"$MAM_AGENT in $MAM_WORKTREE\\\" > setup.out\"]\n",
    );
    env.ok(&["create", "s", "--agent", "fake-plain", "--worktree"]);
    let dir = wt(&env, "s");
    assert_eq!(
        std::fs::read_to_string(dir.join(".env")).unwrap(),
        "SECRET=1\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("conf/deep/local.toml")).unwrap(),
        "x = 1\n"
    );
    assert!(!dir.join("not-there").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("setup.out")).unwrap(),
        format!("s in {}\n", dir.display())
    );
    // mam's copies are not the agent's changes; what setup made is.
    assert_eq!(seen(&env, "s")["dirty"], 1);
    // …and do not keep the worktree from being removed once setup.out goes.
    std::fs::remove_file(dir.join("setup.out")).unwrap();
    env.expect(&["stop", "s", "--remove-worktree"])
        .stdout_is("s: stopped\ns: removed worktree <ROOT>/.mam/worktrees/s; branch mam/s deleted (merged into main)\n")
        .run();
    // A copy that was edited is work.
    env.ok(&["create", "e", "--agent", "fake-plain", "--worktree"]);
    write(&wt(&env, "e").join(".env"), "SECRET=2\n");
    std::fs::remove_file(wt(&env, "e").join("setup.out")).unwrap();
    env.expect(&["stop", "e", "--remove-worktree"])
        .code(4)
        .stderr_has("1 uncommitted change (.env) would be lost")
        .run();

    // A failing setup command: the job failed with its output, no agent
    // started, the worktree kept to look at.
    env.write_config(
        "[worktree]\nsetup = [\"echo first step\", \"echo broken >&2; exit 3\", \"touch never\"]\n",
    );
    env.expect(&["create", "f", "--agent", "fake-plain", "--worktree"])
        .code(6)
        .stdout_is("")
        .stderr_is(
            "mam: error: f: setup command `echo broken >&2; exit 3` exited with status 3:\n\
             broken\n\
             hint: the job is failed and its worktree kept at <ROOT>/.mam/worktrees/f to look at; fix [worktree] setup, then `mam stop f --remove-worktree --force` and create it again\n",
        )
        .run();
    let job = env.job("f");
    assert_eq!(job["state"], "failed");
    assert_eq!(
        job["reason"],
        "setup command `echo broken >&2; exit 3` exited with status 3:\nbroken"
    );
    assert_eq!(job["session"], Value::Null);
    assert!(!env.has_session("mam-f"));
    assert!(wt(&env, "f").is_dir() && !wt(&env, "f").join("never").exists());
    assert!(env.log("f").is_empty(), "the agent was started");
}

#[test]
fn resume_reuses_the_worktree_and_a_deleted_one_is_reported_and_recorded() {
    let env = repo();
    env.ok(&["create", "r", "--agent", "fake-plain", "--worktree"]);
    commit(&env, &wt(&env, "r"), "r.txt", "r\n");
    env.ok(&["stop", "r"]);
    env.expect(&["resume", "r"])
        .stdout_is("r: resumed, ready\n")
        .run();
    let starts: Vec<Value> = env
        .log("r")
        .into_iter()
        .filter(|l| l["event"] == "start")
        .collect();
    assert_eq!(starts.len(), 2);
    assert_eq!(starts[1]["cwd"], wt(&env, "r").display().to_string());
    assert_eq!(seen(&env, "r"), seen_as(&wt(&env, "r"), "mam/r", 0, 1, 0));
    env.ok(&["stop", "r"]);
    // Deleted behind mam's back.
    std::fs::remove_dir_all(wt(&env, "r")).unwrap();
    env.expect(&["reconcile", "--once"])
        .stdout_is(
            "r: worktree <ROOT>/.mam/worktrees/r is gone (deleted outside mam; branch mam/r keeps its commits)\n",
        )
        .run();
    assert_eq!(seen(&env, "r")["state"], "missing");
    env.expect(&["resume", "r"])
        .code(3)
        .stdout_is("")
        .stderr_is(
            "mam: error: cannot resume r: its worktree <ROOT>/.mam/worktrees/r was deleted outside mam\n\
             hint: its branch mam/r keeps its commits; `mam create NEW --worktree --base mam/r` starts a job from there\n",
        )
        .run();
    // Events record it.
    let events = env.ok(&["events", "--job", "r", "--kind", "job.worktree", "--json"]);
    assert_eq!(events.lines().count(), 1, "{events}");
    assert!(events.contains(r#""state":"missing""#), "{events}");
    // prune forgets it; the branch with its commit stays.
    env.expect(&["prune"])
        .stdout_is("r: forgot worktree <ROOT>/.mam/worktrees/r (deleted outside mam); branch mam/r kept (1 commit not merged into main and not pushed)\n")
        .run();
    assert_eq!(git(&env, &env.root, &["show", "mam/r:r.txt"]), "r\n");
}

#[test]
fn worktree_errors_have_their_exit_codes_and_leave_nothing_behind() {
    let env = Env::new();
    env.expect(&["create", "x", "--agent", "fake-plain", "--worktree"])
        .code(2)
        .stdout_is("")
        .stderr_is(
            "mam: error: --worktree: <ROOT> is not inside a git repository\n\
             hint: run mam in a git checkout (or `git init` one), or leave out --worktree\n",
        )
        .run();
    let env = repo();
    git(&env, &env.root, &["branch", "taken"]);
    env.expect(&[
        "create",
        "x",
        "--agent",
        "fake-plain",
        "--worktree",
        "--branch",
        "taken",
    ])
    .code(4)
    .stderr_is(
        "mam: error: branch taken exists already in <ROOT>\n\
             hint: pick another with --branch, or delete it first (`git branch -d taken`)\n",
    )
    .run();
    env.expect(&[
        "create",
        "x",
        "--agent",
        "fake-plain",
        "--worktree",
        "--base",
        "no-such",
    ])
    .code(3)
    .stderr_is(
        "mam: error: --base \"no-such\" names no commit in <ROOT>\n\
             hint: give a branch, tag or commit that exists (`git branch -a` lists branches)\n",
    )
    .run();
    env.expect(&[
        "create",
        "x",
        "--agent",
        "fake-plain",
        "--worktree",
        "--branch",
        "bad..name",
    ])
    .code(2)
    .stderr_is(
        "mam: error: --branch \"bad..name\" is not a valid branch name\n\
             hint: see `git check-ref-format --help` for what a branch may be called\n",
    )
    .run();
    std::fs::create_dir_all(wt(&env, "x")).unwrap();
    env.expect(&["create", "x", "--agent", "fake-plain", "--worktree"])
        .code(4)
        .stderr_is(
            "mam: error: worktree path <ROOT>/.mam/worktrees/x exists already\n\
             hint: move it away, or set another [worktree] root in .mam/config.toml\n",
        )
        .run();
    env.expect(&["create", "x", "--workdir", ".", "--worktree"])
        .code(2)
        .stderr_has("cannot be used with")
        .run();
    env.expect(&["diff", "nobody"]).code(3).run();
    // Nothing was recorded, no branch made, no session started.
    assert_eq!(env.json(&["status", "--all", "--json"])["jobs"], json!([]));
    assert_eq!(branches(&env), ["main", "taken"]);
    assert!(!env.has_session("mam-x"));
    // A job without a worktree has no diff.
    env.ok(&["create", "plain", "--agent", "fake-plain"]);
    env.expect(&["diff", "plain"])
        .code(3)
        .stderr_is(
            "mam: error: plain has no worktree\n\
             hint: `git -C <ROOT> diff` shows changes in its workdir; `mam create NAME --worktree` gives a job its own\n",
        )
        .run();
}

#[test]
fn a_base_other_than_the_current_branch_and_a_sibling_root() {
    let env = repo();
    git(&env, &env.root, &["branch", "release"]);
    commit(&env, &env.root, "on-main.txt", "m\n");
    let sibling = env.dir.path().canonicalize().unwrap().join("ws-worktrees");
    env.write_config(&format!("[worktree]\nroot = \"{}\"\n", sibling.display()));
    env.expect(&[
        "create", "s", "--agent", "fake-plain", "--worktree", "--branch", "feature/s", "--base",
        "release",
    ])
    .stdout_is(
        "s is ready in tmux session mam-s\nworktree <ROOT>-worktrees/s on branch feature/s from release\n",
    )
    .run();
    assert!(!sibling.join("s/on-main.txt").exists());
    let v = seen(&env, "s");
    assert_eq!(
        (
            v["branch"].clone(),
            v["base"].clone(),
            v["ahead"].clone(),
            v["behind"].clone()
        ),
        (json!("feature/s"), json!("release"), json!(0), json!(0))
    );
}

/// `agent` edits README.md in its worktree and commits it as itself (its
/// pre-commit hook sees MAM_AGENT), with mam's clock at `t0`.
fn commit_as(env: &Env, agent: &str, t0: &str) -> std::process::Output {
    let dir = wt(env, agent);
    write(&dir.join("README.md"), &format!("{agent}'s take\n"));
    git(env, &dir, &["add", "README.md"]);
    git_cmd(env, &dir, &["commit", "-q", "-m", agent])
        .env("MAM_AGENT", agent)
        .env(CLOCK_ENV, t0)
        .env("MAM_TMUX_SOCKET", &env.socket)
        .output()
        .unwrap()
}

#[test]
fn a_new_worktree_gets_the_lease_hook_which_refuses_another_agents_leased_file() {
    let env = repo();
    for n in ["alice", "bob"] {
        env.ok(&["create", "-q", n, "--agent", "fake-plain", "--worktree"]);
    }
    // Linked worktrees share the repository's hooks: one hook serves both.
    let hook = std::fs::read_to_string(env.path(".git/hooks/pre-commit")).unwrap();
    assert_eq!(hook, env.lease_hook_script());
    let t0 = "1800000000000";
    // alice leases from inside her worktree: the path names the same file
    // as in the main checkout, not `.mam/worktrees/alice/README.md`.
    let out = env
        .cmd()
        .args(["lease", "README.md", "--reason", "docs"])
        .current_dir(wt(&env, "alice"))
        .env("MAM_AGENT", "alice")
        .env(CLOCK_ENV, t0)
        .output()
        .unwrap();
    check_ok("alice's lease", &out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "l1 on README.md (exclusive) until 2027-01-15T09:00:00.000Z\n"
    );
    // bob commits alice's file in his worktree: refused, nothing committed.
    let bob = wt(&env, "bob");
    let out = commit_as(&env, "bob", t0);
    assert_eq!(out.status.code(), Some(1), "bob's commit went through");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "mam: error: 1 file is leased by another agent:\n  \
         README.md: l1 on README.md (exclusive), held by alice until 2027-01-15T09:00:00.000Z (in 1h): docs\n\
         hint: leave these files to their holder or ask them (`mam send alice …`); `git commit --no-verify` skips this check\n"
    );
    assert_eq!(git(&env, &bob, &["rev-list", "--count", "HEAD"]), "1\n");
    // alice commits the same file in hers: allowed.
    let alice = wt(&env, "alice");
    let out = commit_as(&env, "alice", t0);
    check_ok("alice's commit", &out);
    assert_eq!(git(&env, &alice, &["rev-list", "--count", "HEAD"]), "2\n");
}

#[test]
fn lease_hook_false_leaves_the_hooks_alone() {
    let env = repo();
    env.write_config("[lease]\nhook = false\n");
    env.ok(&["create", "-q", "a", "--agent", "fake-plain", "--worktree"]);
    assert!(
        !env.path(".git/hooks/pre-commit").exists(),
        "a hook was installed with [lease] hook = false"
    );
}

/// `mam status --json` with a logging `git` first on PATH: the job's
/// worktree row, and whether a `git status` ran in its worktree.
fn status_logged(env: &Env, shim: &Path, log: &Path, name: &str) -> (Value, bool) {
    std::fs::write(log, "").unwrap();
    let path = format!(
        "{}:{}",
        shim.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = env
        .cmd()
        .args(["status", "--json"])
        .env("PATH", path)
        .output()
        .unwrap();
    check_ok("mam status --json", &out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == name)
        .unwrap()["worktree"]
        .clone();
    let dir = wt(env, name).display().to_string();
    let ran = std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .any(|l| l.starts_with(&format!("--no-optional-locks -C {dir} status ")));
    (row, ran)
}

#[test]
fn an_unchanged_worktree_costs_no_git_status_and_every_change_is_seen() {
    let env = repo();
    write(&env.path(".gitignore"), ".mam/\nbuild/\n");
    write(&env.path("notes.txt"), "aaaa\n");
    git(&env, &env.root, &["add", "."]);
    git(&env, &env.root, &["commit", "-q", "-m", "notes"]);
    env.ok(&["create", "w", "--agent", "fake-plain", "--worktree"]);
    let dir = wt(&env, "w");
    std::fs::create_dir(dir.join("build")).unwrap();
    write(&dir.join("build/out.o"), "obj\n");
    // A `git` that logs its arguments, then runs the real one.
    let shim = env.dir.path().join("git-shim");
    let log = env.dir.path().join("git.log");
    std::fs::create_dir_all(&shim).unwrap();
    let real = find_program("git").expect("git is required: sudo apt-get install git");
    write(
        &shim.join("git"),
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real.display()
        ),
    );
    std::fs::set_permissions(
        shim.join("git"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let at = |dirty: u64| seen_as(&dir, "mam/w", dirty, 0, 0);
    // Look until a look costs no git status: a change younger than the
    // settling time is never trusted, and the ignored build/ is left out
    // only once a status has confirmed it. Each look is right meanwhile.
    let settle = |dirty: u64| {
        env.eventually("a look without git status", Duration::from_secs(10), || {
            let (row, ran) = status_logged(&env, &shim, &log, "w");
            assert_eq!(row, at(dirty));
            !ran
        });
        // And it stays so.
        assert_eq!(status_logged(&env, &shim, &log, "w"), (at(dirty), false));
    };
    // A change younger than the settling time (50 ms) always makes git
    // run; let each change age past it, so the fingerprint alone must
    // tell the change from the cached state.
    let aged = || std::thread::sleep(Duration::from_millis(150));
    aged();
    let (row, ran) = status_logged(&env, &shim, &log, "w");
    assert_eq!((row, ran), (at(0), true), "the first look runs git status");
    settle(0);
    // Inside the ignored directory: nothing git would show, no git run.
    write(&dir.join("build/out2.o"), "obj\n");
    aged();
    assert_eq!(status_logged(&env, &shim, &log, "w"), (at(0), false));
    // An in-place edit of a tracked file that keeps its size.
    write(&dir.join("notes.txt"), "bbbb\n");
    aged();
    assert_eq!(status_logged(&env, &shim, &log, "w"), (at(1), true));
    settle(1);
    // A new file in a new directory, then a second file there.
    std::fs::create_dir(dir.join("fresh")).unwrap();
    write(&dir.join("fresh/one.txt"), "1\n");
    aged();
    assert_eq!(status_logged(&env, &shim, &log, "w"), (at(2), true));
    settle(2);
    write(&dir.join("fresh/two.txt"), "2\n");
    aged();
    assert_eq!(status_logged(&env, &shim, &log, "w"), (at(3), true));
    settle(3);
    // Un-ignoring the build directory shows its two files at once.
    write(&dir.join(".gitignore"), ".mam/\n");
    aged();
    assert_eq!(status_logged(&env, &shim, &log, "w"), (at(6), true));
    settle(6);
    // A commit moves HEAD: clean again, one ahead.
    git(&env, &dir, &["add", "."]);
    git(&env, &dir, &["commit", "-q", "-m", "work"]);
    aged();
    let (row, ran) = status_logged(&env, &shim, &log, "w");
    assert_eq!((row, ran), (seen_as(&dir, "mam/w", 0, 1, 0), true));
}
