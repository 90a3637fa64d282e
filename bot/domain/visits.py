"""A visit being logged: its answers, where the agent is, and what each tap does.

Pure: the draft is a value; `apply` returns a new draft or raises `InvalidAnswer`. The step to
show is derived from the answers (the first thing missing), so a draft stored as JSON and
read back after a restart is exactly where the agent left it. Nothing here can hold text
about the visitor: every answer is a code of the Annexe 2 taxonomy.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from bot.domain import taxonomy as tx

HISTORY_LIMIT = 40
EARLIEST_HOUR = 7
LATEST_HOUR = 21
# A visit may be logged late for today and the 6 days before (a Monday reaches back to the
# Tuesday before, so the days of a weekend's closure are never lost); never earlier.
LATE_DAYS = 7
TOO_EARLY = (
    "Une visite ne peut être enregistrée que pour les 7 derniers jours, aujourd'hui compris."
)


class Step(StrEnum):
    SEXE = "sexe"
    AGE = "age"
    STATUT = "statut"
    AUTONOMIE = "autonomie"
    DEMANDE = "demande"
    ACTION = "action"
    THEME = "theme"
    RESOLUTION = "resolution"
    WHEN = "when"
    HOUR = "hour"
    REVIEW = "review"  # editing a saved visit: every answer given, waiting for "save"
    DONE = "done"  # a new visit with every answer: the handler saves it


QUESTION_OF_STEP: dict[Step, tx.Question] = {
    Step.SEXE: tx.SEXE,
    Step.AGE: tx.AGE,
    Step.STATUT: tx.STATUT,
    Step.AUTONOMIE: tx.AUTONOMIE,
    Step.DEMANDE: tx.DEMANDE,
    Step.ACTION: tx.ACTION,
    Step.THEME: tx.THEME,
    Step.RESOLUTION: tx.RESOLUTION,
}


class Op(StrEnum):
    """What a button does (the `op` of its callback data)."""

    ANSWER = "a"
    SAME_PROFILE = "same"
    ADD = "add"  # value: demande | action | theme
    SKIP_THEMES = "skip"
    WHEN = "when"  # open the date picker
    DAY = "day"  # value: now | a day of the last LATE_DAYS as YYYYMMDD (`day_code`)
    BACK = "back"
    SECTION = "sect"  # value: profile | demandes | themes | resolution | when (edit mode)
    SAVE = "save"  # edit mode: save the changes
    NOOP = "noop"  # a heading button
    # Handled by the flow, not by `apply`: they end or replace the draft.
    QUIT = "quit"  # abandon the draft
    RESUME = "resume"  # continue a draft found open when starting a new visit
    RESTART = "restart"  # abandon that draft and start afresh


class InvalidAnswer(ValueError):
    """The tap does not fit the draft's current step; the message is French, for the person."""


class RequestAnswer(BaseModel):
    demande: str
    actions: list[str] = Field(default_factory=list)


class Profile(BaseModel):
    sexe: str
    age: str | None
    statut: str
    autonomie: str


class Answers(BaseModel):
    """What the agent answered; nothing else about the visit is ever recorded."""

    sexe: str | None = None
    age: str | None = None
    statut: str | None = None
    autonomie: str | None = None
    requests: list[RequestAnswer] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list)
    themes_done: bool = False
    resolution: str | None = None
    # The visit's time: None = when it is saved; else a local day (in the Caf's zone) and
    # hour. The day is a date, not an offset: a day chosen before midnight stays that day.
    day: date | None = None
    hour: int | None = None
    # A saved visit being modified keeps its own time unless the agent changes it.
    fixed_at: datetime | None = None


def _copy(answers: Answers) -> Answers:
    """Answers that can be changed without changing `answers`. Drafts share their history's
    entries, which are never changed in place: `model_copy(deep=True)` of a whole draft,
    history included, was a fifth of a tap's own time (benchmarks/README.md, throughput)."""
    requests = [r.model_copy(update={"actions": list(r.actions)}) for r in answers.requests]
    return answers.model_copy(update={"requests": requests, "themes": list(answers.themes)})


