-- The messagerie. A message (its subject, body and attachments) is stored once; each
-- person who holds it (the sender, every recipient) has a small row in mail_copies
-- that says in which folder it is, whether it was read, whether it was deleted.

CREATE TABLE mail_messages (
    seq          {{serial}},
    id           TEXT NOT NULL UNIQUE,
    sender_id    TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'draft', -- draft, sent
    size         BIGINT NOT NULL DEFAULT 0,     -- subject + body + attachments, in bytes
    recipients   INTEGER NOT NULL DEFAULT 0,    -- person copies made at send time
    attachments  INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    sent_at      BIGINT NOT NULL DEFAULT 0,
    parent_id    TEXT NOT NULL DEFAULT '',
    sender_name  TEXT NOT NULL,
    subject      TEXT NOT NULL DEFAULT '',
    -- The header as the sender wrote it: JSON lists of {"k":"p"|"g","id","name"}.
    -- Groups stay groups here ("Responsables — 4e A"); bcc is shown to the sender only.
    rcpt_to      TEXT NOT NULL DEFAULT '[]',
    rcpt_cc      TEXT NOT NULL DEFAULT '[]',
    rcpt_bcc     TEXT NOT NULL DEFAULT '[]',
    -- Last: SQLite reads a row's columns in order, and a long body spills to overflow
    -- pages that listings and quota sums must not walk through.
    body         TEXT NOT NULL DEFAULT ''
);

CREATE INDEX mail_messages_sender ON mail_messages(sender_id, state);

-- What a folder listing shows of each message, read from the index alone: one B-tree
-- descent per line instead of two (index, then table).
CREATE INDEX mail_messages_list ON mail_messages(id, state, attachments, sender_id, sender_name, subject, rcpt_to);

CREATE TABLE mail_folders (
    id         TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX mail_folders_name ON mail_folders(person_id, name);

-- Attachments: the bytes are in the blob store, once per message. A forwarded
-- attachment is a new row on the same blob.
CREATE TABLE mail_attachments (
    id           TEXT PRIMARY KEY,
    message_id   TEXT NOT NULL REFERENCES mail_messages(id) ON DELETE CASCADE,
    blob_key     TEXT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);

CREATE INDEX mail_attachments_message ON mail_attachments(message_id);
CREATE INDEX mail_attachments_blob ON mail_attachments(blob_key);

-- Blobs whose last attachment row is gone, written in the purge's transaction and
-- deleted from the store afterwards (and by the housekeeping sweep after a crash).
CREATE TABLE mail_blob_trash (
    blob_key   TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

-- Reports (signalements) of a received message, for the moderators.
CREATE TABLE mail_reports (
    message_id   TEXT NOT NULL REFERENCES mail_messages(id) ON DELETE CASCADE,
    reporter_id  TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'open', -- open, dismissed, removed
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (message_id, reporter_id)
);

CREATE INDEX mail_reports_status ON mail_reports(status, created_at);
