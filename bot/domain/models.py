"""The aggregates the storage layer returns: plain pydantic models, no behaviour of Telegram."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from bot.domain.audience import Audience
from bot.domain.labelled import Labelled
from bot.domain.permissions import Actor, LabelStatus, PersonStatus, Role
from bot.domain.secrecy import is_committed


class ReportingPeriod(Labelled):
    MONTHLY = "monthly", "mensuelle"
    QUARTERLY = "quarterly", "trimestrielle"


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Caf(Model):
    id: int
    name: str
    reporting_period: ReportingPeriod
    timezone: str
    notify_chat_id: int | None
    created_at: datetime
    # A logo file on the server, printed on label certificates (Annexe 1).
    logo_path: str | None = None
    # The Caf's town: where its label certificates are « Fait à »; None: left to fill by hand.
    city: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        """Every date and hour shown, asked or scheduled for this Caf is in this zone."""
        return ZoneInfo(self.timezone)


class Partner(Model):
    id: int
    caf_id: int
    name: str
    city: str
    address: str
    label_status: LabelStatus
    label_status_since: datetime
    label_reason: str | None
    convention_start: date | None
    created_at: datetime
    # What the national standard of places of digital mediation needs (bot/domain/
    # site_identity.py): SIRET or RNA, postcode, and the site's own public phone and e-mail.
    siret: str | None = None
    postcode: str | None = None
    phone: str | None = None
    email: str | None = None
    # The site's logo file on the server, printed on its certificate beside the Caf's.
    logo_path: str | None = None

    @property
    def title(self) -> str:
        return f"{self.name} ({self.city})" if self.city else self.name


class Person(Model):
    id: int
    telegram_user_id: int | None
    display_name: str
    role: Role
    caf_id: int
    partner_id: int | None
    status: PersonStatus
    joined_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None
    # Telegram said the bot is blocked: nothing is sent until the person writes again.
    unreachable_since: datetime | None = None
    # The local day a person with several sites last said which one they work at.
    site_chosen_on: date | None = None
    # Article 5: when they committed to professional secrecy, and to which version of the
    # statement (bot/domain/secrecy.py); None: never.
    secrecy_committed_at: datetime | None = None
    secrecy_version: int | None = None

    @property
    def committed(self) -> bool:
        return is_committed(self.role, self.secrecy_version)


class Member(Model):
    """A registered person with the label status of their site, as every update needs it."""

    person: Person
    partner: Partner | None  # the site they work at now
    caf: Caf
    # How many sites they belong to (person_sites), read with them: with several, they say
    # each day which one they work at, and may switch.
    site_count: int = 0

    @property
    def actor(self) -> Actor:
        return Actor(
            role=self.person.role,
            status=self.person.status,
            label=self.partner.label_status if self.partner else None,
            several_sites=self.site_count > 1,
            committed=self.person.committed,
        )


class Invitation(Model):
    id: int
    role: Role
    caf_id: int
    partner_id: int | None
    uses_left: int
    expires_at: datetime
    created_by: int | None
    created_at: datetime
    revoked_at: datetime | None


class AuditEntry(Model):
    id: int
    at: datetime
    actor_id: int | None
    caf_id: int | None
    action: str
    target_type: str | None
    target_id: int | None
    details: str | None


class Announcement(Model):
    """A piece of news or a must-read notice, and where its sending stands."""

    id: int
    caf_id: int
    author_id: int | None
    body: str
    media_kind: str | None
    media_file_id: str | None
    media_name: str | None
    audience_json: str
    must_read: bool
    status: str
    scheduled_for: datetime | None
    progress_chat_id: int | None
    progress_message_id: int | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None

    @property
    def audience(self) -> Audience:
        return Audience.from_json(self.audience_json)

    @property
    def kind(self) -> str:
        """The outbox kind of its messages."""
        return f"broadcast:{self.id}"


class PendingInput(Model):
    """The text a person is expected to type next, and what it is for."""

    person_id: int
    kind: str
    context: dict[str, Any]
    created_at: datetime
