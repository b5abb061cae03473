//! The real-CLI conformance suite: `mam` end to end against the real agent
//! CLIs (Claude Code, Codex CLI, Gemini CLI, aider), each in a fresh HOME
//! seeded as an onboarded user, talking to the loopback fake model server in
//! this folder. The fake agent shows each rule; this suite is the judge of
//! whether the profiles and the delivery logic work on what users run.
//!
//! Not part of `cargo test` (it needs the CLIs installed): run it with
//! `scripts/conformance.sh` (pinned versions, installed and cached under
//! `target/conformance/`) or `scripts/conformance.sh --latest`. It reads
//! the install from `MAM_CONFORMANCE_CLIS` and fails, saying how to install
//! them, when that is missing.
//!
//! Each CLI's test, in one private tmux server and workspace:
//! create through the real start-up with `NO_COLOR=1`; 20 messages sent
//! back to back and drained by `mam status` alone; 5 more while the agent
//! works, drained by the reconcile daemon; a 3 KB paste (with
//! `inline_max` raised); shell metacharacters; a send killed by SIGKILL,
//! then another; `stop` → `resume` into the same conversation; no process
//! left after `stop`. Every text is counted in the model server's log:
//! exactly once each. For Claude, Codex and Gemini also a job in its own
//! git worktree (`create --worktree`): the CLI starts there without ever
//! showing its folder-trust dialog (nothing answers it in that run, so one
//! would stay on screen), takes a message with proof from its record, and
//! the worktree is removed after.

#[path = "../support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use support::{Env, free_port};

/// Where `scripts/conformance.sh` installed the CLIs.
fn clis() -> PathBuf {
    let dir = std::env::var_os("MAM_CONFORMANCE_CLIS").map(PathBuf::from);
    match dir {
        Some(d)
            if d.join("npm/node_modules/.bin").is_dir() && d.join("aider/bin/aider").exists() =>
        {
            d
        }
        _ => panic!(
            "the agent CLIs are not installed: run `scripts/conformance.sh` (it installs Claude Code, \
             Codex CLI and Gemini CLI from npm and aider from PyPI under target/conformance/ and runs \
             this suite), or set MAM_CONFORMANCE_CLIS to such an install"
        ),
    }
}

/// The fake model server on a free loopback port, killed on drop.
struct ModelServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl ModelServer {
    fn start(dir: &Path) -> ModelServer {
        let port = free_port();
        let log = dir.join("model.log");
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/fake-model-server.py");
        let child = Command::new("python3")
            .arg(&script)
            .arg(port.to_string())
            .arg(&log)
            .env("FAKE_DELAY", "0.6")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the fake model server");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the fake model server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        ModelServer { child, port, log }
    }

    /// The user texts of the requests that carried a turn: the newest user
    /// turn of each streaming request (the CLIs' side requests — Claude's
    /// and Codex's titles, Gemini's routing call — do not stream).
    fn turns(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter_map(|l| l.split_once(" USER ").map(|(_, j)| j))
            .filter_map(|j| serde_json::from_str::<Value>(j).ok())
            .filter(|v| v["stream"] == true)
            .filter_map(|v| v["text"].as_str().map(str::to_string))
            .filter(|t| !side_request(t))
            .collect()
    }

    /// How many user turns the request that carried `needle` held (the
    /// conversation's length as the model saw it).
    fn history_len(&self, needle: &str) -> Option<usize> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter_map(|l| l.split_once(" USER ").map(|(_, j)| j))
            .filter_map(|j| serde_json::from_str::<Value>(j).ok())
            .filter(|v| {
                v["stream"] == true && v["text"].as_str().is_some_and(|t| t.contains(needle))
            })
            .map(|v| v["n_user"].as_u64().unwrap_or(0) as usize)
            .max()
    }
}

