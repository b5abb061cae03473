//! A partition between two hosts of a fleet, for real: beta runs in a
//! network namespace of the test's own, joined to the root one (where alpha
//! and the broker run) by a veth pair; the link is cut, mail goes both ways
//! while it is down, then it is restored and everything arrives exactly
//! once. Twice: a cut of a few seconds, which the connections open across
//! it survive, and one past MQTT's keepalive, which they do not (about a
//! minute).

use std::time::Duration;

use serde_json::Value;

use crate::fleet::{WAIT, daemon, fleet, remote_message};
use crate::support::netns::Netns;
use crate::support::*;

/// `(from, kind, body, state)` of each message in `mam inbox ADDR --all`,
/// sorted.
fn inbox(env: &Env, addr: &str) -> Vec<(String, String, String, String)> {
    let v = env.json(&["inbox", addr, "--all", "--json"]);
    let s = |m: &Value, k: &str| m[k].as_str().unwrap_or("-").to_string();
    let mut out: Vec<_> = v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (s(m, "from"), s(m, "kind"), s(m, "body"), s(m, "state")))
        .collect();
    out.sort();
    out
}

/// The same, from borrowed strings.
fn rows(r: &[(&str, &str, &str, &str)]) -> Vec<(String, String, String, String)> {
    let mut out: Vec<_> = r
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    out.sort();
    out
}

/// What the fake agent `agent` was typed, sorted.
fn typed(env: &Env, agent: &str) -> Vec<String> {
    let mut t = env.submits(agent);
    t.sort();
    t
}

/// How long the link stays cut.
#[derive(Clone, Copy, PartialEq)]
enum Cut {
    /// A few seconds: the connections open across it (each daemon's
    /// subscription) stall and then carry on; what the broker had for beta
    /// arrives late, with every copy alpha tried again meanwhile.
    Brief,
    /// Past MQTT's keepalive: beta's daemon finds its subscription dead and
    /// the broker drops beta's (clean) session, and with it whatever it held
    /// for beta; only alpha trying again gets those through.
    PastKeepalive,
}

/// The link is taken down at both veth ends (`ip link set … down`), not by
/// deleting a route: that is a cable pulled, silent both ways, so a
/// connection already open (each daemon's subscription) sees no reset and
/// new ones find no route, on both sides at once; a route deleted on one
/// side would still let the other side's packets in.
#[test]
fn a_brief_partition_cut_then_restored_heals_without_loss_or_duplicates() {
    partition(Cut::Brief);
}

/// As above, with the link down long enough for both ends of beta's
/// subscription to give it up (about a minute: the keepalive is 30 s).
#[test]
fn a_partition_past_the_keepalive_heals_without_loss_or_duplicates() {
    partition(Cut::PastKeepalive);
}

