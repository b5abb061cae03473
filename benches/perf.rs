//! `cargo bench --bench perf`: wall-clock costs of the `mam` binary, each
//! printed beside a floor measured in the same run (what the operation cannot
//! be faster than on this machine) and the ratio. See benches/README.md.
//!
//! Everything runs against a private tmux server (`-L mam-bench-<pid>`, killed
//! at the end and on panic), in temporary workspaces with a temporary HOME.
//! Nothing here asserts on timings: targets are printed as MET / MISSED.
//!
//! `MAM_BENCH_RUNS` (default 20) sets how many timed runs each figure takes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Startup delay given to the fake agent in the create benchmark.
const FAKE_STARTUP_MS: u64 = 500;
/// settle_ms of the fake profile (as in tests/cli/support.rs).
const FAKE_SETTLE_MS: u64 = 200;
/// Parallel `mam create` processes used to populate the status workspace.
const CREATE_PARALLELISM: usize = 8;
/// Job counts at which `mam status --json` is timed.
const STATUS_SIZES: [usize; 3] = [10, 100, 500];

/// Screen rules of the fake agent, as in tests/cli/support.rs (FAKE_RULES).
const FAKE_RULES: &str = r#"
new_session_args = ["--session-id", "{conversation_id}"]
ready = ['(?m)^> ?$', '(?m)^\? for shortcuts$']
busy = ['(?m)Working \(esc to interrupt\)$']
queued = ['Press up to edit queued messages']
error = ['(?m)^FATAL: .*$']
dialogs = [
  { name = "trust", match = 'Do you trust the files in this folder\?', keys = ["Enter"], refuse_if = '❯ *\d\. No, exit' },
  { name = "bypass", match = 'Bypass Permissions mode', keys = ["Enter"], refuse_if = '❯ *\d\. No, exit' },
]
conversation_id = 'conversation ([0-9a-f-]{36})'
exit = { text = "/exit" }
settle_ms = 200
submit_delay_ms = 150
"#;

// ---------------------------------------------------------------------------
// Locating the binaries
// ---------------------------------------------------------------------------

/// `target/<profile>/`, from the bench executable (`target/<profile>/deps/perf-…`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("bench executable lives in target/<profile>/deps/")
        .to_path_buf()
}

fn cargo_build(args: &[&str]) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("perf: running cargo build --release {}", args.join(" "));
    let status = Command::new(cargo)
        .args(["build", "--release", "--manifest-path"])
        .arg(&manifest)
        .args(args)
        .stdin(Stdio::null())
        .status()
        .expect("run cargo");
    assert!(
        status.success(),
        "`cargo build --release {}` failed; build it yourself and rerun `cargo bench --bench perf`",
        args.join(" ")
    );
}

/// The `mam` binary of this profile. Cargo builds the package's binaries for
/// benches and sets CARGO_BIN_EXE_mam; the path next to the bench executable
/// is the fallback.
fn mam_bin() -> PathBuf {
    let p = option_env!("CARGO_BIN_EXE_mam")
        .map(PathBuf::from)
        .unwrap_or_else(|| profile_dir().join("mam"));
    if !p.exists() {
        cargo_build(&["--bin", "mam"]);
    }
    assert!(
        p.exists(),
        "mam binary not found at {}: run `cargo build --release --bin mam`",
        p.display()
    );
    p
}

fn mtime(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// The fake agent example (`cargo bench` does not build examples): built with
/// `cargo build --release --example fake_agent` when missing or older than
/// its source.
fn fake_agent_bin() -> PathBuf {
    let p = profile_dir().join("examples").join("fake_agent");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fake_agent.rs");
    let stale = match (mtime(&p), mtime(&src)) {
        (Some(bin), Some(src)) => bin < src,
        (None, _) => true,
        _ => false,
    };
    if stale {
        cargo_build(&["--example", "fake_agent"]);
    }
    assert!(
        p.exists(),
        "fake agent not found at {}: run `cargo build --release --example fake_agent`",
        p.display()
    );
    p
}

fn require_tmux() -> String {
    let out = Command::new("tmux").arg("-V").output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => panic!("tmux is required: install it (e.g. `sudo apt-get install tmux`)"),
    }
}

