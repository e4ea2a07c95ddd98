-- One row per person holding a message (the only per-recipient storage). folder: inbox,
-- sent, drafts, trash or the id of one of the person's folders; prev_folder is where a
-- message in the trash goes back. role: sender, to, cc, bcc. at orders the listings
-- (sent time; update time of drafts). deleted copies stay, small, until the message
-- is purged, so that "read by" stays true.
-- The primary key starts with the message: the 2,000 copies of one message are written
-- side by side, and read-by, recall and purges read them with it.
-- PostgreSQL keeps rows in a heap; the primary key is an index like the others.
CREATE TABLE mail_copies (
    message_id   TEXT NOT NULL REFERENCES mail_messages(id) ON DELETE CASCADE,
    person_id    TEXT NOT NULL,
    folder       TEXT NOT NULL,
    prev_folder  TEXT NOT NULL DEFAULT '',
    role         TEXT NOT NULL,
    unread       BOOLEAN NOT NULL DEFAULT FALSE,
    read_at      BIGINT NOT NULL DEFAULT 0,
    deleted      BOOLEAN NOT NULL DEFAULT FALSE,
    at           BIGINT NOT NULL,
    PRIMARY KEY (message_id, person_id)
);

-- Folder listings in keyset order; unread counts.
CREATE INDEX mail_copies_folder ON mail_copies(person_id, folder, at, message_id);

CREATE INDEX mail_copies_unread ON mail_copies(person_id, folder) WHERE unread;
