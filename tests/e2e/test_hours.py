"""🕘 Horaires et fermetures, driven as a new manager would, with the Caf on the other side."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.permissions import Role
from tests.conftest import Network, RunningBot
from tests.e2e.conftest import Restart
from tests.e2e.test_notifications import outbox_settled
from tests.fake_bot_api import FakeBotApi, FakeUser

FULL_DAY = "Journée 9 h – 12 h / 14 h – 17 h"


async def set_day(manager: FakeUser, day: str, slot_or_text: str) -> None:
    [label] = [label for label in manager.last_message.labels if label.startswith(f"{day} :")]
    await manager.tap(label)
    if slot_or_text in manager.last_message.labels:
        await manager.tap(slot_or_text)
    else:
        await manager.send(slot_or_text)


async def declare_week_of_full_days(manager: FakeUser) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    await set_day(manager, "Lundi", FULL_DAY)
    await manager.tap("📋 Copier le lundi sur mardi → vendredi")
    await manager.tap("Suivant ▶️")


async def signals_of(network: Network, kind: str) -> list[tuple[int, str]]:
    rows = await network.db.fetch_all(
        "SELECT id, status FROM signals WHERE kind = :k ORDER BY id", {"k": kind}
    )
    return [(int(r[0]), str(r[1])) for r in rows]


async def active_closures(network: Network) -> int:
    return int(
        await network.db.fetch_value("SELECT COUNT(*) FROM closures WHERE cancelled_at IS NULL")
    )


async def test_a_new_manager_declares_compliant_hours_and_the_caf_gets_them(
    bot: RunningBot, network: Network, fake: FakeBotApi, manager: FakeUser, coordinator: FakeUser
) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    assert "Aucun horaire n'est encore déclaré" in manager.last_message.text
    await manager.tap("✏️ Modifier les horaires")
    assert "Lundi : Fermé" in manager.last_message.labels
    await set_day(manager, "Lundi", FULL_DAY)
    assert "Lundi : 9 h – 12 h, 14 h – 17 h" in manager.last_message.labels
    await manager.tap("📋 Copier le lundi sur mardi → vendredi")
    assert "Vendredi : 9 h – 12 h, 14 h – 17 h" in manager.last_message.labels
    assert "Samedi : Fermé" in manager.last_message.labels
    assert "Horaires conformes : 10 demi-journées, 30 h par semaine." in manager.last_message.text
    await manager.tap("Suivant ▶️")
    review = manager.last_message
    assert "Applicables dès aujourd'hui" in review.text
    assert "Lundi : 9 h – 12 h, 14 h – 17 h" in review.text
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    assert "Horaires enregistrés" in manager.last_message.text
    assert "jeudi 26 novembre 2026" in manager.last_message.text

    await fake.wait_for(lambda: "🕘" in (coordinator.last_message.text or ""))
    notice = coordinator.last_message.text
    assert "Horaires" in notice and "Mairie de Ham" in notice and "Marc" in notice
    assert "Lundi : 9 h – 12 h, 14 h – 17 h" in notice
    assert "Horaires conformes" in notice
    assert [status for _, status in await signals_of(network, "hours")] == ["open"]
    assert await signals_of(network, "label_risk") == []

    await manager.tap("⬅️ Horaires et fermetures")
    assert "Horaires en vigueur" in manager.last_message.text
    assert "Mercredi : 9 h – 12 h, 14 h – 17 h" in manager.last_message.text
    await manager.tap("📜 Historique des horaires")
    assert "par Marc" in manager.last_message.text
    assert await network.db.fetch_value("SELECT COUNT(*) FROM hours_drafts") == 0
    assert (
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'hours.declared'"
        )
        == 1
    )
    await outbox_settled(network)


async def test_hours_below_the_minimum_say_what_is_missing_and_alert_the_caf(
    bot: RunningBot, network: Network, fake: FakeBotApi, manager: FakeUser, coordinator: FakeUser
) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    await set_day(manager, "Lundi", "9h-12h")
    assert "✅ Lundi : 9 h – 12 h" in manager.last_message.text
    await set_day(manager, "Mercredi", "13:30-17:00")
    await manager.tap("Suivant ▶️")
    review = manager.last_message.text
    assert "En dessous du minimum de la convention" in review
    assert "Il manque 2 demi-journées et 5 h 30" in review
    assert "Vous pouvez enregistrer quand même" in review
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    assert "le label est à risque" in manager.last_message.text
    await fake.wait_for(lambda: "Label à risque" in (coordinator.last_message.text or ""))
    assert "Il manque 2 demi-journées" in coordinator.last_message.text
    [(risk_id, status)] = await signals_of(network, "label_risk")
    assert status == "open"

    # Back above the minimum: the alert is closed by itself.
    await declare_week_of_full_days(manager)
    assert "Lundi : ajouté 14 h – 17 h" in manager.last_message.text
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    assert await signals_of(network, "label_risk") == [(risk_id, "resolved")]
    assert len(await signals_of(network, "hours")) == 2


async def test_every_malformed_time_is_answered_with_an_example_and_loses_nothing(
    bot: RunningBot, network: Network, manager: FakeUser
) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    await set_day(manager, "Mardi", "9h-12h")
    [label] = [label for label in manager.last_message.labels if label.startswith("Jeudi")]
    await manager.tap(label)
    for typed, answer in [
        ("9h-25h", "n'est pas une heure valide"),
        ("9h70-12h", "les minutes vont de 00 à 59"),
        ("12h-9h", "L'heure de fin doit être après l'heure de début"),
        ("bonjour", "Je n'ai pas compris"),
        ("8h-9h / 10h-11h / 14h-15h", "au plus deux plages"),
        ("9h-12h / 11h-14h", "se chevauchent"),
    ]:
        await manager.send(typed)
        assert answer in manager.last_message.text, typed
        assert "Écrivez par exemple" in manager.last_message.text, typed
    # The draft kept Tuesday; the expected answer is still Thursday's.
    await manager.send("9h30 – 12h / 14h-17h")
    assert "✅ Jeudi : 9 h 30 – 12 h, 14 h – 17 h" in manager.last_message.text
    assert "Mardi : 9 h – 12 h" in manager.last_message.labels
    # Text where a button was expected, once the day is set: the menu hint, nothing lost.
    await manager.send("n'importe quoi")
    assert await network.db.fetch_value("SELECT COUNT(*) FROM hours_drafts") == 1
    # /annuler drops the draft: nothing half-done is kept.
    await manager.send("/annuler")
    assert await network.db.fetch_value("SELECT COUNT(*) FROM hours_drafts") == 0
    assert await network.db.fetch_value("SELECT COUNT(*) FROM opening_hours") == 0


async def test_a_schedule_can_apply_from_a_future_date(
    bot: RunningBot, network: Network, manager: FakeUser
) -> None:
    await declare_week_of_full_days(manager)
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    await manager.tap("⬅️ Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    await set_day(manager, "Samedi", "Matin 9 h – 12 h")
    await manager.tap("Suivant ▶️")
    await manager.tap("📅 Changer la date d'effet")
    await manager.send("20/11")
    assert "passée" in manager.last_message.text
    await manager.send("1/12")
    assert "à partir du mardi 1er décembre 2026" in manager.last_message.text
    assert "Samedi : ajouté 9 h – 12 h" in manager.last_message.text
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    await manager.tap("⬅️ Horaires et fermetures")
    home = manager.last_message.text
    assert "Nouveaux horaires à partir du mardi 1er décembre 2026" in home
    assert "Samedi : Fermé" in home  # still the schedule in force today
    network.clock.advance(timedelta(days=5))
    await manager.tap("🕘 Horaires et fermetures")
    assert "Samedi : 9 h – 12 h" in manager.last_message.text
    assert "Nouveaux horaires" not in manager.last_message.text


@pytest.mark.usefixtures("bot")
async def test_a_closure_over_the_new_year_picked_on_the_calendar_tells_the_caf_and_the_site(
    network: Network, fake: FakeBotApi, manager: FakeUser, agent: FakeUser, coordinator: FakeUser
) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("➕ Fermeture exceptionnelle")
    calendar = manager.last_message
    assert "Novembre 2026" in calendar.labels
    assert "25" not in calendar.labels and "26" in calendar.labels  # no past day to pick
    await manager.tap("▶️")
    assert "Décembre 2026" in manager.last_message.labels
    await manager.tap("24")
    assert "Premier jour : jeudi 24 décembre 2026" in manager.last_message.text
    assert "[24]" in manager.last_message.labels
    await manager.tap("▶️")
    await manager.tap("2")
    assert "du jeudi 24 décembre 2026 au samedi 2 janvier 2027" in manager.last_message.text
    await manager.tap("Congés, pont")
    typed = await manager.send("Rappeler Mme Martin au 03 22 11 22 33")
    assert typed.deleted and "téléphone" in manager.last_message.text.lower()
    await manager.send("Mairie fermée pour les fêtes.")
    assert "Fermeture enregistrée" in manager.last_message.text

    await fake.wait_for(lambda: "Fermeture exceptionnelle" in (agent.last_message.text or ""))
    assert "Du jeudi 24 décembre 2026 au samedi 2 janvier 2027" in agent.last_message.text
    assert "Mairie fermée pour les fêtes" in agent.last_message.text
    await fake.wait_for(lambda: "🚪" in (coordinator.last_message.text or ""))
    assert "10 jours" in coordinator.last_message.text
    [(signal_id, status)] = await signals_of(network, "closure")
    assert status == "open"

    # Cancelling it: confirmation, then everyone is told and the Caf's item is closed.
    await manager.tap("⬅️ Horaires et fermetures")
    [cancel] = [label for label in manager.last_message.labels if label.startswith("✖️ Annuler")]
    await manager.tap(cancel)
    assert "Annuler la fermeture" in manager.last_message.text
    await manager.tap("✖️ Oui, annuler la fermeture")
    assert "Fermeture annulée" in manager.last_message.text
    assert "Aucune fermeture exceptionnelle à venir" in manager.last_message.text
    await fake.wait_for(lambda: "Fermeture annulée" in (agent.last_message.text or ""))
    await fake.wait_for(lambda: "Fermeture annulée" in (coordinator.last_message.text or ""))
    assert await signals_of(network, "closure") == [(signal_id, "resolved")]
    assert "03 22 11 22 33" not in str(await network.db.fetch_all("SELECT * FROM closures"))


async def test_typed_closure_dates_are_parsed_or_refused_clearly(
    bot: RunningBot, network: Network, manager: FakeUser
) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("➕ Fermeture exceptionnelle")
    for typed, answer in [
        ("20/11", "passé"),
        ("du 5/12 au 2/12", "avant"),
        ("31/02", "n'existe pas"),
        ("bientôt", "Écrivez par exemple"),
    ]:
        await manager.send(typed)
        assert answer in manager.last_message.text, (typed, manager.last_message.text)
    await manager.send("du 24/12 au 2/01")
    assert "du jeudi 24 décembre 2026 au samedi 2 janvier 2027" in manager.last_message.text
    await manager.tap("Travaux, locaux")
    await manager.tap("💾 Enregistrer sans note")
    assert "Fermeture enregistrée" in manager.last_message.text
    # The same dates again: one closure only.
    await manager.tap("⬅️ Horaires et fermetures")
    await manager.tap("➕ Fermeture exceptionnelle")
    await manager.send("du 24/12 au 2/01")
    await manager.tap("Travaux, locaux")
    await manager.tap("💾 Enregistrer sans note")
    assert "déjà déclarée" in manager.last_message.text
    assert await network.db.fetch_value("SELECT COUNT(*) FROM closures") == 1
    assert len(await signals_of(network, "closure")) == 1


@pytest.mark.usefixtures("bot")
async def test_an_agent_declares_the_site_closed_today_and_can_undo_it(
    network: Network, fake: FakeBotApi, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    await agent.tap("📣 Signaler")
    await agent.tap("🚪 Le site est fermé aujourd'hui")
    assert "jeudi 26 novembre 2026" in agent.last_message.text
    await agent.tap("Panne (informatique, réseau)")
    assert "Fermeture enregistrée" in agent.last_message.text
    await fake.wait_for(lambda: "Fermeture exceptionnelle" in (manager.last_message.text or ""))
    assert "Panne" in manager.last_message.text and "Agnès" in manager.last_message.text
    await fake.wait_for(lambda: "🚪" in (coordinator.last_message.text or ""))
    await agent.tap("↩️ Annuler cette fermeture")
    assert "Fermeture annulée" in agent.last_message.text
    await fake.wait_for(lambda: "Fermeture annulée" in (manager.last_message.text or ""))
    assert await active_closures(network) == 0


async def test_hours_and_closures_are_refused_to_agents_and_coordinators(
    bot: RunningBot, network: Network, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    for person in (agent, coordinator):
        await person.send("/horaires")
        assert "pas ouverte à votre rôle" in person.last_message.text
    await coordinator.send("/signaler")
    assert "pas ouverte à votre rôle" in coordinator.last_message.text
    before = await network.db.fetch_value("SELECT COUNT(*) FROM audit_log")
    for forged in ["h:edit:0:0:0", "h:slot:0:2:0", "h:csave:20261224:20261224:0", "h:ccx:1:1:0"]:
        await agent.tap_data(forged)
        assert "pas ouverte" in (agent.last_callback_answer or {}).get("text", ""), forged
    # Another site's manager cannot cancel this site's closure.
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("➕ Fermeture exceptionnelle")
    await manager.send("24/12")
    await manager.tap("Congés, pont")
    await manager.tap("💾 Enregistrer sans note")
    closure_id = await network.db.fetch_value("SELECT id FROM closures")
    other_manager = await network.join(Role.MANAGER, partner=network.other_site, first_name="Odile")
    await other_manager.tap_data(f"h:ccx:{closure_id}:1:0")
    assert await active_closures(network) == 1
    assert await network.db.fetch_value("SELECT COUNT(*) FROM audit_log") == before + 2


async def test_a_restart_in_the_middle_of_an_edit_loses_nothing(
    restart: Restart, network: Network, manager: FakeUser
) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    await set_day(manager, "Lundi", FULL_DAY)
    await set_day(manager, "Mardi", "Matin 9 h – 12 h")
    week = manager.last_message
    [next_data] = [data for row in week.inline_buttons for label, data in row if "Suivant" in label]
    await restart()
    await manager.tap("Suivant ▶️", week)
    assert "Lundi : 9 h – 12 h, 14 h – 17 h" in manager.last_message.text
    assert "Mardi : 9 h – 12 h" in manager.last_message.text
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    assert "Horaires enregistrés" in manager.last_message.text
    # An old "Suivant" finds no edit in progress: a fresh one, with nothing to save.
    await manager.tap_data(next_data, week)
    assert "rien à enregistrer" in manager.last_message.text
    assert await network.db.fetch_value("SELECT COUNT(*) FROM opening_hours") == 1
