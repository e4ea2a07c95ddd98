-- Full-text search of messages (FTS5, accents folded), kept in step by triggers;
-- a removed message's body is emptied, and so leaves the index.
CREATE VIRTUAL TABLE chat_messages_fts USING fts5(body, content='chat_messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2');

CREATE TRIGGER chat_messages_ai AFTER INSERT ON chat_messages BEGIN
  INSERT INTO chat_messages_fts(rowid, body) VALUES (new.id, new.body);
END;

CREATE TRIGGER chat_messages_ad AFTER DELETE ON chat_messages BEGIN
  INSERT INTO chat_messages_fts(chat_messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;

CREATE TRIGGER chat_messages_au AFTER UPDATE OF body ON chat_messages BEGIN
  INSERT INTO chat_messages_fts(chat_messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
  INSERT INTO chat_messages_fts(rowid, body) VALUES (new.id, new.body);
END;
