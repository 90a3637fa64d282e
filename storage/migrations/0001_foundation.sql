-- Foundation: Cafs, partners (labelled sites), people, invitations, audit log.
-- Times are UTC ISO 8601 text; dates are ISO dates.

CREATE TABLE cafs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    reporting_period TEXT NOT NULL DEFAULT 'monthly'
        CHECK (reporting_period IN ('monthly', 'quarterly')),
    timezone TEXT NOT NULL,
    notify_chat_id INTEGER,
    created_at TEXT NOT NULL
);

CREATE TABLE partners (
    id INTEGER PRIMARY KEY,
    caf_id INTEGER NOT NULL REFERENCES cafs(id),
    name TEXT NOT NULL,
    city TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    label_status TEXT NOT NULL DEFAULT 'active'
        CHECK (label_status IN ('active', 'suspended', 'withdrawn')),
    label_status_since TEXT NOT NULL,
    label_reason TEXT,
    convention_start TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (caf_id, name, city)
);
CREATE INDEX partners_by_caf ON partners(caf_id, name);

-- Every change of label status, kept (Article 6).
CREATE TABLE label_history (
    id INTEGER PRIMARY KEY,
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    status TEXT NOT NULL,
    reason TEXT,
    changed_at TEXT NOT NULL,
    changed_by INTEGER REFERENCES people(id)
);

CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    -- NULL once the person's data has been erased: their figures stay, anonymous.
    telegram_user_id INTEGER UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agent', 'manager', 'coordinator')),
    caf_id INTEGER NOT NULL REFERENCES cafs(id),
    partner_id INTEGER REFERENCES partners(id),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    joined_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    revoked_at TEXT,
    CHECK ((role = 'coordinator') = (partner_id IS NULL))
);
CREATE INDEX people_by_partner ON people(partner_id, status);
CREATE INDEX people_by_caf ON people(caf_id, role, status);

CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    -- SHA-256 of the code: a leaked database does not leak usable codes.
    code_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('agent', 'manager', 'coordinator')),
    caf_id INTEGER NOT NULL REFERENCES cafs(id),
    partner_id INTEGER REFERENCES partners(id),
    uses_left INTEGER NOT NULL CHECK (uses_left >= 0),
    expires_at TEXT NOT NULL,
    created_by INTEGER REFERENCES people(id),
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    CHECK ((role = 'coordinator') = (partner_id IS NULL))
);

-- Wrong codes per Telegram account, to slow down guessing.
CREATE TABLE invitation_failures (
    id INTEGER PRIMARY KEY,
    telegram_user_id INTEGER NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX invitation_failures_by_user ON invitation_failures(telegram_user_id, at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    -- NULL: the command line (an operator on the server).
    actor_id INTEGER REFERENCES people(id),
    caf_id INTEGER REFERENCES cafs(id),
    action TEXT NOT NULL,
    target_type TEXT,
    target_id INTEGER,
    details TEXT
);
CREATE INDEX audit_by_caf ON audit_log(caf_id, at);

-- Small facts the bot caches (e.g. its own username from getMe).
CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
