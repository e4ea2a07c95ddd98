-- Instant messaging: conversations (one-to-one or group), their members, messages
-- stored once, reports to moderators, and presence shared between instances.
CREATE TABLE chat_conversations (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,            -- 'direct' or 'group'
    title           TEXT NOT NULL DEFAULT '', -- group conversations
    direct_key      TEXT UNIQUE,              -- direct: the two person ids, sorted, joined by ':'
    structure_id    TEXT NOT NULL DEFAULT '', -- whose moderators handle reports
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_message_id BIGINT NOT NULL DEFAULT 0,
    last_message_at BIGINT NOT NULL
);

CREATE TABLE chat_members (
    conversation_id TEXT NOT NULL REFERENCES chat_conversations(id) ON DELETE CASCADE,
    person_id       TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    joined_at       BIGINT NOT NULL,
    read_id         BIGINT NOT NULL DEFAULT 0, -- last message read
    PRIMARY KEY (conversation_id, person_id)
);

CREATE INDEX chat_members_person ON chat_members(person_id);

CREATE TABLE chat_messages (
    id              {{serial}},
    conversation_id TEXT NOT NULL REFERENCES chat_conversations(id) ON DELETE CASCADE,
    sender_id       TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    removed_at      BIGINT NOT NULL DEFAULT 0,
    removed_by      TEXT NOT NULL DEFAULT ''
);

CREATE INDEX chat_messages_conversation ON chat_messages(conversation_id, id);

CREATE TABLE chat_reports (
    id           TEXT PRIMARY KEY,
    message_id   BIGINT NOT NULL REFERENCES chat_messages(id) ON DELETE CASCADE,
    structure_id TEXT NOT NULL,
    reporter_id  TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    resolved_at  BIGINT NOT NULL DEFAULT 0,
    resolved_by  TEXT NOT NULL DEFAULT '',
    outcome      TEXT NOT NULL DEFAULT '', -- 'removed' or 'kept'
    UNIQUE (message_id, reporter_id)
);

CREATE INDEX chat_reports_open ON chat_reports(structure_id, resolved_at);

-- One row per person and instance holding live streams; heartbeats keep seen_at fresh,
-- so that a crashed instance's persons fade to "away" then "offline".
CREATE TABLE chat_presence (
    person_id   TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    live        BOOLEAN NOT NULL,
    seen_at     BIGINT NOT NULL,
    PRIMARY KEY (person_id, instance_id)
);

CREATE INDEX chat_presence_instance ON chat_presence(instance_id);
