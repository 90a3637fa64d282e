"""Annexe 2 of the convention: the indicators logged on every visit, defined once.

Codes are stable (they are stored); labels are what people read. Keyboards, validation,
the database's checks (synced into `taxonomy_options` at start-up), summaries, reports and
exports all read these objects: adding an option is one line here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    """What an answer to « Demande résolue » says of the visit's requests."""

    RESOLVED = "resolved"
    PARTLY = "partly"
    UNRESOLVED = "unresolved"


@dataclass(frozen=True)
class Option:
    code: str
    label: str  # as written in Annexe 2, for reports and exports
    button: str = ""  # shorter text for a phone button, when the label is long
    # The options of RESOLUTION only: every count of resolved visits reads this, never a code.
    outcome: Outcome | None = None

    @property
    def short(self) -> str:
        return self.button or self.label


@dataclass(frozen=True)
class Question:
    code: str
    label: str
    options: tuple[Option, ...]
    prompt: str = ""  # the question as asked in the chat

    def __post_init__(self) -> None:
        codes = [option.code for option in self.options]
        if len(set(codes)) != len(codes):
            raise ValueError(f"duplicate option code in {self.code}")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(option.code for option in self.options)

    def option(self, code: str) -> Option:
        for option in self.options:
            if option.code == code:
                return option
        raise KeyError(f"{self.code}: unknown option {code!r}")

    def label_of(self, code: str) -> str:
        return self.option(code).label


@dataclass(frozen=True)
class Group:
    """A heading of Annexe 2's request table (Accès aux droits, …)."""

    code: str
    label: str
    options: tuple[Option, ...] = field(default_factory=tuple)


SEXE = Question(
    "sexe",
    "Sexe",
    (
        Option("femme", "Femme"),
        Option("homme", "Homme"),
        Option("personne_morale", "Personne morale"),
    ),
    prompt="Qui est accueilli ?",
)

AGE = Question(
    "age",
    "Âge",
    (
        Option("moins_25", "Moins de 25 ans", "< 25 ans"),
        Option("25_60", "25 – 60 ans"),
        Option("plus_60", "Plus de 60 ans", "> 60 ans"),
    ),
    prompt="Âge",
)

STATUT = Question(
    "statut",
    "Statut",
    (
        Option("allocataire", "Allocataire"),
        Option("non_allocataire", "Non allocataire"),
    ),
    prompt="Statut",
)

AUTONOMIE = Question(
    "autonomie",
    "Niveau d'autonomie numérique",
    (
        Option("debutant", "Débutant"),
        Option("intermediaire", "Intermédiaire"),
        Option("autonome", "Autonome"),
    ),
    prompt="Autonomie numérique",
)

REQUEST_GROUPS: tuple[Group, ...] = (
    Group(
        "acces_droits",
        "Accès aux droits",
        (
            Option("simulation", "Simulation"),
            Option("demande_prestation", "Demande de prestation"),
            Option(
                "maintien_droit",
                "Démarches maintien du droit (DTR, ARS, maintien lieux…)",
                "Maintien du droit (DTR, ARS…)",
            ),
        ),
    ),
    Group(
        "suivi_dossier",
        "Suivi dossier via mon compte",
        (
            Option("paiements", "Paiements"),
            Option("courriers_notifications", "Courriers, notifications"),
            Option("agenda", "Agenda"),
            Option("attestations", "Attestations"),
        ),
    ),
    Group(
        "changements_situation",
        "Changements de situation",
        (
            Option("situation_familiale", "Situation familiale"),
            Option("situation_pro", "Situation pro"),
            Option("situation_enfants", "Situation des enfants"),
            Option("coordonnees", "Coordonnées (dont RIB)"),
        ),
    ),
)

DEMANDE = Question(
    "demande",
    "Demande",
    tuple(option for group in REQUEST_GROUPS for option in group.options),
    prompt="Quelle demande ?",
)

ACTION = Question(
    "action",
    "Actions du partenaire",
    (
        Option("info_conseil", "Info / conseil / promo du Caf.fr", "Info / conseil"),
        Option("orientation", "Orientation / mise en relation", "Orientation"),
        Option("aide_redactionnelle", "Aide rédactionnelle"),
        Option("explication_courrier", "Explication courrier / doc", "Explication courrier"),
        Option("accompagnement_demarche", "Accomp. démarche"),
        Option(
            "accompagnement_en_ligne",
            "Accomp. démarche en ligne / promo caf.fr",
            "Accomp. démarche en ligne",
        ),
        Option("usage_autonome", "Usage numérique autonome", "Usage autonome"),
    ),
    prompt="Qu'avez-vous fait ?",
)

THEME = Question(
    "theme",
    "Thématiques",
    (
        Option("enfance_jeunesse", "Enfance et jeunesse"),
        Option("logement_cadre_de_vie", "Logement et cadre de vie"),
        Option("petite_enfance", "Petite enfance"),
        Option("solidarite_insertion", "Solidarité et insertion"),
    ),
    prompt="Thématique",
)

RESOLUTION = Question(
    "resolution",
    "Demande résolue",
    (
        Option("oui", "Oui", outcome=Outcome.RESOLVED),
        Option("non", "Non", outcome=Outcome.UNRESOLVED),
        Option("partiellement", "Partiellement", outcome=Outcome.PARTLY),
    ),
    prompt="Demande résolue ?",
)


def resolution_with(outcome: Outcome) -> Option:
    """The « Demande résolue » option that says `outcome`."""
    [option] = [o for o in RESOLUTION.options if o.outcome is outcome]
    return option


# The answers the figures follow (« Demandes résolues », « en partie »).
RESOLVED = resolution_with(Outcome.RESOLVED)
PARTLY_RESOLVED = resolution_with(Outcome.PARTLY)
UNRESOLVED = resolution_with(Outcome.UNRESOLVED)

PROFILE: tuple[Question, ...] = (SEXE, AGE, STATUT, AUTONOMIE)
# Every question, in Annexe 2's order; the database and exports iterate over this.
QUESTIONS: tuple[Question, ...] = (*PROFILE, DEMANDE, ACTION, THEME, RESOLUTION)
BY_CODE: dict[str, Question] = {question.code: question for question in QUESTIONS}
LEGAL_PERSON = "personne_morale"


def group_of(request_code: str) -> Group:
    for group in REQUEST_GROUPS:
        if any(option.code == request_code for option in group.options):
            return group
    raise KeyError(request_code)


def asks_age(sexe: str | None) -> bool:
    """Age is not asked for a legal person (Annexe 2 only has ages for people)."""
    return sexe != LEGAL_PERSON
