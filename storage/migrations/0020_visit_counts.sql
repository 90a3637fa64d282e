-- Indicators that do not grow with the visits (issue #19): counts per local day and per
-- local month, site and Annexe 2 category, kept by storage/visit_counts.py in the very
-- transaction that saves, changes or cancels a visit; storage/indicators.py reads them. No
-- one's identity is in them (no person, no visit id): erasure has nothing to do here.
--
-- Local days are the Caf's, in the zone named in `visit_count_zones`: the counts of a Caf
-- are used only while that zone is still the Caf's (a zone change rebuilds them, see
-- storage/visit_counts.py `rebuild`); a Caf without a row is counted from raw visits.

CREATE TABLE visit_count_zones (
    caf_id INTEGER PRIMARY KEY REFERENCES cafs(id),
    timezone TEXT NOT NULL
);

-- category: 'visits', 'answer:<question>:<option>' ('answer:age:' for a legal person,
-- never asked), 'cell:<demande>:<action>', 'request:<demande>:<resolution>' (visits with
-- that request type), 'theme:<theme>'. period: 'YYYY-MM-DD' (span 'day'), 'YYYY-MM' ('month').
-- partner_id 0: the Caf as one whole (no site has id 0), so that its figures read few rows.
CREATE TABLE visit_counts (
    caf_id INTEGER NOT NULL,
    span TEXT NOT NULL CHECK (span IN ('day', 'month')),
    period TEXT NOT NULL,
    partner_id INTEGER NOT NULL,
    category TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (caf_id, span, period, partner_id, category)
) WITHOUT ROWID;
CREATE INDEX visit_counts_by_partner ON visit_counts(partner_id, span, period, category, n);

-- Visits per local day and local hour, for the weeks and the heatmap.
CREATE TABLE visit_hour_counts (
    caf_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    partner_id INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (caf_id, day, partner_id, hour)
) WITHOUT ROWID;
CREATE INDEX visit_hour_counts_by_partner ON visit_hour_counts(partner_id, day, hour, n);

-- The backfill, for the zones SQLite can follow without a time zone database: mainland
-- France (the EU rule: summer time from the last Sunday of March to the last Sunday of
-- October, 01:00 UTC) and the overseas departments (no summer time). A Caf in another zone
-- gets no row in `visit_count_zones`: its figures are counted from raw visits until
-- `rebuild` (storage/visit_counts.py) runs for it.
INSERT INTO visit_count_zones (caf_id, timezone)
    SELECT id, timezone FROM cafs
    WHERE timezone IN ('Europe/Paris', 'America/Guadeloupe', 'America/Martinique',
                       'America/Cayenne', 'Indian/Reunion', 'Indian/Mayotte', 'America/Marigot',
                       'America/St_Barthelemy', 'UTC', 'Etc/UTC');

CREATE TABLE visit_count_backfill (
    visit_id INTEGER PRIMARY KEY,
    caf_id INTEGER NOT NULL,
    partner_id INTEGER NOT NULL,
    local TEXT NOT NULL
);
INSERT INTO visit_count_backfill (visit_id, caf_id, partner_id, local)
    SELECT v.id, v.caf_id, v.partner_id, datetime(v.visited_at, CASE z.timezone
        WHEN 'Europe/Paris' THEN CASE
            WHEN v.visited_at >= date(substr(v.visited_at, 1, 4) || '-04-01', '-7 days',
                                      'weekday 0') || 'T01:00:00'
             AND v.visited_at < date(substr(v.visited_at, 1, 4) || '-11-01', '-7 days',
                                     'weekday 0') || 'T01:00:00'
            THEN '+120 minutes' ELSE '+60 minutes' END
        WHEN 'America/Guadeloupe' THEN '-240 minutes'
        WHEN 'America/Martinique' THEN '-240 minutes'
        WHEN 'America/Marigot' THEN '-240 minutes'
        WHEN 'America/St_Barthelemy' THEN '-240 minutes'
        WHEN 'America/Cayenne' THEN '-180 minutes'
        WHEN 'Indian/Reunion' THEN '+240 minutes'
        WHEN 'Indian/Mayotte' THEN '+180 minutes'
        ELSE '+0 minutes' END)
    FROM visits v JOIN visit_count_zones z ON z.caf_id = v.caf_id;

