//! Test support: a real Mosquitto broker per test on a free loopback port,
//! killed on drop (also when a test panics). `Broker::plain()` is an
//! anonymous plain listener; `Broker::tls()` is started from
//! `examples/mosquitto.conf` and `examples/mosquitto-acl` (paths and port
//! substituted) with certificates made by the `openssl` CLI and users made by
//! `mosquitto_passwd`, so the shipped example is what the tests exercise.
//! `subscribe_raw` / `publish_raw` drive `mosquitto_sub` / `mosquitto_pub` for
//! tests that inject forged or retained messages. The bench starts its
//! broker with `Broker::try_plain()`, which says why instead of failing.

#![allow(dead_code)] // Each test module uses a different part of this.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mam::config::BrokerConfig;
use mam::events::mqtt::Endpoint;

use super::{find_program, free_port, owns_listener};

const INSTALL_HINT: &str = "install it with `sudo apt-get install mosquitto mosquitto-clients` \
     (Debian/Ubuntu) or `brew install mosquitto` (macOS)";

/// The environment variable the TLS broker's `config_toml` names for the password.
pub const PASSWORD_ENV: &str = "MAM_TEST_BROKER_PASSWORD";

/// The path of a required program; fails (never skips) with an install hint.
fn require(program: &str, hint: &str) -> PathBuf {
    match find_program(program) {
        Some(p) => p,
        None => panic!("`{program}` is required for the MQTT tests but was not found: {hint}"),
    }
}

/// Fail (never skip) when Mosquitto or its clients are missing.
pub fn require_mosquitto() -> PathBuf {
    require("mosquitto_sub", INSTALL_HINT);
    require("mosquitto_pub", INSTALL_HINT);
    require("mosquitto", INSTALL_HINT)
}

fn random_hex() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("getrandom");
    hex::encode(b)
}

/// Credentials and CA of the TLS broker.
#[derive(Debug, Clone)]
pub struct Tls {
    pub ca_file: PathBuf,
    /// The workspace id the writer may publish under (`mam/<ws>/#`).
    pub ws: String,
    /// The writer, `mam-<ws>`.
    pub username: String,
    pub password: String,
    /// The read-only watcher, `mam-watch` (reads `mam/#`).
    pub watch_username: String,
    pub watch_password: String,
}

