//! The MQTT transport (SPEC §6), to an [`Endpoint`] (see `endpoint`): a one-shot [`publish`] of a batch of events with a hard
//! deadline, a [`Subscription`] for `mam watch`, and [`check`] for
//! `mam doctor`.
//!
//! Everything here is synchronous for the callers: rumqttc's sync `Client` /
//! `Connection` run a private current-thread tokio runtime per connection.
//! Connections are short-lived and never reconnect on their own: the first
//! connection error ends the operation (a bare `connection.iter()` against a
//! down broker spun 100k errors in 2 s), and the caller decides what to do
//! (the outbox keeps unpublished events; `watch` reconnects).
//!
//! TLS is rustls with the *ring* provider, configured here rather than through
//! rumqttc's default (AWS-LC costs ~33 ms of CPU per short-lived process).
//! Broker problems are `environment` errors (exit 6) with a hint.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rumqttc::{
    Client, ConnectReturnCode, Connection, ConnectionError, Event, MqttOptions, Outgoing, Packet,
    QoS, RecvTimeoutError, SubscribeReasonCode, TlsConfiguration, Transport,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub use super::endpoint::{Endpoint, endpoint};
use crate::error::{environment, usage};

/// Largest packet we send or accept. Events are small, but attachments are
/// inlined up to `messages.inline_max` and rumqttc's default (10 KiB) would
/// silently kill the connection on a bigger one.
const MAX_PACKET: usize = 1024 * 1024;

/// A unique client id: the broker kicks off an older connection with the same
/// id, so two `mam` processes must never share one. Fits MQTT 3.1.1's 23 bytes.
fn client_id() -> String {
    let mut r = [0u8; 4];
    // Uniqueness per process is what matters; the pid already gives most of it.
    let _ = getrandom::fill(&mut r);
    format!("mam-{}-{}", std::process::id(), hex::encode(r))
}

/// rustls with ring, the CA from `ca_file`, and the optional client identity.
fn tls_config(ep: &Endpoint) -> Result<rustls::ClientConfig> {
    let Some(ca) = &ep.ca_file else {
        return Err(
            environment(format!("broker {ep}: mqtts:// needs broker.ca_file"))
                .hint("set broker.ca_file to the PEM file of the broker's CA")
                .into(),
        );
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs = read_certs(ca, "broker.ca_file")?;
    for cert in certs {
        roots.add(cert).map_err(|e| {
            environment(format!("broker.ca_file {}: unusable CA certificate: {e}", ca.display()))
                .hint("the file must hold the PEM certificate of the CA that signed the broker's certificate")
        })?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("rustls: no usable protocol versions")?
        .with_root_certificates(roots);
    let config = match (&ep.cert_file, &ep.key_file) {
        (Some(cert), Some(key)) => {
            let chain = read_certs(cert, "broker.cert_file")?;
            let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                environment(format!(
                    "broker.key_file {}: no usable private key: {e}",
                    key.display()
                ))
                .hint("the file must hold a PEM private key (PKCS#8, PKCS#1 or SEC1), readable by you")
            })?;
            builder.with_client_auth_cert(chain, key_der).map_err(|e| {
                environment(format!(
                    "broker.cert_file {} / key_file {}: {e}",
                    cert.display(),
                    key.display()
                ))
                .hint("the key must belong to the certificate")
            })?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(config)
}

fn read_certs(path: &Path, key: &str) -> Result<Vec<CertificateDer<'static>>> {
    let hint = format!("{key} must be a readable PEM file with at least one CERTIFICATE block");
    let iter = CertificateDer::pem_file_iter(path)
        .map_err(|e| environment(format!("{key} {}: {e}", path.display())).hint(hint.clone()))?;
    let certs = iter
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| environment(format!("{key} {}: {e}", path.display())).hint(hint.clone()))?;
    if certs.is_empty() {
        return Err(
            environment(format!("{key} {}: no certificate in it", path.display()))
                .hint(hint)
                .into(),
        );
    }
    Ok(certs)
}

