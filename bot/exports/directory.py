"""The directory of a Caf's sites for its public web pages (issue #5).

`collect` reads, for one Caf and one day (the Caf's own date, see below), each site with the
weekly schedule in force that day, the next scheduled change of hours, and the exceptional
closures not cancelled that end that day or later. The three renderers are pure functions of
what `collect` returns, so each format is tested without a database.

Decisions:

* Only sites whose label is **active** are listed. A suspended site (label under review) or a
  withdrawn one is not advertised to the public, whatever its hours or closures.
* A closure shows its dates and its reason's label only; the manager's free-text note stays
  internal (it is written for the Caf, not for the public).
* A cancelled closure is simply absent; past closures too. A closure that has started and
  not ended yet is shown (the site is closed today).
* "Today" is the caller's business: the command line computes it in the Caf's time zone
  (`cafs.timezone`) from the bot's clock.
* The next change of hours is the soonest future schedule that differs from the one that
  would apply the day before it (of two declared for the same day, the later one wins, as
  in `storage.hours.in_force`).
* A site with no schedule declared yet shows « Horaires non déclarés » (JSON: `"hours":
  null`), never « Fermé ».

Formats:

* JSON: `{"caf", "generated_at", "sites": [...]}`; each site has `id`, `name`, `city`,
  `address`, `hours` (`{"lundi": [["09:00", "12:00"], ...], ...}`, the seven days, closed
  days as `[]`), `hours_text` (one French line per day), `next_change` (`{"from", "hours",
  "hours_text"}` or null) and `closures` (`[{"start", "end", "reason"}]`, dates ISO 8601).
* CSV: one row per site, `;`-separated, UTF-8 with a BOM and CRLF line ends (what Excel
  opens as is in France): identifiant, nom, ville, adresse, one column per weekday
  (« 9 h – 12 h, 14 h – 17 h » or « Fermé »), « Nouveaux horaires à partir du » (dd/mm/yyyy,
  empty when no change is coming) and the coming hours one column per weekday
  (« Lundi (nouveaux) » …), « Prochaines fermetures ».
* ICS: one all-day event per closure (DTEND is the day after the last day, as RFC 5545
  wants), UID `closure-<id>@caf-<caf id>.point-numerique-caf`, stable from one export to the
  next so that a subscribed calendar updates events rather than duplicating them. The next
  change of hours is an all-day event on its first day (UID `hours-<site id>-<yyyymmdd>@…`,
  stamped with its declaration), whose description gives the hours until then and after.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event

from bot.domain.models import Caf, Partner
from bot.domain.opening_hours import DAY_NAMES, WeeklySchedule, format_periods
from bot.domain.permissions import LabelStatus
from bot.domain.signals import CLOSURE_REASONS, label_of
from bot.exports.csv_format import csv_text
from storage import closures, hours, partners
from storage.closures import Closure
from storage.db import Conn
from storage.hours import Declaration

NOT_DECLARED = "Horaires non déclarés"
PRODID = "-//Point numérique Caf//Annuaire des sites//FR"
UID_DOMAIN = "point-numerique-caf"
CSV_BOM = "\ufeff"
JSON_DAY_KEYS: tuple[str, ...] = tuple(name.lower() for name in DAY_NAMES)
CSV_HEADER: tuple[str, ...] = (
    "identifiant",
    "nom",
    "ville",
    "adresse",
    *DAY_NAMES,
    "Nouveaux horaires à partir du",
    *(f"{name} (nouveaux)" for name in DAY_NAMES),
    "Prochaines fermetures",
)


@dataclass(frozen=True)
class ScheduleChange:
    """A schedule declared to apply from a later day."""

    effective_from: date
    schedule: WeeklySchedule
    # When it was declared: the ICS event's DTSTAMP, stable from one export to the next.
    declared_at: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DirectoryEntry:
    """One site as the public sees it on a given day."""

    site: Partner
    hours: WeeklySchedule | None
    next_change: ScheduleChange | None
    closures: tuple[Closure, ...]


# --------------------------------------------------------------------------- reading


def next_change(
    current: WeeklySchedule | None, future: Sequence[Declaration]
) -> ScheduleChange | None:
    """The soonest future schedule that changes something (`future` soonest first)."""
    by_day: dict[date, Declaration] = {}
    for declaration in sorted(future, key=lambda d: (d.effective_from, d.id)):
        by_day[declaration.effective_from] = declaration  # the later declaration wins
    previous = current
    for day in sorted(by_day):
        schedule = by_day[day].schedule
        if schedule != previous:
            return ScheduleChange(day, schedule, by_day[day].declared_at)
        previous = schedule
    return None


async def collect(db: Conn, caf: Caf, today: date) -> list[DirectoryEntry]:
    """The Caf's active sites (by name, then city) as they stand on `today`."""
    sites = [
        site
        for site in await partners.list_for_caf(db, caf.id)
        if site.label_status is LabelStatus.ACTIVE
    ]
    in_force = await hours.in_force_for_caf(db, caf.id, today)
    closed = await closures.upcoming_for_caf(db, caf.id, today)
    entries = []
    for site in sites:
        declaration = in_force.get(site.id)
        current = declaration.schedule if declaration else None
        future = await hours.upcoming(db, site.id, today)
        entries.append(
            DirectoryEntry(
                site=site,
                hours=current,
                next_change=next_change(current, future),
                closures=tuple(closed.get(site.id, ())),
            )
        )
    return entries


