//! The receiver's acceptance rule (SPEC §6), in one place for `mam watch`
//! and the reconcile daemon. An envelope is acted on only if:
//! it was not retained; it parses as a v1 envelope; its key id is known and
//! not retired past the grace period; its signature verifies for the topic it
//! arrived on; its timestamp is within the replay window; and its
//! `(src, seq)` was never accepted before. The accepted set lives in SQLite
//! (written with synchronous=FULL) so a restart reopens no replay window.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Result;

use super::envelope::Envelope;
use super::keys::KeyLookup;
use crate::registry::Registry;

/// Why an envelope was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    Retained,
    Malformed(String),
    UnknownKey(String),
    RetiredKey(String),
    BadSignature,
    Stale {
        skew_ms: i64,
    },
    Replay,
    /// Fleet traffic from a host this one does not trust (or does not know).
    UntrustedHost(String),
    /// Fleet traffic on this host's inbox that names another host as its
    /// sender's peer, or says it is from this host.
    WrongHost(String),
    /// An MQTT QoS 1 redelivery (DUP flag) of a message this process
    /// accepted: dropped quietly.
    Duplicate,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Retained => write!(f, "retained message"),
            Rejection::Malformed(m) => write!(f, "malformed envelope: {m}"),
            Rejection::UnknownKey(k) => write!(f, "unknown key {k}"),
            Rejection::RetiredKey(k) => write!(f, "retired key {k}"),
            Rejection::BadSignature => write!(f, "bad signature"),
            Rejection::Stale { skew_ms } => {
                write!(f, "stale: ts is {:.1}s from now", *skew_ms as f64 / 1000.0)
            }
            Rejection::Replay => write!(f, "replay: (src, seq) was accepted before"),
            Rejection::Duplicate => write!(f, "duplicate delivery"),
            Rejection::UntrustedHost(h) => write!(f, "untrusted host {h:?}"),
            Rejection::WrongHost(why) => write!(f, "wrong host: {why}"),
        }
    }
}

impl Rejection {
    /// A short machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Retained => "retained",
            Rejection::Malformed(_) => "malformed",
            Rejection::UnknownKey(_) => "unknown-key",
            Rejection::RetiredKey(_) => "retired-key",
            Rejection::BadSignature => "bad-signature",
            Rejection::Stale { .. } => "stale",
            Rejection::Replay => "replay",
            Rejection::Duplicate => "duplicate",
            Rejection::UntrustedHost(_) => "untrusted-host",
            Rejection::WrongHost(_) => "wrong-host",
        }
    }
}

/// What every incoming message must be before any key is looked at, for
/// the workspace's events and the fleet's alike: not retained, a v1
/// envelope, and a body that can have been signed at all (a number with a
/// fraction or an exponent has no canonical form that survives a parse, and
/// mam never emits one: said so rather than called a bad signature).
fn opened(payload: &[u8], retain: bool) -> std::result::Result<Envelope, Rejection> {
    if retain {
        return Err(Rejection::Retained);
    }
    let env: Envelope =
        serde_json::from_slice(payload).map_err(|e| Rejection::Malformed(e.to_string()))?;
    if env.v != 1 {
        return Err(Rejection::Malformed(format!("version {}", env.v)));
    }
    if super::envelope::has_float(&env.body) {
        return Err(Rejection::Malformed(
            "the body holds a fractional number (mam never signs one)".into(),
        ));
    }
    Ok(env)
}

/// An envelope's timestamp, unix ms.
fn timestamp(env: &Envelope) -> std::result::Result<i64, Rejection> {
    jiff::Timestamp::strptime("%Y-%m-%dT%H:%M:%S%.fZ", &env.ts)
        .or_else(|_| env.ts.parse::<jiff::Timestamp>())
        .map(|t| t.as_millisecond())
        .map_err(|e| Rejection::Malformed(format!("ts {:?}: {e}", env.ts)))
}

