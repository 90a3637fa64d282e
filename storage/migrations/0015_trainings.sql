-- 🎓 Formations (issue #17, item 3): each person's training history. A row is a training
-- the person was expected at: a training day of the Caf (event_id, filled from the
-- attendance a coordinator marks, bot/services/events.py `mark`) or a training the Caf
-- records by hand from the person's card (event_id NULL). `attended` 0 is kept: « invited,
-- did not come » is part of the history. `on_date` is the Caf's local day (YYYY-MM-DD).
CREATE TABLE trainings (
    id INTEGER PRIMARY KEY,
    caf_id INTEGER NOT NULL REFERENCES cafs(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    event_id INTEGER REFERENCES events(id),
    title TEXT NOT NULL,
    on_date TEXT NOT NULL,
    attended INTEGER NOT NULL CHECK (attended IN (0, 1)),
    recorded_by INTEGER REFERENCES people(id),
    recorded_at TEXT NOT NULL
);
-- One row per person and event: marking attendance again updates it.
CREATE UNIQUE INDEX trainings_by_event ON trainings(event_id, person_id)
    WHERE event_id IS NOT NULL;
CREATE INDEX trainings_by_person ON trainings(person_id, on_date);
CREATE INDEX trainings_by_caf ON trainings(caf_id, on_date);

-- Attendance already marked at past training days is history too.
INSERT INTO trainings (caf_id, person_id, event_id, title, on_date, attended, recorded_by,
                       recorded_at)
SELECT e.caf_id, i.person_id, e.id, e.title, substr(e.starts_at, 1, 10), i.attended,
       e.created_by, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')
FROM event_invitations i JOIN events e ON e.id = i.event_id
WHERE e.kind = 'training_day' AND i.attended IS NOT NULL;
