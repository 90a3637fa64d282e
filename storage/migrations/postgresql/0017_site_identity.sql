-- Issue #17: what the national standard of places of digital mediation needs of a site and
-- the bot did not hold: its SIRET or RNA number, its postcode, and its public contact (the
-- site's own phone and e-mail, given on purpose). All optional: NULL until given.
ALTER TABLE partners ADD COLUMN siret TEXT;
ALTER TABLE partners ADD COLUMN postcode TEXT;
ALTER TABLE partners ADD COLUMN phone TEXT;
ALTER TABLE partners ADD COLUMN email TEXT;
