-- The Caf speaks to its network (Articles 3 and 9): news and must-read notices, the
-- documentation it maintains, and events (training days, steering committees, yearly
-- visits) with answers, a waiting list, reminders and attendance.

-- A message of the outbox may carry one file: a Telegram file id of the Caf's own photo or
-- document (the one kind of file the bot keeps), or a small generated file (an .ics).
ALTER TABLE outbox ADD COLUMN media_kind TEXT
    CHECK (media_kind IS NULL OR media_kind IN ('photo', 'document', 'generated'));
ALTER TABLE outbox ADD COLUMN media TEXT;
ALTER TABLE outbox ADD COLUMN media_name TEXT;

CREATE TABLE announcements (
    id INTEGER PRIMARY KEY,
    caf_id INTEGER NOT NULL REFERENCES cafs(id),
    author_id INTEGER REFERENCES people(id),
    -- Telegram HTML built from the coordinator's own message (its formatting, escaped).
    body TEXT NOT NULL,
    media_kind TEXT CHECK (media_kind IS NULL OR media_kind IN ('photo', 'document')),
    media_file_id TEXT,
    media_name TEXT,
    -- JSON: {"kind": "all" | "managers" | "agents" | "partners", "partners": [ids]}
    audience TEXT NOT NULL DEFAULT '{"kind": "all"}',
    must_read INTEGER NOT NULL DEFAULT 0 CHECK (must_read IN (0, 1)),
    status TEXT NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'cancelled')),
    scheduled_for TEXT,
    -- The coordinator's message that shows the progress, edited in place.
    progress_chat_id INTEGER,
    progress_message_id INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX announcements_by_caf ON announcements(caf_id, status, id);

-- Who a sent announcement was for (fixed at sending), and their read receipt.
CREATE TABLE announcement_recipients (
    announcement_id INTEGER NOT NULL REFERENCES announcements(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    read_at TEXT,
    reminded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (announcement_id, person_id)
) WITHOUT ROWID;

-- 📚 Documentation: links and files the Caf's coordinators maintain, in their order.
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    caf_id INTEGER NOT NULL REFERENCES cafs(id),
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    url TEXT,
    file_id TEXT,
    file_name TEXT,
    created_by INTEGER REFERENCES people(id),
    created_at TEXT NOT NULL,
    CHECK ((url IS NULL) != (file_id IS NULL))
);
CREATE INDEX documents_by_caf ON documents(caf_id, position);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    caf_id INTEGER NOT NULL REFERENCES cafs(id),
    kind TEXT NOT NULL
        CHECK (kind IN ('training_day', 'committee_partner', 'committee_network',
                        'yearly_visit', 'meeting')),
    title TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    place TEXT,
    visio_url TEXT,
    -- NULL: no limit.
    capacity INTEGER CHECK (capacity IS NULL OR capacity > 0),
    rsvp_deadline TEXT NOT NULL,
    audience TEXT NOT NULL DEFAULT '{"kind": "all"}',
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'cancelled')),
    created_by INTEGER REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    cancelled_at TEXT,
    CHECK (ends_at > starts_at)
);
CREATE INDEX events_by_caf ON events(caf_id, starts_at);

-- One row per person invited; the answer is an upsert (a double tap counts once).
CREATE TABLE event_invitations (
    event_id INTEGER NOT NULL REFERENCES events(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    -- invited: no answer yet; going; waiting (past capacity); declined.
    status TEXT NOT NULL DEFAULT 'invited'
        CHECK (status IN ('invited', 'going', 'waiting', 'declined')),
    answered_at TEXT,
    -- Order on the waiting list (when they asked), NULL otherwise.
    waiting_since TEXT,
    -- Recorded by a coordinator after the event: 1 came, 0 did not, NULL not recorded.
    attended INTEGER CHECK (attended IS NULL OR attended IN (0, 1)),
    PRIMARY KEY (event_id, person_id)
) WITHOUT ROWID;
CREATE INDEX event_invitations_by_status ON event_invitations(event_id, status);
