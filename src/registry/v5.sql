-- Schema 5: delivery attempts, recorded before anything is typed, so that a
-- process killed at any instant leaves enough behind for the next one to tell
-- "typed, not submitted" from "submitted" and repair it; the proof each
-- delivery carries; whether a job's task prompt has reached it.
CREATE TABLE attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job         TEXT NOT NULL,
    item        TEXT NOT NULL,              -- 'm12', 'r3' or 'prompt'
    needle      TEXT,                       -- unique text looked for in the agent's record
    baseline    TEXT,                       -- JSON: record files and their sizes before typing
    state       TEXT NOT NULL,              -- typing submitted proven lost cleared abandoned
    how         TEXT,                       -- record hook screen queued exited
    error       TEXT,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER
);
CREATE INDEX attempts_by_job ON attempts(job, id);
ALTER TABLE messages ADD COLUMN how TEXT;
ALTER TABLE reminders ADD COLUMN how TEXT;
ALTER TABLE jobs ADD COLUMN prompt_state TEXT;  -- NULL (no prompt) pending delivered
UPDATE jobs SET prompt_state = 'delivered' WHERE prompt IS NOT NULL;
