-- The automatic memberships that RebuildPersons computes for the persons a feed
-- changed, before it writes only the difference with those in group_members: a
-- nightly delta leaves nearly all of them as they were. Filled and emptied inside
-- one transaction, so it needs no write-ahead log.
CREATE UNLOGGED TABLE group_members_wanted (
    group_id  TEXT NOT NULL,
    person_id TEXT NOT NULL,
    PRIMARY KEY (group_id, person_id)
);
