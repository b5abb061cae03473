//! Signed events end to end: the outbox, publishing to a real Mosquitto the
//! test starts on a free loopback port, `mam watch` accepting genuine events
//! and rejecting everything else with its reason, and a broker that goes away.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use mam::events::envelope::Envelope;
use serde_json::{Value, json};

use crate::broker::Broker;
use crate::support::*;

fn local_events(env: &Env) -> Vec<Value> {
    env.ok(&["events", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `mam watch --json` as a child, returned once it is subscribed.
fn watch(env: &Env, broker: &Broker, count: usize) -> Child {
    let mut c = env.cmd();
    if let Some((k, v)) = broker.password_env() {
        c.env(k, v);
    }
    let mut child = c
        .args([
            "watch",
            "--json",
            "--count",
            &count.to_string(),
            "--for",
            "20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("watching"), "watch did not start: {line}");
    child
}

fn watch_output(child: Child) -> Vec<Value> {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "watch failed: {:?}", out.status);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Sign an envelope with a key from the workspace key file (index into keys).
fn forge(
    env: &Env,
    key_index: usize,
    kind: &str,
    job: &str,
    seq: i64,
    ts_ms: i64,
) -> (String, Vec<u8>) {
    let ring: Value =
        serde_json::from_str(&std::fs::read_to_string(env.path(".mam/secret.key")).unwrap())
            .unwrap();
    let key = &ring["keys"][key_index];
    let ws = env.json(&["init", "--json"])["workspace"]
        .as_str()
        .unwrap()
        .to_string();
    let topic = mam::events::topic("mam", &ws, kind, job);
    let mut e = Envelope {
        v: 1,
        id: mam::events::envelope::random_id(),
        ws,
        src: "s-test-forger".into(),
        seq,
        ts: mam::events::rfc3339_ms(ts_ms),
        kind: kind.into(),
        job: job.into(),
        body: json!({"artifacts": []}),
        kid: key["kid"].as_str().unwrap().into(),
        sig: String::new(),
    };
    e.sign(
        &topic,
        &hex::decode(key["secret"].as_str().unwrap()).unwrap(),
    );
    (topic, e.to_wire().into_bytes())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn every_state_change_is_one_envelope_in_the_log_and_on_the_broker_in_order() {
    let broker = Broker::plain();
    let env = Env::new();
    env.write_config(&broker.config_toml());
    let raw = broker.subscribe_raw("mam/#");
    env.ok(&["create", "alice", "--agent", "fake-plain", "--prompt", "go"]);
    env.ok(&["send", "alice", "hello"]);
    env.cmd()
        .env("MAM_AGENT", "alice")
        .args(["progress", "50"])
        .output()
        .unwrap();
    env.ok(&["stop", "alice"]);
    let local = local_events(&env);
    assert!(local.len() >= 7, "{local:?}");
    assert!(
        local
            .iter()
            .all(|e| e["published"] == true && e["verified"] == true),
        "{local:?}"
    );
    let got = raw.drain(Duration::from_secs(2));
    assert_eq!(
        got.len(),
        local.len(),
        "broker got {} of {}",
        got.len(),
        local.len()
    );
    for (l, r) in local.iter().zip(&got) {
        let wire: Value = serde_json::from_str(&r.payload).unwrap();
        assert_eq!(wire, l["envelope"], "same envelope, same order");
        assert_eq!(r.topic, l["topic"].as_str().unwrap());
        assert!(!r.retain);
    }
    let seqs: Vec<i64> = local
        .iter()
        .map(|e| e["envelope"]["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let kinds: Vec<&str> = local
        .iter()
        .map(|e| e["envelope"]["kind"].as_str().unwrap())
        .collect();
    for k in [
        "job.created",
        "job.state",
        "message.sent",
        "message.delivered",
        "job.progress",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
}

#[test]
fn seq_is_strictly_increasing_across_processes() {
    let env = Env::new();
    let children: Vec<_> = (0..8)
        .map(|i| {
            env.cmd()
                .args(["send", "-q", "operator", &format!("n{i}")])
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let local = local_events(&env);
    let seqs: Vec<i64> = local
        .iter()
        .map(|e| e["envelope"]["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs.len(), 8);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let srcs: std::collections::HashSet<&str> = local
        .iter()
        .map(|e| e["envelope"]["src"].as_str().unwrap())
        .collect();
    assert_eq!(srcs.len(), 1);
}

#[test]
fn watch_accepts_genuine_events_and_rejects_everything_else_with_its_reason() {
    let broker = Broker::plain();
    let env = Env::new();
    env.write_config(&format!(
        "{}[security]\nkey_grace = \"0s\"\n",
        broker.config_toml()
    ));
    env.ok(&["init"]);
    let now = now_ms();
    let (topic, genuine) = forge(&env, 0, "job.done", "alice", 1, now);
    let mut flipped = genuine.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 0x04;
    let (_, mut unknown) = forge(&env, 0, "job.done", "alice", 2, now);
    let kid = env.json(&["key", "show", "--json"])["current"]
        .as_str()
        .unwrap()
        .to_string();
    unknown = String::from_utf8(unknown)
        .unwrap()
        .replace(&kid, "k00000000")
        .into_bytes();
    let other_topic = topic.replace("/alice/", "/bob/");
    let (_, stale_future) = forge(&env, 0, "job.done", "alice", 3, now + 301_000);
    let (_, stale_past) = forge(&env, 0, "job.done", "alice", 4, now - 301_000);
    let (_, fresh_future) = forge(&env, 0, "job.done", "alice", 5, now + 299_000);
    let (_, fresh_past) = forge(&env, 0, "job.done", "alice", 6, now - 299_000);
    let (_, retained) = forge(&env, 0, "job.done", "alice", 7, now);

    // A retained message is what a *new* subscriber is handed: publish it
    // before watch subscribes (live forwarding clears the retain flag).
    broker.publish_raw(&topic, &retained, true);
    let w = watch(&env, &broker, 10);
    broker.publish_raw(&topic, &genuine, false);
    broker.publish_raw(&topic, &flipped, false);
    broker.publish_raw(&topic, &unknown, false);
    broker.publish_raw(&other_topic, &genuine, false);
    broker.publish_raw(&topic, &genuine, false); // replayed
    broker.publish_raw(&topic, &stale_future, false);
    broker.publish_raw(&topic, &stale_past, false);
    broker.publish_raw(&topic, &fresh_future, false);
    broker.publish_raw(&topic, &fresh_past, false);
    let got = watch_output(w);
    broker.publish_raw(&topic, b"", true); // clear the retained message
    let verdicts: Vec<String> = got
        .iter()
        .map(|v| {
            if v["accepted"] == true {
                "ok".to_string()
            } else {
                v["reason"].as_str().unwrap().to_string()
            }
        })
        .collect();
    assert_eq!(
        verdicts,
        vec![
            "retained",
            "ok",
            "bad-signature",
            "unknown-key",
            "bad-signature",
            "replay",
            "stale",
            "stale",
            "ok",
            "ok"
        ],
        "{got:#?}"
    );

    // A replay is still a replay after watch restarts.
    let w = watch(&env, &broker, 1);
    broker.publish_raw(&topic, &genuine, false);
    let got = watch_output(w);
    assert_eq!(got[0]["reason"], "replay", "{got:?}");

    // A retired key (grace 0s) no longer verifies.
    env.ok(&["key", "rotate"]);
    let (_, old_key) = forge(&env, 0, "job.done", "alice", 8, now_ms());
    let (_, new_key) = forge(&env, 1, "job.done", "alice", 9, now_ms());
    let w = watch(&env, &broker, 2);
    broker.publish_raw(&topic, &old_key, false);
    broker.publish_raw(&topic, &new_key, false);
    let got = watch_output(w);
    assert_eq!(got[0]["reason"], "retired-key", "{got:?}");
    assert_eq!(got[1]["accepted"], true, "{got:?}");
}

#[test]
fn watch_over_tls_with_a_password_sees_mams_own_events() {
    let env = Env::new();
    let ws = env.ok(&["init", "-q"]).trim().to_string();
    let broker = Broker::tls_for(&ws);
    env.write_config(&broker.config_toml());
    let (k, v) = broker.password_env().unwrap();
    let w = watch(&env, &broker, 3);
    let out = env
        .cmd()
        .env(k, &v)
        .args(["create", "t", "--agent", "fake-plain"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = watch_output(w);
    assert!(got.iter().all(|g| g["accepted"] == true), "{got:#?}");
    let kinds: Vec<&str> = got
        .iter()
        .map(|g| g["envelope"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["job.created", "job.session", "job.state"]);
    // doctor is happy with it.
    let out = env
        .cmd()
        .env(k, &v)
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let b = d["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "broker")
        .unwrap()
        .clone();
    assert_eq!(b["status"], "ok", "{b}");
}

#[test]
fn a_down_broker_costs_little_and_loses_nothing() {
    let mut broker = Broker::plain();
    let env = Env::new();
    env.write_config(&broker.config_toml());
    env.ok(&["init"]);
    broker.stop();
    let t = Instant::now();
    env.ok(&["send", "operator", "while the broker is down"]);
    let took = t.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "send took {took:?} with the broker down"
    );
    let pending: Vec<Value> = local_events(&env)
        .into_iter()
        .filter(|e| e["published"] == false)
        .collect();
    assert_eq!(pending.len(), 1, "the event waits in the outbox");
    // reconcile says it could not publish: exit 6, nothing lost.
    env.fails(&["reconcile", "--once"], 6);
    broker.start();
    let raw = broker.subscribe_raw("mam/#");
    env.ok(&["reconcile", "--once"]);
    let got = raw.drain(Duration::from_secs(1));
    assert_eq!(got.len(), 1, "{got:?}");
    let wire: Value = serde_json::from_str(&got[0].payload).unwrap();
    assert_eq!(wire, pending[0]["envelope"]);
    // Published once: another pass sends nothing again.
    env.ok(&["reconcile", "--once"]);
    assert!(raw.drain(Duration::from_millis(500)).is_empty());
}

#[test]
fn bad_broker_settings_are_environment_errors_and_lose_nothing() {
    let env = Env::new();
    let ws = env.ok(&["init", "-q"]).trim().to_string();
    let broker = Broker::tls_for(&ws);
    env.ok(&["send", "operator", "an event to keep"]);
    let (k, v) = broker.password_env().unwrap();
    let other_ca = env.dir.path().join("other-ca.pem");
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=other",
        ])
        .arg("-keyout")
        .arg(env.dir.path().join("other-ca.key"))
        .arg("-out")
        .arg(&other_ca)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let good = broker.config_toml();
    let cases = [
        ("wrong password", good.clone(), "wrong-password".to_string()),
        ("wrong CA", good.replace(&broker.tls.as_ref().unwrap().ca_file.display().to_string(), &other_ca.display().to_string()), v.clone()),
        ("public broker", "[broker]\nurl = \"mqtts://test.mosquitto.org:8883\"\nca_file = \"/etc/ssl/certs/ca-certificates.crt\"\n".to_string(), v.clone()),
        ("plain to a remote host", "[broker]\nurl = \"mqtt://192.0.2.10:1883\"\n".to_string(), v.clone()),
    ];
    for (what, cfg, password) in cases {
        env.write_config(&cfg);
        let out = env
            .cmd()
            .env(k, &password)
            .args(["doctor"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(6),
            "doctor, {what}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let out = env
            .cmd()
            .env(k, &password)
            .args(["reconcile", "--once"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(6), "reconcile, {what}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("mam: error:") && err.contains("hint:"),
            "{what}: {err}"
        );
        // Ordinary commands still work, and the outbox keeps everything.
        let out = env
            .cmd()
            .env(k, &password)
            .args(["send", "-q", "operator", what])
            .output()
            .unwrap();
        assert!(out.status.success(), "send with {what}");
    }
    let local = local_events(&env);
    assert_eq!(local.len(), 5);
    assert!(local.iter().all(|e| e["published"] == false));
}
