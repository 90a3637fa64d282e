"""⚙️ Ma Caf: a coordinator imports sites from a file sent in the chat, sets the reporting
period and the notification group, and gets the public directory as files — with no shell on
the server. Driven through the fake Bot API, with real SQLite."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from openpyxl import Workbook

from bot.domain.models import ReportingPeriod
from bot.domain.permissions import Role
from bot.sandbox.bot_api import FakeBotApi, FakeMessage, FakeUser
from storage import cafs, partners
from tests.conftest import Network, RunningBot

MENU = "⚙️ Ma Caf"
IMPORT = "📥 Importer des sites"
GROUP_ID = -1001234567890  # a supergroup's id: the privacy screen reads it as a NIR


async def send_file(fake: FakeBotApi, user: FakeUser, name: str, data: bytes) -> FakeMessage:
    """The user sends `data` as a document named `name`."""
    return await user.send_document(name, data=data)


def sites(count: int, start: int = 1) -> list[list[Any]]:
    return [
        [f"Point numérique {n}", f"Commune {n}", f"{n} rue de la Gare"]
        for n in range(start, start + count)
    ]


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "city", "address"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def site_names(network: Network) -> set[str]:
    return {p.name for p in await partners.list_for_caf(network.db, network.caf.id)}


def answer(user: FakeUser) -> str:
    return str((user.last_callback_answer or {}).get("text", ""))


async def start_import(coordinator: FakeUser) -> None:
    await coordinator.tap(MENU)
    await coordinator.tap(IMPORT)
    assert "name,city,address" in coordinator.last_message.text


# ------------------------------------------------------------------------------ import
async def test_fifty_sites_from_a_workbook_one_bad_row_refused_by_line_then_imported(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    await coordinator.tap(MENU)
    assert "Ma Caf — Caf de la Somme" in coordinator.last_message.text
    assert "Sites : 2" in coordinator.last_message.text
    await coordinator.tap(IMPORT)
    assert ".xlsx" in coordinator.last_message.text

    rows = sites(50)
    rows[25][0] = ""  # line 27 of the sheet (the header is line 1)
    bad = await send_file(fake, coordinator, "sites.xlsx", workbook(rows))
    refused = coordinator.last_message.text
    assert "Fichier refusé : rien n'a été importé" in refused, refused
    assert "Ligne 27 : le nom du site est vide" in refused
    assert await site_names(network) == {"Mairie de Ham", "France Services Albert"}
    assert bad.deleted  # nothing waits on it

    rows[25][0] = "Point numérique 26"
    fixed = await send_file(fake, coordinator, "sites.xlsx", workbook(rows))
    preview = coordinator.last_message
    assert "50 sites" in preview.text and "Point numérique 1 — Commune 1" in preview.text
    assert "… et 45 autres" in preview.text
    assert "Aucun doublon" in preview.text and "les 2 sites de la Caf" in preview.text
    assert preview.labels == ["✅ Importer", "✖️ Annuler"]
    assert not fixed.deleted
    assert len(await site_names(network)) == 2  # nothing before the confirmation

    await coordinator.tap("✅ Importer", preview)
    assert "50 sites importés" in preview.text and "52 sites en tout" in preview.text
    assert answer(coordinator) == "Sites importés."
    names = await site_names(network)
    assert len(names) == 52 and {f"Point numérique {n}" for n in range(1, 51)} <= names
    assert fixed.deleted
    [(actor, details)] = await network.db.fetch_all(
        "SELECT p.telegram_user_id, a.details FROM audit_log a JOIN people p ON p.id = a.actor_id"
        " WHERE a.action = 'partners.imported'"
    )
    assert actor == coordinator.user_id
    assert json.loads(details) == {"added": 50, "skipped": 0}
    assert len(fake.calls_to("getFile")) == 2

    # The button again (a double tap, a redelivered update): nothing more.
    await coordinator.tap_data(f"cs:ok:{fixed.message_id}", preview)
    assert "n'est plus en attente" in answer(coordinator)
    assert len(await site_names(network)) == 52


async def test_a_csv_import_works_too_and_can_be_cancelled(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    excel_csv = (
        "name;city;address;convention_start\r\n"
        "Centre social Étouvie;Amiens;12, rue du Général-Leclerc;2025-03-15\r\n"
        "Médiathèque de Péronne;Péronne;;\r\n"
    )
    content = b"\xef\xbb\xbf" + excel_csv.encode("utf-8")
    await start_import(coordinator)
    first = await send_file(fake, coordinator, "sites.csv", content)
    preview = coordinator.last_message
    assert "2 sites" in preview.text
    await coordinator.tap("✖️ Annuler", preview)
    assert "Import annulé" in preview.text
    assert first.deleted
    assert len(await site_names(network)) == 2
    # The old preview's buttons are gone; typed as data, they do nothing.
    await coordinator.tap_data(f"cs:ok:{first.message_id}")
    assert "n'est plus en attente" in answer(coordinator)

    await start_import(coordinator)
    await coordinator.send("voici le fichier")  # a text where the file is expected
    assert "J'attends le fichier des sites" in coordinator.last_message.text
    second = await send_file(fake, coordinator, "sites.csv", content)
    await coordinator.send("c'est bon ?")  # a text while the preview waits
    assert "« ✅ Importer »" in coordinator.last_message.text
    await coordinator.tap("✅ Importer")
    assert second.deleted
    etouvie = [
        p for p in await partners.list_for_caf(network.db, network.caf.id) if p.city == "Amiens"
    ]
    assert [(p.name, p.address, str(p.convention_start)) for p in etouvie] == [
        ("Centre social Étouvie", "12, rue du Général-Leclerc", "2025-03-15")
    ]


async def test_duplicates_in_the_file_and_with_the_caf_are_refused_by_line(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    await start_import(coordinator)
    text = (
        "name,city,address\n"
        "Mairie de Nesle,Nesle,\n"
        "mairie de ham,Ham,\n"  # line 3: the Caf has it
        "Mairie de Nesle,Nesle,2 rue Haute\n"  # line 4: line 2 again
    )
    await send_file(fake, coordinator, "sites.csv", text.encode())
    refused = coordinator.last_message.text
    assert "Ligne 3 : « mairie de ham (Ham) » existe déjà dans la Caf" in refused, refused
    assert "Ligne 4 : même site que la ligne 2" in refused
    assert "2 problèmes" in refused
    assert len(await site_names(network)) == 2
    # The corrected file is expected at once.
    await send_file(fake, coordinator, "sites.csv", b"name,city,address\nMairie de Nesle,Nesle,\n")
    assert "1 site" in coordinator.last_message.text
    assert coordinator.last_message.labels == ["✅ Importer", "✖️ Annuler"]


async def test_what_is_no_list_of_sites_is_refused_without_being_downloaded(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    await start_import(coordinator)
    pdf = await coordinator.send_document("guide.pdf")
    assert "J'attends un fichier CSV ou Excel" in coordinator.last_message.text and pdf.deleted
    old = await coordinator.send_document("sites.xls")
    assert "Excel ancien (.xls)" in coordinator.last_message.text and old.deleted
    photo = await coordinator.send_photo()
    assert "J'attends un fichier CSV ou Excel" in coordinator.last_message.text and photo.deleted
    heavy = await send_file(
        fake, coordinator, "sites.csv", b"name,city,address\n" + b"x" * 1_050_000
    )
    assert "Fichier trop lourd (1,1 Mo) : 1 Mo au plus" in coordinator.last_message.text
    assert heavy.deleted
    assert fake.calls_to("getFile") == []
    assert len(await site_names(network)) == 2


async def test_only_a_coordinator_who_asked_to_import_may_send_a_file(
    bot: RunningBot,
    network: Network,
    fake: FakeBotApi,
    agent: FakeUser,
    manager: FakeUser,
    coordinator: FakeUser,
) -> None:
    content = workbook(sites(3))
    for person in (agent, manager):
        await person.send("/macaf")
        assert "Ma Caf" not in person.last_message.text
        sent = await send_file(fake, person, "sites.xlsx", content)
        assert "Je ne conserve aucun document" in person.last_message.text
        assert sent.deleted
    # A coordinator outside the import step: refused alike.
    sent = await send_file(fake, coordinator, "sites.xlsx", content)
    assert "Je ne conserve aucun document" in coordinator.last_message.text and sent.deleted
    assert fake.calls_to("getFile") == []
    assert len(await site_names(network)) == 2


# ------------------------------------------------------------------------------ settings
async def test_period_and_notification_group_changed_from_the_bot(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    colleague = await network.join(Role.COORDINATOR, first_name="Claire")
    group = fake.group(GROUP_ID, "Équipe Caf")
    await coordinator.tap(MENU)
    home = coordinator.last_message
    assert "Transmission des indicateurs : trimestrielle" in home.text

    await coordinator.tap("🗓 Transmission", home)
    assert home.labels == ["Mensuelle", "✅ Trimestrielle", "⬅️ Retour"]
    await coordinator.tap("✅ Trimestrielle", home)
    assert answer(coordinator) == "C'est déjà la période de transmission de la Caf."
    await coordinator.tap("Mensuelle", home)
    assert "désormais <b>mensuelle</b>" in (home.html or "")
    caf = await cafs.get(network.db, network.caf.id)
    assert caf is not None and caf.reporting_period is ReportingPeriod.MONTHLY
    await fake.wait_for(
        lambda: "transmission des indicateurs : mensuelle" in colleague.last_message.text
    )
    assert "par Corinne" in colleague.last_message.text

    await coordinator.tap("🔔 Groupe de notification", home)
    assert "Aucun groupe" in home.text
    await coordinator.tap("✏️ Indiquer le groupe", home)
    await coordinator.send("le groupe")
    assert "Ce n'est pas un identifiant de groupe" in coordinator.last_message.text
    await coordinator.send("-4242")
    assert "Je ne trouve pas ce groupe" in coordinator.last_message.text
    await coordinator.send(str(coordinator.user_id))
    assert "conversation privée" in coordinator.last_message.text
    await coordinator.send(str(GROUP_ID))
    assert "Groupe de notification : <b>Équipe Caf</b>" in (coordinator.last_message.html or "")
    caf = await cafs.get(network.db, network.caf.id)
    assert caf is not None and caf.notify_chat_id == GROUP_ID
    await fake.wait_for(lambda: bool(group.bot_messages))
    assert str(GROUP_ID) in group.last_message.text
    await fake.wait_for(lambda: "groupe de notification" in colleague.last_message.text)

    await coordinator.tap(MENU)
    await coordinator.tap("🔔 Groupe de notification")
    await coordinator.tap("🗑 Retirer le groupe")
    assert "Groupe de notification retiré" in coordinator.last_message.text
    caf = await cafs.get(network.db, network.caf.id)
    assert caf is not None and caf.notify_chat_id is None
    details = [
        json.loads(text)
        for (text,) in await network.db.fetch_all(
            "SELECT details FROM audit_log WHERE action = 'caf.updated' ORDER BY id"
        )
    ]
    assert details == [
        {"period": "monthly"},
        {"notify_chat": str(GROUP_ID)},
        {"notify_chat": "none"},
    ]


# ------------------------------------------------------------------------------ directory
async def test_the_directory_arrives_as_json_csv_and_ics_documents(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    await coordinator.tap(MENU)
    home = coordinator.last_message
    documents = []
    for label in ("🌐 Annuaire JSON", "📄 CSV", "📅 ICS"):
        await coordinator.tap(label, home)
        assert answer(coordinator) == "⏳ Préparation…"
        documents.append(coordinator.last_message)
    assert [d.document_name for d in documents] == [
        "annuaire-caf-de-la-somme.json",
        "annuaire-caf-de-la-somme.csv",
        "annuaire-caf-de-la-somme.ics",
    ]
    assert "2 sites au label actif" in (documents[0].text or "")
    directory = json.loads(documents[0].document_bytes or b"{}")
    assert {site["name"] for site in directory["sites"]} == {
        "Mairie de Ham",
        "France Services Albert",
    }
    table = list(
        csv.reader(
            io.StringIO((documents[1].document_bytes or b"").decode("utf-8-sig")), delimiter=";"
        )
    )
    assert table[0][:3] == ["identifiant", "nom", "ville"] and len(table) == 3
    assert (documents[2].document_bytes or b"").startswith(b"BEGIN:VCALENDAR")
    assert home.text.startswith("⚙️ Ma Caf")  # the screen stays
