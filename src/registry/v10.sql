-- Schema 10: the fleet (several hosts sharing a broker). One row per other
-- host this registry knows: its Ed25519 public key (hex; NULL when only
-- seen, never trusted), whether traffic signed by that key is acted on, and
-- when it was trusted and last heard from (unix ms).
CREATE TABLE fleet_hosts (
    host       TEXT PRIMARY KEY,
    public_key TEXT,
    trusted    INTEGER NOT NULL DEFAULT 0 CHECK (trusted IN (0, 1)),
    trusted_at INTEGER,
    trusted_by TEXT NOT NULL DEFAULT '',
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER
);
