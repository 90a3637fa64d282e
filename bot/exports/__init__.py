"""Files the Caf takes out of the bot: the public directory of its sites, and later more."""
