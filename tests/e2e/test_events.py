"""📅 Événements, driven as a new coordinator and the people invited would: creation in one
message (back, cancel, any capacity, text where a button is expected, a restart midway),
invitations, answers with capacity and waiting list, .ics files, reminders at the Caf's
hour, attendance, cancellation, and two Cafs in two time zones side by side."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.domain.models import Caf, ReportingPeriod
from bot.domain.permissions import Role
from bot.sandbox.bot_api import FakeBotApi, FakeMessage, FakeUser
from bot.services import cafs
from tests.conftest import Network, RunningBot
from tests.e2e.conftest import Restart
from tests.e2e.test_notifications import outbox_settled

TITLE = "Journée annuelle de formation"
PLACE = "Maison des associations, 12 rue des Jacobins, Amiens"
PARIS, REUNION = ZoneInfo("Europe/Paris"), ZoneInfo("Indian/Reunion")

# Each creation step: what identifies it in the flow's message, and how it is answered.
Answer = Callable[[FakeUser, FakeMessage], Awaitable[object]]


def tap(label: str) -> Answer:
    return lambda user, message: user.tap(label, message)


def say(text: str) -> Answer:
    return lambda user, message: user.send(text)


STEPS: list[tuple[str, Answer]] = [
    ("De quel type d'événement", tap(TITLE)),
    ("Titre de l'événement", tap(f"Garder « {TITLE} »")),
    ("Jour et heure de début", say("15/12 à 9h30")),
    ("Heure de fin", say("17h")),
    ("📍 Lieu", say(PLACE)),
    ("Nombre de places", tap("Sans limite")),
    ("Date limite de réponse", tap("2 jours avant")),
]


async def open_creation(coordinator: FakeUser) -> FakeMessage:
    """📅 Événements, then ➕ Nouvel événement: the flow's one message."""
    await coordinator.tap("📅 Événements")
    flow = coordinator.last_message
    await coordinator.tap("➕ Nouvel événement", flow)
    assert "étape 1 sur 7" in flow.text
    return flow


async def create_event(
    coordinator: FakeUser,
    *,
    capacity: str | None = None,
    start: str = "15/12 à 9h30",
    end: str = "17h",
) -> FakeMessage:
    """A training day created step by step; its draft card is in the returned message."""
    flow = await open_creation(coordinator)
    await coordinator.tap(TITLE, flow)
    await coordinator.tap(f"Garder « {TITLE} »", flow)
    await coordinator.send(start)
    await coordinator.send(end)
    await coordinator.send(PLACE)
    if capacity is None:
        await coordinator.tap("Sans limite", flow)
    else:
        await coordinator.send(capacity)
    await coordinator.tap("2 jours avant", flow)
    assert "brouillon" in flow.text, flow.text
    return flow


def invitation_of(user: FakeUser) -> FakeMessage:
    return next(
        m for m in reversed(user.bot_messages) if "Invitation de votre Caf" in (m.text or "")
    )


def ics_files(fake: FakeBotApi, user: FakeUser) -> list[Calendar]:
    calls = [c for c in fake.calls_to("sendDocument") if c.params.get("chat_id") == user.chat_id]
    return [Calendar.from_ical(c.params["document"][1]) for c in calls]


def sent_to(fake: FakeBotApi, user: FakeUser) -> int:
    """How many messages the bot has sent (not edited) to this person."""
    return sum(1 for c in fake.calls_to("sendMessage") if c.params.get("chat_id") == user.chat_id)


async def invited(fake: FakeBotApi, *people: FakeUser) -> None:
    for person in people:
        await fake.wait_for(
            lambda p=person: any(
                "Invitation de votre Caf" in (m.text or "") for m in p.bot_messages
            )
        )


