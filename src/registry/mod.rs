//! The SQLite registry (SPEC §5): opening with pragmas, first-time setup under
//! an exclusive file lock, forward-only migrations on `user_version` in one
//! transaction, a newer schema refused, and write transactions that are
//! always `BEGIN IMMEDIATE`. Every state change writes its signed event into
//! the outbox in the same transaction (`Tx::emit`). One file per table family.

pub mod attempts;
pub mod events;
pub mod fleet;
pub mod hooks;
pub mod jobs;
pub mod leases;
pub mod messages;
mod model_sql;
pub mod reminders;
pub mod shared;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use crate::error::environment;
use crate::lock;
use crate::signing::envelope::{Envelope, random_id};
use crate::signing::keys::KeyRing;
use crate::signing::{rfc3339_ms, topic};
use crate::workspace::Paths;

/// Forward-only migrations; index + 1 is the schema version they produce.
const MIGRATIONS: &[&str] = &[
    include_str!("v1.sql"),
    include_str!("v2.sql"),
    include_str!("v3.sql"),
    include_str!("v4.sql"),
    include_str!("v5.sql"),
    include_str!("v6.sql"),
    include_str!("v7.sql"),
    include_str!("v8.sql"),
    include_str!("v9.sql"),
    include_str!("v10.sql"),
    include_str!("v11.sql"),
    include_str!("v12.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The job an event about something addressed to `addressee` belongs to:
/// the addressee, or `other` when that is the operator (or everyone), who
/// has no job of its own.
pub fn event_job<'a>(addressee: &'a str, other: &'a str) -> &'a str {
    if addressee == "operator" || addressee == "*" {
        other
    } else {
        addressee
    }
}

/// Turn off SQLite's memory statistics, which it otherwise keeps behind a
/// global mutex on every allocation (4% of a one-shot `mam send`'s
/// instructions); mam never reads them. Call once at process start, before
/// any thread or connection exists: SQLite refuses configuration once it is
/// initialised (the refusal is harmless, and ignored).
pub fn tune_sqlite_at_start() {
    // SAFETY: sqlite3_config is called before SQLite is initialised (or is
    // refused with SQLITE_MISUSE after, changing nothing); MEMSTATUS takes
    // one int argument.
    unsafe {
        rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int);
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    crate::clock::now_ms()
}

pub struct Registry {
    conn: Connection,
    path: std::path::PathBuf,
    write_lock: std::path::PathBuf,
    pub ident: Ident,
}

/// The WAL size above which closing a registry resets it (best effort).
const WAL_LIMIT: u64 = 512 * 1024;

impl Drop for Registry {
    fn drop(&mut self) {
        self.bound_wal();
    }
}

/// Who signs this registry's events.
#[derive(Debug, Clone)]
pub struct Ident {
    /// Workspace id (`meta.ws`).
    pub ws: String,
    /// This registry's sender id for events (`meta.src`).
    pub src: String,
    pub topic_prefix: String,
    pub keys: KeyRing,
}

/// An open write transaction, with the workspace identity for `emit`.
pub struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
    ident: &'a Ident,
}

impl Registry {
    /// Open (and on first use create) the registry of a workspace whose state
    /// directory exists. Loads and checks the key file.
    pub fn open(paths: &Paths, topic_prefix: &str) -> Result<Registry> {
        let conn = open_connection(&paths.db)?;
        let version = user_version(&conn, &paths.db)?;
        if version != SCHEMA_VERSION || !is_wal(&conn)? {
            // First-time setup (or an upgrade) under an exclusive lock: racing
            // processes otherwise see "database is locked" from the WAL pragma.
            let _guard = lock::lock(&paths.setup_lock, Duration::from_secs(30), false)?;
            setup(&conn, &paths.db)?;
        }
        if KeyRing::is_missing(&paths.key) {
            // A new key would make every event signed so far unverifiable:
            // only a fresh registry (or `mam key rotate`, asked for) mints one.
            let signed: i64 = conn
                .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
                .map_err(|e| corrupt(e, &paths.db))?;
            if signed > 0 {
                return Err(environment(format!(
                    "key file {} is missing, but registry {} holds {signed} events signed with it",
                    paths.key.display(),
                    paths.db.display()
                ))
                .hint("restore the key file from a backup; or run `mam key rotate` to sign with a new key from now on (earlier events will no longer verify)")
                .into());
            }
        }
        KeyRing::create_if_missing(&paths.key, now_ms())?;
        let keys = KeyRing::load(&paths.key)?;
        // Both ids in one statement (each statement is parsed anew).
        let (ws, src): (Option<String>, Option<String>) = conn
            .query_row(
                "SELECT (SELECT value FROM meta WHERE key = 'ws'), \
                        (SELECT value FROM meta WHERE key = 'src')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| corrupt(e, &paths.db))?;
        let missing = |k: &str| anyhow::anyhow!("registry {} has no {k} id", paths.db.display());
        let ws = ws.ok_or_else(|| missing("ws"))?;
        let src = src.ok_or_else(|| missing("src"))?;
        Ok(Registry {
            conn,
            path: paths.db.clone(),
            write_lock: paths.write_lock.clone(),
            ident: Ident {
                ws,
                src,
                topic_prefix: topic_prefix.to_string(),
                keys,
            },
        })
    }

    fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn ws(&self) -> &str {
        &self.ident.ws
    }

    /// Run `f` in a `BEGIN IMMEDIATE` transaction and commit, holding the
    /// workspace's write lock. Writers queue on that lock in the kernel and
    /// each is woken the moment the one before is done; SQLite's own busy
    /// wait (sleeps growing to 100 ms, then retry) is left for whatever
    /// else holds its lock (first-time setup, a checkpoint). Under 32
    /// concurrent senders that wait was most of the time: see README,
    /// Performance.
    pub fn write<T>(&mut self, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
        let _queued = lock::lock_queued(&self.write_lock, QUEUE_WAIT)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| db_error(e, "cannot start a write transaction"))?;
        let t = Tx {
            tx,
            ident: &self.ident,
        };
        let out = f(&t)?;
        t.tx.commit().map_err(|e| db_error(e, "cannot commit"))?;
        Ok(out)
    }
}

/// How `Tx::emit` stores an event, then its signed envelope (which names
/// the sequence number the first gave it).
const INSERT_EVENT: &str =
    "INSERT INTO events (id, ts_ms, kind, job, topic, envelope) VALUES (?1, ?2, ?3, ?4, ?5, '')";
const SEAL_EVENT: &str = "UPDATE events SET envelope = ?1 WHERE seq = ?2";

impl Registry {
    /// Parse the statements that store a message and its event before the
    /// write lock is taken, so that a writer holds the lock only to run
    /// them: parsing them inside held every writer queued behind it up.
    pub fn prepare_message_writes(&self) -> Result<()> {
        for sql in [messages::INSERT_MESSAGE, INSERT_EVENT, SEAL_EVENT] {
            self.conn
                .prepare_cached(sql)
                .map_err(|e| db_error(e, "cannot prepare a write"))?;
        }
        Ok(())
    }
}

impl Tx<'_> {
    /// The workspace id of this registry.
    pub fn ws(&self) -> &str {
        &self.ident.ws
    }

    /// Write one signed event into the outbox (same transaction as the
    /// change). `job` is the job it concerns, or "-" for the workspace.
    pub fn emit(&self, kind: &str, job: &str, body: Value) -> Result<i64> {
        let reg = self.ident;
        debug_assert!(!crate::signing::envelope::has_float(&body));
        let now = now_ms();
        let id = random_id();
        let ts = rfc3339_ms(now);
        let topic = topic(&reg.topic_prefix, &reg.ws, kind, job);
        // Cached statements: a batch emits thousands in one transaction.
        self.tx
            .prepare_cached(INSERT_EVENT)
            .and_then(|mut s| s.execute(rusqlite::params![id, now, kind, job, topic]))
            .context("cannot write event")?;
        let seq = self.tx.last_insert_rowid();
        let key = reg.keys.current();
        let mut env = Envelope {
            v: 1,
            id,
            ws: reg.ws.clone(),
            src: reg.src.clone(),
            seq,
            ts,
            kind: kind.to_string(),
            job: job.to_string(),
            body,
            kid: key.kid.clone(),
            sig: String::new(),
        };
        let secret = hex::decode(&key.secret).context("key file holds a malformed secret")?;
        let wire = env.sign_to_wire(&topic, &secret);
        self.tx
            .prepare_cached(SEAL_EVENT)
            .and_then(|mut s| s.execute(rusqlite::params![wire, seq]))
            .context("cannot write event")?;
        Ok(seq)
    }
}

