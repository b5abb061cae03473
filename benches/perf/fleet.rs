//! `MAM_BENCH_ONLY=fleet`: a send to a job on another host, delivered there
//! and its receipt back, beside a local send in the same run. Two hosts,
//! alpha and beta, each a workspace with its own registry and `mam
//! reconcile` daemon, on one loopback Mosquitto, and a third workspace for
//! the local floor.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::support::Reaped;
use super::support::broker::Broker;
use super::{Bench, Row, Stat, Target, check_ok, fake_is_ready, send_config, timed_send};

/// A message's state in a registry, by its text and recipient, read on a
/// read-only connection (never in the way of the writer: WAL).
fn message_state(conn: &rusqlite::Connection, to: &str, body: &str) -> Option<String> {
    conn.query_row(
        "SELECT state FROM messages WHERE recipient = ?1 AND body = ?2",
        [to, body],
        |r| r.get(0),
    )
    .ok()
}

/// Poll `conn` every `every` until the message to `to` with `body` is
/// delivered; returns when it was seen so (panics after 30 s).
fn until_delivered(conn: &rusqlite::Connection, to: &str, body: &str, every: Duration) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if message_state(conn, to, body).as_deref() == Some("delivered") {
            return Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "{to} never had {body:?} delivered (state {:?})",
            message_state(conn, to, body)
        );
        std::thread::sleep(every);
    }
}

/// Wait until job `name`'s pane (session `mam-<name>`) shows the fake's
/// ready screen.
fn wait_pane_ready(b: &Bench, name: &str) {
    let target = format!("=mam-{name}:");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let screen = b.tmux_ok(&["capture-pane", "-p", "-t", &target]);
        if fake_is_ready(&screen) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never became ready:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Cross-host send → delivered on a ready fake agent over a loopback
/// Mosquitto, against local send → delivered on the same kind of agent in
/// the same run. Two hosts, alpha and beta, each a workspace with its own
/// registry and `mam reconcile` daemon (default interval), trusting each
/// other; the clock starts when `mam send bob@beta` is started on alpha and
/// stops when beta's registry (read-only, polled every millisecond) has the
/// message delivered, and again when alpha's has the receipt. The floor is
/// `mam send loc …` in a third workspace on the same broker, which returns
/// once the text is typed and verified. Sends alternate with the floor;
/// each waits for its agent's ready screen first.
pub(super) fn bench(b: &Bench, rows: &mut Vec<Row>) -> Vec<Target> {
    eprintln!(
        "perf: fleet: send bob@beta → delivered on beta, and its receipt on alpha, vs local send → delivered"
    );
    let gap = |what: &str, value: f64| {
        Target::at_most(
            format!("cross-host delivered − local delivered, {what}"),
            value,
            50.0,
            "ms",
        )
    };
    let broker = match Broker::try_plain() {
        Ok(br) => br,
        Err(why) => {
            let skip = |what: &str| {
                Target::skipped(
                    format!("cross-host delivered − local delivered, {what}"),
                    false,
                    50.0,
                    "ms",
                    why.clone(),
                )
            };
            return vec![skip("median"), skip("p90")];
        }
    };
    let base = send_config(b);
    let ws = |name: &str, host: &str| {
        let fleet = if host.is_empty() {
            String::new()
        } else {
            format!("[fleet]\nhost = \"{host}\"\n")
        };
        let root = b.workspace(name, &format!("{base}{fleet}{}", broker.config_toml()));
        b.mam_ok(&root, &["init", "-q"]);
        root
    };
    let (alpha, beta, local) = (ws("alpha", "alpha"), ws("beta", "beta"), ws("local", ""));
    let key = |root: &Path| {
        String::from_utf8(b.mam_ok(root, &["fleet", "show", "-q"]).stdout)
            .unwrap()
            .trim()
            .to_string()
    };
    let (ka, kb) = (key(&alpha), key(&beta));
    b.mam_ok(&alpha, &["fleet", "trust", "beta", &kb]);
    b.mam_ok(&beta, &["fleet", "trust", "alpha", &ka]);
    b.mam_ok(&beta, &["create", "bob", "--agent", "fakeplain", "-q"]);
    b.mam_ok(&local, &["create", "loc", "--agent", "fakeplain", "-q"]);
    let daemon = |root: &Path| {
        let mut c = b.mam_cmd(root, &["reconcile", "--json"]);
        c.stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = Reaped(Some(c.spawn().expect("start mam reconcile")));
        // Wait for its subscription before timing anything.
        let out = child.0.as_mut().unwrap().stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).expect("the daemon never subscribed");
            if line.contains(r#""state":"subscribed""#) {
                break;
            }
        }
        (child, rx)
    };
    let (da, _la) = daemon(&alpha);
    let (db, _lb) = daemon(&beta);
    let ro = |root: &Path| {
        rusqlite::Connection::open_with_flags(
            root.join(".mam/mam.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open registry read-only")
    };
    let (ra, rb) = (ro(&alpha), ro(&beta));
    let poll = Duration::from_millis(1);

    let cross = |i: usize| -> (Duration, Duration, Duration) {
        wait_pane_ready(b, "bob");
        let text = format!("fleet bench message {i}: the API is up on alpha:8080");
        let mut cmd = b.mam_cmd(&alpha, &["send", "bob@beta", &text]);
        let t = Instant::now();
        let out = cmd.output().expect("run mam send");
        let sent = t.elapsed();
        check_ok("mam send bob@beta", &out);
        let there = until_delivered(&rb, "bob", &text, poll) - t;
        let back = until_delivered(&ra, "bob@beta", &text, poll) - t;
        (sent, there, back)
    };
    let floor = |i: usize| -> Duration {
        wait_pane_ready(b, "loc");
        let text = format!("fleet bench message {i}: the API is up on alpha:8080");
        timed_send(b, &local, "loc", &text, "delivered")
    };
    // One untimed warm-up of each, then interleaved runs.
    cross(0);
    floor(0);
    let (mut sent, mut there, mut back, mut floors) = (vec![], vec![], vec![], vec![]);
    for i in 1..=b.runs {
        let (s, t, r) = cross(i);
        sent.push(s);
        there.push(t);
        back.push(r);
        floors.push(floor(i));
    }
    drop((da, db));
    b.kill_server();
    let floor = Stat::of(floors);
    let there = Stat::of(there);
    let back = Stat::of(back);
    let floor_label = "local send → delivered (same fake)".to_string();
    rows.push(Row {
        key: "fleet_delivered".into(),
        label: "send bob@beta → delivered on beta".into(),
        value: there.clone(),
        floor_label: floor_label.clone(),
        floor: floor.clone(),
        note: format!(
            "from starting `mam send` on alpha to beta's registry (polled every {} ms) saying delivered",
            poll.as_millis()
        ),
    });
    rows.push(Row {
        key: "fleet_receipt".into(),
        label: "send bob@beta → receipt on alpha".into(),
        value: back,
        floor_label: floor_label.clone(),
        floor: floor.clone(),
        note: "… to alpha's registry saying delivered (the receipt settled it)".into(),
    });
    rows.push(Row {
        key: "fleet_send_cmd".into(),
        label: "`mam send bob@beta` (the command)".into(),
        value: Stat::of(sent),
        floor_label,
        floor: floor.clone(),
        note: "store + outbox command + publish within its budget; returns `queued`".into(),
    });
    vec![
        gap("median", there.median - floor.median),
        gap("p90", there.p90 - floor.p90),
    ]
}
