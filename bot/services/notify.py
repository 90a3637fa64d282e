"""Who is told what, through the outbox, in the caller's transaction.

A Caf's notification chat (a Telegram group, read-only) receives a copy of every message
sent to that Caf's coordinators (DESIGN §1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.domain.models import Caf, Person
from bot.domain.permissions import Role
from storage import outbox, people
from storage.db import Tx

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


class Recipient(Protocol):
    """Someone a message is queued for: a person, an event's guest, a notice's reader."""

    @property
    def person_id(self) -> int: ...

    @property
    def telegram_user_id(self) -> int | None: ...


R = TypeVar("R", bound=Recipient)


async def to_person(
    tx: Tx,
    person: Person,
    *,
    kind: str,
    key: str,
    text: str,
    now: datetime,
    markup: Markup | None = None,
    attachment: Mapping[str, Any] | None = None,
) -> bool:
    """`attachment`: a file's outbox fields (`media_kind`, `media`, `media_name`)."""
    if person.telegram_user_id is None:  # erased: nobody to tell
        return False
    return await outbox.enqueue(
        tx,
        kind=kind,
        dedup_key=key,
        chat_id=person.telegram_user_id,
        text=text,
        person_id=person.id,
        reply_markup=markup.to_dict() if markup else None,
        now=now,
        **(attachment or {}),
    )


async def to_each(
    tx: Tx,
    recipients: Iterable[R],
    *,
    kind: str,
    key: str,
    text: str,
    now: datetime,
    markup: str | None = None,
    attachment: Callable[[R], Mapping[str, Any]] | None = None,
) -> int:
    """The same message to each recipient who can be reached, keyed `key:p<person id>`, in
    one write (an event's guests, a notice's readers); `attachment` gives a recipient's file
    fields, if any. Returns how many were queued."""
    return await outbox.enqueue_many(
        tx,
        (
            outbox.OutboxItem(
                kind=kind,
                dedup_key=f"{key}:p{r.person_id}",
                chat_id=r.telegram_user_id,
                person_id=r.person_id,
                text=text,
                reply_markup=markup,
                **attachment(r) if attachment else {},
            )
            for r in recipients
            if r.telegram_user_id is not None
        ),
        now,
    )


async def to_coordinators(
    tx: Tx,
    caf: Caf,
    *,
    kind: str,
    key: str,
    text: str,
    now: datetime,
    exclude_person_id: int | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> int:
    """Every active coordinator of the Caf (but the one acting), and the Caf's group.

    The group's copy has no buttons: it is read-only, the work is done in private chats.
    """
    sent = 0
    for coordinator in await people.list_for_caf(tx, caf.id, role=Role.COORDINATOR):
        if coordinator.id != exclude_person_id:
            sent += await to_person(
                tx,
                coordinator,
                kind=kind,
                key=f"{key}:p{coordinator.id}",
                text=text,
                now=now,
                markup=markup,
            )
    if caf.notify_chat_id is not None:
        sent += await outbox.enqueue(
            tx, kind=kind, dedup_key=f"{key}:chat", chat_id=caf.notify_chat_id, text=text, now=now
        )
    return sent


async def to_site(
    tx: Tx,
    partner_id: int,
    *,
    kind: str,
    key: str,
    text: str,
    now: datetime,
    exclude_person_id: int | None = None,
    managers_only: bool = False,
) -> int:
    """Every active person of the site (or only its managers) but the one acting."""
    sent = 0
    for person in await people.list_for_partner(tx, partner_id):
        if managers_only and person.role is not Role.MANAGER:
            continue
        if person.id != exclude_person_id:
            sent += await to_person(
                tx, person, kind=kind, key=f"{key}:p{person.id}", text=text, now=now
            )
    return sent
