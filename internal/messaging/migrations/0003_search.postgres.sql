-- Full-text search of subjects, bodies and sender names (tsvector with a GIN index).
-- Accents are folded (translate, which a generated column may use, unlike unaccent)
-- so that "musee" finds "musée"; the query is folded the same way (search.go).
ALTER TABLE mail_messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', translate(lower(subject), 'àâäáãåçéèêëíìîïñóòôöõúùûüýÿ', 'aaaaaaceeeeiiiinooooouuuuyy')), 'A') ||
    setweight(to_tsvector('simple', translate(lower(sender_name), 'àâäáãåçéèêëíìîïñóòôöõúùûüýÿ', 'aaaaaaceeeeiiiinooooouuuuyy')), 'B') ||
    setweight(to_tsvector('simple', translate(lower(body), 'àâäáãåçéèêëíìîïñóòôöõúùûüýÿ', 'aaaaaaceeeeiiiinooooouuuuyy')), 'C')) STORED;

CREATE INDEX mail_messages_search ON mail_messages USING GIN (search);