fn partition(cut: Cut) {
    let ns = Netns::new();
    let broker = broker::Broker::plain_on(&[ns.root_addr]);
    let hosts = fleet(&broker, &["alpha", "beta"]);
    let (a, b) = (&hosts[0], &hosts[1]);
    // beta reaches the broker only over the veth pair, from its namespace:
    // plain MQTT on a private link of the test's own (TLS between hosts is
    // the TLS fleet tests' business; every command is signed either way).
    b.write_config(&format!(
        "[fleet]\nhost = \"beta\"\n[broker]\nurl = \"mqtt://{}:{}\"\nallow_insecure = true\n",
        ns.root_addr, broker.port
    ));
    b.run_under(&ns.exec_prefix());
    a.ok(&["create", "ann", "--agent", "fake-plain"]);
    b.ok(&["create", "bob", "--agent", "fake-plain"]);
    let da = daemon(a);
    let db = daemon(b);

    // Before the cut, a question reaches bob (q1 on both hosts).
    assert_eq!(
        a.ok(&["ask", "bob@beta", "which port do the tests use?"]),
        "q1 asked of bob@beta\n"
    );
    a.eventually("the question delivered", WAIT, || {
        remote_message(a, "bob@beta", "m1")["state"] == "delivered"
    });
    let q1 = "[mam] m1 from operator@alpha: question q1: which port do the tests use?\n\
              (answer with: mam answer q1 \"…\")";
    assert_eq!(typed(b, "bob"), [q1]);

    ns.cut();
    let cut_at = std::time::Instant::now();
    // alpha to beta: two messages and a question; beta to alpha: a message
    // from bob and bob's answer to q1.
    assert_eq!(a.ok(&["send", "-q", "bob@beta", "cut a1"]), "m2\n");
    assert_eq!(a.ok(&["send", "-q", "bob@beta", "cut a2"]), "m3\n");
    assert_eq!(
        a.ok(&["ask", "bob@beta", "asked during the cut?"]),
        "q2 asked of bob@beta\n"
    );
    let as_bob = |args: &[&str]| {
        let out = b.cmd().args(args).env("MAM_AGENT", "bob").output().unwrap();
        check_ok(&format!("{args:?} on beta"), &out);
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(as_bob(&["send", "-q", "ann@alpha", "cut b1"]), "m2\n");
    assert_eq!(
        as_bob(&["answer", "q1", "5432"]),
        "m3 to operator@alpha: queued\n"
    );
    // Each side tries again (1 s, 2 s, … apart) while the link is down;
    // nothing crosses.
    match cut {
        Cut::Brief => std::thread::sleep(Duration::from_secs(5)),
        Cut::PastKeepalive => {
            // beta gives its subscription up after two keepalives (30 s
            // each) without an answer; the broker gives beta's up after 1.5
            // keepalives without a packet from it (45 s from the cut at
            // most), and drops what it held for beta.
            db.wait_for(
                "beta losing its subscription",
                Duration::from_secs(90),
                |v| v["type"] == "broker" && v["state"] == "lost",
            );
            let since = cut_at.elapsed();
            std::thread::sleep(Duration::from_secs(50).saturating_sub(since));
        }
    }
    let question = "question q1: which port do the tests use?";
    let during = "question q2: asked during the cut?";
    let answer = "answer to q1 (which port do the tests use?): 5432";
    // The senders' copies: q1, delivered before the cut, and what was sent
    // during it, in `state`.
    let copies = |state: &str| {
        assert_eq!(
            inbox(a, "bob@beta"),
            rows(&[
                ("operator", "question", question, "delivered"),
                ("operator", "message", "cut a1", state),
                ("operator", "message", "cut a2", state),
                ("operator", "question", during, state),
            ])
        );
        assert_eq!(
            inbox(b, "ann@alpha"),
            rows(&[("bob", "message", "cut b1", state)])
        );
        assert_eq!(
            inbox(b, "operator@alpha"),
            rows(&[("bob", "answer", answer, state)])
        );
    };
    copies("queued");
    assert_eq!(typed(b, "bob"), [q1]);
    assert_eq!(typed(a, "ann"), Vec::<String>::new());
    assert_eq!(inbox(a, "operator"), rows(&[]));

    ns.restore();
    // Each side tries again at most 30 s apart, and beta subscribes again
    // as soon as it can (at most 30 s apart too).
    let heal = Duration::from_secs(90);
    a.eventually("alpha's receipts", heal, || {
        inbox(a, "bob@beta").iter().all(|m| m.3 == "delivered")
    });
    b.eventually("beta's receipts", heal, || {
        [inbox(b, "ann@alpha"), inbox(b, "operator@alpha")]
            .iter()
            .flatten()
            .all(|m| m.3 == "delivered")
    });
    // Whatever copies are still on their way have time to arrive.
    std::thread::sleep(Duration::from_secs(3));

    // On beta: each of alpha's messages once, typed once.
    assert_eq!(
        inbox(b, "bob"),
        rows(&[
            ("operator@alpha", "question", question, "delivered"),
            ("operator@alpha", "message", "cut a1", "delivered"),
            ("operator@alpha", "message", "cut a2", "delivered"),
            ("operator@alpha", "question", during, "delivered"),
        ])
    );
    let mut want = vec![
        q1.to_string(),
        "[mam] m4 from operator@alpha: cut a1".into(),
        "[mam] m5 from operator@alpha: cut a2".into(),
        "[mam] m6 from operator@alpha: question q2: asked during the cut?\n\
         (answer with: mam answer q2 \"…\")"
            .into(),
    ];
    want.sort();
    assert_eq!(typed(b, "bob"), want);
    // On alpha: bob's message once, typed once; the answer once, in the
    // operator's inbox, closing q1; q2 open, waiting on bob@beta.
    assert_eq!(
        inbox(a, "ann"),
        rows(&[("bob@beta", "message", "cut b1", "delivered")])
    );
    assert_eq!(typed(a, "ann"), ["[mam] m5 from bob@beta: cut b1"]);
    assert_eq!(
        inbox(a, "operator"),
        rows(&[("bob@beta", "answer", answer, "queued")])
    );
    let open: Vec<(String, String, String)> = a.json(&["threads", "--json"])["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap().to_string();
            (s("id"), s("role"), s("counterparty"))
        })
        .collect();
    assert_eq!(
        open,
        [
            ("q2".into(), "asker".into(), "bob@beta".into()),
            ("q2".into(), "target".into(), "operator".into()),
            ("m6".into(), "inbox".into(), "bob@beta".into()),
        ]
    );
    // Every receipt settled its message on the sender.
    copies("delivered");
    // After a brief cut, the copies tried during it were all on their way
    // to beta's stalled subscription; once through, they were only received
    // again (were there none, this test would prove less than it says).
    let heard = db.drain();
    if cut == Cut::Brief {
        let dups = heard
            .iter()
            .filter(|v| v["type"] == "fleet" && v["verdict"] == "duplicate")
            .count();
        assert!(dups > 0, "no copy of a command arrived twice: {heard:?}");
    }
    // Nothing failed but the tries that found no route during the cut.
    let alpha = da.drain();
    let errors: Vec<&Value> = heard
        .iter()
        .chain(&alpha)
        .filter(|v| v["type"] == "error")
        .filter(|v| {
            !v["error"]
                .as_str()
                .unwrap()
                .ends_with("Network is unreachable (os error 101)")
        })
        .collect();
    assert_eq!(errors, Vec::<&Value>::new());
}
