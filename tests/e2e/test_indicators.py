"""📈 Indicateurs and the periodic transmission (Article 9), driven as people would.

The Caf of the fixtures reports quarterly; the clock starts on Thursday 26 November 2026.
Visits are logged through the real visit flow, the morning job runs through the real
scheduler with the clock moved, and messages reach people through the real outbox.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from bot.domain.permissions import Role
from bot.sandbox.bot_api import FakeBotApi, FakeUser
from bot.ui import callbacks
from bot.ui.callbacks import IndicatorTap
from storage import period_reports
from tests.conftest import Network, RunningBot
from tests.e2e.test_visit import TYPICAL, log_visit
from tests.fuzz.harness import FAST_OUTBOX, INDICATORS_FLOW, Act, actor_of, build_world, perform

LEGAL_PERSON = [
    "Personne morale",
    "Allocataire",
    "Autonome",
    "Paiements",
    "Info / conseil",
    "Enfance et jeunesse",
    "Non",
]


def texts(user: FakeUser, needle: str) -> list[str]:
    return [m.text or "" for m in user.bot_messages if needle in (m.text or "")]


async def test_a_manager_sees_the_quarter_with_charts_and_an_annexe_2_workbook(
    bot: RunningBot, network: Network, fake: FakeBotApi
) -> None:
    agent = await network.join(Role.AGENT, first_name="Agnès")
    manager = await network.join(Role.MANAGER, first_name="Marc")
    await log_visit(agent, TYPICAL)
    await log_visit(agent, LEGAL_PERSON)
    # A training-mode visit never counts.
    await agent.tap("🎓 Mode formation")
    await log_visit(agent, TYPICAL)
    await agent.tap("🎓 Mode formation")

    await manager.tap("📈 Indicateurs")
    screen = manager.last_message
    assert "Mairie de Ham" in screen.text
    assert "4e trimestre 2026 (en cours)" in screen.text
    assert "Visites : 2" in screen.text
    assert "Demandes résolues : 50\u202f%" in screen.text
    assert "Âge sans objet pour 1 personne morale" in screen.text
    assert "Demande de prestation : 1" in screen.text
    # No transmission while the quarter runs, and no site choice for a manager.
    assert "✅ Je valide et transmets" not in screen.labels
    assert "🏢 Un site" not in screen.labels

    await manager.tap("📊 Graphiques", screen)
    photos = [m for m in manager.bot_messages if m.kind == "photo"]
    assert len(photos) == 3
    # While they are drawn, the chat's header says a photo is coming.
    [working] = fake.calls_to("sendChatAction")
    assert working.params["action"] == "upload_photo"
    assert working.params["chat_id"] == manager.chat_id

    await manager.tap("📥 Excel", screen)
    [workbook_message] = [m for m in manager.bot_messages if m.kind == "document"]
    assert (workbook_message.document_name or "").endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(workbook_message.document_bytes or b""))
    cells = [
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    ]
    assert "Mairie de Ham" in " ".join(str(c) for c in cells)

    # Last quarter: nothing logged then, and the arrows go back in time.
    await manager.tap("◀️ 3e trimestre 2026", screen)
    assert "Aucune visite enregistrée" in screen.text
    assert "4e trimestre 2026 ▶️" in screen.labels


async def test_a_coordinator_sees_the_caf_then_one_site_and_not_another_cafs(
    bot: RunningBot, network: Network, fake: FakeBotApi
) -> None:
    agent = await network.join(Role.AGENT, first_name="Agnès")
    other_agent = await network.join(Role.AGENT, partner=network.other_site, first_name="Omar")
    coordinator = await network.join(Role.COORDINATOR, first_name="Claire")
    await log_visit(agent, TYPICAL)
    await log_visit(other_agent, TYPICAL)
    await log_visit(other_agent, LEGAL_PERSON)

    await coordinator.tap("📈 Indicateurs")
    screen = coordinator.last_message
    assert "Caf de la Somme" in screen.text and "Visites : 3" in screen.text
    await coordinator.tap("🏢 Un site", screen)
    await coordinator.tap("France Services Albert (Albert)", screen)
    assert "France Services Albert" in screen.text and "Visites : 2" in screen.text
    await coordinator.tap("🌐 Toute la Caf", screen)
    assert "Visites : 3" in screen.text

    # Another Caf's coordinator forging a tap on this Caf's site sees nothing of it.
    other_caf = await network.add_caf("Caf de l'Oise")
    stranger = await network.join(Role.COORDINATOR, caf=other_caf, first_name="Olga")
    [site_button] = [
        data for row in screen.inline_buttons for label, data in row if label == "📥 Excel"
    ]
    forged = site_button.replace(":0:", f":{network.other_site.id}:")
    await stranger.tap_data(forged, stranger.last_message)
    assert not [m for m in stranger.bot_messages if m.kind == "document"]
    # A manager forging the whole Caf's view gets nothing either.
    manager = await network.join(Role.MANAGER, first_name="Marc")
    await manager.tap_data(site_button, manager.last_message)
    assert not [m for m in manager.bot_messages if m.kind == "document"]


async def test_the_quarter_is_validated_reminded_and_late_sites_reported(
    bot: RunningBot, network: Network, fake: FakeBotApi
) -> None:
    agent = await network.join(Role.AGENT, first_name="Agnès")
    manager = await network.join(Role.MANAGER, first_name="Marc")
    coordinator = await network.join(Role.COORDINATOR, first_name="Claire")
    await log_visit(agent, TYPICAL)
    scheduler = bot.app.bot_data["scheduler"]

    # Friday 1 January 2027, 10 h in Paris: the quarter has ended.
    network.clock.advance(days=36)
    await scheduler.run_due()
    await fake.wait_for(lambda: bool(texts(manager, "Indicateurs à valider")))
    [ask] = [m for m in manager.bot_messages if "Indicateurs à valider" in (m.text or "")]
    assert "4e trimestre 2026" in ask.text and "Visites : 1" in ask.text
    assert "avant le 10 janvier 2027" in ask.text
    assert ask.labels == ["✅ Je valide et transmets", "📈 Voir le détail"]
    # The other site has no manager: nobody is asked there, the Caf will see it.
    report = await period_reports.of_partner(network.db, network.other_site.id, "2026-Q4")
    assert report is not None and report.asked_at is None

    # Day 5: one reminder to the site that has not validated.
    network.clock.advance(days=4)
    await scheduler.run_due()
    await fake.wait_for(lambda: bool(texts(manager, "Rappel")))
    network.clock.advance(hours=1)
    await scheduler.run_due()
    assert len(texts(manager, "Rappel")) == 1

    [validate] = [d for row in ask.inline_buttons for label, d in row if "Je valide" in label]
    await manager.tap("✅ Je valide et transmets", ask)
    assert "validés et transmis" in ask.text and "Visites transmises : 1" in ask.text
    await manager.tap_data(validate, ask)  # a double tap
    assert "Déjà validé" in (manager.last_callback_answer or {}).get("text", "")

    # Day 11: the deadline has passed; the Caf hears about the site without a manager only.
    network.clock.advance(days=6)
    await scheduler.run_due()
    await fake.wait_for(lambda: bool(texts(coordinator, "Indicateurs non transmis")))
    [late] = texts(coordinator, "Indicateurs non transmis")
    assert "France Services Albert" in late and "aucun responsable de site" in late
    assert "Mairie de Ham" not in late
    await coordinator.tap("📈 Indicateurs")
    await coordinator.tap("◀️ 4e trimestre 2026")
    caf_screen = coordinator.last_message
    assert "Validées : 1" in caf_screen.text and "en retard : 1" in caf_screen.text
    await coordinator.tap("📨 Suivi des transmissions", caf_screen)
    assert "⏰ France Services Albert" in caf_screen.text
    assert "✅ Mairie de Ham" in caf_screen.text

    # The agent corrects a December visit: the quarter asks for a new validation.
    await agent.tap("✏️ Modifier")
    await agent.tap("✅ Résolution")
    await agent.tap("Partiellement")
    await agent.tap("💾 Enregistrer les modifications")
    report = await period_reports.of_partner(network.db, network.site.id, "2026-Q4")
    assert report is not None and report.status == "modified"
    network.clock.advance(days=1)
    await scheduler.run_due()
    await fake.wait_for(lambda: bool(texts(manager, "modifiés après transmission")))
    [again] = [m for m in manager.bot_messages if "modifiés après transmission" in (m.text or "")]
    await manager.tap("✅ Je valide et transmets", again)
    assert "Nouvelle validation" in again.text


async def test_an_agent_cannot_validate_nor_see_indicators(
    bot: RunningBot, network: Network
) -> None:
    agent = await network.join(Role.AGENT, first_name="Agnès")
    await agent.send("/indicateurs")
    assert "Indicateurs" not in agent.last_message.text or "réservé" in agent.last_message.text
    await agent.tap_data("tr:ok:1", agent.last_message)
    assert (agent.last_callback_answer or {}).get("text")


async def test_charts_and_files_are_answered_at_once_and_follow(
    bot: RunningBot, network: Network, fake: FakeBotApi
) -> None:
    """Drawing and writing take a child process (up to a minute under load): the tap is
    answered first, so the client stops spinning, and the file follows."""
    agent = await network.join(Role.AGENT, first_name="Agnès")
    manager = await network.join(Role.MANAGER, first_name="Marc")
    await log_visit(agent, TYPICAL)
    await manager.tap("📈 Indicateurs")
    screen = manager.last_message
    for label, sent in (
        ("📊 Graphiques", "sendphoto"),
        ("📥 Excel", "senddocument"),
        ("📄 CSV", "senddocument"),
    ):
        start = len(fake.calls)
        await manager.tap(label, screen)
        order = [c.method.lower() for c in fake.calls[start:]]
        assert "answercallbackquery" in order and sent in order
        assert order.index("answercallbackquery") < order.index(sent), label
        assert (manager.last_callback_answer or {}).get("text") == "⏳ Préparation…"


# Found by the fuzzing (tests/fuzz/), pinned down.
@pytest.mark.parametrize("settings_overrides", [FAST_OUTBOX], ids=["fast_outbox"])
async def test_a_period_at_the_calendars_edge_is_a_stale_button(
    bot: RunningBot, network: Network, fake: FakeBotApi
) -> None:
    """Found by the fuzzing: January of year 1 (whose previous month does not exist) or
    December 9999 raised OverflowError instead of being refused as forged."""
    w = await build_world(bot, network, fake)
    who = await actor_of(w, "manager")
    for code in (1_000_101, 2_000_101, 3_000_100, 1_999_912, 2_999_904):
        await INDICATORS_FLOW.steps["screen"](w)
        forged = callbacks.encode(IndicatorTap("view", network.site.id, code))
        await perform(w, who, Act("raw", forged))
        answer = (w.users["manager"].last_callback_answer or {}).get("text", "")
        assert "expiré" in answer, (code, answer)
