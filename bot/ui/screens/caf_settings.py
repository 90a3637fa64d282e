"""⚙️ Ma Caf (coordinators): the Caf's settings, the import of sites from a file, the public
directory as a file. One message edited in place, driven by `CafSettingsTap(op, value)`; the
import's preview and its outcome are new messages, under the coordinator's file."""

from __future__ import annotations

import math
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import site_import as rules
from bot.domain.models import Caf, Person, ReportingPeriod
from bot.services.directory import DirectoryFile
from bot.services.site_import import MAX_FILE_BYTES, Imported, Preview, RowError
from bot.ui import callbacks, formatting
from bot.ui.callbacks import CafSettingsTap, NetworkTap
from bot.ui.render import render

# The import's refusals and outcomes have no buttons: the next step is a file, or nothing.
Reply = tuple[str, InlineKeyboardMarkup | None]
# A preview names the first sites of the file; errors are listed up to this many.
PREVIEW_SITES = 5
ERRORS_SHOWN = 15


class CafOp(StrEnum):
    HOME = "home"
    IMPORT = "imp"
    CONFIRM = "ok"
    CANCEL = "no"
    PERIOD = "per"
    SET_PERIOD = "setp"
    GROUP = "grp"
    GROUP_ASK = "gask"
    GROUP_CLEAR = "gclr"
    CITY = "city"
    CITY_ASK = "cask"
    CITY_CLEAR = "cclr"
    DIRECTORY = "dir"


# A `SET_PERIOD` button's value: the period chosen.
PERIODS = (ReportingPeriod.MONTHLY, ReportingPeriod.QUARTERLY)
# A `DIRECTORY` button's value: the format, as bot/services/directory.py names it.
DIRECTORY_FORMATS = ("json", "csv", "ics", "national")
DIRECTORY_LABELS = ("🌐 Annuaire JSON", "📄 CSV", "📅 ICS", "🗺 Standard national (CSV)")
# The first formats share a row; the national standard's has its own (a longer label).
DIRECTORY_ROW = 3

# Toasts.
NOTHING_WAITING = "Cet import n'est plus en attente : renvoyez le fichier pour recommencer."
PERIOD_UNCHANGED = "C'est déjà la période de transmission de la Caf."
NO_GROUP = "La Caf n'a pas de groupe de notification."
PERIOD_SAVED = "Période de transmission enregistrée."
GROUP_CLEARED = "Groupe de notification retiré."
NO_CITY = "La Caf n'a pas de ville indiquée."
CITY_CLEARED = "Ville des certificats retirée."
IMPORTED = "Sites importés."
CANCELLED = "Import annulé."


def _button(label: str, op: CafOp, value: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(CafSettingsTap(op, value)))


def home(caf: Caf, sites: int, said: str | None = None) -> Reply:
    """The Caf's settings, with what each button changes or sends."""
    text = render("caf_settings_home", caf=caf, sites=sites, said=said)
    rows = [
        [_button("📥 Importer des sites", CafOp.IMPORT)],
        [
            _button("🗓 Transmission", CafOp.PERIOD),
            _button("🔔 Groupe de notification", CafOp.GROUP),
        ],
        [_button("🏛 Ville des certificats", CafOp.CITY)],
        [
            _button(label, CafOp.DIRECTORY, index)
            for index, label in enumerate(DIRECTORY_LABELS[:DIRECTORY_ROW])
        ],
        [
            _button(label, CafOp.DIRECTORY, index)
            for index, label in enumerate(DIRECTORY_LABELS)
            if index >= DIRECTORY_ROW
        ],
    ]
    return text, InlineKeyboardMarkup(rows)


# ------------------------------------------------------------------------------ import
def import_prompt(caf: Caf) -> str:
    return render(
        "caf_import_ask",
        caf=caf,
        max_rows=rules.MAX_ROWS,
        max_size=size_fr(MAX_FILE_BYTES),
        header=",".join(rules.HEADER),
        start=rules.CONVENTION_START,
    )


def file_refused(*, old_excel: bool, too_large: bool, size: int) -> str:
    """A file refused before it is read (not downloaded at all)."""
    limit = size_fr(MAX_FILE_BYTES)
    return render(
        "caf_import_file_refused",
        old_excel=old_excel,
        too_large=too_large,
        size=size_fr(size),
        limit=limit,
    )


def file_hint() -> str:
    """A text where the file is expected."""
    return render("caf_import_hint", waiting=False)


def waiting_hint() -> str:
    """A text while the preview waits for « ✅ Importer » or « ✖️ Annuler »."""
    return render("caf_import_hint", waiting=True)


def preview(caf: Caf, shown: Preview) -> Reply:
    """The file's sites and « ✅ Importer », or every problem found, by line."""
    table = shown.table
    if not table.ok:
        return errors(table.errors, after_preview=False), None
    text = render(
        "caf_import_preview",
        caf=caf,
        count=len(table.rows),
        first=table.rows[:PREVIEW_SITES],
        existing=shown.existing,
    )
    markup = InlineKeyboardMarkup(
        [
            [
                _button("✅ Importer", CafOp.CONFIRM, shown.file_message),
                _button("✖️ Annuler", CafOp.CANCEL, shown.file_message),
            ]
        ]
    )
    return text, markup


