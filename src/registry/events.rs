//! The event outbox: reading the local log and marking events published.

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
        let mut st = self.conn().prepare_cached(
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
}
