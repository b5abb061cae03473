-- Schema 7: file leases between agents, and the manifest of the shared
-- read-only docs.
CREATE TABLE leases (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    holder      TEXT NOT NULL,              -- a job name or 'operator'
    pattern     TEXT NOT NULL,              -- a workspace-relative path or glob
    shared      INTEGER NOT NULL DEFAULT 0, -- 1: only exclusive leases conflict with it
    reason      TEXT,
    state       TEXT NOT NULL,              -- active released expired broken
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    ended_by    TEXT,                       -- who released or broke it
    end_reason  TEXT
);
CREATE INDEX leases_active ON leases(expires_at) WHERE state = 'active';
CREATE INDEX leases_by_holder ON leases(holder, id);

CREATE TABLE shared_files (
    name        TEXT PRIMARY KEY,           -- file name inside the shared dir
    sha256      TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    added_by    TEXT NOT NULL,
    added_at    INTEGER NOT NULL
);