/// A client and its connection, not yet connected (rumqttc connects on the
/// first poll).
fn open(ep: &Endpoint, deadline: Duration, cap: usize) -> Result<(Client, Connection)> {
    let mut opts = MqttOptions::new(client_id(), ep.host.clone(), ep.port);
    opts.set_clean_session(true)
        .set_keep_alive(Duration::from_secs(30))
        .set_max_packet_size(MAX_PACKET, MAX_PACKET)
        .set_request_channel_capacity(cap);
    if let Some(user) = &ep.username {
        opts.set_credentials(user.clone(), ep.password.clone().unwrap_or_default());
    }
    if ep.tls {
        let cfg = tls_config(ep)?;
        opts.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            Arc::new(cfg),
        )));
    }
    let (client, mut conn) = Client::new(opts, cap);
    // rumqttc's own connect timeout is whole seconds; our recv_timeout below
    // bounds the wait exactly, this only keeps rumqttc from waiting longer.
    let mut net = conn.eventloop.network_options();
    net.set_tcp_nodelay(true);
    net.set_connection_timeout(deadline.as_secs().max(1));
    conn.eventloop.set_network_options(net);
    Ok((client, conn))
}

/// What went wrong talking to the broker, as an exit-6 error with a hint.
fn connection_error(ep: &Endpoint, e: &ConnectionError) -> anyhow::Error {
    let (msg, hint) = match e {
        ConnectionError::ConnectionRefused(
            ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized,
        ) => (
            format!("broker {ep}: not authorised (bad username or password)"),
            "check broker.username and the password in the variable named by broker.password_env"
                .to_string(),
        ),
        ConnectionError::ConnectionRefused(code) => (
            format!("broker {ep} refused the connection: {code:?}"),
            "check the broker's log".to_string(),
        ),
        ConnectionError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => (
            format!("broker {ep}: connection refused"),
            "is the broker running and listening there? check broker.url".to_string(),
        ),
        ConnectionError::Tls(t) => (
            format!("broker {ep}: TLS failure: {t}"),
            "check that broker.ca_file is the CA that signed the broker's certificate, that the \
             certificate names this host, and that the port is the broker's TLS listener"
                .to_string(),
        ),
        ConnectionError::NetworkTimeout | ConnectionError::FlushTimeout => (
            format!("broker {ep}: timed out"),
            "is the broker reachable? check broker.url and the firewall".to_string(),
        ),
        other => (
            format!("broker {ep}: connection failed: {other}"),
            if ep.tls {
                "check broker.url, and that the port is the broker's TLS listener".to_string()
            } else {
                "check broker.url, and that the port is a plain (non-TLS) listener".to_string()
            },
        ),
    };
    environment(msg).hint(hint).into()
}

fn timed_out(ep: &Endpoint, what: &str, deadline: Duration) -> anyhow::Error {
    environment(format!(
        "broker {ep}: no {what} within {}",
        humantime::format_duration(deadline)
    ))
    .hint("is the broker reachable and not overloaded? check broker.url")
    .into()
}

/// One poll bounded by the time left; `Ok(None)` when time is up.
fn poll(
    ep: &Endpoint,
    conn: &mut Connection,
    until: Instant,
) -> Result<Option<Event>, anyhow::Error> {
    let left = until.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Ok(None);
    }
    match conn.recv_timeout(left) {
        Ok(Ok(ev)) => Ok(Some(ev)),
        Ok(Err(e)) => Err(connection_error(ep, &e)),
        Err(RecvTimeoutError::Timeout) => Ok(None),
        Err(RecvTimeoutError::Disconnected) => {
            Err(environment(format!("broker {ep}: connection closed")).into())
        }
    }
}

/// Politely end the session so the broker doesn't log an unexpected close;
/// bounded, and any failure here is irrelevant (the work is done).
fn disconnect(ep: &Endpoint, client: &Client, conn: &mut Connection) {
    if client.try_disconnect().is_err() {
        return;
    }
    let until = Instant::now() + Duration::from_millis(200);
    while let Ok(Some(ev)) = poll(ep, conn, until) {
        if ev == Event::Outgoing(Outgoing::Disconnect) {
            break;
        }
    }
}

fn check_topic(topic: &str) -> Result<()> {
    if topic.is_empty() || topic.contains(['+', '#', '\0']) || topic.len() > 65_535 {
        return Err(usage(format!("not a valid MQTT topic to publish to: {topic:?}")).into());
    }
    Ok(())
}

