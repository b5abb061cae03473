//! `cargo bench --bench perf`: wall-clock costs of the `mam` binary, each
//! printed beside a floor measured in the same run (what the operation cannot
//! be faster than on this machine) and the ratio. See benches/README.md.
//!
//! Everything runs against a private tmux server (`-L mam-bench-<pid>`, killed
//! at the end and on panic), in temporary workspaces with a temporary HOME.
//! The publishing figures also start a private Mosquitto on a free
//! 127.0.0.1 port and a counting `mosquitto_sub`, and use a Python venv in
//! `target/bench-venv` (paho-mqtt); the daemon figure starts
//! `mam reconcile --interval 1`. Every such process is held by a guard that
//! kills it on drop, also on panic. Missing Mosquitto or paho-mqtt makes
//! those figures print SKIPPED with the reason.
//! Nothing here asserts on timings: targets are printed as MET / MISSED.
//!
//! `MAM_BENCH_ONLY=mcp` runs only the MCP figures (send tool call, server start);
//! `MAM_BENCH_ONLY=dash` only the dashboard's (CPU per frame, idle CPU, RSS at
//! 500 jobs); `MAM_BENCH_ONLY=fleet` only the cross-host sends (to `job@host`
//! → delivered there and its receipt back, beside a local send;
//! benches/perf/fleet.rs); `MAM_BENCH_ONLY=fleet-status` `status --fleet` over 3 × 100
//! jobs and a daemon's RSS with 500 remote jobs (benches/perf/fleet_status.rs).
//! `MAM_BENCH_RUNS` (default 20) sets how many timed runs each figure takes;
//! `MAM_BENCH_SENDS` (default 100) how many sends each of the 32 concurrent
//! processes makes in the messaging load figure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

// The harness the tests use: private tmux server, mam's environment, the
// fake agent's rules, Mosquitto, process guards.
#[path = "../tests/support/mod.rs"]
mod support;

#[path = "perf/fleet.rs"]
mod fleet;
#[path = "perf/fleet_status.rs"]
mod fleet_status;

use support::broker::Broker;
use support::mcp::McpClient;
use support::{FAKE_RULES, Reaped, Tmux, check_ok, find_program, require_tmux};

/// Startup delay given to the fake agent in the create benchmark.
const FAKE_STARTUP_MS: u64 = 500;
/// settle_ms of the fake profile (examples/fake_agent_rules.toml).
const FAKE_SETTLE_MS: u64 = 200;
/// Parallel `mam create` processes used to populate the status workspace.
const CREATE_PARALLELISM: usize = 8;
/// Job counts at which `mam status --json` is timed.
const STATUS_SIZES: [usize; 3] = [10, 100, 500];
/// submit_delay_ms of the fake profiles (as fake-plain in tests/support/mod.rs).
const FAKE_SUBMIT_DELAY_MS: u64 = 150;
/// Concurrent `mam send` processes in the messaging load figure.
const LOAD_PROCS: usize = 32;
/// Default sends per process in the load figure (`MAM_BENCH_SENDS`).
const LOAD_SENDS: usize = 100;

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

/// The `mam` binary of this profile (cargo builds the package's binaries
/// for benches); built when missing.
fn mam_bin() -> PathBuf {
    let p = support::mam_bin();
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

/// An example binary (`cargo bench` does not build examples): built with
/// `cargo build --release --example NAME` when missing or older than its
/// source.
fn example_bin(name: &str) -> PathBuf {
    let p = support::example_path(name);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}.rs"));
    let stale = match (mtime(&p), mtime(&src)) {
        (Some(bin), Some(src)) => bin < src,
        (None, _) => true,
        _ => false,
    };
    if stale {
        cargo_build(&["--example", name]);
    }
    assert!(
        p.exists(),
        "{name} not found at {}: run `cargo build --release --example {name}`",
        p.display()
    );
    p
}

// ---------------------------------------------------------------------------
// The bench environment: private tmux server, temp HOME, temp workspaces
// ---------------------------------------------------------------------------

