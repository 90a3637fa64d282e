"""📅 Événements, driven as a new coordinator and the people invited would: creation,
invitations, answers with capacity and waiting list, .ics files, reminders, attendance,
cancellation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from bot.domain.permissions import Role
from tests.conftest import Network, RunningBot
from tests.e2e.test_notifications import outbox_settled
from tests.fake_bot_api import FakeBotApi, FakeMessage, FakeUser

TITLE = "Journée annuelle de formation"


async def create_event(
    coordinator: FakeUser, *, capacity: str | None = None, start: str = "15/12 à 9h30"
) -> None:
    await coordinator.tap("📅 Événements")
    await coordinator.tap("➕ Nouvel événement")
    await coordinator.tap("Journée annuelle de formation")
    await coordinator.tap(f"Garder « {TITLE} »")
    await coordinator.send(start)
    await coordinator.send("17h")
    await coordinator.send("Maison des associations, 12 rue des Jacobins, Amiens")
    if capacity is None:
        await coordinator.tap("Sans limite")
    else:
        await coordinator.send(capacity)
    await coordinator.tap("2 jours avant")


def invitation_of(user: FakeUser) -> FakeMessage:
    return next(
        m for m in reversed(user.bot_messages) if "Invitation de votre Caf" in (m.text or "")
    )


def ics_files(fake: FakeBotApi, user: FakeUser) -> list[Calendar]:
    calls = [c for c in fake.calls_to("sendDocument") if c.params.get("chat_id") == user.chat_id]
    return [Calendar.from_ical(c.params["document"][1]) for c in calls]


async def test_a_training_day_with_capacity_waiting_list_reminders_and_attendance(
    bot: RunningBot, network: Network, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    fake = network.fake
    other = await network.join(Role.AGENT, partner=network.other_site, first_name="Olga")
    await create_event(coordinator, capacity="1")
    draft = coordinator.last_message.text
    assert TITLE in draft and "brouillon" in draft
    assert "mardi 15 décembre 2026 à 9 h 30, jusqu'à 17 h" in draft
    assert "Places : 1" in draft and "dimanche 13 décembre 2026 à 9 h 30" in draft
    assert "Invités : 3 personnes" in draft
    await coordinator.tap("📨 Publier et inviter (3)")
    for person in (agent, manager, other):
        await fake.wait_for(
            lambda p=person: any(
                "Invitation de votre Caf" in (m.text or "") for m in p.bot_messages
            )
        )
        assert "✅ Je participe" in invitation_of(person).labels

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
    await create_event(coordinator)
    await coordinator.tap("Responsables")
    assert "Invités : 1 personne" in coordinator.last_message.text
    await coordinator.tap("👥 Tout le réseau")
    await coordinator.tap("📨 Publier et inviter (2)")
    await fake.wait_for(lambda: any("Invitation" in (m.text or "") for m in agent.bot_messages))
    await agent.tap("✅ Je participe", invitation_of(agent))
    await coordinator.tap("✖️ Annuler l'événement")
    await coordinator.tap("✖️ Oui, annuler et prévenir les invités")
    assert "annulé" in coordinator.last_message.text
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


async def test_malformed_dates_are_answered_and_the_wizard_goes_on(
    bot: RunningBot, network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    await coordinator.tap("📅 Événements")
    await coordinator.tap("➕ Nouvel événement")
    await coordinator.tap("Comité de pilotage du réseau")
    await coordinator.send("Comité de pilotage 2027")
    for typed, answer in [
        ("bientôt", "par exemple"),
        ("20/11 à 9h", "passé"),
        ("15/12", "par exemple"),
    ]:
        await coordinator.send(typed)
        assert answer in coordinator.last_message.text, typed
    await coordinator.send("15/01 à 14h")
    await coordinator.send("12h")
    assert "après le début" in coordinator.last_message.text
    await coordinator.send("16h30")
    await coordinator.send("https://visio.caf.fr/comite")
    await coordinator.tap("20")
    await coordinator.send("10/01")
    assert "Comité de pilotage 2027" in coordinator.last_message.text
    assert "visio.caf.fr" in coordinator.last_message.text
    assert "dimanche 10 janvier 2027 à 23 h 59" in coordinator.last_message.text


async def test_the_sites_of_a_large_caf_are_chosen_page_by_page(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    # More sites than one keyboard may show (the list used to stop at the 40th).
    sites = [await network.add_site(f"Site {n:02d}") for n in range(1, 46)]
    last = await network.join(Role.AGENT, partner=sites[-1], first_name="Zoé")
    await create_event(coordinator)
    await coordinator.tap("🏢 Choisir des sites")
    pages = 1
    while "▫️ Site 45 (Amiens)" not in coordinator.last_message.labels:
        assert len(coordinator.last_message.labels) <= 11  # 8 sites, the pager, « Terminé »
        await coordinator.tap("▶️")
        pages += 1
    assert pages == 6  # 47 sites (Ham, Albert and these 45), 8 a page
    await coordinator.tap("▫️ Site 45 (Amiens)")
    # Ticking keeps the page it is on.
    assert "✅ Site 45 (Amiens)" in coordinator.last_message.labels
    assert "◀️" in coordinator.last_message.labels
    await coordinator.tap("✔️ Terminé")
    assert "Invités : 1 personne" in coordinator.last_message.text
    await coordinator.tap("📨 Publier et inviter (1)")
    await fake.wait_for(
        lambda: any("Invitation de votre Caf" in (m.text or "") for m in last.bot_messages)
    )
