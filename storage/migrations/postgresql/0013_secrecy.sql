-- Article 5 of the convention: each agent and manager commits to professional secrecy
-- before using the bot. When, and to which version of the statement
-- (bot/domain/secrecy.py SECRECY_VERSION): a new version asks everyone again.
ALTER TABLE people ADD COLUMN secrecy_committed_at TEXT;
ALTER TABLE people ADD COLUMN secrecy_version BIGINT;
