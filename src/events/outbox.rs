//! Flushing the outbox: publish unpublished events after commit, in sequence
//! order, and mark the ones the broker acknowledged. Bounded by a deadline so
//! a down broker costs a command little and never fails it; what is not
//! published stays in the outbox for the next command or `reconcile`.

use std::time::{Duration, Instant};

use anyhow::Result;
use rusqlite::params;

use super::mqtt;
use crate::config::BrokerConfig;
use crate::lock;
use crate::registry::{Registry, now_ms};
use crate::workspace::Paths;

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
            pending: unpublished_count(reg)?,
        }));
    };
    let start = Instant::now();
    let mut done = Flushed::default();
    loop {
        let batch = unpublished(reg, 200)?;
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
        reg.write(|tx| {
            for s in &seqs {
                tx.execute(
                    "UPDATE events SET published_at = ?2 WHERE seq = ?1",
                    params![s, now],
                )?;
            }
            Ok(())
        })?;
        done.published += seqs.len();
        if seqs.len() < batch.len() {
            break;
        }
    }
    done.pending = unpublished_count(reg)?;
    Ok(Some(done))
}

fn unpublished(reg: &Registry, limit: i64) -> Result<Vec<(i64, String, String)>> {
    let mut st = reg.conn().prepare_cached(
        "SELECT seq, topic, envelope FROM events WHERE published_at IS NULL ORDER BY seq LIMIT ?1",
    )?;
    let rows = st.query_map([limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn unpublished_count(reg: &Registry) -> Result<usize> {
    let n: i64 = reg.conn().query_row(
        "SELECT count(*) FROM events WHERE published_at IS NULL",
        [],
        |r| r.get(0),
    )?;
    Ok(n as usize)
}
