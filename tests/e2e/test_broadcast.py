"""📢 Diffuser, driven as a new coordinator would: compose, audience, must-read, schedule,
progress and report, with Telegram's errors injected."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.permissions import Role
from bot.sandbox.bot_api import FakeBotApi, FakeUser
from storage import announcements, cafs
from storage.timefmt import to_db
from tests.cli_runner import run_cli
from tests.conftest import Network, RunningBot
from tests.e2e.test_notifications import StartBot, outbox_settled

PARIS = ZoneInfo("Europe/Paris")
NEWS = "Nouvelle procédure RSA <script> dès lundi"
BOLD = [{"type": "bold", "offset": 9, "length": 9}]  # "procédure"


async def compose(coordinator: FakeUser, text: str = NEWS, entities=BOLD) -> None:
    await coordinator.tap("📢 Diffuser")
    await coordinator.tap("✍️ Nouvelle information")
    await coordinator.send(text, entities=entities)


def report(coordinator: FakeUser) -> str:
    """The broadcast's progress message (notices may have arrived after it)."""
    return next(
        (
            m.text or ""
            for m in reversed(coordinator.bot_messages)
            if "Diffusion n°" in (m.text or "")
        ),
        "",
    )


def got(user: FakeUser, needle: str = "procédure RSA") -> bool:
    return any(needle in (m.text or "") for m in user.bot_messages)


