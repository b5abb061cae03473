-- Schema 3: reminders, the record of reminder deliveries per target (for the
-- rate limit).
CREATE TABLE reminders (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner      TEXT NOT NULL,
    target     TEXT NOT NULL,
    text       TEXT NOT NULL,
    due_at     INTEGER NOT NULL,
    every_ms   INTEGER,
    state      TEXT NOT NULL DEFAULT 'pending', -- pending delivered failed cancelled
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    fired_at   INTEGER
);
CREATE INDEX reminders_due ON reminders(state, due_at);

CREATE TABLE reminder_fires (
    target TEXT NOT NULL,
    at     INTEGER NOT NULL
);
CREATE INDEX reminder_fires_by_target ON reminder_fires(target, at);
