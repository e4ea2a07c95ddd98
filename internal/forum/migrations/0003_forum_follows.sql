-- Who follows a subject: following TRUE for a person who asked to follow it, FALSE
-- for one who asked not to (a participant who mutes it). Without a row, those who
-- posted in the subject follow it.
CREATE TABLE forum_follows (
    subject_id TEXT NOT NULL REFERENCES forum_subjects(id) ON DELETE CASCADE,
    person_id  TEXT NOT NULL,
    following  BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (subject_id, person_id)
);
