"""Personal data at rest: every person column is accounted for, old free texts give way to a
marker by the nightly run (the clock moved by months), people revoked long ago are erased.

Storage-level: a real SQLite file, rows written as the features write them, no bot.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.models import ReportingPeriod
from bot.domain.permissions import LabelStatus
from bot.domain.personal_data import ERASED_TEXT, months_before, name_pattern, retention_marker
from bot.jobs import housekeeping
from bot.jobs.scheduler import Scheduler
from storage import cafs, partners, personal_data
from storage.db import Database
from storage.personal_data import OnErase
from storage.timefmt import to_db

T0 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
MARK_24 = "[texte supprimé après 24 mois]"


# ------------------------------------------------------------------------------ the inventory
async def person_columns_in_schema(db: Database) -> set[tuple[str, str]]:
    """Every column of the migrated schema that can name a person: a foreign key to
    `people`, a Telegram account, or a chat id (a private chat is a person's account)."""
    found: set[tuple[str, str]] = set()
    tables = await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    for (table,) in [tuple(row) for row in tables]:
        for fk in await db.fetch_all(f"PRAGMA foreign_key_list({table})"):
            if fk["table"] == "people":
                found.add((table, fk["from"]))
        for column in await db.fetch_all(f"PRAGMA table_info({table})"):
            name = column["name"]
            if name == "telegram_user_id" or name.endswith("chat_id"):
                found.add((table, name))
    return found


async def test_every_column_that_names_a_person_is_in_the_inventory(db: Database) -> None:
    """A new table or column pointing at a person fails here until storage/personal_data.py
    says which part of /mesdonnees shows it and what an erasure does to it."""
    declared = {(c.table, c.column) for c in personal_data.PERSON_COLUMNS}
    found = await person_columns_in_schema(db)
    assert found - declared == set(), "not covered by /mesdonnees and erasure"
    assert declared - found == set(), "declared but not in the schema any more"
    for column in personal_data.PERSON_COLUMNS:
        if column.on_erase is not OnErase.NOT_A_PERSON:
            assert column.section in personal_data.SECTION_KEYS, column


def test_the_cut_off_is_calendar_months_earlier() -> None:
    assert months_before(T0, 24) == datetime(2024, 1, 15, 10, 0, tzinfo=UTC)
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 25) == datetime(2024, 2, 29, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 1, tzinfo=UTC), 13) == datetime(2024, 12, 1, tzinfo=UTC)
    assert retention_marker(24) == MARK_24


@pytest.mark.parametrize(
    ("name", "text", "names_them"),
    [
        ("Anne", "Anne a signalé une difficulté", True),
        ("Anne", "« Anne » vous invite", True),
        ("Anne", "Réponse à Anne.", True),
        ("Anne", "Réunion à Annecy", False),
        ("Anne", "Marianne a répondu", False),
        ("Anne", "Anne-Sophie viendra", True),  # a hyphen ends a word: better blank than keep
        ("O'Brien", "Message de O&#39;Brien", True),  # as our templates escape it
        ("O'Brien", "Message de O'Brien", True),
        ("A&B Services", "Signalé par A&amp;B Services", True),  # as text_html escapes it
        ("Éloïse", "Éloïse a répondu", True),
        ("Éloïse", "Éloïsette a répondu", False),
    ],
)
def test_the_name_is_found_as_a_whole_word_in_any_form_we_send(
    name: str, text: str, names_them: bool
) -> None:
    assert bool(name_pattern(name).search(text)) is names_them


