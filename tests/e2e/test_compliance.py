"""✅ Conformité, driven as a coordinator would: the sites at risk first, a site's card, pages,
and nothing of it for a manager or for another Caf's coordinator.

The facts are written straight into the database (hours, visits, period reports, a training
day, an action plan): what is under test is how the bot reads and ranks them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.domain.models import Partner
from bot.domain.opening_hours import Period, WeeklySchedule
from bot.domain.permissions import LabelStatus, Role
from bot.sandbox.bot_api import FakeUser
from bot.ui import callbacks
from bot.ui.callbacks import ComplianceTap
from storage import cafs, hours
from tests.conftest import Network, RunningBot

OPEN_WEEK = WeeklySchedule(
    {day: (Period.of(9, 0, 12, 0), Period.of(14, 0, 17, 0)) for day in (0, 1, 2)}
)
SHORT_WEEK = WeeklySchedule({0: (Period.of(9, 0, 12, 0),)})


async def declare_hours(
    network: Network, site: Partner, schedule: WeeklySchedule = OPEN_WEEK
) -> None:
    async with network.db.transaction() as tx:
        await hours.declare(
            tx,
            partner_id=site.id,
            schedule=schedule,
            effective_from=date(2026, 1, 5),
            by=None,
            now=network.clock.now(),
        )


async def add_person(network: Network, site: Partner, name: str) -> int:
    person = await network.db.execute(
        "INSERT INTO people (display_name, role, caf_id, partner_id, joined_at, last_seen_at)"
        " VALUES (:name, 'agent', :caf, :site, :at, :at)",
        {"name": name, "caf": site.caf_id, "site": site.id, "at": "2026-01-05T09:00:00+00:00"},
    )
    assert person is not None
    return person


async def log_visit(network: Network, site: Partner, at: datetime) -> None:
    person = await add_person(network, site, "Agent")
    async with network.db.transaction() as tx:
        draft = await tx.execute(
            "INSERT INTO visit_drafts (person_id, partner_id, chat_id, state, status, created_at,"
            " updated_at) VALUES (:p, :site, 1, '{}', 'saved', :at, :at)",
            {"p": person, "site": site.id, "at": at.isoformat()},
        )
        await tx.execute(
            "INSERT INTO visits (draft_id, caf_id, partner_id, person_id, visited_at, sexe, age,"
            " statut, autonomie, resolution, created_at, updated_at) VALUES (:d, :caf, :site, :p,"
            " :at, 'femme', '25_60', 'allocataire', 'debutant', 'oui', :at, :at)",
            {"d": draft, "caf": site.caf_id, "site": site.id, "p": person, "at": at.isoformat()},
        )


async def add_report(
    network: Network, site: Partner, period: str, status: str, due_on: date
) -> None:
    year, quarter = int(period[:4]), int(period[-1])
    start = datetime(year, 3 * quarter - 2, 1, tzinfo=UTC)
    await network.db.execute(
        "INSERT INTO period_reports (caf_id, partner_id, period, starts_at, ends_at, due_on,"
        " status, created_at) VALUES (:caf, :site, :period, :start, :end, :due, :status, :start)",
        {
            "caf": site.caf_id,
            "site": site.id,
            "period": period,
            "start": start.isoformat(),
            "end": (start + timedelta(days=90)).isoformat(),
            "due": due_on.isoformat(),
            "status": status,
        },
    )


async def set_start(network: Network, site: Partner, start: date) -> None:
    await network.db.execute(
        "UPDATE partners SET convention_start = :s WHERE id = :id",
        {"s": start.isoformat(), "id": site.id},
    )


async def a_network_with_one_problem_per_site(network: Network) -> dict[str, Partner]:
    """Ten sites of the Caf, each tripping one rule (or none), and one site of another Caf."""
    now = network.clock.now()
    await declare_hours(network, network.site)
    await declare_hours(network, network.other_site)
    sites = {
        name: await network.add_site(name)
        for name in (
            "Sans horaires",
            "Horaires courts",
            "Silencieux",
            "En retard",
            "Suspendu",
            "Retiré",
            "Formation manquée",
            "Plan en retard",
        )
    }
    for name, site in sites.items():
        if name == "Horaires courts":
            await declare_hours(network, site, SHORT_WEEK)
        elif name != "Sans horaires":
            await declare_hours(network, site)
    await set_start(network, sites["Silencieux"], date(2026, 1, 15))
    await log_visit(network, sites["Silencieux"], now - timedelta(days=45))
    await log_visit(network, network.site, now - timedelta(days=1))
    # Two of the last four quarters validated late (or never): a risk.
    late = sites["En retard"]
    await add_report(network, late, "2026-Q3", "pending", date(2026, 10, 10))
    await add_report(network, late, "2026-Q2", "modified", date(2026, 7, 10))
    await add_report(network, late, "2026-Q1", "validated", date(2026, 4, 10))
    await network.set_label(sites["Suspendu"], LabelStatus.SUSPENDED)
    await network.set_label(sites["Retiré"], LabelStatus.WITHDRAWN)
    # The last training day: someone of Mairie de Ham came, nobody of "Formation manquée".
    came = await add_person(network, network.site, "Présente")
    missed = await add_person(network, sites["Formation manquée"], "Absente")
    event = await network.db.execute(
        "INSERT INTO events (caf_id, kind, title, starts_at, ends_at, rsvp_deadline, status,"
        " created_at, updated_at) VALUES (:caf, 'training_day', 'Journée annuelle',"
        " '2026-10-15T07:00:00+00:00', '2026-10-15T15:00:00+00:00', '2026-10-10T07:00:00+00:00',"
        " 'published', :at, :at)",
        {"caf": network.caf.id, "at": "2026-09-01T08:00:00+00:00"},
    )
    await network.db.executemany(
        "INSERT INTO event_invitations (event_id, person_id, status, attended) VALUES (?, ?, ?, ?)",
        [(event, came, "going", 1), (event, missed, "going", 0)],
    )
    # A yearly visit in order, with an action item past its due date.
    plan = sites["Plan en retard"]
    review = await network.db.execute(
        "INSERT INTO site_reviews (caf_id, partner_id, visited_on, premises_ok, equipment_ok,"
        " hours_ok, recorded_at) VALUES (:caf, :site, '2026-09-01', 1, 1, 1, :at)",
        {"caf": plan.caf_id, "site": plan.id, "at": "2026-09-01T10:00:00+00:00"},
    )
    await network.db.execute(
        "INSERT INTO action_items (review_id, partner_id, description, owner, due_on, created_at)"
        " VALUES (:r, :site, 'Affichage du label', 'partner', '2026-11-01', :at)",
        {"r": review, "site": plan.id, "at": "2026-09-01T10:00:00+00:00"},
    )
    other_caf = await network.add_caf("Caf de l'Oise")
    sites["Oise"] = await network.add_site("Site de l'Oise", caf=other_caf)
    return sites


def site_buttons(user: FakeUser) -> list[str]:
    return [label for label in user.last_message.labels if label[:1] in "🔴🟠🟢⛔"]


async def test_the_sites_at_risk_come_first_each_with_its_main_reason(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    await a_network_with_one_problem_per_site(network)
    await coordinator.tap("✅ Conformité")
    text = coordinator.last_message.text
    assert "Conformité des sites — Caf de la Somme" in text
    assert "🔴 4 à risque · 🟠 3 à surveiller · 🟢 2 conformes · ⛔ 1 label retiré" in text
    assert "Page 1 sur 2" in text
    assert site_buttons(coordinator) == [
        "🔴 En retard (Amiens)",
        "🔴 Horaires courts (Amiens)",
        "🔴 Sans horaires (Amiens)",
        "🔴 Suspendu (Amiens)",
        "🟠 Formation manquée (Amiens)",
        "🟠 Plan en retard (Amiens)",
        "🟠 Silencieux (Amiens)",
        "🟢 France Services Albert (Albert)",
    ]
    assert "<b>Sans horaires (Amiens)</b> — Aucun horaire" in coordinator.last_message.html
    for reason in (
        "2 transmissions en retard sur les 3 dernières périodes",
        "Horaires sous le minimum : 1 demi-journée, 3 h par semaine",
        "Label suspendu depuis le 26 novembre",
        "Personne du site n'est venu à « Journée annuelle » du 15 octobre.",
        "Plan d'action : 1 action en cours, dont 1 en retard.",
        "Dernière visite enregistrée il y a 45 jours",
    ):
        assert reason in text, reason
    assert "Site de l'Oise" not in text

    await coordinator.tap("Suivants ▶️")
    assert "Page 2 sur 2" in coordinator.last_message.text
    assert site_buttons(coordinator) == ["🟢 Mairie de Ham (Ham)", "⛔ Retiré (Amiens)"]
    assert "Label retiré depuis le 26 novembre" in coordinator.last_message.text
    await coordinator.tap("◀️ Précédents")
    assert "Page 1 sur 2" in coordinator.last_message.text
    assert len(coordinator.bot_messages) == 2  # the welcome, then one screen edited in place


async def test_a_site_card_shows_every_finding_and_the_convention_dates(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    await a_network_with_one_problem_per_site(network)
    await coordinator.send("/conformite")
    await coordinator.tap("Suivants ▶️")
    await coordinator.tap("🟢 Mairie de Ham (Ham)")
    card = coordinator.last_message.text
    assert card.startswith("🟢 Mairie de Ham (Ham) — conforme")
    for line in (
        "🟢 Label actif.",
        "🟢 Horaires conformes : 6 demi-journées, 18 h par semaine.",
        "🟢 Dernière visite enregistrée il y a 1 jour (le 25 novembre).",
        "🟢 Aucune fermeture exceptionnelle ces trois derniers mois.",
        "🟢 1 personne présente à « Journée annuelle » du 15 octobre.",
        "🟢 Visite annuelle : pas encore due.",
        "Début : 26 novembre 2026",
        "Prochaine échéance : 26 novembre 2027",
        "Préavis de dénonciation : au plus tard le 26 août 2027",
    ):
        assert line in card, line
    assert "🏢 Fiche du site" in coordinator.last_message.labels
    await coordinator.tap("⬅️ Retour")
    assert "Page 2 sur 2" in coordinator.last_message.text  # back to the page it came from

    await coordinator.tap("◀️ Précédents")
    await coordinator.tap("🟠 Silencieux (Amiens)")
    card = coordinator.last_message.text
    assert card.startswith("🟠 Silencieux (Amiens) — à surveiller")
    assert "🟠 Dernière visite enregistrée il y a 45 jours (le 12 octobre)." in card
    assert "Début : 15 janvier 2026" in card
    assert "Prochaine échéance : 15 janvier 2027 (préavis passé : reconduction tacite)" in card
    assert "au plus tard le 15 octobre 2027, pour l'échéance du 15 janvier 2028" in card


async def test_a_manager_is_refused_and_another_caf_sees_and_reaches_nothing(
    bot: RunningBot, network: Network, manager: FakeUser, coordinator: FakeUser
) -> None:
    sites = await a_network_with_one_problem_per_site(network)
    await manager.send("/conformite")
    assert "pas ouverte à votre rôle" in manager.last_message.text
    await manager.tap_data(callbacks.encode(ComplianceTap("site", network.site.id, 0)))
    assert "pas ouverte" in (manager.last_callback_answer or {}).get("text", "")

    other_caf = await cafs.get(network.db, sites["Oise"].caf_id)
    assert other_caf is not None
    outsider = await network.join(Role.COORDINATOR, caf=other_caf, first_name="Octave")
    await outsider.tap("✅ Conformité")
    assert site_buttons(outsider) == ["🔴 Site de l'Oise (Amiens)"]
    assert "Mairie de Ham" not in outsider.last_message.text
    screen = outsider.last_message
    for forged in (
        ComplianceTap("site", network.site.id, 0),
        ComplianceTap("site", sites["Suspendu"].id, 0),
        ComplianceTap("nothing", 0, 0),
    ):
        await outsider.tap_data(callbacks.encode(forged), screen)
        assert "expiré" in (outsider.last_callback_answer or {}).get("text", "")
    assert "Mairie de Ham" not in screen.text and "Suspendu" not in screen.text

    # And this Caf's coordinator cannot open the other Caf's site either.
    await coordinator.tap("✅ Conformité")
    await coordinator.tap_data(callbacks.encode(ComplianceTap("site", sites["Oise"].id, 0)))
    assert "expiré" in (coordinator.last_callback_answer or {}).get("text", "")
    assert "Site de l'Oise" not in coordinator.last_message.text
