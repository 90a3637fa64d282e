"""What partners signal to their Caf (Article 4) and how the Caf works each signal.

Kinds, categories, urgencies and closure reasons are data, defined once here: the buttons,
the inbox filters, the stored codes and the directory export all derive from these lists.
The life of a signal is a small state machine::

    open --acknowledge--> acknowledged --resolve--> resolved
      |        \\--reply (acknowledges too)--^           (final)
      '--resolve------------------------------------------^

A signal left unacknowledged for more than 3 working days is overdue: the inbox shows it
first and highlighted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.domain.calendar import working_days_between
from bot.domain.labelled import Labelled
from bot.domain.models import Model

ACK_DEADLINE_WORKING_DAYS = 3
DESCRIPTION_MAX = 1000
NOTE_MAX = 500


class SignalKind(Labelled):
    HOURS = "hours", "Horaires", "🕘"
    CLOSURE = "closure", "Fermeture", "🚪"
    TRAINING = "training", "Besoin de formation", "🎓"
    DIFFICULTY = "difficulty", "Difficulté", "⚠️"
    LABEL_RISK = "label_risk", "Label à risque", "🚨"


class SignalStatus(Labelled):
    OPEN = "open", "reçu"
    ACKNOWLEDGED = "acknowledged", "pris en charge"
    RESOLVED = "resolved", "traité"


class Op(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    REPLY = "reply"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


TRAINING_TOPICS: tuple[Choice, ...] = (
    Choice("nouvel_agent", "Nouvel agent à former"),
    Choice("teleprocedures", "Téléprocédures"),
    Choice("prestation", "Une prestation (RSA, prime d'activité, aides au logement…)"),
    Choice("mon_compte", "Mon Compte (espace personnel)"),
    Choice("visio", "Rendez-vous en visio"),
    Choice("autre", "Autre"),
)
NEW_AGENT_TOPIC = "nouvel_agent"

DIFFICULTY_CATEGORIES: tuple[Choice, ...] = (
    Choice("teleprocedure", "Une téléprocédure"),
    Choice("prestation", "Comprendre une prestation"),
    Choice("mon_compte", "Mon Compte, connexion"),
    Choice("materiel", "Matériel (poste, imprimante, réseau)"),
    Choice("autre", "Autre"),
)

URGENCIES: tuple[Choice, ...] = (
    Choice("faible", "Peut attendre"),
    Choice("normale", "Normale"),
    Choice("haute", "Urgente : le public est bloqué"),
)

CLOSURE_REASONS: tuple[Choice, ...] = (
    Choice("conges", "Congés, pont"),
    Choice("absence", "Agent absent"),
    Choice("panne", "Panne (informatique, réseau)"),
    Choice("travaux", "Travaux, locaux"),
    Choice("evenement", "Événement local"),
    Choice("autre", "Autre raison"),
)

CATEGORIES: dict[SignalKind, tuple[Choice, ...]] = {
    SignalKind.TRAINING: TRAINING_TOPICS,
    SignalKind.DIFFICULTY: DIFFICULTY_CATEGORIES,
    SignalKind.CLOSURE: CLOSURE_REASONS,
}


def label_of(choices: tuple[Choice, ...], code: str | None) -> str:
    """The French label of a stored code (the code itself if a later version dropped it)."""
    for choice in choices:
        if choice.code == code:
            return choice.label
    return code or ""


def is_code(choices: tuple[Choice, ...], code: str) -> bool:
    return any(choice.code == code for choice in choices)


class SignalError(Exception):
    """A step that the signal's state does not allow; the message is French."""


def after(status: SignalStatus, op: Op) -> SignalStatus:
    """The status once `op` is applied, or SignalError saying why it cannot be."""
    if status is SignalStatus.RESOLVED:
        raise SignalError("Ce signalement est déjà traité et clos.")
    if op is Op.ACKNOWLEDGE:
        if status is SignalStatus.ACKNOWLEDGED:
            raise SignalError("Ce signalement est déjà pris en charge.")
        return SignalStatus.ACKNOWLEDGED
    if op is Op.REPLY:
        return SignalStatus.ACKNOWLEDGED
    return SignalStatus.RESOLVED


def working_days_waiting(created: date, today: date) -> int:
    return max(0, working_days_between(created, today))


def is_overdue(status: SignalStatus, created: date, today: date) -> bool:
    """Unacknowledged for more than ACK_DEADLINE_WORKING_DAYS working days."""
    return (
        status is SignalStatus.OPEN
        and working_days_waiting(created, today) > ACK_DEADLINE_WORKING_DAYS
    )


class Signal(Model):
    """A signal as stored, with its site's and its reporter's names."""

    id: int
    caf_id: int
    partner_id: int
    kind: SignalKind
    reporter_id: int | None
    category: str | None
    urgency: str | None
    description: str | None
    ref_id: int | None
    status: SignalStatus
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: int | None
    resolved_at: datetime | None
    resolved_by: int | None
    resolution: str | None
    partner_name: str
    partner_city: str
    reporter_name: str | None

    @property
    def site(self) -> str:
        return (
            f"{self.partner_name} ({self.partner_city})" if self.partner_city else self.partner_name
        )


class SignalMessage(Model):
    """One message of the exchange between the site and the Caf about a signal."""

    id: int
    signal_id: int
    author_id: int | None
    from_caf: bool
    body: str
    at: datetime
    author_name: str | None
