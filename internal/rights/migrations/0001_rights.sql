-- Roles, application rights per profile, and per-resource shares.

-- role: superadmin (structure_id ''), localadmin and moderator (of a structure).
CREATE TABLE role_assignments (
    person_id    TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    structure_id TEXT NOT NULL DEFAULT '',
    granted_at   BIGINT NOT NULL,
    PRIMARY KEY (person_id, role, structure_id)
);

CREATE INDEX role_assignments_structure ON role_assignments(structure_id);

-- Overrides of the default application rights: structure_id '' is the deployment-wide
-- setting; allowed false removes an application the defaults would give.
CREATE TABLE app_rights (
    app          TEXT NOT NULL,
    profile      TEXT NOT NULL,
    structure_id TEXT NOT NULL DEFAULT '',
    allowed      BOOLEAN NOT NULL,
    PRIMARY KEY (app, profile, structure_id)
);

-- Shares of a resource owned by an application: grantee_kind person or group;
-- level read < contribute < manage.
CREATE TABLE shares (
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    grantee_kind  TEXT NOT NULL,
    grantee_id    TEXT NOT NULL,
    level         TEXT NOT NULL,
    granted_by    TEXT NOT NULL,
    granted_at    BIGINT NOT NULL,
    PRIMARY KEY (resource_type, resource_id, grantee_kind, grantee_id)
);

CREATE INDEX shares_grantee ON shares(grantee_kind, grantee_id);
