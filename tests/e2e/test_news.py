"""📰 Actualités, driven as an agent and a manager would: last week's news found again, a
must-read notice acknowledged from there (the coordinator sees who read it, and when), an
invitation answered and changed under the events' own rules (places, waiting list,
deadline), a document sent again, the list paged, and whatever is not theirs refused."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.events import EventKind
from bot.domain.permissions import PersonStatus
from bot.sandbox.bot_api import FakeBotApi, FakeMessage, FakeUser
from storage import cafs, people
from storage import events as event_store
from tests.conftest import Network, RunningBot
from tests.e2e.test_broadcast import compose, got
from tests.e2e.test_notifications import outbox_settled

NEWS = "actualites"


async def broadcast(
    coordinator: FakeUser, network: Network, text: str, *, must_read: bool = False
) -> None:
    """A news item (or a must-read notice) to everyone, sent now, through 📢 Diffuser."""
    await compose(coordinator, text, [])
    if must_read:
        await coordinator.tap("☐ À lire obligatoirement")
    await coordinator.tap("📨 Envoyer maintenant")
    confirm = next(b for b in coordinator.last_message.labels if b.startswith("✅ Oui"))
    await coordinator.tap(confirm)
    await outbox_settled(network)


async def training_day(
    network: Network, *, days: int = 30, capacity: int | None = None, deadline_days: int = 20
) -> int:
    """A published training day, its audience invited (as publishing does)."""
    now = network.clock.now()
    async with network.db.transaction() as tx:
        event = await event_store.create(
            tx,
            caf_id=network.caf.id,
            kind=EventKind.TRAINING_DAY,
            title="Journée annuelle de formation",
            starts_at=now + timedelta(days=days),
            ends_at=now + timedelta(days=days, hours=7),
            place="Amiens",
            visio_url=None,
            capacity=capacity,
            rsvp_deadline=now + timedelta(days=deadline_days),
            created_by=None,
            now=now,
        )
        await event_store.set_fields(tx, event.id, now, status="published")
        await event_store.invite_audience(tx, event)
    return event.id


async def open_news(user: FakeUser) -> FakeMessage:
    await user.tap("📰 Actualités")
    return user.last_message


async def test_an_agent_finds_last_weeks_news_acknowledges_a_notice_and_answers_an_event(
    bot: RunningBot,
    network: Network,
    fake: FakeBotApi,
    agent: FakeUser,
    manager: FakeUser,
    coordinator: FakeUser,
) -> None:
    await broadcast(coordinator, network, "Nouvelle procédure RSA dès lundi")
    await broadcast(coordinator, network, "Consigne : nouveaux justificatifs", must_read=True)
    await training_day(network)
    network.clock.advance(timedelta(days=7))  # a week later, Thursday 3 December

    screen = await open_news(agent)
    assert "Actualités de votre Caf" in screen.text
    assert "1 consigne attend votre « J'ai lu »" in screen.text
    assert "Journée annuelle de formation : pas encore répondu" in screen.text
    assert "samedi 26 décembre 2026 à 10 h" in screen.text  # in the Caf's zone
    assert "Informations reçues : 2" in screen.text
    assert "📢 26/11 · Nouvelle procédure RSA dès lundi" in screen.labels
    # Last week's news, read again in place.
    await agent.tap("📢 26/11 · Nouvelle procédure RSA dès lundi", screen)
    assert "Nouvelle procédure RSA dès lundi" in screen.text
    assert "Reçue le 26/11 à 10 h" in screen.text
    assert "✅ J'ai lu" not in screen.labels
    await agent.tap("⬅️ Actualités", screen)
    # The notice awaiting « J'ai lu », acknowledged from here.
    await agent.tap("❗ 26/11 · Consigne : nouveaux justificatifs", screen)
    assert "À lire" in screen.text and "Consigne : nouveaux justificatifs" in screen.text
    await agent.tap("✅ J'ai lu", screen)
    assert "lecture enregistrée" in agent.last_callback_answer["text"]
    assert "lue le 03/12 à 10 h" in screen.text
    assert "✅ J'ai lu" not in screen.labels
    # The button under the original notice knows it already.
    notice = next(m for m in agent.bot_messages if "✅ J'ai lu" in m.labels)
    await agent.tap("✅ J'ai lu", notice)
    assert "Déjà noté" in agent.last_callback_answer["text"]
    await agent.tap("⬅️ Actualités", screen)
    assert "consigne attend" not in screen.text
    assert "☑️ 26/11 · Consigne : nouveaux justificatifs" in screen.labels

    # The coordinator's count moved, and says who read it and when.
    await coordinator.tap("📢 Diffuser")
    await coordinator.tap(next(b for b in coordinator.last_message.labels if "n° 2" in b))
    detail = coordinator.last_message
    assert "Lu par 1 / 2" in detail.text
    await coordinator.tap("✅ Qui a lu ? (1)", detail)
    assert "lu par 1 / 2" in detail.text
    assert "Agnès — Mairie de Ham : jeudi 3 décembre à 10 h" in detail.text
    assert "Marc" not in detail.text
    await coordinator.tap("👀 Qui n'a pas lu ?", detail)
    assert "Marc" in detail.text and "Agnès" not in detail.text

    # The coming training day: answered, then changed.
    await agent.tap("📅 26/12 · Journée annuelle de formation", screen)
    assert "Votre réponse : pas encore répondu" in screen.text
    await agent.tap("✅ Je participe", screen)
    assert "vous participez" in agent.last_callback_answer["text"]
    assert "Votre réponse : vous participez" in screen.text
    assert "🔘 ✅ Je participe" in screen.labels
    await fake.wait_for(lambda: any(m.kind == "document" for m in agent.bot_messages))
    await agent.tap("❌ Je ne peux pas", screen)
    assert "Votre réponse : vous ne participez pas" in screen.text
    await agent.tap("⬅️ Actualités", screen)
    assert "Journée annuelle de formation : vous ne participez pas" in screen.text
    await outbox_settled(network)


async def test_an_answer_from_actualites_keeps_the_places_waiting_list_and_deadline(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser, manager: FakeUser
) -> None:
    await training_day(network, capacity=1, deadline_days=10)
    for user in (manager, agent):
        await open_news(user)
        await user.tap("📅 26/12 · Journée annuelle de formation")
        await user.tap("✅ Je participe")
    assert "liste d'attente" in agent.last_callback_answer["text"]
    assert "Votre réponse : liste d'attente" in agent.last_message.text
    event_screen = agent.last_message
    stale_yes = event_screen.inline_buttons[0][0][1]
    # The manager gives up the place: the agent, first waiting, takes it and is told.
    await manager.tap("❌ Je ne peux pas")
    await fake.wait_for(lambda: got(agent, "Une place s'est libérée"))
    await agent.tap("⬅️ Actualités", event_screen)
    assert "Journée annuelle de formation : vous participez" in event_screen.text
    # Past the deadline, the answer stands: no buttons, and an old one is refused.
    network.clock.advance(timedelta(days=11))
    await agent.tap("📅 26/12 · Journée annuelle de formation", event_screen)
    assert "La date limite de réponse est passée" in event_screen.text
    assert "✅ Je participe" not in " ".join(event_screen.labels)
    await agent.tap_data(stale_yes, event_screen)
    assert "date limite" in agent.last_callback_answer["text"]
    await outbox_settled(network)


async def test_a_document_is_sent_again_by_its_file_id_and_the_list_is_paged(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser, coordinator: FakeUser
) -> None:
    await coordinator.tap("📢 Diffuser")
    await coordinator.tap("✍️ Nouvelle information")
    await coordinator.send_photo(caption="Affiche de la journée portes ouvertes")
    await coordinator.tap("📨 Envoyer maintenant")
    await coordinator.tap("✅ Oui, envoyer à 1 personne")
    await outbox_settled(network)
    [original] = [m for m in agent.bot_messages if m.kind == "photo"]
    for n in range(7):
        network.clock.advance(timedelta(minutes=1))
        await broadcast(coordinator, network, f"Information numéro {n + 1}")
    screen = await open_news(agent)
    assert "Informations reçues : 8 (page 1 sur 2)." in screen.text
    assert "📢 26/11 · Information numéro 7" in screen.labels
    assert not any("Affiche" in label for label in screen.labels)
    await agent.tap("Suivants ▶️", screen)
    assert "page 2 sur 2" in screen.text
    await agent.tap("📢 26/11 · Affiche de la journée portes ouvertes", screen)
    assert "La photo suit" in screen.text
    again = agent.last_message
    assert again.kind == "photo" and again.file_id == original.file_id
    assert not fake.calls_to("getFile")
    await agent.tap("⬅️ Actualités", screen)
    assert "page 2 sur 2" in screen.text  # back where the reader was


async def test_a_coordinator_has_no_entry_and_nobody_opens_what_was_not_theirs(
    bot: RunningBot,
    network: Network,
    agent: FakeUser,
    manager: FakeUser,
    coordinator: FakeUser,
) -> None:
    for user, offered in ((agent, True), (manager, True), (coordinator, False)):
        labels = [label for row in user.reply_keyboard or [] for label in row]
        assert ("📰 Actualités" in labels) is offered, user
    assert NEWS not in [name for name, _ in coordinator.commands or []]
    assert NEWS in [name for name, _ in agent.commands or []]
    # A notice for the agents only: the manager did not get it, nor the event.
    await compose(coordinator, "Consigne aux agents", [])
    await coordinator.tap("Agents")
    await coordinator.tap("☐ À lire obligatoirement")
    await coordinator.tap("📨 Envoyer maintenant")
    await coordinator.tap("✅ Oui, envoyer à 1 personne")
    await outbox_settled(network)
    notice = await network.db.fetch_value("SELECT MAX(id) FROM announcements")
    screen = await open_news(manager)
    assert "Informations reçues : aucune" in screen.text
    for forged in (f"nw:item:{notice}:0", f"nw:read:{notice}:0", "nw:event:99:0", "nw:yes:99:0"):
        await manager.tap_data(forged, screen)
        assert "expiré" in manager.last_callback_answer["text"], forged
    assert await network.db.fetch_value("SELECT COUNT(read_at) FROM announcement_recipients") == 0
    # Empty for the agent but for that notice; the coordinator may still type the command.
    screen = await open_news(agent)
    assert "1 consigne attend" in screen.text
    await coordinator.send("/actualites")
    assert "Actualités de votre Caf" in coordinator.last_message.text


async def test_times_follow_the_cafs_zone_and_a_revoked_agent_is_refused(
    bot: RunningBot, network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    async with network.db.transaction() as tx:
        await cafs.update(tx, network.caf.id, timezone="Indian/Reunion")
    await broadcast(coordinator, network, "Information de La Réunion")
    await training_day(network)
    screen = await open_news(agent)
    # 26 November, 9:00 UTC is 13:00 in La Réunion; the event starts a month later.
    assert "samedi 26 décembre 2026 à 13 h" in screen.text
    await agent.tap("📢 26/11 · Information de La Réunion", screen)
    assert "Reçue le 26/11 à 13 h" in screen.text
    member = await people.member_by_telegram_id(network.db, agent.user_id)
    assert member is not None
    await people.set_status(network.db, member.person.id, PersonStatus.REVOKED, network.clock.now())
    await agent.send("/actualites")
    assert "Actualités de votre Caf" not in agent.last_message.text
    await agent.tap("⬅️ Actualités", screen)
    assert "Information de La Réunion" in screen.text  # unchanged: refused
