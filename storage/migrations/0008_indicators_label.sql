-- Indicators and the label (Articles 6, 9, 11, Annexes 1 and 2): the periodic transmission
-- of the figures, the yearly visit and its action plan, renewal reminders, the Caf's logo.

-- Counting a Caf's quarter reads index ranges only, with no join and no table lookup (see
-- storage/indicators.py and benchmarks/): the grid's and the themes' rows carry copies of
-- their visit's Caf, site, instant and resolution, kept equal by storage/visits.py (which
-- inserts them from the visit row) and by the trigger below (which follows every update).
CREATE INDEX visits_for_indicators
    ON visits(caf_id, visited_at, partner_id, sexe, age, statut, autonomie, resolution);

CREATE TABLE visit_actions_new (
    visit_id INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
    demande TEXT NOT NULL,
    action TEXT NOT NULL,
    position INTEGER NOT NULL,
    -- 1 on the first action of its request type in the visit: SUM(lead) counts visits per
    -- request type without COUNT(DISTINCT).
    lead INTEGER NOT NULL CHECK (lead IN (0, 1)),
    caf_id INTEGER NOT NULL,
    partner_id INTEGER NOT NULL,
    visited_at TEXT NOT NULL,
    resolution TEXT NOT NULL,
    PRIMARY KEY (visit_id, demande, action)
) WITHOUT ROWID;
INSERT INTO visit_actions_new (visit_id, demande, action, position, lead, caf_id, partner_id,
        visited_at, resolution)
    SELECT a.visit_id, a.demande, a.action, a.position,
           a.position = (SELECT MIN(b.position) FROM visit_actions b
                         WHERE b.visit_id = a.visit_id AND b.demande = a.demande),
           v.caf_id, v.partner_id, v.visited_at, v.resolution
    FROM visit_actions a JOIN visits v ON v.id = a.visit_id;
DROP TABLE visit_actions;
ALTER TABLE visit_actions_new RENAME TO visit_actions;
CREATE INDEX visit_actions_for_indicators
    ON visit_actions(caf_id, visited_at, partner_id, demande, action, resolution, lead);

CREATE TABLE visit_themes_new (
    visit_id INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
    theme TEXT NOT NULL,
    caf_id INTEGER NOT NULL,
    partner_id INTEGER NOT NULL,
    visited_at TEXT NOT NULL,
    PRIMARY KEY (visit_id, theme)
) WITHOUT ROWID;
INSERT INTO visit_themes_new (visit_id, theme, caf_id, partner_id, visited_at)
    SELECT t.visit_id, t.theme, v.caf_id, v.partner_id, v.visited_at
    FROM visit_themes t JOIN visits v ON v.id = t.visit_id;
DROP TABLE visit_themes;
ALTER TABLE visit_themes_new RENAME TO visit_themes;
CREATE INDEX visit_themes_for_indicators ON visit_themes(caf_id, visited_at, partner_id, theme);

-- The code checks of migration 0002 went with the old tables.
CREATE TRIGGER visit_actions_codes BEFORE INSERT ON visit_actions
BEGIN
    SELECT RAISE(ABORT, 'unknown demande') WHERE NOT EXISTS
        (SELECT 1 FROM taxonomy_options WHERE question = 'demande' AND code = NEW.demande);
    SELECT RAISE(ABORT, 'unknown action') WHERE NOT EXISTS
        (SELECT 1 FROM taxonomy_options WHERE question = 'action' AND code = NEW.action);
END;

CREATE TRIGGER visit_themes_codes BEFORE INSERT ON visit_themes
BEGIN
    SELECT RAISE(ABORT, 'unknown theme') WHERE NOT EXISTS
        (SELECT 1 FROM taxonomy_options WHERE question = 'theme' AND code = NEW.theme);
END;

CREATE TRIGGER visits_copies_follow AFTER UPDATE OF caf_id, partner_id, visited_at, resolution
    ON visits
BEGIN
    UPDATE visit_actions SET caf_id = NEW.caf_id, partner_id = NEW.partner_id,
        visited_at = NEW.visited_at, resolution = NEW.resolution
    WHERE visit_id = NEW.id;
    UPDATE visit_themes SET caf_id = NEW.caf_id, partner_id = NEW.partner_id,
        visited_at = NEW.visited_at
    WHERE visit_id = NEW.id;
END;

-- The Caf's logo on the label certificate (a file on the server, set from the command line).
ALTER TABLE cafs ADD COLUMN logo_path TEXT;

-- One row per site and reporting period (Article 9), created when the period ends.
CREATE TABLE period_reports (
    id INTEGER PRIMARY KEY,
    caf_id INTEGER NOT NULL REFERENCES cafs(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    -- '2026-10' (monthly) or '2026-Q3' (quarterly), as bot/domain/periods.py writes them.
    period TEXT NOT NULL,
    -- The period's bounds as UTC instants, [starts_at, ends_at), to find the visits in it.
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    -- The local date by which a manager validates: 10 days after the period's end, or after
    -- the change when visits changed after a validation.
    due_on TEXT NOT NULL,
    -- When the site's managers were last asked to validate (NULL: to ask at the next run).
    asked_at TEXT,
    -- pending: not validated yet; validated; modified: visits changed after validation.
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'validated', 'modified')),
    -- Visits counted when the manager validated.
    validated_visits INTEGER,
    validated_by INTEGER REFERENCES people(id),
    validated_at TEXT,
    modified_at TEXT,
    -- Reminders sent for the current validation round (0; 1: 5 days before due_on; 2: on it).
    reminders_sent INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE (partner_id, period)
);
CREATE INDEX period_reports_by_caf ON period_reports(caf_id, period, status);
CREATE INDEX period_reports_by_time ON period_reports(partner_id, starts_at, ends_at);

-- The yearly visit of the Caf to a partner (Article 9) and its outcome.
CREATE TABLE site_reviews (
    id INTEGER PRIMARY KEY,
    caf_id INTEGER NOT NULL REFERENCES cafs(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    visited_on TEXT NOT NULL,
    premises_ok INTEGER NOT NULL CHECK (premises_ok IN (0, 1)),
    equipment_ok INTEGER NOT NULL CHECK (equipment_ok IN (0, 1)),
    hours_ok INTEGER NOT NULL CHECK (hours_ok IN (0, 1)),
    -- Screened for identifiers before it is written.
    remarks TEXT,
    recorded_by INTEGER REFERENCES people(id),
    recorded_at TEXT NOT NULL
);
CREATE INDEX site_reviews_by_partner ON site_reviews(partner_id, visited_on);

-- The action plan agreed at a yearly visit: each item followed until done.
CREATE TABLE action_items (
    id INTEGER PRIMARY KEY,
    review_id INTEGER NOT NULL REFERENCES site_reviews(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    -- Screened for identifiers before it is written.
    description TEXT NOT NULL,
    owner TEXT NOT NULL CHECK (owner IN ('partner', 'caf', 'both')),
    due_on TEXT NOT NULL,
    done_at TEXT,
    done_by INTEGER REFERENCES people(id),
    created_at TEXT NOT NULL
);
CREATE INDEX action_items_by_partner ON action_items(partner_id, done_at, due_on);

-- A yearly visit being recorded (one per coordinator), so a restart loses nothing.
CREATE TABLE review_drafts (
    person_id INTEGER PRIMARY KEY REFERENCES people(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    -- JSON of the answers so far (remarks and items already screened).
    state TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);

-- Renewal reminders sent (Article 11), one per convention and notice deadline.
CREATE TABLE renewal_reminders (
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    notice_deadline TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, notice_deadline)
) WITHOUT ROWID;