/// How long a write waits for SQLite's own lock (held by first-time setup
/// or a checkpoint: mam's writers queue on the write lock first).
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// How long a write waits in the queue for the write lock: writers hold it
/// for one transaction each (never across tmux or network I/O), so only a
/// long queue on a loaded machine (or a stopped process) waits this long.
const QUEUE_WAIT: Duration = Duration::from_secs(30);

fn open_connection(db: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| db_error(e, &format!("cannot open registry {}", db.display())))?;
    conn.busy_timeout(BUSY_WAIT).map_err(|e| corrupt(e, db))?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(|e| corrupt(e, db))?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| corrupt(e, db))?;
    // The WAL file is cut back to this size whenever it starts over.
    conn.pragma_update(None, "journal_size_limit", WAL_LIMIT as i64)
        .map_err(|e| corrupt(e, db))?;
    // SQLite's automatic checkpoint runs inside COMMIT, while the write lock
    // is held, fsyncs and all: closing a registry does it instead, outside
    // the lock (see `bound_wal`), so only a backstop is left here (40 MB).
    conn.pragma_update(None, "wal_autocheckpoint", 10_000)
        .map_err(|e| corrupt(e, db))?;
    // A one-shot command must not pay for checkpointing and deleting the WAL
    // every time it closes (measured: most of a short send's time on this
    // disk); SQLite's auto-checkpoint still bounds the WAL, and reconcile
    // checkpoints once per pass.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )
    .map_err(|e| corrupt(e, db))?;
    Ok(conn)
}

