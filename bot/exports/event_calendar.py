"""The .ics file a participant receives for an event, to add it to their own calendar.

Pure functions: the caller (the events flow, or a test) gives the event's fields and gets
the text of the file; `ics_filename` names the attachment.

Decisions:

* The UID is `event-<id>@caf-<caf id>.point-numerique-caf`, the same in every file sent for
  the event, so that a calendar replaces the event it already has when a change or a
  cancellation arrives, instead of adding a second one. SEQUENCE (given by the caller, one
  more at each change that matters) tells the calendar which version is the newer.
* Times are written in UTC (`…Z`): no VTIMEZONE to get wrong, and every calendar shows
  them in its owner's time zone.
* `METHOD:PUBLISH` normally; `METHOD:CANCEL` with `STATUS:CANCELLED` for a cancellation, the
  title prefixed with « Annulé : » for the calendars that import the file as a new event
  rather than matching it to the one they have. There is no ORGANIZER: the event is
  published by the Caf through the bot, and answers go through the bot, not by e-mail.
* LOCATION is the place, or the visio link when there is no place; URL is the visio link.
  The link is also written at the end of DESCRIPTION, because several calendars (Outlook
  among them) never show URL. DESCRIPTION also names the Caf that organises the event
  (« Organisé par : Caf de la Somme »), as there is no ORGANIZER.
* DTSTAMP is when the file is made (`now`, from the caller's clock): with a METHOD, RFC 5545
  makes it the creation time of the iCalendar object.
* The Caf's zone plays no part: the instants are the event's, and UTC names them exactly;
  the texts that go with the file (bot/ui/templates/event_*.html.j2) say the Caf's hours.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from icalendar import Calendar, Event

PRODID = "-//Point numérique Caf//Événements du réseau//FR"
UID_DOMAIN = "point-numerique-caf"
CANCELLED_PREFIX = "Annulé : "
VISIO_LINE = "Lien de la visio : "
ORGANISED_BY = "Organisé par : "
FILENAME_FALLBACK = "evenement"
FILENAME_MAX = 60
# What NFKD leaves whole but a reader expects spelled out in an ASCII name.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def event_uid(event_id: int, caf_id: int) -> str:
    return f"event-{event_id}@caf-{caf_id}.{UID_DOMAIN}"


def event_location(place: str | None, visio_url: str | None) -> str:
    """Where the event happens, in one line: the place, else the visio link, else empty."""
    return (place or "").strip() or (visio_url or "").strip()


def _utc(instant: datetime, name: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return instant.astimezone(UTC)


def event_ics(
    *,
    event_id: int,
    caf_id: int,
    caf_name: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    place: str | None,
    visio_url: str | None,
    description: str | None,
    cancelled: bool = False,
    sequence: int = 0,
    now: datetime,
) -> str:
    """The text of the .ics file (CRLF line ends, UTF-8 once encoded) for one event."""
    start, end = _utc(starts_at, "starts_at"), _utc(ends_at, "ends_at")
    if end <= start:
        raise ValueError("an event ends after it starts")
    if sequence < 0:
        raise ValueError("sequence must not be negative")
    stamp = _utc(now, "now")

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")

    event = Event()
    event.add("uid", event_uid(event_id, caf_id))
    event.add("dtstamp", stamp.replace(microsecond=0))
    event.add("dtstart", start.replace(microsecond=0))
    event.add("dtend", end.replace(microsecond=0))
    event.add("sequence", sequence)
    event.add("summary", f"{CANCELLED_PREFIX}{title}" if cancelled else title)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    location = event_location(place, visio_url)
    if location:
        event.add("location", location)
    link = (visio_url or "").strip()
    if link:
        event.add("url", link)
    lines = [text for text in ((description or "").strip(),) if text]
    if caf_name.strip():
        lines.append(f"{ORGANISED_BY}{caf_name.strip()}")
    if link:
        lines.append(f"{VISIO_LINE}{link}")
    event.add("description", "\n\n".join(lines))
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical.decode("utf-8")


def ics_filename(title: str) -> str:
    """« Journée annuelle de formation » → `journee-annuelle-de-formation.ics`.

    ASCII letters, digits and hyphens only: safe on every phone and file system, and in a
    Content-Disposition header without encoding.
    """
    ascii_text = (
        unicodedata.normalize("NFKD", title.translate(_LIGATURES))
        .encode("ascii", "ignore")
        .decode("ascii")
        .lower()
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    slug = slug[:FILENAME_MAX].rstrip("-") or FILENAME_FALLBACK
    return f"{slug}.ics"
