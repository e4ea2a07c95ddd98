-- Actualités: threads (fils) owned by a structure, items with their workflow and
-- targeting, files uploaded into content, reports (signalements), and the public
-- site of each portal: pages, contact and practical information, and a version
-- number per structure that public caches check.

CREATE TABLE news_threads (
    id           TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);

CREATE INDEX news_threads_structure ON news_threads(structure_id);

-- state: draft, submitted, published, rejected, removed (by moderation).
-- publish_at in the future: scheduled; expire_at 0: never expires.
-- target is the targeting as chosen (JSON), news_targets what it resolved to.
CREATE TABLE news_items (
    id            TEXT PRIMARY KEY,
    thread_id     TEXT NOT NULL REFERENCES news_threads(id) ON DELETE CASCADE,
    structure_id  TEXT NOT NULL,
    author_id     TEXT NOT NULL,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    headline      BOOLEAN NOT NULL DEFAULT FALSE,
    public        BOOLEAN NOT NULL DEFAULT FALSE,
    state         TEXT NOT NULL,
    publish_at    BIGINT NOT NULL DEFAULT 0,
    expire_at     BIGINT NOT NULL DEFAULT 0,
    target        TEXT NOT NULL DEFAULT '',
    note          TEXT NOT NULL DEFAULT '',
    published_by  TEXT NOT NULL DEFAULT '',
    notified      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE INDEX news_items_thread ON news_items(thread_id, state);
CREATE INDEX news_items_public ON news_items(structure_id, public, state, publish_at);
CREATE INDEX news_items_due ON news_items(state, notified, publish_at);

-- One row per (structure, profile, class) an item reaches; profile '' = every
-- profile, class_id '' = the whole structure. Readers look items up by structure.
CREATE TABLE news_targets (
    structure_id TEXT NOT NULL,
    profile      TEXT NOT NULL DEFAULT '',
    class_id     TEXT NOT NULL DEFAULT '',
    item_id      TEXT NOT NULL REFERENCES news_items(id) ON DELETE CASCADE,
    PRIMARY KEY (structure_id, profile, class_id, item_id)
);

CREATE INDEX news_targets_item ON news_targets(item_id);

-- Images and files uploaded into content (owner_kind item or page); the bytes are
-- in the blob store under blob_key.
CREATE TABLE news_files (
    id           TEXT PRIMARY KEY,
    owner_kind   TEXT NOT NULL,
    owner_id     TEXT NOT NULL,
    structure_id TEXT NOT NULL,
    blob_key     TEXT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE INDEX news_files_owner ON news_files(owner_kind, owner_id);

-- Reports of content (signalements); outcome '' while open, then dismissed or removed.
CREATE TABLE news_reports (
    id           TEXT PRIMARY KEY,
    item_id      TEXT NOT NULL REFERENCES news_items(id) ON DELETE CASCADE,
    structure_id TEXT NOT NULL,
    reporter_id  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    outcome      TEXT NOT NULL DEFAULT '',
    resolved_by  TEXT NOT NULL DEFAULT '',
    resolved_at  BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX news_reports_open ON news_reports(structure_id, outcome);

CREATE TABLE site_pages (
    id           TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
    slug         TEXT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    position     INTEGER NOT NULL DEFAULT 0,
    published    BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at   BIGINT NOT NULL,
    UNIQUE (structure_id, slug)
);

CREATE TABLE site_info (
    structure_id TEXT PRIMARY KEY REFERENCES structures(id) ON DELETE CASCADE,
    address      TEXT NOT NULL DEFAULT '',
    phone        TEXT NOT NULL DEFAULT '',
    email        TEXT NOT NULL DEFAULT '',
    hours        TEXT NOT NULL DEFAULT '',
    practical    TEXT NOT NULL DEFAULT '',
    updated_at   BIGINT NOT NULL
);

-- Bumped by every change a structure's public site shows.
CREATE TABLE site_versions (
    structure_id TEXT PRIMARY KEY,
    version      BIGINT NOT NULL
);
