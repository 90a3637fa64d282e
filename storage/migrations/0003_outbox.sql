-- The outbox: every message that is not a direct reply (notifications, signals to the Caf,
-- label notices, broadcasts, reminders), one row per recipient, written in the same
-- transaction as the fact it announces and drained by one sender (bot/outbox_sender.py).

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    -- What the message is about ('label_notice', 'broadcast', …): for counts and progress.
    kind TEXT NOT NULL,
    -- Idempotency: the same fact announced twice to the same recipient is one row
    -- (e.g. 'label:12:person:5'); enqueue is INSERT … ON CONFLICT DO NOTHING.
    dedup_key TEXT NOT NULL UNIQUE,
    -- NULL for chats that are not a person's (the Caf's group).
    person_id INTEGER REFERENCES people(id),
    chat_id INTEGER NOT NULL,
    -- Telegram HTML, already rendered and escaped.
    text TEXT NOT NULL,
    -- JSON of an InlineKeyboardMarkup, or NULL.
    reply_markup TEXT,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'unreachable')),
    -- Failed tries (a RetryAfter or a crash does not count).
    attempts INTEGER NOT NULL DEFAULT 0,
    -- Telegram's error description, never the message text.
    last_error TEXT,
    telegram_message_id INTEGER,
    -- Not sent before this instant (backoff after an error).
    not_before TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX outbox_due ON outbox(status, not_before, id);
-- The oldest pending row of each chat (messages to one chat leave in order).
CREATE INDEX outbox_by_chat ON outbox(status, chat_id, id);
CREATE INDEX outbox_by_person ON outbox(person_id, status) WHERE person_id IS NOT NULL;

-- Set when Telegram says the person blocked the bot (or their chat is gone); cleared when
-- they write to the bot again.
ALTER TABLE people ADD COLUMN unreachable_since TEXT;
