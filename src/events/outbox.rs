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
    Ok(Some(done))
}
