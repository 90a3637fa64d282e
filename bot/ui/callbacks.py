"""The callback-data codec: typed buttons in, strict parsing out.

Telegram gives `callback_data` back as a client sends it, so it is never trusted: `decode`
accepts exactly the canonical strings `encode` produces (`decode(s)` succeeds only when
`encode(decode(s)) == s`), checks every field's shape, and the handlers then check that the
objects named belong to the person tapping. Every payload fits Telegram's 64 bytes.

Wire form: `prefix:field:field…`, ASCII only. Integers are decimal without leading zeros;
codes are `[a-z0-9_]`, 1 to 24 characters.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, ClassVar, TypeVar, get_type_hints

MAX_BYTES = 64
MAX_INT = 10**12 - 1
_INT = re.compile(r"^(0|[1-9][0-9]{0,11})$")
_CODE = re.compile(r"^[a-z0-9_]{1,24}$")
_PREFIX = re.compile(r"^[a-z]{1,3}$")


class BadCallback(ValueError):
    """Callback data that is not one of ours (forged, truncated, from an older version)."""


@dataclasses.dataclass(frozen=True)
class Callback:
    """Base of every button payload; subclasses set PREFIX and declare int/str fields."""

    PREFIX: ClassVar[str] = ""


_REGISTRY: dict[str, type[Callback]] = {}
_FIELDS: dict[type[Callback], list[tuple[str, type]]] = {}
C = TypeVar("C", bound=type[Callback])


def register(cls: C) -> C:
    """Class decorator: makes a Callback subclass encodable and decodable."""
    if not _PREFIX.fullmatch(cls.PREFIX) or cls.PREFIX in _REGISTRY:
        raise ValueError(f"bad or duplicate callback prefix {cls.PREFIX!r}")
    hints = get_type_hints(cls)
    fields = [(f.name, hints[f.name]) for f in dataclasses.fields(cls)]
    if any(kind not in (int, str) for _, kind in fields):
        raise TypeError(f"{cls.__name__}: callback fields must be int or str")
    _REGISTRY[cls.PREFIX] = cls
    _FIELDS[cls] = fields
    return cls


def encode(payload: Callback) -> str:
    cls = type(payload)
    if cls not in _FIELDS:
        raise TypeError(f"{cls.__name__} is not a registered callback")
    parts = [cls.PREFIX]
    for name, kind in _FIELDS[cls]:
        value = getattr(payload, name)
        if kind is int:
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_INT:
                raise ValueError(f"{cls.__name__}.{name}: integer out of range: {value!r}")
            parts.append(str(value))
        else:
            if not isinstance(value, str) or not _CODE.fullmatch(value):
                raise ValueError(f"{cls.__name__}.{name}: bad code {value!r}")
            parts.append(value)
    data = ":".join(parts)
    if len(data.encode("ascii")) > MAX_BYTES:
        raise ValueError(f"callback data too long ({len(data)} bytes): {data}")
    return data


def decode(
    data: object, *, expect: type[Callback] | tuple[type[Callback], ...] | None = None
) -> Any:
    """Parses callback data into its payload, or raises BadCallback."""
    if not isinstance(data, str) or not data or len(data) > MAX_BYTES or not data.isascii():
        raise BadCallback("not a callback of ours")
    prefix, *values = data.split(":")
    cls = _REGISTRY.get(prefix)
    if cls is None:
        raise BadCallback(f"unknown prefix {prefix!r}")
    if expect is not None and not issubclass(cls, expect):
        raise BadCallback(f"unexpected callback {prefix!r}")
    fields = _FIELDS[cls]
    if len(values) != len(fields):
        raise BadCallback("wrong number of fields")
    kwargs: dict[str, Any] = {}
    for (name, kind), value in zip(fields, values, strict=True):
        if kind is int:
            if not _INT.fullmatch(value):
                raise BadCallback(f"{name}: not an integer")
            kwargs[name] = int(value)
        else:
            if not _CODE.fullmatch(value):
                raise BadCallback(f"{name}: not a code")
            kwargs[name] = value
    return cls(**kwargs)


def prefixes() -> dict[str, type[Callback]]:
    return dict(_REGISTRY)


# ---------------------------------------------------------------------------------------------
# The payloads. One class per kind of button; the handler that serves it names it in `expect`.


@register
@dataclasses.dataclass(frozen=True)
class VisitStep(Callback):
    """A tap inside a visit being logged: `op` on draft `draft` seen at `revision`."""

    PREFIX: ClassVar[str] = "v"
    draft: int
    revision: int
    op: str
    value: str


@register
@dataclasses.dataclass(frozen=True)
class SavedVisit(Callback):
    """A tap under a saved visit's confirmation: undo or modify."""

    PREFIX: ClassVar[str] = "sv"
    visit: int
    op: str


