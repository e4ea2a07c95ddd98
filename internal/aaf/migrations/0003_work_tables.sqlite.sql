-- On SQLite, a table with a text primary key is two b-trees (the rows, by rowid, and
-- the key's index): the work tables, a few hundred thousand rows in a large import,
-- are their key alone and need only one. They are empty between imports.

DROP TABLE aaf_work_scope;

CREATE TABLE aaf_work_scope (
    structure_id TEXT PRIMARY KEY
) WITHOUT ROWID;

DROP TABLE aaf_work_touched;

CREATE TABLE aaf_work_touched (
    person_id TEXT PRIMARY KEY
) WITHOUT ROWID;

DROP TABLE aaf_work_owners;

CREATE TABLE aaf_work_owners (
    person_id TEXT PRIMARY KEY
) WITHOUT ROWID;

DROP TABLE aaf_work_links;

CREATE TABLE aaf_work_links (
    parent_ext TEXT NOT NULL,
    child_ext  TEXT NOT NULL,
    PRIMARY KEY (parent_ext, child_ext)
) WITHOUT ROWID;

DROP TABLE aaf_work_missing;

CREATE TABLE aaf_work_missing (
    person_id TEXT PRIMARY KEY
) WITHOUT ROWID;