# ------------------------------------------------------------------------------ a site's history
class Site:
    """A Caf, one site, a manager, a coordinator, and one of each free text, written at T0."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.ids: dict[str, int] = {}

    async def insert(self, sql: str, **params: Any) -> int:
        async with self.db.transaction() as tx:
            return int(await tx.execute(sql, params) or 0)

    async def person(self, name: str, role: str, tg: int, *, partner: bool = True) -> int:
        return await self.insert(
            "INSERT INTO people (telegram_user_id, display_name, role, caf_id, partner_id,"
            " joined_at, last_seen_at) VALUES (:tg, :name, :role, :caf, :partner, :at, :at)",
            tg=tg,
            name=name,
            role=role,
            caf=self.ids["caf"],
            partner=self.ids["site"] if partner else None,
            at=to_db(T0),
        )

    async def build(self) -> Site:
        async with self.db.transaction() as tx:
            caf = await cafs.add(
                tx,
                name="Caf de la Somme",
                period=ReportingPeriod.QUARTERLY,
                timezone="Europe/Paris",
                notify_chat_id=None,
                now=T0,
            )
            site = await partners.add(
                tx, caf_id=caf.id, name="Mairie de Ham", city="Ham", address="", now=T0
            )
        self.ids.update(caf=caf.id, site=site.id)
        manager = await self.person("Marc", "manager", 501)
        coordinator = await self.person("Corinne", "coordinator", 502, partner=False)
        self.ids.update(manager=manager, coordinator=coordinator)
        await self.texts_at(T0, "ancien")
        return self

    async def texts_at(self, at: datetime, tag: str) -> None:
        """One of each free text the bot keeps, all written at `at`, each quoting `tag`."""
        ids, when = self.ids, to_db(at)
        common = {"caf": ids["caf"], "site": ids["site"], "at": when}
        signal = await self.insert(
            "INSERT INTO signals (caf_id, partner_id, kind, reporter_id, description, status,"
            " created_at, resolved_at, resolved_by, resolution) VALUES (:caf, :site,"
            " 'difficulty', :m, :d, 'resolved', :at, :at, :c, :r)",
            **common,
            m=ids["manager"],
            c=ids["coordinator"],
            d=f"Difficulté {tag}",
            r=f"Clôture {tag}",
        )
        ids[f"signal_{tag}"] = signal
        await self.insert(
            "INSERT INTO signal_messages (signal_id, author_id, from_caf, body, at)"
            " VALUES (:s, :c, 1, :b, :at)",
            s=signal,
            c=ids["coordinator"],
            b=f"Réponse {tag}",
            at=when,
        )
        await self.insert(
            "INSERT INTO closures (partner_id, start_date, end_date, reason, note, declared_by,"
            " declared_at) VALUES (:site, :day, :day, 'travaux', :note, :m, :at)",
            **common,
            day=at.date().isoformat(),
            note=f"Fermeture {tag}",
            m=ids["manager"],
        )
        async with self.db.transaction() as tx:
            await partners.set_label(
                tx,
                ids["site"],
                status=LabelStatus.SUSPENDED,
                reason=f"Suspension {tag}",
                now=at,
                by=ids["coordinator"],
            )
            await partners.set_label(
                tx,
                ids["site"],
                status=LabelStatus.ACTIVE,
                reason=f"Réactivation {tag}",
                now=at + timedelta(minutes=1),
                by=ids["coordinator"],
            )
        review = await self.insert(
            "INSERT INTO site_reviews (caf_id, partner_id, visited_on, premises_ok, equipment_ok,"
            " hours_ok, remarks, recorded_by, recorded_at) VALUES (:caf, :site, :day, 1, 1, 1,"
            " :r, :c, :at)",
            **common,
            day=at.date().isoformat(),
            r=f"Remarques {tag}",
            c=ids["coordinator"],
        )
        for done, label in ((True, "faite"), (False, "à faire")):
            await self.insert(
                "INSERT INTO action_items (review_id, partner_id, description, owner, due_on,"
                " done_at, done_by, created_at) VALUES (:r, :site, :d, 'partner', :day, :done,"
                " :by, :at)",
                **common,
                r=review,
                d=f"Action {label} {tag}",
                day=at.date().isoformat(),
                done=when if done else None,
                by=ids["coordinator"] if done else None,
            )
        for status in ("sent", "draft"):
            await self.insert(
                "INSERT INTO announcements (caf_id, author_id, body, status, created_at,"
                " updated_at, sent_at) VALUES (:caf, :c, :b, :status, :at, :at, :sent)",
                **common,
                c=ids["coordinator"],
                b=f"Information {status} {tag}",
                status=status,
                sent=when if status == "sent" else None,
            )
        for status in ("sent", "pending"):
            await self.insert(
                "INSERT INTO outbox (kind, dedup_key, person_id, chat_id, text, status,"
                " not_before, created_at, updated_at, sent_at) VALUES ('notice', :key, :m, 501,"
                " :t, :status, :at, :at, :at, :sent)",
                **common,
                key=f"{tag}:{status}",
                m=ids["manager"],
                t=f"Message {status} {tag}",
                status=status,
                sent=when if status == "sent" else None,
            )

    async def value(self, sql: str, **params: Any) -> Any:
        return await self.db.fetch_value(sql, params)

    async def texts(self) -> str:
        """Every free text the rules look after, to check what is left."""
        rows = await self.db.fetch_all(
            "SELECT description FROM signals UNION ALL SELECT resolution FROM signals"
            " UNION ALL SELECT body FROM signal_messages UNION ALL SELECT note FROM closures"
            " UNION ALL SELECT reason FROM label_history UNION ALL SELECT label_reason"
            " FROM partners UNION ALL SELECT remarks FROM site_reviews UNION ALL"
            " SELECT description FROM action_items UNION ALL SELECT body FROM announcements"
            " UNION ALL SELECT text FROM outbox"
        )
        return "\n".join(str(row[0]) for row in rows)


@pytest.fixture
async def site(db: Database) -> Site:
    return await Site(db).build()


def settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


async def nightly_run(db: Database, clock: ManualClock, **overrides: Any) -> None:
    """The housekeeping job as the bot schedules it, run by the scheduler at its hour."""
    config = settings(**overrides)
    scheduler = Scheduler(db, clock)
    scheduler.register(
        housekeeping.KIND,
        functools.partial(housekeeping.run, db=db, clock=clock, settings=config),
    )
    await housekeeping.ensure_scheduled(db, clock, config.tz)
    clock.advance(days=1)
    assert await scheduler.run_due() >= 1


async def test_texts_younger_than_the_retention_stay_whole(site: Site) -> None:
    clock = ManualClock(months_before(T0, -23))  # 23 months later
    before = await site.texts()
    await nightly_run(site.db, clock)
    assert await site.texts() == before
    assert MARK_24 not in before


async def test_the_nightly_run_replaces_texts_older_than_24_months_with_a_marker(
    site: Site,
) -> None:
    clock = ManualClock(months_before(T0, -24))  # the run happens the next night
    await site.texts_at(clock.now(), "récent")
    await nightly_run(site.db, clock)
    texts = await site.texts()

    # Purged: every old free text but those still in use.
    for gone in [
        "Difficulté ancien",
        "Clôture ancien",
        "Réponse ancien",
        "Fermeture ancien",
        "Suspension ancien",
        "Réactivation ancien",
        "Remarques ancien",
        "Action faite ancien",
        "Information sent ancien",
        "Message sent ancien",
    ]:
        assert gone not in texts, gone
    # Kept: recent texts, the current label's reason, an action still to do, a draft
    # broadcast, a message not sent yet.
    for kept in [
        "Difficulté récent",
        "Clôture récent",
        "Réponse récent",
        "Fermeture récent",
        "Suspension récent",
        "Remarques récent",
        "Action faite récent",
        "Action à faire ancien",
        "Information draft ancien",
        "Message pending ancien",
    ]:
        assert kept in texts, kept
    latest = await site.value(
        "SELECT reason FROM label_history WHERE id = (SELECT MAX(id) FROM label_history)"
    )
    assert latest == "Réactivation récent"
    assert await site.value("SELECT label_reason FROM partners") == "Réactivation récent"
    # The history still reads: the rows stay, the texts say what happened to them.
    assert await site.value("SELECT COUNT(*) FROM signals") == 2
    assert (
        await site.value(
            "SELECT description FROM signals WHERE id = :id", id=site.ids["signal_ancien"]
        )
        == MARK_24
    )
    assert texts.count(MARK_24) == 11  # 10 purged above, the label's first reason too

    # Idempotent: another night changes nothing.
    clock.advance(days=1)
    again = await site.texts()
    await nightly_run(site.db, clock)
    assert await site.texts() == again


async def test_the_retention_is_a_setting(site: Site) -> None:
    clock = ManualClock(months_before(T0, -13))
    await nightly_run(site.db, clock, retention_months=12)
    texts = await site.texts()
    assert "Difficulté ancien" not in texts
    assert "[texte supprimé après 12 mois]" in texts
    assert MARK_24 not in texts


async def test_unfinished_entries_forgotten_for_the_retention_are_dropped(site: Site) -> None:
    ids = site.ids
    await site.insert(
        "INSERT INTO pending_inputs (person_id, kind, created_at) VALUES (:m, 'x', :at)",
        m=ids["manager"],
        at=to_db(T0),
    )
    await site.insert(
        "INSERT INTO hours_drafts (person_id, partner_id, schedule, updated_at)"
        " VALUES (:m, :site, '{}', :at)",
        m=ids["manager"],
        site=ids["site"],
        at=to_db(T0),
    )
    await site.insert(
        "INSERT INTO review_drafts (person_id, partner_id, state, updated_at)"
        " VALUES (:c, :site, '{}', :at)",
        c=ids["coordinator"],
        site=ids["site"],
        at=to_db(T0),
    )
    await nightly_run(site.db, ManualClock(months_before(T0, -24)))
    for table in ("pending_inputs", "hours_drafts", "review_drafts"):
        assert await site.value(f"SELECT COUNT(*) FROM {table}") == 0, table


async def test_people_revoked_for_the_retention_are_erased_and_their_visits_stay(
    site: Site,
) -> None:
    ids = site.ids
    agent = await site.person("Agnès", "agent", 503)
    recent = await site.person("Rémi", "agent", 504)
    for person, revoked in ((agent, T0), (recent, months_before(T0, -20))):
        await site.insert(
            "UPDATE people SET status = 'revoked', revoked_at = :at WHERE id = :id",
            at=to_db(revoked),
            id=person,
        )
    await site.insert(
        "INSERT INTO visit_drafts (person_id, partner_id, chat_id, state, status, created_at,"
        " updated_at) VALUES (:p, :site, 503, '{}', 'saved', :at, :at)",
        p=agent,
        site=ids["site"],
        at=to_db(T0),
    )
    await site.insert(
        "INSERT INTO visits (draft_id, caf_id, partner_id, person_id, visited_at, sexe, age,"
        " statut, autonomie, resolution, created_at, updated_at) VALUES ((SELECT MAX(id) FROM"
        " visit_drafts), :caf, :site, :p, :at, 'femme', '25_60', 'allocataire', 'debutant',"
        " 'oui', :at, :at)",
        caf=ids["caf"],
        site=ids["site"],
        p=agent,
        at=to_db(T0),
    )
    await nightly_run(site.db, ManualClock(months_before(T0, -24)))

    row = await site.db.fetch_one("SELECT * FROM people WHERE id = :id", {"id": agent})
    assert row is not None
    assert row["telegram_user_id"] is None
    assert row["display_name"] == f"Personne effacée n° {agent}"
    assert await site.value("SELECT COUNT(*) FROM visits WHERE person_id = :p", p=agent) == 1
    assert await site.value("SELECT chat_id FROM visit_drafts WHERE person_id = :p", p=agent) == 0
    audit = await site.db.fetch_one(
        "SELECT * FROM audit_log WHERE action = 'person.erased' AND target_id = :p", {"p": agent}
    )
    assert audit is not None and audit["actor_id"] is None and "automatic" in audit["details"]
    # Revoked 20 months ago, or still active: untouched.
    for person, tg in ((recent, 504), (ids["manager"], 501)):
        assert await site.value("SELECT telegram_user_id FROM people WHERE id = :p", p=person) == tg


async def test_erasure_blanks_only_what_the_convention_does_not_need(site: Site) -> None:
    """Signals already closed lose the erased person's texts; closures, label reasons, the
    yearly visit and broadcasts keep theirs, now signed by a « personne effacée »."""
    ids = site.ids
    open_signal = await site.insert(
        "INSERT INTO signals (caf_id, partner_id, kind, reporter_id, description, created_at)"
        " VALUES (:caf, :site, 'difficulty', :m, 'Toujours bloqué', :at)",
        caf=ids["caf"],
        site=ids["site"],
        m=ids["manager"],
        at=to_db(T0),
    )
    async with site.db.transaction() as tx:
        assert await personal_data.erase(tx, ids["manager"], T0)
        assert not await personal_data.erase(tx, ids["manager"], T0)  # once
        assert await personal_data.erase(tx, ids["coordinator"], T0)
    texts = await site.texts()
    for gone in ["Difficulté ancien", "Clôture ancien", "Réponse ancien"]:
        assert gone not in texts
    assert ERASED_TEXT in texts
    for kept in [
        "Toujours bloqué",
        "Fermeture ancien",
        "Réactivation ancien",
        "Remarques ancien",
        "Action faite ancien",
        "Information sent ancien",
    ]:
        assert kept in texts, kept
    assert (
        await site.value("SELECT reporter_id FROM signals WHERE id = :s", s=open_signal)
        == (ids["manager"])
    )
    # All were the manager's: the one not sent yet is gone; the sent one stays for the
    # counts, with neither its text nor the chat it went to.
    rows = await site.db.fetch_all("SELECT status, chat_id, text, reply_markup FROM outbox")
    assert [tuple(row) for row in rows] == [("sent", 0, ERASED_TEXT, None)]


async def test_erasure_blanks_the_messages_naming_the_person_not_those_containing_the_letters(
    site: Site,
) -> None:
    ids = site.ids
    anne = await site.person("Anne", "agent", 503)
    texts = {
        "naming": "Anne a signalé une difficulté",
        "town": "Réunion d'information à Annecy",
        "longer": "Marianne a répondu",
    }
    for key, text in texts.items():
        await site.insert(
            "INSERT INTO outbox (kind, dedup_key, person_id, chat_id, text, status,"
            " not_before, created_at, updated_at, sent_at) VALUES ('notice', :key, :c, 502,"
            " :t, 'sent', :at, :at, :at, :at)",
            key=key,
            c=ids["coordinator"],
            t=text,
            at=to_db(T0),
        )
    await site.insert(
        "INSERT INTO outbox (kind, dedup_key, person_id, chat_id, text, status,"
        " not_before, created_at, updated_at) VALUES ('broadcast:1', 'failed', :a, 503,"
        " 'Information', 'failed', :at, :at, :at)",
        a=anne,
        at=to_db(T0),
    )
    async with site.db.transaction() as tx:
        assert await personal_data.erase(tx, anne, T0)
    # Her failed message cannot be tried again: nobody to send it to.
    failed = await site.db.fetch_one(
        "SELECT status, chat_id FROM outbox WHERE dedup_key = 'failed'"
    )
    assert failed is not None and tuple(failed) == ("unreachable", 0)
    rows = await site.db.fetch_all(
        "SELECT dedup_key, text FROM outbox WHERE person_id = :c", {"c": ids["coordinator"]}
    )
    left = {row["dedup_key"]: row["text"] for row in rows}
    assert left == {"naming": ERASED_TEXT, "town": texts["town"], "longer": texts["longer"]}


async def test_a_visit_left_half_filled_is_abandoned_one_night_and_deleted_the_next(
    site: Site,
) -> None:
    """Issue #16: abandoned drafts served nobody and stayed for ever."""
    clock = ManualClock(T0)

    async def draft(status: str, tg_chat: int) -> int:
        return await site.insert(
            "INSERT INTO visit_drafts (person_id, partner_id, chat_id, state, status,"
            " created_at, updated_at) VALUES (:m, :site, :chat, '{}', :status, :at, :at)",
            m=site.ids["manager"],
            site=site.ids["site"],
            chat=tg_chat,
            status=status,
            at=to_db(T0 - timedelta(hours=1)),  # more than a day old at the first run
        )

    left_open = await draft("open", 501)
    saved = await draft("saved", 501)
    await site.insert(
        "INSERT INTO visits (draft_id, caf_id, partner_id, person_id, visited_at, sexe, age,"
        " statut, autonomie, resolution, created_at, updated_at) VALUES (:d, :caf, :site, :m,"
        " :at, 'femme', '25_60', 'allocataire', 'debutant', 'oui', :at, :at)",
        d=saved,
        caf=site.ids["caf"],
        site=site.ids["site"],
        m=site.ids["manager"],
        at=to_db(T0),
    )

    async def status(draft_id: int) -> str | None:
        value = await site.value("SELECT status FROM visit_drafts WHERE id = :id", id=draft_id)
        return None if value is None else str(value)

    await nightly_run(site.db, clock)
    assert (await status(left_open), await status(saved)) == ("abandoned", "saved")
    await nightly_run(site.db, clock)
    assert (await status(left_open), await status(saved)) == (None, "saved")
