//! A `mam reconcile` daemon started by a test: its `--json` lines arrive on
//! a channel; killed on drop.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Env;

pub struct Daemon {
    pub child: Child,
    lines: mpsc::Receiver<Value>,
}

impl Daemon {
    /// `mam reconcile --interval 0.3 --json` in `env`.
    pub fn start(env: &Env) -> Daemon {
        let mut child = env
            .cmd()
            .args(["reconcile", "--interval", "0.3", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        Daemon { child, lines: rx }
    }

    /// Wait up to `timeout` for a line matching `f`.
    #[track_caller]
    pub fn wait_for(&self, what: &str, timeout: Duration, f: impl Fn(&Value) -> bool) -> Value {
        let until = Instant::now() + timeout;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) if f(&v) => return v,
                Ok(_) => {}
                Err(_) => panic!("daemon never reported {what}"),
            }
        }
    }

    /// The next message it heard from the broker.
    pub fn heard(&self, timeout: Duration) -> Value {
        self.wait_for("a message from the broker", timeout, |v| {
            v["type"] == "heard"
        })
    }

    /// Every line reported so far.
    pub fn drain(&self) -> Vec<Value> {
        self.lines.try_iter().collect()
    }

    /// SIGTERM, then the exit status (killed after 10 s if it hangs).
    pub fn terminate(mut self) -> std::process::ExitStatus {
        signal(self.child.id() as i32, 15);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the daemon did not stop within 10 s of SIGTERM");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `kill -SIG PID`.
pub fn signal(pid: i32, sig: i32) {
    std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
}