@pytest.mark.usefixtures("bot")
async def test_a_news_item_reaches_the_chosen_audience_formatted_with_its_report(
    network: Network, fake: FakeBotApi, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    other = await network.join(Role.AGENT, partner=network.other_site, first_name="Olga")
    await compose(coordinator)
    preview, controls = coordinator.bot_messages[-2:]
    assert "<b>procédure</b>" in (preview.html or "")
    assert "&lt;script&gt;" in (preview.html or "")
    assert "toutes les personnes de la Caf" in controls.text
    assert "3 personnes" in controls.text  # the author is not among them
    await coordinator.tap("Responsables")
    assert "1 personne" in coordinator.last_message.text
    await coordinator.tap("🔘 Responsables")  # tapping the chosen one again changes nothing
    await coordinator.tap("🏢 Choisir des sites")
    await coordinator.tap("▫️ France Services Albert (Albert)")
    await coordinator.tap("✔️ Terminé")
    assert "France Services Albert" in coordinator.last_message.text
    assert "1 personne" in coordinator.last_message.text
    await coordinator.tap("🔘 🏢 Choisir des sites")
    await coordinator.tap("▫️ Mairie de Ham (Ham)")
    await coordinator.tap("✔️ Terminé")
    assert "3 personnes" in coordinator.last_message.text
    await coordinator.tap("📨 Envoyer maintenant")
    await coordinator.tap("✅ Oui, envoyer à 3 personnes")
    for person in (agent, manager, other):
        await fake.wait_for(lambda p=person: got(p))
        message = next(m for m in person.bot_messages if "procédure RSA" in (m.text or ""))
        assert "<b>procédure</b>" in (message.html or "")
        assert not message.labels  # a plain news item has no button
    await fake.wait_for(lambda: "Envoi terminé" in coordinator.last_message.text)
    report = coordinator.last_message.text
    assert "reçus : 3" in report and "injoignables" in report and "échecs : 0" in report
    # A double tap on "send" sent nothing more.
    await coordinator.tap_data(controls.inline_buttons[0][0][1], controls)
    assert sum(got(p) for p in (agent, manager, other)) == 3
    assert (
        await network.db.fetch_value("SELECT COUNT(*) FROM outbox WHERE kind LIKE 'broadcast:%'")
        == 3
    )
    await coordinator.tap("📢 Diffuser")
    assert any(
        label.startswith("✅ n° 1") and "3/3" in label for label in coordinator.last_message.labels
    )


@pytest.mark.usefixtures("bot")
async def test_must_read_receipts_are_counted_once_and_the_silent_are_reminded(
    db_path: Path, network: Network, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    fake = network.fake
    await compose(coordinator, "Consigne : nouveaux justificatifs", [])
    await coordinator.tap("☐ À lire obligatoirement")
    assert "☑️ À lire obligatoirement" in coordinator.last_message.labels
    await coordinator.tap("📨 Envoyer maintenant")
    await coordinator.tap("✅ Oui, envoyer à 2 personnes")
    await fake.wait_for(lambda: got(agent, "Consigne") and got(manager, "Consigne"))
    notice = agent.last_message
    assert "À lire" in notice.text and "✅ J'ai lu" in notice.labels
    read_data = notice.inline_buttons[0][0][1]
    await agent.tap("✅ J'ai lu", notice)
    assert "lecture enregistrée" in agent.last_callback_answer["text"]
    assert not notice.labels
    await agent.tap_data(read_data, notice)  # an old button, a double tap
    assert "Déjà noté" in agent.last_callback_answer["text"]
    await fake.wait_for(lambda: "Lu par 1 / 2" in coordinator.last_message.text)
    await coordinator.tap("👀 Qui n'a pas lu ?")
    assert "Marc" in coordinator.last_message.text and "Agnès" not in coordinator.last_message.text
    await coordinator.tap("🔔 Relancer")
    assert "Rappel envoyé à 1 personne" in coordinator.last_callback_answer["text"]
    await fake.wait_for(lambda: "Rappel" in (manager.last_message.text or ""))
    assert "✅ J'ai lu" in manager.last_message.labels
    await manager.tap("✅ J'ai lu")
    rows = await network.db.fetch_all(
        "SELECT COUNT(*), COUNT(read_at) FROM announcement_recipients"
    )
    assert tuple(rows[0]) == (2, 2)
    # The receipts, exported as a coordinator's Excel would read them.
    done = await asyncio.to_thread(
        run_cli,
        db_path.parent,
        network.clock.now(),
        "export",
        "broadcasts",
        "--caf",
        network.caf.name,
        db_path=db_path,
    )
    assert done.returncode == 0, done.describe()
    lines = done.stdout.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("diffusion n°;envoyée le;début du message;à lire")
    marc = next(line for line in lines if "Marc" in line)
    assert ";oui;Marc;Mairie de Ham;reçu;26/11/2026" in marc
    # Someone the notice was not for cannot record a reading.
    outsider = await network.join(Role.AGENT, partner=network.other_site, first_name="Olga")
    await outsider.tap_data(read_data)
    assert (
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM announcement_recipients WHERE person_id > 3"
        )
        == 0
    )
    await outbox_settled(network)


async def test_a_scheduled_news_item_leaves_at_its_time_and_can_be_cancelled_before(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser, coordinator: FakeUser
) -> None:
    scheduler = bot.app.bot_data["scheduler"]
    await compose(coordinator, "Fermeture de la Caf vendredi", [])
    await coordinator.tap("🗓 Programmer")
    await coordinator.send("26/11 à 8h")  # this morning
    assert "passé" in coordinator.last_message.text
    await coordinator.send("27/11 à 8h30")
    assert "Programmée pour le vendredi 27 novembre 2026 à 8 h 30" in coordinator.last_message.text
    await compose(coordinator, "Réunion annulée", [])
    await coordinator.tap("🗓 Programmer")
    tomorrow = next(b for b in coordinator.last_message.labels if b.startswith("Demain"))
    await coordinator.tap(tomorrow)
    assert "Programmée" in coordinator.last_message.text
    await coordinator.tap("✖️ Annuler l'envoi programmé")
    assert "Brouillon n° 2" in coordinator.last_message.text

    network.clock.advance(timedelta(hours=23))  # Friday 27, 9 h in Paris
    await scheduler.run_due()  # with the night's housekeeping
    await fake.wait_for(lambda: got(agent, "Fermeture de la Caf"))
    assert not got(agent, "Réunion annulée")
    await scheduler.run_due()  # never twice
    await outbox_settled(network)
    copies = sum("Fermeture de la Caf" in (m.text or "") for m in agent.bot_messages)
    assert copies == 1
    # Rescheduling a draft whose programming was cancelled works.
    await coordinator.tap("📢 Diffuser")
    [draft] = [b for b in coordinator.last_message.labels if "n° 2" in b]
    await coordinator.tap(draft)
    await coordinator.tap("📨 Envoyer maintenant")
    await coordinator.tap("✅ Oui, envoyer à 1 personne")
    await fake.wait_for(lambda: got(agent, "Réunion annulée"))


async def test_blocked_failed_and_throttled_recipients_are_reported_and_retried(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    team = [await network.join(Role.AGENT, first_name=f"Agent{i}") for i in range(6)]
    team[0].block()
    fake.fail("sendMessage", status=429, retry_after=1, chat_id=team[1].chat_id)
    fake.fail("sendMessage", status=502, times=1, chat_id=team[2].chat_id)
    fake.fail(
        "sendMessage",
        status=400,
        description="Bad Request: something unexpected",
        chat_id=team[3].chat_id,
    )
    await compose(coordinator, "Nouvelle consigne", [])
    await coordinator.tap("📨 Envoyer maintenant")
    await coordinator.tap("✅ Oui, envoyer à 6 personnes")
    await fake.wait_for(
        lambda: all(got(team[i], "Nouvelle consigne") for i in (1, 4, 5)), timeout=15
    )
    # The 502's backoff runs on the bot's clock: move it on until the retry has gone.
    for _ in range(150):
        if got(team[2], "Nouvelle consigne"):
            break
        network.clock.advance(timedelta(seconds=5))
        await asyncio.sleep(0.1)
    assert got(team[2], "Nouvelle consigne")
    await fake.wait_for(lambda: "Envoi terminé" in report(coordinator), timeout=15)
    text = report(coordinator)
    assert "reçus : 4" in text
    assert "injoignables (bot bloqué ou compte supprimé) : 1" in text
    assert "échecs : 1" in text
    progress = next(
        m for m in reversed(coordinator.bot_messages) if "Diffusion n°" in (m.text or "")
    )
    await coordinator.tap("🔁 Relancer les échecs (1)", progress)
    await fake.wait_for(lambda: got(team[3], "Nouvelle consigne"), timeout=15)
    await fake.wait_for(lambda: "reçus : 5" in report(coordinator), timeout=15)
    assert not got(team[0], "Nouvelle consigne")
    assert all(
        sum("Nouvelle consigne" in (m.text or "") for m in user.bot_messages) <= 1 for user in team
    )


async def test_broadcasting_is_for_coordinators_of_the_caf_only(
    bot: RunningBot, network: Network, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    for person in (agent, manager):
        await person.send("/diffuser")
        assert "pas ouverte à votre rôle" in person.last_message.text
    await compose(coordinator, "Brouillon", [])
    draft_id = await network.db.fetch_value("SELECT id FROM announcements")
    await agent.tap_data(f"b:go:{draft_id}:0")
    assert "pas ouverte" in agent.last_callback_answer["text"]
    other_caf = await network.add_caf("Caf de l'Oise")
    outsider = await network.join(Role.COORDINATOR, caf=other_caf, first_name="Oscar")
    await outsider.tap_data(f"b:go:{draft_id}:0")
    await outsider.tap_data(f"b:aud:{draft_id}:1")
    assert await network.db.fetch_value("SELECT status FROM announcements") == "draft"
    assert (
        await network.db.fetch_value("SELECT COUNT(*) FROM outbox WHERE kind LIKE 'broadcast%'")
        == 0
    )


async def test_a_photo_news_item_keeps_only_the_file_id_and_an_nir_caption_is_refused(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser, coordinator: FakeUser
) -> None:
    await coordinator.tap("📢 Diffuser")
    await coordinator.tap("✍️ Nouvelle information")
    refused = await coordinator.send_photo(caption="Dossier 1 84 12 76 451 089 46")
    assert refused.deleted
    assert await network.db.fetch_value("SELECT COUNT(*) FROM announcements") == 0
    await coordinator.send_photo(caption="Affiche de la journée portes ouvertes")
    await coordinator.tap("📨 Envoyer maintenant")
    await coordinator.tap("✅ Oui, envoyer à 1 personne")
    await fake.wait_for(lambda: any(m.kind == "photo" for m in agent.bot_messages))
    photo = next(m for m in agent.bot_messages if m.kind == "photo")
    assert "Affiche de la journée" in (photo.text or "")
    assert not fake.calls_to("getFile")
    # A long text is refused with its length and the limit.
    await coordinator.tap("📢 Diffuser")
    await coordinator.tap("✍️ Nouvelle information")
    await coordinator.send("x" * 4500)
    assert "4500" in coordinator.last_message.text.replace("\u202f", "").replace(" ", "")


async def add_recipients(network: Network, fake: FakeBotApi, count: int) -> list[FakeUser]:
    """Agents registered straight in the database (joining through the bot is slow)."""
    now = to_db(network.clock.now())
    first_id = 50_000
    async with network.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO people (telegram_user_id, display_name, role, caf_id, partner_id,"
            " status, joined_at, last_seen_at) VALUES (:t, :n, 'agent', :caf, :site,"
            " 'active', :now, :now)",
            [
                {
                    "t": first_id + i,
                    "n": f"Agent {i}",
                    "caf": network.caf.id,
                    "site": network.site.id,
                    "now": now,
                }
                for i in range(count)
            ],
        )
    return [fake.user(first_id + i, f"Agent {i}") for i in range(count)]


async def test_a_kill_in_the_middle_of_a_500_recipient_broadcast_loses_nobody(
    network: Network, bot_process: StartBot, fake: FakeBotApi
) -> None:
    settings = {"BROADCAST_MAX_RATE": "150", "BROADCAST_PROGRESS_SECONDS": "0.5"}
    process = await bot_process(**settings)
    coordinator = await network.join(Role.COORDINATOR, first_name="Corinne")
    team = await add_recipients(network, fake, 500)  # each with a chat on the fake Telegram

    await compose(coordinator, "Nouvelle procédure RSA, à lire", [])
    await coordinator.tap("📨 Envoyer maintenant")

    async def fetched_only(update_id: int) -> None:
        # The default settle waits for silence, which only comes once every message is out.
        await fake.wait_for(lambda: fake.updates_confirmed >= update_id)

    fake.settle = fetched_only
    await coordinator.tap("✅ Oui, envoyer à 500 personnes")
    fake.settle = None
    await fake.wait_for(lambda: sum(got(u) for u in team) >= 100, timeout=30)
    await process.kill()
    delivered_before = sum(got(u) for u in team)
    assert delivered_before < len(team), "the kill came too late to test anything"
    in_flight = await network.db.fetch_value(
        "SELECT COUNT(*) FROM outbox WHERE kind LIKE 'broadcast:%' AND status = 'sending'"
    )

    await bot_process(**settings)
    await fake.wait_for(lambda: all(got(u) for u in team), timeout=60)
    copies = [sum("procédure RSA" in (m.text or "") for m in u.bot_messages) for u in team]
    duplicates = sum(count - 1 for count in copies)
    assert duplicates <= in_flight, (duplicates, in_flight)
    await fake.wait_for(lambda: "Envoi terminé" in report(coordinator), timeout=30)
    assert "reçus : 500" in report(coordinator)


async def run_due_at(bot: RunningBot, network: Network, instant: datetime) -> None:
    """The clock moves to `instant`, and the scheduler runs what is due by then."""
    network.clock.set(instant)
    await bot.app.bot_data["scheduler"].run_due()
    await outbox_settled(network)


async def test_a_news_item_cancelled_then_programmed_again_after_its_first_time_leaves_once(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser, coordinator: FakeUser
) -> None:
    await compose(coordinator, "Permanence exceptionnelle samedi", [])
    await coordinator.tap("🗓 Programmer")
    await coordinator.tap("Demain (27/11) à 9 h")
    assert "Programmée pour le vendredi 27 novembre 2026 à 9 h" in coordinator.last_message.text
    await coordinator.tap("✖️ Annuler l'envoi programmé")
    assert "Brouillon n° 1" in coordinator.last_message.text
    # Its first time comes and goes: nothing leaves.
    await run_due_at(bot, network, datetime(2026, 11, 27, 9, 1, tzinfo=PARIS))
    assert not got(agent, "Permanence exceptionnelle")
    # Programmed again, for the next day.
    await coordinator.tap("🗓 Programmer")
    await coordinator.tap("Demain (28/11) à 9 h")
    assert "Programmée pour le samedi 28 novembre 2026 à 9 h" in coordinator.last_message.text
    await run_due_at(bot, network, datetime(2026, 11, 28, 8, 59, tzinfo=PARIS))
    assert not got(agent, "Permanence exceptionnelle")
    await run_due_at(bot, network, datetime(2026, 11, 28, 9, 0, tzinfo=PARIS))
    await fake.wait_for(lambda: got(agent, "Permanence exceptionnelle"))
    await run_due_at(bot, network, datetime(2026, 11, 29, 9, 0, tzinfo=PARIS))
    copies = sum("Permanence exceptionnelle" in (m.text or "") for m in agent.bot_messages)
    assert copies == 1
    await fake.wait_for(lambda: "Envoi terminé" in report(coordinator))
    assert "lancé le samedi 28 novembre 2026 à 9 h" in report(coordinator)


async def test_a_reunion_caf_programs_tomorrow_9_am_and_the_news_leaves_at_9_in_reunion(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser, coordinator: FakeUser
) -> None:
    async with network.db.transaction() as tx:
        await cafs.update(tx, network.caf.id, timezone="Indian/Reunion")
    # 26 November, 9:00 UTC: 13:00 in La Réunion, 10:00 in Paris.
    await compose(coordinator, "Journée portes ouvertes à Saint-Denis", [])
    await coordinator.tap("🗓 Programmer")
    await coordinator.tap("Demain (27/11) à 9 h")
    assert "Programmée pour le vendredi 27 novembre 2026 à 9 h" in coordinator.last_message.text
    # A moment typed is read in La Réunion too, and shown back as typed.
    await compose(coordinator, "Rappel : dossiers de rentrée", [])
    await coordinator.tap("🗓 Programmer")
    await coordinator.send("demain 14h")
    assert "Programmée pour le vendredi 27 novembre 2026 à 14 h" in coordinator.last_message.text
    await run_due_at(bot, network, datetime(2026, 11, 27, 4, 59, tzinfo=UTC))
    assert not got(agent, "portes ouvertes")
    await run_due_at(bot, network, datetime(2026, 11, 27, 5, 0, tzinfo=UTC))  # 9:00 there
    await fake.wait_for(lambda: got(agent, "portes ouvertes"))
    assert not got(agent, "dossiers de rentrée")
    await run_due_at(bot, network, datetime(2026, 11, 27, 10, 0, tzinfo=UTC))  # 14:00 there
    await fake.wait_for(lambda: got(agent, "dossiers de rentrée"))
    # The progress messages, kept up to date by the background loop, speak La Réunion's time.
    for launched in ("à 9 h", "à 14 h"):
        await fake.wait_for(
            lambda launched=launched: any(
                "Envoi terminé" in (m.text or "")
                and f"lancé le vendredi 27 novembre 2026 {launched}" in (m.text or "")
                for m in coordinator.bot_messages
            )
        )


async def test_the_coordinator_sees_who_read_a_notice_and_when_a_page_at_a_time(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    async with network.db.transaction() as tx:
        await cafs.update(tx, network.caf.id, timezone="Indian/Reunion")
    await add_recipients(network, fake, 25)
    await compose(coordinator, "Consigne : nouveaux justificatifs", [])
    await coordinator.tap("☐ À lire obligatoirement")
    await coordinator.tap("📨 Envoyer maintenant")
    await coordinator.tap("✅ Oui, envoyer à 25 personnes")
    await outbox_settled(network)
    notice = await network.db.fetch_value("SELECT MAX(id) FROM announcements")
    readers = await network.db.fetch_all(
        "SELECT person_id FROM announcement_recipients WHERE announcement_id = :a"
        " ORDER BY person_id",
        {"a": notice},
    )
    # Agents 0 to 21 read it a minute apart, from 26 November 9:00 UTC (13:00 there).
    for n, row in enumerate(readers[:22]):
        at = network.clock.now() + timedelta(minutes=n)
        await announcements.mark_read(network.db, notice, row["person_id"], at)
    await coordinator.tap("📢 Diffuser")
    await coordinator.tap(next(b for b in coordinator.last_message.labels if "n° 1" in b))
    detail = coordinator.last_message
    assert "Lu par 22 / 25" in detail.text
    await coordinator.tap("✅ Qui a lu ? (22)", detail)
    assert "lu par 22 / 25 (88\u202f%)" in detail.text
    assert "page 1 sur 2" in detail.text
    assert "• Agent 0 — Mairie de Ham : jeudi 26 novembre à 13 h\n" in detail.text
    assert "• Agent 19 — Mairie de Ham : jeudi 26 novembre à 13 h 19" in detail.text
    assert "Agent 20" not in detail.text and "Agent 23" not in detail.text
    await coordinator.tap("Suivants ▶️", detail)
    assert "page 2 sur 2" in detail.text
    assert "• Agent 21 — Mairie de Ham : jeudi 26 novembre à 13 h 21" in detail.text
    await coordinator.tap("👀 Qui n'a pas lu ?", detail)
    assert "Pas encore lu (3)" in detail.text
    assert all(f"Agent {n}" in detail.text for n in (22, 23, 24))
    await coordinator.tap("⬅️ Retour", detail)
    assert "Lu par 22 / 25" in detail.text
