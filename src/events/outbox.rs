//! Flushing the outbox: publish unpublished events after commit, in sequence
//! order, and mark the ones the broker acknowledged. Bounded by a deadline so
//! a down broker costs a command little and never fails it; what is not
//! published stays in the outbox for the next command or `reconcile`.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::mqtt;
use crate::config::BrokerConfig;
use crate::lock;
use crate::registry::{Registry, now_ms};
use crate::workspace::Paths;

/// The per-command budget for publishing after commit.
pub const PUBLISH_BUDGET: Duration = Duration::from_millis(200);

/// What a flush did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Flushed {
    pub published: usize,
    pub pending: usize,
}

/// Publish what is in the outbox, within `deadline`. `Ok(None)` when no
/// broker is configured. Another process flushing at the same time is left to
/// it (no double publishing).
pub fn flush(
    paths: &Paths,
    cfg: &BrokerConfig,
    reg: &mut Registry,
    deadline: Duration,
) -> Result<Option<Flushed>> {
    let Some(ep) = mqtt::endpoint(cfg)? else {
        return Ok(None);
    };
    let Some(_guard) = lock::try_lock(&paths.locks.join("outbox.lock"))? else {
        return Ok(Some(Flushed {
            published: 0,
            pending: reg.unpublished_count()?,
        }));
    };
    let start = Instant::now();
    let mut done = Flushed::default();
    loop {
        let batch = reg.unpublished(200)?;
        if batch.is_empty() {
            break;
        }
        let left = deadline.saturating_sub(start.elapsed());
        if left.is_zero() {
            break;
        }
        let msgs: Vec<(String, Vec<u8>)> = batch
            .iter()
            .map(|(_, t, p)| (t.clone(), p.clone().into_bytes()))
            .collect();
        let acked = mqtt::publish(&ep, &msgs, left)?;
        let seqs: Vec<i64> = batch
            .iter()
            .zip(&acked)
            .filter(|(_, ok)| **ok)
            .map(|((s, _, _), _)| *s)
            .collect();
        let now = now_ms();
        reg.mark_published(&seqs, now)?;
        done.published += seqs.len();
        if seqs.len() < batch.len() {
            break;
        }
    }
    done.pending = reg.unpublished_count()?;
    let left = deadline.saturating_sub(start.elapsed());
    if !left.is_zero() {
        flush_fleet(paths, cfg, &ep, reg, left)?;
    }
    Ok(Some(done))
}

/// The least time a try at the fleet's traffic must have for its failure to
/// count against the rows (move them back by their backoff).
const FAIR_TRY: Duration = Duration::from_secs(1);

/// Publish the fleet traffic that is due: each row in a fresh envelope
/// (new sequence number, now as its time) signed with this host's Ed25519
/// key, to the inbox of the host it goes to. A command stays due until its
/// receipt arrives (tried again 1 s, 2 s, … at most 30 s apart); a receipt
/// is done once the broker has it. Returns how many were published.
pub fn flush_fleet(
    paths: &Paths,
    cfg: &BrokerConfig,
    ep: &mqtt::Endpoint,
    reg: &mut Registry,
    deadline: Duration,
) -> Result<usize> {
    let now = now_ms();
    if reg.fleet_next_due()?.is_none_or(|t| t > now) {
        return Ok(0);
    }
    // Whatever waits was addressed to hosts that trust this host's key: a
    // key gone missing is said, never silently replaced by one they refuse.
    if std::fs::symlink_metadata(&paths.host_key).is_err() {
        return Err(crate::error::environment(format!(
            "host key file {} is missing: messages to other hosts wait",
            paths.host_key.display()
        ))
        .hint("restore it from a backup; or make a new one with `mam fleet show` (every peer must then `mam fleet untrust` and `mam fleet trust` this host again)")
        .into());
    }
    let key = crate::signing::host::HostKey::load(&paths.host_key)?;
    let rows = reg.write(|t| t.fleet_due(now, 200))?;
    let ts = crate::signing::rfc3339_ms(now);
    let msgs: Vec<(String, Vec<u8>)> = rows
        .iter()
        .map(|r| {
            let topic = super::fleet_inbox(&cfg.topic_prefix, &r.host);
            let mut env = super::envelope::Envelope {
                v: 1,
                id: super::envelope::random_id(),
                ws: reg.ws().to_string(),
                src: r.from_host.clone(),
                seq: r.seq,
                ts: ts.clone(),
                kind: r.kind.clone(),
                job: r.job.clone(),
                body: r.body.clone(),
                kid: String::new(),
                sig: String::new(),
            };
            key.sign(&mut env, &topic);
            (topic, env.to_wire().into_bytes())
        })
        .collect();
    // A broker that is down is tried again with the rows' backoff, not at
    // every call (the daemon calls this between its polls). A try with less
    // than FAIR_TRY to run in (what a command has left of its publish
    // budget) says nothing of the broker when it fails: its rows stay due as
    // they were, for the daemon's next try.
    let published = mqtt::publish(ep, &msgs, deadline);
    let acked = published
        .as_ref()
        .map_or_else(|_| vec![false; rows.len()], Clone::clone);
    let fair = deadline >= FAIR_TRY;
    let now = now_ms();
    reg.write(|t| {
        rows.iter().zip(&acked).try_for_each(|(r, ok)| {
            if *ok {
                t.fleet_published(r.id, now)
            } else if fair {
                t.fleet_not_published(r.id, now)
            } else {
                Ok(())
            }
        })
    })?;
    published?;
    Ok(acked.iter().filter(|ok| **ok).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A broker that takes the connection and never answers: each try runs
    /// out its deadline. A short try (a command's leftover budget) leaves the
    /// rows as they were; a fair one moves them back by their backoff.
    #[test]
    fn only_a_fair_try_that_fails_backs_the_fleet_rows_off() {
        let (_dir, paths, mut reg) = crate::registry::scratch();
        crate::signing::host::HostKey::load_or_create(&paths.host_key, now_ms()).unwrap();
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let cfg = BrokerConfig {
            url: format!("mqtt://127.0.0.1:{}", silent.local_addr().unwrap().port()),
            ..BrokerConfig::default()
        };
        let ep = mqtt::endpoint(&cfg).unwrap().unwrap();
        let body = serde_json::json!({"at": 1, "every_ms": 1000, "jobs": []});
        reg.write(|t| t.queue_fleet_latest("beta", "alpha", "fleet.state", &body))
            .unwrap();
        // The row's tries and when it is next due.
        let row = |reg: &mut Registry| {
            let next_at = reg.fleet_next_due().unwrap().unwrap();
            let due = reg.write(|t| t.fleet_due(i64::MAX, 10)).unwrap();
            assert_eq!(due.len(), 1);
            (due[0].tries, next_at)
        };
        let queued = row(&mut reg);
        assert_eq!(queued.0, 0);

        let short = flush_fleet(&paths, &cfg, &ep, &mut reg, Duration::from_millis(300));
        assert!(short.is_err(), "{short:?}");
        assert_eq!(row(&mut reg), queued);

        let before = now_ms();
        let fair = flush_fleet(&paths, &cfg, &ep, &mut reg, FAIR_TRY);
        assert!(fair.is_err(), "{fair:?}");
        let (tries, next_at) = row(&mut reg);
        assert_eq!(tries, 1);
        assert!(next_at >= before + 1000, "{next_at} < {before} + 1000");
        drop(silent);
    }
}
