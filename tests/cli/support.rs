//! Test support: a temporary workspace with its own private tmux server
//! (`-L mam-test-…`, killed on drop, also when a test panics), a HOME of its
//! own, the fake agent profiles, and helpers to run `mam` and read what the
//! fake agent received.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

static SEQ: AtomicU32 = AtomicU32::new(0);

pub fn mam_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mam"))
}

/// The fake agent example, built by `cargo test` beside the binaries.
pub fn fake_agent() -> PathBuf {
    let bin = mam_bin();
    let p = bin.parent().unwrap().join("examples").join("fake_agent");
    assert!(
        p.exists(),
        "fake agent not built at {} (cargo test builds examples; run `cargo build --examples`)",
        p.display()
    );
    p
}

/// Fail (never skip) when tmux is missing, saying how to install it.
pub fn require_tmux() {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "tmux is required for these tests: install it with `sudo apt-get install tmux` (or your OS's package manager)"
    );
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub socket: String,
    pub logs: PathBuf,
}

/// Screen rules of the fake agent, shared by every fake profile.
pub const FAKE_RULES: &str = include_str!("../../examples/fake_agent_rules.toml");

impl Env {
    pub fn new() -> Env {
        require_tmux();
        let dir = tempfile::Builder::new()
            .prefix("mam-test-")
            .tempdir()
            .unwrap();
        let root = dir.path().canonicalize().unwrap().join("ws");
        let home = dir.path().canonicalize().unwrap().join("home");
        let logs = dir.path().canonicalize().unwrap().join("logs");
        for d in [&root, &home, &logs] {
            std::fs::create_dir_all(d).unwrap();
        }
        let socket = format!(
            "mam-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let env = Env {
            dir,
            root,
            home,
            socket,
            logs,
        };
        env.write_config("");
        env
    }

