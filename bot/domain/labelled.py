"""Codes that say themselves in French: each member declared once, with its label.

    class Role(Labelled):
        AGENT = "agent", "agent d'accueil"

`Role.AGENT` is the string "agent" (what the database stores and the buttons carry) and
`Role.AGENT.label` what people read; `Role("agent")` finds it by its code, as for any enum.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class Labelled(StrEnum):
    """A StrEnum whose members are declared `NAME = code, label` (and, where the screens
    show one, `, emoji`)."""

    _value_: str
    label: str
    emoji: str

    def __new__(cls, value: str, label: str = "", emoji: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.emoji = emoji
        return member
