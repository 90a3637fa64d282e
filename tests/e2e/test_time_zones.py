"""One day of a Caf in Indian/Reunion beside one in Europe/Paris (issue #16, item 6).

Every date and hour shown, asked or scheduled for a Caf is in that Caf's zone: visits count on
the Caf's local day, and each Caf's morning run (the indicators to validate) reaches its
people at NOTIFY_HOUR there. La Réunion is UTC+4 all year; Paris is UTC+1 in winter. Both
Cafs report monthly, so November ends during the day under test.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.models import ReportingPeriod
from bot.domain.permissions import Role
from bot.sandbox.bot_api import FakeBotApi, FakeUser
from storage import period_reports
from tests.conftest import Network, RunningBot
from tests.e2e.test_visit import TYPICAL, log_visit

ASKED = "Indicateurs à valider"


def asked(user: FakeUser) -> list[str]:
    return [m.text or "" for m in user.bot_messages if ASKED in (m.text or "")]


async def test_a_day_in_la_reunion_beside_a_day_in_paris(
    bot: RunningBot, network: Network, fake: FakeBotApi
) -> None:
    scheduler = bot.app.bot_data["scheduler"]
    reunion = await network.add_caf(
        "Caf de La Réunion", timezone="Indian/Reunion", period=ReportingPeriod.MONTHLY
    )
    oise = await network.add_caf(
        "Caf de l'Oise", timezone="Europe/Paris", period=ReportingPeriod.MONTHLY
    )
    saint_paul = await network.add_site("France Services Saint-Paul", reunion)
    creil = await network.add_site("Mairie de Creil", oise)
    reunion_agent = await network.join(Role.AGENT, partner=saint_paul, first_name="Maéva")
    reunion_manager = await network.join(Role.MANAGER, partner=saint_paul, first_name="Johan")
    oise_agent = await network.join(Role.AGENT, partner=creil, first_name="Léa")
    oise_manager = await network.join(Role.MANAGER, partner=creil, first_name="Paul")

    # The Cafs were added while the bot ran: the night's housekeeping books their mornings.
    network.clock.set(datetime(2026, 11, 27, 2, 30, tzinfo=UTC))  # 3 h 30 in Paris
    await scheduler.run_due()

    # The days go by, the scheduler running as it does every few seconds.
    network.clock.set(datetime(2026, 11, 30, 19, 0, tzinfo=UTC))
    await scheduler.run_due()

    # Monday 30 November, 19 h 30 UTC: 23 h 30 in Saint-Paul, 20 h 30 in Creil. Both count
    # in November.
    network.clock.set(datetime(2026, 11, 30, 19, 30, tzinfo=UTC))
    await log_visit(reunion_agent, TYPICAL)
    await log_visit(oise_agent, TYPICAL)
    # 21 h UTC: already 1 December, 1 h, in Saint-Paul (December's), still 22 h in Creil.
    network.clock.set(datetime(2026, 11, 30, 21, 0, tzinfo=UTC))
    await log_visit(reunion_agent, TYPICAL)
    await log_visit(oise_agent, TYPICAL)

    # 1 December, 5 h UTC = 9 h in Saint-Paul: La Réunion's morning, not yet Paris's (6 h).
    network.clock.set(datetime(2026, 12, 1, 5, 0, tzinfo=UTC))
    await scheduler.run_due()
    await fake.wait_for(lambda: bool(asked(reunion_manager)))
    [reunion_ask] = asked(reunion_manager)
    assert "novembre 2026" in reunion_ask and "Visites : 1" in reunion_ask
    assert asked(oise_manager) == []
    oise_report = await period_reports.of_partner(network.db, creil.id, "2026-11")
    assert oise_report is None or oise_report.asked_at is None

    # 8 h UTC = 9 h in Creil: Paris's morning; its November holds both of Léa's visits.
    network.clock.set(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    await scheduler.run_due()
    await fake.wait_for(lambda: bool(asked(oise_manager)))
    [oise_ask] = asked(oise_manager)
    assert "novembre 2026" in oise_ask and "Visites : 2" in oise_ask
    assert len(asked(reunion_manager)) == 1  # nothing twice

    # Each Caf's screens speak its own day: Johan's December already has Maéva's late visit.
    await reunion_manager.tap("📈 Indicateurs")
    assert "Décembre 2026 (en cours)" in reunion_manager.last_message.text
    assert "Visites : 1 " in reunion_manager.last_message.text
    await oise_manager.tap("📈 Indicateurs")
    assert "Décembre 2026 (en cours)" in oise_manager.last_message.text
    assert "Visites : 0 " in oise_manager.last_message.text
