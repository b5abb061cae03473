-- Schema 12: the fleet's status. `fleet_state` keeps the newest snapshot of
-- each other host's jobs that its daemon sent (signed, to this host's
-- inbox): `at` is when that host built it (its clock, unix ms), `every_ms`
-- how often it promised one at the latest, `received_at` when it arrived
-- (this host's clock), `jobs` the JSON list. `fleet_hosts` gains the clock
-- skew last measured on a genuine envelope of the host (this host's clock
-- minus its timestamp, ms) and when, for `mam doctor`.
CREATE TABLE fleet_state (
    host        TEXT PRIMARY KEY,
    at          INTEGER NOT NULL,
    every_ms    INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    jobs        TEXT NOT NULL
);
ALTER TABLE fleet_hosts ADD COLUMN skew_ms INTEGER;
ALTER TABLE fleet_hosts ADD COLUMN skew_at INTEGER;