/// A receiver: the rule plus this process's memory of what it accepted.
pub struct Acceptor {
    pub window: Duration,
    pub grace: Duration,
    seen_here: HashSet<(String, i64, String)>,
}

impl Acceptor {
    pub fn new(window: Duration, grace: Duration) -> Acceptor {
        Acceptor {
            window,
            grace,
            seen_here: HashSet::new(),
        }
    }

    /// Decide on one incoming message; on acceptance the `(src, seq)` is
    /// recorded durably before this returns.
    pub fn check(
        &mut self,
        reg: &mut Registry,
        topic: &str,
        payload: &[u8],
        retain: bool,
        dup: bool,
        now_ms: i64,
    ) -> Result<std::result::Result<Envelope, Rejection>> {
        let env = match opened(payload, retain) {
            Ok(e) => e,
            Err(why) => return Ok(Err(why)),
        };
        let grace_ms = self.grace.as_millis() as i64;
        let key = match reg.ident.keys.verifying(&env.kid, now_ms, grace_ms) {
            KeyLookup::Valid(k) => k.clone(),
            KeyLookup::Unknown => return Ok(Err(Rejection::UnknownKey(env.kid.clone()))),
            KeyLookup::Retired => return Ok(Err(Rejection::RetiredKey(env.kid.clone()))),
        };
        let secret = hex::decode(&key.secret).unwrap_or_default();
        if !env.verify_sig(topic, &secret) {
            return Ok(Err(Rejection::BadSignature));
        }
        let ts = match timestamp(&env) {
            Ok(t) => t,
            Err(why) => return Ok(Err(why)),
        };
        let src = env.src.clone();
        self.fresh(reg, env, ts, &src, dup, now_ms)
    }

    /// Fleet traffic arriving on this host's inbox (`{prefix}/fleet/{me}/inbox`):
    /// the same rule, with the sender's Ed25519 key in place of the
    /// workspace key. `src` names the sending host; it must be trusted here
    /// with the key `kid` names, and the signature must verify for the topic
    /// it arrived on (so a command signed for another host's inbox fails).
    /// Every accepted envelope notes its host as seen.
    #[allow(clippy::too_many_arguments)]
    pub fn check_fleet(
        &mut self,
        reg: &mut Registry,
        me: &str,
        topic: &str,
        payload: &[u8],
        retain: bool,
        dup: bool,
        now_ms: i64,
    ) -> Result<std::result::Result<Envelope, Rejection>> {
        let env = match opened(payload, retain) {
            Ok(e) => e,
            Err(why) => return Ok(Err(why)),
        };
        if env.src == me {
            return Ok(Err(Rejection::WrongHost(format!(
                "it says it is from this host ({me})"
            ))));
        }
        let Some(host) = reg.fleet_host(&env.src)?.filter(|h| h.trusted) else {
            return Ok(Err(Rejection::UntrustedHost(env.src.clone())));
        };
        if host.key_id != env.kid {
            return Ok(Err(Rejection::UnknownKey(env.kid.clone())));
        }
        let public = host.public_key.unwrap_or_default();
        if !crate::signing::host::verify(&env, topic, &public) {
            return Ok(Err(Rejection::BadSignature));
        }
        let ts = match timestamp(&env) {
            Ok(t) => t,
            Err(why) => return Ok(Err(why)),
        };
        let (key, src) = (format!("@{}", env.src), env.src.clone());
        let verdict = self.fresh(reg, env, ts, &key, dup, now_ms)?;
        // A genuine envelope (its signature verified) tells the host's
        // clock, also when it is refused as stale: what `mam doctor` checks.
        if matches!(verdict, Ok(_) | Err(Rejection::Stale { .. })) {
            reg.write(|t| {
                if verdict.is_ok() {
                    t.host_seen(&src, now_ms)?;
                }
                t.host_skew(&src, now_ms - ts, now_ms)
            })?;
        }
        Ok(verdict)
    }

