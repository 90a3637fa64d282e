"""The sandbox: the bot without Telegram. An embedded, strict Bot API (`bot_api`) that the
test suite and `python -m bot demo` share, the demo's seeded network and its web page."""