def errors(found: tuple[RowError, ...], *, after_preview: bool) -> str:
    lines = [_capitalised(error.located()) for error in found[:ERRORS_SHOWN]]
    return render(
        "caf_import_errors",
        lines=lines,
        count=len(found),
        more=len(found) - len(lines),
        after_preview=after_preview,
    )


def imported(caf: Caf, done: Imported, total: int) -> Reply:
    """After « ✅ Importer »: what was added, or (a site added meanwhile) why nothing was."""
    if done.refused:
        return errors(done.refused, after_preview=True), None
    text = render("caf_import_done", caf=caf, added=len(done.added), total=total)
    network = InlineKeyboardButton(
        "🏢 Réseau", callback_data=callbacks.encode(NetworkTap("home", 0, 0))
    )
    return text, InlineKeyboardMarkup([[network, _button("⚙️ Ma Caf", CafOp.HOME)]])


def import_cancelled() -> str:
    return render("caf_import_cancelled")


# ------------------------------------------------------------------------------ settings
def period(caf: Caf) -> Reply:
    rows = [
        [
            _button(
                ("✅ " if choice is caf.reporting_period else "") + choice.label.capitalize(),
                CafOp.SET_PERIOD,
                index,
            )
        ]
        for index, choice in enumerate(PERIODS)
    ]
    rows.append([_button("⬅️ Retour", CafOp.HOME)])
    return render("caf_period", caf=caf), InlineKeyboardMarkup(rows)


def period_saved(caf: Caf) -> str:
    return render("caf_settings_saved", what="period", caf=caf)


def group(caf: Caf) -> Reply:
    rows = [[_button("✏️ Indiquer le groupe", CafOp.GROUP_ASK)]]
    if caf.notify_chat_id is not None:
        rows.append([_button("🗑 Retirer le groupe", CafOp.GROUP_CLEAR)])
    rows.append([_button("⬅️ Retour", CafOp.HOME)])
    return render("caf_group", caf=caf), InlineKeyboardMarkup(rows)


def group_prompt() -> str:
    return render("caf_group_ask")


def group_problem(problem: str) -> str:
    """`problem`: "not_an_id", "not_found" (the bot is no member) or "private"."""
    return render("caf_group_problem", problem=problem)


def group_saved(caf: Caf, title: str) -> str:
    return render("caf_settings_saved", what="group", caf=caf, title=title)


def group_cleared(caf: Caf) -> str:
    return render("caf_settings_saved", what="no_group", caf=caf)


def city(caf: Caf) -> Reply:
    """Where the Caf's label certificates are « Fait à », and the buttons to change it."""
    rows = [[_button("✏️ Indiquer la ville", CafOp.CITY_ASK)]]
    if caf.city:
        rows.append([_button("🗑 Retirer la ville", CafOp.CITY_CLEAR)])
    rows.append([_button("⬅️ Retour", CafOp.HOME)])
    return render("caf_city", caf=caf), InlineKeyboardMarkup(rows)


def city_prompt(max_length: int, *, refused: bool = False) -> str:
    """The question, or after a refusal (empty, too long, several lines) the question again."""
    return render("caf_city_ask", max_length=max_length, refused=refused)


def city_saved(caf: Caf) -> str:
    return render("caf_settings_saved", what="city" if caf.city else "no_city", caf=caf)


def settings_notice(
    caf: Caf,
    by: Person | None,
    *,
    period: bool = False,
    notify_chat: bool = False,
    timezone: bool = False,
    name: bool = False,
    logo: bool = False,
    city: bool = False,
) -> str:
    """To the Caf's coordinators (and its group): which settings changed, and to what."""
    return render(
        "caf_settings_notice",
        caf=caf,
        by=by,
        period=period,
        notify_chat=notify_chat,
        timezone=timezone,
        name=name,
        logo=logo,
        city=city,
    )


# ------------------------------------------------------------------------------ directory
# A document's caption holds 1,024 characters: the sites left out are named up to this.
LEFT_OUT_CHARS = 400


def directory_caption(caf: Caf, made: DirectoryFile) -> str:
    named: list[str] = []
    for title in made.left_out:
        if sum(len(t) + 2 for t in (*named, title)) > LEFT_OUT_CHARS:
            break
        named.append(title)
    more = len(made.left_out) - len(named)
    return render("caf_directory_file", caf=caf, made=made, named=named, more=more)


# ------------------------------------------------------------------------------ helpers
def size_fr(size: int) -> str:
    """« 850 ko », « 1,5 Mo » (1 Mo = 1 000 000 octets), rounded up: a file just over a
    limit never reads as the limit itself."""
    if size < 1_000_000:
        return f"{formatting.number_fr(max(1, math.ceil(size / 1000)))} ko"
    tenths = math.ceil(size / 100_000)
    return f"{formatting.number_fr(tenths / 10, 1).removesuffix(',0')} Mo"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
