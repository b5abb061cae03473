//! The fleet's status. Each host's daemon sends the state of its jobs to
//! every host it trusts, signed, to that host's inbox (the same path,
//! acceptance and broker ACL as mail between hosts): whenever a job's state
//! changes (looked at once a second), at least every `[fleet] heartbeat`,
//! and at once when a peer asks (`fleet.status_request`, which each daemon
//! sends to every peer when it subscribes). A snapshot is the whole list,
//! so one that is lost is simply replaced by the next, and a host that
//! missed some knows everything again from one. Only the newest is kept,
//! on both sides: in the sender's fleet outbox (one row per peer, its body
//! replaced) and in the receiver's `fleet_state`. Nothing is retained on
//! the broker. `mam status --fleet` and the dashboard read the cache.

use std::time::{Duration, Instant};

use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::registry::Registry;
use crate::registry::fleet::FleetHost;

/// The kind of a snapshot of a host's jobs.
pub const STATE: &str = "fleet.state";
/// The kind of a request for a peer's snapshot.
pub const REQUEST: &str = "fleet.status_request";

/// The most jobs one snapshot carries (a snapshot is one MQTT packet).
pub const MAX_JOBS: usize = 2000;

/// How often the daemon looks whether its jobs changed.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// A host is stale when not heard from for this many of its heartbeats.
pub const STALE_AFTER: i64 = 3;

/// One job as another host sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteJob {
    pub name: String,
    pub kind: String,
    pub role: String,
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// Its unread messages.
    #[serde(default)]
    pub inbox: i64,
    /// Flagged stuck by its host's daemon.
    #[serde(default)]
    pub stuck: bool,
    /// Unix ms, the host's clock.
    pub created_at: i64,
    pub state_since: i64,
}

/// The jobs `mam status` shows by default (stopped and done ones for a day),
/// as other hosts are told them, by name.
pub fn jobs_of(reg: &Registry, now: i64) -> Result<Vec<RemoteJob>> {
    let counts = reg.message_counts()?;
    let mut jobs: Vec<RemoteJob> = reg
        .jobs()?
        .iter()
        .filter(|j| j.is_recent(now))
        .map(|j| RemoteJob {
            name: j.name.clone(),
            kind: j.kind.clone(),
            role: j.role.to_string(),
            state: j.state.to_string(),
            reason: j.reason.clone(),
            progress: j.progress,
            verdict: j.verdict.map(|v| v.to_string()),
            inbox: counts.get(&j.name).map_or(0, |c| c.1),
            stuck: j.stuck_at.is_some(),
            created_at: j.created_at,
            state_since: j.state_since,
        })
        .collect();
    jobs.sort_by(|a, b| a.name.cmp(&b.name));
    jobs.truncate(MAX_JOBS);
    Ok(jobs)
}

/// A snapshot's body: when it was built, the longest until the next, the jobs.
fn body(jobs: &[RemoteJob], at: i64, every: Duration) -> Value {
    json!({"at": at, "every_ms": every.as_millis() as i64, "jobs": jobs})
}

/// This host's peers: every trusted host but itself, in name order.
fn peers(reg: &Registry, me: &str) -> Result<Vec<FleetHost>> {
    Ok(reg
        .fleet_hosts()?
        .into_iter()
        .filter(|h| h.trusted && h.host != me)
        .collect())
}

/// Their names.
fn names(hosts: Vec<FleetHost>) -> Vec<String> {
    hosts.into_iter().map(|h| h.host).collect()
}

/// Queue `body` of `kind` for each host of `to` (one row each, newest wins),
/// in one transaction.
fn queue(reg: &mut Registry, me: &str, to: &[String], kind: &str, body: &Value) -> Result<()> {
    reg.write(|t| {
        to.iter()
            .try_for_each(|h| t.queue_fleet_latest(h, me, kind, body))
    })
}

/// Queue this host's snapshot for `to`.
pub fn queue_snapshot(
    reg: &mut Registry,
    me: &str,
    to: &[String],
    every: Duration,
    now: i64,
) -> Result<()> {
    let body = body(&jobs_of(reg, now)?, now, every);
    queue(reg, me, to, STATE, &body)
}

/// The daemon's side: what it last told its peers, and when.
pub struct Publisher {
    every: Duration,
    told: Option<(Vec<RemoteJob>, Vec<String>)>,
    told_at: Option<Instant>,
    looked_at: Option<Instant>,
}

impl Publisher {
    pub fn new(every: Duration) -> Publisher {
        Publisher {
            every,
            told: None,
            told_at: None,
            looked_at: None,
        }
    }

