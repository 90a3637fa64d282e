-- 📰 Actualités reads a person's invitations (storage/news.py; their read receipts have
-- their index since 0009): the primary key starts with the event.
CREATE INDEX event_invitations_by_person ON event_invitations(person_id);

-- A broadcast programmed, cancelled, then programmed again once its first time had passed
-- lost its sending job: cancelling left the job pending, it ran as a no-op at the first
-- time, and programming again could not move a finished job. It stayed « Programmée pour… »
-- for ever. The code now cancels and re-arms that one job (bot/services/broadcasts.py
-- `send_job_key`); here those already stuck are mended. One whose time is still to come is
-- armed for it; one whose time has passed goes back to draft, for its coordinator to send
-- or program again (sending it late, unannounced, would surprise its readers).
INSERT INTO scheduled_jobs (kind, key, due_at, payload, created_at, updated_at)
SELECT 'broadcast_send', 'broadcast:' || a.id || ':send', a.scheduled_for,
       json_build_object('announcement', a.id)::text,
       to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')
FROM announcements a
WHERE a.status = 'scheduled' AND a.scheduled_for > to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')
  AND NOT EXISTS (SELECT 1 FROM scheduled_jobs j WHERE j.key = 'broadcast:' || a.id || ':send'
                  AND j.status IN ('pending', 'running'))
ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload,
    status = 'pending', attempts = 0, last_error = NULL, done_at = NULL,
    updated_at = excluded.updated_at;
UPDATE announcements SET status = 'draft', scheduled_for = NULL,
    updated_at = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')
WHERE status = 'scheduled'
  AND NOT EXISTS (SELECT 1 FROM scheduled_jobs j WHERE j.key = 'broadcast:' || announcements.id
                  || ':send' AND j.status IN ('pending', 'running'));
