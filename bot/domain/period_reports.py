"""A site's period report (Article 9): its indicators of a period, validated by a manager.

A report is `pending` until one manager validates it, then `validated`; a visit logged,
changed or undone in a validated period makes it `modified`, which asks for a new
validation. The model lives here, not beside its SQL (storage/period_reports.py), because
the screens show it and they import no storage.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from bot.domain.models import Model


class ReportStatus(StrEnum):
    PENDING = "pending"
    VALIDATED = "validated"
    MODIFIED = "modified"


class PeriodReport(Model):
    id: int
    caf_id: int
    partner_id: int
    period: str
    starts_at: datetime
    ends_at: datetime
    due_on: date
    asked_at: datetime | None
    status: ReportStatus
    validated_visits: int | None
    validated_by: int | None
    validated_at: datetime | None
    modified_at: datetime | None
    reminders_sent: int
    created_at: datetime

    @property
    def validated(self) -> bool:
        return self.status is ReportStatus.VALIDATED

    def late(self, today: date) -> bool:
        return not self.validated and today > self.due_on