@register
@dataclasses.dataclass(frozen=True)
class MenuTap(Callback):
    """An inline shortcut to a main-menu entry (e.g. "start a fresh visit" after expiry)."""

    PREFIX: ClassVar[str] = "m"
    entry: str


@register
@dataclasses.dataclass(frozen=True)
class NetworkTap(Callback):
    """A coordinator's (or a manager's) screen of the network: `op` on `target`, `page`."""

    PREFIX: ClassVar[str] = "n"
    op: str
    target: int
    page: int


@register
@dataclasses.dataclass(frozen=True)
class SignalTap(Callback):
    """📣 Signaler (agents, managers): `op` with a signal or closure id and two codes."""

    PREFIX: ClassVar[str] = "sg"
    op: str
    ref: int
    a: str
    b: str


@register
@dataclasses.dataclass(frozen=True)
class HoursTap(Callback):
    """🕘 Horaires et fermetures (managers): `op` with up to three numbers (days as yyyymmdd)."""

    PREFIX: ClassVar[str] = "h"
    op: str
    a: int
    b: int
    c: int


@register
@dataclasses.dataclass(frozen=True)
class InboxTap(Callback):
    """📥 Signalements (coordinators): `op` on signal `item`, the list's filters and page."""

    PREFIX: ClassVar[str] = "ib"
    op: str
    item: int
    kind: str
    partner: int
    page: int


@register
@dataclasses.dataclass(frozen=True)
class DocTap(Callback):
    """📚 Documentation: open, add, move or remove item `item`; `page` of the list."""

    PREFIX: ClassVar[str] = "d"
    op: str
    item: int
    page: int


@register
@dataclasses.dataclass(frozen=True)
class BroadcastTap(Callback):
    """📢 Diffuser (coordinators): `op` on announcement `item` with one number `value`."""

    PREFIX: ClassVar[str] = "b"
    op: str
    item: int
    value: int


@register
@dataclasses.dataclass(frozen=True)
class ReadTap(Callback):
    """« J'ai lu » under a must-read notice."""

    PREFIX: ClassVar[str] = "rd"
    announcement: int


@register
@dataclasses.dataclass(frozen=True)
class EventTap(Callback):
    """📅 Événements (coordinators): `op` on event `item` with one number `value`."""

    PREFIX: ClassVar[str] = "e"
    op: str
    item: int
    value: int


@register
@dataclasses.dataclass(frozen=True)
class RsvpTap(Callback):
    """« Je participe » / « Je ne peux pas » under an invitation: `answer` is yes or no."""

    PREFIX: ClassVar[str] = "r"
    event: int
    answer: str


@register
@dataclasses.dataclass(frozen=True)
class IndicatorTap(Callback):
    """📈 Indicateurs: `op` for site `partner` (0: the whole Caf) and period `period` (an index)."""

    PREFIX: ClassVar[str] = "ix"
    op: str
    partner: int
    period: int


@register
@dataclasses.dataclass(frozen=True)
class TransmitTap(Callback):
    """« Je valide et transmets » under a period's summary: `op` on period report `report`."""

    PREFIX: ClassVar[str] = "tr"
    op: str
    report: int


