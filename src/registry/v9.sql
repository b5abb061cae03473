-- Schema 9: hooks (`[[hooks]]` in config). `hooks_seq` in meta is the last
-- event the hook scan has looked at; a registry upgraded to this schema
-- starts after its existing events (no hook runs for history), a new one at
-- 0. Each run of a hook for an event is claimed here, in the transaction
-- that moves the cursor, before the hook starts: the primary key makes a
-- second claim (another `reconcile`, a restart) a no-op, so a hook runs at
-- most once per event. `outcome` is NULL while it runs (or when the process
-- running it died: `doctor` reports that as interrupted once `timeout_ms`
-- has long passed), then `ok`, `failed` or `timeout`.
INSERT OR REPLACE INTO meta (key, value)
    SELECT 'hooks_seq', CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM events;
CREATE TABLE hook_runs (
    event_seq   INTEGER NOT NULL,
    hook        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    job         TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    timeout_ms  INTEGER NOT NULL,
    finished_at INTEGER,
    outcome     TEXT,
    detail      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (event_seq, hook)
);
CREATE INDEX hook_runs_unsettled ON hook_runs(started_at) WHERE outcome IS NULL OR outcome <> 'ok';
