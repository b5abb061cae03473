-- Schema 11: fleet traffic. `fleet_out` is the fleet's outbox: a command
-- (`fleet.message`) to another host, written in the transaction of the
-- local message it carries and published (Ed25519-signed, a fresh envelope
-- each try) to that host's inbox until its receipt arrives (`done_at`),
-- each retry later than the one before (1 s doubling to 30 s); or a
-- receipt (`fleet.receipt`), done once the broker has it. `fleet_in` holds
-- each command received, by its origin and id, so a duplicate stores
-- nothing and only gets its receipt again; for a question, `question` is
-- its id on the asking host (where the answer goes back to). `fleet_seq` in meta numbers the
-- envelopes this host signs (never reset: the peers' replay sets key on it).
CREATE TABLE fleet_out (
    id            INTEGER PRIMARY KEY,
    host          TEXT NOT NULL,
    from_host     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    cmd           TEXT NOT NULL,
    job           TEXT NOT NULL,
    body          TEXT NOT NULL,
    message_id    INTEGER,
    needs_receipt INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    tries         INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL,
    done_at       INTEGER,
    UNIQUE (kind, host, cmd)
);
CREATE INDEX fleet_out_due ON fleet_out(next_at) WHERE done_at IS NULL;
CREATE TABLE fleet_in (
    origin        TEXT NOT NULL,
    cmd           TEXT NOT NULL,
    message_id    INTEGER,
    question      TEXT,
    received_at   INTEGER NOT NULL,
    receipt_state TEXT,
    error         TEXT,
    PRIMARY KEY (origin, cmd)
);
-- Started at the time in microseconds: a registry made anew on the same
-- host starts above every number its predecessor used (one per envelope).
INSERT OR IGNORE INTO meta (key, value)
    VALUES ('fleet_seq', CAST(CAST(strftime('%s', 'now') AS INTEGER) * 1000000 AS TEXT));
