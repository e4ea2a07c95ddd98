-- Most persons have no address (a feed writes '' for every pupil without one): the
-- index of addresses keeps only those that have one. A million empty entries cost
-- a first import of a million persons a second on PostgreSQL, for a look-up that
-- never searches for ''.

DROP INDEX account_persons_email;

CREATE INDEX account_persons_email ON persons(lower(email)) WHERE email <> '';
