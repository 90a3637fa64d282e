-- The yearly visit's full checklist (convention, Articles 4 and 9): every point answered is a
-- row here, by its code (bot/domain/site_reviews.py CHECKS). The three columns of
-- site_reviews (premises_ok, equipment_ok, hours_ok) are still written, so a reader of them
-- keeps working; visits recorded before this migration get their three rows copied here.
CREATE TABLE site_review_checks (
    review_id BIGINT NOT NULL REFERENCES site_reviews(id),
    item TEXT NOT NULL,
    ok BIGINT NOT NULL CHECK (ok IN (0, 1)),
    PRIMARY KEY (review_id, item)
);

INSERT INTO site_review_checks (review_id, item, ok)
SELECT id, 'premises', premises_ok FROM site_reviews
UNION ALL SELECT id, 'equipment', equipment_ok FROM site_reviews
UNION ALL SELECT id, 'hours', hours_ok FROM site_reviews;

-- The checklist point an action item answers, when the plan proposed it for a point found
-- wanting (NULL: an action the coordinator wrote). A point stays open for compliance until
-- its item is done or a later visit finds it conforming.
ALTER TABLE action_items ADD COLUMN point TEXT;

-- The site's equipment put at the public's disposal (Article 8), kept by its managers
-- (bot/domain/equipment.py EQUIPMENT): one row per item told, present or missing. Who
-- changed it is in the audit log.
CREATE TABLE site_equipment (
    partner_id BIGINT NOT NULL REFERENCES partners(id),
    item TEXT NOT NULL,
    present BIGINT NOT NULL CHECK (present IN (0, 1)),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, item)
);
