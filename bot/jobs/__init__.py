"""Everything scheduled or in the background: the scheduler, the outbox sender, the morning
run, housekeeping and reminders. Jobs call the same services as the bot and the command line."""
