"""Article 5 of the convention: professional secrecy, committed to before anything else.

Agents and managers read a short statement (bot/ui/templates/secrecy_statement.html.j2) and
commit to it with a button; the bot keeps when, and to which version of the text. A new
version of the text (bump SECRECY_VERSION with it) asks everyone again. Coordinators are Caf
staff, bound by their own employer: they are not asked.
"""

from __future__ import annotations

from bot.domain.permissions import Action, Actor, Role, decide

# The version of the statement's text, beside it in the template: bump both together.
SECRECY_VERSION = 1


def is_committed(role: Role, version: int | None) -> bool:
    """Whether a person with this role, committed to `version` (None: never), is bound."""
    return role is Role.COORDINATOR or version == SECRECY_VERSION


def must_commit(actor: Actor) -> bool:
    """Whether the statement and its button are what this person is offered now (not a
    revoked person, nor one of a withdrawn site: they have nothing to commit for)."""
    return not actor.committed and decide(actor, Action.COMMIT_SECRECY) is None
