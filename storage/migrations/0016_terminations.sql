-- Issue #17, Article 11: a notice of termination (dénonciation) given by either party. It
-- ends the site's label on `effective_on` (a term of the convention, bot/domain/termination.py)
-- unless withdrawn before (`cancelled_at`); `done_at` is when it took effect.
CREATE TABLE terminations (
    id INTEGER PRIMARY KEY,
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    by_party TEXT NOT NULL CHECK (by_party IN ('caf', 'partner')),
    recorded_by INTEGER REFERENCES people(id),
    recorded_at TEXT NOT NULL,
    effective_on TEXT NOT NULL,
    reason TEXT NOT NULL,
    cancelled_at TEXT,
    cancelled_by INTEGER REFERENCES people(id),
    done_at TEXT
);
-- At most one notice standing per site.
CREATE UNIQUE INDEX terminations_pending ON terminations(partner_id)
    WHERE cancelled_at IS NULL AND done_at IS NULL;
CREATE INDEX terminations_by_recorder ON terminations(recorded_by);
CREATE INDEX terminations_by_canceller ON terminations(cancelled_by);
