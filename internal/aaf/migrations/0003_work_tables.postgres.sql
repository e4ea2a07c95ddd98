-- On PostgreSQL, the work tables need no write-ahead log: they are filled and emptied
-- inside each import's transaction, and a crash, which empties an unlogged table,
-- ends that import anyway.

ALTER TABLE aaf_work_scope SET UNLOGGED;

ALTER TABLE aaf_work_touched SET UNLOGGED;

ALTER TABLE aaf_work_owners SET UNLOGGED;

ALTER TABLE aaf_work_links SET UNLOGGED;

ALTER TABLE aaf_work_missing SET UNLOGGED;
