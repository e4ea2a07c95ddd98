-- Questions keep the order their editors give them in their section (then the order
-- they were written in, as before).
ALTER TABLE faq_entries ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
