"""/mesdonnees and erasure: the summary with its download, and a coordinator's erasure."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove

from bot.domain.models import Caf, Member, Person
from bot.domain.personal_data import Summary, erased_name
from bot.ui import callbacks
from bot.ui.callbacks import NetworkTap, PersonalDataTap
from bot.ui.render import render
from bot.ui.screens import Screen, question


class PersonalDataOp(StrEnum):
    DOWNLOAD = "dl"  # one's own data, as a file
    ERASE = "erase"  # a coordinator erases a person: step 0 asks, 1 confirms


ERASED = "Données effacées."


def already_erased() -> str:
    return render("erase_already")


def _button(label: str, payload: callbacks.Callback) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(payload))


def stranger(failures: list[datetime], tz: ZoneInfo) -> str:
    """Nothing about them, but the wrong invitation codes their account sent lately."""
    return render("mydata_stranger", failures=failures, tz=tz, refusal="stranger")


def summary(member: Member, found: Summary, months: int) -> Screen:
    """What the bot holds about the person, with « 📥 Télécharger »."""
    text = render(
        "mydata_summary",
        member=member,
        summary=found,
        tz=ZoneInfo(member.caf.timezone),
        months=months,
    )
    download = PersonalDataTap(PersonalDataOp.DOWNLOAD, 0, 0)
    return text, InlineKeyboardMarkup([[_button("📥 Télécharger", download)]])


def file_caption(day: date) -> str:
    return render("mydata_file", day=day)


def erase_confirm(person: Person) -> Screen:
    yes = _button(
        "🗑 Oui, effacer définitivement", PersonalDataTap(PersonalDataOp.ERASE, person.id, 1)
    )
    no = _button("✖️ Non", NetworkTap("person", person.id, 0))
    return question(render("erase_confirm", person=person), yes, no)


def erased(person: Person) -> Screen:
    """Done: the card's new name, and back to the site's people (or the coordination)."""
    back = (
        NetworkTap("people", person.partner_id, 0)
        if person.partner_id
        else NetworkTap("coords", 0, 0)
    )
    text = render("erase_done", name=erased_name(person.id), role=person.role)
    return text, InlineKeyboardMarkup([[_button("⬅️ Retour", back)]])


def erase_notice(caf: Caf) -> tuple[str, ReplyKeyboardRemove]:
    """What the erased person is told, once; their keyboard goes with it."""
    return render("erase_notice", caf=caf), ReplyKeyboardRemove()