INSERT INTO visit_counts (caf_id, span, period, partner_id, category, n)
    SELECT caf_id, 'day', day, partner_id, category, COUNT(*) FROM (
        SELECT b.caf_id, substr(b.local, 1, 10) AS day, b.partner_id, 'visits' AS category
            FROM visit_count_backfill b
        UNION ALL SELECT b.caf_id, substr(b.local, 1, 10), b.partner_id, 'answer:sexe:' || v.sexe
            FROM visit_count_backfill b JOIN visits v ON v.id = b.visit_id
        UNION ALL SELECT b.caf_id, substr(b.local, 1, 10), b.partner_id,
                'answer:age:' || COALESCE(v.age, '')
            FROM visit_count_backfill b JOIN visits v ON v.id = b.visit_id
        UNION ALL SELECT b.caf_id, substr(b.local, 1, 10), b.partner_id,
                'answer:statut:' || v.statut
            FROM visit_count_backfill b JOIN visits v ON v.id = b.visit_id
        UNION ALL SELECT b.caf_id, substr(b.local, 1, 10), b.partner_id,
                'answer:autonomie:' || v.autonomie
            FROM visit_count_backfill b JOIN visits v ON v.id = b.visit_id
        UNION ALL SELECT b.caf_id, substr(b.local, 1, 10), b.partner_id,
                'answer:resolution:' || v.resolution
            FROM visit_count_backfill b JOIN visits v ON v.id = b.visit_id
        UNION ALL SELECT b.caf_id, substr(b.local, 1, 10), b.partner_id,
                'cell:' || a.demande || ':' || a.action
            FROM visit_count_backfill b JOIN visit_actions a ON a.visit_id = b.visit_id
        UNION ALL SELECT b.caf_id, substr(b.local, 1, 10), b.partner_id,
                'request:' || a.demande || ':' || a.resolution
            FROM visit_count_backfill b JOIN visit_actions a ON a.visit_id = b.visit_id
            WHERE a.lead = 1
        UNION ALL SELECT b.caf_id, substr(b.local, 1, 10), b.partner_id, 'theme:' || t.theme
            FROM visit_count_backfill b JOIN visit_themes t ON t.visit_id = b.visit_id
    ) GROUP BY caf_id, day, partner_id, category;

INSERT INTO visit_counts (caf_id, span, period, partner_id, category, n)
    SELECT caf_id, 'month', substr(period, 1, 7), partner_id, category, SUM(n)
    FROM visit_counts WHERE span = 'day'
    GROUP BY caf_id, substr(period, 1, 7), partner_id, category;

-- The Caf as one whole (partner_id 0), beside its sites.
INSERT INTO visit_counts (caf_id, span, period, partner_id, category, n)
    SELECT caf_id, span, period, 0, category, SUM(n) FROM visit_counts
    GROUP BY caf_id, span, period, category;

INSERT INTO visit_hour_counts (caf_id, day, partner_id, hour, n)
    SELECT caf_id, substr(local, 1, 10), partner_id, CAST(substr(local, 12, 2) AS INTEGER),
           COUNT(*)
    FROM visit_count_backfill
    GROUP BY caf_id, substr(local, 1, 10), partner_id, CAST(substr(local, 12, 2) AS INTEGER);

INSERT INTO visit_hour_counts (caf_id, day, partner_id, hour, n)
    SELECT caf_id, day, 0, hour, SUM(n) FROM visit_hour_counts GROUP BY caf_id, day, hour;

DROP TABLE visit_count_backfill;