# ------------------------------------------------------------------------------ one message
async def test_a_training_day_for_37_is_created_in_one_message(
    bot: RunningBot, network: Network, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    fake = network.fake
    await outbox_settled(network)  # the « new agent » notices of the joins are out of the way
    before = {user: sent_to(fake, user) for user in (coordinator, agent, manager)}
    flow = await open_creation(coordinator)
    await coordinator.tap(TITLE, flow)
    await coordinator.send("Journée de formation 2026")
    # A typed answer is acknowledged in the flow's message, and the typed text stays.
    assert "Titre : Journée de formation 2026" in flow.text and "étape 3 sur 7" in flow.text
    assert coordinator.messages[-1].text == "Journée de formation 2026"
    await coordinator.send("15/12 à 9h30")
    await coordinator.send("17h")
    await coordinator.send(PLACE)
    assert "Début : le mardi 15 décembre 2026 à 9 h 30" in flow.text
    assert "Fin : 17 h" in flow.text and "Lieu : Maison des associations" in flow.text
    # Any whole number from 1 to 10 000; anything else is refused in French, in place.
    for typed, refusal in [
        ("trente", "Écrivez un nombre entier de places"),
        ("12,5", "Écrivez un nombre entier de places"),
        ("0", "Il faut au moins 1 place"),
        ("10 001", "10\u202f000 places au plus"),
    ]:
        await coordinator.send(typed)
        assert refusal in flow.text, typed
        assert "Nombre de places" in flow.text and "Sans limite" in flow.labels
    await coordinator.send("37")
    assert "Places : 37" in flow.text and "Date limite de réponse" in flow.text
    await coordinator.tap("2 jours avant", flow)
    assert "Places : 37" in flow.text and "brouillon" in flow.text
    assert "Invités : 2 personnes" in flow.text
    await coordinator.tap("📨 Publier et inviter (2)", flow)
    assert "participent : 0 / 37" in flow.text
    await invited(fake, agent, manager)
    await outbox_settled(network)

    # One message for the whole flow, and one invitation to each person invited.
    assert sent_to(fake, coordinator) - before[coordinator] == 1
    assert [sent_to(fake, u) - before[u] for u in (agent, manager)] == [1, 1]
    assert coordinator.bot_messages[-1] is flow
    assert "Places limitées (37)" in invitation_of(agent).text
    assert await network.db.fetch_value("SELECT capacity FROM events") == 37
    assert await network.db.fetch_value("SELECT COUNT(*) FROM pending_inputs") == 0


async def test_back_and_cancel_work_at_each_step(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    fake = network.fake
    await outbox_settled(network)
    sent = sent_to(fake, coordinator)
    for number, (question, _) in enumerate(STEPS, start=1):
        # ⬅️ Retour: the step before, in the same message (from the first, the list).
        flow = await open_creation(coordinator)
        for _, answer in STEPS[: number - 1]:
            await answer(coordinator, flow)
        assert question in flow.text and f"étape {number} sur 7" in flow.text, flow.text
        await coordinator.tap("⬅️ Retour", flow)
        if number == 1:
            assert "➕ Nouvel événement" in flow.labels
        else:
            assert f"étape {number - 1} sur 7" in flow.text
            assert STEPS[number - 2][0] in flow.text
            # What was given before that step is still there, and it can be given again.
            if number > 2:
                assert f"Type : {TITLE}" in flow.text
            await STEPS[number - 2][1](coordinator, flow)
            assert question in flow.text and f"étape {number} sur 7" in flow.text
        # ✖️ Annuler: nothing is kept, the list is back in the same message.
        flow = await open_creation(coordinator)
        for _, answer in STEPS[: number - 1]:
            await answer(coordinator, flow)
        await coordinator.tap("✖️ Annuler", flow)
        assert coordinator.last_callback_answer["text"] == "Création abandonnée."
        assert "➕ Nouvel événement" in flow.labels
        assert await network.db.fetch_value("SELECT COUNT(*) FROM pending_inputs") == 0
        # A button of the abandoned creation changes nothing.
        await coordinator.tap_data("e:default:0:1", flow)
        assert "reprenez depuis" in coordinator.last_callback_answer["text"]
    assert await network.db.fetch_value("SELECT COUNT(*) FROM events") == 0
    # Each round opened 📅 Événements twice: one message each, the steps all edits.
    assert sent_to(fake, coordinator) - sent == 2 * len(STEPS)


async def test_text_where_a_button_is_expected_shows_the_step_again_in_place(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    await outbox_settled(network)
    flow = await open_creation(coordinator)
    sent = sent_to(fake, coordinator)
    await coordinator.send("une réunion")
    assert "De quel type d'événement" in flow.text and "touchez un des boutons" in flow.text
    assert TITLE in flow.labels and sent_to(fake, coordinator) == sent
    # Too old to be edited: a fresh copy, the old one without its buttons.
    fake.fail("editMessageText", status=400, description="Bad Request: message can't be edited")
    await coordinator.send("une réunion")
    fresh = coordinator.last_message
    assert fresh is not flow and "De quel type d'événement" in fresh.text
    assert flow.labels == [] and sent_to(fake, coordinator) == sent + 1
    # The steps go on in the fresh copy.
    await coordinator.tap(TITLE, fresh)
    await coordinator.send("Formation 2026")
    assert "Titre : Formation 2026" in fresh.text and "Jour et heure de début" in fresh.text
    for _, answer in STEPS[2:]:
        await answer(coordinator, fresh)
    assert "brouillon" in fresh.text
    # The draft's card is a step too.
    await coordinator.send("et maintenant ?")
    assert "brouillon" in fresh.text and "touchez un des boutons" in fresh.text
    assert sent_to(fake, coordinator) == sent + 1


async def test_a_restart_in_the_middle_of_the_creation_loses_nothing(
    restart: Restart, network: Network, coordinator: FakeUser
) -> None:
    flow = await open_creation(coordinator)
    for _, answer in STEPS[:5]:
        await answer(coordinator, flow)
    assert "Nombre de places" in flow.text
    await restart()
    await coordinator.send("37")
    assert "Places : 37" in flow.text and "Lieu : Maison des associations" in flow.text
    await coordinator.tap("2 jours avant", flow)
    assert "mardi 15 décembre 2026 à 9 h 30, jusqu'à 17 h" in flow.text
    assert "Places : 37" in flow.text and "brouillon" in flow.text


# ------------------------------------------------------------------------------ the invited
async def test_a_training_day_with_capacity_waiting_list_reminders_and_attendance(
    bot: RunningBot, network: Network, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    fake = network.fake
    other = await network.join(Role.AGENT, partner=network.other_site, first_name="Olga")
    card = await create_event(coordinator, capacity="1")
    draft = card.text
    assert TITLE in draft and "brouillon" in draft
    assert "mardi 15 décembre 2026 à 9 h 30, jusqu'à 17 h" in draft
    assert "Places : 1" in draft and "dimanche 13 décembre 2026 à 9 h 30" in draft
    assert "Invités : 3 personnes" in draft
    await coordinator.tap("📨 Publier et inviter (3)", card)
    await invited(fake, agent, manager, other)
    assert "✅ Je participe" in invitation_of(agent).labels

    await agent.tap("✅ Je participe", invitation_of(agent))
    assert "vous participez" in agent.last_callback_answer["text"]
    await manager.tap("✅ Je participe", invitation_of(manager))
    assert "liste d'attente" in manager.last_callback_answer["text"]
    await manager.tap("✅ Je participe", invitation_of(manager))  # a double tap
    assert "Déjà noté" in manager.last_callback_answer["text"]
    assert "Votre réponse : liste d'attente" in invitation_of(manager).text
    await fake.wait_for(lambda: len(ics_files(fake, agent)) == 1)
    [calendar] = ics_files(fake, agent)
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == TITLE and "Jacobins" in str(vevent["LOCATION"])

    # The agent withdraws: the manager takes the place and is told.
    await agent.tap("❌ Je ne peux pas", invitation_of(agent))
    await fake.wait_for(
        lambda: any("Une place s'est libérée" in (m.text or "") for m in manager.bot_messages)
    )
    await fake.wait_for(lambda: len(ics_files(fake, manager)) == 1)
    answers = dict(
        await network.db.fetch_all(
            "SELECT person_id, status FROM event_invitations ORDER BY person_id"
        )
    )
    assert sorted(answers.values()) == ["declined", "going", "invited"]

    # The reminders fall at 9:00 in the Caf's zone (NOTIFY_HOUR) on their days.
    due = dict(
        await network.db.fetch_all(
            "SELECT key, due_at FROM scheduled_jobs WHERE kind = 'event_reminder'"
        )
    )
    assert {key.rsplit(":", 1)[1]: at for key, at in due.items()} == {
        "j7": "2026-12-08T08:00:00+00:00",
        "deadline": "2026-12-11T08:00:00+00:00",
        "j1": "2026-12-14T08:00:00+00:00",
    }
    scheduler = bot.app.bot_data["scheduler"]
    network.clock.advance(timedelta(days=12))  # Tuesday 8 December: one week before
    await scheduler.run_due()
    await fake.wait_for(lambda: "dans une semaine" in (manager.last_message.text or ""))
    network.clock.advance(timedelta(days=3))  # Friday 11: two days before the deadline
    await scheduler.run_due()
    await fake.wait_for(lambda: "pas encore répondu" in (other.last_message.text or ""))
    assert not any("pas encore répondu" in (m.text or "") for m in agent.bot_messages)
    network.clock.advance(timedelta(days=3))  # Monday 14: the deadline has passed
    await other.tap("✅ Je participe", invitation_of(other))
    assert "date limite" in other.last_callback_answer["text"]
    await scheduler.run_due()  # the day-before reminder
    await fake.wait_for(lambda: "demain" in (manager.last_message.text or ""))

    network.clock.advance(timedelta(days=1, hours=2))  # during the day
    await coordinator.tap("📅 Événements")
    await coordinator.tap(next(b for b in coordinator.last_message.labels if TITLE in b))
    await coordinator.tap("✅ Présences")
    await coordinator.tap("▫️ Marc · Mairie de Ham")
    assert "✅ Marc · Mairie de Ham" in coordinator.last_message.labels
    await coordinator.tap("⬅️ L'événement")
    assert "présents notés : 1" in coordinator.last_message.text
    await coordinator.tap("👥 Réponses")
    assert "Marc — Mairie de Ham · présent" in coordinator.last_message.text
    await outbox_settled(network)


@pytest.mark.usefixtures("bot")
async def test_cancelling_an_event_tells_everyone_and_closes_the_answers(
    network: Network, fake: FakeBotApi, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    card = await create_event(coordinator)
    await coordinator.tap("Responsables", card)
    assert "Invités : 1 personne" in card.text
    await coordinator.tap("👥 Tout le réseau", card)
    await coordinator.tap("📨 Publier et inviter (2)", card)
    await invited(fake, agent)
    await agent.tap("✅ Je participe", invitation_of(agent))
    await coordinator.tap("✖️ Annuler l'événement", card)
    await coordinator.tap("✖️ Oui, annuler et prévenir les invités", card)
    assert "annulé" in card.text
    for person in (agent, manager):
        await fake.wait_for(
            lambda p=person: any("Événement annulé" in (m.text or "") for m in p.bot_messages)
        )
    await fake.wait_for(lambda: len(ics_files(fake, agent)) == 2)
    cancelled = ics_files(fake, agent)[-1]
    assert str(cancelled["METHOD"]) == "CANCEL"
    await manager.tap("✅ Je participe", invitation_of(manager))
    assert "annulé" in manager.last_callback_answer["text"]
    assert (
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM scheduled_jobs"
            " WHERE kind = 'event_reminder' AND status = 'pending'"
        )
        == 0
    )


async def test_events_belong_to_coordinators_and_answers_to_those_invited(
    bot: RunningBot, network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    await agent.send("/evenements")
    assert "pas ouverte à votre rôle" in agent.last_message.text
    await create_event(coordinator, start="15/12 à 9h30")
    event_id = await network.db.fetch_value("SELECT id FROM events")
    await agent.tap_data(f"e:publish:{event_id}:0")
    assert await network.db.fetch_value("SELECT status FROM events") == "draft"
    other_caf = await network.add_caf("Caf de l'Oise")
    outsider = await network.join(Role.COORDINATOR, caf=other_caf, first_name="Oscar")
    await outsider.tap_data(f"e:publish:{event_id}:0")
    assert await network.db.fetch_value("SELECT status FROM events") == "draft"
    # An answer from someone not invited changes nothing.
    await agent.tap_data(f"r:{event_id}:yes")
    assert await network.db.fetch_value("SELECT COUNT(*) FROM event_invitations") == 0


async def test_malformed_dates_are_answered_in_place_and_the_creation_goes_on(
    bot: RunningBot, network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    flow = await open_creation(coordinator)
    await coordinator.tap("Comité de pilotage du réseau", flow)
    await coordinator.send("Comité de pilotage 2027")
    for typed, answer in [
        ("bientôt", "par exemple"),
        ("20/11 à 9h", "passé"),
        ("15/12", "par exemple"),
    ]:
        await coordinator.send(typed)
        assert answer in flow.text and "Jour et heure de début" in flow.text, typed
    await coordinator.send("15/01 à 14h")
    await coordinator.send("12h")
    assert "après le début" in flow.text and "Heure de fin" in flow.text
    await coordinator.send("16h30")
    await coordinator.send("https://visio.caf.fr/comite")
    assert "Visio : https://visio.caf.fr/comite" in flow.text
    await coordinator.tap("20", flow)
    for typed, answer in [("16/01", "doit précéder"), ("20/11", "déjà passée")]:
        await coordinator.send(typed)
        assert answer in flow.text and "Date limite de réponse" in flow.text, typed
    await coordinator.send("10/01")
    assert "Comité de pilotage 2027" in flow.text and "visio.caf.fr" in flow.text
    assert "dimanche 10 janvier 2027 à 23 h 59" in flow.text


async def test_the_sites_of_a_large_caf_are_chosen_page_by_page(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    # More sites than one keyboard may show (the list used to stop at the 40th).
    sites = [await network.add_site(f"Site {n:02d}") for n in range(1, 46)]
    last = await network.join(Role.AGENT, partner=sites[-1], first_name="Zoé")
    card = await create_event(coordinator)
    await coordinator.tap("🏢 Choisir des sites", card)
    pages = 1
    while "▫️ Site 45 (Amiens)" not in card.labels:
        assert len(card.labels) <= 11  # 8 sites, the pager, « Terminé »
        await coordinator.tap("▶️", card)
        pages += 1
    assert pages == 6  # 47 sites (Ham, Albert and these 45), 8 a page
    await coordinator.tap("▫️ Site 45 (Amiens)", card)
    # Ticking keeps the page it is on.
    assert "✅ Site 45 (Amiens)" in card.labels
    assert "◀️" in card.labels
    await coordinator.tap("✔️ Terminé", card)
    assert "Invités : 1 personne" in card.text
    await coordinator.tap("📨 Publier et inviter (1)", card)
    await invited(fake, last)


# ------------------------------------------------------------------------------ time zones
async def reunion(network: Network) -> Caf:
    """A Caf overseas, added as the operator would (`cafs add … --timezone`)."""
    return await cafs.add(
        network.db,
        name="Caf de La Réunion",
        period=ReportingPeriod.MONTHLY,
        timezone="Indian/Reunion",
        notify_chat_id=None,
        now=network.clock.now(),
    )


async def test_each_caf_has_its_events_at_its_own_hours(
    bot: RunningBot, network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    fake = network.fake
    caf = await reunion(network)
    site = await network.add_site("Mairie de Saint-Denis", caf=caf)
    their_coordinator = await network.join(Role.COORDINATOR, caf=caf, first_name="Sully")
    their_agent = await network.join(Role.AGENT, partner=site, first_name="Nadia")
    cards = {}
    for creator, people in ((coordinator, agent), (their_coordinator, their_agent)):
        card = await create_event(creator, start="15/12 à 14h")
        # 14:00 where the event is, and every hour of the card in the same zone.
        assert "mardi 15 décembre 2026 à 14 h, jusqu'à 17 h" in card.text
        assert "dimanche 13 décembre 2026 à 14 h" in card.text
        await creator.tap("📨 Publier et inviter (1)", card)
        await invited(fake, people)
        assert "mardi 15 décembre 2026 à 14 h, jusqu'à 17 h" in invitation_of(people).text
        await people.tap("✅ Je participe", invitation_of(people))
        assert "mardi 15 décembre 2026 à 14 h" in invitation_of(people).text
        cards[creator.user_id] = card
    starts = {
        zone: datetime.fromisoformat(at)
        for zone, at in await network.db.fetch_all(
            "SELECT c.timezone, e.starts_at FROM events e JOIN cafs c ON c.id = e.caf_id"
        )
    }
    assert starts == {
        "Europe/Paris": datetime(2026, 12, 15, 13, 0, tzinfo=UTC),
        "Indian/Reunion": datetime(2026, 12, 15, 10, 0, tzinfo=UTC),
    }

    # The day-before reminder: 9:00 in each Caf, three hours apart in UTC.
    due = {
        zone: datetime.fromisoformat(at)
        for zone, at in await network.db.fetch_all(
            "SELECT c.timezone, j.due_at FROM scheduled_jobs j"
            " JOIN events e ON j.key = 'event:' || e.id || ':j1' JOIN cafs c ON c.id = e.caf_id"
        )
    }
    paris_at, reunion_at = due["Europe/Paris"], due["Indian/Reunion"]
    assert (paris_at.astimezone(PARIS).hour, reunion_at.astimezone(REUNION).hour) == (9, 9)
    offset = reunion_at.astimezone(REUNION).utcoffset()
    assert offset is not None
    assert paris_at - reunion_at == offset - paris_at.astimezone(PARIS).utcoffset()
    assert paris_at - reunion_at == timedelta(hours=3)

    def told(user: FakeUser) -> bool:
        return any("Rappel" in (m.text or "") and "demain" in m.text for m in user.bot_messages)

    scheduler = bot.app.bot_data["scheduler"]
    network.clock.advance(reunion_at + timedelta(minutes=1) - network.clock.now())
    await scheduler.run_due()
    await fake.wait_for(lambda: told(their_agent))
    await outbox_settled(network)
    assert not told(agent)
    reminder = next(m for m in their_agent.bot_messages if "demain" in (m.text or ""))
    assert "demain, le mardi 15 décembre 2026 à 14 h" in reminder.text
    network.clock.advance(paris_at + timedelta(minutes=1) - network.clock.now())
    await scheduler.run_due()
    await fake.wait_for(lambda: told(agent))
    reminder = next(m for m in agent.bot_messages if "demain" in (m.text or ""))
    assert "demain, le mardi 15 décembre 2026 à 14 h" in reminder.text
    # The events list of each Caf, on its own calendar.
    for creator in (coordinator, their_coordinator):
        await creator.tap("📅 Événements")
        assert any(label.startswith("📅 15/12 ·") for label in creator.last_message.labels)