@register
@dataclasses.dataclass(frozen=True)
class ComplianceTap(Callback):
    """✅ Conformité (coordinators): `op` on site `item`, list page `page`."""

    PREFIX: ClassVar[str] = "cf"
    op: str
    item: int
    page: int


@register
@dataclasses.dataclass(frozen=True)
class ReviewTap(Callback):
    """🏛 Visite annuelle (coordinators): `op` on `item` (a site, a review or an action item)."""

    PREFIX: ClassVar[str] = "yv"
    op: str
    item: int
    value: int


@register
@dataclasses.dataclass(frozen=True)
class PersonalDataTap(Callback):
    """/mesdonnees and erasure: `op` ("dl": download one's own data; "erase": a coordinator
    erases person `person`, `step` 0 asks, 1 confirms)."""

    PREFIX: ClassVar[str] = "pd"
    op: str
    person: int
    step: int


@register
@dataclasses.dataclass(frozen=True)
class MyVisitsTap(Callback):
    """🗂 Mes visites: `op` ("list", "open", "del"; "topen" and "tdel" for a training visit,
    which lives in a table of its own) on one's visit `visit`, from page `page` of the list."""

    PREFIX: ClassVar[str] = "mv"
    op: str
    visit: int
    page: int


@register
@dataclasses.dataclass(frozen=True)
class NewsTap(Callback):
    """📰 Actualités (agents, managers): `op` on `item` (a broadcast or an event they got),
    from page `page` of the list."""

    PREFIX: ClassVar[str] = "nw"
    op: str
    item: int
    page: int


@register
@dataclasses.dataclass(frozen=True)
class SiteHoursTap(Callback):
    """🕘 Horaires du site (coordinators, from 🏢 Réseau): an `HoursTap` for site `site`."""

    PREFIX: ClassVar[str] = "hs"
    op: str
    site: int
    a: int
    b: int
    c: int


@register
@dataclasses.dataclass(frozen=True)
class CafSettingsTap(Callback):
    """⚙️ Ma Caf (coordinators): `op` with one number `value` (a file's message, a choice)."""

    PREFIX: ClassVar[str] = "cs"
    op: str
    value: int


@register
@dataclasses.dataclass(frozen=True)
class WorkSiteTap(Callback):
    """📍 The site a person of several sites works at now: `partner`, then the menu entry
    `entry` they had asked for (its key; "site" when they only switch)."""

    PREFIX: ClassVar[str] = "ws"
    partner: int
    entry: str


@register
@dataclasses.dataclass(frozen=True)
class LinkTap(Callback):
    """🔗 Liens d'invitation: `op` on link `item`, in the list of site `site` (0: the whole
    Caf's, coordinators only), page `page`."""

    PREFIX: ClassVar[str] = "lk"
    op: str
    site: int
    item: int
    page: int


@register
@dataclasses.dataclass(frozen=True)
class SecrecyTap(Callback):
    """🔏 Article 5: `op` on the statement of professional secrecy in `version`."""

    PREFIX: ClassVar[str] = "sec"
    op: str
    version: int


@register
@dataclasses.dataclass(frozen=True)
class TerminationTap(Callback):
    """📄 Dénoncer la convention (Article 11): `op` on site `partner`; `item`, the notice."""

    PREFIX: ClassVar[str] = "dn"
    op: str
    partner: int
    item: int


@register
@dataclasses.dataclass(frozen=True)
class FormationTap(Callback):
    """🎓 Formations (coordinators): `op` on the training history of person `person`."""

    PREFIX: ClassVar[str] = "fm"
    op: str
    person: int
    page: int
    training: int = 0  # the line removed (`ask_rm`, `rm`); 0 otherwise


@register
@dataclasses.dataclass(frozen=True)
class EquipmentTap(Callback):
    """💻 Équipement du site (Article 8): `op` on site `partner`'s list; `item`, its place."""

    PREFIX: ClassVar[str] = "eq"
    op: str
    partner: int
    item: int
