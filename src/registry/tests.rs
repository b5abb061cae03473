use super::*;
use crate::model::JobState;
use crate::workspace::Paths;

fn fresh() -> (tempfile::TempDir, Paths) {
    let t = tempfile::tempdir().unwrap();
    let p = Paths::new(t.path().to_path_buf(), t.path().join(".mam"));
    p.ensure().unwrap();
    (t, p)
}

#[test]
fn opens_migrates_and_is_wal() {
    let (_t, p) = fresh();
    let r = Registry::open(&p, "mam").unwrap();
    assert!(r.ws().starts_with('w'));
    let v: i64 = r
        .conn()
        .query_row("PRAGMA user_version", [], |x| x.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    assert!(is_wal(r.conn()).unwrap());
    // Reopening keeps the identity.
    let ws = r.ws().to_string();
    drop(r);
    assert_eq!(Registry::open(&p, "mam").unwrap().ws(), ws);
}

#[test]
fn newer_schema_is_refused() {
    let (_t, p) = fresh();
    drop(Registry::open(&p, "mam").unwrap());
    let c = Connection::open(&p.db).unwrap();
    c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(c);
    let err = Registry::open(&p, "mam").err().unwrap();
    assert_eq!(crate::error::code_of(&err), crate::error::Code::Environment);
    assert!(format!("{err}").contains("newer"), "{err}");
}

#[test]
fn corrupt_file_is_named() {
    let (_t, p) = fresh();
    std::fs::write(&p.db, vec![b'x'; 4096]).unwrap();
    let err = Registry::open(&p, "mam").err().unwrap();
    assert_eq!(crate::error::code_of(&err), crate::error::Code::Environment);
    assert!(format!("{err}").contains("corrupt"), "{err}");
}

#[test]
fn state_changes_emit_signed_events_in_order() {
    let (_t, p) = fresh();
    let mut r = Registry::open(&p, "mam").unwrap();
    r.write(|tx| {
        tx.insert_job(&jobs::NewJob {
            name: "alice",
            kind: "shell",
            role: crate::model::Role::Worker,
            workdir: "/tmp",
            cmd: None,
            env: &[],
            prompt: None,
            conversation_id: None,
            on_done: crate::model::OnDone::Stop,
            worktree: None,
            mcp: false,
        })?;
        tx.set_state("alice", JobState::Ready, None)?;
        tx.set_state("alice", JobState::Ready, None)?; // unchanged: no event
        tx.set_state("alice", JobState::Busy, Some("typing"))
    })
    .unwrap();
    let evs = r.events(0, Some("alice"), None, 100).unwrap();
    // The job's creation is announced in the transaction that records it.
    let kinds: Vec<&str> = evs.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["job.created", "job.state", "job.state"]);
    assert!(evs[0].seq < evs[1].seq && evs[1].seq < evs[2].seq);
    let key = r.ident.keys.current().clone();
    for e in &evs {
        let env: crate::signing::envelope::Envelope = serde_json::from_str(&e.envelope).unwrap();
        assert_eq!(env.seq, e.seq);
        assert!(env.verify_sig(&e.topic, &hex::decode(&key.secret).unwrap()));
    }
    // A duplicate name is a conflict.
    let err = r
        .write(|tx| {
            tx.insert_job(&jobs::NewJob {
                name: "alice",
                kind: "shell",
                role: crate::model::Role::Worker,
                workdir: "/tmp",
                cmd: None,
                env: &[],
                prompt: None,
                conversation_id: None,
                on_done: crate::model::OnDone::Stop,
                worktree: None,
                mcp: false,
            })
        })
        .unwrap_err();
    assert_eq!(crate::error::code_of(&err), crate::error::Code::Conflict);
}

#[test]
fn the_wal_stays_bounded_across_many_one_shot_opens() {
    let (_t, p) = fresh();
    let body = serde_json::json!({"pad": "x".repeat(2000)});
    for _ in 0..400 {
        let mut r = Registry::open(&p, "mam").unwrap();
        r.write(|tx| tx.emit("test.event", "-", body.clone()).map(drop))
            .unwrap();
    }
    let wal = std::fs::metadata(p.db.with_extension("db-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(wal <= 2 * super::WAL_LIMIT, "WAL grew to {wal} bytes");
    let r = Registry::open(&p, "mam").unwrap();
    assert_eq!(r.events(0, None, None, 1000).unwrap().len(), 400);
}

/// The bundled SQLite is built as `.cargo/config.toml` says (cargo reads it
/// when run in the checkout): without the
/// extensions mam never uses (and so faster to compile), with loadable
/// extensions compiled out.
#[test]
fn the_bundled_sqlite_leaves_out_what_mam_never_uses() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let mut stmt = conn.prepare("PRAGMA compile_options").unwrap();
    let opts: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let opts: Vec<&str> = opts.iter().map(String::as_str).collect();
    for gone in [
        "ENABLE_FTS3",
        "ENABLE_FTS5",
        "ENABLE_RTREE",
        "ENABLE_DBSTAT_VTAB",
        "ENABLE_STAT4",
        "SOUNDEX",
        "ENABLE_LOAD_EXTENSION",
    ] {
        assert!(!opts.contains(&gone), "{gone} is compiled in: {opts:?}");
    }
    for kept in [
        "OMIT_LOAD_EXTENSION",
        "OMIT_DEPRECATED",
        "OMIT_SHARED_CACHE",
        "DEFAULT_MEMSTATUS=0",
        "ENABLE_API_ARMOR",
    ] {
        assert!(opts.contains(&kept), "{kept} is missing: {opts:?}");
    }
}
