//! The event outbox (reading the local log, the unpublished events, marking
//! them published) and the persisted set of accepted remote events.

use anyhow::Result;
use rusqlite::params;

use super::Registry;

/// One stored event.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: i64,
    pub kind: String,
    pub job: String,
    pub topic: String,
    pub envelope: String,
    pub published: bool,
}

impl Registry {
    /// Events after `since`, optionally for one job / kind, oldest first.
    pub fn events(
        &self,
        since: i64,
        job: Option<&str>,
        kind: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StoredEvent>> {
        let mut st = self.conn.prepare_cached(
            "SELECT seq, kind, job, topic, envelope, published_at IS NOT NULL FROM events \
             WHERE seq > ?1 AND (?2 IS NULL OR job = ?2) AND (?3 IS NULL OR kind = ?3) \
             ORDER BY seq LIMIT ?4",
        )?;
        let rows = st.query_map(params![since, job, kind, limit], |r| {
            Ok(StoredEvent {
                seq: r.get(0)?,
                kind: r.get(1)?,
                job: r.get(2)?,
                topic: r.get(3)?,
                envelope: r.get(4)?,
                published: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Up to `limit` unpublished events as (seq, topic, envelope), oldest first.
    pub fn unpublished(&self, limit: i64) -> Result<Vec<(i64, String, String)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT seq, topic, envelope FROM events WHERE published_at IS NULL ORDER BY seq LIMIT ?1",
        )?;
        let rows = st.query_map([limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn unpublished_count(&self) -> Result<usize> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM events WHERE published_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// Mark events published at `now` (one transaction).
    pub fn mark_published(&mut self, seqs: &[i64], now: i64) -> Result<()> {
        self.write(|tx| {
            for s in seqs {
                tx.tx.execute(
                    "UPDATE events SET published_at = ?2 WHERE seq = ?1",
                    params![s, now],
                )?;
            }
            Ok(())
        })
    }

    /// Insert `(src, seq)` into the accepted set durably (synchronous=FULL for
    /// this commit); false if it was there. Rows with `ts_ms` before
    /// `prune_before` are pruned.
    pub fn record_accepted(
        &mut self,
        src: &str,
        seq: i64,
        ts_ms: i64,
        prune_before: i64,
    ) -> Result<bool> {
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let res = self.write(|tx| {
            let n = tx.tx.execute(
                "INSERT OR IGNORE INTO accepted (src, seq, ts_ms) VALUES (?1, ?2, ?3)",
                params![src, seq, ts_ms],
            )?;
            tx.tx
                .execute("DELETE FROM accepted WHERE ts_ms < ?1", [prune_before])?;
            Ok(n == 1)
        });
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        res
    }
}
