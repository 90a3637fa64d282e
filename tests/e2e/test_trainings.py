"""🎓 Formations, driven as a coordinator would: attendance marked at a training day fills
the agent's history and closes their « nouvel agent à former » need (which could not be
closed by hand before); a training added by hand from the person's card; compliance lists a
site whose agent was never trained; the Caf's records exported from the command line."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from pathlib import Path

from bot.domain.permissions import Role
from bot.sandbox.bot_api import FakeUser
from bot.ui.screens import trainings as screen
from tests.cli_runner import run_cli
from tests.conftest import Network, RunningBot
from tests.e2e.test_events import TITLE, create_event, invitation_of, invited
from tests.e2e.test_notifications import outbox_settled
from tests.e2e.test_people import open_person

AGNES = "Agnès · agent d'accueil"


async def need(network: Network) -> tuple[str, str | None]:
    row = await network.db.fetch_one(
        "SELECT status, resolution FROM signals WHERE category = 'nouvel_agent'"
    )
    assert row is not None
    return row["status"], row["resolution"]


async def open_formations(coordinator: FakeUser) -> None:
    await open_person(coordinator, "🟢 Mairie de Ham", AGNES)
    await coordinator.tap(screen.FORMATIONS)


async def test_attendance_at_a_training_day_fills_the_history_and_closes_the_need(
    bot: RunningBot, network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    card = await create_event(coordinator)
    [publish] = [label for label in card.labels if label.startswith("📨 Publier")]
    await coordinator.tap(publish, card)
    await invited(network.fake, agent)
    await agent.tap("✅ Je participe", invitation_of(agent))

    # Before any training, the new agent's need is not closed by hand.
    await coordinator.tap("📥 Signalements")
    [item] = [label for label in coordinator.last_message.labels if "🎓" in label]
    await coordinator.tap(item)
    await coordinator.tap("✔️ Clore")
    assert coordinator.last_callback_answer["text"] == screen.TRAIN_FIRST
    assert await need(network) == ("open", None)
    await open_formations(coordinator)
    assert "Aucune formation enregistrée" in coordinator.last_message.text

    network.clock.advance(timedelta(days=19, hours=1))  # Tuesday 15 December, 11 h
    await coordinator.tap("📅 Événements")
    await coordinator.tap(next(b for b in coordinator.last_message.labels if TITLE in b))
    await coordinator.tap("✅ Présences")
    await coordinator.tap("▫️ Agnès · Mairie de Ham")
    assert "✅ Agnès · Mairie de Ham" in coordinator.last_message.labels

    status, note = await need(network)
    assert status == "resolved"
    assert note == f"Formation suivie : « {TITLE} » le 15/12/2026. Clos automatiquement."
    await open_formations(coordinator)
    text = coordinator.last_message.text
    assert f"✅ 15 décembre 2026 — {TITLE}" in text and "Jamais formé" not in text

    # Marked absent after all: the history says so, the need stays closed.
    await coordinator.tap("📅 Événements")
    await coordinator.tap(next(b for b in coordinator.last_message.labels if TITLE in b))
    await coordinator.tap("✅ Présences")
    await coordinator.tap("✅ Agnès · Mairie de Ham")
    await open_formations(coordinator)
    assert f"❌ 15 décembre 2026 — {TITLE} — absent·e" in coordinator.last_message.text
    assert (await need(network))[0] == "resolved"
    await outbox_settled(network)


async def test_a_training_added_by_hand_closes_the_need_and_is_audited(
    bot: RunningBot, network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    await open_formations(coordinator)
    await coordinator.tap(screen.ADD)
    assert "intitulé de la formation" in coordinator.last_message.text
    await coordinator.send("Accueil numérique : les démarches en ligne")
    assert "À quelle date" in coordinator.last_message.text
    await coordinator.send("demain")  # not yet taken place: asked again, nothing recorded
    assert "une date passée" in coordinator.last_message.text
    assert await network.db.fetch_value("SELECT COUNT(*) FROM trainings") == 0
    await coordinator.send("hier")
    text = coordinator.last_message.text
    assert "Formation enregistrée pour Agnès" in text
    assert "« Nouvel agent à former » est clos" in text
    assert "✅ 25 novembre 2026 — Accueil numérique : les démarches en ligne (saisie)" in text
    assert (await need(network))[0] == "resolved"
    actions = [
        row[0] for row in await network.db.fetch_all("SELECT action FROM audit_log ORDER BY id")
    ]
    assert "training.recorded" in actions and "signal.resolved" in actions
    # The agent sees it among their own data.
    await agent.send("/mesdonnees")
    assert "Formations suivies ou manquées" in agent.last_message.text
    await outbox_settled(network)


async def test_a_training_typed_by_mistake_is_removed_after_confirmation(
    bot: RunningBot, network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    await open_formations(coordinator)
    await coordinator.tap(screen.ADD)
    await coordinator.send("Formation annulée")
    await coordinator.send("hier")
    line = "🗑 25/11/2026 — Formation annulée"
    assert line in coordinator.last_message.labels
    await coordinator.tap(line)
    assert "Retirer cette formation" in coordinator.last_message.text
    await coordinator.tap(screen.KEEP)  # changed their mind: nothing removed
    assert await network.db.fetch_value("SELECT COUNT(*) FROM trainings") == 1
    await coordinator.tap(line)
    confirm = coordinator.last_message
    [data] = [d for row in confirm.inline_buttons for label, d in row if label == screen.REMOVE]
    await coordinator.tap(screen.REMOVE, confirm)
    assert screen.REMOVED in coordinator.last_message.text
    assert "Aucune formation enregistrée" in coordinator.last_message.text
    assert await network.db.fetch_value("SELECT COUNT(*) FROM trainings") == 0
    await coordinator.tap_data(data, confirm)  # a double tap: nothing more, no error
    removed = await network.db.fetch_value(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'training.removed'"
    )
    assert removed == 1
    # The need it closed stays closed: its note tells the story.
    assert (await need(network))[0] == "resolved"


async def test_compliance_lists_a_site_whose_agent_was_never_trained(
    bot: RunningBot, network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    await coordinator.send("/conformite")
    [ham] = [b for b in coordinator.last_message.labels if "Mairie de Ham" in b]
    await coordinator.tap(ham)
    assert "1 personne jamais formée : Agnès." in coordinator.last_message.text
    assert "🟢 1 personne jamais formée" in coordinator.last_message.text  # just arrived

    network.clock.advance(timedelta(days=91))  # a quarter later, still untrained
    await coordinator.send("/conformite")
    [ham] = [b for b in coordinator.last_message.labels if "Mairie de Ham" in b]
    await coordinator.tap(ham)
    assert "🟠 1 personne jamais formée : Agnès." in coordinator.last_message.text

    await open_formations(coordinator)
    await coordinator.tap(screen.ADD)
    await coordinator.send("Journée d'accueil")
    await coordinator.send("hier")
    await coordinator.send("/conformite")
    [ham] = [b for b in coordinator.last_message.labels if "Mairie de Ham" in b]
    await coordinator.tap(ham)
    assert "jamais formée" not in coordinator.last_message.text
    assert "Toutes les personnes du site sont formées." in coordinator.last_message.text


async def test_the_caf_exports_its_records_as_csv_without_formulas(
    bot: RunningBot, network: Network, coordinator: FakeUser, db_path: Path, tmp_path: Path
) -> None:
    formula = await network.join(Role.AGENT, first_name="=HYPERLINK(1)")
    assert formula is not None
    await open_person(coordinator, "🟢 Mairie de Ham", "=HYPERLINK(1) · agent d'accueil")
    await coordinator.tap(screen.FORMATIONS)
    await coordinator.tap(screen.ADD)
    await coordinator.send("+Sécurité des données")
    await coordinator.send("20/11/2026")
    assert "Formation enregistrée" in coordinator.last_message.text

    out = tmp_path / "formations.csv"
    now = network.clock.now()
    args = ("export", "trainings", "--caf", network.caf.name, "--output", str(out))
    run = await asyncio.to_thread(run_cli, tmp_path, now, *args, db_path=db_path)
    assert run.returncode == 0, run.describe()
    assert "1 ligne(s)" in run.stderr
    content = out.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:6] == ["personne", "rôle", "site", "formation", "date", "présence"]
    assert rows[1][:7] == [
        "'=HYPERLINK(1)",
        "agent d'accueil",
        "Mairie de Ham",
        "'+Sécurité des données",
        "20/11/2026",
        "présent",
        "saisie à la main",
    ]
    assert rows[1][7] == "Corinne"

    # The same file from the bot, one tap away on the history.
    await coordinator.tap(screen.EXPORT)
    await network.fake.wait_for(lambda: bool(network.fake.calls_to("sendDocument")))
    [sent] = network.fake.calls_to("sendDocument")
    filename, sent_content = sent.params["document"]
    assert filename == "formations-2026-11-26.csv" and sent_content == content
    assert "1 ligne" in sent.params["caption"]
    assert await network.db.fetch_value(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'training.exported'"
    )
    await outbox_settled(network)
