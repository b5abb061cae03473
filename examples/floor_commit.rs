//! The floor for `mam send` in `benches/perf.rs`: the least a separate
//! process can do to store one message durably in a registry-like database.
//!
//! `floor_commit DB [TEXT [ROWS]]` opens (creating on first use) the SQLite database
//! DB the way `src/registry/mod.rs` opened the registry before its own busy
//! handler — read-write, no mutex, SQLite's `busy_timeout` 10 s,
//! `foreign_keys = ON`, `synchronous = NORMAL`, WAL journal — then commits
//! one row (or ROWS rows, the floor of `mam send --batch`) in a
//! `BEGIN IMMEDIATE` transaction and exits. The first run switches the file to WAL and creates the table; every
//! later run only reads the journal mode, as mam does before using the file.
//!
//! Exits 1 with a message on stderr on any error.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

fn run() -> rusqlite::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let Some(db) = args.next() else {
        eprintln!("usage: floor_commit DB [TEXT]");
        std::process::exit(2);
    };
    let body = args
        .next()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "hello".into());
    let rows: usize = match args.next().map(|s| s.to_string_lossy().parse()) {
        None => 1,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("floor_commit: ROWS must be a number");
            std::process::exit(2);
        }
    };

    let mut conn = Connection::open_with_flags(
        &db,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // First use (racing first runs are serialised by the busy timeout).
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS messages (
                 id INTEGER PRIMARY KEY,
                 ts_ms INTEGER NOT NULL,
                 sender TEXT NOT NULL,
                 recipient TEXT NOT NULL,
                 body TEXT NOT NULL
             )",
        )?;
    }

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO messages (ts_ms, sender, recipient, body) VALUES (?1, 'operator', 'idle', ?2)",
        )?;
        for _ in 0..rows {
            insert.execute(rusqlite::params![now, body])?;
        }
    }
    tx.commit()
}

fn main() {
    if let Err(e) = run() {
        eprintln!("floor_commit: {e}");
        std::process::exit(1);
    }
}