class Draft(BaseModel):
    answers: Answers = Field(default_factory=Answers)
    adding: Literal["demande", "action", "theme"] | None = None
    picking: Literal["day", "hour"] | None = None
    editing: bool = False
    # The answers before each step, for "⬅️ Retour". Only plain questions are kept: a picker
    # or an "➕" left with "Retour" returns to where it was opened, in one tap.
    history: list[Answers] = Field(default_factory=list)

    # ------------------------------------------------------------------ derived state
    @property
    def step(self) -> Step:
        if self.picking == "day":
            return Step.WHEN
        if self.picking == "hour":
            return Step.HOUR
        if self.adding == "demande":
            return Step.DEMANDE
        if self.adding == "action":
            return Step.ACTION
        if self.adding == "theme":
            return Step.THEME
        return first_missing(self.answers) or (Step.REVIEW if self.editing else Step.DONE)

    @property
    def complete(self) -> bool:
        return first_missing(self.answers) is None

    @property
    def profile_given(self) -> bool:
        a = self.answers
        return any(v is not None for v in (a.sexe, a.age, a.statut, a.autonomie))

    # ------------------------------------------------------------------ transitions
    def apply(
        self,
        op: str,
        value: str,
        *,
        previous_profile: Profile | None = None,
        now_local: datetime | None = None,
    ) -> Draft:
        """The draft after one tap. Raises InvalidAnswer when the tap does not fit."""
        if op == Op.NOOP:
            return self
        if op == Op.BACK:
            return self._back()
        # The new draft's answers are changed in place below, its history only replaced.
        new = self.model_copy(update={"answers": _copy(self.answers), "history": self.history})
        if self.adding is None and self.picking is None:
            new.history = [*self.history, _copy(self.answers)][-HISTORY_LIMIT:]
        a = new.answers
        step = self.step
        if op == Op.ANSWER:
            new._answer(step, value, now_local)
        elif op == Op.SAME_PROFILE:
            if step is not Step.SEXE or previous_profile is None:
                raise InvalidAnswer("Aucune visite précédente dont reprendre le profil.")
            a.sexe, a.age = previous_profile.sexe, previous_profile.age
            a.statut, a.autonomie = previous_profile.statut, previous_profile.autonomie
        elif op == Op.ADD:
            new._start_adding(value)
        elif op == Op.SKIP_THEMES:
            if step is not Step.THEME:
                raise InvalidAnswer("Ce choix n'est plus proposé.")
            new.adding = None
            a.themes_done = True
        elif op == Op.WHEN:
            new.picking = "day"
        elif op == Op.DAY:
            new._choose_day(value, now_local)
        elif op == Op.SECTION:
            new._reopen(value)
        else:
            raise InvalidAnswer("Ce bouton n'est pas reconnu.")
        if new.adding is None and new.picking is None and new.history[-1:] == [new.answers]:
            # Nothing changed (e.g. "⏱ Maintenant" right after opening the picker): no step
            # to go back to.
            new.history = new.history[:-1]
        return new

    def _back(self) -> Draft:
        if not self.history:
            raise InvalidAnswer("Vous êtes déjà à la première question.")
        return self.model_copy(
            update={
                "answers": _copy(self.history[-1]),
                "history": self.history[:-1],
                "adding": None,
                "picking": None,
            }
        )

    def _answer(self, step: Step, value: str, now_local: datetime | None) -> None:
        a = self.answers
        if step is Step.HOUR:
            self._choose_hour(value, now_local)
            return
        question = QUESTION_OF_STEP.get(step)
        if question is None or value not in question.codes:
            raise InvalidAnswer("Ce choix ne correspond pas à la question posée.")
        if step is Step.SEXE:
            a.sexe = value
            if not tx.asks_age(value):
                a.age = None
        elif step is Step.AGE:
            a.age = value
        elif step is Step.STATUT:
            a.statut = value
        elif step is Step.AUTONOMIE:
            a.autonomie = value
        elif step is Step.DEMANDE:
            if any(r.demande == value for r in a.requests):
                raise InvalidAnswer("Cette demande est déjà dans la visite.")
            a.requests.append(RequestAnswer(demande=value))
            self.adding = None
        elif step is Step.ACTION:
            current = a.requests[-1]
            if value in current.actions:
                raise InvalidAnswer("Cette action est déjà notée pour cette demande.")
            current.actions.append(value)
            self.adding = None
        elif step is Step.THEME:
            if value in a.themes:
                raise InvalidAnswer("Cette thématique est déjà notée.")
            a.themes.append(value)
            a.themes_done = True
            self.adding = None
        elif step is Step.RESOLUTION:
            a.resolution = value

    def _start_adding(self, what: str) -> None:
        a = self.answers
        if what == "demande" and a.requests and a.requests[-1].actions:
            self.adding = "demande"
        elif what == "action" and a.requests and a.requests[-1].actions:
            if len(a.requests[-1].actions) >= len(tx.ACTION.options):
                raise InvalidAnswer("Toutes les actions sont déjà notées pour cette demande.")
            self.adding = "action"
        elif what == "theme" and a.themes_done:
            if len(a.themes) >= len(tx.THEME.options):
                raise InvalidAnswer("Toutes les thématiques sont déjà notées.")
            self.adding = "theme"
        else:
            raise InvalidAnswer("Ce choix n'est plus proposé.")

    def _choose_day(self, value: str, now_local: datetime | None) -> None:
        a = self.answers
        if self.picking != "day":
            raise InvalidAnswer("Ce choix n'est plus proposé.")
        if value == "now":
            a.day, a.hour, a.fixed_at, self.picking = None, None, None, None
            return
        day = parse_day_code(value)
        if day is None or now_local is None:
            raise InvalidAnswer("Ce choix n'est plus proposé.")
        # Checked here, whatever the buttons showed: a forged or a days-old button is refused.
        if day not in day_choices(now_local):
            raise InvalidAnswer(TOO_EARLY)
        a.day, a.hour = day, None
        self.picking = "hour"

    def _choose_hour(self, value: str, now_local: datetime | None) -> None:
        a = self.answers
        if a.day is None or not value.isdigit():
            raise InvalidAnswer("Ce choix n'est plus proposé.")
        if now_local is not None and a.day not in day_choices(now_local):
            raise InvalidAnswer(TOO_EARLY)  # chosen before midnight, now out of the window
        hour = int(value)
        if hour not in hour_choices(a.day, now_local):
            raise InvalidAnswer("Cette heure n'est pas possible : choisissez une heure passée.")
        a.hour = hour
        self.picking = None

    def _reopen(self, section: str) -> None:
        """Edit mode: clears one part of the visit so its questions are asked again."""
        a = self.answers
        if not self.editing:
            raise InvalidAnswer("Ce choix n'est plus proposé.")
        if section == "profile":
            a.sexe = a.age = a.statut = a.autonomie = None
        elif section == "demandes":
            a.requests = []
        elif section == "themes":
            a.themes, a.themes_done = [], False
        elif section == "resolution":
            a.resolution = None
        elif section == "when":
            self.picking = "day"
        else:
            raise InvalidAnswer("Ce choix n'est plus proposé.")


