-- The directory: structures in a tree, groups (classes, groups, profile groups),
-- subjects, persons, their structures, functions, relations and teaching links.

CREATE TABLE structures (
    id          TEXT PRIMARY KEY,
    parent_id   TEXT REFERENCES structures(id) ON DELETE SET NULL,
    kind        TEXT NOT NULL,            -- region, departement, academie, collectivite, etablissement, ecole
    uai         TEXT UNIQUE,              -- établissements and écoles only
    external_id TEXT UNIQUE,              -- AAF ENTStructureJointure
    name        TEXT NOT NULL,
    city        TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);

CREATE INDEX structures_parent ON structures(parent_id);

CREATE TABLE subjects (
    id           TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    UNIQUE (structure_id, code)
);

-- groups holds classes (kind 'class'), teaching groups ('group'), groups made by hand
-- ('manual') and the profile groups the communication rules are written between:
-- 'profile' (one per structure and profile) and 'class_profile' (one per class and profile).
-- communicate says how members relate to the group: BOTH, INCOMING, OUTGOING or NONE.
CREATE TABLE groups (
    id           TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    code         TEXT NOT NULL DEFAULT '',
    name         TEXT NOT NULL,
    profile      TEXT NOT NULL DEFAULT '',
    class_id     TEXT REFERENCES groups(id) ON DELETE CASCADE,
    communicate  TEXT NOT NULL DEFAULT 'NONE',
    school_year  TEXT NOT NULL DEFAULT '',
    archived     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT NOT NULL
);

CREATE INDEX groups_structure ON groups(structure_id, kind);
CREATE INDEX groups_class ON groups(class_id);
CREATE UNIQUE INDEX groups_code ON groups(structure_id, kind, code, school_year, profile, class_id);

CREATE TABLE persons (
    id              TEXT PRIMARY KEY,
    external_id     TEXT UNIQUE,          -- AAF jointure
    login           TEXT NOT NULL UNIQUE,
    first_name      TEXT NOT NULL,
    last_name       TEXT NOT NULL,
    first_key       TEXT {{collate_c}} NOT NULL,  -- lower case, no accents: for search
    last_key        TEXT {{collate_c}} NOT NULL,
    profile         TEXT NOT NULL,        -- Eleve, Responsable, Enseignant, Personnel, Invite, Collectivite
    email           TEXT NOT NULL DEFAULT '',
    birth_date      TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT 'pending', -- pending (not activated), active, blocked
    language        TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE INDEX persons_last_key ON persons(last_key);
CREATE INDEX persons_first_key ON persons(first_key);
CREATE INDEX persons_profile ON persons(profile);

CREATE TABLE person_structures (
    person_id    TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    structure_id TEXT NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, structure_id)
);

CREATE INDEX person_structures_structure ON person_structures(structure_id);

CREATE TABLE person_functions (
    person_id    TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    structure_id TEXT NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
    code         TEXT NOT NULL,           -- DIR, EDU, DOC, ENS, ...
    label        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (person_id, structure_id, code)
);

-- Memberships. source 'direct' is what the directory says (a pupil in a class, a person
-- added to a group by hand); 'auto' is derived from it for the profile groups and is
-- rebuilt by the directory whenever a person's situation changes.
CREATE TABLE group_members (
    group_id  TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    source    TEXT NOT NULL DEFAULT 'direct',
    PRIMARY KEY (group_id, person_id)
);

CREATE INDEX group_members_person ON group_members(person_id);

-- responsable ↔ élève
CREATE TABLE person_links (
    parent_id TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    child_id  TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, child_id)
);

CREATE INDEX person_links_child ON person_links(child_id);

-- enseignant ↔ classe (or group) ↔ matière
CREATE TABLE teaching (
    teacher_id TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    group_id   TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    subject_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (teacher_id, group_id, subject_id)
);

CREATE INDEX teaching_group ON teaching(group_id);
