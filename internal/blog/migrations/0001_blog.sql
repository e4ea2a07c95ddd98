-- Blogs: a blog belongs to a person in a structure and is shared (rights shares,
-- resource type "blog") with persons and groups for reading, contributing or
-- managing; its posts (billets), their comments, the files uploaded into posts, and
-- the reports (signalements) of posts and comments.

CREATE TABLE blogs (
    id           TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
    owner_id     TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    moderated    BOOLEAN NOT NULL DEFAULT FALSE,
    public       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE INDEX blogs_owner ON blogs(owner_id);
CREATE INDEX blogs_structure ON blogs(structure_id, public);

-- state: submitted (a contributor's, waiting for a manager), published, removed (by
-- moderation or deletion).
CREATE TABLE blog_posts (
    id           TEXT PRIMARY KEY,
    blog_id      TEXT NOT NULL REFERENCES blogs(id) ON DELETE CASCADE,
    author_id    TEXT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    state        TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    published_at BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE INDEX blog_posts_blog ON blog_posts(blog_id, state, published_at);

-- state: pending (waiting for the owner's approval on a moderated blog), published, removed.
CREATE TABLE blog_comments (
    id         TEXT PRIMARY KEY,
    post_id    TEXT NOT NULL REFERENCES blog_posts(id) ON DELETE CASCADE,
    author_id  TEXT NOT NULL,
    body       TEXT NOT NULL,
    state      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX blog_comments_post ON blog_comments(post_id, state, created_at);

CREATE TABLE blog_files (
    id           TEXT PRIMARY KEY,
    blog_id      TEXT NOT NULL REFERENCES blogs(id) ON DELETE CASCADE,
    blob_key     TEXT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE INDEX blog_files_blog ON blog_files(blog_id);

-- kind: post or comment; outcome: '' while open, removed or dismissed.
CREATE TABLE blog_reports (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    blog_id      TEXT NOT NULL REFERENCES blogs(id) ON DELETE CASCADE,
    structure_id TEXT NOT NULL,
    reporter_id  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    outcome      TEXT NOT NULL DEFAULT '',
    resolved_by  TEXT NOT NULL DEFAULT '',
    resolved_at  BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);

CREATE INDEX blog_reports_open ON blog_reports(structure_id, outcome, created_at);