def first_missing(a: Answers) -> Step | None:
    if a.sexe is None:
        return Step.SEXE
    if tx.asks_age(a.sexe) and a.age is None:
        return Step.AGE
    if a.statut is None:
        return Step.STATUT
    if a.autonomie is None:
        return Step.AUTONOMIE
    if not a.requests:
        return Step.DEMANDE
    if not a.requests[-1].actions:
        return Step.ACTION
    if not a.themes_done:
        return Step.THEME
    if a.resolution is None:
        return Step.RESOLUTION
    return None


def day_choices(now_local: datetime) -> list[date]:
    """The days a visit may be logged for, today first: today and the LATE_DAYS - 1 before,
    in the zone of `now_local` (the Caf's)."""
    today = now_local.date()
    return [today - timedelta(days=n) for n in range(LATE_DAYS)]


def day_code(day: date) -> str:
    """A day as a button carries it: 20261204."""
    return f"{day:%Y%m%d}"


def parse_day_code(value: str) -> date | None:
    """The day of `day_code`, or None for anything else (a forged value included)."""
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def hour_choices(day: date, now_local: datetime | None) -> list[int]:
    """Hours offered for a late log: not in the future, within a plausible opening day."""
    first, last = EARLIEST_HOUR, LATEST_HOUR
    if now_local is not None and day == now_local.date():
        last = min(last, now_local.hour)
        first = min(first, last)  # before 7 h, the hours of the night so far
    return list(range(first, last + 1))


def visit_time(a: Answers, now: datetime, tz: ZoneInfo) -> datetime:
    """When the visit happened: now, or the chosen hour of the chosen day (in `tz`)."""
    if a.day is None or a.hour is None:
        return a.fixed_at if a.fixed_at is not None else now
    local = datetime.combine(a.day, time(a.hour), tzinfo=tz)
    return min(local, now)


def validate_complete(a: Answers) -> None:
    """The last guard before storage: a visit is never saved incomplete or inconsistent."""
    if first_missing(a) is not None:
        raise InvalidAnswer("La visite n'est pas complète.")
    checks = [
        (a.sexe, tx.SEXE),
        (a.statut, tx.STATUT),
        (a.autonomie, tx.AUTONOMIE),
        (a.resolution, tx.RESOLUTION),
    ]
    if tx.asks_age(a.sexe):
        checks.append((a.age, tx.AGE))
    elif a.age is not None:
        raise InvalidAnswer("Pas d'âge pour une personne morale.")
    for value, question in checks:
        if value not in question.codes:
            raise InvalidAnswer(f"Réponse inconnue pour {question.label}.")
    seen = set()
    for request in a.requests:
        if request.demande not in tx.DEMANDE.codes or request.demande in seen:
            raise InvalidAnswer("Demande inconnue ou en double.")
        seen.add(request.demande)
        if not request.actions or len(set(request.actions)) != len(request.actions):
            raise InvalidAnswer("Chaque demande a au moins une action, sans doublon.")
        if any(action not in tx.ACTION.codes for action in request.actions):
            raise InvalidAnswer("Action inconnue.")
    if len(set(a.themes)) != len(a.themes) or any(t not in tx.THEME.codes for t in a.themes):
        raise InvalidAnswer("Thématique inconnue ou en double.")


def profile_of(a: Answers) -> Profile | None:
    if a.sexe is None or a.statut is None or a.autonomie is None:
        return None
    return Profile(sexe=a.sexe, age=a.age, statut=a.statut, autonomie=a.autonomie)


def new_draft(*, editing_from: Answers | None = None) -> Draft:
    if editing_from is None:
        return Draft()
    return Draft(answers=editing_from.model_copy(deep=True), editing=True)
