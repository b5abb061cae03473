-- Schema 1: workspace identity, jobs, their tmux sessions, the event outbox
-- and the accepted-event set for replay defence.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE jobs (
    name            TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    role            TEXT NOT NULL,
    workdir         TEXT NOT NULL,
    cmd             TEXT,                      -- JSON argv overriding the profile's
    env             TEXT NOT NULL DEFAULT '[]',-- JSON [[k, v], ...]
    prompt          TEXT,
    state           TEXT NOT NULL,
    reason          TEXT,                      -- why it is in this state
    progress        INTEGER,
    progress_note   TEXT,
    verdict         TEXT,
    details         TEXT,
    artifacts       TEXT,                      -- JSON array of paths
    on_done         TEXT NOT NULL DEFAULT 'stop',
    conversation_id TEXT,
    exit_status     INTEGER,
    misses          INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    state_since     INTEGER NOT NULL
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    job          TEXT NOT NULL REFERENCES jobs(name) ON DELETE CASCADE,
    tmux_session TEXT NOT NULL,
    pane_id      TEXT NOT NULL,
    pane_pid     INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    ended_at     INTEGER,
    end_reason   TEXT
);
CREATE UNIQUE INDEX sessions_one_live ON sessions(job) WHERE ended_at IS NULL;

CREATE TABLE events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    ts_ms        INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    job          TEXT NOT NULL,
    topic        TEXT NOT NULL,
    envelope     TEXT NOT NULL,
    published_at INTEGER
);
CREATE INDEX events_unpublished ON events(seq) WHERE published_at IS NULL;
CREATE INDEX events_by_job ON events(job, seq);

CREATE TABLE accepted (
    src   TEXT NOT NULL,
    seq   INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    PRIMARY KEY (src, seq)
) WITHOUT ROWID;
