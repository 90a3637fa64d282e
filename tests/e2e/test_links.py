"""🔗 Liens d'invitation, driven as coordinators and managers would: the live links of the Caf
and of a site, a leaked one cancelled and then refused, the links of a revoked or erased
person cancelled with them; and the agents who join together, told to the Caf at once."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.domain.permissions import PersonStatus, Role
from bot.sandbox.bot_api import FakeBotApi, FakeMessage, FakeUser
from bot.ui import callbacks
from bot.ui.formatting import datetime_fr
from storage import cafs, invitations, people
from storage import signals as signal_store
from tests.conftest import Network, RunningBot
from tests.e2e.test_notifications import outbox_settled

LINKS = "🔗 Liens d'invitation"
REUNION = ZoneInfo("Indian/Reunion")


async def link_id(network: Network, code: str) -> int:
    found = await invitations.find_by_code(network.db, code)
    assert found is not None
    return found.id


async def invite_team_through_the_bot(user: FakeUser, button: str) -> str:
    """« ➕ Inviter … » then « Pour une équipe »: the code of the link shown."""
    await user.tap(button)
    await user.tap("Pour une équipe (10 personnes, 30 jours)")
    return user.last_message.text.split("?start=")[1].split()[0]


async def open_site(coordinator: FakeUser, title: str) -> None:
    await coordinator.tap("🏢 Réseau")
    [label] = [label for label in coordinator.last_message.labels if title in label]
    await coordinator.tap(label)


async def is_registered(network: Network, user: FakeUser) -> bool:
    return await people.member_by_telegram_id(network.db, user.user_id) is not None


async def audited(network: Network, action: str) -> list[tuple[int | None, int | None]]:
    rows = await network.db.fetch_all(
        "SELECT actor_id, target_id FROM audit_log WHERE action = :a ORDER BY id", {"a": action}
    )
    return [(row[0], row[1]) for row in rows]


def shown_numbers(message: FakeMessage) -> list[int]:
    return [int(n) for n in re.findall(r"🗑 Annuler le n° (\d+)", " ".join(message.labels))]


async def test_a_coordinator_lists_the_cafs_links_and_cancels_a_leaked_one(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    # The Caf is in La Réunion: every expiry is shown at Réunion's hour.
    async with network.db.transaction() as tx:
        await cafs.update(tx, network.caf.id, timezone="Indian/Reunion")
    await open_site(coordinator, "Mairie de Ham")
    leaked = await invite_team_through_the_bot(coordinator, "➕ Inviter un agent")
    from_shell = await network.invitation(Role.COORDINATOR, uses=2)
    used_up = await network.invitation(Role.AGENT, partner=network.site)
    await network.join(Role.AGENT, first_name="Agnès")  # takes a link of its own
    newcomer = network.stranger("Nina")
    await newcomer.send(f"/start {used_up}")
    expired = await network.invitation(Role.MANAGER, partner=network.site, expires_in=timedelta(1))
    elsewhere = await network.add_caf("Caf de l'Oise")
    await network.invitation(Role.COORDINATOR, caf=elsewhere)
    network.clock.advance(days=2)

    await coordinator.tap("🏢 Réseau")
    await coordinator.tap(LINKS)
    screen = coordinator.last_message
    leaked_id, shell_id = await link_id(network, leaked), await link_id(network, from_shell)
    # Live ones only, newest first (made the same minute: the last made first).
    assert shown_numbers(screen) == [shell_id, leaked_id]
    assert await link_id(network, expired) not in shown_numbers(screen)
    text = screen.text
    assert f"n° {leaked_id} · agent d'accueil · Mairie de Ham (Ham)" in text
    assert "10 utilisations restantes" in text and "par Corinne" in text
    assert f"n° {shell_id} · coordinateur·rice Caf · Caf de la Somme" in text
    assert "2 utilisations restantes" in text and "la ligne de commande" in text
    found = await invitations.find_by_code(network.db, leaked)
    assert found is not None
    assert datetime_fr(found.expires_at, REUNION) in text
    assert datetime_fr(found.expires_at, ZoneInfo("Europe/Paris")) not in text

    # Asked first; « Non » keeps it.
    await coordinator.tap(f"🗑 Annuler le n° {leaked_id}", screen)
    assert f"Annuler le lien n° {leaked_id}" in screen.text
    assert "restent inscrites" in screen.text
    await coordinator.tap("✖️ Non, le garder", screen)
    assert shown_numbers(screen) == [shell_id, leaked_id]
    await coordinator.tap(f"🗑 Annuler le n° {leaked_id}", screen)
    confirm = screen.inline_buttons[0][0][1]
    await coordinator.tap("🗑 Oui, annuler ce lien", screen)
    assert "Lien annulé" in (coordinator.last_callback_answer or {}).get("text", "")
    assert shown_numbers(screen) == [shell_id]
    await coordinator.tap_data(confirm, screen)  # a double tap
    assert "n'est plus actif" in (coordinator.last_callback_answer or {}).get("text", "")

    member = await people.member_by_telegram_id(network.db, coordinator.user_id)
    assert member is not None
    assert await audited(network, "invitation.cancelled") == [(member.person.id, leaked_id)]
    # The leaked code is refused, clearly, to everyone who opens it.
    for name in ("Inconnu 1", "Inconnu 2"):
        stranger = network.stranger(name)
        await stranger.send(f"/start {leaked}")
        assert "a été annulé" in stranger.last_message.text
        assert not await is_registered(network, stranger)


async def test_a_site_shows_its_links_and_a_manager_cancels_their_agents_links_only(
    bot: RunningBot, network: Network, manager: FakeUser, coordinator: FakeUser
) -> None:
    agents_link = await network.invitation(Role.AGENT, partner=network.site, uses=5)
    managers_link = await network.invitation(Role.MANAGER, partner=network.site)
    albert_link = await network.invitation(Role.AGENT, partner=network.other_site)
    ids = {code: await link_id(network, code) for code in (agents_link, managers_link)}
    albert_id = await link_id(network, albert_link)

    await open_site(coordinator, "Mairie de Ham")
    await coordinator.tap(LINKS)
    assert sorted(shown_numbers(coordinator.last_message)) == sorted(ids.values())
    assert "⬅️ Le site" in coordinator.last_message.labels

    await manager.tap("👥 Mon équipe")
    mine = await invite_team_through_the_bot(manager, "➕ Inviter un agent")
    await manager.tap("👥 Mon équipe")
    await manager.tap(LINKS)
    screen = manager.last_message
    mine_id = await link_id(network, mine)
    assert shown_numbers(screen) == [mine_id, ids[agents_link]]
    assert "par Marc" in screen.text and "⬅️ Mon équipe" in screen.labels
    await manager.tap(f"🗑 Annuler le n° {ids[agents_link]}", screen)
    await manager.tap("🗑 Oui, annuler ce lien", screen)
    assert shown_numbers(screen) == [mine_id]

    # Forged taps: a manager's link, another site's, the Caf's list: refused, nothing changes.
    for forged, said in [
        (callbacks.LinkTap("cancel", network.site.id, ids[managers_link], 0), "expiré"),
        (callbacks.LinkTap("ask", network.site.id, albert_id, 0), "expiré"),
        (callbacks.LinkTap("site", network.other_site.id, 0, 0), "expiré"),
        (callbacks.LinkTap("caf", 0, 0, 0), "pas ouverte à votre rôle"),
        # Their own link, but as if from the Caf's list, or from another site's.
        (callbacks.LinkTap("cancel", 0, mine_id, 0), "expiré"),
        (callbacks.LinkTap("ask", network.other_site.id, mine_id, 0), "expiré"),
    ]:
        await manager.tap_data(callbacks.encode(forged), screen)
        assert said in (manager.last_callback_answer or {}).get("text", ""), forged
    for code in (managers_link, albert_link, mine):
        found = await invitations.find_by_code(network.db, code)
        assert found is not None and found.revoked_at is None
    assert len(await audited(network, "invitation.cancelled")) == 1


async def test_revoking_a_coordinator_cancels_her_links(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    """Issue #16: after Corinne was revoked, three strangers each became coordinator through
    her 10-person link."""
    colleague = await network.join(Role.COORDINATOR, first_name="Claire")
    await coordinator.tap("🏢 Réseau")
    await coordinator.tap("👥 Coordination")
    code = await invite_team_through_the_bot(coordinator, "➕ Inviter un·e coordinateur·rice")
    corinne = await people.member_by_telegram_id(network.db, coordinator.user_id)
    assert corinne is not None

    await colleague.tap("🏢 Réseau")
    await colleague.tap("👥 Coordination")
    await colleague.tap("Corinne · coordinateur·rice Caf")
    await colleague.tap("🚫 Retirer l'accès")
    await colleague.tap("🚫 Oui, retirer l'accès")
    await fake.wait_for(lambda: "accès à l'assistant" in (coordinator.last_message.text or ""))

    for n in range(3):
        stranger = network.stranger(f"Inconnu {n}")
        await stranger.send(f"/start {code}")
        assert "a été annulé" in stranger.last_message.text
        assert not await is_registered(network, stranger)
    coordinators = await people.list_for_caf(network.db, network.caf.id, role=Role.COORDINATOR)
    assert [p.display_name for p in coordinators] == ["Claire"]
    claire = await people.member_by_telegram_id(network.db, colleague.user_id)
    assert claire is not None
    cancelled = await audited(network, "invitation.cancelled")
    assert cancelled == [(claire.person.id, await link_id(network, code))]
    await colleague.tap("🏢 Réseau")
    await colleague.tap(LINKS)
    assert shown_numbers(colleague.last_message) == []
    assert "Aucun lien en cours" in colleague.last_message.text


async def test_erasing_a_manager_cancels_their_links(
    bot: RunningBot, network: Network, manager: FakeUser, coordinator: FakeUser
) -> None:
    await manager.tap("👥 Mon équipe")
    code = await invite_team_through_the_bot(manager, "➕ Inviter un agent")
    marc = await people.member_by_telegram_id(network.db, manager.user_id)
    assert marc is not None
    await open_site(coordinator, "Mairie de Ham")
    await coordinator.tap("👥 Personnes")
    await coordinator.tap("Marc · responsable de site")
    await coordinator.tap("🗑 Effacer ses données")
    await coordinator.tap("🗑 Oui, effacer définitivement")
    erased = await people.get(network.db, marc.person.id)
    assert erased is not None and erased.status is PersonStatus.REVOKED

    stranger = network.stranger("Inconnue")
    await stranger.send(f"/start {code}")
    assert "a été annulé" in stranger.last_message.text
    assert len(await audited(network, "invitation.cancelled")) == 1


async def test_many_links_are_paged(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    codes = [await network.invitation(Role.AGENT, partner=network.site) for _ in range(7)]
    await open_site(coordinator, "Mairie de Ham")
    await coordinator.tap(LINKS)
    screen = coordinator.last_message
    assert len(shown_numbers(screen)) == 5 and "page 1 sur 2" in screen.text
    await coordinator.tap("Suivants ▶️", screen)
    assert len(shown_numbers(screen)) == 2 and "page 2 sur 2" in screen.text
    first = await link_id(network, codes[0])
    assert shown_numbers(screen)[-1] == first  # the oldest, last
    await coordinator.tap(f"🗑 Annuler le n° {first}", screen)
    await coordinator.tap("🗑 Oui, annuler ce lien", screen)
    assert shown_numbers(screen) == [await link_id(network, codes[1])]  # still page 2
    await coordinator.tap("⬅️ Le site", screen)
    assert LINKS in screen.labels


async def test_twenty_two_agents_joining_together_make_one_notice(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    """Issue #16: 22 agents joining through one link sent the coordinator 22 « Nouveau
    signalement »."""
    code = await network.invitation(Role.AGENT, partner=network.site, uses=30)
    team = []
    for n in range(22):
        network.clock.advance(seconds=20)  # seven minutes in all
        agent = network.stranger(f"Agent{n:02d}")
        await agent.send(f"/start {code}")
        assert "Bienvenue" in agent.last_message.text
        team.append(agent)
    # The inbox holds one training need per agent at once.
    needs = await network.db.fetch_value(
        "SELECT COUNT(*) FROM signals WHERE kind = 'training' AND category = 'nouvel_agent'"
    )
    assert needs == 22
    await outbox_settled(network)
    assert not [m for m in coordinator.bot_messages if "à former" in (m.text or "")]

    scheduler = bot.app.bot_data["scheduler"]
    network.clock.advance(minutes=5)
    await scheduler.run_due()  # or the scheduler's own tick, whichever comes first
    await fake.wait_for(lambda: "nouveaux agents" in (coordinator.last_message.text or ""))
    await outbox_settled(network)
    notices = [m for m in coordinator.bot_messages if "à former" in (m.text or "")]
    assert len(notices) == 1
    [notice] = notices
    assert "22 nouveaux agents à former" in notice.text
    assert "Agent00 — Mairie de Ham (Ham)" in notice.text and "Agent21" in notice.text
    assert not [m for m in coordinator.bot_messages if "Nouveau signalement" in (m.text or "")]
    network.clock.advance(hours=1)
    await scheduler.run_due()  # never twice
    await outbox_settled(network)
    assert len([m for m in coordinator.bot_messages if "à former" in (m.text or "")]) == 1

    # The notice leads to the needs in the inbox.
    await coordinator.tap("📥 Les besoins de formation", notice)
    listed = coordinator.last_message.text
    assert "Besoin de formation" in listed and "22 signalements non clos" in listed
    box, total = await signal_store.inbox(network.db, network.caf.id, limit=50)
    assert total == 22 and len(box) == 22

    # Later, one agent alone: the usual notice of that one need.
    late = network.stranger("Tardive")
    await late.send(f"/start {code}")
    network.clock.advance(minutes=5)
    await scheduler.run_due()
    await fake.wait_for(lambda: "Nouveau signalement" in (coordinator.last_message.text or ""))
    assert "Tardive" in coordinator.last_message.text