/// A request a CLI makes beside the conversation, quoting the user's text:
/// Claude Code's streaming title request (`<session>…</session>` then
/// "Write the title…").
/// Codex CLI's title request ("Generate a concise, single-line task title…").
fn side_request(text: &str) -> bool {
    (text.starts_with("<session>\n") && text.contains("Write the title"))
        || text.starts_with("Generate a concise, single-line task title")
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        // MAM_CONFORMANCE_KEEP_LOG=DIR keeps each run's model log there.
        if let Some(dir) = std::env::var_os("MAM_CONFORMANCE_KEEP_LOG") {
            let name = format!(
                "model-{}.log",
                std::thread::current().name().unwrap_or("run")
            );
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::copy(&self.log, Path::new(&dir).join(name));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One agent CLI under test.
struct Agent {
    kind: &'static str,
    /// Variables the CLI needs to reach the fake server.
    env: Vec<(String, String)>,
}

const KEY: &str = "sk-mam-conformance-0123456789abcdefghij";

fn agent(kind: &'static str, env: &Env, port: u16, clis: &Path) -> Agent {
    let base = format!("http://127.0.0.1:{port}");
    let home = &env.home;
    let mut vars: Vec<(String, String)> = Vec::new();
    match kind {
        "claude" => {
            // An onboarded user: past the first-run screens. (mam itself
            // trusts the folder and approves the key from the environment.)
            support::write(
                &home.join(".claude.json"),
                &json!({"hasCompletedOnboarding": true}).to_string(),
            );
            vars.push(("ANTHROPIC_API_KEY".into(), KEY.into()));
            vars.push(("ANTHROPIC_BASE_URL".into(), base));
        }
        "codex" => {
            // Codex 0.171 reads its endpoint from config.toml, not from
            // OPENAI_BASE_URL; the key from a stored login. A provider of
            // its own without websockets (the built-in one first tries a
            // websocket, which the fake server refuses: ~6 s of retries).
            std::fs::create_dir_all(home.join(".codex")).unwrap();
            support::write(
                &home.join(".codex/config.toml"),
                &format!(
                    "model_provider = \"fake\"\n\n[model_providers.fake]\nname = \"fake\"\n\
                     base_url = \"{base}/v1\"\nwire_api = \"responses\"\n\
                     requires_openai_auth = true\nsupports_websockets = false\n"
                ),
            );
            let mut login = Command::new(clis.join("npm/node_modules/.bin/codex"))
                .args(["login", "--with-api-key"])
                .env("HOME", home)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            use std::io::Write;
            login
                .stdin
                .take()
                .unwrap()
                .write_all(KEY.as_bytes())
                .unwrap();
            assert!(
                login.wait().unwrap().success(),
                "codex login --with-api-key failed"
            );
            vars.push(("OPENAI_API_KEY".into(), KEY.into()));
        }
        "gemini" => {
            // An onboarded user has chosen how to sign in.
            std::fs::create_dir_all(home.join(".gemini")).unwrap();
            support::write(
                &home.join(".gemini/settings.json"),
                &json!({"security": {"auth": {"selectedType": "gemini-api-key"}}}).to_string(),
            );
            vars.push(("GEMINI_API_KEY".into(), KEY.into()));
            vars.push(("GOOGLE_GEMINI_BASE_URL".into(), base));
        }
        "aider" => {
            // A user with a git identity (else aider asks to set one).
            support::write(
                &home.join(".gitconfig"),
                "[user]\n\tname = Conformance\n\temail = conformance@example.invalid\n",
            );
            vars.push(("OPENAI_API_KEY".into(), KEY.into()));
            vars.push(("OPENAI_API_BASE".into(), format!("{base}/v1")));
            vars.push(("AIDER_MODEL".into(), "openai/gpt-4o-mini".into()));
        }
        _ => unreachable!(),
    }
    Agent { kind, env: vars }
}

/// A workspace with a git repo, its own HOME, PATH with the CLIs first.
struct Bench {
    // Dropped in this order: the model server (keeping its log if asked)
    // before the workspace and its tmux server go.
    server: ModelServer,
    env: Env,
    path: String,
    agent: Agent,
}

impl Bench {
    fn new(kind: &'static str) -> Bench {
        let clis = clis();
        let env = Env::new();
        let git = Command::new("git")
            .args(["init", "-q"])
            .current_dir(&env.root)
            .status();
        assert!(
            git.is_ok_and(|s| s.success()),
            "git is required: install it with `apt-get install git`"
        );
        let server = ModelServer::start(env.dir.path());
        let agent = agent(kind, &env, server.port, &clis);
        let path = format!(
            "{}:{}:{}",
            clis.join("npm/node_modules/.bin").display(),
            clis.join("aider/bin").display(),
            std::env::var("PATH").unwrap()
        );
        // The built-in profile as users get it; only the message size is raised.
        let state = env.root.join(".mam");
        std::fs::create_dir_all(&state).unwrap();
        support::write(
            &state.join("config.toml"),
            "[messages]\ninline_max = 8192\n",
        );
        Bench {
            env,
            path,
            agent,
            server,
        }
    }

    fn cmd(&self) -> Command {
        let mut c = self.env.cmd();
        c.env("PATH", &self.path).env("TERM", "tmux-256color");
        for (k, v) in &self.agent.env {
            c.env(k, v);
        }
        c
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "mam {args:?} failed ({:?})\nstdout: {}\nstderr: {}\nmam explain:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.explain()
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn explain(&self) -> String {
        let out = self.cmd().args(["explain", "a"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn inbox(&self) -> Vec<Value> {
        let v: Value = serde_json::from_str(&self.ok(&["inbox", "a", "--all", "--json"])).unwrap();
        v["messages"].as_array().unwrap().clone()
    }

    /// Wait until no message to `a` is queued, looking only with `status`
    /// (or `also`, e.g. nothing when a daemon drains).
    #[track_caller]
    fn drain(&self, what: &str, timeout: Duration, by_status: bool) {
        let deadline = Instant::now() + timeout;
        loop {
            if by_status {
                self.ok(&["status"]);
            }
            let msgs = self.inbox();
            if msgs.iter().all(|m| m["state"] != "queued") {
                let failed: Vec<&Value> = msgs.iter().filter(|m| m["state"] == "failed").collect();
                assert!(
                    failed.is_empty(),
                    "{what}: failed deliveries {failed:#?}\n{}",
                    self.explain()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: still queued after {timeout:?}: {:#?}\n{}",
                msgs.iter()
                    .filter(|m| m["state"] == "queued")
                    .collect::<Vec<_>>(),
                self.explain()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

impl Bench {
    /// Wait until `mam status` shows the agent ready (its turn is over).
    #[track_caller]
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v: Value = serde_json::from_str(&self.ok(&["status", "--json"])).unwrap();
            if v["jobs"][0]["state"] == "ready" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "not ready: {v}\n{}",
                self.explain()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Medians (ms) of `mam send` to the resting agent and of the same done by
/// hand with tmux, each until the agent's record shows the turn.
fn delivery_timing(b: &Bench) -> (f64, f64) {
    let (mut mine, mut hand) = (Vec::new(), Vec::new());
    for i in 0..3 {
        b.wait_ready();
        let t = Instant::now();
        let out = b.ok(&["send", "a", &format!("timed message {i}")]);
        let ms = t.elapsed().as_secs_f64() * 1e3;
        assert!(out.ends_with(": delivered\n"), "{out}{}", b.explain());
        mine.push(ms);

        b.wait_ready();
        let x: Value = serde_json::from_str(&b.ok(&["explain", "a", "--json"])).unwrap();
        let pane = x["pane"].as_str().unwrap().to_string();
        let delay = x["typing"]["submit_delay_ms"].as_u64().unwrap();
        let files: Vec<PathBuf> = x["record"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| PathBuf::from(f.as_str().unwrap()))
            .collect();
        let text = format!("typed by hand number {i}");
        let tmux = |args: &[&str]| b.env.server.cmd(args);
        let t = Instant::now();
        let mut load = tmux(&["load-buffer", "-b", "hand", "-"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        load.stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        assert!(load.wait().unwrap().success());
        assert!(
            tmux(&["paste-buffer", "-p", "-d", "-b", "hand", "-t", &pane])
                .status()
                .unwrap()
                .success()
        );
        std::thread::sleep(Duration::from_millis(delay));
        assert!(
            tmux(&["send-keys", "-t", &pane, "Enter"])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if files
                .iter()
                .any(|f| std::fs::read_to_string(f).is_ok_and(|s| s.contains(&text)))
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the by-hand turn never showed in {files:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        hand.push(t.elapsed().as_secs_f64() * 1e3);
    }
    (median(mine), median(hand))
}

/// The processes whose environment names this HOME (the agent's tree).
fn processes_with_home(home: &Path) -> Vec<i32> {
    let needle = format!("HOME={}", home.display());
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == std::process::id() as i32 {
            continue;
        }
        if let Ok(env) = std::fs::read(e.path().join("environ"))
            && env.split(|b| *b == 0).any(|v| v == needle.as_bytes())
        {
            out.push(pid);
        }
    }
    out
}

fn conformance(kind: &'static str) {
    let b = Bench::new(kind);

    assert_eq!(b.agent.kind, kind);
    let prompt = format!("conformance prompt for the {kind} agent");
    let out = b.ok(&[
        "create",
        "a",
        "--agent",
        kind,
        "--prompt",
        &prompt,
        "--ready-timeout",
        "60",
    ]);
    assert_eq!(out, "a is busy in tmux session mam-a\n", "{}", b.explain());
    let mut sent: Vec<String> = Vec::new(); // the header each message is typed with

    // 20 back to back, drained by `mam status` alone.
    for i in 1..=20 {
        let id = b.ok(&["send", "-q", "a", &format!("paced message number {i}")]);
        sent.push(id.trim().to_string());
    }
    b.drain("20 messages by status", Duration::from_secs(180), true);

    // 5 while the agent works, drained by the reconcile daemon.
    let mut daemon = b
        .cmd()
        .args(["reconcile", "--interval", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for i in 1..=5 {
        let id = b.ok(&["send", "-q", "a", &format!("daemon message number {i}")]);
        sent.push(id.trim().to_string());
    }
    b.drain("5 messages by the daemon", Duration::from_secs(90), false);
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let _ = daemon.wait();

    // A 3 KB paste and shell metacharacters.
    let long: String = (0..40)
        .map(|i| format!("line {i:02} of a long pasted message with some padding text\n"))
        .collect();
    sent.push(b.ok(&["send", "-q", "a", &long]).trim().to_string());
    let meta = r#"metachars $(touch /tmp/mam-pwned) `id` ; | & && > < 'single' "double" \back $HOME * ? ~"#;
    sent.push(b.ok(&["send", "-q", "a", meta]).trim().to_string());
    b.drain(
        "the long and the hostile message",
        Duration::from_secs(60),
        true,
    );
    assert!(!Path::new("/tmp/mam-pwned").exists(), "a metacharacter ran");

    // A send killed mid-way, then another.
    let mut victim = b
        .cmd()
        .args(["send", "-q", "a", "killed while typing"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let _ = victim.kill();
    let _ = victim.wait();
    sent.push(
        b.ok(&["send", "-q", "a", "after the kill"])
            .trim()
            .to_string(),
    );
    b.drain("after a SIGKILL", Duration::from_secs(60), true);
    // The killed send's message, if it got as far as storing it.
    for m in b.inbox() {
        let id = m["id"].as_str().unwrap().to_string();
        if !sent.contains(&id) {
            sent.push(id);
        }
    }

    // Verified delivery beside the same by hand (paste, the profile's delay,
    // Enter, poll the record until the turn shows), alternating, on the
    // agent at rest. Printed, never asserted.
    let (mam_ms, hand_ms) = delivery_timing(&b);
    println!(
        "perf: {kind}: verified delivery median {mam_ms:.0} ms (mam send, whole process) vs by hand {hand_ms:.0} ms: +{:.0} ms",
        mam_ms - hand_ms
    );
    for m in b.inbox() {
        let id = m["id"].as_str().unwrap().to_string();
        if !sent.contains(&id) {
            sent.push(id);
        }
    }

    // stop → resume into the same conversation, once the last turn is over
    // (stopping a working agent ends its turn unanswered).
    b.wait_ready();
    let out = b.ok(&["stop", "a"]);
    assert_eq!(out, "a: stopped\n");
    let out = b.ok(&["resume", "a", "--ready-timeout", "60"]);
    assert_eq!(out, "a: resumed, ready\n", "{}", b.explain());
    b.drain("the restart notice", Duration::from_secs(60), true);
    let after = b
        .ok(&["send", "-q", "a", "after the resume"])
        .trim()
        .to_string();
    sent.push(after.clone());
    b.drain("after resume", Duration::from_secs(60), true);
    // The record shows a turn as soon as the CLI takes it; the model sees
    // it a moment later.
    let needle = format!("[mam] {after} from operator:");
    let deadline = Instant::now() + Duration::from_secs(60);
    let hist = loop {
        if let Some(h) = b.server.history_len(&needle) {
            break h;
        }
        assert!(
            Instant::now() < deadline,
            "the model never saw {after}\n{}",
            b.explain()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        hist > 2,
        "resumed into a new conversation: the model saw {hist} user turns"
    );

    // Every message delivered with proof from the agent's record, and the
    // model got each exactly once.
    let inbox = b.inbox();
    let by_id: HashMap<String, &Value> = inbox
        .iter()
        .map(|m| (m["id"].as_str().unwrap().to_string(), m))
        .collect();
    let turns = b.server.turns();
    let count = |needle: &str| turns.iter().filter(|t| t.contains(needle)).count();
    assert_eq!(count(&prompt), 1, "the prompt: {turns:#?}");
    for id in &sent {
        let m = by_id[id.as_str()];
        assert_eq!(m["state"], "delivered", "{m}");
        // Proof from the record, or (Claude) the CLI's own "queued" hint.
        assert!(
            m["how"] == "record" || (kind == "claude" && m["how"] == "queued"),
            "{m}"
        );
        let header = format!("[mam] {id} from {}:", m["from"].as_str().unwrap());
        assert_eq!(
            count(&header),
            1,
            "{id} reached the model {} times: {turns:#?}",
            count(&header)
        );
    }
    for t in &turns {
        assert!(
            t.matches("[mam] m").count() <= 1,
            "glued messages reached the model: {t:?}"
        );
    }

    // Nothing left running after stop.
    b.wait_ready();
    b.ok(&["stop", "a"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = processes_with_home(&b.env.home);
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "processes left after stop: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A job in its own worktree: no trust dialog for the new path, a message
/// proven delivered from the CLI's record there, then the worktree removed.
fn worktree(kind: &'static str) {
    let b = Bench::new(kind);
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=Conformance",
                "-c",
                "user.email=c@example.invalid",
            ])
            .args(args)
            .current_dir(&b.env.root)
            .env("HOME", &b.env.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        support::check_ok(&format!("git {args:?}"), &out);
    };
    support::write(&b.env.root.join(".gitignore"), ".mam/\n");
    git(&["add", ".gitignore"]);
    git(&["commit", "-q", "-m", "first"]);
    // Started without mam's probe: nothing answers a dialog, so a trust
    // dialog would stay on screen until the test gives up.
    b.ok(&["create", "w", "--agent", kind, "--worktree", "--no-wait"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let x: Value = serde_json::from_str(&b.ok(&["explain", "w", "--json"])).unwrap();
        let state = x["screen_state"].as_str().unwrap_or_default().to_string();
        assert!(
            !state.starts_with("waiting"),
            "{kind} showed a dialog in its worktree: {state}\n{}",
            x["screen_tail"].as_str().unwrap_or_default()
        );
        if state == "ready" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{kind} not ready in its worktree: {state}\n{}",
            x["screen_tail"].as_str().unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let dir = b.env.root.join(".mam/worktrees/w");
    let v: Value = serde_json::from_str(&b.ok(&["status", "--json"])).unwrap();
    assert_eq!(v["jobs"][0]["workdir"], dir.display().to_string());
    assert_eq!(v["jobs"][0]["worktree"]["branch"], "mam/w");
    let id = b
        .ok(&["send", "-q", "w", "hello from a worktree"])
        .trim()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        b.ok(&["status"]);
        let inbox: Value = serde_json::from_str(&b.ok(&["inbox", "w", "--all", "--json"])).unwrap();
        let m = inbox["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id.as_str())
            .cloned()
            .unwrap();
        if m["state"] == "delivered" {
            assert!(
                m["how"] == "record" || (kind == "claude" && m["how"] == "queued"),
                "{m}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{id} not delivered in the worktree: {m}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let needle = format!("[mam] {id} from operator:");
    let deadline = Instant::now() + Duration::from_secs(60);
    while b.server.turns().iter().all(|t| !t.contains(&needle)) {
        assert!(Instant::now() < deadline, "the model never saw {id}");
        std::thread::sleep(Duration::from_millis(200));
    }
    b.wait_ready();
    // The CLI left nothing uncommitted behind, and the branch is merged.
    let out = b.ok(&["stop", "w", "--remove-worktree"]);
    let branch = String::from_utf8(
        Command::new("git")
            .args(["symbolic-ref", "--short", "HEAD"])
            .current_dir(&b.env.root)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        out,
        format!(
            "w: stopped\nw: removed worktree {}; branch mam/w deleted (merged into {})\n",
            dir.display(),
            branch.trim()
        )
    );
    assert!(!dir.exists());
}

#[test]
fn claude_worktree() {
    worktree("claude");
}

#[test]
fn codex_worktree() {
    worktree("codex");
}

#[test]
fn gemini_worktree() {
    worktree("gemini");
}

/// The tool names a CLI offered the model and the calls and results the
/// model server saw (its `TOOLS` / `TOOLCALL` / `TOOLRESULT` lines).
fn tool_log(server: &ModelServer, tag: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(&server.log).unwrap_or_default();
    let tag = format!(" {tag} ");
    text.lines()
        .filter_map(|l| l.split_once(tag.as_str()).map(|(_, j)| j))
        .filter_map(|j| serde_json::from_str::<Value>(j).ok())
        .collect()
}

/// How a logged call names the tool: the tool itself, or (Codex's code
/// mode) its `exec` tool and the nested tool the script calls.
fn wire_name(call: &Value) -> String {
    match call["nested"].as_str() {
        Some(n) => format!("{} → tools.{n}", call["name"].as_str().unwrap_or("")),
        None => call["name"].as_str().unwrap_or("").to_string(),
    }
}

/// mam's MCP server wired into the real CLI: the model answers the prompt
/// with a call of mam's `send` tool; the other agent (a shell job) gets the
/// message exactly once, and the tool's result reaches the model in the
/// next request.
fn mcp_send(kind: &'static str, tool_name: &str) {
    let b = Bench::new(kind);
    assert_eq!(b.agent.kind, kind);
    let out = b.ok(&["create", "b", "--agent", "shell"]);
    assert_eq!(out, "b is ready in tmux session mam-b\n");
    let text = format!("hello b from the {kind} model over MCP");
    let prompt = format!("MAM-TOOL send {}", json!({"to": "b", "text": text}));
    b.ok(&[
        "create",
        "a",
        "--agent",
        kind,
        "--prompt",
        &prompt,
        "--ready-timeout",
        "60",
    ]);
    // The call, then its result in the request after it.
    let deadline = Instant::now() + Duration::from_secs(90);
    let (call, result) = loop {
        let calls = tool_log(&b.server, "TOOLCALL");
        let results = tool_log(&b.server, "TOOLRESULT");
        let sends: Vec<&Value> = calls
            .iter()
            .filter(|c| wire_name(c).ends_with("send"))
            .collect();
        let mine: Vec<&Value> = sends
            .first()
            .map(|c| {
                results
                    .iter()
                    .filter(|r| r["call_id"] == c["call_id"])
                    .collect()
            })
            .unwrap_or_default();
        if let Some(r) = mine.first() {
            assert_eq!(
                sends.len(),
                1,
                "the send tool was called more than once: {calls:?}"
            );
            break (sends[0].clone(), (*r).clone());
        }
        assert!(
            Instant::now() < deadline,
            "no send tool result reached the model; calls: {calls:?}; results: {results:?}; tools offered: {:?}\n{}",
            tool_log(&b.server, "TOOLS").last(),
            b.explain()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    println!(
        "mcp: {kind} names mam's send tool {:?} on the wire; its result as the model got it: {}",
        wire_name(&call),
        result["text"]
    );
    assert_eq!(wire_name(&call), tool_name, "{call}");
    // The CLI hands the model the structured result (Claude), the text
    // (Codex: the output of its script, which prints the tool's text, whose
    // first line is the summary), or the text wrapped in JSON (Gemini:
    // `{"output": …}`); each says m1 reached b.
    let result = result["text"].as_str().unwrap();
    let parsed = serde_json::from_str::<Value>(result).ok();
    let said_it = |t: &str| t.lines().any(|l| l == "m1 to b: delivered");
    match &parsed {
        Some(v) if v.get("messages").is_some() => assert_eq!(
            v,
            &json!({"messages": [{"id": "m1", "to": "b", "state": "delivered"}]}),
            "the tool result the model got"
        ),
        Some(v) => assert!(
            v["output"].as_str().is_some_and(said_it),
            "the tool result the model got: {result:?}"
        ),
        None => assert!(said_it(result), "the tool result the model got: {result:?}"),
    }
    // b received it exactly once, from a.
    let deadline = Instant::now() + Duration::from_secs(30);
    let msgs = loop {
        let v: Value = serde_json::from_str(&b.ok(&["inbox", "b", "--all", "--json"])).unwrap();
        let msgs = v["messages"].as_array().unwrap().clone();
        if msgs.iter().all(|m| m["state"] != "queued") {
            break msgs;
        }
        assert!(Instant::now() < deadline, "still queued: {msgs:?}");
        b.ok(&["status"]);
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(msgs.len(), 1, "{msgs:#?}");
    assert_eq!(msgs[0]["from"], "a");
    assert_eq!(msgs[0]["body"], text.as_str());
    assert_eq!(msgs[0]["state"], "delivered", "{msgs:#?}");
    assert!(
        b.explain().contains("\nmcp: wired ("),
        "explain: {}",
        b.explain()
    );
    b.wait_ready();
    b.ok(&["stop", "a", "b"]);
}

#[test]
fn mcp_claude() {
    mcp_send("claude", "mcp__mam__send");
}

#[test]
fn mcp_codex() {
    mcp_send("codex", "exec → tools.mcp__mam__send");
}

#[test]
fn mcp_gemini() {
    mcp_send("gemini", "mcp_mam_send");
}

#[test]
fn claude() {
    conformance("claude");
}

#[test]
fn codex() {
    conformance("codex");
}

#[test]
fn gemini() {
    conformance("gemini");
}

#[test]
fn aider() {
    conformance("aider");
}
