-- consent: the person is asked, once, before an OpenID Connect client receives their
-- information (the administrator decides per connector).
ALTER TABLE connectors ADD COLUMN consent BOOLEAN NOT NULL DEFAULT FALSE;
