"""📄 Dénoncer la convention (Article 11): either party's notice, its effective date, the
label ending on that date, and withdrawing it before.

The clock starts on Thursday 26 November 2026 (tests/conftest.py). Mairie de Ham's
convention here was signed on 10 March 2025: its next term is 10 March 2027, whose notice
deadline (10 December 2026) is still ahead, so 10 March 2027 is the earliest end allowed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.permissions import LabelStatus
from bot.jobs.scheduler import Scheduler
from bot.sandbox.bot_api import FakeBotApi, FakeUser
from bot.ui import callbacks
from storage import partners
from tests.conftest import Network, RunningBot
from tests.e2e.test_network import open_site
from tests.e2e.test_notifications import outbox_settled

START = date(2025, 3, 10)
NOTICE = "Dénonciation de la convention"


async def signed(network: Network) -> None:
    async with network.db.transaction() as tx:
        await partners.set_convention_start(tx, network.site.id, START)


async def coordinator_gives_notice(coordinator: FakeUser, typed_date: str) -> None:
    await open_site(coordinator, "Mairie de Ham")
    await coordinator.tap("📄 Dénoncer la convention")
    assert "au plus tôt le 10 mars 2027" in coordinator.last_message.text
    await coordinator.tap("✍️ Enregistrer une dénonciation")
    assert "10/03/2027, 10/03/2028, 10/03/2029" in coordinator.last_message.text
    await coordinator.send(typed_date)


async def label(network: Network) -> LabelStatus:
    partner = await partners.get(network.db, network.site.id)
    assert partner is not None
    return partner.label_status


async def audited(network: Network, action: str) -> int:
    return int(
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM audit_log WHERE action = :a", {"a": action}
        )
    )


@pytest.mark.usefixtures("bot")
async def test_the_caf_gives_notice_the_manager_is_told_and_the_label_ends_on_the_date(
    bot: RunningBot,
    network: Network,
    fake: FakeBotApi,
    agent: FakeUser,
    manager: FakeUser,
    coordinator: FakeUser,
) -> None:
    await signed(network)
    await coordinator_gives_notice(coordinator, "10/03/2027")
    assert "Écrivez le motif" in coordinator.last_message.text
    await coordinator.send("Le partenaire ferme son accueil au public.")
    text = coordinator.last_message.text
    assert "Dénonciation enregistrée" in text
    assert "Dénonciation en cours, par la Caf" in text
    assert "prend fin le 10 mars 2027" in text
    assert coordinator.last_message.labels[0] == "↩️ Retirer la dénonciation"
    assert await audited(network, "termination.recorded") == 1

    # The other party, the site's manager, is told at once; the agent is not (yet).
    await fake.wait_for(lambda: NOTICE in (manager.last_message.text or ""))
    assert "La Caf (Corinne)" in manager.last_message.text
    assert "10 mars 2027" in manager.last_message.text
    assert "ferme son accueil" in manager.last_message.text
    assert not any(NOTICE in (m.text or "") for m in agent.bot_messages)

    # The compliance card shows the standing notice.
    await coordinator.tap("⬅️ Le site")
    await coordinator.send("/conformite")
    await coordinator.tap(next(x for x in coordinator.last_message.labels if "Mairie de Ham" in x))
    assert "Convention dénoncée par la Caf" in coordinator.last_message.text

    # The day before: nothing. On 10 March 2027 at 9 h in Paris (8 h UTC), the label ends.
    scheduler: Scheduler = bot.app.bot_data["scheduler"]
    network.clock.set(datetime(2027, 3, 9, 10, 0, tzinfo=UTC))
    await scheduler.run_due()
    assert await label(network) is LabelStatus.ACTIVE
    network.clock.set(datetime(2027, 3, 10, 8, 0, tzinfo=UTC))
    await scheduler.run_due()
    assert await label(network) is LabelStatus.WITHDRAWN
    for person in (agent, manager):
        await fake.wait_for(lambda p=person: "a été retiré" in (p.last_message.text or ""))
        assert "Convention dénoncée par la Caf, fin le 10/03/2027" in person.last_message.text
        assert ["📝 Nouvelle visite"] not in (person.reply_keyboard or [])
    await fake.wait_for(lambda: "Fin de la convention" in (coordinator.last_message.text or ""))
    assert await audited(network, "termination.effective") == 1
    # The job changed what they may do: their « / » list follows at their next menu.
    assert "visite" in [name for name, _ in agent.commands or []]
    await agent.send("/aide")
    assert "visite" not in [name for name, _ in agent.commands or []]
    assert "mesdonnees" in [name for name, _ in agent.commands or []]
    assert await audited(network, "label.changed") == 1

    # Run again (a redelivered job): nothing twice.
    assert await scheduler.run_due() == 0
    await outbox_settled(network)
    history = await network.db.fetch_value(
        "SELECT COUNT(*) FROM label_history WHERE partner_id = :p AND status = 'withdrawn'",
        {"p": network.site.id},
    )
    assert history == 1


@pytest.mark.usefixtures("bot", "agent")
async def test_a_manager_gives_notice_and_the_caf_is_told(
    network: Network, fake: FakeBotApi, manager: FakeUser, coordinator: FakeUser
) -> None:
    group = fake.group(-100777, "Équipe Caf")
    async with network.db.transaction() as tx:
        await tx.execute(
            "UPDATE cafs SET notify_chat_id = :g WHERE id = :id",
            {"g": group.chat_id, "id": network.caf.id},
        )
    await signed(network)
    await manager.tap("👥 Mon équipe")
    await manager.tap("📄 Dénoncer la convention")
    await manager.tap("✍️ Enregistrer une dénonciation")
    assert "par le partenaire" in manager.last_message.text
    await manager.send("10 mars 2028")
    await manager.send("La commune reprend l'accueil en régie.")
    assert "Dénonciation en cours, par le partenaire" in manager.last_message.text
    assert "⬅️ Mon équipe" in manager.last_message.labels
    await fake.wait_for(lambda: NOTICE in (coordinator.last_message.text or ""))
    assert "Le partenaire (Marc)" in coordinator.last_message.text
    assert "10 mars 2028" in coordinator.last_message.text
    await fake.wait_for(lambda: any(NOTICE in (m.text or "") for m in group.bot_messages))
    row = await network.db.fetch_one("SELECT * FROM terminations")
    assert row is not None
    assert (row["by_party"], row["effective_on"]) == ("partner", "2028-03-10")

    # A second notice while one stands is refused.
    await coordinator.send("/reseau")
    [site] = [label for label in coordinator.last_message.labels if "Mairie de Ham" in label]
    await coordinator.tap(site)
    await coordinator.tap("📄 Dénoncer la convention")
    assert "Dénonciation en cours" in coordinator.last_message.text
    assert "✍️ Enregistrer une dénonciation" not in coordinator.last_message.labels
    # Only the partner withdraws the partner's notice.
    assert "↩️ Retirer la dénonciation" not in coordinator.last_message.labels
    tap = callbacks.TerminationTap("withdraw", network.site.id, int(row["id"]))
    await coordinator.tap_data(callbacks.encode(tap))
    answer = coordinator.last_callback_answer or {}
    assert "Seule la partie qui a dénoncé" in answer.get("text", "")
    assert await network.db.fetch_value("SELECT cancelled_at FROM terminations") is None


@pytest.mark.usefixtures("bot", "agent")
async def test_a_notice_withdrawn_before_its_date_ends_nothing(
    bot: RunningBot, network: Network, fake: FakeBotApi, manager: FakeUser, coordinator: FakeUser
) -> None:
    await signed(network)
    await coordinator_gives_notice(coordinator, "10/03/2027")
    await coordinator.send("Erreur de saisie corrigée plus tard.")
    await fake.wait_for(lambda: NOTICE in (manager.last_message.text or ""))
    await coordinator.tap("↩️ Retirer la dénonciation")
    assert "La convention ne prendra pas fin" in coordinator.last_message.text
    await coordinator.tap("Oui, retirer la dénonciation")
    assert "Aucune dénonciation en cours" in coordinator.last_message.text
    assert await audited(network, "termination.withdrawn") == 1
    await fake.wait_for(lambda: "Dénonciation retirée" in (manager.last_message.text or ""))
    # A second « Oui » (a double tap, a stale message): told, nothing changes.
    notice_id = int(await network.db.fetch_value("SELECT id FROM terminations"))
    tap = callbacks.TerminationTap("withdraw", network.site.id, notice_id)
    await coordinator.tap_data(callbacks.encode(tap))
    answer = coordinator.last_callback_answer or {}
    assert "n'est plus en cours" in answer.get("text", "")
    assert await audited(network, "termination.withdrawn") == 1

    scheduler: Scheduler = bot.app.bot_data["scheduler"]
    network.clock.set(datetime(2027, 3, 10, 8, 0, tzinfo=UTC))
    await scheduler.run_due()
    assert await label(network) is LabelStatus.ACTIVE
    assert await audited(network, "termination.effective") == 0


@pytest.mark.usefixtures("bot", "manager")
async def test_a_date_the_convention_does_not_allow_is_refused_with_the_earliest(
    network: Network, coordinator: FakeUser
) -> None:
    await signed(network)
    await coordinator_gives_notice(coordinator, "15/12/2026")
    text = coordinator.last_message.text
    assert "trop tôt" in text and "Au plus tôt : le 10/03/2027" in text
    await coordinator.send("15/03/2027")  # the question stands
    text = coordinator.last_message.text
    assert "n'est pas une échéance" in text and "Au plus tôt : le 10/03/2027" in text
    assert await network.db.fetch_value("SELECT COUNT(*) FROM terminations") == 0
    await coordinator.send("10/03/2027")
    assert "Écrivez le motif" in coordinator.last_message.text
