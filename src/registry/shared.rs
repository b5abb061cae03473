//! The manifest of the shared docs: each file's name, sha256, size, and
//! who added it when. The `shared.changed` event is the caller's, in the
//! same transaction.

use anyhow::Result;
use rusqlite::{Row, params};
use serde::Serialize;

use super::{Registry, Tx, now_ms, opt};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SharedFile {
    pub name: String,
    pub sha256: String,
    pub bytes: i64,
    pub added_by: String,
    pub added_at: i64,
}

const COLS: &str = "name, sha256, bytes, added_by, added_at";

fn row(r: &Row) -> rusqlite::Result<SharedFile> {
    Ok(SharedFile {
        name: r.get(0)?,
        sha256: r.get(1)?,
        bytes: r.get(2)?,
        added_by: r.get(3)?,
        added_at: r.get(4)?,
    })
}

impl Tx<'_> {
    /// Record (or replace) a shared file's manifest entry.
    pub fn put_shared_file(
        &self,
        name: &str,
        sha256: &str,
        bytes: i64,
        by: &str,
    ) -> Result<SharedFile> {
        let now = now_ms();
        self.tx.execute(
            "INSERT INTO shared_files (name, sha256, bytes, added_by, added_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT(name) DO UPDATE SET sha256 = ?2, bytes = ?3, added_by = ?4, added_at = ?5",
            params![name, sha256, bytes, by, now],
        )?;
        Ok(SharedFile {
            name: name.into(),
            sha256: sha256.into(),
            bytes,
            added_by: by.into(),
            added_at: now,
        })
    }

    pub fn delete_shared_file(&self, name: &str) -> Result<bool> {
        Ok(self
            .tx
            .execute("DELETE FROM shared_files WHERE name = ?1", [name])?
            > 0)
    }
}

impl Registry {
    pub fn shared_files(&self) -> Result<Vec<SharedFile>> {
        let mut st = self
            .conn()
            .prepare_cached(&format!("SELECT {COLS} FROM shared_files ORDER BY name"))?;
        Ok(st.query_map([], row)?.collect::<rusqlite::Result<_>>()?)
    }

    pub fn shared_file(&self, name: &str) -> Result<Option<SharedFile>> {
        opt(self.conn().query_row(
            &format!("SELECT {COLS} FROM shared_files WHERE name = ?1"),
            [name],
            row,
        ))
    }
}
