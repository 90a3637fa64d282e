"""The site's equipment put at the public's disposal (convention, Article 8), as data.

The site's managers keep the list up to date (👥 Mon équipe → « 💻 Équipement du site »); the
yearly visit shows it at its equipment point for the coordinator to confirm. Pure code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Equipment:
    """One kind of equipment; `code` is the `site_equipment.item` value."""

    code: str
    label: str


#: Article 8 asks to list the resources given to the public (« matériel, documentation… ») and
#: names the « Mini PCLS » browser; Article 5 the scanner whose files are erased after use.
EQUIPMENT: tuple[Equipment, ...] = (
    Equipment("computer", "Poste informatique pour le public"),
    Equipment("internet", "Accès à Internet"),
    Equipment("mini_pcls", "Navigateur « Mini PCLS »"),
    Equipment("scanner", "Scanner"),
    Equipment("printer", "Imprimante"),
    Equipment("documentation", "Documentation de la Caf (affiches, dépliants)"),
)
CODES = tuple(item.code for item in EQUIPMENT)


def toggled(present: bool | None) -> bool:
    """A tap on an item: not yet told or missing → present; present → missing."""
    return present is not True


def missing(declared: Mapping[str, bool]) -> tuple[str, ...]:
    """The items declared missing, in the list's order (one never told is not counted)."""
    return tuple(code for code in CODES if declared.get(code) is False)
