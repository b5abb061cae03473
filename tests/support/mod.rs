//! The one harness of the tests (tests/cli), the conformance suite
//! (tests/conformance) and the bench (benches/perf.rs), each of which
//! includes it with `#[path = ".../support/mod.rs"] mod support;`:
//!
//! - where the binaries are (`mam_bin`, `example_path`, `fake_agent`);
//! - a private tmux server (`Tmux`: `-L <socket>`, killed and its socket
//!   file removed on drop, also when a test panics) — never the default one;
//! - the environment `mam` runs in (`mam_command`: HOME, NO_COLOR, no
//!   inherited identity or tmux);
//! - `Env`, a temporary workspace with its own tmux server, HOME and the
//!   fake agent profiles, and helpers to run `mam` and read what the fake
//!   agent received;
//! - `expect`: `env.expect(&[..])…run()`, exact expectations on a run of
//!   `mam` with a line diff on mismatch, and the normalisation of volatile
//!   parts; `golden`: outputs compared with files under tests/golden/;
//! - `daemon`: a `mam reconcile` daemon and its JSON lines;
//! - `broker`: a private Mosquitto; processes (`Reaped`, `free_port`,
//!   `find_program`, `owns_listener`);
//! - `netns`: a network namespace of the test's own behind a veth pair, whose
//!   link can be cut and restored (root only); `Env::run_under` runs a
//!   host's every `mam` inside it.

// The tests, the conformance suite and the bench each use a part of this.
#![allow(dead_code)]

pub mod broker;
pub mod daemon;
pub mod expect;
pub mod golden;
pub mod mcp;
pub mod netns;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

static SEQ: AtomicU32 = AtomicU32::new(0);

/// The `mam` binary cargo built for this test or bench.
pub fn mam_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mam"))
}

/// Where cargo puts example `name` of the profile `mam_bin` was built with
/// (whether it is there is the caller's business: `cargo test` builds
/// examples, `cargo bench` does not).
pub fn example_path(name: &str) -> PathBuf {
    mam_bin().parent().unwrap().join("examples").join(name)
}

/// The fake agent example, built by `cargo test` beside the binaries.
pub fn fake_agent() -> PathBuf {
    let p = example_path("fake_agent");
    assert!(
        p.exists(),
        "fake agent not built at {} (cargo test builds examples; run `cargo build --examples`)",
        p.display()
    );
    p
}

/// Fail (never skip) when tmux is missing, saying how to install it;
/// returns `tmux -V`.
pub fn require_tmux() -> String {
    match Command::new("tmux").arg("-V").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => panic!(
            "tmux is required: install it with `sudo apt-get install tmux` (or your OS's package manager)"
        ),
    }
}

/// Where tmux puts the socket of `-L name`.
pub fn socket_path(name: &str) -> PathBuf {
    let uid = unsafe { libc::getuid() };
    let base = std::env::var_os("TMUX_TMPDIR").unwrap_or_else(|| "/tmp".into());
    PathBuf::from(base).join(format!("tmux-{uid}")).join(name)
}

/// A private tmux server, `tmux -L <socket>`: killed, and its socket file
/// removed, on drop (also when a test or a measurement panics).
pub struct Tmux {
    pub socket: String,
    home: PathBuf,
}

