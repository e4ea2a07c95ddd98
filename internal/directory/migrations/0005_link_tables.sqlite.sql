-- The tables that link persons to structures, groups, each other and what they
-- teach hold nothing but their key: as WITHOUT ROWID tables, a row is written in one
-- b-tree (its key) rather than two (the row under a hidden rowid, then the key's
-- index). An import of a million persons writes some five million of these rows.
-- PostgreSQL has no rowid: its tables stay as they are.
CREATE TABLE person_structures_new (
    person_id    TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    structure_id TEXT NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, structure_id)
) WITHOUT ROWID;

INSERT INTO person_structures_new(person_id, structure_id) SELECT person_id, structure_id FROM person_structures;

DROP TABLE person_structures;

ALTER TABLE person_structures_new RENAME TO person_structures;

CREATE INDEX person_structures_structure ON person_structures(structure_id);

CREATE TABLE person_functions_new (
    person_id    TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    structure_id TEXT NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
    code         TEXT NOT NULL,
    label        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (person_id, structure_id, code)
) WITHOUT ROWID;

INSERT INTO person_functions_new(person_id, structure_id, code, label) SELECT person_id, structure_id, code, label FROM person_functions;

DROP TABLE person_functions;

ALTER TABLE person_functions_new RENAME TO person_functions;

CREATE TABLE group_members_new (
    group_id  TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    source    TEXT NOT NULL DEFAULT 'direct',
    PRIMARY KEY (group_id, person_id)
) WITHOUT ROWID;

INSERT INTO group_members_new(group_id, person_id, source) SELECT group_id, person_id, source FROM group_members;

DROP TABLE group_members;

ALTER TABLE group_members_new RENAME TO group_members;

CREATE INDEX group_members_person ON group_members(person_id);

CREATE TABLE person_links_new (
    parent_id TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    child_id  TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, child_id)
) WITHOUT ROWID;

INSERT INTO person_links_new(parent_id, child_id) SELECT parent_id, child_id FROM person_links;

DROP TABLE person_links;

ALTER TABLE person_links_new RENAME TO person_links;

CREATE INDEX person_links_child ON person_links(child_id);

CREATE TABLE teaching_new (
    teacher_id TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    group_id   TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    subject_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (teacher_id, group_id, subject_id)
) WITHOUT ROWID;

INSERT INTO teaching_new(teacher_id, group_id, subject_id) SELECT teacher_id, group_id, subject_id FROM teaching;

DROP TABLE teaching;

ALTER TABLE teaching_new RENAME TO teaching;

CREATE INDEX teaching_group ON teaching(group_id);