// ---------------------------------------------------------------------------
// The bench environment: private tmux server, temp HOME, temp workspaces
// ---------------------------------------------------------------------------

struct Bench {
    dir: tempfile::TempDir,
    home: PathBuf,
    socket: String,
    mam: PathBuf,
    fake: PathBuf,
    runs: usize,
}

impl Drop for Bench {
    /// Kill the private tmux server, also when a measurement panics.
    fn drop(&mut self) {
        self.kill_server();
    }
}

impl Bench {
    fn new() -> Bench {
        let dir = tempfile::Builder::new()
            .prefix("mam-bench-")
            .tempdir()
            .expect("temp dir");
        let base = dir.path().canonicalize().unwrap();
        let home = base.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let runs = std::env::var("MAM_BENCH_RUNS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(20);
        Bench {
            home,
            socket: format!("mam-bench-{}", std::process::id()),
            mam: mam_bin(),
            fake: fake_agent_bin(),
            runs,
            dir,
        }
    }

    /// A fresh workspace directory (with a `.git` marker so discovery stops
    /// there) holding `config` as `.mam/config.toml` (none if empty).
    fn workspace(&self, name: &str, config: &str) -> PathBuf {
        let root = self.dir.path().canonicalize().unwrap().join(name);
        std::fs::create_dir_all(root.join(".git")).unwrap();
        if !config.is_empty() {
            std::fs::create_dir_all(root.join(".mam")).unwrap();
            std::fs::write(root.join(".mam/config.toml"), config).unwrap();
        }
        root
    }

    fn mam_cmd(&self, root: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(&self.mam);
        c.args(args)
            .current_dir(root)
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

    /// Run mam, panic unless it exits 0.
    fn mam_ok(&self, root: &Path, args: &[&str]) -> Output {
        let out = self.mam_cmd(root, args).output().expect("run mam");
        check_ok(&format!("mam {}", args.join(" ")), &out);
        out
    }

    fn tmux_cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket])
            .args(args)
            .env("HOME", &self.home)
            .env_remove("TMUX")
            .stdin(Stdio::null());
        c
    }

    /// Kill the private server and, once it is gone, remove its socket file
    /// (tmux leaves it behind; only the next client would clean it up).
    fn kill_server(&self) {
        let _ = self.tmux(&["kill-server"]);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            match self.tmux_cmd(&["list-sessions"]).output() {
                Ok(o) if o.status.success() => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = std::fs::remove_file(socket_path(&self.socket));
                    return;
                }
            }
        }
        eprintln!("perf: warning: tmux server -L {} did not exit", self.socket);
    }

    fn tmux(&self, args: &[&str]) -> Output {
        self.tmux_cmd(args).output().expect("run tmux")
    }

    fn tmux_ok(&self, args: &[&str]) -> String {
        let out = self.tmux(args);
        check_ok(&format!("tmux {}", args.join(" ")), &out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Wall time of one run of `cmd`, which must exit 0.
    fn time(&self, what: &str, mut cmd: Command) -> Duration {
        let t = Instant::now();
        let out = cmd.output().expect(what);
        let d = t.elapsed();
        check_ok(what, &out);
        d
    }

    /// One untimed warm-up run, then `runs` timed ones.
    fn sample(&self, what: &str, make: impl Fn() -> Command) -> Stat {
        self.time(what, make());
        Stat::of((0..self.runs).map(|_| self.time(what, make())).collect())
    }
}

/// Where tmux puts a `-L name` socket.
fn socket_path(name: &str) -> PathBuf {
    let uid = unsafe { libc::getuid() };
    let base = std::env::var_os("TMUX_TMPDIR").unwrap_or_else(|| "/tmp".into());
    PathBuf::from(base).join(format!("tmux-{uid}")).join(name)
}

fn check_ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({})\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------
// Statistics and reporting
// ---------------------------------------------------------------------------

/// Median and p90 (nearest rank) of a sample, in milliseconds.
#[derive(Clone, Debug)]
struct Stat {
    median: f64,
    p90: f64,
    samples: Vec<f64>,
}

impl Stat {
    fn of(ds: Vec<Duration>) -> Stat {
        Stat::of_ms(ds.iter().map(|d| d.as_secs_f64() * 1000.0).collect())
    }

    fn of_ms(mut v: Vec<f64>) -> Stat {
        assert!(!v.is_empty());
        v.sort_by(|a, b| a.total_cmp(b));
        let rank = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        let median = if v.len() % 2 == 1 {
            v[v.len() / 2]
        } else {
            (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
        };
        Stat {
            median,
            p90: rank(0.9),
            samples: v,
        }
    }

    fn json(&self) -> Value {
        json!({"median_ms": round2(self.median), "p90_ms": round2(self.p90),
               "runs": self.samples.len()})
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// One figure beside its floor.
struct Row {
    key: String,
    label: String,
    value: Stat,
    floor_label: String,
    floor: Stat,
    note: String,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.value.median / self.floor.median
    }
}

/// A target line: `value ≤ limit`.
struct Target {
    text: String,
    value: f64,
    limit: f64,
    unit: &'static str,
}

impl Target {
    fn met(&self) -> bool {
        self.value <= self.limit
    }
}

// ---------------------------------------------------------------------------
// 3. One-shot cost
// ---------------------------------------------------------------------------

fn bench_oneshot(b: &Bench, rows: &mut Vec<Row>) {
    eprintln!("perf: one-shot cost (mam status --json vs true)");
    let fresh = b.workspace("oneshot-fresh", "");
    let inited = b.workspace("oneshot-init", "");
    b.mam_ok(&inited, &["init"]);
    let floor = b.sample("true", || {
        let mut c = Command::new("true");
        c.stdin(Stdio::null());
        c
    });
    let fresh_s = b.sample("mam status --json (no .mam)", || {
        b.mam_cmd(&fresh, &["status", "--json"])
    });
    let init_s = b.sample("mam status --json (after init)", || {
        b.mam_cmd(&inited, &["status", "--json"])
    });
    rows.push(Row {
        key: "oneshot_status_no_workspace".into(),
        label: "status --json, no .mam/".into(),
        value: fresh_s,
        floor_label: "`true` (process spawn)".into(),
        floor: floor.clone(),
        note: "parse args + config + discovery, no registry, no tmux".into(),
    });
    rows.push(Row {
        key: "oneshot_status_empty_registry".into(),
        label: "status --json, after init, 0 jobs".into(),
        value: init_s,
        floor_label: "`true` (process spawn)".into(),
        floor,
        note: "adds SQLite open + key load + one tmux list-panes (no server)".into(),
    });
}

// ---------------------------------------------------------------------------
// 2. create-to-ready overhead
// ---------------------------------------------------------------------------

fn fake_argv(b: &Bench) -> Vec<String> {
    vec![
        b.fake.display().to_string(),
        "--startup-delay".into(),
        FAKE_STARTUP_MS.to_string(),
    ]
}

/// The fake's ready screen, by the same rules as FAKE_RULES' `ready`: a line
/// that is `>` (trailing space trimmed) and a line `? for shortcuts`.
fn fake_is_ready(screen: &str) -> bool {
    let lines: Vec<&str> = screen.lines().map(str::trim_end).collect();
    lines.contains(&">") && lines.contains(&"? for shortcuts")
}

/// Start the fake agent directly in a tmux session and poll its screen every
/// 5 ms until it is ready. Returns the time from starting the session.
fn fake_alone(b: &Bench, name: &str, argv: &[String]) -> Duration {
    let id = "00000000-0000-4000-8000-000000000000";
    let mut args: Vec<&str> = vec![
        "new-session",
        "-d",
        "-s",
        name,
        "-x",
        "200",
        "-y",
        "50",
        "-P",
        "-F",
        "#{pane_id}",
        "--",
    ];
    args.extend(argv.iter().map(String::as_str));
    args.extend(["--session-id", id]);
    let t = Instant::now();
    let pane = b.tmux_ok(&args).trim().to_string();
    let deadline = t + Duration::from_secs(30);
    loop {
        let screen = b.tmux_ok(&["capture-pane", "-p", "-t", &pane]);
        if fake_is_ready(&screen) {
            let d = t.elapsed();
            b.tmux_ok(&["kill-session", "-t", &format!("={name}")]);
            return d;
        }
        assert!(
            Instant::now() < deadline,
            "fake agent never became ready:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn bench_create(b: &Bench, rows: &mut Vec<Row>) {
    eprintln!("perf: create-to-ready (fake agent, --startup-delay {FAKE_STARTUP_MS})");
    let argv = fake_argv(b);
    let cmd_toml = argv
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let config = format!("[agents.fakebench]\ncmd = [{cmd_toml}]\n{FAKE_RULES}");
    let root = b.workspace("create", &config);
    // Keep the server up between runs so no run pays for starting it.
    b.tmux_ok(&[
        "new-session",
        "-d",
        "-s",
        "keepalive",
        "--",
        "sleep",
        "100000",
    ]);

    let create = |i: usize| -> Duration {
        let name = format!("c{i}");
        let d = b.time(
            "mam create",
            b.mam_cmd(&root, &["create", &name, "--agent", "fakebench", "-q"]),
        );
        b.tmux_ok(&["kill-session", "-t", &format!("=mam-{name}")]);
        d
    };
    // Warm-up (page cache, registry creation), then interleaved runs so both
    // sides see the same machine load.
    create(0);
    fake_alone(b, "f0", &argv);
    let mut mam_runs = Vec::new();
    let mut floor_runs = Vec::new();
    for i in 1..=b.runs {
        mam_runs.push(create(i));
        floor_runs.push(fake_alone(b, &format!("f{i}"), &argv));
    }
    let diffs: Vec<f64> = mam_runs
        .iter()
        .zip(&floor_runs)
        .map(|(m, f)| (m.as_secs_f64() - f.as_secs_f64()) * 1000.0)
        .collect();
    let overhead = Stat::of_ms(diffs.clone());
    let excl = Stat::of_ms(diffs.iter().map(|d| d - FAKE_SETTLE_MS as f64).collect());
    let floor = Stat::of(floor_runs);
    let floor_label = "fake alone → ready (5 ms polls)".to_string();
    rows.push(Row {
        key: "create_to_ready".into(),
        label: format!("create → ready (fake, {FAKE_STARTUP_MS} ms start)"),
        value: Stat::of(mam_runs),
        floor_label: floor_label.clone(),
        floor: floor.clone(),
        note: "whole `mam create` process, blocking until ready".into(),
    });
    rows.push(Row {
        key: "create_overhead".into(),
        label: "create overhead (create − floor)".into(),
        value: overhead,
        floor_label: floor_label.clone(),
        floor: floor.clone(),
        note: format!("pairwise per run; includes settle_ms = {FAKE_SETTLE_MS}"),
    });
    rows.push(Row {
        key: "create_overhead_excl_settle".into(),
        label: "create overhead − settle_ms".into(),
        value: excl,
        floor_label,
        floor,
        note: "probe polling (40 ms), spawns, registry writes".into(),
    });

    // The start alone, without the readiness wait: `mam create --no-wait`
    // against the bare `tmux new-session` it wraps.
    let mut nowait = Vec::new();
    let mut bare = Vec::new();
    for i in 0..=b.runs {
        let name = format!("s{i}");
        let d = b.time(
            "mam create --no-wait",
            b.mam_cmd(
                &root,
                &["create", &name, "--agent", "fakebench", "--no-wait", "-q"],
            ),
        );
        b.tmux_ok(&["kill-session", "-t", &format!("=mam-{name}")]);
        let name = format!("g{i}");
        let mut args: Vec<&str> = vec![
            "new-session",
            "-d",
            "-s",
            &name,
            "-x",
            "200",
            "-y",
            "50",
            "-P",
            "-F",
            "#{pane_id}",
            "--",
        ];
        args.extend(argv.iter().map(String::as_str));
        let f = b.time("tmux new-session", b.tmux_cmd(&args));
        b.tmux_ok(&["kill-session", "-t", &format!("={name}")]);
        if i > 0 {
            // Run 0 is the warm-up.
            nowait.push(d);
            bare.push(f);
        }
    }
    rows.push(Row {
        key: "create_no_wait".into(),
        label: "create --no-wait (fake)".into(),
        value: Stat::of(nowait),
        floor_label: "tmux new-session -d (same argv)".into(),
        floor: Stat::of(bare),
        note: "start cost alone: tmux -V, registry, lock, new-session, 2 writes".into(),
    });
    b.kill_server();
}

// ---------------------------------------------------------------------------
// 1. status at 10, 100 and 500 jobs
// ---------------------------------------------------------------------------

fn populate(b: &Bench, root: &Path, from: usize, to: usize) {
    let t = Instant::now();
    let next = Arc::new(AtomicUsize::new(from));
    std::thread::scope(|s| {
        for _ in 0..CREATE_PARALLELISM {
            let next = next.clone();
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= to {
                        break;
                    }
                    let name = format!("j{i}");
                    b.mam_ok(
                        root,
                        &["create", &name, "--agent", "sleeper", "--no-wait", "-q"],
                    );
                }
            });
        }
    });
    eprintln!(
        "perf:   created jobs {from}..{to} in {:.1} s ({CREATE_PARALLELISM} in parallel)",
        t.elapsed().as_secs_f64()
    );
}

fn bench_status(b: &Bench, rows: &mut Vec<Row>) {
    eprintln!("perf: status --json at {STATUS_SIZES:?} jobs");
    let config = "[agents.sleeper]\ncmd = [\"sleep\", \"100000\"]\nready = ['^']\n";
    let root = b.workspace("status", config);
    let mut have = 0;
    for n in STATUS_SIZES {
        populate(b, &root, have, n);
        have = n;
        // Sanity: status sees every job, each with a live pane.
        let out = b.mam_ok(&root, &["status", "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout).expect("status prints JSON");
        let jobs = v["jobs"].as_array().expect("jobs array");
        assert_eq!(jobs.len(), n, "status should list {n} jobs");
        let lost = jobs.iter().filter(|j| j["state"] == "lost").count();
        assert_eq!(lost, 0, "no job should be lost");

        let floor = b.sample("tmux list-panes", || {
            b.tmux_cmd(&["list-panes", "-a", "-F", "#{pane_id}"])
        });
        let status = b.sample("mam status --json", || {
            b.mam_cmd(&root, &["status", "--json"])
        });
        rows.push(Row {
            key: format!("status_json_{n}"),
            label: format!("status --json, {n} jobs"),
            value: status,
            floor_label: "list-panes -a -F '#{pane_id}'".into(),
            floor,
            note: String::new(),
        });
        if n == *STATUS_SIZES.last().unwrap() {
            // The same list-panes call mam makes (8 fields), for the analysis.
            let fmt = "#{pane_id}\t#{pane_pid}\t#{pane_dead}\t#{pane_dead_status}\t#{@mam_ws}\t#{@mam_job}\t#{window_activity}\t#{session_name}";
            let full = b.sample("tmux list-panes (mam format)", || {
                b.tmux_cmd(&["list-panes", "-a", "-F", fmt])
            });
            let status = rows.last().unwrap().value.clone();
            rows.push(Row {
                key: format!("status_json_{n}_vs_mam_format"),
                label: format!("status --json, {n} jobs"),
                value: status,
                floor_label: "list-panes -a, mam's 8-field -F".into(),
                floor: full,
                note: "same status runs, stricter floor".into(),
            });
        }
    }
    b.kill_server();
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

fn print_table(rows: &[Row]) {
    let header = [
        "figure",
        "median",
        "p90",
        "floor",
        "floor med",
        "floor p90",
        "ratio",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.label.clone(),
                format!("{:.1} ms", r.value.median),
                format!("{:.1} ms", r.value.p90),
                r.floor_label.clone(),
                format!("{:.1} ms", r.floor.median),
                format!("{:.1} ms", r.floor.p90),
                format!("{:.2}×", r.ratio()),
            ]
        })
        .collect();
    let mut w = header.map(|h| h.chars().count());
    for c in &cells {
        for (i, s) in c.iter().enumerate() {
            w[i] = w[i].max(s.chars().count());
        }
    }
    let line = |c: &[String]| {
        let mut s = String::new();
        for (i, x) in c.iter().enumerate() {
            let pad = w[i] - x.chars().count();
            if i == 0 || i == 3 {
                s.push_str(x);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str(&" ".repeat(pad));
                s.push_str(x);
            }
            s.push_str("  ");
        }
        s.trim_end().to_string()
    };
    println!();
    println!("{}", line(&header.map(String::from)));
    println!(
        "{}",
        w.iter()
            .map(|n| "-".repeat(*n))
            .collect::<Vec<_>>()
            .join("  ")
    );
    for c in &cells {
        println!("{}", line(c));
    }
    println!();
    for r in rows.iter().filter(|r| !r.note.is_empty()) {
        println!("  {}: {}", r.label, r.note);
    }
}

fn main() {
    // `cargo bench` passes `--bench`; there are no options, so it is ignored.
    let tmux_version = require_tmux();
    let b = Bench::new();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    eprintln!(
        "perf: {} runs per figure, {cores} cores, {tmux_version}, tmux -L {}\nperf: mam = {}\nperf: fake agent = {}",
        b.runs,
        b.socket,
        b.mam.display(),
        b.fake.display()
    );
    let started = Instant::now();
    let mut rows = Vec::new();
    bench_oneshot(&b, &mut rows);
    bench_create(&b, &mut rows);
    bench_status(&b, &mut rows);

    let get = |k: &str| rows.iter().find(|r| r.key == k).expect(k);
    let s500 = get("status_json_500");
    let ov = get("create_overhead");
    let ov_ex = get("create_overhead_excl_settle");
    let targets = [
        Target {
            text: "status --json at 500 jobs, median".into(),
            value: s500.value.median,
            limit: 50.0,
            unit: "ms",
        },
        Target {
            text: "status --json at 500 jobs / list-panes, median ratio".into(),
            value: s500.ratio(),
            limit: 10.0,
            unit: "×",
        },
        Target {
            text: format!("create overhead incl. settle_ms ({FAKE_SETTLE_MS}), median"),
            value: ov.value.median,
            limit: 150.0,
            unit: "ms",
        },
        Target {
            text: "create overhead excl. settle_ms, median".into(),
            value: ov_ex.value.median,
            limit: 150.0,
            unit: "ms",
        },
    ];

    print_table(&rows);
    println!();
    for t in &targets {
        println!(
            "target: {} ≤ {}{u} … {:.1}{u} {}",
            t.text,
            t.limit,
            t.value,
            if t.met() { "MET" } else { "MISSED" },
            u = t.unit
        );
    }
    let total = started.elapsed();
    println!(
        "\n(total {:.0} s, {} runs per figure)",
        total.as_secs_f64(),
        b.runs
    );

    let doc = json!({
        "runs": b.runs,
        "cores": cores,
        "tmux": tmux_version,
        "total_s": round2(total.as_secs_f64()),
        "figures": rows.iter().map(|r| json!({
            "key": r.key,
            "label": r.label,
            "value": r.value.json(),
            "floor": {"label": r.floor_label, "stat": r.floor.json()},
            "ratio": round2(r.ratio()),
            "note": r.note,
        })).collect::<Vec<_>>(),
        "targets": targets.iter().map(|t| json!({
            "text": t.text,
            "limit": t.limit,
            "value": round2(t.value),
            "unit": t.unit,
            "met": t.met(),
        })).collect::<Vec<_>>(),
    });
    let out = profile_dir().parent().map_or_else(
        || PathBuf::from("bench-results.json"),
        |t| t.join("bench-results.json"),
    );
    std::fs::write(&out, serde_json::to_string_pretty(&doc).unwrap() + "\n")
        .expect("write bench results");
    println!("results written to {}", out.display());
    // `b` drops here: the private tmux server is killed.
}
