-- Communication rules: "members of group from_group may reach the members of to_group".
-- How members of a group relate to it is groups.communicate.
CREATE TABLE comm_rules (
    from_group TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    to_group   TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (from_group, to_group)
);

CREATE INDEX comm_rules_to ON comm_rules(to_group);
