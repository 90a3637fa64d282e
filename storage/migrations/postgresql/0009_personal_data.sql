-- Personal data (README, « Données personnelles »): what /mesdonnees reads, what an erasure
-- and the nightly retention purge touch. No new column: an erased person is a `people` row
-- whose telegram_user_id is NULL (see 0001), with a neutral display name.

-- Every /start with a code counts the wrong codes of all accounts within a window.
CREATE INDEX invitation_failures_by_time ON invitation_failures(at);

-- A person's read receipts, found without scanning every broadcast's recipients.
CREATE INDEX announcement_recipients_by_person ON announcement_recipients(person_id);
