-- Schema 2: messages and questions.
CREATE TABLE messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sender       TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    kind         TEXT NOT NULL,              -- message broadcast question answer reminder system
    body         TEXT NOT NULL,
    in_reply_to  TEXT,                       -- 'm12' or 'q3'
    question_id  INTEGER,
    state        TEXT NOT NULL DEFAULT 'queued', -- queued delivered read failed cancelled
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    delivered_at INTEGER,
    read_at      INTEGER
);
CREATE INDEX messages_inbox ON messages(recipient, state, id);

CREATE TABLE questions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    asker       TEXT NOT NULL,
    target      TEXT NOT NULL,
    text        TEXT NOT NULL,
    answer      TEXT,
    state       TEXT NOT NULL DEFAULT 'open', -- open answered cancelled
    message_id  INTEGER,
    created_at  INTEGER NOT NULL,
    answered_at INTEGER
);
CREATE INDEX questions_open ON questions(state, target);
