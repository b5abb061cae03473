//! `MAM_BENCH_ONLY=fleet-status`: `mam status --fleet` over three hosts of
//! 100 jobs each, read from the cache their daemons keep, beside the same
//! host's plain `status --json` over its own 100 jobs (the floor: what the
//! fleet view adds is the cache); and the RSS of a daemon whose cache holds
//! 500 jobs of other hosts. Three workspaces on one machine, each with its
//! own daemon, one loopback Mosquitto, sleeper jobs in the bench's tmux
//! server (one session prefix per host).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::support::Reaped;
use super::support::broker::Broker;
use super::{Bench, Row, Target, populate, proc_kb};

const HOSTS: [&str; 3] = ["alpha", "beta", "gamma"];
const JOBS: usize = 100;
/// beta's jobs for the memory figure: with gamma's, 500 in alpha's cache.
const MANY: usize = 400;

/// `status --fleet --json` on `root`: how many jobs of each host it shows.
fn shown(b: &Bench, root: &std::path::Path) -> Vec<(String, usize)> {
    let out = b.mam_ok(root, &["status", "--fleet", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("status --fleet prints JSON");
    v["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .map(|h| {
            (
                h["host"].as_str().unwrap_or("").to_string(),
                h["jobs"].as_u64().unwrap_or(0) as usize,
            )
        })
        .collect()
}

fn wait_for(b: &Bench, root: &std::path::Path, want: &[(String, usize)], what: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let got = shown(b, root);
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: status --fleet shows {got:?}, not {want:?}, after 90 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub(super) fn bench(b: &Bench, rows: &mut Vec<Row>) -> Vec<Target> {
    eprintln!("perf: status --fleet over 3 x {JOBS} jobs; daemon RSS with 500 remote jobs");
    let broker = Broker::plain();
    let roots: Vec<PathBuf> = HOSTS
        .iter()
        .map(|h| {
            b.workspace(
                &format!("fleet-{h}"),
                &format!(
                    "[tmux]\nprefix = \"{h}-\"\n[fleet]\nhost = \"{h}\"\nheartbeat = \"2s\"\n{}\
                     [agents.sleeper]\ncmd = [\"sleep\", \"100000\"]\nready = ['^']\n",
                    broker.config_toml()
                ),
            )
        })
        .collect();
    for r in &roots {
        populate(b, r, 0, JOBS);
    }
    let keys: Vec<String> = roots
        .iter()
        .map(|r| {
            String::from_utf8(b.mam_ok(r, &["fleet", "show", "-q"]).stdout)
                .unwrap()
                .trim()
                .to_string()
        })
        .collect();
    for (i, r) in roots.iter().enumerate() {
        for (j, h) in HOSTS.iter().enumerate() {
            if i != j {
                b.mam_ok(r, &["fleet", "trust", h, &keys[j]]);
            }
        }
    }
    let mut daemons: Vec<Reaped> = roots
        .iter()
        .map(|r| {
            let mut c = b.mam_cmd(r, &["reconcile", "--interval", "1", "--json"]);
            c.stdout(Stdio::null()).stderr(Stdio::null());
            Reaped(Some(c.spawn().expect("start mam reconcile")))
        })
        .collect();
    let each = |n: [usize; 3]| -> Vec<(String, usize)> {
        HOSTS.iter().map(|h| h.to_string()).zip(n).collect()
    };
    wait_for(b, &roots[0], &each([JOBS; 3]), "every host's jobs on alpha");
    let alpha = &roots[0];
    let floor = b.sample("mam status --json (alpha's 100)", || {
        b.mam_cmd(alpha, &["status", "--json"])
    });
    let fleet = b.sample("mam status --fleet --json (3 x 100)", || {
        b.mam_cmd(alpha, &["status", "--fleet", "--json"])
    });
    let text = b.sample("mam status --fleet (3 x 100)", || {
        b.mam_cmd(alpha, &["status", "--fleet"])
    });
    let fleet_median = fleet.median;
    let text_median = text.median;
    rows.push(Row {
        key: "status_fleet_300".into(),
        label: format!("status --fleet --json, 3 hosts x {JOBS} jobs"),
        value: fleet,
        floor_label: format!("status --json, this host's {JOBS}"),
        floor: floor.clone(),
        note: "daemons running, cache current".into(),
    });
    rows.push(Row {
        key: "status_fleet_300_text".into(),
        label: format!("status --fleet (table), 3 hosts x {JOBS} jobs"),
        value: text,
        floor_label: format!("status --json, this host's {JOBS}"),
        floor,
        note: String::new(),
    });
    let hwm_before = proc_kb(daemons[0].id(), "VmHWM").expect("daemon VmHWM");

    // beta grows to 400 jobs: alpha's cache holds 500 of other hosts.
    populate(b, &roots[1], JOBS, MANY);
    wait_for(
        b,
        alpha,
        &each([JOBS, MANY, JOBS]),
        "beta's 400 jobs on alpha",
    );
    // A few more heartbeats of the large snapshot.
    std::thread::sleep(Duration::from_secs(6));
    let pid = daemons[0].id();
    let rss = proc_kb(pid, "VmRSS").expect("daemon VmRSS");
    let hwm = proc_kb(pid, "VmHWM").expect("daemon VmHWM");
    for d in &mut daemons {
        d.terminate(Duration::from_secs(10));
    }
    eprintln!(
        "perf:   alpha's daemon: VmHWM {:.1} MB with 200 remote jobs, {:.1} MB (VmRSS {:.1} MB) with 500",
        hwm_before as f64 / 1024.0,
        hwm as f64 / 1024.0,
        rss as f64 / 1024.0
    );
    vec![
        Target::at_most(
            "status --fleet --json over 3 x 100 jobs from the cache, median",
            fleet_median,
            50.0,
            "ms",
        ),
        Target::at_most(
            "status --fleet (table) over 3 x 100 jobs, median",
            text_median,
            50.0,
            "ms",
        ),
        Target::at_most(
            "daemon with 500 remote jobs in its cache, VmHWM",
            hwm as f64 / 1024.0,
            30.0,
            "MB",
        ),
    ]
}