impl Tmux {
    /// A server named `<prefix>-<pid>-<n>` (n counts up in this process);
    /// its clients run with `home` as HOME.
    pub fn new(prefix: &str, home: &Path) -> Tmux {
        Tmux::named(
            format!(
                "{prefix}-{}-{}",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::SeqCst)
            ),
            home,
        )
    }

    /// A server with exactly this socket name.
    pub fn named(socket: String, home: &Path) -> Tmux {
        Tmux {
            socket,
            home: home.to_path_buf(),
        }
    }

    /// `tmux -L <socket> -f /dev/null ARGS`, outside any tmux, stdin closed.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env("HOME", &self.home)
            .env_remove("TMUX")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run tmux")
    }

    /// Run tmux, panic unless it exits 0; returns stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        check_ok(&format!("tmux {}", args.join(" ")), &out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Kill the server and, once it is gone, remove its socket file (tmux
    /// 3.3a leaves it behind; only the next client would clean it up).
    pub fn kill(&self) {
        if !socket_path(&self.socket).exists() {
            return; // no server was started, or it is gone already
        }
        let _ = self.run(&["kill-server"]);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            match self.cmd(&["list-sessions"]).output() {
                Ok(o) if o.status.success() => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = std::fs::remove_file(socket_path(&self.socket));
                    return;
                }
            }
        }
        eprintln!("warning: tmux server -L {} did not exit", self.socket);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `mam ARGS` as a user runs it in `root`, on the private server `tmux`,
/// with `home` as HOME and XDG_CONFIG_HOME under it, without colour, and
/// with nothing of the caller's identity, workspace, broker or tmux.
pub fn mam_command(mam: &Path, root: &Path, tmux: &Tmux, home: &Path) -> Command {
    let mut c = Command::new(mam);
    c.current_dir(root)
        .env("MAM_TMUX_SOCKET", &tmux.socket)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("NO_COLOR", "1")
        .env_remove("MAM_AGENT")
        .env_remove("MAM_WORKSPACE")
        .env_remove("MAM_STATE_DIR")
        .env_remove("MAM_BROKER_URL")
        .env_remove(CLOCK_ENV)
        .env_remove("TMUX")
        // git as a user with this HOME runs it: no system config, nothing
        // of a surrounding repository or hook.
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_CONFIG_GLOBAL")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_COMMON_DIR")
        .stdin(Stdio::null());
    c
}

/// `cmd` run as `PROGRAM ARGS… <cmd's program> <cmd's args>`, with cmd's
/// directory, environment (what it sets and what it removes) and stdin
/// closed.
pub fn run_under(cmd: &Command, program: &str, args: &[String]) -> Command {
    let mut c = Command::new(program);
    c.args(args).arg(cmd.get_program()).args(cmd.get_args());
    if let Some(d) = cmd.get_current_dir() {
        c.current_dir(d);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.stdin(Stdio::null());
    c
}

/// Panic unless `out` is a success, showing both streams.
#[track_caller]
pub fn check_ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({})\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The variable that moves mam's clock (src/clock.rs), for tests only.
pub const CLOCK_ENV: &str = "MAM_TEST_CLOCK_MS";

/// A free TCP port on 127.0.0.1 (free when asked; bind it soon).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A program on PATH or in the sbin directories, where Debian installs
/// `mosquitto` (often not on a user's PATH).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            [
                "/usr/sbin",
                "/usr/local/sbin",
                "/opt/homebrew/sbin",
                "/sbin",
            ]
            .map(PathBuf::from),
        )
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Whether the socket listening on 127.0.0.1:`port` belongs to `pid`
/// (None where /proc is not available), so that a connect never mistakes
/// another server for ours.
pub fn owns_listener(pid: u32, port: u16) -> Option<bool> {
    let tcp = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let want = format!(":{port:04X}");
    let inodes: Vec<String> = tcp
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // local_address, state 0A = LISTEN, inode is field 9.
            (f.len() > 9 && f[1].ends_with(&want) && f[3] == "0A").then(|| f[9].to_string())
        })
        .collect();
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    Some(fds.flatten().any(|fd| {
        std::fs::read_link(fd.path()).is_ok_and(|t| {
            let t = t.to_string_lossy();
            inodes.iter().any(|i| t == format!("socket:[{i}]"))
        })
    }))
}

/// A child process killed (SIGKILL) and reaped on drop unless it was waited
/// for: nothing a test or the bench starts outlives it, also on panic.
pub struct Reaped(pub Option<Child>);