fn user_version(conn: &Connection, db: &Path) -> Result<i64> {
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| corrupt(e, db))?;
    if v > SCHEMA_VERSION {
        return Err(environment(format!(
            "registry {} has schema version {v}, newer than this mam understands ({SCHEMA_VERSION})",
            db.display()
        ))
        .hint("upgrade mam (cargo install --path . in a newer checkout); this version will not touch it")
        .into());
    }
    Ok(v)
}

fn is_wal(conn: &Connection) -> Result<bool> {
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    Ok(mode.eq_ignore_ascii_case("wal"))
}

fn setup(conn: &Connection, db: &Path) -> Result<()> {
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(|e| corrupt(e, db))?;
    if !mode.eq_ignore_ascii_case("wal") {
        anyhow::bail!(
            "registry {} cannot use WAL (journal_mode is {mode})",
            db.display()
        );
    }
    migrate(conn, db)
}

/// Apply every pending migration in one IMMEDIATE transaction.
fn migrate(conn: &Connection, db: &Path) -> Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| db_error(e, "cannot start migration"))?;
    let result = (|| -> Result<()> {
        let v = user_version(conn, db)?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(v as usize) {
            conn.execute_batch(sql)
                .with_context(|| format!("migration to schema {} failed", i + 1))?;
        }
        if v == 0 {
            let new_id = |p: &str| format!("{p}{}", &random_id()[..12]);
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('ws', ?1), ('src', ?2), ('created_at', ?3)",
                rusqlite::params![new_id("w"), new_id("s"), now_ms().to_string()],
            )?;
        }
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        Ok(())
    })();
    match result {
        Ok(()) => conn
            .execute_batch("COMMIT")
            .map_err(|e| db_error(e, "cannot commit migration")),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn corrupt(e: rusqlite::Error, db: &Path) -> anyhow::Error {
    let text = e.to_string();
    if text.contains("not a database") || text.contains("malformed") {
        environment(format!("registry {} is corrupt: {text}", db.display()))
            .hint("move it aside (mv .mam/mam.db .mam/mam.db.bad) and run `mam init`; `mam doctor` checks integrity")
            .into()
    } else {
        anyhow::Error::from(e).context(format!("cannot read registry {}", db.display()))
    }
}

fn db_error(e: rusqlite::Error, what: &str) -> anyhow::Error {
    anyhow::Error::from(e).context(what.to_string())
}

/// Read one optional row.
pub fn opt<T>(r: rusqlite::Result<T>) -> Result<Option<T>> {
    Ok(r.optional()?)
}

#[cfg(test)]
mod tests;

/// For unit tests: a registry made anew in a directory of its own, with its
/// paths (the directory lives as long as the first value is kept).
#[cfg(test)]
pub(crate) fn scratch() -> (tempfile::TempDir, Paths, Registry) {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::new(dir.path().to_path_buf(), dir.path().join(".mam"));
    paths.ensure().unwrap();
    let reg = Registry::open(&paths, "mam").unwrap();
    (dir, paths, reg)
}

impl Registry {
    /// Move the WAL's content into the database and reset it, without
    /// waiting: if another process is reading or writing, leave it for later.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn.busy_timeout(Duration::ZERO)?;
        let res = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        self.conn.busy_timeout(BUSY_WAIT)?;
        match res {
            Ok(()) => Ok(()),
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => Ok(()),
            Err(e) => Err(e).context("checkpoint"),
        }
    }

    /// Keep the WAL small. Closing does not checkpoint (that made every
    /// one-shot command pay for an fsync and an unlink), so without a
    /// long-lived connection each new process rebuilds the WAL index by
    /// reading the whole WAL (and forgets what was checkpointed): a WAL left
    /// to grow makes every command slower. A registry closing with more
    /// than [`WAL_LIMIT`] in the WAL first copies it into the database with
    /// a PASSIVE checkpoint, which never blocks a writer, then empties it
    /// with a TRUNCATE one, which holds SQLite's write lock but now has
    /// (almost) nothing left to copy and sync — and only while no writer
    /// holds or waits at the write lock. (A TRUNCATE alone held the lock
    /// through its fsync of the database: under 32 concurrent senders that
    /// stalled every writer every ~18 sends.)
    fn bound_wal(&self) {
        let wal = self.path.with_extension("db-wal");
        if !std::fs::metadata(&wal).is_ok_and(|m| m.len() > WAL_LIMIT) {
            return;
        }
        let _ = self.conn.busy_timeout(Duration::ZERO);
        let _ = self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        if let Ok(Some(_idle)) = lock::try_lock(&self.write_lock) {
            let _ = self.checkpoint();
        }
    }

    /// `PRAGMA integrity_check` ("ok" when sound).
    pub fn integrity(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get::<_, String>(0))?)
    }
}
