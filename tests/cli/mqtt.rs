//! The MQTT transport (`mam::events::mqtt`) against a real Mosquitto: plain
//! and TLS with passwords and ACLs (from examples/mosquitto.conf), failures
//! that must be quick exit-6 errors, and retained messages showing as such.

use std::time::{Duration, Instant};

use mam::config::BrokerConfig;
use mam::error::{Code, code_of, hint_of};
use mam::events::mqtt::{self, Endpoint, Incoming};

use crate::broker::{Broker, other_ca};

const WAIT: Duration = Duration::from_secs(5);

fn msgs(ws: &str, n: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            (
                format!("mam/{ws}/jobs/j{i}/events"),
                format!("{{\"n\":{i}}}").into_bytes(),
            )
        })
        .collect()
}

fn receive_all(sub: &mut mqtt::Subscription, n: usize) -> Vec<Incoming> {
    (0..n)
        .map(|i| {
            sub.next(WAIT)
                .unwrap()
                .unwrap_or_else(|| panic!("message {i} never arrived"))
        })
        .collect()
}

fn env_error(e: &anyhow::Error, needle: &str) {
    let text = format!("{e:#}");
    assert_eq!(code_of(e), Code::Environment, "{text}");
    assert!(hint_of(e).is_some(), "no hint: {text}");
    assert!(text.contains(needle), "expected {needle:?} in: {text}");
}

#[test]
fn mqtt_plain_publish_arrives_once_in_order() {
    let b = Broker::plain();
    let ep = b.endpoint();
    let mut sub = mqtt::subscribe(&ep, "mam/wtest/#").unwrap();
    let sent = msgs("wtest", 3);
    assert_eq!(mqtt::publish(&ep, &sent, WAIT).unwrap(), vec![true; 3]);
    let got = receive_all(&mut sub, 3);
    for (g, (topic, payload)) in got.iter().zip(&sent) {
        assert_eq!(&g.topic, topic);
        assert_eq!(&g.payload, payload);
        assert!(!g.retain);
    }
    assert_eq!(sub.next(Duration::from_millis(300)).unwrap(), None);
    mqtt::check(&ep, WAIT).unwrap();
    assert_eq!(mqtt::publish(&ep, &[], WAIT).unwrap(), Vec::<bool>::new());
}

#[test]
fn mqtt_large_events_fit_the_packet_size() {
    let b = Broker::plain();
    let ep = b.endpoint();
    let mut sub = mqtt::subscribe(&ep, "mam/#").unwrap();
    // rumqttc's default limit is 10 KiB; inline attachments go well past it.
    let big = vec![(
        "mam/wtest/jobs/big/events".to_string(),
        vec![b'x'; 300 * 1024],
    )];
    assert_eq!(mqtt::publish(&ep, &big, WAIT).unwrap(), vec![true]);
    assert_eq!(receive_all(&mut sub, 1)[0].payload.len(), 300 * 1024);
    // Over 1 MiB is refused before connecting, not by a dropped connection.
    let huge = vec![("mam/wtest/x".to_string(), vec![0u8; 2 * 1024 * 1024])];
    assert_eq!(
        code_of(&mqtt::publish(&ep, &huge, WAIT).unwrap_err()),
        Code::Usage
    );
}

