-- A person may work at several sites of their Caf (an agent shared between two France
-- Services, a manager standing in for a colleague). `people.partner_id` stays the site they
-- work at now: visits, indicators and permissions follow it; `person_sites` lists every site
-- they belong to, the current one included.
CREATE TABLE person_sites (
    person_id BIGINT NOT NULL REFERENCES people(id),
    partner_id BIGINT NOT NULL REFERENCES partners(id),
    since TEXT NOT NULL,
    PRIMARY KEY (person_id, partner_id)
);
CREATE INDEX person_sites_by_partner ON person_sites(partner_id);

INSERT INTO person_sites (person_id, partner_id, since)
    SELECT id, partner_id, joined_at FROM people WHERE partner_id IS NOT NULL;

-- The local day (the Caf's zone) a person with several sites last said where they work:
-- they are asked once a day.
ALTER TABLE people ADD COLUMN site_chosen_on TEXT;
