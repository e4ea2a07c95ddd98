-- Forums: categories of a structure shared with groups and persons (shares of type
-- "forum", rights.Read reads and replies, rights.Contribute opens subjects,
-- rights.Manage locks, pins and removes), their subjects and messages.

CREATE TABLE forum_categories (
    id           TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
    owner_id     TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);

CREATE INDEX forum_categories_structure ON forum_categories(structure_id);

CREATE TABLE forum_subjects (
    id          TEXT PRIMARY KEY,
    category_id TEXT NOT NULL REFERENCES forum_categories(id) ON DELETE CASCADE,
    author_id   TEXT NOT NULL,
    title       TEXT NOT NULL,
    locked      BOOLEAN NOT NULL DEFAULT FALSE,
    pinned      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    last_at     BIGINT NOT NULL
);

CREATE INDEX forum_subjects_category ON forum_subjects(category_id, pinned, last_at);

-- removed: taken down by a manager or a moderator (kept for the audit trail).
CREATE TABLE forum_messages (
    id         TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL REFERENCES forum_subjects(id) ON DELETE CASCADE,
    author_id  TEXT NOT NULL,
    body       TEXT NOT NULL,
    removed    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);

CREATE INDEX forum_messages_subject ON forum_messages(subject_id, created_at);