    /// The window and the replay set, for an envelope whose signature
    /// verified, stamped `ts` (unix ms); `src_key` is its sender in the
    /// replay set.
    fn fresh(
        &mut self,
        reg: &mut Registry,
        env: Envelope,
        ts: i64,
        src_key: &str,
        dup: bool,
        now_ms: i64,
    ) -> Result<std::result::Result<Envelope, Rejection>> {
        let skew = now_ms - ts;
        if skew.abs() > self.window.as_millis() as i64 {
            return Ok(Err(Rejection::Stale { skew_ms: skew }));
        }
        let here = (src_key.to_string(), env.seq, env.id.clone());
        let fresh = reg.record_accepted(
            src_key,
            env.seq,
            ts,
            now_ms - 2 * self.window.as_millis() as i64,
        )?;
        if !fresh {
            // Quiet only for what MQTT itself redelivered (DUP flag) of a
            // message this process accepted; any other repeat is a replay.
            return Ok(Err(if dup && self.seen_here.contains(&here) {
                Rejection::Duplicate
            } else {
                Rejection::Replay
            }));
        }
        self.seen_here.insert(here);
        Ok(Ok(env))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{rfc3339_ms, topic};
    use crate::registry::now_ms;
    use crate::workspace::Paths;

    struct Fixture {
        _dir: tempfile::TempDir,
        reg: Registry,
        paths: Paths,
    }

    fn fixture() -> Fixture {
        let (dir, paths, reg) = crate::registry::scratch();
        Fixture {
            _dir: dir,
            reg,
            paths,
        }
    }

    fn signed(reg: &Registry, seq: i64, ts_ms: i64, job: &str) -> (String, Vec<u8>) {
        let key = reg.ident.keys.current();
        let t = topic("mam", reg.ws(), "job.done", job);
        let mut e = Envelope {
            v: 1,
            id: crate::signing::envelope::random_id(),
            ws: reg.ws().to_string(),
            src: reg.ident.src.clone(),
            seq,
            ts: rfc3339_ms(ts_ms),
            kind: "job.done".into(),
            job: job.into(),
            body: serde_json::json!({"artifacts": []}),
            kid: key.kid.clone(),
            sig: String::new(),
        };
        e.sign(&t, &hex::decode(&key.secret).unwrap());
        (t, e.to_wire().into_bytes())
    }

    const W: Duration = Duration::from_secs(300);
    const G: Duration = Duration::from_secs(86400);

    #[test]
    fn genuine_once_then_replay_even_after_restart() {
        let mut f = fixture();
        let now = now_ms();
        let (t, p) = signed(&f.reg, 1, now, "a");
        let mut acc = Acceptor::new(W, G);
        assert!(
            acc.check(&mut f.reg, &t, &p, false, false, now)
                .unwrap()
                .is_ok()
        );
        // An MQTT redelivery (DUP) of what this process accepted: quiet.
        assert_eq!(
            acc.check(&mut f.reg, &t, &p, false, true, now)
                .unwrap()
                .unwrap_err(),
            Rejection::Duplicate
        );
        // The same message without the DUP flag: a replay.
        assert_eq!(
            acc.check(&mut f.reg, &t, &p, false, false, now)
                .unwrap()
                .unwrap_err(),
            Rejection::Replay
        );
        // A new process (restart): the durable set still knows it.
        let mut reg2 = Registry::open(&f.paths, "mam").unwrap();
        let mut acc2 = Acceptor::new(W, G);
        assert_eq!(
            acc2.check(&mut reg2, &t, &p, false, false, now)
                .unwrap()
                .unwrap_err(),
            Rejection::Replay
        );
    }

    #[test]
    fn tampering_topics_keys_retain_and_time() {
        let mut f = fixture();
        let now = now_ms();
        let mut acc = Acceptor::new(W, G);
        // A flipped bit anywhere in the payload.
        let (t, p) = signed(&f.reg, 2, now, "a");
        for i in [10, p.len() / 2, p.len() - 5] {
            let mut bad = p.clone();
            bad[i] ^= 0x01;
            let r = acc.check(&mut f.reg, &t, &bad, false, false, now).unwrap();
            assert!(r.is_err(), "flipped byte {i} accepted");
        }
        // The same envelope on another topic.
        let other = topic("mam", f.reg.ws(), "job.done", "b");
        assert_eq!(
            acc.check(&mut f.reg, &other, &p, false, false, now)
                .unwrap()
                .unwrap_err(),
            Rejection::BadSignature
        );
        // Retained.
        assert_eq!(
            acc.check(&mut f.reg, &t, &p, true, false, now)
                .unwrap()
                .unwrap_err(),
            Rejection::Retained
        );
        // Stale at ±301 s; fresh at ±299 s.
        for (seq, skew, ok) in [
            (3, 301_000, false),
            (4, -301_000, false),
            (5, 299_000, true),
            (6, -299_000, true),
        ] {
            let (t, p) = signed(&f.reg, seq, now + skew, "a");
            let r = acc.check(&mut f.reg, &t, &p, false, false, now).unwrap();
            assert_eq!(r.is_ok(), ok, "skew {skew}: {r:?}");
        }
        // A fractional number in the body, signed as a sender would.
        let (t, p) = signed(&f.reg, 10, now, "a");
        let mut e: Envelope = serde_json::from_slice(&p).unwrap();
        e.body = serde_json::json!({"artifacts": [], "took": 1.5});
        let key = f.reg.ident.keys.current().clone();
        e.sign(&t, &hex::decode(&key.secret).unwrap());
        assert_eq!(
            acc.check(&mut f.reg, &t, e.to_wire().as_bytes(), false, false, now)
                .unwrap()
                .unwrap_err(),
            Rejection::Malformed("the body holds a fractional number (mam never signs one)".into())
        );
        // Unknown key id.
        let (t, p) = signed(&f.reg, 7, now, "a");
        let s = String::from_utf8(p).unwrap();
        let kid = f.reg.ident.keys.current().kid.clone();
        let forged = s.replace(&kid, "kdeadbeef");
        assert_eq!(
            acc.check(&mut f.reg, &t, forged.as_bytes(), false, false, now)
                .unwrap()
                .unwrap_err(),
            Rejection::UnknownKey("kdeadbeef".into())
        );
    }

    #[test]
    fn a_retired_key_verifies_only_within_grace() {
        let f = fixture();
        let now = now_ms();
        let (t, p) = signed(&f.reg, 8, now, "a");
        crate::signing::keys::KeyRing::rotate(&f.paths.key, now).unwrap();
        let mut reg = Registry::open(&f.paths, "mam").unwrap();
        let mut acc = Acceptor::new(W, Duration::from_secs(60));
        assert!(
            acc.check(&mut reg, &t, &p, false, false, now + 30_000)
                .unwrap()
                .is_ok()
        );
        let (t2, p2) = signed(&f.reg, 9, now + 120_000, "a");
        let r = acc
            .check(&mut reg, &t2, &p2, false, false, now + 120_000)
            .unwrap();
        assert!(matches!(r, Err(Rejection::RetiredKey(_))), "{r:?}");
        drop(f.reg);
    }

    fn fleet_signed(
        key: &crate::signing::host::HostKey,
        src: &str,
        topic: &str,
        seq: i64,
        ts_ms: i64,
    ) -> Vec<u8> {
        let mut e = Envelope {
            v: 1,
            id: crate::signing::envelope::random_id(),
            ws: "wother".into(),
            src: src.into(),
            seq,
            ts: rfc3339_ms(ts_ms),
            kind: "fleet.message".into(),
            job: "bob".into(),
            body: serde_json::json!({"cmd": "m1"}),
            kid: String::new(),
            sig: String::new(),
        };
        key.sign(&mut e, topic);
        e.to_wire().into_bytes()
    }

    #[test]
    fn fleet_traffic_needs_a_trusted_host_its_key_and_its_topic() {
        use crate::signing::host::HostKey;
        let mut f = fixture();
        let now = now_ms();
        let alpha = HostKey::load_or_create(&f.paths.state.join("alpha.key"), 1).unwrap();
        let other = HostKey::load_or_create(&f.paths.state.join("other.key"), 1).unwrap();
        let inbox = crate::signing::fleet_inbox("mam", "beta");
        let mut acc = Acceptor::new(W, G);
        let mut check = |reg: &mut Registry, topic: &str, p: &[u8], retain: bool| {
            acc.check_fleet(reg, "beta", topic, p, retain, false, now)
                .unwrap()
        };
        // Not trusted (not even known) yet.
        let p = fleet_signed(&alpha, "alpha", &inbox, 1, now);
        assert_eq!(
            check(&mut f.reg, &inbox, &p, false).unwrap_err(),
            Rejection::UntrustedHost("alpha".into())
        );
        assert!(
            f.reg.fleet_host("alpha").unwrap().is_none(),
            "unknown stays unknown"
        );
        f.reg
            .write(|t| t.trust_host("alpha", &alpha.public_hex(), "operator"))
            .unwrap();
        assert!(check(&mut f.reg, &inbox, &p, false).is_ok());
        assert!(
            f.reg
                .fleet_host("alpha")
                .unwrap()
                .unwrap()
                .last_seen
                .is_some()
        );
        assert_eq!(
            check(&mut f.reg, &inbox, &p, false).unwrap_err(),
            Rejection::Replay
        );
        // Another key claiming to be alpha; alpha's key id on another key's signature.
        let p = fleet_signed(&other, "alpha", &inbox, 2, now);
        assert!(matches!(
            check(&mut f.reg, &inbox, &p, false),
            Err(Rejection::UnknownKey(_))
        ));
        let forged = String::from_utf8(p)
            .unwrap()
            .replace(&other.kid(), &alpha.kid());
        assert_eq!(
            check(&mut f.reg, &inbox, forged.as_bytes(), false).unwrap_err(),
            Rejection::BadSignature
        );
        // Signed for another host's inbox; said to be from this host; stale; retained.
        let p = fleet_signed(
            &alpha,
            "alpha",
            &crate::signing::fleet_inbox("mam", "gamma"),
            3,
            now,
        );
        assert_eq!(
            check(&mut f.reg, &inbox, &p, false).unwrap_err(),
            Rejection::BadSignature
        );
        let p = fleet_signed(&alpha, "beta", &inbox, 4, now);
        assert!(matches!(
            check(&mut f.reg, &inbox, &p, false),
            Err(Rejection::WrongHost(_))
        ));
        let p = fleet_signed(&alpha, "alpha", &inbox, 5, now - 301_000);
        assert!(matches!(
            check(&mut f.reg, &inbox, &p, false),
            Err(Rejection::Stale { .. })
        ));
        let p = fleet_signed(&alpha, "alpha", &inbox, 6, now);
        assert_eq!(
            check(&mut f.reg, &inbox, &p, true).unwrap_err(),
            Rejection::Retained
        );
        // The fleet's replay set is its own: a workspace sender named like
        // the host does not collide with it.
        assert!(f.reg.record_accepted("alpha", 1, now, 0).unwrap());
        // Untrusted again: refused again.
        f.reg
            .write(|t| t.untrust_host("alpha", "operator"))
            .unwrap();
        let p = fleet_signed(&alpha, "alpha", &inbox, 7, now);
        assert_eq!(
            check(&mut f.reg, &inbox, &p, false).unwrap_err(),
            Rejection::UntrustedHost("alpha".into())
        );
    }
}