# --------------------------------------------------------------------------- shared wording


def reason_label(closure: Closure) -> str:
    return label_of(CLOSURE_REASONS, closure.reason)


def location(site: Partner) -> str:
    """« 3 rue Haute, Ham »; the city is not repeated when the address already ends with it."""
    address, city = site.address.strip(), site.city.strip()
    if city and not address.casefold().endswith(city.casefold()):
        return f"{address}, {city}" if address else city
    return address


def hours_text(schedule: WeeklySchedule | None) -> str:
    return NOT_DECLARED if schedule is None else schedule.describe()


def _french_date(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def describe_closure(closure: Closure) -> str:
    """« du 24/12/2026 au 02/01/2027 (Congés, pont) », « le 15/12/2026 (Agent absent) »."""
    if closure.start_date == closure.end_date:
        dates = f"le {_french_date(closure.start_date)}"
    else:
        dates = f"du {_french_date(closure.start_date)} au {_french_date(closure.end_date)}"
    return f"{dates} ({reason_label(closure)})"


# --------------------------------------------------------------------------- JSON


def _hours_json(schedule: WeeklySchedule | None) -> dict[str, list[list[str]]] | None:
    if schedule is None:
        return None
    stored = schedule.to_json()
    return {key: stored[str(weekday)] for weekday, key in enumerate(JSON_DAY_KEYS)}


def to_json(entries: Iterable[DirectoryEntry], caf: Caf, generated_at: datetime) -> str:
    sites = []
    for entry in entries:
        change = entry.next_change
        sites.append(
            {
                "id": entry.site.id,
                "name": entry.site.name,
                "city": entry.site.city,
                "address": entry.site.address,
                "hours": _hours_json(entry.hours),
                "hours_text": hours_text(entry.hours),
                "next_change": None
                if change is None
                else {
                    "from": change.effective_from.isoformat(),
                    "hours": _hours_json(change.schedule),
                    "hours_text": hours_text(change.schedule),
                },
                "closures": [
                    {
                        "start": closure.start_date.isoformat(),
                        "end": closure.end_date.isoformat(),
                        "reason": reason_label(closure),
                    }
                    for closure in entry.closures
                ],
            }
        )
    document = {
        "caf": caf.name,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "sites": sites,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# --------------------------------------------------------------------------- CSV


def to_csv(entries: Iterable[DirectoryEntry]) -> str:
    """French Excel's CSV: BOM, semicolons, CRLF; cells quoted only when they must be."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for entry in entries:
        if entry.hours is None:
            days = [NOT_DECLARED] * len(DAY_NAMES)
        else:
            days = [format_periods(entry.hours[weekday]) for weekday in range(len(DAY_NAMES))]
        coming = _coming_cells(entry.next_change)
        cells = [
            entry.site.id,
            entry.site.name,
            entry.site.city,
            entry.site.address,
            *days,
            *coming,
            " ; ".join(describe_closure(closure) for closure in entry.closures),
        ]
        # Names, towns and closure notes are typed by people: never a formula in Excel.
        writer.writerow([csv_text(cell) for cell in cells])
    return CSV_BOM + out.getvalue()


def _coming_cells(change: ScheduleChange | None) -> list[str]:
    """The first day of the coming hours and each weekday's; empty cells when none."""
    if change is None:
        return [""] * (len(DAY_NAMES) + 1)
    days = [format_periods(change.schedule[weekday]) for weekday in range(len(DAY_NAMES))]
    return [_french_date(change.effective_from), *days]


# --------------------------------------------------------------------------- ICS


def closure_uid(closure: Closure, caf: Caf) -> str:
    return f"closure-{closure.id}@caf-{caf.id}.{UID_DOMAIN}"


def to_ics(entries: Iterable[DirectoryEntry], caf: Caf, generated_at: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Fermetures exceptionnelles — {caf.name}")
    calendar.add(
        "x-wr-caldesc",
        f"Points numériques Caf : fermetures exceptionnelles, mises à jour le "
        f"{_french_date(generated_at.date())}.",
    )
    calendar.add("x-wr-timezone", caf.timezone)
    for entry in entries:
        for closure in entry.closures:
            event = Event()
            event.add("uid", closure_uid(closure, caf))
            # Without METHOD, DTSTAMP is when the event was last revised: closures are
            # never edited (only cancelled), so this is the declaration's time.
            event.add("dtstamp", closure.declared_at.astimezone(UTC))
            event.add("dtstart", closure.start_date)
            event.add("dtend", closure.end_date + timedelta(days=1))
            event.add("summary", f"Fermeture exceptionnelle — {entry.site.title}")
            place = location(entry.site)
            if place:
                event.add("location", place)
            event.add("description", reason_label(closure))
            event.add("transp", "TRANSPARENT")
            calendar.add_component(event)
        if entry.next_change is not None:
            calendar.add_component(_hours_event(entry, entry.next_change, caf, generated_at))
    ical: bytes = calendar.to_ical()
    return ical


def hours_uid(site: Partner, change: ScheduleChange, caf: Caf) -> str:
    return f"hours-{site.id}-{change.effective_from:%Y%m%d}@caf-{caf.id}.{UID_DOMAIN}"


def _hours_event(
    entry: DirectoryEntry, change: ScheduleChange, caf: Caf, generated_at: datetime
) -> Event:
    """The coming hours' first day, with the hours until then and from then on."""
    event = Event()
    event.add("uid", hours_uid(entry.site, change, caf))
    event.add("dtstamp", (change.declared_at or generated_at).astimezone(UTC))
    event.add("dtstart", change.effective_from)
    event.add("dtend", change.effective_from + timedelta(days=1))
    event.add("summary", f"Nouveaux horaires — {entry.site.title}")
    place = location(entry.site)
    if place:
        event.add("location", place)
    last_day = change.effective_from - timedelta(days=1)
    event.add(
        "description",
        f"À partir du {_french_date(change.effective_from)} :\n{hours_text(change.schedule)}"
        f"\n\nJusqu'au {_french_date(last_day)} :\n{hours_text(entry.hours)}",
    )
    event.add("transp", "TRANSPARENT")
    return event