    /// Once a second: queue this host's snapshot for every peer when its jobs
    /// (or its peers) changed since it last did, or a heartbeat is due.
    /// Returns how many peers it was queued for.
    pub fn tick(&mut self, reg: &mut Registry, me: &str) -> Result<usize> {
        let now = Instant::now();
        if self.looked_at.is_some_and(|t| now < t + LOOK_EVERY) {
            return Ok(0);
        }
        self.looked_at = Some(now);
        let peers = names(peers(reg, me)?);
        if peers.is_empty() {
            self.told = None;
            return Ok(0);
        }
        let at = crate::registry::now_ms();
        let jobs = jobs_of(reg, at)?;
        let due = self.told_at.is_none_or(|t| now >= t + self.every);
        let same = self
            .told
            .as_ref()
            .is_some_and(|(j, p)| *j == jobs && *p == peers);
        if same && !due {
            return Ok(0);
        }
        queue(reg, me, &peers, STATE, &body(&jobs, at, self.every))?;
        self.told = Some((jobs, peers.clone()));
        self.told_at = Some(now);
        Ok(peers.len())
    }

    /// Just subscribed (the daemon started, or the broker came back): ask
    /// every peer for its snapshot, send this host's at the next tick, and
    /// try at once whatever waits for the broker.
    pub fn subscribed(&mut self, reg: &mut Registry, me: &str) -> Result<()> {
        self.told = None;
        self.looked_at = None;
        let now = crate::registry::now_ms();
        reg.write(|t| t.fleet_retry_now(now))?;
        queue(
            reg,
            me,
            &names(peers(reg, me)?),
            REQUEST,
            &json!({"at": now}),
        )
    }
}

/// A snapshot received from `host` (its signature, trust and freshness
/// already checked): kept unless a newer one is. Err: what is wrong with it.
/// `window` is the replay window: a snapshot built further ahead of this
/// host's clock would be taken for newer than every one after it.
pub fn received(
    reg: &mut Registry,
    host: &str,
    body: &Value,
    now: i64,
    window: Duration,
) -> Result<std::result::Result<String, String>> {
    let (Some(at), Some(every)) = (
        body.get("at").and_then(Value::as_i64),
        body.get("every_ms").and_then(Value::as_i64),
    ) else {
        return Ok(Err("a state without its time or heartbeat".into()));
    };
    if at > now.saturating_add(window.as_millis() as i64) {
        return Ok(Err(
            "a state built after this host's clock plus the replay window".into(),
        ));
    }
    let Some(list) = body.get("jobs").and_then(Value::as_array) else {
        return Ok(Err("a state without its list of jobs".into()));
    };
    if list.len() > MAX_JOBS {
        return Ok(Err(format!("a state of more than {MAX_JOBS} jobs")));
    }
    let jobs: Vec<RemoteJob> = match list
        .iter()
        .map(|j| serde_json::from_value(j.clone()))
        .collect::<std::result::Result<_, _>>()
    {
        Ok(jobs) => jobs,
        Err(e) => return Ok(Err(format!("a job in the state is malformed: {e}"))),
    };
    if let Some(bad) = jobs.iter().find(|j| !crate::app::valid_name(&j.name)) {
        return Ok(Err(format!(
            "a job in the state has no valid name ({:?})",
            crate::mail::summarize(&bad.name, 40)
        )));
    }
    // What is shown on a terminal here, from another host: no control
    // characters, one line, short.
    let clean = |s: &str, max: usize| {
        crate::mail::summarize(&crate::agent::probe::sanitize(s).replace('\n', " "), max)
    };
    let jobs: Vec<RemoteJob> = jobs
        .into_iter()
        .map(|j| RemoteJob {
            kind: clean(&j.kind, 32),
            role: clean(&j.role, 32),
            state: clean(&j.state, 32),
            reason: j.reason.as_deref().map(|r| clean(r, 200)),
            verdict: j.verdict.as_deref().map(|v| clean(v, 32)),
            ..j
        })
        .collect();
    let jobs_json = serde_json::to_string(&jobs)?;
    // Within the heartbeat's own bounds, whatever the peer sent.
    let limit = crate::duration::Limit::PERIOD;
    let every = every.clamp(limit.min.as_millis() as i64, limit.max.as_millis() as i64);
    let kept = reg.write(|t| t.store_fleet_state(host, at, every, &jobs_json, now))?;
    Ok(Ok(if kept {
        format!("{host}'s state: {} jobs", jobs.len())
    } else {
        format!("{host}'s state: older than the one kept")
    }))
}

