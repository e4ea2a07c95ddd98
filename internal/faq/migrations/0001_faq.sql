-- FAQ: questions and answers of a structure, in categories; each entry is internal
-- (the structure's members) or public (the portal's public pages too). Editors are the
-- structure's administrators and the persons and groups they share the FAQ with
-- (shares of type "faq" on the structure's id).

CREATE TABLE faq_categories (
    id           TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    position     INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);

CREATE INDEX faq_categories_structure ON faq_categories(structure_id, position);

CREATE TABLE faq_entries (
    id           TEXT PRIMARY KEY,
    category_id  TEXT NOT NULL REFERENCES faq_categories(id) ON DELETE CASCADE,
    structure_id TEXT NOT NULL,
    question     TEXT NOT NULL,
    answer       TEXT NOT NULL,
    public       BOOLEAN NOT NULL DEFAULT FALSE,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE INDEX faq_entries_category ON faq_entries(category_id, created_at);
