//! Several hosts, one fleet: each host's name and Ed25519 key, and the hosts
//! it trusts (`mam fleet show|trust|untrust|hosts`).

use std::os::unix::fs::PermissionsExt;

use crate::support::daemon::Daemon;
use crate::support::*;

/// A workspace that calls itself `host` in the fleet.
fn host(name: &str) -> Env {
    let env = Env::new();
    env.write_config(&format!("[fleet]\nhost = \"{name}\"\n"));
    env
}

#[test]
fn two_hosts_exchange_keys_and_trust_each_other() {
    let (a, b) = (host("alpha"), host("beta"));
    let sa = a.json(&["fleet", "show", "--json"]);
    assert_eq!(sa["host"], "alpha");
    let ka = sa["public_key"].as_str().unwrap().to_string();
    assert_eq!(ka.len(), 64);
    assert!(ka.bytes().all(|c| c.is_ascii_hexdigit()));
    let kid = sa["kid"].as_str().unwrap().to_string();
    assert!(kid.starts_with('h') && kid.len() == 9, "{kid}");
    // Made once, 0600, and the same on every later show.
    let key_file = a.root.join(".mam/host.key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(a.ok(&["fleet", "show", "-q"]), format!("{ka}\n"));
    let human = a.ok(&["fleet", "show"]);
    assert_eq!(
        human,
        format!(
            "host        alpha\nkey id      {kid}\npublic key  {ka}\non each other host: mam fleet trust alpha {ka}\n"
        )
    );

    assert_eq!(
        b.ok(&["fleet", "hosts"]),
        "no other hosts known (trust one with `mam fleet trust HOST KEY`)\n"
    );
    assert_eq!(
        b.ok(&["fleet", "trust", "alpha", &ka]),
        format!("trusted alpha (key {kid})\n")
    );
    assert_eq!(
        b.ok(&[
            "fleet",
            "trust",
            "alpha",
            &format!("ed25519:{}", ka.to_uppercase())
        ]),
        format!("alpha was already trusted with key {kid}\n")
    );
    assert_eq!(
        b.ok(&["fleet", "hosts"]),
        format!("HOST   KEY ID     TRUSTED  LAST SEEN\nalpha  {kid}  yes      never\n")
    );
    let hosts = b.json(&["fleet", "hosts", "--json"]);
    assert_eq!(hosts["host"], "beta");
    assert_eq!(hosts["hosts"].as_array().unwrap().len(), 1);
    let h = &hosts["hosts"][0];
    assert_eq!(
        (
            h["host"].as_str(),
            h["public_key"].as_str(),
            h["key_id"].as_str(),
            h["trusted"].as_bool()
        ),
        (
            Some("alpha"),
            Some(ka.as_str()),
            Some(kid.as_str()),
            Some(true)
        )
    );
    assert_eq!(h["trusted_by"], "operator");
    assert!(h["last_seen"].is_null());

    // Each change is an event, signed like every other.
    let kinds: Vec<String> = b
        .ok(&["events", "--json", "--kind", "fleet.trusted"])
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["envelope"]["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kinds, ["fleet.trusted"]);
    let all = b.ok(&["events", "--json"]);
    assert!(
        all.lines().all(|l| l.contains(r#""verified":true"#)),
        "{all}"
    );

    assert_eq!(
        b.ok(&["fleet", "untrust", "alpha"]),
        "untrusted alpha: its traffic is no longer acted on\n"
    );
    assert_eq!(
        b.ok(&["fleet", "untrust", "alpha"]),
        "alpha was not trusted\n"
    );
    assert_eq!(
        b.ok(&["fleet", "hosts"]),
        format!("HOST   KEY ID     TRUSTED  LAST SEEN\nalpha  {kid}  no       never\n")
    );
}

#[test]
fn bad_fleet_input_is_refused_with_nothing_changed() {
    let (a, b) = (host("alpha"), host("beta"));
    let ka = a.ok(&["fleet", "show", "-q"]).trim().to_string();
    let kb = b.ok(&["fleet", "show", "-q"]).trim().to_string();
    for (args, code, says) in [
        (
            vec!["fleet", "trust", "Alpha", ka.as_str()],
            2,
            "invalid host name \"Alpha\"",
        ),
        (
            vec!["fleet", "trust", "a@b", ka.as_str()],
            2,
            "invalid host name",
        ),
        (
            vec!["fleet", "trust", "beta", ka.as_str()],
            2,
            "beta is this host's own name",
        ),
        (
            vec!["fleet", "trust", "alpha", "abc"],
            2,
            "invalid host key \"abc\"",
        ),
        (
            vec!["fleet", "trust", "alpha", &ka[..63]],
            2,
            "expected 32 bytes as 64 hex digits",
        ),
        (
            vec!["fleet", "untrust", "gamma"],
            3,
            "unknown host \"gamma\"",
        ),
    ] {
        let err = b.fails(&args, code);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(err.contains("hint:"), "{args:?}: {err}");
    }
    b.ok(&["fleet", "trust", "alpha", &ka]);
    // A trusted host's key is never replaced by accident, and one key is one host's.
    let err = b.fails(&["fleet", "trust", "alpha", &kb], 4);
    assert!(err.contains("already trusted with another key"), "{err}");
    let err = b.fails(&["fleet", "trust", "gamma", &ka], 4);
    assert!(err.contains("already trusted as host alpha"), "{err}");
    // Only the operator changes whom this host trusts.
    let out = b
        .cmd()
        .args(["fleet", "untrust", "alpha"])
        .env("MAM_AGENT", "bob")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only the operator may untrust a host"));
    let hosts = b.json(&["fleet", "hosts", "--json"]);
    let names: Vec<&str> = hosts["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha"]);
    assert_eq!(hosts["hosts"][0]["public_key"], ka.as_str());
    assert_eq!(hosts["hosts"][0]["trusted"], true);

    // Too long to go to another host as one packet: refused, nothing stored.
    std::fs::write(b.path("big.txt"), "x".repeat(300 * 1024)).unwrap();
    let err = b.fails(&["send", "bob@alpha", "--file", "big.txt"], 2);
    assert!(err.contains("too large to send to another host"), "{err}");
    let v = b.json(&["inbox", "bob@alpha", "--all", "--json"]);
    assert_eq!(v["messages"], serde_json::json!([]));

    // Mail to another host needs the broker it travels over; a question has
    // one recipient, never a host's every agent.
    b.expect(&["send", "bob@alpha", "hi"])
        .code(6)
        .stderr_is(
            "mam: error: bob@alpha is on another host, and mail between hosts travels over the MQTT broker, but none is configured\n\
             hint: set [broker] url in .mam/config.toml on every host of the fleet (README, Several hosts)\n",
        )
        .run();
    b.expect(&["ask", "*@alpha", "who is there?"])
        .code(2)
        .stderr_is("mam: error: a question goes to one recipient, not `*@alpha`\n")
        .run();
    let v = b.json(&["inbox", "bob@alpha", "--all", "--json"]);
    assert_eq!(v["messages"], serde_json::json!([]));
    // `*@<this host>` is this host's own broadcast.
    b.expect(&["send", "*@beta", "hi"])
        .stderr_is("mam: no live agent to broadcast to; nothing sent\n")
        .run();

    // A bad [fleet] host is named with its file.
    b.write_config("[fleet]\nhost = \"Be ta\"\n");
    let err = b.fails(&["fleet", "hosts"], 2);
    assert!(err.contains("invalid fleet.host \"Be ta\""), "{err}");
    assert!(err.contains("config.toml"), "{err}");

    // An unsafe host key file is refused.
    std::fs::set_permissions(
        a.root.join(".mam/host.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let err = a.fails(&["fleet", "show"], 6);
    assert!(err.contains("readable by others"), "{err}");
}

/// How long a fleet test waits for a daemon's line.
pub(crate) const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// A host's reconcile daemon, once it has subscribed to the broker.
pub(crate) fn daemon(env: &Env) -> Daemon {
    let d = Daemon::start(env);
    d.wait_for("its subscription", WAIT, |v| {
        v["type"] == "broker" && v["state"] == "subscribed"
    });
    d
}

/// `mam init` in each host's workspace; their workspace ids, in order.
fn init_all(hosts: &[Env]) -> Vec<String> {
    hosts
        .iter()
        .map(|h| {
            h.json(&["init", "--json"])["workspace"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Hosts sharing `broker`, each trusting every other.
pub(crate) fn fleet(broker: &broker::Broker, names: &[&str]) -> Vec<Env> {
    fleet_with(broker, names, "")
}

/// The same, with more `[fleet]` lines in each host's config.
pub(crate) fn fleet_with(broker: &broker::Broker, names: &[&str], more: &str) -> Vec<Env> {
    let hosts: Vec<Env> = names
        .iter()
        .map(|n| {
            let env = Env::new();
            env.write_config(&format!(
                "[fleet]\nhost = \"{n}\"\n{more}{}",
                broker.config_toml()
            ));
            env
        })
        .collect();
    let keys: Vec<String> = hosts
        .iter()
        .map(|h| h.ok(&["fleet", "show", "-q"]).trim().to_string())
        .collect();
    for (i, h) in hosts.iter().enumerate() {
        for (j, n) in names.iter().enumerate() {
            if i != j {
                h.ok(&["fleet", "trust", n, &keys[j]]);
            }
        }
    }
    hosts
}

/// Answer `qid` on `b` as `agent` (or as its operator), wait until the
/// asker's question q1 on `a` is closed, and return the command's stdout
/// and the answers in `a`'s operator inbox.
pub(crate) fn answer_across(
    a: &Env,
    b: &Env,
    qid: &str,
    text: &str,
    agent: Option<&str>,
) -> (String, Vec<serde_json::Value>) {
    let mut cmd = b.cmd();
    cmd.args(["answer", qid, text]);
    if let Some(n) = agent {
        cmd.env("MAM_AGENT", n);
    }
    let out = cmd.output().unwrap();
    check_ok(&format!("answer {qid} on beta"), &out);
    a.eventually(
        "the answer on alpha",
        std::time::Duration::from_secs(20),
        || {
            a.json(&["threads", "--json"])["threads"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["id"] != "q1")
        },
    );
    let inbox = a.json(&["inbox", "operator", "--all", "--json"]);
    let answers = inbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "answer")
        .cloned()
        .collect();
    (String::from_utf8(out.stdout).unwrap(), answers)
}

pub(crate) fn remote_message(env: &Env, addr: &str, id: &str) -> serde_json::Value {
    let v = env.json(&["inbox", addr, "--all", "--json"]);
    v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no {id} in {v}"))
}

#[test]
fn a_message_to_a_job_on_another_host_is_delivered_once_and_its_receipt_comes_back() {
    let broker = broker::Broker::plain();
    let hosts = fleet(&broker, &["alpha", "beta"]);
    let (a, b) = (&hosts[0], &hosts[1]);
    b.ok(&["create", "bob", "--agent", "fake-plain"]);
    let da = daemon(a);
    let db = daemon(b);

    let id = a
        .ok(&["send", "-q", "bob@beta", "hello from alpha"])
        .trim()
        .to_string();
    assert_eq!(id, "m1");
    db.wait_for("the command stored", WAIT, |v| {
        v["type"] == "fleet" && v["verdict"] == "accepted" && v["kind"] == "fleet.message"
    });
    b.eventually("bob to get it", std::time::Duration::from_secs(15), || {
        b.submits("bob")
            .iter()
            .any(|t| t.contains("hello from alpha"))
    });
    da.wait_for("the receipt", WAIT, |v| {
        v["type"] == "fleet" && v["kind"] == "fleet.receipt" && v["verdict"] == "accepted"
    });
    a.eventually(
        "the sender to see it delivered",
        std::time::Duration::from_secs(10),
        || remote_message(a, "bob@beta", "m1")["state"] == "delivered",
    );
    let m = remote_message(a, "bob@beta", "m1");
    assert_eq!(
        (m["from"].as_str(), m["to"].as_str()),
        (Some("operator"), Some("bob@beta"))
    );
    // On beta: one message, from operator@alpha, delivered with local proof.
    let inbox = b.json(&["inbox", "bob", "--all", "--json"]);
    let msgs = inbox["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 1, "{inbox}");
    assert_eq!(msgs[0]["from"], "operator@alpha");
    assert_eq!(msgs[0]["state"], "delivered");
    assert_eq!(m["how"], msgs[0]["how"], "the remote proof comes back");
    // Retries stop once the receipt is in: nothing more is typed.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let typed: Vec<String> = b
        .submits("bob")
        .into_iter()
        .filter(|t| t.contains("hello from alpha"))
        .collect();
    assert_eq!(typed.len(), 1, "{typed:?}");
    assert!(
        !db.drain().iter().any(|v| v["verdict"] == "duplicate"),
        "no command was sent again after its receipt"
    );
    // Both sides know when they last heard from the other.
    let seen = a.json(&["fleet", "hosts", "--json"]);
    assert!(seen["hosts"][0]["last_seen"].is_i64(), "{seen}");

    // Unknown job on the target: a failed receipt, with the reason.
    a.ok(&["send", "-q", "nobody@beta", "anyone?"]);
    a.eventually(
        "the failed receipt",
        std::time::Duration::from_secs(15),
        || remote_message(a, "nobody@beta", "m2")["state"] == "failed",
    );
    let m = remote_message(a, "nobody@beta", "m2");
    assert_eq!(m["last_error"], "no job named \"nobody\" on host beta");
    // Untrusted or unknown host: refused at once, nothing stored.
    let err = a.fails(&["send", "bob@gamma", "hi"], 3);
    assert!(
        err.contains("host \"gamma\" is not a trusted fleet host"),
        "{err}"
    );
    let err = a.fails(&["send", "Bob@beta", "hi"], 2);
    assert!(err.contains("invalid address"), "{err}");
}

/// A `fleet.message` to bob, from `src`, signed by `key` for `topic` (or
/// not signed at all), dated `age_ms` ago.
fn crafted(
    key: &mam::signing::host::HostKey,
    src: &str,
    topic: &str,
    age_ms: i64,
    seq: i64,
    text: &str,
    sign: bool,
) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut env = mam::signing::envelope::Envelope {
        v: 1,
        id: mam::signing::envelope::random_id(),
        ws: "wforged".into(),
        src: src.into(),
        seq,
        ts: mam::signing::rfc3339_ms(now - age_ms),
        kind: "fleet.message".into(),
        job: "bob".into(),
        body: serde_json::json!({"cmd": format!("m{seq}"), "from": "mallory", "to": "bob",
                                 "kind": "message", "text": text, "in_reply_to": null}),
        kid: key.kid(),
        sig: String::new(),
    };
    if sign {
        key.sign(&mut env, topic);
    }
    env.to_wire().into_bytes()
}

#[test]
fn forged_fleet_traffic_never_types_and_is_logged_with_its_reason() {
    use mam::signing::host::HostKey;
    let broker = broker::Broker::plain();
    let hosts = fleet(&broker, &["alpha", "beta"]);
    let (a, b) = (&hosts[0], &hosts[1]);
    b.ok(&["create", "bob", "--agent", "fake-plain"]);
    let _da = daemon(a);
    let mut db = daemon(b);
    let inbox = "mam/fleet/beta/inbox";
    let sub = broker.subscribe_raw(inbox);

    // A genuine command first, captured off the wire.
    a.ok(&["send", "-q", "bob@beta", "genuine"]);
    let genuine = sub
        .next(std::time::Duration::from_secs(10))
        .expect("the command on the wire");
    b.eventually(
        "the genuine one typed",
        std::time::Duration::from_secs(15),
        || b.submits("bob").iter().any(|t| t.contains("genuine")),
    );
    a.eventually("its receipt", std::time::Duration::from_secs(15), || {
        remote_message(a, "bob@beta", "m1")["state"] == "delivered"
    });

    let alpha_key = HostKey::load(&a.root.join(".mam/host.key")).unwrap();
    let gamma_dir = tempfile::tempdir().unwrap();
    let gamma_key = HostKey::load_or_create(&gamma_dir.path().join("host.key"), 1).unwrap();
    let cases: Vec<(&str, Vec<u8>, bool, &str)> = vec![
        (
            "unsigned",
            crafted(
                &alpha_key,
                "alpha",
                inbox,
                0,
                900_001,
                "FORGED unsigned",
                false,
            ),
            false,
            "bad-signature",
        ),
        (
            "wrong key",
            crafted(
                &gamma_key,
                "alpha",
                inbox,
                0,
                900_002,
                "FORGED wrong key",
                true,
            ),
            false,
            "unknown-key",
        ),
        (
            "untrusted host",
            crafted(
                &gamma_key,
                "gamma",
                inbox,
                0,
                900_003,
                "FORGED untrusted",
                true,
            ),
            false,
            "untrusted-host",
        ),
        (
            "another host's topic",
            crafted(
                &alpha_key,
                "alpha",
                "mam/fleet/gamma/inbox",
                0,
                900_004,
                "FORGED other topic",
                true,
            ),
            false,
            "bad-signature",
        ),
        (
            "stale",
            crafted(
                &alpha_key,
                "alpha",
                inbox,
                600_000,
                900_005,
                "FORGED stale",
                true,
            ),
            false,
            "stale",
        ),
        (
            "replayed",
            genuine.payload.clone().into_bytes(),
            false,
            "replay",
        ),
    ];
    for (what, payload, retain, reason) in &cases {
        broker.publish_raw(inbox, payload, *retain);
        let v = db.wait_for(what, WAIT, |v| {
            v["type"] == "fleet" && v["verdict"] == "rejected"
        });
        assert_eq!(v["reason"], *reason, "{what}: {v}");
        assert!(
            v["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{what}: {v}"
        );
    }
    // Retained (published while the target's daemon is down: the broker
    // hands it to the new subscription flagged so), and replayed after the
    // restart: both refused (the replay set is in the registry).
    drop(db);
    let retained = crafted(
        &alpha_key,
        "alpha",
        inbox,
        0,
        900_006,
        "FORGED retained",
        true,
    );
    broker.publish_raw(inbox, &retained, true);
    db = daemon(b);
    broker.publish_raw(inbox, genuine.payload.as_bytes(), false);
    let mut reasons = Vec::new();
    while reasons.len() < 2 {
        let v = db.wait_for("the replay after restart", WAIT, |v| {
            v["type"] == "fleet" && v["verdict"] == "rejected"
        });
        reasons.push(v["reason"].as_str().unwrap().to_string());
    }
    reasons.sort();
    assert_eq!(reasons, ["replay", "retained"]);

    // Nothing forged was typed, nor stored; the genuine one once.
    let typed = b.submits("bob");
    assert!(!typed.iter().any(|t| t.contains("FORGED")), "{typed:?}");
    assert_eq!(
        typed.iter().filter(|t| t.contains("genuine")).count(),
        1,
        "{typed:?}"
    );
    let msgs = b.json(&["inbox", "bob", "--all", "--json"]);
    assert_eq!(msgs["messages"].as_array().unwrap().len(), 1, "{msgs}");
    // Forged traffic does not make a host known or seen.
    let known = b.json(&["fleet", "hosts", "--json"]);
    let names: Vec<&str> = known["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha"]);
}

#[test]
fn while_the_target_daemon_is_down_messages_wait_and_each_arrives_once_after_it_starts() {
    let broker = broker::Broker::plain();
    let hosts = fleet(&broker, &["alpha", "beta"]);
    let (a, b) = (&hosts[0], &hosts[1]);
    b.ok(&["create", "bob", "--agent", "fake-plain"]);
    let da = daemon(a);
    for i in 1..=3 {
        a.ok(&["send", "-q", "bob@beta", &format!("while down {i}")]);
    }
    // Tried (and tried again) with nobody listening: still queued.
    da.wait_for("a retry", WAIT, |v| v["type"] == "pass");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    for i in 1..=3 {
        assert_eq!(
            remote_message(a, "bob@beta", &format!("m{i}"))["state"],
            "queued"
        );
    }
    assert!(b.submits("bob").is_empty());
    let _db = daemon(b);
    a.eventually(
        "all three delivered",
        std::time::Duration::from_secs(30),
        || (1..=3).all(|i| remote_message(a, "bob@beta", &format!("m{i}"))["state"] == "delivered"),
    );
    let typed = b.submits("bob");
    for i in 1..=3 {
        let n = typed
            .iter()
            .filter(|t| t.contains(&format!("while down {i}")))
            .count();
        assert_eq!(n, 1, "message {i}: {typed:?}");
    }
    let msgs = b.json(&["inbox", "bob", "--all", "--json"]);
    assert_eq!(msgs["messages"].as_array().unwrap().len(), 3, "{msgs}");
}

#[test]
fn three_hosts_over_tls_with_one_user_each_and_the_example_acl() {
    let names = ["alpha", "beta", "gamma"];
    let hosts: Vec<Env> = names
        .iter()
        .map(|n| {
            let env = Env::new();
            env.write_config(&format!("[fleet]\nhost = \"{n}\"\n"));
            env
        })
        .collect();
    let ws = init_all(&hosts);
    let pairs: Vec<(&str, &str)> = names
        .iter()
        .copied()
        .zip(ws.iter().map(String::as_str))
        .collect();
    let (broker, passwords) = broker::Broker::fleet_tls(&pairs);
    let keys: Vec<String> = hosts
        .iter()
        .map(|h| h.ok(&["fleet", "show", "-q"]).trim().to_string())
        .collect();
    for (i, h) in hosts.iter().enumerate() {
        h.set_env("MAM_FLEET_PASSWORD", &passwords[i]);
        h.write_config(&format!(
            "[fleet]\nhost = \"{}\"\n{}",
            names[i],
            broker.fleet_config_toml(names[i], "MAM_FLEET_PASSWORD")
        ));
        for (j, n) in names.iter().enumerate() {
            if i != j {
                h.ok(&["fleet", "trust", n, &keys[j]]);
            }
        }
    }
    let (a, b, g) = (&hosts[0], &hosts[1], &hosts[2]);
    b.ok(&["create", "bob", "--agent", "fake-plain"]);
    a.ok(&["create", "ann", "--agent", "fake-plain"]);
    let da = daemon(a);
    let db = daemon(b);
    let dg = daemon(g);

    a.ok(&["send", "-q", "bob@beta", "from alpha over tls"]);
    g.ok(&["send", "-q", "bob@beta", "from gamma over tls"]);
    // bob answers ann on alpha, as an agent would: from its own job.
    let out = b
        .cmd()
        .args(["send", "-q", "ann@alpha", "bob here"])
        .env("MAM_AGENT", "bob")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply = String::from_utf8(out.stdout).unwrap().trim().to_string();
    a.eventually(
        "alpha's message delivered",
        std::time::Duration::from_secs(20),
        || remote_message(a, "bob@beta", "m1")["state"] == "delivered",
    );
    g.eventually(
        "gamma's message delivered",
        std::time::Duration::from_secs(20),
        || remote_message(g, "bob@beta", "m1")["state"] == "delivered",
    );
    b.eventually(
        "bob's reply delivered",
        std::time::Duration::from_secs(20),
        || remote_message(b, "ann@alpha", &reply)["state"] == "delivered",
    );
    let typed = b.submits("bob");
    for text in ["from alpha over tls", "from gamma over tls"] {
        assert_eq!(
            typed.iter().filter(|t| t.contains(text)).count(),
            1,
            "{typed:?}"
        );
    }
    let ann = a.submits("ann");
    assert_eq!(
        ann.iter().filter(|t| t.contains("bob here")).count(),
        1,
        "{ann:?}"
    );
    let inbox = a.json(&["inbox", "ann", "--all", "--json"]);
    assert_eq!(inbox["messages"][0]["from"], "bob@beta");

    // The ACL: gamma cannot publish into beta's workspace topics (dropped by
    // the broker), but may publish to beta's inbox (where the daemon checks
    // it). The inbox one is what beta's daemon hears next.
    let forged = br#"{"v":1,"id":"00","ws":"x","src":"gamma","seq":1,"ts":"2026-01-01T00:00:00.000Z","kind":"job.done","job":"bob","body":{},"kid":"k0","sig":"00"}"#;
    broker
        .publish_as(
            "gamma",
            &passwords[2],
            &format!("mam/{}/jobs/bob/events", ws[1]),
            forged,
        )
        .unwrap();
    broker
        .publish_as("gamma", &passwords[2], "mam/fleet/beta/inbox", forged)
        .unwrap();
    let v = db.wait_for("the inbox publish", WAIT, |v| {
        (v["type"] == "fleet" || v["type"] == "heard") && v["verdict"] == "rejected"
    });
    assert_eq!(
        v["type"], "fleet",
        "the workspace topic publish got through: {v}"
    );
    assert_eq!(v["topic"], "mam/fleet/beta/inbox");
    // A wrong password is refused by the broker.
    let err = broker
        .publish_as("gamma", "wrong", "mam/fleet/beta/inbox", forged)
        .unwrap_err();
    assert!(
        err.contains("rror") || err.contains("refused") || err.contains("authori"),
        "{err}"
    );
    drop((da, dg));
}

#[test]
fn a_question_to_another_host_is_answered_there_and_the_answer_comes_back() {
    let broker = broker::Broker::plain();
    let hosts = fleet(&broker, &["alpha", "beta"]);
    let (a, b) = (&hosts[0], &hosts[1]);
    b.ok(&["create", "bob", "--agent", "fake-plain"]);
    let _da = daemon(a);
    let _db = daemon(b);
    let out = a.ok(&["ask", "bob@beta", "what is six times seven?"]);
    assert!(out.starts_with("q1"), "{out}");
    b.eventually(
        "bob to be asked",
        std::time::Duration::from_secs(15),
        || {
            b.submits("bob")
                .iter()
                .any(|t| t.contains("six times seven"))
        },
    );
    // On beta the question has its own id, asked by operator@alpha.
    let threads = b.json(&["threads", "bob", "--json"]);
    let t = &threads["threads"][0];
    assert_eq!(
        (t["role"].as_str(), t["counterparty"].as_str()),
        (Some("target"), Some("operator@alpha")),
        "{threads}"
    );
    let qid = t["id"].as_str().unwrap().to_string();
    // On alpha it is open, waiting on bob@beta.
    let threads = a.json(&["threads", "--json"]);
    assert!(
        threads["threads"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == "q1" && t["role"] == "asker" && t["counterparty"] == "bob@beta"),
        "{threads}"
    );
    let (out, answers) = answer_across(a, b, &qid, "forty-two", Some("bob"));
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0]["from"], "bob@beta");
    assert_eq!(answers[0]["in_reply_to"], "q1");
    assert!(
        answers[0]["body"].as_str().unwrap().ends_with("forty-two"),
        "{answers:?}"
    );
    // The answer's receipt settles it on beta; the question there is closed.
    let ans_id = out
        .split_whitespace()
        .find(|w| w.starts_with('m'))
        .unwrap()
        .trim_end_matches(':')
        .to_string();
    b.eventually(
        "the answer's receipt",
        std::time::Duration::from_secs(15),
        || remote_message(b, "operator@alpha", &ans_id)["state"] == "delivered",
    );
    // Answering it again is a conflict, as for a local question.
    let err = b.fails(&["answer", &qid, "again"], 4);
    assert!(err.contains("answered already"), "{err}");
}

#[test]
fn a_broker_outage_loses_and_doubles_nothing_on_either_side() {
    let mut broker = broker::Broker::plain();
    let hosts = fleet(&broker, &["alpha", "beta"]);
    let (a, b) = (&hosts[0], &hosts[1]);
    a.ok(&["create", "ann", "--agent", "fake-plain"]);
    b.ok(&["create", "bob", "--agent", "fake-plain"]);
    let da = daemon(a);
    let db = daemon(b);
    broker.stop();
    da.wait_for("alpha losing the broker", WAIT, |v| {
        v["type"] == "broker" && v["state"] == "lost"
    });
    db.wait_for("beta losing the broker", WAIT, |v| {
        v["type"] == "broker" && v["state"] == "lost"
    });
    let to_bob: Vec<String> = (1..=2)
        .map(|i| {
            a.ok(&["send", "-q", "bob@beta", &format!("outage a{i}")])
                .trim()
                .to_string()
        })
        .collect();
    let out = b
        .cmd()
        .args(["send", "-q", "ann@alpha", "outage b1"])
        .env("MAM_AGENT", "bob")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let to_ann = String::from_utf8(out.stdout).unwrap().trim().to_string();
    // The issue's outage: the broker down for 30 s. The commands' retries
    // and the daemons' reconnects have backed off to their longest by then.
    std::thread::sleep(std::time::Duration::from_secs(30));
    broker.start();
    a.eventually(
        "alpha's messages delivered",
        std::time::Duration::from_secs(75),
        || {
            to_bob
                .iter()
                .all(|id| remote_message(a, "bob@beta", id)["state"] == "delivered")
        },
    );
    b.eventually(
        "beta's message delivered",
        std::time::Duration::from_secs(75),
        || remote_message(b, "ann@alpha", &to_ann)["state"] == "delivered",
    );
    let (bob, ann) = (b.submits("bob"), a.submits("ann"));
    for (typed, text) in [
        (&bob, "outage a1"),
        (&bob, "outage a2"),
        (&ann, "outage b1"),
    ] {
        assert_eq!(
            typed.iter().filter(|t| t.contains(text)).count(),
            1,
            "{text}: {typed:?}"
        );
    }
}

#[test]
fn a_broadcast_to_another_host_reaches_each_of_its_live_agents_once() {
    let broker = broker::Broker::plain();
    let hosts = fleet(&broker, &["alpha", "beta"]);
    let (a, b) = (&hosts[0], &hosts[1]);
    b.ok(&["create", "bob", "--agent", "fake-plain"]);
    b.ok(&["create", "carl", "--agent", "fake-plain"]);
    let _da = daemon(a);
    let _db = daemon(b);
    let id = a
        .ok(&["send", "-q", "*@beta", "all hands on beta"])
        .trim()
        .to_string();
    a.eventually(
        "the broadcast's receipt",
        std::time::Duration::from_secs(15),
        || remote_message(a, "*@beta", &id)["state"] == "delivered",
    );
    assert_eq!(remote_message(a, "*@beta", &id)["kind"], "broadcast");
    for job in ["bob", "carl"] {
        b.eventually("each to get it", std::time::Duration::from_secs(15), || {
            b.submits(job)
                .iter()
                .any(|t| t.contains("all hands on beta"))
        });
        let inbox = b.json(&["inbox", job, "--all", "--json"]);
        let msgs = inbox["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 1, "{inbox}");
        assert_eq!(
            (msgs[0]["kind"].as_str(), msgs[0]["from"].as_str()),
            (Some("broadcast"), Some("operator@alpha"))
        );
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    for job in ["bob", "carl"] {
        let n = b
            .submits(job)
            .iter()
            .filter(|t| t.contains("all hands on beta"))
            .count();
        assert_eq!(n, 1, "{job}");
    }
    // A host with no live agent: a failed receipt saying so.
    let id = b
        .ok(&["send", "-q", "*@alpha", "anyone there?"])
        .trim()
        .to_string();
    b.eventually(
        "the failed receipt",
        std::time::Duration::from_secs(15),
        || remote_message(b, "*@alpha", &id)["state"] == "failed",
    );
    assert_eq!(
        remote_message(b, "*@alpha", &id)["last_error"],
        "no live agent on host alpha to broadcast to"
    );
}

#[test]
fn a_message_cancelled_before_the_target_has_it_is_never_sent_again() {
    let broker = broker::Broker::plain();
    let hosts = fleet(&broker, &["alpha", "beta"]);
    let (a, b) = (&hosts[0], &hosts[1]);
    b.ok(&["create", "bob", "--agent", "fake-plain"]);
    let da = daemon(a);
    let id = a
        .ok(&["send", "-q", "bob@beta", "never mind"])
        .trim()
        .to_string();
    let kept = a
        .ok(&["send", "-q", "bob@beta", "this one stays"])
        .trim()
        .to_string();
    a.ok(&["cancel", &id]);
    da.wait_for("a pass", WAIT, |v| v["type"] == "pass");
    let _db = daemon(b);
    a.eventually(
        "the kept one delivered",
        std::time::Duration::from_secs(30),
        || remote_message(a, "bob@beta", &kept)["state"] == "delivered",
    );
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(remote_message(a, "bob@beta", &id)["state"], "cancelled");
    let typed = b.submits("bob");
    assert!(!typed.iter().any(|t| t.contains("never mind")), "{typed:?}");
    assert_eq!(
        typed
            .iter()
            .filter(|t| t.contains("this one stays"))
            .count(),
        1,
        "{typed:?}"
    );
}

/// `mam doctor`'s fleet checks on `env`.
fn fleet_checks(env: &Env) -> Vec<serde_json::Value> {
    let out = env.cmd().args(["doctor", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "fleet")
        .cloned()
        .collect()
}

#[test]
fn doctor_checks_the_fleet_once_the_workspace_is_in_one() {
    let (a, b) = (host("alpha"), host("beta"));
    // Not in a fleet: no fleet line at all.
    let checks = fleet_checks;
    a.ok(&["init", "-q"]);
    assert!(checks(&a).is_empty());
    let ka = a.ok(&["fleet", "show", "-q"]).trim().to_string();
    let kid = a.json(&["fleet", "show", "--json"])["kid"]
        .as_str()
        .unwrap()
        .to_string();
    let c = checks(&a);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0]["status"], "warn");
    assert_eq!(
        c[0]["detail"],
        format!("host alpha (key {kid}) trusts no other host")
    );
    b.ok(&["fleet", "trust", "alpha", &ka]);
    let c = checks(&b);
    assert_eq!(c[0]["status"], "warn");
    assert_eq!(
        c[0]["detail"],
        "host beta trusts 1 hosts, but no broker is configured"
    );
    let broker = broker::Broker::plain();
    b.write_config(&format!(
        "[fleet]\nhost = \"beta\"\n{}",
        broker.config_toml()
    ));
    let c = checks(&b);
    assert_eq!((c.len(), c[0]["status"].as_str()), (1, Some("ok")), "{c:?}");
    assert_eq!(
        c[0]["detail"],
        "host beta (key not made yet), trusts 1 of 1 known hosts"
    );
}

#[test]
fn a_host_made_anew_is_not_taken_for_repeating_itself() {
    let broker = broker::Broker::plain();
    let hosts = fleet(&broker, &["alpha", "beta"]);
    let (a, b) = (&hosts[0], &hosts[1]);
    b.ok(&["create", "bob", "--agent", "fake-plain"]);
    let _db = daemon(b);
    {
        let _da = daemon(a);
        a.ok(&["send", "-q", "bob@beta", "before the rebuild"]);
        a.eventually(
            "the first delivered",
            std::time::Duration::from_secs(15),
            || remote_message(a, "bob@beta", "m1")["state"] == "delivered",
        );
    }
    // alpha's state directory is made anew: new workspace, new key, ids from m1.
    std::fs::remove_dir_all(a.root.join(".mam")).unwrap();
    a.write_config(&format!(
        "[fleet]\nhost = \"alpha\"\n{}",
        broker.config_toml()
    ));
    let ka = a.ok(&["fleet", "show", "-q"]).trim().to_string();
    let kb = b.ok(&["fleet", "show", "-q"]).trim().to_string();
    a.ok(&["fleet", "trust", "beta", &kb]);
    b.ok(&["fleet", "untrust", "alpha"]);
    b.ok(&["fleet", "trust", "alpha", &ka]);
    let _da = daemon(a);
    assert_eq!(
        a.ok(&["send", "-q", "bob@beta", "after the rebuild"])
            .trim(),
        "m1"
    );
    a.eventually(
        "the new m1 delivered",
        std::time::Duration::from_secs(15),
        || remote_message(a, "bob@beta", "m1")["state"] == "delivered",
    );
    let typed = b.submits("bob");
    for text in ["before the rebuild", "after the rebuild"] {
        assert_eq!(
            typed.iter().filter(|t| t.contains(text)).count(),
            1,
            "{typed:?}"
        );
    }
}

#[test]
fn the_operator_of_the_host_a_question_was_put_to_may_answer_it() {
    let broker = broker::Broker::plain();
    let hosts = fleet(&broker, &["alpha", "beta"]);
    let (a, b) = (&hosts[0], &hosts[1]);
    b.ok(&["create", "bob", "--agent", "fake-plain"]);
    let _da = daemon(a);
    let _db = daemon(b);
    a.ok(&["ask", "bob@beta", "which port?"]);
    b.eventually(
        "bob to be asked",
        std::time::Duration::from_secs(15),
        || b.submits("bob").iter().any(|t| t.contains("which port?")),
    );
    let qid = b.json(&["threads", "bob", "--json"])["threads"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // beta's operator answers from a shell, as for a local question.
    let (_, answers) = answer_across(a, b, &qid, "5432", None);
    let answers: Vec<(&str, &str)> = answers
        .iter()
        .map(|m| (m["from"].as_str().unwrap(), m["body"].as_str().unwrap()))
        .collect();
    assert_eq!(
        answers,
        [("operator@beta", "answer to q1 (which port?): 5432")]
    );
}

#[test]
fn a_message_cancelled_on_the_host_it_went_to_fails_on_the_sender_with_why() {
    let broker = broker::Broker::plain();
    let hosts = fleet(&broker, &["alpha", "beta"]);
    let (a, b) = (&hosts[0], &hosts[1]);
    // bob is stopped: what comes for it waits queued on beta.
    b.ok(&["create", "bob", "--agent", "fake-plain"]);
    b.ok(&["stop", "bob"]);
    let _da = daemon(a);
    let _db = daemon(b);
    let id = a
        .ok(&["send", "-q", "bob@beta", "not needed after all"])
        .trim()
        .to_string();
    let mut there = String::new();
    b.eventually(
        "the message on beta",
        std::time::Duration::from_secs(15),
        || {
            let v = b.json(&["inbox", "bob", "--all", "--json"]);
            match v["messages"].as_array().unwrap().first() {
                Some(m) => {
                    there = m["id"].as_str().unwrap().to_string();
                    true
                }
                None => false,
            }
        },
    );
    b.ok(&["cancel", &there]);
    a.eventually(
        "the failed receipt on alpha",
        std::time::Duration::from_secs(15),
        || remote_message(a, "bob@beta", &id)["state"] == "failed",
    );
    assert_eq!(
        remote_message(a, "bob@beta", &id)["last_error"],
        "cancelled on the receiving host"
    );
}

/// `examples/fleet/bridge.conf` as west runs it to reach `east`: its
/// address, CA and password substituted, everything else as shipped.
fn bridge_conf(east: &broker::Broker, password: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet/bridge.conf");
    let conf = std::fs::read_to_string(path).expect("examples/fleet/bridge.conf");
    let mut out = conf.clone();
    for (from, to) in [
        (
            "\naddress broker-east.internal:8883\n",
            format!("\naddress 127.0.0.1:{}\n", east.port),
        ),
        (
            "/etc/mosquitto/certs/ca.crt",
            east.dir().join("ca.crt").display().to_string(),
        ),
        (
            "\nremote_password CHANGE-ME\n",
            format!("\nremote_password {password}\n"),
        ),
    ] {
        assert!(
            conf.contains(from),
            "examples/fleet/bridge.conf no longer has {from:?}"
        );
        out = out.replace(from, &to);
    }
    let left = out
        .lines()
        .find(|l| !l.trim_start().starts_with('#') && l.contains("/etc/"));
    assert!(
        left.is_none(),
        "unsubstituted path in bridge.conf: {left:?}"
    );
    format!("\n{out}")
}

#[test]
fn two_brokers_bridged_by_the_example_carry_mail_and_answers_between_hosts() {
    let names = ["alpha", "beta"];
    let hosts: Vec<Env> = names.iter().map(|n| host(n)).collect();
    let ws = init_all(&hosts);
    let pairs: Vec<(&str, &str)> = names
        .iter()
        .copied()
        .zip(ws.iter().map(String::as_str))
        .collect();
    // East first: the bridge's user is in its password file; then west,
    // which runs the bridge to east.
    let (east, east_pw) = broker::Broker::fleet_tls_with(&pairs, &["mam-bridge"], "");
    let (west, west_pw) =
        broker::Broker::fleet_tls_with(&pairs, &[], &bridge_conf(&east, &east_pw[2]));
    // alpha is near west, beta near east: each knows only its own broker.
    let home = [(&west, &west_pw[0]), (&east, &east_pw[1])];
    let keys: Vec<String> = hosts
        .iter()
        .map(|h| h.ok(&["fleet", "show", "-q"]).trim().to_string())
        .collect();
    for (i, h) in hosts.iter().enumerate() {
        let (broker, password) = home[i];
        h.set_env("MAM_FLEET_PASSWORD", password);
        h.write_config(&format!(
            "[fleet]\nhost = \"{}\"\n{}",
            names[i],
            broker.fleet_config_toml(names[i], "MAM_FLEET_PASSWORD")
        ));
        h.ok(&["fleet", "trust", names[1 - i], &keys[1 - i]]);
    }
    let (a, b) = (&hosts[0], &hosts[1]);
    // alpha's workspace events reach east too: what a watcher there sees.
    let sub = east.subscribe_as("alpha", &east_pw[0], &format!("mam/{}/#", ws[0]));
    // The bridge connects on its own time: probe until it carries, since
    // a workspace event is published once.
    let probe = format!("mam/{}/jobs/probe/events", ws[0]);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        west.publish_as("alpha", &west_pw[0], &probe, b"probe")
            .unwrap();
        if sub
            .next(std::time::Duration::from_millis(300))
            .is_some_and(|m| m.topic == probe)
        {
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "the bridge never carried a probe"
        );
    }
    a.ok(&["create", "ann", "--agent", "fake-plain"]);
    let seen = std::iter::from_fn(|| sub.next(std::time::Duration::from_secs(10)))
        .find(|m| m.topic != probe)
        .expect("alpha's event on east");
    assert_eq!(seen.topic, format!("mam/{}/jobs/ann/events", ws[0]));
    assert!(!seen.retain);
    let ev: serde_json::Value = serde_json::from_str(&seen.payload).unwrap();
    assert_eq!(
        (ev["ws"].as_str(), ev["job"].as_str()),
        (Some(ws[0].as_str()), Some("ann"))
    );
    drop(sub);
    b.ok(&["create", "bob", "--agent", "fake-plain"]);
    let da = daemon(a);
    let db = daemon(b);

    // A message from alpha to bob on beta, and its receipt back.
    let id = a
        .ok(&["send", "-q", "bob@beta", "hello across the bridge"])
        .trim()
        .to_string();
    a.eventually(
        "the message delivered",
        std::time::Duration::from_secs(20),
        || remote_message(a, "bob@beta", &id)["state"] == "delivered",
    );
    let inbox = b.json(&["inbox", "bob", "--all", "--json"]);
    let msgs = inbox["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 1, "{inbox}");
    assert_eq!(
        (msgs[0]["from"].as_str(), msgs[0]["state"].as_str()),
        (Some("operator@alpha"), Some("delivered"))
    );
    assert_eq!(remote_message(a, "bob@beta", &id)["how"], msgs[0]["how"]);

    // A question from alpha, answered by bob on beta, closed on alpha.
    let out = a.ok(&["ask", "bob@beta", "which port is east on?"]);
    assert!(out.starts_with("q1"), "{out}");
    b.eventually(
        "bob to be asked",
        std::time::Duration::from_secs(20),
        || b.submits("bob").iter().any(|t| t.contains("which port")),
    );
    let threads = b.json(&["threads", "bob", "--json"]);
    assert_eq!(threads["threads"][0]["counterparty"], "operator@alpha");
    let qid = threads["threads"][0]["id"].as_str().unwrap().to_string();
    let (_, answers) = answer_across(a, b, &qid, "the one the test chose", Some("bob"));
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(
        (
            answers[0]["from"].as_str(),
            answers[0]["in_reply_to"].as_str()
        ),
        (Some("bob@beta"), Some("q1"))
    );

    // Exactly once: each text typed once, and no fleet traffic came twice
    // (a bridge loop would show as duplicates or replays).
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let typed = b.submits("bob");
    for text in ["hello across the bridge", "which port is east on?"] {
        assert_eq!(
            typed.iter().filter(|t| t.contains(text)).count(),
            1,
            "{typed:?}"
        );
    }
    for (name, d) in [("alpha", &da), ("beta", &db)] {
        let odd: Vec<serde_json::Value> = d
            .drain()
            .into_iter()
            .filter(|v| v["type"] == "fleet" && v["verdict"] != "accepted")
            .collect();
        assert!(odd.is_empty(), "{name}'s daemon: {odd:?}");
    }
    drop((da, db, west, east));
}

#[test]
fn a_reminder_for_a_job_on_another_host_is_sent_there_when_due() {
    let broker = broker::Broker::plain();
    let hosts = fleet(&broker, &["alpha", "beta"]);
    let (a, b) = (&hosts[0], &hosts[1]);
    b.ok(&["create", "bob", "--agent", "fake-plain"]);
    // Refused at once, nothing stored: an untrusted host, a broadcast, an
    // invalid name, a text too long for one packet.
    for (args, code, says) in [
        (
            vec!["remind", "bob@gamma", "--in", "1s", "hi"],
            3,
            "host \"gamma\" is not a trusted fleet host",
        ),
        (
            vec!["remind", "*@beta", "--in", "1s", "hi"],
            2,
            "cannot remind \"*@beta\": remind one job",
        ),
        (
            vec!["remind", "Bob@beta", "--in", "1s", "hi"],
            2,
            "invalid address",
        ),
    ] {
        let err = a.fails(&args, code);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(err.contains("hint:"), "{args:?}: {err}");
    }
    // One argument may not exceed 128 KiB: the text in 300 words of 1 KiB.
    let word = "x".repeat(1023);
    let mut args = vec!["remind", "bob@beta", "--in", "1s"];
    args.extend(std::iter::repeat_n(word.as_str(), 300));
    let err = a.fails(&args, 2);
    assert!(err.contains("too large to send to another host"), "{err}");
    assert_eq!(
        a.json(&["reminders", "--all", "--json"])["reminders"],
        serde_json::json!([])
    );
    // bob@alpha is alpha's own bob: a local job, which alpha has not.
    let err = a.fails(&["remind", "bob@alpha", "--in", "1s", "hi"], 3);
    assert!(err.contains("no job named \"bob\" to remind"), "{err}");

    let v = a.json(&["remind", "bob@beta", "--in", "1s", "--json", "stand", "up"]);
    assert_eq!(
        (v["id"].as_str(), v["target"].as_str()),
        (Some("r1"), Some("bob@beta"))
    );
    let _da = daemon(a);
    let _db = daemon(b);
    a.eventually(
        "the reminder's message delivered on beta",
        std::time::Duration::from_secs(20),
        || {
            a.json(&["inbox", "bob@beta", "--all", "--json"])["messages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["state"] == "delivered")
        },
    );
    let rs = a.json(&["reminders", "--all", "--json"]);
    let r = &rs["reminders"][0];
    assert_eq!(
        (
            r["id"].as_str(),
            r["state"].as_str(),
            r["target"].as_str(),
            r["attempts"].as_i64()
        ),
        (Some("r1"), Some("delivered"), Some("bob@beta"), Some(1)),
        "{rs}"
    );
    let fired = a.ok(&["events", "--json", "--kind", "reminder.fired"]);
    let bodies: Vec<serde_json::Value> = fired
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["envelope"]["body"].clone())
        .collect();
    assert_eq!(
        bodies,
        [serde_json::json!({"id": "r1", "target": "bob@beta", "how": "sent as m1"})]
    );
    let m = remote_message(a, "bob@beta", "m1");
    assert_eq!(
        (m["kind"].as_str(), m["from"].as_str(), m["body"].as_str()),
        (
            Some("reminder"),
            Some("operator"),
            Some("stand up (reminder r1)")
        )
    );
    let inbox = b.json(&["inbox", "bob", "--all", "--json"]);
    let msgs = inbox["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 1, "{inbox}");
    assert_eq!(
        (msgs[0]["from"].as_str(), msgs[0]["state"].as_str()),
        (Some("operator@alpha"), Some("delivered"))
    );
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let typed = b.submits("bob");
    assert_eq!(
        typed
            .iter()
            .filter(|t| t.contains("stand up (reminder r1)"))
            .count(),
        1,
        "{typed:?}"
    );
}

#[test]
fn a_host_key_gone_missing_is_said_and_never_silently_replaced() {
    let broker = broker::Broker::plain();
    let hosts = fleet(&broker, &["alpha", "beta"]);
    let a = &hosts[0];
    let key = a.root.join(".mam/host.key");
    std::fs::remove_file(&key).unwrap();
    let id = a
        .ok(&["send", "-q", "bob@beta", "still here?"])
        .trim()
        .to_string();
    // The outbox says why nothing leaves, and makes no key beta would refuse.
    let out = a.mam(&["reconcile", "--once", "-v"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "host key file {} is missing: messages to other hosts wait",
            key.display()
        )),
        "{err}"
    );
    assert!(
        !key.exists(),
        "a new host key was made behind the user's back"
    );
    assert_eq!(remote_message(a, "bob@beta", &id)["state"], "queued");
}

/// `host/name state` of every job `status --fleet --json` shows on `env`,
/// with ` (stale)` for a stale host's.
/// Wait until `env`'s `status --fleet` lists exactly `want`; past `until`,
/// fail with what it lists and what each daemon reported besides its passes
/// (which side was slow).
#[track_caller]
pub(crate) fn wait_fleet_jobs(
    env: &Env,
    want: &[&str],
    until: std::time::Instant,
    daemons: &[(&str, &Daemon)],
) {
    while fleet_jobs(env) != want {
        if std::time::Instant::now() >= until {
            let told: Vec<String> = daemons
                .iter()
                .map(|(host, d)| {
                    let lines: Vec<serde_json::Value> = d
                        .drain()
                        .into_iter()
                        .filter(|v| v["type"] != "pass")
                        .collect();
                    format!("{host}'s daemon: {lines:?}")
                })
                .collect();
            panic!(
                "never listed {want:?}: {:?}\n{}",
                fleet_jobs(env),
                told.join("\n")
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

pub(crate) fn fleet_jobs(env: &Env) -> Vec<String> {
    let v = env.json(&["status", "--fleet", "--json"]);
    v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            format!(
                "{}/{} {}{}",
                j["host"].as_str().unwrap(),
                j["name"].as_str().unwrap(),
                j["state"].as_str().unwrap(),
                if j["stale"] == true { " (stale)" } else { "" }
            )
        })
        .collect()
}

#[test]
fn status_fleet_shows_every_hosts_jobs_as_their_daemons_last_told_them() {
    let broker = broker::Broker::plain();
    let hosts = fleet_with(&broker, &["alpha", "beta", "gamma"], "heartbeat = \"1s\"\n");
    let (a, b, g) = (&hosts[0], &hosts[1], &hosts[2]);
    a.ok(&["create", "pm", "--agent", "fake-plain", "--role", "pm"]);
    b.ok(&["create", "w1", "--agent", "fake-plain"]);
    b.ok(&["create", "w2", "--agent", "fake-plain"]);
    g.ok(&["create", "g1", "--agent", "fake-plain"]);
    let da = daemon(a);
    let db = daemon(b);
    let dg = daemon(g);
    let all_ready = [
        "alpha/pm ready",
        "beta/w1 ready",
        "beta/w2 ready",
        "gamma/g1 ready",
    ];
    a.eventually("every host's jobs on alpha", WAIT, || {
        fleet_jobs(a) == all_ready
    });
    a.expect(&["status", "--fleet"])
        .ages()
        .stdout_is(
            "HOST   JOBS  HEARD\n\
             alpha  1     this host\n\
             beta   2     <AGE> ago\n\
             gamma  1     <AGE> ago\n\
             \n\
             HOST   NAME  KIND        ROLE    STATE  PROGRESS  INBOX  AGE\n\
             alpha  pm    fake-plain  pm      ready  -         0      <AGE>\n\
             beta   w1    fake-plain  worker  ready  -         0      <AGE>\n\
             beta   w2    fake-plain  worker  ready  -         0      <AGE>\n\
             gamma  g1    fake-plain  worker  ready  -         0      <AGE>\n",
        )
        .run();
    // A change on beta reaches the others, and gamma sees alpha's and beta's.
    b.ok(&["stop", "w2"]);
    // Each host hears it on its own (gamma may be a moment after alpha). A
    // snapshot whose publish failed waits out its backoff (up to 30 s) even
    // after a later change replaced it, so a loaded machine gets a minute;
    // on a timeout, what the daemons reported says which side was slow (this
    // wait timed out once at 20 s, under a full suite, in session 8).
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let daemons = [("alpha", &da), ("beta", &db), ("gamma", &dg)];
    wait_fleet_jobs(
        a,
        &[
            "alpha/pm ready",
            "beta/w1 ready",
            "beta/w2 stopped",
            "gamma/g1 ready",
        ],
        until,
        &daemons,
    );
    wait_fleet_jobs(
        g,
        &[
            "gamma/g1 ready",
            "alpha/pm ready",
            "beta/w1 ready",
            "beta/w2 stopped",
        ],
        until,
        &daemons,
    );
    // gamma's daemon stops: three heartbeats later alpha marks it stale and
    // still shows what it last said.
    dg.terminate();
    a.eventually("gamma stale on alpha", WAIT, || {
        fleet_jobs(a).contains(&"gamma/g1 ready (stale)".to_string())
    });
    a.expect(&["status", "--fleet"])
        .ages()
        .stdout_is(
            "HOST   JOBS  HEARD\n\
             alpha  1     this host\n\
             beta   2     <AGE> ago\n\
             gamma  1     <AGE> ago, stale\n\
             \n\
             HOST   NAME  KIND        ROLE    STATE          PROGRESS  INBOX  AGE\n\
             alpha  pm    fake-plain  pm      ready          -         0      <AGE>\n\
             beta   w1    fake-plain  worker  ready          -         0      <AGE>\n\
             beta   w2    fake-plain  worker  stopped        -         0      <AGE>\n\
             gamma  g1    fake-plain  worker  ready (stale)  -         0      <AGE>\n",
        )
        .run();
    let v = a.json(&["status", "--fleet", "--json"]);
    let gamma = &v["hosts"].as_array().unwrap()[2];
    assert_eq!(
        (
            gamma["host"].as_str(),
            gamma["stale"].as_bool(),
            gamma["jobs"].as_i64()
        ),
        (Some("gamma"), Some(true), Some(1)),
        "{v}"
    );
}

#[test]
fn a_daemon_that_starts_asks_its_peers_for_their_state_and_an_untrusted_hosts_is_forgotten() {
    let broker = broker::Broker::plain();
    // A heartbeat far longer than the test: only the request brings it.
    let hosts = fleet_with(&broker, &["alpha", "beta"], "heartbeat = \"10m\"\n");
    let (a, b) = (&hosts[0], &hosts[1]);
    b.ok(&["create", "w1", "--agent", "fake-plain"]);
    let db = daemon(b);
    // beta's daemon sent its state when it started, when nobody listened.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(fleet_jobs(a), Vec::<String>::new());
    let _da = daemon(a);
    a.eventually("beta's state, asked for", WAIT, || {
        fleet_jobs(a) == ["beta/w1 ready"]
    });
    db.wait_for("alpha's request", WAIT, |v| {
        v["type"] == "fleet" && v["kind"] == "fleet.status_request" && v["from_host"] == "alpha"
    });
    // What an untrusted host said is no longer shown.
    a.ok(&["fleet", "untrust", "beta"]);
    assert_eq!(fleet_jobs(a), Vec::<String>::new());
    a.expect(&["status", "--fleet"])
        .stdout_is("HOST   JOBS  HEARD\nalpha  0     this host\n\nno jobs on any host\n")
        .run();
}

#[test]
fn doctor_tells_a_peer_clock_that_drifts_towards_and_past_the_replay_window() {
    let broker = broker::Broker::plain();
    let hosts = fleet_with(&broker, &["alpha", "beta"], "heartbeat = \"1s\"\n");
    let (a, b) = (&hosts[0], &hosts[1]);
    let _da = daemon(a);
    // (status, detail) of alpha's clock check, once beta's state arrived.
    let clock = |a: &Env| {
        let c = fleet_checks(a);
        assert_eq!(c.len(), 2, "{c:?}");
        (
            c[1]["status"].as_str().unwrap().to_string(),
            c[1]["detail"].as_str().unwrap().to_string(),
        )
    };
    let db = daemon(b);
    a.eventually("beta's state", WAIT, || {
        fleet_jobs(a).is_empty() && {
            let v = a.json(&["fleet", "hosts", "--json"]);
            v["hosts"][0]["last_seen"].is_i64()
        }
    });
    let (status, detail) = clock(a);
    assert_eq!(status, "ok", "{detail}");
    assert!(
        regex::Regex::new(
            r"^every host's clock is within \d+ ms of this one's \(1 measured; replay window 300 s\)$"
        )
        .unwrap()
        .is_match(&detail),
        "{detail}"
    );
    // beta's daemon again with its clock moved: once its state is in, what
    // alpha's doctor says of it.
    let mut db = Some(db);
    let mut skewed = |offset: &str, status: &str| {
        db.take().unwrap().terminate();
        b.set_env("MAM_TEST_CLOCK_MS", offset);
        db = Some(daemon(b));
        a.eventually(&format!("the skew measured: {status}"), WAIT, || {
            clock(a).0 == status
        });
        clock(a).1
    };
    // 200.5 s ahead (less the trip): a warning.
    assert_eq!(
        skewed("+200500", "warn"),
        "host beta's clock is 200 s ahead of alpha's, more than half the replay window (300 s)"
    );
    // 400.5 s: past the window, its traffic refused as stale, and said so.
    assert_eq!(
        skewed("+400500", "fail"),
        "host beta's clock is 400 s ahead of alpha's, past the replay window (300 s): its traffic is refused as stale"
    );
    let out = a.cmd().arg("doctor").output().unwrap();
    assert_eq!(out.status.code(), Some(6));
}