/// Publish `msgs` (topic, payload) with QoS 1, not retained, on one
/// short-lived connection; returns which were acknowledged (index-aligned).
/// Unacked messages at the deadline are `false`, not an error; failing to
/// connect (or losing the connection) is an error, returned at once.
pub fn publish(ep: &Endpoint, msgs: &[(String, Vec<u8>)], deadline: Duration) -> Result<Vec<bool>> {
    let until = Instant::now() + deadline;
    let mut acked = vec![false; msgs.len()];
    if msgs.is_empty() {
        return Ok(acked);
    }
    for (topic, payload) in msgs {
        check_topic(topic)?;
        if payload.len() + topic.len() + 16 > MAX_PACKET {
            return Err(usage(format!(
                "event for {topic} is {} bytes, over the {MAX_PACKET}-byte MQTT packet limit",
                payload.len()
            ))
            .into());
        }
    }
    // The channel holds every request, so queuing never blocks.
    let (client, mut conn) = open(ep, deadline, msgs.len() + 2)?;
    for (topic, payload) in msgs {
        client
            .publish(topic.clone(), QoS::AtLeastOnce, false, payload.clone())
            .with_context(|| format!("queueing an MQTT publish to {topic}"))?;
    }

    let mut connected = false;
    // Packet ids are reused (rumqttc wraps them at the inflight limit), so map
    // the live ones only; publishes go out in queue order.
    let mut next_sent = 0usize;
    let mut inflight: HashMap<u16, usize> = HashMap::new();
    let mut remaining = msgs.len();
    while remaining > 0 {
        let Some(ev) = poll(ep, &mut conn, until)? else {
            if !connected {
                return Err(timed_out(ep, "connection", deadline));
            }
            break;
        };
        match ev {
            Event::Incoming(Packet::ConnAck(_)) => connected = true,
            Event::Outgoing(Outgoing::Publish(pkid)) if next_sent < msgs.len() => {
                inflight.insert(pkid, next_sent);
                next_sent += 1;
            }
            Event::Incoming(Packet::PubAck(ack)) => {
                if let Some(i) = inflight.remove(&ack.pkid)
                    && !acked[i]
                {
                    acked[i] = true;
                    remaining -= 1;
                }
            }
            _ => {}
        }
    }
    disconnect(ep, &client, &mut conn);
    Ok(acked)
}

/// Connect, wait for the broker's ConnAck, disconnect: for `mam doctor`.
pub fn check(ep: &Endpoint, deadline: Duration) -> Result<()> {
    let until = Instant::now() + deadline;
    let (client, mut conn) = open(ep, deadline, 4)?;
    loop {
        match poll(ep, &mut conn, until)? {
            None => return Err(timed_out(ep, "connection", deadline)),
            Some(Event::Incoming(Packet::ConnAck(_))) => break,
            Some(_) => {}
        }
    }
    disconnect(ep, &client, &mut conn);
    Ok(())
}

/// A message received on a [`Subscription`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub topic: String,
    pub payload: Vec<u8>,
    /// Set when the broker delivered a retained message (receivers reject
    /// these: events are never retained, so one is forged or stale).
    pub retain: bool,
    /// The broker's redelivery flag (QoS 1 may deliver twice; receivers drop
    /// a repeated `(src, seq)` quietly, and this says it was expected).
    pub dup: bool,
}

/// A live subscription (QoS 1, clean session). A background thread drives
/// the connection and stops at its first error; [`Subscription::next`]
/// reports that error and the caller reconnects if it wants to.
pub struct Subscription {
    client: Client,
    rx: mpsc::Receiver<Result<Incoming, String>>,
    /// Messages that arrived while we waited for the SubAck.
    early: VecDeque<Incoming>,
    /// The connection error the thread ended with, kept for repeated calls.
    failed: Option<String>,
    desc: String,
}

/// Subscribe to `filter`, waiting (at most 5 s) for the broker's SubAck.
pub fn subscribe(ep: &Endpoint, filter: &str) -> Result<Subscription> {
    subscribe_within(ep, filter, Duration::from_secs(5))
}

/// [`subscribe`] with an explicit deadline for connecting and the SubAck.
pub fn subscribe_within(ep: &Endpoint, filter: &str, deadline: Duration) -> Result<Subscription> {
    subscribe_many(ep, &[filter.to_string()], deadline)
}

