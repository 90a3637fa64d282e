-- Indicators that do not grow with the visits (issue #19): counts per local day and per
-- local month, site and Annexe 2 category, kept by storage/visit_counts.py in the very
-- transaction that saves, changes or cancels a visit; storage/indicators.py reads them.
-- PostgreSQL's counterpart of storage/migrations/0020_visit_counts.sql (same tables,
-- columns and meaning). PostgreSQL knows every time zone: every Caf is backfilled.

CREATE TABLE visit_count_zones (
    caf_id BIGINT PRIMARY KEY REFERENCES cafs(id),
    timezone TEXT NOT NULL
);

CREATE TABLE visit_counts (
    caf_id BIGINT NOT NULL,
    span TEXT NOT NULL CHECK (span IN ('day', 'month')),
    period TEXT NOT NULL,
    partner_id BIGINT NOT NULL,
    category TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (caf_id, span, period, partner_id, category)
);
CREATE INDEX visit_counts_by_partner ON visit_counts(partner_id, span, period, category, n);

CREATE TABLE visit_hour_counts (
    caf_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    partner_id BIGINT NOT NULL,
    hour BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (caf_id, day, partner_id, hour)
);
CREATE INDEX visit_hour_counts_by_partner ON visit_hour_counts(partner_id, day, hour, n);

INSERT INTO visit_count_zones (caf_id, timezone) SELECT id, timezone FROM cafs;

CREATE TEMPORARY TABLE visit_count_backfill ON COMMIT DROP AS
    SELECT v.id AS visit_id, v.caf_id, v.partner_id,
           CAST(v.visited_at AS timestamptz) AT TIME ZONE z.timezone AS local
    FROM visits v JOIN visit_count_zones z ON z.caf_id = v.caf_id;

INSERT INTO visit_counts (caf_id, span, period, partner_id, category, n)
    SELECT caf_id, 'day', day, partner_id, category, COUNT(*) FROM (
        SELECT b.caf_id, to_char(b.local, 'YYYY-MM-DD') AS day, b.partner_id,
               'visits' AS category
            FROM visit_count_backfill b
        UNION ALL SELECT b.caf_id, to_char(b.local, 'YYYY-MM-DD'), b.partner_id,
                'answer:sexe:' || v.sexe
            FROM visit_count_backfill b JOIN visits v ON v.id = b.visit_id
        UNION ALL SELECT b.caf_id, to_char(b.local, 'YYYY-MM-DD'), b.partner_id,
                'answer:age:' || COALESCE(v.age, '')
            FROM visit_count_backfill b JOIN visits v ON v.id = b.visit_id
        UNION ALL SELECT b.caf_id, to_char(b.local, 'YYYY-MM-DD'), b.partner_id,
                'answer:statut:' || v.statut
            FROM visit_count_backfill b JOIN visits v ON v.id = b.visit_id
        UNION ALL SELECT b.caf_id, to_char(b.local, 'YYYY-MM-DD'), b.partner_id,
                'answer:autonomie:' || v.autonomie
            FROM visit_count_backfill b JOIN visits v ON v.id = b.visit_id
        UNION ALL SELECT b.caf_id, to_char(b.local, 'YYYY-MM-DD'), b.partner_id,
                'answer:resolution:' || v.resolution
            FROM visit_count_backfill b JOIN visits v ON v.id = b.visit_id
        UNION ALL SELECT b.caf_id, to_char(b.local, 'YYYY-MM-DD'), b.partner_id,
                'cell:' || a.demande || ':' || a.action
            FROM visit_count_backfill b JOIN visit_actions a ON a.visit_id = b.visit_id
        UNION ALL SELECT b.caf_id, to_char(b.local, 'YYYY-MM-DD'), b.partner_id,
                'request:' || a.demande || ':' || a.resolution
            FROM visit_count_backfill b JOIN visit_actions a ON a.visit_id = b.visit_id
            WHERE a.lead = 1
        UNION ALL SELECT b.caf_id, to_char(b.local, 'YYYY-MM-DD'), b.partner_id,
                'theme:' || t.theme
            FROM visit_count_backfill b JOIN visit_themes t ON t.visit_id = b.visit_id
    ) AS counted GROUP BY caf_id, day, partner_id, category;

INSERT INTO visit_counts (caf_id, span, period, partner_id, category, n)
    SELECT caf_id, 'month', substr(period, 1, 7), partner_id, category, SUM(n)
    FROM visit_counts WHERE span = 'day'
    GROUP BY caf_id, substr(period, 1, 7), partner_id, category;

-- The Caf as one whole (partner_id 0), beside its sites.
INSERT INTO visit_counts (caf_id, span, period, partner_id, category, n)
    SELECT caf_id, span, period, 0, category, SUM(n) FROM visit_counts
    GROUP BY caf_id, span, period, category;

INSERT INTO visit_hour_counts (caf_id, day, partner_id, hour, n)
    SELECT caf_id, to_char(local, 'YYYY-MM-DD'), partner_id, CAST(EXTRACT(HOUR FROM local) AS BIGINT),
           COUNT(*)
    FROM visit_count_backfill
    GROUP BY caf_id, to_char(local, 'YYYY-MM-DD'), partner_id, CAST(EXTRACT(HOUR FROM local) AS BIGINT);

INSERT INTO visit_hour_counts (caf_id, day, partner_id, hour, n)
    SELECT caf_id, day, 0, hour, SUM(n) FROM visit_hour_counts GROUP BY caf_id, day, hour;
