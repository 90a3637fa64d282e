-- The visit log (Annexe 2). Option codes are checked against `taxonomy_options`, which the
-- bot fills from bot/domain/taxonomy.py at start-up: the taxonomy is defined once, in code.

CREATE TABLE taxonomy_options (
    question TEXT NOT NULL,
    code TEXT NOT NULL,
    label TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (question, code)
) WITHOUT ROWID;

ALTER TABLE people ADD COLUMN training_mode INTEGER NOT NULL DEFAULT 0;

-- A visit being logged: the answers so far (JSON of codes only), one open draft a person.
CREATE TABLE visit_drafts (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    chat_id INTEGER NOT NULL,
    message_id INTEGER,
    revision INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    training INTEGER NOT NULL DEFAULT 0,
    editing_visit_id INTEGER,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'saved', 'abandoned')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX visit_drafts_one_open ON visit_drafts(person_id) WHERE status = 'open';

CREATE TABLE visits (
    id INTEGER PRIMARY KEY,
    -- One visit per draft: a double tap or a redelivered update cannot store it twice.
    draft_id INTEGER NOT NULL UNIQUE REFERENCES visit_drafts(id),
    caf_id INTEGER NOT NULL REFERENCES cafs(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    person_id INTEGER REFERENCES people(id),
    visited_at TEXT NOT NULL,
    sexe TEXT NOT NULL,
    age TEXT,
    statut TEXT NOT NULL,
    autonomie TEXT NOT NULL,
    resolution TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((sexe = 'personne_morale') = (age IS NULL))
);
CREATE INDEX visits_by_partner ON visits(partner_id, visited_at);
CREATE INDEX visits_by_caf ON visits(caf_id, visited_at);
CREATE INDEX visits_by_person ON visits(person_id, visited_at);

-- Annexe 2's request × action grid: one row per ticked cell.
CREATE TABLE visit_actions (
    visit_id INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
    demande TEXT NOT NULL,
    action TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (visit_id, demande, action)
) WITHOUT ROWID;

CREATE TABLE visit_themes (
    visit_id INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
    theme TEXT NOT NULL,
    PRIMARY KEY (visit_id, theme)
) WITHOUT ROWID;

-- Training-mode visits are kept apart so that no figure can ever count them.
CREATE TABLE training_visits (
    id INTEGER PRIMARY KEY,
    draft_id INTEGER NOT NULL UNIQUE REFERENCES visit_drafts(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    person_id INTEGER REFERENCES people(id),
    visited_at TEXT NOT NULL,
    answers TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TRIGGER visits_codes_insert BEFORE INSERT ON visits
BEGIN
    SELECT RAISE(ABORT, 'unknown sexe') WHERE NOT EXISTS
        (SELECT 1 FROM taxonomy_options WHERE question = 'sexe' AND code = NEW.sexe);
    SELECT RAISE(ABORT, 'unknown age') WHERE NEW.age IS NOT NULL AND NOT EXISTS
        (SELECT 1 FROM taxonomy_options WHERE question = 'age' AND code = NEW.age);
    SELECT RAISE(ABORT, 'unknown statut') WHERE NOT EXISTS
        (SELECT 1 FROM taxonomy_options WHERE question = 'statut' AND code = NEW.statut);
    SELECT RAISE(ABORT, 'unknown autonomie') WHERE NOT EXISTS
        (SELECT 1 FROM taxonomy_options WHERE question = 'autonomie' AND code = NEW.autonomie);
    SELECT RAISE(ABORT, 'unknown resolution') WHERE NOT EXISTS
        (SELECT 1 FROM taxonomy_options WHERE question = 'resolution' AND code = NEW.resolution);
END;

CREATE TRIGGER visits_codes_update BEFORE UPDATE ON visits
BEGIN
    SELECT RAISE(ABORT, 'unknown sexe') WHERE NOT EXISTS
        (SELECT 1 FROM taxonomy_options WHERE question = 'sexe' AND code = NEW.sexe);
    SELECT RAISE(ABORT, 'unknown age') WHERE NEW.age IS NOT NULL AND NOT EXISTS
        (SELECT 1 FROM taxonomy_options WHERE question = 'age' AND code = NEW.age);
    SELECT RAISE(ABORT, 'unknown statut') WHERE NOT EXISTS
        (SELECT 1 FROM taxonomy_options WHERE question = 'statut' AND code = NEW.statut);
    SELECT RAISE(ABORT, 'unknown autonomie') WHERE NOT EXISTS
        (SELECT 1 FROM taxonomy_options WHERE question = 'autonomie' AND code = NEW.autonomie);
    SELECT RAISE(ABORT, 'unknown resolution') WHERE NOT EXISTS
        (SELECT 1 FROM taxonomy_options WHERE question = 'resolution' AND code = NEW.resolution);
END;

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
