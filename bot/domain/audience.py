"""Who a broadcast or an event invitation is for, as data: the coordinator's choice.

Stored as JSON on the announcement or the event; resolved to people by the storage layer at
the moment of sending, so a person who joined after the draft still gets it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.domain.labelled import Labelled
from bot.domain.permissions import Role


class AudienceKind(Labelled):
    ALL = "all", "toutes les personnes de la Caf"
    MANAGERS = "managers", "les responsables de site"
    AGENTS = "agents", "les agents d'accueil"
    PARTNERS = "partners", "les personnes des sites choisis"

    @property
    def roles(self) -> tuple[Role, ...]:
        """The roles reached (coordinators hear everything sent to "all")."""
        if self is AudienceKind.MANAGERS:
            return (Role.MANAGER,)
        if self is AudienceKind.AGENTS:
            return (Role.AGENT,)
        if self is AudienceKind.PARTNERS:
            return (Role.AGENT, Role.MANAGER)
        return (Role.AGENT, Role.MANAGER, Role.COORDINATOR)


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind = AudienceKind.ALL
    partners: frozenset[int] = field(default_factory=frozenset)

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind.value, "partners": sorted(self.partners)})

    @classmethod
    def from_json(cls, text: str | None) -> Audience:
        data: dict[str, Any] = json.loads(text or "{}")
        kind = AudienceKind(data.get("kind", "all"))
        partners = frozenset(int(p) for p in data.get("partners", []))
        return cls(kind, partners)

    def toggled(self, partner_id: int) -> Audience:
        chosen = set(self.partners) ^ {partner_id}
        return Audience(AudienceKind.PARTNERS, frozenset(chosen))

    @property
    def is_empty_choice(self) -> bool:
        return self.kind is AudienceKind.PARTNERS and not self.partners
