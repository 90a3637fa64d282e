"""Use cases: what the bot, the command line and the jobs do, each once."""
