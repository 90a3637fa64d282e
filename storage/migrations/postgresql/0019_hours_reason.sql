-- Why new hours apply sooner than the coming Monday (Article 7: the Caf is told beforehand).
-- Typed by the manager, screened by the privacy filter; NULL when the change is announced.
ALTER TABLE opening_hours ADD COLUMN reason TEXT;
