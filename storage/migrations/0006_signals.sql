-- What partners tell their Caf (Article 4): opening hours, closures, training needs,
-- difficulties; and the Caf's inbox where each of them is acknowledged, answered, resolved.

-- Every declared weekly schedule, kept for ever (Article 4: each change is history; Article 7:
-- it applies from a given date). The schedule in force on a day is the one with the latest
-- `effective_from` on or before it (the latest declared when two share a date).
CREATE TABLE opening_hours (
    id INTEGER PRIMARY KEY,
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    schedule TEXT NOT NULL,
    -- The schedule in force on `effective_from` before this declaration (NULL: the first).
    before_schedule TEXT,
    effective_from TEXT NOT NULL,
    half_days INTEGER NOT NULL,
    minutes INTEGER NOT NULL,
    compliant INTEGER NOT NULL CHECK (compliant IN (0, 1)),
    declared_by INTEGER REFERENCES people(id),
    declared_at TEXT NOT NULL
);
CREATE INDEX opening_hours_by_partner ON opening_hours(partner_id, effective_from, id);

-- A manager's schedule being edited: one per person, kept so a restart loses nothing.
CREATE TABLE hours_drafts (
    person_id INTEGER PRIMARY KEY REFERENCES people(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    schedule TEXT NOT NULL,
    effective_from TEXT,
    revision INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);

CREATE TABLE closures (
    id INTEGER PRIMARY KEY,
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- Screened for identifiers before it is written.
    note TEXT,
    declared_by INTEGER REFERENCES people(id),
    declared_at TEXT NOT NULL,
    cancelled_at TEXT,
    cancelled_by INTEGER REFERENCES people(id),
    CHECK (end_date >= start_date)
);
CREATE INDEX closures_by_partner ON closures(partner_id, end_date);
-- A double tap or a redelivered update cannot declare the same closure twice.
CREATE UNIQUE INDEX closures_once ON closures(partner_id, start_date, end_date)
    WHERE cancelled_at IS NULL;

CREATE TABLE signals (
    id INTEGER PRIMARY KEY,
    caf_id INTEGER NOT NULL REFERENCES cafs(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    kind TEXT NOT NULL
        CHECK (kind IN ('hours', 'closure', 'training', 'difficulty', 'label_risk')),
    -- NULL: raised by the bot itself (a new agent to train, hours below the minimum).
    reporter_id INTEGER REFERENCES people(id),
    category TEXT,
    urgency TEXT,
    -- Screened for identifiers before it is written.
    description TEXT,
    -- The opening_hours or closures row the signal is about.
    ref_id INTEGER,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    created_at TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by INTEGER REFERENCES people(id),
    resolved_at TEXT,
    resolved_by INTEGER REFERENCES people(id),
    resolution TEXT,
    -- Makes raising idempotent (a redelivered update, the automatic training need).
    dedup_key TEXT UNIQUE
);
CREATE INDEX signals_inbox ON signals(caf_id, status, created_at);
CREATE INDEX signals_by_reporter ON signals(reporter_id, created_at);
CREATE INDEX signals_by_partner ON signals(partner_id, kind, status);

-- The exchange on a signal: the Caf's replies and the reporter's answers, screened.
CREATE TABLE signal_messages (
    id INTEGER PRIMARY KEY,
    signal_id INTEGER NOT NULL REFERENCES signals(id),
    author_id INTEGER REFERENCES people(id),
    from_caf INTEGER NOT NULL CHECK (from_caf IN (0, 1)),
    body TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX signal_messages_by_signal ON signal_messages(signal_id, id);
