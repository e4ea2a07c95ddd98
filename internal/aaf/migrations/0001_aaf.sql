-- The AAF importer's own tables: what it last imported for each person, the import
-- reports, and the work tables of the import transaction.

-- checksum is over the attributes the import uses, as last imported: an unchanged
-- record is skipped. attrs keeps those attributes, so that a delta's modifyRequest,
-- which carries only what changed, can be applied to the rest. structures lists the
-- jointures of the person's structures, to tell who changed school.
CREATE TABLE aaf_persons (
    person_id   TEXT PRIMARY KEY REFERENCES persons(id) ON DELETE CASCADE,
    category    TEXT NOT NULL,
    checksum    TEXT NOT NULL DEFAULT '',
    structures  TEXT NOT NULL DEFAULT '',
    attrs       TEXT NOT NULL DEFAULT '',
    updated_at  BIGINT NOT NULL
);

-- One row per import, successful or not; summary is the report's JSON (counts,
-- files, unknown attributes).
CREATE TABLE aaf_reports (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,            -- full, delta
    status      TEXT NOT NULL,            -- ok, failed
    error       TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    actor_login TEXT NOT NULL DEFAULT '',
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    summary     TEXT NOT NULL DEFAULT ''
);

CREATE INDEX aaf_reports_started ON aaf_reports(started_at);

-- The structures an import covered: local administrators see the reports of theirs.
CREATE TABLE aaf_report_structures (
    report_id    TEXT NOT NULL REFERENCES aaf_reports(id) ON DELETE CASCADE,
    structure_id TEXT NOT NULL,
    PRIMARY KEY (report_id, structure_id)
);

CREATE INDEX aaf_report_structures_structure ON aaf_report_structures(structure_id);

-- Rejected records and warnings, with where they come from.
CREATE TABLE aaf_report_issues (
    report_id    TEXT NOT NULL REFERENCES aaf_reports(id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    severity     TEXT NOT NULL,           -- rejected, warning
    file         TEXT NOT NULL DEFAULT '',
    record       BIGINT NOT NULL DEFAULT 0,
    jointure     TEXT NOT NULL DEFAULT '',
    structure_id TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL,
    PRIMARY KEY (report_id, seq)
);

CREATE INDEX aaf_report_issues_structure ON aaf_report_issues(report_id, structure_id);

-- Work tables, filled and emptied inside the import transaction (imports are
-- serialized by the lock row below, so that two never share them): the structures a
-- full export covers, the persons whose automatic groups must be rebuilt, the pupils
-- whose family links the import rewrites, the links the export declares (by
-- jointure, resolved once every file is read: responsables come after their
-- children), and the persons a full export no longer lists.
CREATE TABLE aaf_work_scope (
    structure_id TEXT PRIMARY KEY
);

CREATE TABLE aaf_work_touched (
    person_id TEXT PRIMARY KEY
);

CREATE TABLE aaf_work_owners (
    person_id TEXT PRIMARY KEY
);

CREATE TABLE aaf_work_links (
    parent_ext TEXT NOT NULL,
    child_ext  TEXT NOT NULL,
    PRIMARY KEY (parent_ext, child_ext)
);

CREATE TABLE aaf_work_missing (
    person_id TEXT PRIMARY KEY
);

-- Serializes imports on SQLite and PostgreSQL alike: an import updates this row first.
CREATE TABLE aaf_lock (
    id          INTEGER PRIMARY KEY,
    imported_at BIGINT NOT NULL DEFAULT 0
);

INSERT INTO aaf_lock(id, imported_at) VALUES (1, 0);