impl Reaped {
    pub fn id(&self) -> u32 {
        self.0.as_ref().expect("child").id()
    }

    /// SIGTERM, then wait up to `within`; SIGKILL if it is still there.
    /// Returns the exit status, or None if it had to be killed.
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let mut child = self.0.take()?;
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                return Some(st);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Screen rules of the fake agent, shared by every fake profile (and the
/// bench's, and the demo's).
pub const FAKE_RULES: &str = include_str!("../../examples/fake_agent_rules.toml");

pub struct Env {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    /// The private tmux server's name (`tmux -L`), also `MAM_TMUX_SOCKET`.
    pub socket: String,
    pub logs: PathBuf,
    pub server: Tmux,
    /// How far mam's clock is moved (`advance`), in ms; 0: not moved.
    clock_offset: std::sync::atomic::AtomicI64,
    /// Variables set on every `mam` this Env runs (`set_env`).
    extra_env: std::sync::Mutex<Vec<(String, String)>>,
    /// Golden files this test (re)wrote under MAM_BLESS=1: it fails on drop.
    pub blessed: std::sync::Mutex<Vec<String>>,
    /// A program and its arguments every `mam` runs under (`run_under`),
    /// e.g. `ip netns exec NS`: the host lives in that network namespace.
    under: std::sync::Mutex<Vec<String>>,
}

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
        let server = Tmux::new("mam-test", &home);
        let env = Env {
            dir,
            root,
            home,
            socket: server.socket.clone(),
            logs,
            server,
            clock_offset: std::sync::atomic::AtomicI64::new(0),
            extra_env: Default::default(),
            blessed: Default::default(),
            under: Default::default(),
        };
        env.write_config("");
        env
    }

    /// The pre-commit hook mam installs for this workspace, exactly.
    pub fn lease_hook_script(&self) -> String {
        format!(
            "#!/bin/sh\n# mam: lease check (installed by `mam lease hook install`)\n\
             # Refuses a commit that touches a path another agent holds an exclusive\n\
             # lease on. Skip it once with `git commit --no-verify`.\n\
             exec {} --workspace {} lease check --staged\n",
            mam_bin().display(),
            self.root.display()
        )
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

    /// `mam` in this workspace (see `mam_command`), on mam's clock as
    /// `advance` moved it.
    pub fn cmd(&self) -> Command {
        let mut c = mam_command(&mam_bin(), &self.root, &self.server, &self.home);
        for (k, v) in self.extra_env.lock().unwrap().iter() {
            c.env(k, v);
        }
        let offset = self.clock_offset.load(Ordering::SeqCst);
        if offset != 0 {
            c.env(CLOCK_ENV, format!("+{offset}"));
        }
        let under = self.under.lock().unwrap();
        match under.split_first() {
            Some((program, args)) => run_under(&c, program, args),
            None => c,
        }
    }

    /// Run every later `mam` of this Env (its daemon too) as
    /// `PROGRAM ARGS… mam …`, with the same directory and environment.
    pub fn run_under(&self, program_and_args: &[&str]) {
        *self.under.lock().unwrap() = program_and_args.iter().map(|s| s.to_string()).collect();
    }

    /// Set `key` to `value` for every later `mam` this Env runs.
    pub fn set_env(&self, key: &str, value: &str) {
        self.extra_env
            .lock()
            .unwrap()
            .push((key.into(), value.into()));
    }

    /// Let `by` pass on mam's clock without waiting for it: every later
    /// `mam` run by this Env (and whatever it starts) sees the system
    /// clock plus everything advanced so far. The clock only moves forward.
    pub fn advance(&self, by: Duration) {
        self.clock_offset
            .fetch_add(by.as_millis() as i64, Ordering::SeqCst);
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
        self.server.run(args)
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
    /// The server goes first, before the temporary directory its panes use.
    fn drop(&mut self) {
        self.server.kill();
        golden::fail_if_blessed(self);
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
