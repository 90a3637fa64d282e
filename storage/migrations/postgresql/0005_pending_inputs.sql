-- What a person is about to type (a label reason, a partner's name…): one at a time.
-- `context` holds ids, codes and already-screened values only: a text refused by the
-- privacy screen is never written here.
CREATE TABLE pending_inputs (
    person_id BIGINT PRIMARY KEY REFERENCES people(id),
    kind TEXT NOT NULL,
    context TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