/// Another host, as `status --fleet` and the dashboard show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostView {
    pub host: String,
    /// This host (its jobs are the registry's own).
    pub this: bool,
    /// When any genuine traffic of it last arrived (unix ms, this clock).
    pub last_seen: Option<i64>,
    /// When its newest snapshot was built (its clock).
    pub as_of: Option<i64>,
    /// When that snapshot arrived (this clock).
    pub received_at: Option<i64>,
    /// Not heard from for three of its heartbeats (or never).
    pub stale: bool,
    pub jobs: Vec<RemoteJob>,
}

impl HostView {
    /// How old something its host stamped `t` (its clock) is now: its age
    /// when the snapshot was built plus the time since it arrived, so a
    /// skew between the two clocks does not show.
    pub fn age_of(&self, t: i64, now: i64) -> i64 {
        match (self.as_of, self.received_at) {
            (Some(at), Some(rx)) => (at - t).max(0) + (now - rx).max(0),
            _ => now - t,
        }
    }
}

/// Every trusted host's jobs from the cache, by host name (this host not
/// among them).
pub fn others(reg: &Registry, me: &str, now: i64) -> Result<Vec<HostView>> {
    let states = reg.fleet_states()?;
    let mut out = Vec::new();
    for h in peers(reg, me)? {
        let state = states.iter().find(|s| s.host == h.host);
        let every = state.map_or(30_000, |s| s.every_ms);
        let jobs: Vec<RemoteJob> = state
            .and_then(|s| serde_json::from_str(&s.jobs).ok())
            .unwrap_or_default();
        out.push(HostView {
            stale: h
                .last_seen
                .is_none_or(|seen| now.saturating_sub(seen) > every.saturating_mul(STALE_AFTER)),
            host: h.host,
            this: false,
            last_seen: h.last_seen,
            as_of: state.map(|s| s.at),
            received_at: state.map(|s| s.received_at),
            jobs,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_received_is_checked_cleaned_and_kept_newest_only() {
        let (_dir, _, mut reg) = crate::registry::scratch();
        let job = |name: &str, kind: &str| {
            json!({"name": name, "kind": kind, "role": "worker", "state": "busy",
                   "created_at": 1, "state_since": 2})
        };
        let state = |at: i64, jobs: Vec<Value>| json!({"at": at, "every_ms": 5000, "jobs": jobs});
        let window = Duration::from_secs(300);
        let mut got = |body: Value| received(&mut reg, "beta", &body, 99, window).unwrap();
        assert_eq!(
            got(json!({"jobs": []})),
            Err("a state without its time or heartbeat".into())
        );
        assert_eq!(
            got(json!({"at": 1, "every_ms": 1})),
            Err("a state without its list of jobs".into())
        );
        assert_eq!(
            got(state(1, vec![job("Bad", "x")])),
            Err("a job in the state has no valid name (\"Bad\")".into())
        );
        assert_eq!(
            got(state(1, vec![json!({"name": "w1"})])),
            Err("a job in the state is malformed: missing field `kind`".into())
        );
        let many = (0..=MAX_JOBS).map(|i| job(&format!("j{i}"), "x")).collect();
        assert_eq!(
            got(state(1, many)),
            Err(format!("a state of more than {MAX_JOBS} jobs"))
        );
        assert_eq!(
            got(state(10, vec![job("w1", "co\x1b[31mdex\x07")])),
            Ok("beta's state: 1 jobs".into())
        );
        assert_eq!(
            got(state(5, vec![])),
            Ok("beta's state: older than the one kept".into())
        );
        assert_eq!(
            got(state(i64::MAX, vec![])),
            Err("a state built after this host's clock plus the replay window".into())
        );
        let kept = reg.fleet_states().unwrap();
        let jobs: Vec<RemoteJob> = serde_json::from_str(&kept[0].jobs).unwrap();
        assert_eq!(
            (
                kept.len(),
                kept[0].at,
                kept[0].every_ms,
                jobs[0].kind.as_str()
            ),
            (1, 10, 5000, "co[31mdex")
        );
        // A heartbeat out of bounds is held to them (a year at most, 100 ms
        // at least), so no reckoning with it overflows.
        for (at, every, kept_ms) in [(20, i64::MAX, 31_557_600_000), (30, -7, 100)] {
            let body = json!({"at": at, "every_ms": every, "jobs": []});
            assert_eq!(
                received(&mut reg, "beta", &body, 99, window).unwrap(),
                Ok("beta's state: 0 jobs".into())
            );
            assert_eq!(reg.fleet_states().unwrap()[0].every_ms, kept_ms);
        }
    }
}