pub struct Broker {
    pub port: u16,
    pub url: String,
    /// Set for `Broker::tls()`.
    pub tls: Option<Tls>,
    /// Workspace id used for the sync topic of raw subscriptions.
    pub ws: String,
    /// The config with `@PORT@` in place of the port.
    template: String,
    bin: PathBuf,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Broker {
    /// An anonymous plain-MQTT broker on 127.0.0.1.
    pub fn plain() -> Broker {
        require_mosquitto();
        Broker::try_plain().unwrap_or_else(|e| panic!("{e}"))
    }

    /// As [`Broker::plain`], saying why when Mosquitto or its clients are
    /// missing or it does not start.
    pub fn try_plain() -> Result<Broker, String> {
        Broker::try_plain_on(&[])
    }

    /// As [`Broker::plain`], listening on the same port on each of `also`
    /// (addresses of this machine, e.g. one end of a test's veth pair)
    /// besides 127.0.0.1, where `url` points.
    pub fn plain_on(also: &[std::net::Ipv4Addr]) -> Broker {
        require_mosquitto();
        Broker::try_plain_on(also).unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_plain_on(also: &[std::net::Ipv4Addr]) -> Result<Broker, String> {
        let need = |p: &str| find_program(p).ok_or_else(|| format!("no `{p}`: {INSTALL_HINT}"));
        let bin = need("mosquitto")?;
        need("mosquitto_pub")?;
        need("mosquitto_sub")?;
        let mut template = "listener @PORT@ 127.0.0.1\n".to_string();
        for a in also {
            template.push_str(&format!("listener @PORT@ {a}\n"));
        }
        template.push_str(
            "allow_anonymous true\n\
             persistence false\n\
             set_tcp_nodelay true\n\
             max_packet_size 2000000\n",
        );
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        let mut b = Broker::new(bin, template, None, "wtest".into(), dir);
        b.try_start()?;
        Ok(b)
    }

    /// The example production config: TLS, passwords, ACLs, for workspace `wtest`.
    pub fn tls() -> Broker {
        Broker::tls_for("wtest")
    }

    /// As [`Broker::tls`], with the writer user for workspace `ws`.
    pub fn tls_for(ws: &str) -> Broker {
        let bin = require_mosquitto();
        let openssl = require("openssl", "install it with `sudo apt-get install openssl`");
        let passwd = require("mosquitto_passwd", INSTALL_HINT);
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        make_certs(&openssl, d);

        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let example_ws = "w0123456789abcdef";
        let acl = std::fs::read_to_string(examples.join("mosquitto-acl")).expect("example ACL");
        assert!(
            acl.contains(example_ws),
            "examples/mosquitto-acl no longer names {example_ws}"
        );
        std::fs::write(d.join("mam-acl"), acl.replace(example_ws, ws)).unwrap();

        let tls = Tls {
            ca_file: d.join("ca.crt"),
            ws: ws.to_string(),
            username: format!("mam-{ws}"),
            password: random_hex(),
            watch_username: "mam-watch".into(),
            watch_password: random_hex(),
        };
        write_passwords(
            &passwd,
            d,
            &[
                (&tls.username, &tls.password),
                (&tls.watch_username, &tls.watch_password),
            ],
        );

        let template = example_conf(&examples.join("mosquitto.conf"), d, "mam-acl");

        let mut b = Broker::new(bin, template, Some(tls), ws.to_string(), dir);
        b.start();
        b
    }

    /// The fleet example (examples/fleet/): TLS, one user per host named as
    /// the host, each with its own password, and the fleet ACL with its user
    /// block copied for each `(host, ws)`. Returns the broker and each
    /// host's password, in order.
    pub fn fleet_tls(hosts: &[(&str, &str)]) -> (Broker, Vec<String>) {
        Broker::fleet_tls_with(hosts, &[], "")
    }

    /// As [`Broker::fleet_tls`], with more `users` in the password file
    /// (their passwords follow the hosts') and `extra` appended to the
    /// config (a bridge's `connection` block: it goes last, since every
    /// line after `connection` belongs to that bridge).
    pub fn fleet_tls_with(
        hosts: &[(&str, &str)],
        users: &[&str],
        extra: &str,
    ) -> (Broker, Vec<String>) {
        let bin = require_mosquitto();
        let openssl = require("openssl", "install it with `sudo apt-get install openssl`");
        let passwd = require("mosquitto_passwd", INSTALL_HINT);
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        make_certs(&openssl, d);
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet");
        let acl = std::fs::read_to_string(examples.join("mosquitto-acl")).expect("fleet ACL");
        let block = "user alpha\ntopic readwrite mam/w0123456789abcdef/#\n";
        assert!(
            acl.ends_with(block),
            "examples/fleet/mosquitto-acl no longer ends with {block:?}"
        );
        let mut out = acl[..acl.len() - block.len()].to_string();
        for (host, ws) in hosts {
            out.push_str(
                &block
                    .replace("alpha", host)
                    .replace("w0123456789abcdef", ws),
            );
        }
        std::fs::write(d.join("mam-fleet-acl"), out).unwrap();
        let names: Vec<&str> = hosts
            .iter()
            .map(|(h, _)| *h)
            .chain(users.iter().copied())
            .collect();
        let passwords: Vec<String> = names.iter().map(|_| random_hex()).collect();
        let pairs: Vec<(&str, &str)> = names
            .iter()
            .copied()
            .zip(passwords.iter().map(String::as_str))
            .collect();
        write_passwords(&passwd, d, &pairs);
        let template = example_conf(&examples.join("mosquitto.conf"), d, "mam-fleet-acl");
        let tls = Tls {
            ca_file: d.join("ca.crt"),
            ws: hosts[0].1.to_string(),
            username: hosts[0].0.to_string(),
            password: passwords[0].clone(),
            watch_username: String::new(),
            watch_password: String::new(),
        };
        let mut b = Broker::new(bin, template, Some(tls), hosts[0].1.to_string(), dir);
        b.template.push_str(extra);
        b.start();
        (b, passwords)
    }

    /// `[broker]` for a host of [`Broker::fleet_tls`]: its own user, its
    /// password read from `password_env`.
    pub fn fleet_config_toml(&self, host: &str, password_env: &str) -> String {
        let t = self
            .tls
            .as_ref()
            .expect("fleet_config_toml() needs Broker::fleet_tls()");
        format!(
            "[broker]\nurl = {:?}\nusername = {host:?}\npassword_env = {password_env:?}\nca_file = {:?}\n",
            self.url,
            t.ca_file.display().to_string()
        )
    }

    /// mosquitto_pub as fleet user `user` (password `password`).
    pub fn publish_as(
        &self,
        user: &str,
        password: &str,
        topic: &str,
        payload: &[u8],
    ) -> Result<(), String> {
        let path = self.dir.path().join(format!("payload-{}", random_hex()));
        std::fs::write(&path, payload).unwrap();
        let mut cmd = Command::new(require("mosquitto_pub", INSTALL_HINT));
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q", "1"]);
        if let Some(t) = &self.tls {
            cmd.arg("--cafile").arg(&t.ca_file);
        }
        cmd.args(["-u", user, "-P", password, "-t", topic])
            .arg("-f")
            .arg(&path);
        let out = cmd.output().expect("running mosquitto_pub");
        let _ = std::fs::remove_file(path);
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    fn new(
        bin: PathBuf,
        mut template: String,
        tls: Option<Tls>,
        ws: String,
        dir: tempfile::TempDir,
    ) -> Broker {
        // Logs go to stderr, which we keep in a file to show when start fails.
        template.push_str("\nlog_dest stderr\n");
        // As root, Mosquitto drops to the `mosquitto` user, which cannot read
        // our private temp dir.
        if unsafe { libc::geteuid() } == 0 {
            template.push_str("user root\n");
        }
        Broker {
            port: 0,
            url: String::new(),
            tls,
            ws,
            template,
            bin,
            child: None,
            dir,
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Start the broker: on a fresh free port the first time, on the same
    /// port after `stop()`.
    pub fn start(&mut self) {
        if let Err(e) = self.try_start() {
            panic!("{e}");
        }
    }

    /// As [`Broker::start`], returning why it did not start.
    pub fn try_start(&mut self) -> Result<(), String> {
        assert!(self.child.is_none(), "broker already running");
        let fixed = self.port != 0;
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = if fixed { self.port } else { free_port() };
            match self.spawn_on(port) {
                Ok(child) => {
                    self.child = Some(child);
                    self.port = port;
                    let scheme = if self.tls.is_some() { "mqtts" } else { "mqtt" };
                    self.url = format!("{scheme}://127.0.0.1:{port}");
                    return Ok(());
                }
                Err(log) => last_log = log,
            }
        }
        Err(format!("mosquitto did not start; its log:\n{last_log}"))
    }

    /// Spawn on `port` and wait until *this* process listens there.
    fn spawn_on(&self, port: u16) -> Result<Child, String> {
        let conf = self.dir.path().join("mosquitto.conf");
        std::fs::write(&conf, self.template.replace("@PORT@", &port.to_string())).unwrap();
        let log_path = self.dir.path().join("mosquitto.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = Command::new(&self.bin)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", self.bin.display()));
        let read_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
        let until = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("(exited: {status})\n{}", read_log()));
            }
            // A connect alone could reach another test's broker that took the
            // port first; on Linux, check the listening socket is our child's.
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
                && owns_listener(child.id(), port).unwrap_or(true)
            {
                return Ok(child);
            }
            if Instant::now() > until {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "(not listening on {port} after 10 s)\n{}",
                    read_log()
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Kill the broker (the port stays reserved for `start()`).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// What Mosquitto logged so far (complete only after `stop()`: it buffers).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    /// The endpoint as the writer (TLS) or anonymous (plain), built directly
    /// so tests need not set environment variables.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            host: "127.0.0.1".into(),
            port: self.port,
            tls: self.tls.is_some(),
            username: self.tls.as_ref().map(|t| t.username.clone()),
            password: self.tls.as_ref().map(|t| t.password.clone()),
            ca_file: self.tls.as_ref().map(|t| t.ca_file.clone()),
            cert_file: None,
            key_file: None,
            url: self.url.clone(),
        }
    }

    /// The endpoint as the read-only watcher (TLS only).
    pub fn watcher(&self) -> Endpoint {
        let t = self.tls.as_ref().expect("watcher() needs Broker::tls()");
        Endpoint {
            username: Some(t.watch_username.clone()),
            password: Some(t.watch_password.clone()),
            ..self.endpoint()
        }
    }

    /// `[broker]` for `BrokerConfig`-level tests; the password (TLS) is read
    /// from `PASSWORD_ENV`, which the caller sets on the `mam` command.
    pub fn config(&self) -> BrokerConfig {
        let mut c = BrokerConfig {
            url: self.url.clone(),
            password_env: PASSWORD_ENV.into(),
            ..BrokerConfig::default()
        };
        if let Some(t) = &self.tls {
            c.username = t.username.clone();
            c.ca_file = t.ca_file.display().to_string();
        }
        c
    }

    /// The same as a `.mam/config.toml` section.
    pub fn config_toml(&self) -> String {
        let c = self.config();
        format!(
            "[broker]\nurl = {:?}\nusername = {:?}\npassword_env = {:?}\nca_file = {:?}\n",
            c.url, c.username, c.password_env, c.ca_file
        )
    }

    /// `(name, value)` of the password variable, for `Command::env`.
    pub fn password_env(&self) -> Option<(&'static str, String)> {
        self.tls
            .as_ref()
            .map(|t| (PASSWORD_ENV, t.password.clone()))
    }

    /// `program` (`mosquitto_pub` or `mosquitto_sub`) connected to this
    /// broker at QoS 1 (as the writer on the TLS broker), stdin closed.
    pub fn client(&self, program: &str) -> Command {
        let mut cmd = Command::new(require(program, INSTALL_HINT));
        self.client_args(&mut cmd, false);
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Connection arguments for mosquitto_pub/mosquitto_sub.
    fn client_args(&self, cmd: &mut Command, watcher: bool) {
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q", "1"]);
        if let Some(t) = &self.tls {
            let (u, p) = if watcher {
                (&t.watch_username, &t.watch_password)
            } else {
                (&t.username, &t.password)
            };
            cmd.arg("--cafile").arg(&t.ca_file).args(["-u", u, "-P", p]);
        }
    }

    /// Publish with mosquitto_pub (as the writer on the TLS broker); QoS 1.
    pub fn publish_raw(&self, topic: &str, payload: &[u8], retain: bool) {
        if let Err(e) = self.try_publish_raw(topic, payload, retain) {
            panic!("mosquitto_pub to {topic} failed: {e}");
        }
    }

    /// As `publish_raw`, returning mosquitto_pub's failure instead of panicking.
    pub fn try_publish_raw(&self, topic: &str, payload: &[u8], retain: bool) -> Result<(), String> {
        let path = self.dir.path().join(format!("payload-{}", random_hex()));
        std::fs::write(&path, payload).unwrap();
        let mut cmd = Command::new(require("mosquitto_pub", INSTALL_HINT));
        self.client_args(&mut cmd, false);
        cmd.args(["-t", topic]).arg("-f").arg(&path);
        if retain {
            cmd.arg("-r");
        }
        let out = cmd.output().expect("running mosquitto_pub");
        let _ = std::fs::remove_file(path);
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Subscribe with mosquitto_sub (as the watcher on the TLS broker);
    /// returns once the subscription is live.
    pub fn subscribe_raw(&self, filter: &str) -> RawSub {
        self.subscribe_with(filter, None)
    }

    /// As [`Broker::subscribe_raw`], as fleet user `user` (password
    /// `password`) on a [`Broker::fleet_tls`] broker, whose first host
    /// publishes the sync messages (so `user` must read that host's
    /// workspace topics).
    pub fn subscribe_as(&self, user: &str, password: &str, filter: &str) -> RawSub {
        self.subscribe_with(filter, Some((user, password)))
    }

    fn subscribe_with(&self, filter: &str, user: Option<(&str, &str)>) -> RawSub {
        let sync = format!("mam/{}/sync-{}", self.ws, random_hex());
        let mut cmd = Command::new(require("mosquitto_sub", INSTALL_HINT));
        match user {
            Some((u, p)) => {
                let t = self.tls.as_ref().expect("subscribe_as() needs TLS");
                cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q", "1"])
                    .arg("--cafile")
                    .arg(&t.ca_file)
                    .args(["-u", u, "-P", p]);
            }
            None => self.client_args(&mut cmd, true),
        }
        cmd.args(["-t", filter, "-t", &sync, "-F", "%r %t %p"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawning mosquitto_sub");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let mut parts = line.splitn(3, ' ');
                let retain = parts.next() == Some("1");
                let topic = parts.next().unwrap_or_default().to_string();
                let payload = parts.next().unwrap_or_default().to_string();
                if tx
                    .send(RawMsg {
                        retain,
                        topic,
                        payload,
                    })
                    .is_err()
                {
                    break;
                }
            }
        });
        let sub = RawSub {
            child,
            rx,
            sync: sync.clone(),
            early: RefCell::new(VecDeque::new()),
        };
        // mosquitto_sub says nothing when subscribed: publish to the sync
        // topic until it shows up.
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            self.publish_raw(&sync, b"sync", false);
            let wait = Instant::now() + Duration::from_millis(200);
            while Instant::now() < wait {
                match sub.rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(m) if m.topic == sync => return sub,
                    // Retained messages arrive first: keep them.
                    Ok(m) => sub.early.borrow_mut().push_back(m),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        panic!("mosquitto_sub exited before subscribing")
                    }
                }
            }
            assert!(Instant::now() < until, "mosquitto_sub never subscribed");
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A message seen by `mosquitto_sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMsg {
    pub retain: bool,
    pub topic: String,
    pub payload: String,
}

/// A running `mosquitto_sub`, killed on drop.
pub struct RawSub {
    child: Child,
    rx: mpsc::Receiver<RawMsg>,
    sync: String,
    /// Messages that came while we waited for the subscription to be live.
    early: RefCell<VecDeque<RawMsg>>,
}

impl RawSub {
    /// The next message (not the sync ones), or None after `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<RawMsg> {
        if let Some(m) = self.early.borrow_mut().pop_front() {
            return Some(m);
        }
        let until = Instant::now() + timeout;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(m) if m.topic == self.sync => continue,
                Ok(m) => return Some(m),
                Err(_) => return None,
            }
        }
    }

    /// Every message until none arrives for `quiet`.
    pub fn drain(&self, quiet: Duration) -> Vec<RawMsg> {
        std::iter::from_fn(|| self.next(quiet)).collect()
    }
}

