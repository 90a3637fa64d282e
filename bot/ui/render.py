"""One jinja2 environment for every text the bot says, in Telegram's HTML parse mode.

Autoescaping is on: partner names, people's names and anything typed by a user are escaped
wherever they appear. Templates live in `templates/`, named after what they say.
"""

from __future__ import annotations

from typing import Any

import jinja2

from bot.ui import formatting

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("bot.ui", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=False,
)
ENV.filters.update(
    date_fr=formatting.date_fr,
    hour_fr=formatting.hour_fr,
    number_fr=formatting.number_fr,
    de=formatting.de,
)
ENV.globals.update(percent_fr=formatting.percent_fr, datetime_fr=formatting.datetime_fr)


def render(template: str, **context: Any) -> str:
    """Renders `templates/<template>.html.j2`; blank runs are squeezed for chat display."""
    text = ENV.get_template(f"{template}.html.j2").render(**context).strip()
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text