#[test]
fn mqtt_tls_with_password_and_acl() {
    let b = Broker::tls();
    let ws = &b.tls.as_ref().unwrap().ws;
    let writer = b.endpoint();
    let mut sub = mqtt::subscribe(&b.watcher(), "mam/#").unwrap();
    mqtt::check(&writer, WAIT).unwrap();

    let sent = msgs(ws, 2);
    assert_eq!(mqtt::publish(&writer, &sent, WAIT).unwrap(), vec![true; 2]);
    let got = receive_all(&mut sub, 2);
    assert_eq!(got[0].topic, sent[0].0);
    assert_eq!(got[1].payload, sent[1].1);

    // The ACL: the writer may not write another workspace's topics, nor the
    // watcher anything. Mosquitto still acks (MQTT 3.1.1 has no way to say
    // no) but delivers nothing.
    let other = vec![("mam/wother/jobs/x/events".to_string(), b"{}".to_vec())];
    assert_eq!(mqtt::publish(&writer, &other, WAIT).unwrap(), vec![true]);
    let own = vec![(format!("mam/{ws}/jobs/x/events"), b"{}".to_vec())];
    assert_eq!(mqtt::publish(&b.watcher(), &own, WAIT).unwrap(), vec![true]);
    assert_eq!(sub.next(Duration::from_millis(500)).unwrap(), None);

    // The example config has `retain_available false`: a retained publish
    // gets the client disconnected.
    let topic = format!("mam/{ws}/jobs/r/events");
    assert!(b.try_publish_raw(&topic, b"{}", true).is_err());
    b.publish_raw(&topic, b"{}", false);
    assert!(!sub.next(WAIT).unwrap().unwrap().retain);
}

#[test]
fn mqtt_tls_wrong_password_is_not_authorised() {
    let b = Broker::tls();
    let ep = Endpoint {
        password: Some("wrong".into()),
        ..b.endpoint()
    };
    let e = mqtt::publish(&ep, &msgs("wtest", 1), WAIT).unwrap_err();
    env_error(&e, "not authorised");
    env_error(&mqtt::check(&ep, WAIT).unwrap_err(), "not authorised");
    let e = mqtt::subscribe(&ep, "mam/#").err().unwrap();
    env_error(&e, "not authorised");
    let anonymous = Endpoint {
        username: None,
        password: None,
        ..b.endpoint()
    };
    env_error(
        &mqtt::check(&anonymous, WAIT).unwrap_err(),
        "not authorised",
    );
}

