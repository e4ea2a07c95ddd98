-- Notifications (the "fil d'actualité"). One row per event, one small row per
-- recipient, so that posting to a whole collège stays cheap and each person's
-- centre, unread count and mail queue are index lookups.
CREATE TABLE notify_events (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,             -- a registered kind, e.g. messagerie.message
    actor_id     TEXT NOT NULL DEFAULT '',  -- who caused it; '' for the system
    title        TEXT NOT NULL,             -- plain text, escaped on output
    link         TEXT NOT NULL,             -- relative link inside Préau
    structure_id TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);

CREATE INDEX notify_events_created ON notify_events(created_at);
-- Kinds that collapse look for an unread event with the same link.
CREATE INDEX notify_events_link ON notify_events(link, kind);

CREATE TABLE notify_inbox (
    person_id  TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    event_id   TEXT NOT NULL REFERENCES notify_events(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,            -- the event's, copied: the centre's order
    read_at    BIGINT NOT NULL DEFAULT 0,  -- 0: unread
    mail       TEXT NOT NULL DEFAULT '',   -- '' (no mail), 'now' (immediate) or 'digest'
    mail_due   BIGINT NOT NULL DEFAULT 0,  -- when the mail may go out; 0 once claimed or when none
    mailed_at  BIGINT NOT NULL DEFAULT 0,  -- when a delivery worker claimed it
    PRIMARY KEY (person_id, event_id)
);

-- The centre, newest first, with keyset pagination.
CREATE INDEX notify_inbox_recent ON notify_inbox(person_id, created_at, event_id);
-- The unread count of the badge and the dashboard: only unread rows are indexed.
CREATE INDEX notify_inbox_unread ON notify_inbox(person_id) WHERE read_at = 0;
-- Purging an event deletes its rows.
CREATE INDEX notify_inbox_event ON notify_inbox(event_id);
-- The delivery worker's queue: only rows waiting for a mail are indexed.
CREATE INDEX notify_inbox_due ON notify_inbox(mail_due) WHERE mail_due > 0;

-- A person's channel for a kind, when it is not the default.
CREATE TABLE notify_prefs (
    person_id TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,
    channel   TEXT NOT NULL,               -- off, app, now, digest
    PRIMARY KEY (person_id, kind)
);

-- A person's quiet hours and digest hour, when not the defaults.
CREATE TABLE notify_settings (
    person_id   TEXT PRIMARY KEY REFERENCES persons(id) ON DELETE CASCADE,
    quiet_start INTEGER NOT NULL,          -- minutes after midnight, Europe/Paris
    quiet_end   INTEGER NOT NULL,          -- equal to quiet_start: no quiet hours
    digest_hour INTEGER NOT NULL,          -- 0 to 23
    updated_at  BIGINT NOT NULL
);