/// One subscription to several topic filters (each acknowledged).
pub fn subscribe_many(
    ep: &Endpoint,
    filters: &[String],
    deadline: Duration,
) -> Result<Subscription> {
    let until = Instant::now() + deadline;
    let (client, mut conn) = open(ep, deadline, 16)?;
    for filter in filters {
        client
            .subscribe(filter, QoS::AtLeastOnce)
            .map_err(|_| usage(format!("not a valid MQTT topic filter: {filter:?}")))?;
    }
    let filter = filters.join(" ");
    let mut acks = 0usize;
    let mut early = VecDeque::new();
    let mut connected = false;
    loop {
        let Some(ev) = poll(ep, &mut conn, until)? else {
            let what = if connected { "SubAck" } else { "connection" };
            return Err(timed_out(ep, what, deadline));
        };
        match ev {
            Event::Incoming(Packet::ConnAck(_)) => connected = true,
            Event::Incoming(Packet::SubAck(ack)) => {
                if ack
                    .return_codes
                    .iter()
                    .any(|c| matches!(c, SubscribeReasonCode::Failure))
                {
                    disconnect(ep, &client, &mut conn);
                    return Err(environment(format!(
                        "broker {ep} refused the subscription to {filter}"
                    ))
                    .hint("the broker's ACL must let this user read the topic")
                    .into());
                }
                acks += 1;
                if acks == filters.len() {
                    break;
                }
            }
            Event::Incoming(Packet::Publish(p)) => early.push_back(Incoming {
                topic: p.topic,
                payload: p.payload.to_vec(),
                retain: p.retain,
                dup: p.dup,
            }),
            _ => {}
        }
    }

    let (tx, rx) = mpsc::channel();
    let desc = ep.to_string();
    let thread_ep = ep.clone();
    std::thread::Builder::new()
        .name("mam-mqtt-sub".into())
        .spawn(move || pump(&thread_ep, conn, tx))
        .context("starting the MQTT subscription thread")?;
    Ok(Subscription {
        client,
        rx,
        early,
        failed: None,
        desc,
    })
}

/// Drive the connection, forwarding publishes, until the first error or the
/// receiver goes away. rumqttc acks QoS 1 publishes itself.
fn pump(ep: &Endpoint, mut conn: Connection, tx: mpsc::Sender<Result<Incoming, String>>) {
    loop {
        let item = match conn.recv() {
            Ok(Ok(Event::Incoming(Packet::Publish(p)))) => Ok(Incoming {
                topic: p.topic,
                payload: p.payload.to_vec(),
                retain: p.retain,
                dup: p.dup,
            }),
            Ok(Ok(Event::Outgoing(Outgoing::Disconnect))) => return,
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => Err(format!("{:#}", connection_error(ep, &e))),
            Err(_) => return,
        };
        let stop = item.is_err();
        if tx.send(item).is_err() || stop {
            return;
        }
    }
}

impl Subscription {
    /// The next message, or `Ok(None)` if none came within `timeout`. An
    /// error means the connection is gone (for good: subscribe again).
    pub fn next(&mut self, timeout: Duration) -> Result<Option<Incoming>> {
        if let Some(m) = self.early.pop_front() {
            return Ok(Some(m));
        }
        if let Some(e) = &self.failed {
            return Err(self.lost(e.clone()));
        }
        match self.rx.recv_timeout(timeout) {
            Ok(Ok(m)) => Ok(Some(m)),
            Ok(Err(e)) => {
                self.failed = Some(e.clone());
                Err(self.lost(e))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let e = format!("broker {}: connection closed", self.desc);
                self.failed = Some(e.clone());
                Err(self.lost(e))
            }
        }
    }

    fn lost(&self, e: String) -> anyhow::Error {
        environment(format!("lost the subscription: {e}"))
            .hint("the broker went away; subscribe again to resume")
            .into()
    }
}

impl Drop for Subscription {
    /// Ask the broker to close; the pump thread then sees the connection end
    /// and exits on its own (we never block here waiting for it).
    fn drop(&mut self) {
        let _ = self.client.try_disconnect();
    }
}