#[test]
fn mqtt_tls_wrong_ca_or_plain_client_fails() {
    let b = Broker::tls();
    let ep = Endpoint {
        ca_file: Some(other_ca(b.dir())),
        ..b.endpoint()
    };
    let e = mqtt::publish(&ep, &msgs("wtest", 1), WAIT).unwrap_err();
    env_error(&e, "TLS failure");

    // A CA file that is not PEM is refused with the file named.
    let junk = b.dir().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let ep = Endpoint {
        ca_file: Some(junk),
        ..b.endpoint()
    };
    env_error(&mqtt::check(&ep, WAIT).unwrap_err(), "junk.pem");

    // Plain MQTT to the TLS port fails quickly instead of hanging.
    let plain = Endpoint {
        tls: false,
        ..b.endpoint()
    };
    let t = Instant::now();
    let e = mqtt::check(&plain, Duration::from_secs(2)).unwrap_err();
    assert_eq!(code_of(&e), Code::Environment, "{e:#}");
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn mqtt_down_broker_fails_fast_and_recovers_on_the_same_port() {
    let mut b = Broker::plain();
    let ep = b.endpoint();
    b.stop();
    let t = Instant::now();
    let e = mqtt::publish(&ep, &msgs("wtest", 2), Duration::from_secs(1)).unwrap_err();
    env_error(&e, "connection refused");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    env_error(&mqtt::check(&ep, WAIT).unwrap_err(), "connection refused");
    env_error(
        &mqtt::subscribe(&ep, "mam/#").err().unwrap(),
        "connection refused",
    );

    b.start();
    assert_eq!(b.endpoint(), ep, "restarted on another port");
    assert_eq!(
        mqtt::publish(&ep, &msgs("wtest", 2), WAIT).unwrap(),
        vec![true; 2]
    );
}

#[test]
fn mqtt_silent_broker_costs_at_most_the_deadline() {
    // Accepts TCP (the kernel's backlog) but never answers MQTT's CONNECT.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ep = Endpoint {
        host: "127.0.0.1".into(),
        port: silent.local_addr().unwrap().port(),
        tls: false,
        username: None,
        password: None,
        ca_file: None,
        cert_file: None,
        key_file: None,
        url: String::new(),
    };
    let deadline = Duration::from_millis(500);
    for result in [
        mqtt::publish(&ep, &msgs("wtest", 1), deadline).map(|_| ()),
        mqtt::check(&ep, deadline),
        mqtt::subscribe_within(&ep, "mam/#", deadline).map(|_| ()),
    ] {
        let t = Instant::now();
        env_error(&result.unwrap_err(), "no connection within 500ms");
        assert!(t.elapsed() < Duration::from_secs(5));
    }
    // The same against TLS: the handshake is bounded too.
    let ep = Endpoint {
        tls: true,
        ca_file: Some(other_ca(&std::env::temp_dir())),
        ..ep
    };
    let t = Instant::now();
    env_error(&mqtt::check(&ep, deadline).unwrap_err(), "no connection");
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn mqtt_subscription_reports_a_lost_broker() {
    let mut b = Broker::plain();
    let mut sub = mqtt::subscribe(&b.endpoint(), "mam/#").unwrap();
    b.stop();
    let e = sub.next(WAIT).unwrap_err();
    assert_eq!(code_of(&e), Code::Environment, "{e:#}");
    // And keeps saying so rather than blocking.
    assert!(sub.next(Duration::from_millis(10)).is_err());
}

#[test]
fn mqtt_retained_messages_are_flagged() {
    let b = Broker::plain();
    let topic = "mam/wtest/jobs/forged/events";
    b.publish_raw(topic, b"{\"forged\":true}", true);
    let mut sub = mqtt::subscribe(&b.endpoint(), "mam/wtest/#").unwrap();
    let m = sub.next(WAIT).unwrap().expect("the retained message");
    assert_eq!(m.topic, topic);
    assert_eq!(m.payload, b"{\"forged\":true}");
    assert!(m.retain);

    // Live messages are not flagged, also as seen by mosquitto_sub; and we
    // never publish retained, so a later subscriber sees only the forged one.
    let raw = b.subscribe_raw("mam/wtest/#");
    let first = raw.next(WAIT).expect("retained via mosquitto_sub");
    assert!(first.retain && first.topic == topic, "{first:?}");
    let sent = msgs("wtest", 1);
    mqtt::publish(&b.endpoint(), &sent, WAIT).unwrap();
    let live = raw.next(WAIT).expect("live message via mosquitto_sub");
    assert!(!live.retain && live.topic == sent[0].0, "{live:?}");
    assert!(!sub.next(WAIT).unwrap().unwrap().retain);

    let mut later = mqtt::subscribe(&b.endpoint(), "mam/wtest/#").unwrap();
    assert_eq!(later.next(WAIT).unwrap().unwrap().topic, topic);
    assert_eq!(later.next(Duration::from_millis(300)).unwrap(), None);
}

#[test]
fn mqtt_endpoint_validation() {
    let cfg = |url: &str| BrokerConfig {
        url: url.into(),
        password_env: String::new(),
        ca_file: "/nonexistent/ca.pem".into(),
        ..BrokerConfig::default()
    };
    assert_eq!(mqtt::endpoint(&cfg("")).unwrap(), None);
    for (url, insecure, needle) in [
        ("mqtt://test.mosquitto.org", true, "public broker"),
        ("mqtts://broker.hivemq.com:8883", true, "public broker"),
        ("mqtt://eu.BROKER.EMQX.IO", true, "public broker"),
        ("mqtt://192.0.2.1:1883", false, "loopback"),
        ("ws://127.0.0.1:1883", true, "scheme"),
        ("tcp://127.0.0.1:1883", true, "scheme"),
    ] {
        let mut c = cfg(url);
        c.allow_insecure = insecure;
        env_error(&mqtt::endpoint(&c).unwrap_err(), needle);
    }
    let mut c = cfg("mqtt://192.0.2.1:1883");
    c.allow_insecure = true;
    let ep = mqtt::endpoint(&c).unwrap().unwrap();
    assert_eq!(
        (ep.host.as_str(), ep.port, ep.tls),
        ("192.0.2.1", 1883, false)
    );
}