impl Drop for RawSub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1/localhost, with the same
/// openssl commands as examples/README-mosquitto.md.
/// `DIR/passwd` holding each `(user, password)`, made with `mosquitto_passwd`.
fn write_passwords(passwd: &Path, dir: &Path, users: &[(&str, &str)]) {
    let file = dir.join("passwd");
    for (i, (user, pass)) in users.iter().enumerate() {
        let mut cmd = Command::new(passwd);
        cmd.arg("-b");
        if i == 0 {
            cmd.arg("-c");
        }
        run(cmd.arg(&file).arg(user).arg(pass));
    }
}

/// A shipped Mosquitto config as a test runs it: listening on `@PORT@` on
/// loopback, its certificates, password file and ACL file `acl` read from
/// `dir`. Every path it substitutes must still be in the file, and no
/// `/etc/` path may be left outside a comment.
fn example_conf(path: &Path, dir: &Path, acl: &str) -> String {
    let conf = std::fs::read_to_string(path).expect("example conf");
    let shown = path.display();
    let dirs = format!("{}/", dir.display());
    let mut template = conf.clone();
    for (from, to) in [
        (
            "\nlistener 8883\n".to_string(),
            "\nlistener @PORT@ 127.0.0.1\n".to_string(),
        ),
        ("/etc/mosquitto/certs/".to_string(), dirs.clone()),
        ("/etc/mosquitto/passwd".to_string(), format!("{dirs}passwd")),
        (format!("/etc/mosquitto/{acl}"), format!("{dirs}{acl}")),
    ] {
        assert!(conf.contains(&from), "{shown} no longer has {from:?}");
        template = template.replace(&from, &to);
    }
    let left = template
        .lines()
        .find(|l| !l.trim_start().starts_with('#') && l.contains("/etc/"));
    assert!(left.is_none(), "unsubstituted path in {shown}: {left:?}");
    template
}

fn make_certs(openssl: &Path, d: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    run(Command::new(openssl)
        .current_dir(d)
        .args(["req", "-x509"])
        .args(ec)
        .args(["-keyout", "ca.key", "-out", "ca.crt", "-days", "30"])
        .args(["-subj", "/CN=mam test CA"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]));
    run(Command::new(openssl)
        .current_dir(d)
        .arg("req")
        .args(ec)
        .args(["-keyout", "server.key", "-out", "server.csr"])
        .args(["-subj", "/CN=localhost"]));
    std::fs::write(
        d.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n\
         basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(Command::new(openssl)
        .current_dir(d)
        .args(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt"])
        .args(["-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt"])
        .args(["-days", "30", "-sha256", "-extfile", "server.ext"]));
}

/// A second, unrelated CA (for "wrong CA" tests), written to `d/other-ca.crt`.
pub fn other_ca(d: &Path) -> PathBuf {
    let openssl = require("openssl", "install it with `sudo apt-get install openssl`");
    run(Command::new(&openssl)
        .current_dir(d)
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-keyout", "other-ca.key", "-out", "other-ca.crt"])
        .args(["-days", "30", "-subj", "/CN=some other CA"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"]));
    d.join("other-ca.crt")
}