struct Bench {
    /// The private tmux server (`-L mam-bench-<pid>`); first, so that it is
    /// killed before the temporary directory goes.
    tmux: Tmux,
    dir: tempfile::TempDir,
    home: PathBuf,
    mam: PathBuf,
    fake: PathBuf,
    floor_commit: PathBuf,
    runs: usize,
    sends: usize,
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
        let sends = std::env::var("MAM_BENCH_SENDS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(LOAD_SENDS);
        Bench {
            tmux: Tmux::named(format!("mam-bench-{}", std::process::id()), &home),
            home,
            mam: mam_bin(),
            fake: example_bin("fake_agent"),
            floor_commit: example_bin("floor_commit"),
            runs,
            sends,
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
        let mut c = support::mam_command(&self.mam, root, &self.tmux, &self.home);
        c.args(args);
        c
    }

    /// Run mam, panic unless it exits 0.
    fn mam_ok(&self, root: &Path, args: &[&str]) -> Output {
        let out = self.mam_cmd(root, args).output().expect("run mam");
        check_ok(&format!("mam {}", args.join(" ")), &out);
        out
    }

    fn tmux_cmd(&self, args: &[&str]) -> Command {
        self.tmux.cmd(args)
    }

    fn kill_server(&self) {
        self.tmux.kill();
    }

    fn tmux_ok(&self, args: &[&str]) -> String {
        self.tmux.ok(args)
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

    /// Nearest-rank percentile, `q` in (0, 1].
    fn pct(&self, q: f64) -> f64 {
        let v = &self.samples;
        v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
    }

    /// Every sample shifted by `-ms`.
    fn minus(&self, ms: f64) -> Stat {
        Stat::of_ms(self.samples.iter().map(|x| x - ms).collect())
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

/// A target line: `value ≤ limit`, or `value ≥ limit` when `at_least`.
/// A skipped target (its figure could not be measured) carries the reason
/// and no value.
struct Target {
    text: String,
    value: f64,
    limit: f64,
    unit: &'static str,
    at_least: bool,
    skipped: Option<String>,
}

impl Target {
    fn met(&self) -> bool {
        if self.skipped.is_some() {
            return false;
        }
        if self.at_least {
            self.value >= self.limit
        } else {
            self.value <= self.limit
        }
    }

    fn at_most(text: impl Into<String>, value: f64, limit: f64, unit: &'static str) -> Target {
        Target {
            text: text.into(),
            value,
            limit,
            unit,
            at_least: false,
            skipped: None,
        }
    }

    fn at_least(text: impl Into<String>, value: f64, limit: f64, unit: &'static str) -> Target {
        Target {
            at_least: true,
            ..Target::at_most(text, value, limit, unit)
        }
    }

    /// A target whose figure was not measured, with the reason.
    fn skipped(
        text: impl Into<String>,
        at_least: bool,
        limit: f64,
        unit: &'static str,
        why: String,
    ) -> Target {
        Target {
            at_least,
            skipped: Some(why),
            ..Target::at_most(text, f64::NAN, limit, unit)
        }
    }

    fn line(&self) -> String {
        let cmp = if self.at_least { "≥" } else { "≤" };
        let u = self.unit;
        match &self.skipped {
            Some(why) => format!(
                "target: {} {cmp} {}{u} … SKIPPED ({why})",
                self.text, self.limit
            ),
            None => format!(
                "target: {} {cmp} {}{u} … {:.1}{u} {}",
                self.text,
                self.limit,
                self.value,
                if self.met() { "MET" } else { "MISSED" }
            ),
        }
    }

    fn json(&self) -> Value {
        json!({
            "text": self.text,
            "cmp": if self.at_least { ">=" } else { "<=" },
            "limit": self.limit,
            "value": if self.skipped.is_some() { Value::Null } else { json!(round2(self.value)) },
            "unit": self.unit,
            "met": if self.skipped.is_some() { Value::Null } else { json!(self.met()) },
            "skipped": self.skipped,
        })
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
// Lease check in a pre-commit hook
// ---------------------------------------------------------------------------

/// Active leases and staged files in the lease check figure.
const LEASES: usize = 1000;
const STAGED: usize = 100;
/// Lease holders (jobs): `h0` checks, `h1`… hold the rest.
const LEASE_HOLDERS: usize = 10;

/// `git ARGS` in `root`, which must succeed.
fn git_in(root: &Path, args: &[&str]) -> Output {
    let out = Command::new("git")
        .current_dir(root)
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.invalid",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::null())
        .output()
        .expect("git is required: install it (e.g. `sudo apt-get install git`)");
    check_ok(&format!("git {}", args.join(" ")), &out);
    out
}

/// `mam lease check --staged` with LEASES active leases and STAGED staged
/// files, as the pre-commit hook runs it, beside the git call it makes
/// alone and the bare start of `mam --version`.
fn bench_lease(b: &Bench, rows: &mut Vec<Row>) {
    eprintln!("perf: lease check --staged ({LEASES} leases, {STAGED} staged files)");
    let root = b.dir.path().canonicalize().unwrap().join("lease");
    std::fs::create_dir_all(root.join("src")).unwrap();
    git_in(&root, &["init", "-q"]);
    for i in 0..STAGED {
        std::fs::write(root.join(format!("src/f{i}.rs")), format!("// {i}\n")).unwrap();
    }
    git_in(&root, &["add", "src"]);
    for h in 0..LEASE_HOLDERS {
        b.mam_ok(
            &root,
            &[
                "create",
                "-q",
                &format!("h{h}"),
                "--agent",
                "shell",
                "--no-wait",
            ],
        );
    }
    // h0 holds src/** itself (its own lease never blocks it); the others
    // hold literal paths, one-segment globs and `**` globs elsewhere.
    let mut own = b.mam_cmd(&root, &["lease", "-q", "src/**"]);
    own.env("MAM_AGENT", "h0");
    check_ok("mam lease src/**", &own.output().unwrap());
    let per = (LEASES - 1).div_ceil(LEASE_HOLDERS - 1);
    let mut made = 1;
    for h in 1..LEASE_HOLDERS {
        let n = per.min(LEASES - made);
        let pats: Vec<String> = (0..n)
            .map(|k| match k % 10 {
                0..=5 => format!("pkg{h}/f{k}.rs"),
                6..=8 => format!("pkg{h}/m{k}/*.rs"),
                _ => format!("pkg{h}/d{k}/**"),
            })
            .collect();
        let mut args = vec!["lease", "-q", "--ttl", "1d"];
        args.extend(pats.iter().map(String::as_str));
        let mut c = b.mam_cmd(&root, &args);
        c.env("MAM_AGENT", format!("h{h}"));
        check_ok("mam lease …", &c.output().unwrap());
        made += n;
    }
    let out = b.mam_ok(&root, &["leases", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["leases"].as_array().map_or(0, Vec::len), LEASES);
    let check = || {
        let mut c = b.mam_cmd(&root, &["lease", "check", "--staged"]);
        c.env("MAM_AGENT", "h0");
        c
    };
    // The figure checks what it should: a real conflict is found.
    let mut probe = b.mam_cmd(&root, &["lease", "check", "--staged"]);
    probe.env("MAM_AGENT", "h1");
    let out = probe.output().unwrap();
    assert_eq!(out.status.code(), Some(4), "h1 must be refused src/**");
    let value = b.sample("mam lease check --staged", check);
    let git = b.sample("git diff --cached --name-only -z", || {
        let mut c = Command::new("git");
        c.current_dir(&root)
            .args([
                "diff",
                "--cached",
                "--name-only",
                "--no-renames",
                "--no-relative",
                "-z",
                "--no-ext-diff",
            ])
            .stdin(Stdio::null());
        c
    });
    let version = b.sample("mam --version", || b.mam_cmd(&root, &["--version"]));
    rows.push(Row {
        key: "lease_check_staged".into(),
        label: format!("lease check --staged, {LEASES} leases, {STAGED} staged"),
        value: value.clone(),
        floor_label: "the git call alone".into(),
        floor: git,
        note: "registry open + leases read + the pattern walk + git diff --cached".into(),
    });
    rows.push(Row {
        key: "lease_check_staged_vs_start".into(),
        label: format!("lease check --staged, {LEASES} leases, {STAGED} staged"),
        value,
        floor_label: "`mam --version` (bare start)".into(),
        floor: version,
        note: "the same runs against mam's own start-up".into(),
    });
}

fn lease_target(rows: &[Row]) -> Target {
    let r = rows
        .iter()
        .find(|r| r.key == "lease_check_staged")
        .expect("lease figure");
    Target::at_most(
        format!("lease check --staged, {LEASES} leases, {STAGED} staged files, median"),
        r.value.median,
        20.0,
        "ms",
    )
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
    let mut argv = argv.to_vec();
    argv.extend([
        "--session-id".into(),
        "00000000-0000-4000-8000-000000000000".into(),
    ]);
    let t = Instant::now();
    start_fake_session(b, name, &argv);
    let d = t.elapsed();
    b.tmux_ok(&["kill-session", "-t", &format!("={name}")]);
    d
}

fn bench_create(b: &Bench, rows: &mut Vec<Row>) {
    eprintln!("perf: create-to-ready (fake agent, --startup-delay {FAKE_STARTUP_MS})");
    let argv = fake_argv(b);
    let cmd_toml = argv
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let config = format!(
        "[agents.fakebench]\ncmd = [{cmd_toml}]\n{FAKE_RULES}submit_delay_ms = {FAKE_SUBMIT_DELAY_MS}\n"
    );
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

/// Returns the reconcile daemon's memory at the largest size.
fn bench_status(b: &Bench, rows: &mut Vec<Row>) -> DaemonMem {
    eprintln!("perf: status --json and reconcile --once at {STATUS_SIZES:?} jobs");
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
        // status re-reads a pane that drew until its screen has settled
        // (window_activity has one-second resolution): measure the steady
        // state, with nothing drawn since the last look.
        std::thread::sleep(Duration::from_millis(1500));
        b.mam_ok(&root, &["status", "--json"]);

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
        bench_reconcile_once(b, &root, n, rows);
    }
    let mem = daemon_memory(b, &root, *STATUS_SIZES.last().unwrap());
    b.kill_server();
    mem
}

// ---------------------------------------------------------------------------
// 6. worktrees: status at 100 jobs with and without, create --worktree
// ---------------------------------------------------------------------------

/// Jobs in the worktree status figure.
const WORKTREE_JOBS: usize = 100;
/// Tracked files in the bench repository.
const WORKTREE_FILES: usize = 50;

/// git with the bench's HOME, no system config and a fixed identity.
fn git_cmd(b: &Bench, dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("git");
    c.arg("-C")
        .arg(dir)
        .args(args)
        .env("HOME", &b.home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.invalid")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.invalid")
        .stdin(Stdio::null());
    c
}

fn git_ok(b: &Bench, dir: &Path, args: &[&str]) {
    let out = git_cmd(b, dir, args).output().expect("git is required");
    check_ok(&format!("git {}", args.join(" ")), &out);
}

/// A git repository on `main` with WORKTREE_FILES files in one commit,
/// holding `config` as `.mam/config.toml`.
fn git_workspace(b: &Bench, name: &str, config: &str) -> PathBuf {
    let root = b.dir.path().canonicalize().unwrap().join(name);
    std::fs::create_dir_all(root.join("src")).unwrap();
    for i in 0..WORKTREE_FILES {
        std::fs::write(root.join(format!("src/f{i}.txt")), format!("file {i}\n")).unwrap();
    }
    std::fs::write(root.join(".gitignore"), ".mam/\n").unwrap();
    git_ok(b, &root, &["init", "-q", "-b", "main"]);
    git_ok(b, &root, &["add", "."]);
    git_ok(b, &root, &["commit", "-q", "-m", "bench"]);
    std::fs::create_dir_all(root.join(".mam")).unwrap();
    std::fs::write(root.join(".mam/config.toml"), config).unwrap();
    root
}

fn bench_worktrees(b: &Bench, rows: &mut Vec<Row>) {
    eprintln!(
        "perf: worktrees: status --json at {WORKTREE_JOBS} jobs with and without, create --worktree"
    );
    let config = "[agents.sleeper]\ncmd = [\"sleep\", \"100000\"]\nready = ['^']\n";
    let with = git_workspace(b, "wt-with", config);
    // Its own session prefix: both workspaces share the tmux server.
    let without = git_workspace(
        b,
        "wt-without",
        &format!("[tmux]\nprefix = \"mo-\"\n{config}"),
    );
    b.tmux_ok(&[
        "new-session",
        "-d",
        "-s",
        "keepalive",
        "--",
        "sleep",
        "100000",
    ]);
    let t = Instant::now();
    for i in 0..WORKTREE_JOBS {
        let name = format!("w{i}");
        b.mam_ok(
            &with,
            &[
                "create",
                &name,
                "--agent",
                "sleeper",
                "--worktree",
                "--no-wait",
                "-q",
            ],
        );
        b.mam_ok(
            &without,
            &["create", &name, "--agent", "sleeper", "--no-wait", "-q"],
        );
    }
    eprintln!(
        "perf:   created {WORKTREE_JOBS} + {WORKTREE_JOBS} jobs in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    // Some work in a third of them: a commit, and a changed file.
    for i in (0..WORKTREE_JOBS).step_by(3) {
        let dir = with.join(format!(".mam/worktrees/w{i}"));
        std::fs::write(dir.join("src/f0.txt"), "changed\n").unwrap();
        git_ok(b, &dir, &["commit", "-q", "-am", "work"]);
        std::fs::write(dir.join("src/f1.txt"), "dirty\n").unwrap();
    }
    let out = b.mam_ok(&with, &["status", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let jobs = v["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), WORKTREE_JOBS);
    assert_eq!(jobs[0]["worktree"]["ahead"], 1, "{}", jobs[0]);
    assert_eq!(jobs[0]["worktree"]["dirty"], 1, "{}", jobs[0]);
    assert_eq!(jobs[1]["worktree"]["dirty"], 0, "{}", jobs[1]);
    std::thread::sleep(Duration::from_millis(1500));
    b.mam_ok(&with, &["status", "--json"]);
    b.mam_ok(&without, &["status", "--json"]);
    // Interleaved, so both see the same machine load.
    let (mut w, mut wo, mut g) = (Vec::new(), Vec::new(), Vec::new());
    let dirs: Vec<PathBuf> = (0..WORKTREE_JOBS)
        .map(|i| with.join(format!(".mam/worktrees/w{i}")))
        .collect();
    for i in 0..=b.runs {
        let a = b.time(
            "mam status --json (worktrees)",
            b.mam_cmd(&with, &["status", "--json"]),
        );
        let c = b.time(
            "mam status --json (no worktrees)",
            b.mam_cmd(&without, &["status", "--json"]),
        );
        // The git part alone: the same status calls, 16 at a time.
        let t = Instant::now();
        for chunk in dirs.chunks(16) {
            let children: Vec<_> = chunk
                .iter()
                .map(|d| {
                    git_cmd(
                        b,
                        d,
                        &[
                            "--no-optional-locks",
                            "status",
                            "--porcelain=v2",
                            "--branch",
                            "-z",
                            "--untracked-files=all",
                        ],
                    )
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap()
                })
                .collect();
            for mut ch in children {
                assert!(ch.wait().unwrap().success());
            }
        }
        let gd = t.elapsed();
        if i > 0 {
            w.push(a);
            wo.push(c);
            g.push(gd);
        }
    }
    let with_s = Stat::of(w);
    rows.push(Row {
        key: format!("status_json_{WORKTREE_JOBS}_worktrees"),
        label: format!("status --json, {WORKTREE_JOBS} jobs with worktrees"),
        value: with_s.clone(),
        floor_label: "the same without worktrees".into(),
        floor: Stat::of(wo),
        note: format!("{WORKTREE_FILES} files each; a third with a commit and a changed file"),
    });
    rows.push(Row {
        key: format!("status_json_{WORKTREE_JOBS}_worktrees_vs_git"),
        label: format!("status --json, {WORKTREE_JOBS} jobs with worktrees"),
        value: with_s,
        floor_label: format!("{WORKTREE_JOBS} × git status, 16 at a time"),
        floor: Stat::of(g),
        note: String::new(),
    });

    // create --worktree beyond create and `git worktree add` alone.
    let (mut plain, mut wt, mut add) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..=b.runs {
        let p = b.time(
            "mam create --no-wait",
            b.mam_cmd(
                &without,
                &[
                    "create",
                    &format!("p{i}"),
                    "--agent",
                    "sleeper",
                    "--no-wait",
                    "-q",
                ],
            ),
        );
        let c = b.time(
            "mam create --worktree --no-wait",
            b.mam_cmd(
                &with,
                &[
                    "create",
                    &format!("c{i}"),
                    "--agent",
                    "sleeper",
                    "--worktree",
                    "--no-wait",
                    "-q",
                ],
            ),
        );
        let path = with.join(format!(".mam/worktrees/g{i}"));
        let a = b.time(
            "git worktree add",
            git_cmd(
                b,
                &with,
                &[
                    "worktree",
                    "add",
                    "-q",
                    "-b",
                    &format!("g{i}"),
                    &path.display().to_string(),
                    "main",
                ],
            ),
        );
        for s in [format!("=mo-p{i}"), format!("=mam-c{i}")] {
            b.tmux_ok(&["kill-session", "-t", &s]);
        }
        if i > 0 {
            plain.push(p);
            wt.push(c);
            add.push(a);
        }
    }
    let over: Vec<f64> = wt
        .iter()
        .zip(&plain)
        .zip(&add)
        .map(|((w, p), a)| (w.as_secs_f64() - p.as_secs_f64() - a.as_secs_f64()) * 1000.0)
        .collect();
    let add = Stat::of(add);
    rows.push(Row {
        key: "create_worktree".into(),
        label: "create --worktree --no-wait".into(),
        value: Stat::of(wt),
        floor_label: "create --no-wait".into(),
        floor: Stat::of(plain),
        note: String::new(),
    });
    rows.push(Row {
        key: "create_worktree_overhead".into(),
        label: "create --worktree − create − git worktree add".into(),
        value: Stat::of_ms(over),
        floor_label: "git worktree add alone".into(),
        floor: add,
        note: "pairwise per run: mam's own work for a worktree (checks, root, record)".into(),
    });
    b.kill_server();
}

/// The worktree targets (when bench_worktrees ran).
fn worktree_targets(rows: &[Row]) -> Vec<Target> {
    let find = |k: &str| rows.iter().find(|r| r.key == k);
    let mut t = Vec::new();
    if let Some(r) = find(&format!("status_json_{WORKTREE_JOBS}_worktrees")) {
        t.push(Target::at_most(
            format!("status --json at {WORKTREE_JOBS} jobs with worktrees / without, median ratio"),
            r.ratio(),
            3.0,
            "×",
        ));
    }
    if let Some(r) = find("create_worktree_overhead") {
        t.push(Target::at_most(
            "create --worktree overhead beyond git worktree add, median",
            r.value.median,
            50.0,
            "ms",
        ));
    }
    t
}

// ---------------------------------------------------------------------------
// 5. reconcile at 10, 100 and 500 sessions; the daemon's memory at 500
// ---------------------------------------------------------------------------

/// `mam reconcile --once --json` in `root`: the pass report.
fn reconcile_report(b: &Bench, root: &Path) -> Value {
    let out = b.mam_ok(root, &["reconcile", "--once", "--json"]);
    serde_json::from_slice(&out.stdout).expect("reconcile --once --json prints JSON")
}

/// Whether a pass report says "nothing to do" (the `lines()` of
/// src/reconcile.rs: no drift, no adoption, no delivery, nothing published).
fn nothing_to_do(r: &Value) -> bool {
    let empty = |k: &str| r[k].as_array().is_some_and(Vec::is_empty);
    empty("drift") && empty("deliveries") && empty("adopted") && r["publish_error"].is_null()
}

/// `mam reconcile --once` (no broker) with `n` live sleeper sessions and
/// nothing to do, beside one `tmux list-panes -a` on the same server.
fn bench_reconcile_once(b: &Bench, root: &Path, n: usize, rows: &mut Vec<Row>) {
    // The jobs just created are `starting`: the first pass sees their screens
    // and records them ready. Settle, then require a pass with nothing to do.
    let mut settled = false;
    for _ in 0..3 {
        if nothing_to_do(&reconcile_report(b, root)) {
            settled = true;
            break;
        }
    }
    assert!(
        settled,
        "reconcile --once at {n} sessions still has work after 3 passes: {}",
        reconcile_report(b, root)
    );
    let floor = b.sample("tmux list-panes -a", || b.tmux_cmd(&["list-panes", "-a"]));
    let once = b.sample("mam reconcile --once", || {
        b.mam_cmd(root, &["reconcile", "--once"])
    });
    let after = reconcile_report(b, root);
    assert!(
        nothing_to_do(&after),
        "reconcile --once at {n} sessions found work after the timed runs: {after}"
    );
    rows.push(Row {
        key: format!("reconcile_once_{n}"),
        label: format!("reconcile --once, {n} sessions, idle"),
        value: once,
        floor_label: "list-panes -a".into(),
        floor,
        note: if n == *STATUS_SIZES.last().unwrap() {
            "no broker; one pass: list-panes, jobs, ids, deliveries, reminders, checkpoint".into()
        } else {
            String::new()
        },
    });
}

/// What `/proc/<pid>/status` says about a process's memory, in kB.
fn proc_kb(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// The reconcile daemon's memory after a few passes, and how it stopped.
struct DaemonMem {
    sessions: usize,
    passes: usize,
    rss_kb: u64,
    hwm_kb: u64,
    sleep_rss_kb: u64,
    /// Exit status after SIGTERM; None if it had to be killed.
    exit: Option<std::process::ExitStatus>,
    stderr: String,
}

impl DaemonMem {
    fn exited_ok(&self) -> bool {
        self.exit.is_some_and(|s| s.success())
    }

    fn exit_text(&self) -> String {
        match self.exit {
            Some(s) => s.to_string(),
            None => "did not exit within 10 s of SIGTERM (killed)".into(),
        }
    }

    fn json(&self) -> Value {
        json!({
            "sessions": self.sessions,
            "passes": self.passes,
            "vmrss_kb": self.rss_kb,
            "vmhwm_kb": self.hwm_kb,
            "sleep_vmrss_kb": self.sleep_rss_kb,
            "exit": self.exit.and_then(|s| s.code()),
            "exited_ok": self.exited_ok(),
        })
    }
}

/// Passes the daemon must have reported before its memory is read.
const DAEMON_PASSES: usize = 3;

/// Start `mam reconcile --interval 1 --json` (no broker) with `n` live
/// sessions, wait for DAEMON_PASSES passes, read VmRSS and VmHWM, SIGTERM it
/// and record its exit. The floor is the VmRSS of `sleep`.
fn daemon_memory(b: &Bench, root: &Path, n: usize) -> DaemonMem {
    eprintln!("perf: reconcile daemon (--interval 1) memory at {n} sessions");
    let err_path = b.dir.path().join("daemon.stderr");
    let mut cmd = b.mam_cmd(root, &["reconcile", "--interval", "1", "--json"]);
    cmd.stdout(Stdio::piped())
        .stderr(std::fs::File::create(&err_path).expect("daemon stderr file"));
    let mut daemon = Reaped(Some(cmd.spawn().expect("start mam reconcile")));
    let stdout = daemon.0.as_mut().unwrap().stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut passes = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while passes < DAEMON_PASSES {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("daemon printed non-JSON ({e}): {line}"));
                if v["type"] == "pass" {
                    passes += 1;
                }
            }
            Err(_) => {
                let status = daemon.terminate(Duration::from_secs(2));
                panic!(
                    "reconcile daemon reported {passes} passes in 30 s (exit {status:?})\nstderr: {}",
                    std::fs::read_to_string(&err_path).unwrap_or_default()
                );
            }
        }
    }
    let pid = daemon.id();
    let rss_kb = proc_kb(pid, "VmRSS").expect("daemon VmRSS");
    let hwm_kb = proc_kb(pid, "VmHWM").expect("daemon VmHWM");
    let exit = daemon.terminate(Duration::from_secs(10));
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();

    // The floor: a process that does nothing at all.
    let sleep = Reaped(Some(
        Command::new("sleep")
            .arg("30")
            .stdin(Stdio::null())
            .spawn()
            .expect("start sleep"),
    ));
    let sp = sleep.id();
    let deadline = Instant::now() + Duration::from_secs(5);
    // Until the child has exec'd (before that /proc shows the bench's fork).
    while std::fs::read_to_string(format!("/proc/{sp}/comm")).map_or(true, |c| c.trim() != "sleep")
    {
        assert!(Instant::now() < deadline, "sleep never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(20));
    let sleep_rss_kb = proc_kb(sp, "VmRSS").expect("sleep VmRSS");
    drop(sleep);
    DaemonMem {
        sessions: n,
        passes,
        rss_kb,
        hwm_kb,
        sleep_rss_kb,
        exit,
        stderr,
    }
}

// ---------------------------------------------------------------------------
// 4. Messaging: `mam send` to a stopped job, to a ready agent, under load
// ---------------------------------------------------------------------------

/// The send workspace: a fake profile whose agent is never busy (`--busy 0`)
/// with the fake screen rules and `submit_delay_ms`, like fake-plain in
/// tests/support/mod.rs.
fn send_config(b: &Bench) -> String {
    format!(
        "[agents.fakeplain]\ncmd = [{:?}, \"--busy\", \"0\"]\n{FAKE_RULES}submit_delay_ms = {FAKE_SUBMIT_DELAY_MS}\n",
        b.fake.display().to_string()
    )
}

/// `floor_commit DB TEXT`: one process committing one row (WAL, busy_timeout,
/// synchronous=NORMAL, BEGIN IMMEDIATE), as the registry does.
fn floor_commit_cmd(b: &Bench, db: &Path, text: &str) -> Command {
    let mut c = Command::new(&b.floor_commit);
    c.arg(db).arg(text).stdin(Stdio::null());
    c
}

/// Run `mam send` and return its wall time; panics unless it exits 0 and
/// stdout says `expect` (`queued` or `delivered`).
fn timed_send(b: &Bench, root: &Path, to: &str, text: &str, expect: &str) -> Duration {
    let mut cmd = b.mam_cmd(root, &["send", to, text]);
    let t = Instant::now();
    let out = cmd.output().expect("run mam send");
    let d = t.elapsed();
    check_ok(&format!("mam send {to}"), &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(expect),
        "mam send {to} should say {expect:?}\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    d
}

/// Start the fake agent in its own tmux session and wait for its ready
/// screen; returns the pane id.
fn start_fake_session(b: &Bench, name: &str, argv: &[String]) -> String {
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
    let pane = b.tmux_ok(&args).trim().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let screen = b.tmux_ok(&["capture-pane", "-p", "-t", &pane]);
        if fake_is_ready(&screen) {
            return pane;
        }
        assert!(
            Instant::now() < deadline,
            "fake agent never became ready:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The delivery floor: what `mam send` does to a ready pane, done by hand
/// with the fewest tmux calls. Read the screen (is it ready?), paste the text
/// as mam does (load-buffer + paste-buffer -p in one call), wait
/// submit_delay_ms, press Enter, then read the screen every 5 ms until it
/// shows the ready prompt again on a changed screen.
fn deliver_by_hand(b: &Bench, pane: &str, text: &str) -> Duration {
    let t = Instant::now();
    let before = b.tmux_ok(&["capture-pane", "-p", "-t", pane]);
    assert!(fake_is_ready(&before), "floor pane not ready:\n{before}");
    let mut paste = b.tmux_cmd(&[
        "load-buffer",
        "-b",
        "benchfloor",
        "-",
        ";",
        "paste-buffer",
        "-p",
        "-d",
        "-b",
        "benchfloor",
        "-t",
        pane,
    ]);
    paste.stdin(Stdio::piped()).stdout(Stdio::null());
    let mut child = paste.spawn().expect("run tmux load-buffer");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(text.as_bytes()).unwrap();
    }
    assert!(child.wait().unwrap().success(), "tmux paste failed");
    let delay = Duration::from_millis(FAKE_SUBMIT_DELAY_MS);
    if t.elapsed() < delay {
        std::thread::sleep(delay - t.elapsed());
    }
    let typed = b.tmux_ok(&["capture-pane", "-p", "-t", pane]);
    b.tmux_ok(&["send-keys", "-t", pane, "Enter"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        std::thread::sleep(Duration::from_millis(5));
        let s = b.tmux_ok(&["capture-pane", "-p", "-t", pane]);
        if fake_is_ready(&s) && s != typed {
            return t.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "fake agent did not take the text:\n{s}"
        );
    }
}

/// Results of the concurrent load: every send's latency, wall time, errors.
struct Load {
    procs: usize,
    sends: usize,
    wall: Duration,
    lat: Stat,
    errors: usize,
    first_error: Option<String>,
}

impl Load {
    fn total(&self) -> usize {
        self.procs * self.sends
    }

    fn rate(&self) -> f64 {
        self.total() as f64 / self.wall.as_secs_f64()
    }

    fn json(&self) -> Value {
        json!({
            "processes": self.procs,
            "sends_per_process": self.sends,
            "total": self.total(),
            "wall_s": round2(self.wall.as_secs_f64()),
            "per_s": round2(self.rate()),
            "p50_ms": round2(self.lat.pct(0.5)),
            "p90_ms": round2(self.lat.pct(0.9)),
            "p99_ms": round2(self.lat.pct(0.99)),
            "errors": self.errors,
        })
    }
}

/// `procs` threads, each running `sends` processes made by `make` one after
/// the other. An error is a non-zero exit or anything on stderr.
fn run_load(procs: usize, sends: usize, make: impl Fn(usize, usize) -> Command + Sync) -> Load {
    let start = std::sync::Barrier::new(procs + 1);
    let t = std::sync::Mutex::new(None::<Instant>);
    let results: Vec<(Vec<f64>, usize, Option<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..procs)
            .map(|p| {
                let (make, start) = (&make, &start);
                s.spawn(move || {
                    let mut lat = Vec::with_capacity(sends);
                    let mut errors = 0;
                    let mut first = None;
                    start.wait();
                    for i in 0..sends {
                        let mut cmd = make(p, i);
                        let t0 = Instant::now();
                        let out = cmd.output().expect("spawn");
                        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                        if !out.status.success() || !out.stderr.is_empty() {
                            errors += 1;
                            first.get_or_insert_with(|| {
                                format!(
                                    "{}: {}",
                                    out.status,
                                    String::from_utf8_lossy(&out.stderr).trim()
                                )
                            });
                        }
                    }
                    (lat, errors, first)
                })
            })
            .collect();
        *t.lock().unwrap() = Some(Instant::now());
        start.wait();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let wall = t.lock().unwrap().unwrap().elapsed();
    let errors = results.iter().map(|r| r.1).sum();
    let first_error = results.iter().find_map(|r| r.2.clone());
    Load {
        procs,
        sends,
        wall,
        lat: Stat::of_ms(results.into_iter().flat_map(|r| r.0).collect()),
        errors,
        first_error,
    }
}

/// Messages stored in a workspace's registry.
fn count_messages(root: &Path) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(
        root.join(".mam/mam.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open registry");
    conn.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .expect("count messages")
}

/// Single sends: to a stopped job and to a ready agent.
fn bench_send(b: &Bench, rows: &mut Vec<Row>) {
    let config = send_config(b);
    let root = b.workspace("send", &config);
    // Keep the server up so no run pays for starting it.
    b.tmux_ok(&[
        "new-session",
        "-d",
        "-s",
        "keepalive",
        "--",
        "sleep",
        "100000",
    ]);

    // 1. To a stopped job: store and return.
    eprintln!("perf: mam send → stopped job (vs floor_commit)");
    b.mam_ok(&root, &["create", "idle", "--agent", "fakeplain", "-q"]);
    b.mam_ok(&root, &["stop", "idle", "-q"]);
    let floor_dir = b.dir.path().join("floor");
    std::fs::create_dir_all(&floor_dir).unwrap();
    let floor_db = floor_dir.join("floor.db");
    let text = "bench message: please look at src/lib.rs when you are free";
    // Warm-up (first floor run creates its database), then interleaved runs.
    timed_send(b, &root, "idle", text, "queued");
    b.time("floor_commit", floor_commit_cmd(b, &floor_db, text));
    let mut sends = Vec::new();
    let mut floors = Vec::new();
    for _ in 0..b.runs {
        sends.push(timed_send(b, &root, "idle", text, "queued"));
        floors.push(b.time("floor_commit", floor_commit_cmd(b, &floor_db, text)));
    }
    rows.push(Row {
        key: "send_stopped".into(),
        label: "send → stopped job (store only)".into(),
        value: Stat::of(sends),
        floor_label: "floor_commit (open + 1 commit)".into(),
        floor: Stat::of(floors),
        note: "process, config, registry open + key load, checks, insert + event".into(),
    });

    // 2. To a ready agent, verified delivered.
    eprintln!("perf: mam send → ready fake agent (submit_delay_ms = {FAKE_SUBMIT_DELAY_MS})");
    b.mam_ok(&root, &["create", "rcv", "--agent", "fakeplain", "-q"]);
    let argv = vec![b.fake.display().to_string(), "--busy".into(), "0".into()];
    let pane = start_fake_session(b, "floor-rcv", &argv);
    let hand_text = format!("[message m1 from operator] {text}");
    timed_send(b, &root, "rcv", text, "delivered");
    deliver_by_hand(b, &pane, &hand_text);
    let mut sends = Vec::new();
    let mut floors = Vec::new();
    for _ in 0..b.runs {
        sends.push(timed_send(b, &root, "rcv", text, "delivered"));
        floors.push(deliver_by_hand(b, &pane, &hand_text));
    }
    let value = Stat::of(sends);
    let floor = Stat::of(floors);
    let delay = FAKE_SUBMIT_DELAY_MS as f64;
    let floor_label = "by hand: paste, delay, Enter, 5 ms polls".to_string();
    rows.push(Row {
        key: "send_ready".into(),
        label: format!("send → ready fake, delivered ({FAKE_SUBMIT_DELAY_MS} ms delay)"),
        value: value.clone(),
        floor_label: floor_label.clone(),
        floor: floor.clone(),
        note: format!("whole `mam send`, typed and verified; includes submit_delay_ms = {FAKE_SUBMIT_DELAY_MS}"),
    });
    rows.push(Row {
        key: "send_ready_excl_delay".into(),
        label: "send → ready − submit_delay_ms".into(),
        value: value.minus(delay),
        floor_label: format!("{floor_label} − delay"),
        floor: floor.minus(delay),
        note: "spawns, registry, lock, snapshots, 40 ms verify polls, 2 writes".into(),
    });
    b.kill_server();
}

/// Load: LOAD_PROCS concurrent processes × b.sends sends to a stopped job,
/// in a fresh workspace; the same load of floor_commit as the floor.
/// Returns the `mam send` load, the floor_commit load and the `true` load.
fn bench_send_load(b: &Bench, rows: &mut Vec<Row>) -> (Load, Load, Load) {
    let config = send_config(b);
    let floor_dir = b.dir.path().join("floor");
    std::fs::create_dir_all(&floor_dir).unwrap();
    let text = "bench message: please look at src/lib.rs when you are free";
    let n = b.sends;
    eprintln!("perf: {LOAD_PROCS} concurrent processes × {n} mam send → stopped job");
    let root = b.workspace("send-load", &config);
    b.mam_ok(&root, &["create", "idle", "--agent", "fakeplain", "-q"]);
    b.mam_ok(&root, &["stop", "idle", "-q"]);
    b.kill_server();
    let before = count_messages(&root);
    let load = run_load(LOAD_PROCS, n, |p, i| {
        let msg = format!("load message {i} from sender {p}");
        b.mam_cmd(&root, &["send", "idle", &msg])
    });
    let stored = count_messages(&root) - before;
    let ok = load.total() - load.errors;
    assert!(
        stored as usize >= ok,
        "{ok} sends succeeded but only {stored} messages were stored"
    );
    eprintln!(
        "perf:   {} sends in {:.2} s, {stored} stored, {} errors",
        load.total(),
        load.wall.as_secs_f64(),
        load.errors
    );
    eprintln!("perf: {LOAD_PROCS} concurrent processes × {n} floor_commit");
    let load_db = floor_dir.join("load.db");
    b.time("floor_commit", floor_commit_cmd(b, &load_db, text));
    let floor = run_load(LOAD_PROCS, n, |p, i| {
        floor_commit_cmd(b, &load_db, &format!("load message {i} from sender {p}"))
    });
    // The spawn ceiling: the same load of `true`.
    eprintln!("perf: {LOAD_PROCS} concurrent processes × {n} true");
    let spawn = run_load(LOAD_PROCS, n, |_, _| {
        let mut c = Command::new("true");
        c.stdin(Stdio::null());
        c
    });
    rows.push(Row {
        key: "send_load_latency".into(),
        label: format!("send → stopped, {LOAD_PROCS} concurrent × {n}"),
        value: load.lat.clone(),
        floor_label: format!("floor_commit, {LOAD_PROCS} concurrent × {n}"),
        floor: floor.lat.clone(),
        note: "per-send latency under load (p50 shown as median)".into(),
    });
    (load, floor, spawn)
}

/// Messages in one `mam send --batch` (to a stopped job).
const BATCH_SIZE: usize = 5000;

/// What the batch figure measured: messages stored per second by one
/// `mam send --batch` process and by floor_commit storing as many rows in
/// one transaction.
struct Batch {
    per_s: f64,
    floor_per_s: f64,
}

/// `mam send --batch` of BATCH_SIZE lines to a stopped job, whole process
/// timed, beside floor_commit inserting BATCH_SIZE rows in one transaction.
fn bench_batch(b: &Bench, rows: &mut Vec<Row>) -> Batch {
    eprintln!("perf: mam send --batch of {BATCH_SIZE} messages → stopped job");
    let root = b.workspace("batch", &send_config(b));
    b.mam_ok(&root, &["create", "idle", "--agent", "fakeplain", "-q"]);
    b.mam_ok(&root, &["stop", "idle", "-q"]);
    b.kill_server();
    let text = "bench message: please look at src/lib.rs when you are free";
    let input: String = (0..BATCH_SIZE)
        .map(|i| json!({"to": "idle", "text": format!("{text} ({i})")}).to_string() + "\n")
        .collect();
    let floor_db = b.dir.path().join("floor-batch.db");
    let rows_arg = BATCH_SIZE.to_string();
    let floor_cmd = || {
        let mut c = Command::new(&b.floor_commit);
        c.arg(&floor_db)
            .arg(text)
            .arg(&rows_arg)
            .stdin(Stdio::null());
        c
    };
    b.time("floor_commit", floor_cmd());
    let runs = b.runs.min(5);
    let mut batch = Vec::new();
    let mut floors = Vec::new();
    for _ in 0..runs {
        let before = count_messages(&root);
        let mut c = b.mam_cmd(&root, &["send", "--batch", "-q"]);
        c.stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let t = Instant::now();
        let mut child = c.spawn().expect("spawn mam send --batch");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(input.as_bytes()).expect("write the batch");
        }
        let out = child.wait_with_output().expect("wait for mam send --batch");
        batch.push(t.elapsed());
        check_ok("mam send --batch", &out);
        assert_eq!(
            (count_messages(&root) - before) as usize,
            BATCH_SIZE,
            "mam send --batch stored a different number of messages"
        );
        floors.push(b.time("floor_commit", floor_cmd()));
    }
    let value = Stat::of(batch);
    let floor = Stat::of(floors);
    let per_s = BATCH_SIZE as f64 / (value.median / 1000.0);
    let floor_per_s = BATCH_SIZE as f64 / (floor.median / 1000.0);
    rows.push(Row {
        key: "send_batch".into(),
        label: format!("send --batch, {BATCH_SIZE} messages → stopped"),
        value,
        floor_label: format!("floor_commit, {BATCH_SIZE} rows in 1 transaction"),
        floor,
        note: format!(
            "whole process: read + check every line, one transaction with signed events; {per_s:.0} vs {floor_per_s:.0} messages/s"
        ),
    });
    Batch { per_s, floor_per_s }
}

// ---------------------------------------------------------------------------
// 6. Publishing: `mam send` with a QoS 1 publish to a loopback Mosquitto,
//    and the same job done by a Python paho-mqtt publisher
// ---------------------------------------------------------------------------

/// `mosquitto_pub -q 1` of `payload` to `topic` (waits for the PUBACK).
fn pub_cmd(broker: &Broker, topic: &str, payload: &str) -> Command {
    let mut c = broker.client("mosquitto_pub");
    c.args(["-t", topic, "-m", payload]);
    c
}

/// A `mosquitto_sub` on `mam/#` and `bench/#` counting what the broker
/// delivered, per topic kind; killed on drop.
struct Counter {
    _proc: Reaped,
    rx: std::sync::mpsc::Receiver<String>,
    counts: std::collections::HashMap<&'static str, usize>,
}

/// Topic kinds the counter tells apart.
const FLOOR_TOPIC: &str = "bench/floor/events";
const PYTHON_TOPIC: &str = "bench/python/events";
const SYNC_TOPIC: &str = "bench/sync";

fn topic_kind(t: &str) -> &'static str {
    match t {
        FLOOR_TOPIC => "floor",
        PYTHON_TOPIC => "python",
        SYNC_TOPIC => "sync",
        t if t.starts_with("mam/") => "mam",
        _ => "other",
    }
}

impl Counter {
    /// Subscribe and wait until the subscription is live (a sync message
    /// published until it comes back).
    fn start(broker: &Broker) -> Counter {
        let mut cmd = broker.client("mosquitto_sub");
        cmd.args(["-t", "mam/#", "-t", "bench/#", "-F", "%t"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("start mosquitto_sub");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut c = Counter {
            _proc: Reaped(Some(child)),
            rx,
            counts: Default::default(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while c.get("sync") == 0 {
            assert!(Instant::now() < deadline, "mosquitto_sub never subscribed");
            let out = pub_cmd(broker, SYNC_TOPIC, "sync")
                .output()
                .expect("run mosquitto_pub");
            check_ok("mosquitto_pub (sync)", &out);
            c.wait_for("sync", 1, Duration::from_millis(200));
        }
        c
    }

    fn get(&self, kind: &str) -> usize {
        self.counts.get(kind).copied().unwrap_or(0)
    }

    /// Count what has arrived until `kind` reaches `n` or `within` passes;
    /// returns the count of `kind`.
    fn wait_for(&mut self, kind: &str, n: usize, within: Duration) -> usize {
        let deadline = Instant::now() + within;
        while self.get(kind) < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(t) => *self.counts.entry(topic_kind(&t)).or_default() += 1,
                Err(_) => break,
            }
        }
        self.get(kind)
    }
}

/// The "old scripts" publisher: start Python, import paho-mqtt, connect,
/// publish one QoS 1 message, wait for its PUBACK, disconnect, exit 0 (1 if
/// no PUBACK within 10 s).
const PY_PUBLISHER: &str = r#"import sys
import paho.mqtt.client as mqtt

host, port, topic, payload = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
try:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
except AttributeError:  # paho-mqtt 1.x
    client = mqtt.Client()
client.connect(host, port)
client.loop_start()
info = client.publish(topic, payload.encode(), qos=1)
info.wait_for_publish(timeout=10)
ok = info.is_published()
client.disconnect()
client.loop_stop()
sys.exit(0 if ok else 1)
"#;

/// `target/`, beside `target/<profile>/`.
fn target_dir() -> PathBuf {
    profile_dir()
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
}

/// Run `cmd` with output to files in `dir`, killing it after `within`.
fn run_within(cmd: &mut Command, dir: &Path, within: Duration) -> Result<Output, String> {
    let out_p = dir.join("run.stdout");
    let err_p = dir.join("run.stderr");
    let f = |p: &Path| std::fs::File::create(p).map_err(|e| e.to_string());
    cmd.stdin(Stdio::null())
        .stdout(f(&out_p)?)
        .stderr(f(&err_p)?);
    let mut child = Reaped(Some(
        cmd.spawn().map_err(|e| format!("spawn {cmd:?}: {e}"))?,
    ));
    let deadline = Instant::now() + within;
    let status = loop {
        if let Ok(Some(st)) = child.0.as_mut().unwrap().try_wait() {
            child.0 = None;
            break st;
        }
        if Instant::now() > deadline {
            return Err(format!("timed out after {} s", within.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(Output {
        status,
        stdout: std::fs::read(&out_p).unwrap_or_default(),
        stderr: std::fs::read(&err_p).unwrap_or_default(),
    })
}

fn last_line(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The Python of `target/bench-venv` with paho-mqtt importable: the venv is
/// created and paho-mqtt installed with pip when missing. Returns the
/// interpreter and "paho-mqtt X, Python Y", or why it cannot be had.
fn paho_python(scratch: &Path) -> Result<(PathBuf, String), String> {
    let venv = target_dir().join("bench-venv");
    let py = venv.join("bin/python");
    let probe = |py: &Path| -> Result<String, String> {
        let mut c = Command::new(py);
        c.args([
            "-c",
            "import sys, paho.mqtt; print('paho-mqtt', paho.mqtt.__version__, '/ Python', sys.version.split()[0])",
        ]);
        let o = run_within(&mut c, scratch, Duration::from_secs(30))?;
        if o.status.success() {
            Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
        } else {
            Err(last_line(&o.stderr))
        }
    };
    if py.exists()
        && let Ok(v) = probe(&py)
    {
        return Ok((py, v));
    }
    if !py.exists() {
        let python3 = find_program("python3").ok_or("no python3 on PATH")?;
        eprintln!("perf: creating {} (python3 -m venv)", venv.display());
        let mut c = Command::new(python3);
        c.args(["-m", "venv"]).arg(&venv);
        let o = run_within(&mut c, scratch, Duration::from_secs(120))
            .map_err(|e| format!("python3 -m venv: {e}"))?;
        if !o.status.success() {
            return Err(format!("python3 -m venv failed: {}", last_line(&o.stderr)));
        }
    }
    eprintln!("perf: pip install paho-mqtt into {}", venv.display());
    let mut c = Command::new(&py);
    c.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ])
    .args(["--timeout", "30", "--retries", "1", "paho-mqtt"]);
    let o = run_within(&mut c, scratch, Duration::from_secs(180))
        .map_err(|e| format!("pip install paho-mqtt: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "pip install paho-mqtt failed: {}",
            last_line(&o.stderr)
        ));
    }
    probe(&py)
        .map(|v| (py, v))
        .map_err(|e| format!("paho-mqtt installed but not importable: {e}"))
}

/// What the publish figures measured (or why they could not).
struct Publish {
    /// Why the broker figures were skipped (no Mosquitto).
    broker_skipped: Option<String>,
    /// Why the Python figure was skipped (no venv / pip failed).
    python_skipped: Option<String>,
    /// "paho-mqtt X / Python Y" when measured.
    python_version: String,
    /// Envelope size published (bytes).
    payload_bytes: usize,
    /// Messages the counting subscriber saw: (mam, floor, python) and what
    /// was expected of each.
    seen: [(usize, usize); 3],
}

impl Publish {
    fn json(&self) -> Value {
        json!({
            "broker_skipped": self.broker_skipped,
            "python_skipped": self.python_skipped,
            "python": self.python_version,
            "payload_bytes": self.payload_bytes,
            "seen": {
                "mam": {"got": self.seen[0].0, "expected": self.seen[0].1},
                "floor": {"got": self.seen[1].0, "expected": self.seen[1].1},
                "python": {"got": self.seen[2].0, "expected": self.seen[2].1},
            },
        })
    }
}

fn open_registry(root: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        root.join(".mam/mam.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open registry")
}

/// Events in the registry, and how many the broker has not acknowledged.
fn event_counts(root: &Path) -> (i64, i64) {
    open_registry(root)
        .query_row(
            "SELECT count(*), count(*) FILTER (WHERE published_at IS NULL) FROM events",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("count events")
}

/// `mam send` to a stopped job with `[broker] url` set to a loopback
/// Mosquitto, beside floor_commit + `mosquitto_pub -q 1`; then a Python
/// paho-mqtt publisher, one process per message, beside that `mam send`.
fn bench_publish(b: &Bench, rows: &mut Vec<Row>) -> Publish {
    let mut res = Publish {
        broker_skipped: None,
        python_skipped: None,
        python_version: String::new(),
        payload_bytes: 0,
        seen: [(0, 0); 3],
    };
    let scratch = b.dir.path().join("publish");
    std::fs::create_dir_all(&scratch).unwrap();
    let broker = match Broker::try_plain() {
        Ok(m) => Some(m),
        Err(e) => {
            res.broker_skipped = Some(e);
            None
        }
    };
    let Some(broker) = broker else {
        eprintln!(
            "perf: publish figures SKIPPED: {}",
            res.broker_skipped.as_deref().unwrap_or("")
        );
        return res;
    };
    let python = match paho_python(&scratch) {
        Ok((py, v)) => {
            res.python_version = v;
            Some(py)
        }
        Err(e) => {
            eprintln!("perf: Python publisher SKIPPED: {e}");
            res.python_skipped = Some(e);
            None
        }
    };
    let script = scratch.join("publish.py");
    std::fs::write(&script, PY_PUBLISHER).unwrap();

    eprintln!(
        "perf: mam send → stopped job + QoS 1 publish to mosquitto {} (vs floor_commit + mosquitto_pub)",
        broker.url
    );
    let mut counter = Counter::start(&broker);
    let config = format!(
        "[broker]\nurl = \"{}\"\n\n[agents.sleeper]\ncmd = [\"sleep\", \"100000\"]\nready = ['^']\n",
        broker.url
    );
    let root = b.workspace("publish", &config);
    b.mam_ok(
        &root,
        &["create", "idle", "--agent", "sleeper", "--no-wait", "-q"],
    );
    b.mam_ok(&root, &["stop", "idle", "-q"]);
    // A stopped job needs no tmux: no server runs during the timed sends.
    b.kill_server();
    let text = "bench message: please look at src/lib.rs when you are free";
    // Every send must leave nothing unpublished: its publish happened within
    // the command, not later.
    let send = || -> Duration {
        let d = timed_send(b, &root, "idle", text, "queued");
        let (total, unpublished) = event_counts(&root);
        assert_eq!(
            unpublished, 0,
            "mam send left {unpublished} of {total} events unpublished (broker {})",
            broker.url
        );
        d
    };
    // Warm-up; its envelope is the payload of the floor and Python runs.
    send();
    let payload: String = open_registry(&root)
        .query_row(
            "SELECT envelope FROM events ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("last envelope");
    res.payload_bytes = payload.len();
    let floor_db = scratch.join("floor.db");
    // Both floor processes timed together; the parts are kept for the note.
    let floor = || -> (Duration, Duration, Duration) {
        let t = Instant::now();
        let o = floor_commit_cmd(b, &floor_db, text)
            .output()
            .expect("run floor_commit");
        let commit = t.elapsed();
        check_ok("floor_commit", &o);
        let o = pub_cmd(&broker, FLOOR_TOPIC, &payload)
            .output()
            .expect("run mosquitto_pub");
        let total = t.elapsed();
        check_ok("mosquitto_pub -q 1", &o);
        (total, commit, total - commit)
    };
    let py_run = |py: &Path| -> Duration {
        let mut c = Command::new(py);
        c.arg(&script)
            .args([
                "127.0.0.1",
                &broker.port.to_string(),
                PYTHON_TOPIC,
                &payload,
            ])
            .stdin(Stdio::null());
        b.time("python paho-mqtt publisher", c)
    };
    floor();
    if let Some(py) = &python {
        py_run(py);
    }
    let (mut sends, mut floors, mut commits, mut pubs, mut pys) =
        (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..b.runs {
        sends.push(send());
        let (f, c, p) = floor();
        floors.push(f);
        commits.push(c);
        pubs.push(p);
        if let Some(py) = &python {
            pys.push(py_run(py));
        }
    }

    // What the broker actually delivered: every event mam holds (published
    // from the create on), every floor and every Python message.
    let (events, unpublished) = event_counts(&root);
    assert_eq!(unpublished, 0, "events left unpublished");
    let runs = b.runs + 1;
    let wait = Duration::from_secs(5);
    res.seen = [
        (
            counter.wait_for("mam", events as usize, wait),
            events as usize,
        ),
        (counter.wait_for("floor", runs, wait), runs),
        (
            counter.wait_for("python", if python.is_some() { runs } else { 0 }, wait),
            if python.is_some() { runs } else { 0 },
        ),
    ];
    for ((got, want), who) in res.seen.iter().zip(["mam", "mosquitto_pub", "python"]) {
        assert!(
            got >= want,
            "the subscriber saw {got} of {want} messages from {who}\nbroker log: {}",
            broker.log()
        );
    }
    // And mam's own log says so (`published: true` on every event).
    let out = b.mam_ok(&root, &["events", "--json"]);
    let listed: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("events --json line"))
        .collect();
    assert_eq!(listed.len() as i64, events, "mam events --json count");
    assert!(
        listed.iter().all(|e| e["published"] == true),
        "mam events --json shows unpublished events"
    );

    let mam = Stat::of(sends);
    let (commit_only, pub_only) = (Stat::of(commits), Stat::of(pubs));
    let floor = Stat::of(floors);
    rows.push(Row {
        key: "send_publish".into(),
        label: "send → stopped + QoS 1 publish".into(),
        value: mam.clone(),
        floor_label: "floor_commit + mosquitto_pub -q 1".into(),
        floor: floor.clone(),
        note: format!(
            "{} B envelope to a loopback Mosquitto; floor = commit {:.1} + mosquitto_pub {:.1} ms (medians)",
            res.payload_bytes, commit_only.median, pub_only.median
        ),
    });
    if !pys.is_empty() {
        rows.push(Row {
            key: "python_paho_publish".into(),
            label: "python paho-mqtt publisher, 1 proc/msg".into(),
            value: Stat::of(pys),
            floor_label: "mam send + publish (same runs)".into(),
            floor: mam,
            note: format!(
                "{}: start, connect, publish QoS 1, PUBACK, exit; ratio = python / mam",
                res.python_version
            ),
        });
    }
    drop(counter);
    drop(broker);
    res
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

/// The load figure: wall time, rate, latency percentiles and errors of the
/// concurrent sends beside the same load of floor_commit and of `true`.
fn print_load(load: &Load, floor: &Load, spawn: &Load) {
    println!(
        "send load: {} processes × {} sends = {} messages to a stopped job (MAM_BENCH_SENDS={})",
        load.procs,
        load.sends,
        load.total(),
        load.sends
    );
    for (what, l) in [("mam send", load), ("floor_commit", floor), ("true", spawn)] {
        println!(
            "  {what:<12}  wall {:>6.2} s  {:>7.0}/s  p50 {:>6.1} ms  p90 {:>6.1} ms  p99 {:>6.1} ms  errors {}",
            l.wall.as_secs_f64(),
            l.rate(),
            l.lat.pct(0.5),
            l.lat.pct(0.9),
            l.lat.pct(0.99),
            l.errors
        );
        if let Some(e) = &l.first_error {
            println!("  {what:<12}  first error: {e}");
        }
    }
    println!(
        "  ratio (floor rate / mam rate): {:.2}×",
        floor.rate() / load.rate()
    );
}

/// Publishing: payload size, what the counting subscriber saw, Python used.
fn print_publish(p: &Publish) {
    if let Some(why) = &p.broker_skipped {
        println!("publish: SKIPPED ({why})");
        return;
    }
    let [m, f, y] = p.seen;
    println!(
        "publish: {} B envelope, QoS 1, loopback Mosquitto; the subscriber saw mam {}/{}, \
         mosquitto_pub {}/{}, python {}/{}",
        p.payload_bytes, m.0, m.1, f.0, f.1, y.0, y.1
    );
    match &p.python_skipped {
        Some(why) => println!("  python publisher: SKIPPED ({why})"),
        None => println!(
            "  python publisher: {} (target/bench-venv)",
            p.python_version
        ),
    }
}

/// The reconcile daemon's memory beside `sleep`'s, and its exit.
fn print_daemon(d: &DaemonMem) {
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "reconcile daemon (--interval 1, no broker) at {} sessions after {} passes: \
         VmRSS {:.1} MB, VmHWM {:.1} MB; floor `sleep` VmRSS {:.1} MB ({:.1}×)",
        d.sessions,
        d.passes,
        mb(d.rss_kb),
        mb(d.hwm_kb),
        mb(d.sleep_rss_kb),
        d.rss_kb as f64 / d.sleep_rss_kb.max(1) as f64
    );
    println!(
        "  SIGTERM: {} {}",
        d.exit_text(),
        if d.exited_ok() {
            "(ok)"
        } else {
            "(FAILED: expected exit 0)"
        }
    );
    if !d.stderr.trim().is_empty() {
        println!("  daemon stderr: {}", d.stderr.trim());
    }
}

/// The MCP figures: a `send` tool call on a warm `mam mcp` against the
/// `mam send` process doing the same (both to a stopped job, store only,
/// as the same agent), and the server's start (spawn to the `initialize`
/// answer) beside starting `true`.
fn bench_mcp(b: &Bench, rows: &mut Vec<Row>) {
    eprintln!("perf: mcp send tool call (warm server) vs mam send; mcp start vs true");
    let root = b.workspace("mcp", &send_config(b));
    for name in ["me", "idle"] {
        b.mam_ok(&root, &["create", name, "--agent", "fakeplain", "-q"]);
        b.mam_ok(&root, &["stop", name, "-q"]);
    }
    let text = "bench message: please look at src/lib.rs when you are free";
    let mut server = b.mam_cmd(&root, &["mcp"]);
    server.env("MAM_AGENT", "me");
    let (mut client, _) = McpClient::start(server);
    let call = |client: &mut McpClient| {
        let t = Instant::now();
        let r = client.call("send", json!({"to": "idle", "text": text}));
        let d = t.elapsed();
        assert_eq!(r["isError"], false, "{r}");
        d
    };
    let process = || {
        let mut c = b.mam_cmd(&root, &["send", "idle", text]);
        c.env("MAM_AGENT", "me");
        c
    };
    call(&mut client); // warm: the registry is opened on the first call
    b.time("mam send", process());
    let mut calls = Vec::new();
    let mut procs = Vec::new();
    for _ in 0..b.runs {
        calls.push(call(&mut client));
        procs.push(b.time("mam send", process()));
    }
    drop(client);
    rows.push(Row {
        key: "mcp_send".into(),
        label: "mcp send tool call, warm server".into(),
        value: Stat::of(calls),
        floor_label: "mam send process (same send)".into(),
        floor: Stat::of(procs),
        note: "JSON-RPC round trip, checks, insert + event; no process start".into(),
    });

    let start = || {
        let mut server = b.mam_cmd(&root, &["mcp"]);
        server.env("MAM_AGENT", "me");
        let t = Instant::now();
        let (client, _) = McpClient::start(server);
        let d = t.elapsed();
        drop(client);
        d
    };
    let truth = || b.time("true", Command::new("true"));
    start();
    truth();
    let mut starts = Vec::new();
    let mut trues = Vec::new();
    for _ in 0..b.runs {
        starts.push(start());
        trues.push(truth());
    }
    rows.push(Row {
        key: "mcp_start".into(),
        label: "mam mcp start (spawn → initialize answered)".into(),
        value: Stat::of(starts),
        floor_label: "true (process start)".into(),
        floor: Stat::of(trues),
        note: "process, config, MCP handshake".into(),
    });
}

/// The MCP targets: the send tool call at most half the process, start at
/// most 20 ms.
fn mcp_targets(rows: &[Row]) -> Vec<Target> {
    let get = |k: &str| rows.iter().find(|r| r.key == k).expect(k);
    vec![
        Target::at_most(
            "mcp send tool call (warm) / mam send process, median ratio",
            get("mcp_send").ratio(),
            0.5,
            "×",
        ),
        Target::at_most(
            "mam mcp start to initialize answered, median",
            get("mcp_start").value.median,
            20.0,
            "ms",
        ),
    ]
}

/// The throughput targets: the concurrent load against its floor, the
/// batch in messages stored per second.
fn load_targets(load: &Load, floor: &Load, batch: &Batch) -> Vec<Target> {
    vec![
        Target::at_least(
            format!(
                "send throughput, {LOAD_PROCS} concurrent × {} → stopped job, messages/s",
                load.sends
            ),
            load.rate(),
            2000.0,
            "/s",
        ),
        Target::at_least(
            format!("send throughput, {LOAD_PROCS} concurrent / floor_commit's, ratio"),
            load.rate() / floor.rate(),
            0.8,
            "×",
        ),
        Target::at_most(
            format!("send p99 under load / floor_commit's p99, {LOAD_PROCS} concurrent"),
            load.lat.pct(0.99) / floor.lat.pct(0.99),
            2.0,
            "×",
        ),
        Target::at_least(
            format!(
                "send --batch of {BATCH_SIZE}, messages stored/s (floor {:.0}/s)",
                batch.floor_per_s
            ),
            batch.per_s,
            20_000.0,
            "/s",
        ),
    ]
}

fn main() {
    // `cargo bench` passes `--bench`; there are no options, so it is ignored.
    let tmux_version = require_tmux();
    let b = Bench::new();
    // MAM_BENCH_ONLY=mcp: only the MCP figures (quick to rerun).
    if std::env::var("MAM_BENCH_ONLY").is_ok_and(|v| v == "mcp") {
        let mut rows = Vec::new();
        bench_mcp(&b, &mut rows);
        print_table(&rows);
        println!();
        for t in &mcp_targets(&rows) {
            println!("{}", t.line());
        }
        return;
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    eprintln!(
        "perf: {} runs per figure, {cores} cores, {tmux_version}, tmux -L {}\nperf: mam = {}\nperf: fake agent = {}",
        b.runs,
        b.tmux.socket,
        b.mam.display(),
        b.fake.display()
    );
    let started = Instant::now();
    let mut rows = Vec::new();
    // MAM_BENCH_ONLY=worktree: only the worktree figures.
    if std::env::var("MAM_BENCH_ONLY").is_ok_and(|v| v == "worktree") {
        bench_worktrees(&b, &mut rows);
        print_table(&rows);
        for t in worktree_targets(&rows) {
            println!("{}", t.line());
        }
        return;
    }
    if std::env::var("MAM_BENCH_ONLY").is_ok_and(|v| v == "load") {
        // Just the throughput figures: the concurrent load and the batch.
        let (load, load_floor, load_spawn) = bench_send_load(&b, &mut rows);
        let batch = bench_batch(&b, &mut rows);
        print_table(&rows);
        println!();
        print_load(&load, &load_floor, &load_spawn);
        println!();
        for t in load_targets(&load, &load_floor, &batch) {
            println!("{}", t.line());
        }
        return;
    }
    // `MAM_BENCH_ONLY=dash`: the dashboard figures alone (printed).
    if std::env::var("MAM_BENCH_ONLY").as_deref() == Ok("dash") {
        for t in bench_dash(&b) {
            println!("{}", t.line());
        }
        return;
    }
    // `MAM_BENCH_ONLY=fleet`: the cross-host sends alone (printed).
    if std::env::var("MAM_BENCH_ONLY").as_deref() == Ok("fleet") {
        let targets = fleet::bench(&b, &mut rows);
        print_table(&rows);
        println!();
        for t in &targets {
            println!("{}", t.line());
        }
        return;
    }
    // `MAM_BENCH_ONLY=fleet-status`: status --fleet and the daemon's cache.
    if std::env::var("MAM_BENCH_ONLY").as_deref() == Ok("fleet-status") {
        let targets = fleet_status::bench(&b, &mut rows);
        print_table(&rows);
        for t in &targets {
            println!("{}", t.line());
        }
        return;
    }
    // `MAM_BENCH_ONLY=lease`: that figure alone (printed, not written).
    if std::env::var("MAM_BENCH_ONLY").as_deref() == Ok("lease") {
        bench_lease(&b, &mut rows);
        print_table(&rows);
        println!("{}", lease_target(&rows).line());
        return;
    }
    bench_oneshot(&b, &mut rows);
    bench_create(&b, &mut rows);
    let daemon = bench_status(&b, &mut rows);
    bench_send(&b, &mut rows);
    let (load, load_floor, load_spawn) = bench_send_load(&b, &mut rows);
    let batch = bench_batch(&b, &mut rows);
    let publish = bench_publish(&b, &mut rows);
    bench_worktrees(&b, &mut rows);
    bench_lease(&b, &mut rows);
    bench_mcp(&b, &mut rows);
    let mut fleet_targets = fleet::bench(&b, &mut rows);
    fleet_targets.extend(fleet_status::bench(&b, &mut rows));

    let get = |k: &str| rows.iter().find(|r| r.key == k).expect(k);
    let s500 = get("status_json_500");
    let ov = get("create_overhead");
    let ov_ex = get("create_overhead_excl_settle");
    let send_stopped = get("send_stopped");
    let send_ready = get("send_ready");
    let mut targets = vec![
        Target::at_most(
            "status --json at 500 jobs, median",
            s500.value.median,
            50.0,
            "ms",
        ),
        Target::at_most(
            "status --json at 500 jobs / list-panes, median ratio",
            s500.ratio(),
            10.0,
            "×",
        ),
        Target::at_most(
            format!("create overhead incl. settle_ms ({FAKE_SETTLE_MS}), median"),
            ov.value.median,
            150.0,
            "ms",
        ),
        Target::at_most(
            "create overhead excl. settle_ms, median",
            ov_ex.value.median,
            150.0,
            "ms",
        ),
        Target::at_most(
            "send → stopped job / floor_commit, median ratio",
            send_stopped.ratio(),
            2.0,
            "×",
        ),
        Target::at_most(
            format!(
                "send → ready, delivered, median (submit_delay_ms {FAKE_SUBMIT_DELAY_MS} + 200)"
            ),
            send_ready.value.median,
            FAKE_SUBMIT_DELAY_MS as f64 + 200.0,
            "ms",
        ),
    ];
    targets.extend(load_targets(&load, &load_floor, &batch));
    let find = |k: &str| rows.iter().find(|r| r.key == k);
    let text = "send → stopped + QoS 1 publish / (floor_commit + mosquitto_pub), median ratio";
    targets.push(match (find("send_publish"), &publish.broker_skipped) {
        (Some(r), _) => Target::at_most(text, r.ratio(), 2.0, "×"),
        (None, why) => Target::skipped(text, false, 2.0, "×", why.clone().unwrap_or_default()),
    });
    let text = "python paho-mqtt publisher / mam send + publish, median ratio (times faster)";
    targets.push(match find("python_paho_publish") {
        Some(r) => Target::at_least(text, r.ratio(), 15.0, "×"),
        None => Target::skipped(
            text,
            true,
            15.0,
            "×",
            publish
                .python_skipped
                .clone()
                .or_else(|| publish.broker_skipped.clone())
                .unwrap_or_default(),
        ),
    });
    targets.extend(mcp_targets(&rows));
    let r500 = get(&format!("reconcile_once_{}", daemon.sessions));
    targets.push(Target::at_most(
        format!("reconcile --once at {} sessions, median", daemon.sessions),
        r500.value.median,
        100.0,
        "ms",
    ));
    targets.push(Target::at_most(
        format!(
            "reconcile --once at {} sessions / list-panes -a, median ratio",
            daemon.sessions
        ),
        r500.ratio(),
        20.0,
        "×",
    ));
    targets.push(Target::at_most(
        format!(
            "reconcile daemon VmRSS at {} sessions after {} passes",
            daemon.sessions, daemon.passes
        ),
        daemon.rss_kb as f64 / 1024.0,
        20.0,
        " MB",
    ));

    targets.extend(worktree_targets(&rows));
    targets.push(lease_target(&rows));
    targets.extend(fleet_targets);

    print_table(&rows);
    println!();
    print_load(&load, &load_floor, &load_spawn);
    println!();
    print_publish(&publish);
    println!();
    print_daemon(&daemon);
    println!();
    for t in &targets {
        println!("{}", t.line());
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
        "send_batch": {"size": BATCH_SIZE, "per_s": round2(batch.per_s), "floor_per_s": round2(batch.floor_per_s)},
        "send_load": {
            "mam_send": load.json(),
            "floor_commit": load_floor.json(),
            "true": load_spawn.json(),
            "ratio": round2(load_floor.rate() / load.rate()),
        },
        "publish": publish.json(),
        "daemon_memory": daemon.json(),
        "targets": targets.iter().map(Target::json).collect::<Vec<_>>(),
    });
    let out = profile_dir().parent().map_or_else(
        || PathBuf::from("bench-results.json"),
        |t| t.join("bench-results.json"),
    );
    std::fs::write(&out, serde_json::to_string_pretty(&doc).unwrap() + "\n")
        .expect("write bench results");
    println!("results written to {}", out.display());
    drop(b); // kills the private tmux server
    if !daemon.exited_ok() {
        eprintln!(
            "perf: FAILED: the reconcile daemon did not exit 0 on SIGTERM ({})",
            daemon.exit_text()
        );
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------
// The dashboard (`MAM_BENCH_ONLY=dash`)
// ---------------------------------------------------------------------------

/// Jobs in the dashboard figures.
const DASH_JOBS: usize = 500;
/// Seconds the idle dashboard is watched.
const DASH_IDLE_S: u64 = 10;

/// CPU time of the calling thread, in ms.
fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

/// (own, children's) CPU ms of a process, from /proc/PID/stat.
fn proc_cpu_ms(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // Fields after the command (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    let tick = 1000.0 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    // utime, stime, cutime, cstime are fields 14..17 (1-based): 11..14 here.
    ((f[11] + f[12]) * tick, (f[13] + f[14]) * tick)
}

/// VmHWM (peak RSS) of a process, in MB.
fn proc_hwm_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// CPU ms per frame: the model update after one new event (the event read,
/// the job it names re-read, the counts, every row rebuilt, the detail)
/// plus drawing 140x36, over a real registry of `root`; and the floor, an
/// empty model drawn.
fn dash_frame_cpu(root: &Path, runs: usize) -> (f64, f64) {
    use mam::dash::{model::Model, source::Source, view};
    use ratatui::{Terminal, backend::TestBackend};
    let paths = mam::workspace::Paths::new(root.to_path_buf(), root.join(".mam"));
    let reg = mam::registry::Registry::open(&paths, "mam").expect("open the registry");
    let mut writer = mam::registry::Registry::open(&paths, "mam").expect("open the registry");
    let mut m = Model::new(reg.ws(), true);
    m.now_ms = mam::registry::now_ms();
    let mut src = Source::new();
    src.load(&reg, &mut m).expect("load");
    assert_eq!(m.jobs.len(), DASH_JOBS, "the dashboard sees every job");
    let mut term = Terminal::new(TestBackend::new(140, 36)).unwrap();
    term.draw(|f| view::render(f, &m)).unwrap();
    let mut frames = Vec::new();
    for i in 0..runs.max(20) {
        let job = format!("j{}", i % DASH_JOBS);
        writer
            .write(|tx| tx.set_progress(&job, (i % 100) as i64, None))
            .unwrap();
        let t = thread_cpu_ms();
        let changed = src.poll_events(&reg, &mut m).unwrap();
        term.draw(|f| view::render(f, &m)).unwrap();
        frames.push(thread_cpu_ms() - t);
        assert!(changed, "the new event was seen");
    }
    let empty = Model::new("w", true);
    let mut floor = Vec::new();
    for _ in 0..runs.max(20) {
        let t = thread_cpu_ms();
        term.draw(|f| view::render(f, &empty)).unwrap();
        floor.push(thread_cpu_ms() - t);
    }
    (median(frames), median(floor))
}

/// A real `mam dash` in a 140x36 pane of the bench's tmux server over
/// `root`, left alone for DASH_IDLE_S: (CPU % of a core own, of its tmux
/// children, VmHWM MB).
fn dash_idle(b: &Bench, root: &Path, name: &str) -> (f64, f64, f64) {
    let vars = [
        format!("MAM_TMUX_SOCKET={}", b.tmux.socket),
        format!("HOME={}", b.home.display()),
        "TERM=xterm-256color".to_string(),
    ];
    let rootd = root.display().to_string();
    let err = root.join("dash.stderr");
    let cmd = format!("exec '{}' dash 2>'{}'", b.mam.display(), err.display());
    let mut args: Vec<&str> = vec![
        "new-session",
        "-d",
        "-s",
        name,
        "-x",
        "140",
        "-y",
        "36",
        "-c",
        &rootd,
        "-P",
        "-F",
        "#{pane_id} #{pane_pid}",
    ];
    for v in &vars {
        args.extend(["-e", v.as_str()]);
    }
    args.extend(["--", "sh", "-c", &cmd]);
    let out = b.tmux.ok(&args);
    let (pane, pid) = out.trim().split_once(' ').expect("pane id and pid");
    let pid: u32 = pid.parse().expect("pane pid");
    // Started: it drew its title; then let the first passes settle.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let shown = b.tmux.run(&["capture-pane", "-p", "-t", pane]);
        if String::from_utf8_lossy(&shown.stdout).contains(" mam dash · ") {
            break;
        }
        assert!(
            Instant::now() < deadline && shown.status.success(),
            "mam dash did not start: {}",
            std::fs::read_to_string(&err).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    let (own0, kids0) = proc_cpu_ms(pid);
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs(DASH_IDLE_S));
    let (own1, kids1) = proc_cpu_ms(pid);
    let secs = t.elapsed().as_secs_f64();
    let hwm = proc_hwm_mb(pid);
    let _ = b.tmux.run(&["kill-session", "-t", &format!("={name}")]);
    (
        (own1 - own0) / (secs * 10.0),
        (kids1 - kids0) / (secs * 10.0),
        hwm,
    )
}

fn bench_dash(b: &Bench) -> Vec<Target> {
    eprintln!("perf: the dashboard at {DASH_JOBS} jobs");
    let config = "[agents.sleeper]\ncmd = [\"sleep\", \"100000\"]\nready = ['^']\n";
    let empty = b.workspace("dash-empty", config);
    b.mam_ok(&empty, &["init", "-q"]);
    let root = b.workspace("dash", config);
    populate(b, &root, 0, DASH_JOBS);
    let (frame, frame_floor) = dash_frame_cpu(&root, b.runs);
    eprintln!("perf:   frame {frame:.2} ms CPU, floor {frame_floor:.2} ms");
    let (e_own, e_kids, e_hwm) = dash_idle(b, &empty, "dash-empty");
    let (own, kids, hwm) = dash_idle(b, &root, "dash-500");
    println!(
        "dash, {DASH_JOBS} jobs: frame (event read + model update + draw 140x36) {frame:.2} ms CPU, median; floor (an empty model drawn) {frame_floor:.2} ms; ratio {:.1}x",
        frame / frame_floor.max(1e-3)
    );
    println!(
        "dash, {DASH_JOBS} jobs, idle {DASH_IDLE_S} s: {own:.2}% of a core (its tmux calls: {kids:.2}% more), VmHWM {hwm:.1} MB; floor (the same dashboard over an empty workspace) {e_own:.2}% (+{e_kids:.2}%), {e_hwm:.1} MB"
    );
    vec![
        Target::at_most(
            format!("dash frame CPU at {DASH_JOBS} jobs, median"),
            frame,
            10.0,
            "ms",
        ),
        Target::at_most(
            format!("dash idle CPU at {DASH_JOBS} jobs (own + its tmux calls)"),
            own + kids,
            1.0,
            "%",
        ),
        Target::at_most(
            format!("dash RSS (VmHWM) at {DASH_JOBS} jobs"),
            hwm,
            30.0,
            "MB",
        ),
    ]
}
