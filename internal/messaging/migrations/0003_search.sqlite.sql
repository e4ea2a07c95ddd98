-- Full-text search of subjects, bodies and sender names (FTS5, external content).
CREATE VIRTUAL TABLE mail_fts USING fts5(subject, body, sender_name, content='mail_messages', content_rowid='seq', tokenize='unicode61 remove_diacritics 2');

CREATE TRIGGER mail_fts_insert AFTER INSERT ON mail_messages BEGIN
    INSERT INTO mail_fts(rowid, subject, body, sender_name) VALUES (new.seq, new.subject, new.body, new.sender_name);
END;

CREATE TRIGGER mail_fts_delete AFTER DELETE ON mail_messages BEGIN
    INSERT INTO mail_fts(mail_fts, rowid, subject, body, sender_name) VALUES ('delete', old.seq, old.subject, old.body, old.sender_name);
END;

CREATE TRIGGER mail_fts_update AFTER UPDATE OF subject, body, sender_name ON mail_messages BEGIN
    INSERT INTO mail_fts(mail_fts, rowid, subject, body, sender_name) VALUES ('delete', old.seq, old.subject, old.body, old.sender_name);
    INSERT INTO mail_fts(rowid, subject, body, sender_name) VALUES (new.seq, new.subject, new.body, new.sender_name);
END;
