-- The label certificate (Annexe 1) is « Fait à » the Caf's town, not the site's: the Caf
-- gains its town, unset (the line is then left blank, to fill by hand) until a coordinator
-- or the operator gives it. The partner's logo, which Annexe 1 shows, is a file on the
-- server like the Caf's (`partners set ID --logo`), printed beside the Caf's.
ALTER TABLE cafs ADD COLUMN city TEXT DEFAULT NULL;
ALTER TABLE partners ADD COLUMN logo_path TEXT DEFAULT NULL;
