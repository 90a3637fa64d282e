-- Scheduled work (reminders, scheduled broadcasts, period ends): due rows picked up by one
-- periodic job, so nothing scheduled lives only in memory and a restart rebuilds it all.
-- `key` is the idempotency key of one piece of work (e.g. 'reminder:visit:42:d3'): it is
-- UNIQUE for ever, so scheduling the same work twice (a redelivered update, a double tap,
-- a restart replaying start-up) keeps one row, even after that row is done or cancelled.
-- Work that repeats puts its occurrence in the key (e.g. 'period-end:caf:1:2026-Q4').
-- Times are UTC ISO 8601 text (storage/timefmt.to_db), so text comparison orders them.

CREATE TABLE scheduled_jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    due_at TEXT NOT NULL,
    -- JSON object handed to the handler, may hold user-related data: never logged.
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'done', 'cancelled', 'failed')),
    -- Failed runs so far (a run that succeeds does not count).
    attempts INTEGER NOT NULL DEFAULT 0,
    -- Exception type and place of the last failure, never the payload.
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- When the row reached a final state (done, cancelled, failed).
    done_at TEXT
);
-- The periodic job's query: pending rows whose due_at has passed.
CREATE INDEX scheduled_jobs_due ON scheduled_jobs(status, due_at);