    /// Write `.mam/config.toml` with the fake profiles plus `extra`.
    pub fn write_config(&self, extra: &str) {
        let fa = fake_agent();
        let log = self.logs.join("{agent}.jsonl");
        let sessions = self.logs.join("sessions");
        let base = format!(
            r#""{fa}", "--log", "{log}", "--sessions-dir", "{sessions}""#,
            fa = fa.display(),
            log = log.display(),
            sessions = sessions.display()
        );
        let profile_with = |name: &str, args: &str, typing: &str| {
            let extra_args = if args.is_empty() {
                String::new()
            } else {
                format!(", {args}")
            };
            format!(
                "[agents.{name}]\ncmd = [{base}{extra_args}]\nresume_cmd = [{base}, \"--resume\", \"{{conversation_id}}\"{extra_args}]\n{FAKE_RULES}{typing}\n"
            )
        };
        let profile = |name: &str, args: &str| profile_with(name, args, "submit_delay_ms = 150\n");
        let mut cfg = String::new();
        cfg.push_str(&profile("fake", r#""--trust", "--busy", "0.3""#));
        cfg.push_str(&profile("fake-plain", ""));
        cfg.push_str(&profile("fake-slow", r#""--slow-start", "1200""#));
        cfg.push_str(&profile("fake-exitdefault", r#""--trust-exit-default""#));
        cfg.push_str(&profile(
            "fake-error",
            r#""--error", "FATAL: cannot reach the model""#,
        ));
        // Types with send-keys -l and presses Enter too soon: the fake agent
        // swallows that Enter, so delivery needs the one rescue submit.
        cfg.push_str(&profile_with(
            "fake-hasty",
            "",
            "submit_delay_ms = 10\npaste = \"literal\"\n",
        ));
        cfg.push_str(extra);
        let state = self.root.join(".mam");
        std::fs::create_dir_all(&state).unwrap();
        std::fs::write(state.join("config.toml"), cfg).unwrap();
    }

    /// A fake-agent profile: `args` are extra fake_agent flags (TOML list
    /// items), `rules` replace the shared screen rules when given.
    pub fn fake_profile(&self, name: &str, args: &str, rules: Option<&str>) -> String {
        let base = format!(
            r#""{}", "--log", "{}""#,
            fake_agent().display(),
            self.logs.join("{agent}.jsonl").display()
        );
        let rules = rules.unwrap_or(FAKE_RULES);
        format!("[agents.{name}]\ncmd = [{base}, {args}]\n{rules}\nsubmit_delay_ms = 150\n")
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(mam_bin());
        c.current_dir(&self.root)
            .env("MAM_TMUX_SOCKET", &self.socket)
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("NO_COLOR", "1")
            .env_remove("MAM_AGENT")
            .env_remove("MAM_WORKSPACE")
            .env_remove("MAM_STATE_DIR")
            .env_remove("MAM_BROKER_URL")
            .env_remove("TMUX")
            .stdin(Stdio::null());
        c
    }

    pub fn mam(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run mam")
    }

    /// Run mam and assert the exit code; returns stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.mam(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "mam {args:?} failed\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    #[track_caller]
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.mam(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "mam {args:?}: expected exit {code}\nstdout: {}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            stderr.contains("mam: error: "),
            "no error line in: {stderr}"
        );
        assert!(
            !stderr.contains("panicked"),
            "panic reached the user: {stderr}"
        );
        stderr
    }

    pub fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).expect("mam printed JSON")
    }

    /// The job's entry in `mam status --json --all`.
    pub fn job(&self, name: &str) -> Value {
        let v = self.json(&["status", "--all", "--json"]);
        v["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    }

    pub fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .unwrap()
    }

    pub fn has_session(&self, name: &str) -> bool {
        self.tmux(&["has-session", "-t", &format!("={name}")])
            .status
            .success()
    }

    /// Records the fake agent named `agent` wrote.
    pub fn log(&self, agent: &str) -> Vec<Value> {
        let p = self.logs.join(format!("{agent}.jsonl"));
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("fake agent log is JSON lines"))
            .collect()
    }

    /// Texts the agent received as submissions.
    pub fn submits(&self, agent: &str) -> Vec<String> {
        self.log(agent)
            .into_iter()
            .filter(|r| r["event"] == "submit")
            .map(|r| r["text"].as_str().unwrap().to_string())
            .collect()
    }

    /// Wait (up to 10 s, looking with `mam status` as a user would) until a
    /// job shows `state`. mam records `ready` only from a settled screen, so
    /// right after a turn a job shows `busy` for a moment.
    pub fn wait_state(&self, name: &str, state: &str) {
        self.eventually(
            &format!("{name} to be {state}"),
            Duration::from_secs(10),
            || self.job(name)["state"] == state,
        );
    }

    /// Wait (polling, bounded) until `f` holds.
    #[track_caller]
    pub fn eventually(&self, what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if f() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("timed out waiting for {what}");
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
        // tmux 3.3a leaves the socket file behind; it is ours, remove it.
        let dir = std::env::var("TMUX_TMPDIR").unwrap_or_else(|_| "/tmp".into());
        let uid = std::fs::metadata(&self.home)
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
            .unwrap_or(0);
        let _ = std::fs::remove_file(
            std::path::Path::new(&dir)
                .join(format!("tmux-{uid}"))
                .join(&self.socket),
        );
    }
}

/// Pids still alive among `pids`.
pub fn alive(pids: &[i32]) -> Vec<i32> {
    pids.iter()
        .copied()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .map(|s| !s.contains(") Z"))
                .unwrap_or(false)
        })
        .collect()
}

/// Every process in session `sid` (tmux makes each pane process a session leader).
pub fn session_members(sid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            let rest = &stat[stat.rfind(')').unwrap() + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            if f.get(3).and_then(|s| s.parse::<i32>().ok()) == Some(sid) && f[0] != "Z" {
                out.push(pid);
            }
        }
    }
    out
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}
