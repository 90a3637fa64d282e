-- Invitation links as things one can see and cancel (issue #16).

-- A Caf's or a site's live links are listed; a person's links are cancelled with them.
CREATE INDEX invitations_by_caf ON invitations(caf_id, partner_id);
CREATE INDEX invitations_by_maker ON invitations(created_by);

-- Links used to outlive whoever made them: a revoked coordinator's 10-person link still made
-- coordinators. From now on revoking or erasing a person cancels their links; the links of
-- people revoked or erased before this version are cancelled here, once.
UPDATE invitations SET revoked_at = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')
    WHERE revoked_at IS NULL
    AND created_by IN (SELECT id FROM people WHERE status = 'revoked');

-- Agents who joined and whose arrival the Caf's coordinators are not told of yet: those who
-- join within minutes of each other get one notice (bot/jobs/new_agents.py). The training
-- need itself is in the inbox at once; a row goes when the notice is queued.
CREATE TABLE new_agent_arrivals (
    signal_id BIGINT PRIMARY KEY REFERENCES signals(id),
    caf_id BIGINT NOT NULL REFERENCES cafs(id),
    held_at TEXT NOT NULL
);
CREATE INDEX new_agent_arrivals_by_caf ON new_agent_arrivals(caf_id, held_at);
