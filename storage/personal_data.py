"""What the bot holds about a person: the inventory, the export, the erasure, the retention.

Every column of the schema that points at a person (a `people` id, a Telegram account or a
private chat) is listed once in `PERSON_COLUMNS`, with the part of /mesdonnees that shows it
and what an erasure does to it. tests/test_retention.py reads the migrated schema and fails
when a table gains such a column that is not listed here: a new feature cannot keep data
about people that /mesdonnees does not show and an erasure does not reach.

Erasure (a coordinator's act, or the nightly run for people revoked long ago): the person's
row stays, so their visits still count as anonymous figures, but it no longer says who they
were: no Telegram account, a neutral name, access revoked. What only served them (drafts,
expected answers, messages to them) is deleted; the texts they wrote stay where the
convention needs them (see README, « Données personnelles ») and are blanked elsewhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.personal_data import (
    ERASED_TEXT,
    MARKER_START,
    Summary,
    erased_name,
    name_forms,
    name_pattern,
)
from storage.db import Conn, Tx
from storage.timefmt import to_db


class OnErase(StrEnum):
    IDENTITY = "identity"  # the person's own row: anonymised, revoked
    KEPT = "kept"  # the pointer stays, to the anonymised row (figures, history)
    DELETED = "deleted"  # rows that only served the person
    CLEARED = "cleared"  # the Telegram account or chat is removed from the row
    NOT_A_PERSON = "not_a_person"  # a group chat (the Caf's notification chat)


@dataclass(frozen=True)
class PersonColumn:
    table: str
    column: str
    section: str | None  # the part of the export that shows it (None: not a person)
    on_erase: OnErase
    telegram: bool = False  # holds a Telegram account or private chat id, not a people id


PERSON_COLUMNS: tuple[PersonColumn, ...] = (
    PersonColumn("people", "telegram_user_id", "identite", OnErase.IDENTITY, telegram=True),
    PersonColumn("label_history", "changed_by", "labels_modifies", OnErase.KEPT),
    # Where they worked stays with their (anonymised) row, as their visits do.
    PersonColumn("person_sites", "person_id", "sites", OnErase.KEPT),
    PersonColumn("invitations", "created_by", "invitations_creees", OnErase.KEPT),
    PersonColumn(
        "invitation_failures", "telegram_user_id", "codes_errones", OnErase.DELETED, telegram=True
    ),
    PersonColumn("audit_log", "actor_id", "journal", OnErase.KEPT),
    # Open drafts are deleted; a saved visit's draft stays (visits.draft_id), codes only.
    PersonColumn("visit_drafts", "person_id", "visite_en_cours", OnErase.KEPT),
    PersonColumn("visit_drafts", "chat_id", "visite_en_cours", OnErase.CLEARED, telegram=True),
    PersonColumn("visits", "person_id", "visites", OnErase.KEPT),
    PersonColumn("training_visits", "person_id", "visites", OnErase.DELETED),
    # Messages not sent yet are deleted; those the outbox has finished with stay, emptied,
    # so that a broadcast's delivery counts do not change.
    PersonColumn("outbox", "person_id", "messages_pour_vous", OnErase.KEPT),
    PersonColumn("outbox", "chat_id", "messages_pour_vous", OnErase.CLEARED, telegram=True),
    PersonColumn("pending_inputs", "person_id", "reponse_attendue", OnErase.DELETED),
    PersonColumn("opening_hours", "declared_by", "horaires_declares", OnErase.KEPT),
    PersonColumn("hours_drafts", "person_id", "horaires_en_cours", OnErase.DELETED),
    PersonColumn("closures", "declared_by", "fermetures", OnErase.KEPT),
    PersonColumn("closures", "cancelled_by", "fermetures", OnErase.KEPT),
    PersonColumn("signals", "reporter_id", "signalements_envoyes", OnErase.KEPT),
    PersonColumn("signals", "acknowledged_by", "signalements_traites", OnErase.KEPT),
    PersonColumn("signals", "resolved_by", "signalements_traites", OnErase.KEPT),
    PersonColumn("signal_messages", "author_id", "messages_signalements", OnErase.KEPT),
    PersonColumn("announcements", "author_id", "diffusions_ecrites", OnErase.KEPT),
    PersonColumn(
        "announcements", "progress_chat_id", "diffusions_ecrites", OnErase.CLEARED, telegram=True
    ),
    PersonColumn("announcement_recipients", "person_id", "diffusions_recues", OnErase.KEPT),
    PersonColumn("documents", "created_by", "documents_ajoutes", OnErase.KEPT),
    PersonColumn("events", "created_by", "evenements_crees", OnErase.KEPT),
    PersonColumn("event_invitations", "person_id", "evenements", OnErase.KEPT),
    # A training history is the site's record under the convention (Articles 3, 4).
    PersonColumn("trainings", "person_id", "formations", OnErase.KEPT),
    PersonColumn("trainings", "recorded_by", "formations_enregistrees", OnErase.KEPT),
    PersonColumn("period_reports", "validated_by", "periodes_validees", OnErase.KEPT),
    PersonColumn("site_reviews", "recorded_by", "visites_annuelles", OnErase.KEPT),
    PersonColumn("action_items", "done_by", "actions_du_plan_faites", OnErase.KEPT),
    PersonColumn("review_drafts", "person_id", "visite_annuelle_en_cours", OnErase.DELETED),
    PersonColumn("terminations", "recorded_by", "denonciations", OnErase.KEPT),
    PersonColumn("terminations", "cancelled_by", "denonciations", OnErase.KEPT),
    PersonColumn("cafs", "notify_chat_id", None, OnErase.NOT_A_PERSON, telegram=True),
)


@dataclass(frozen=True)
class Section:
    """One part of the export: a query of the person's rows (`:person`, `:tg`), and the
    French words of the summary."""

    key: str
    label: str
    sql: str


_SITE = "LEFT JOIN partners pa ON pa.id = {alias}.partner_id"

SECTIONS: tuple[Section, ...] = (
    Section(
        "signalements_envoyes",
        "Signalements envoyés à la Caf",
        "SELECT s.id, s.kind AS type, s.category AS categorie, s.urgency AS urgence,"
        " s.status AS statut, pa.name AS site, s.created_at AS envoye_le, s.description,"
        " s.resolution AS note_de_cloture FROM signals s "
        + _SITE.format(alias="s")
        + " WHERE s.reporter_id = :person ORDER BY s.id",
    ),
    Section(
        "signalements_traites",
        "Signalements pris en charge ou clos",
        "SELECT s.id, s.kind AS type, s.status AS statut, pa.name AS site,"
        " CASE WHEN s.acknowledged_by = :person THEN s.acknowledged_at END AS pris_en_charge_le,"
        " CASE WHEN s.resolved_by = :person THEN s.resolved_at END AS clos_le,"
        " CASE WHEN s.resolved_by = :person THEN s.resolution END AS note_de_cloture"
        " FROM signals s "
        + _SITE.format(alias="s")
        + " WHERE s.acknowledged_by = :person OR s.resolved_by = :person ORDER BY s.id",
    ),
    Section(
        "messages_signalements",
        "Messages écrits sur des signalements",
        "SELECT m.signal_id AS signalement, m.at AS le, m.from_caf AS au_nom_de_la_caf,"
        " m.body AS texte FROM signal_messages m WHERE m.author_id = :person ORDER BY m.id",
    ),
    Section(
        "horaires_declares",
        "Déclarations d'horaires",
        "SELECT h.id, pa.name AS site, h.effective_from AS a_partir_du, h.schedule AS horaires,"
        " h.declared_at AS declare_le FROM opening_hours h "
        + _SITE.format(alias="h")
        + " WHERE h.declared_by = :person ORDER BY h.id",
    ),
    Section(
        "fermetures",
        "Fermetures déclarées ou annulées",
        "SELECT c.id, pa.name AS site, c.start_date AS du, c.end_date AS au, c.reason AS motif,"
        " c.note, c.declared_by = :person AS declaree_par_vous, c.declared_at AS declaree_le,"
        " c.cancelled_by = :person AS annulee_par_vous, c.cancelled_at AS annulee_le"
        " FROM closures c "
        + _SITE.format(alias="c")
        + " WHERE c.declared_by = :person OR c.cancelled_by = :person ORDER BY c.id",
    ),
    Section(
        "diffusions_recues",
        "Informations de la Caf reçues",
        "SELECT r.announcement_id AS diffusion, a.sent_at AS envoyee_le, a.must_read AS a_lire,"
        " r.read_at AS lue_le, r.reminded AS rappel_envoye FROM announcement_recipients r"
        " JOIN announcements a ON a.id = r.announcement_id WHERE r.person_id = :person"
        " ORDER BY r.announcement_id",
    ),
    Section(
        "diffusions_ecrites",
        "Informations écrites pour le réseau",
        "SELECT a.id, a.status AS statut, a.must_read AS a_lire, a.created_at AS creee_le,"
        " a.sent_at AS envoyee_le, a.body AS texte FROM announcements a"
        " WHERE a.author_id = :person OR a.progress_chat_id = :tg ORDER BY a.id",
    ),
    Section(
        "evenements",
        "Invitations à des événements",
        "SELECT i.event_id AS evenement, e.title AS titre, e.starts_at AS debut,"
        " i.status AS reponse, i.answered_at AS repondu_le, i.attended AS presence"
        " FROM event_invitations i JOIN events e ON e.id = i.event_id"
        " WHERE i.person_id = :person ORDER BY e.starts_at",
    ),
    Section(
        "formations",
        "Formations suivies ou manquées",
        "SELECT t.title AS formation, t.on_date AS le, t.attended AS presence,"
        " CASE WHEN t.event_id IS NULL THEN 'saisie' ELSE 'journee_de_formation' END AS origine,"
        " t.recorded_at AS enregistree_le FROM trainings t WHERE t.person_id = :person"
        " ORDER BY t.on_date, t.id",
    ),
    Section(
        "formations_enregistrees",
        "Formations enregistrées pour d'autres",
        "SELECT t.id, t.title AS formation, t.on_date AS le, t.recorded_at AS enregistree_le"
        " FROM trainings t WHERE t.recorded_by = :person AND t.person_id != :person"
        " ORDER BY t.id",
    ),
    Section(
        "evenements_crees",
        "Événements créés",
        "SELECT id, kind AS type, title AS titre, starts_at AS debut, status AS statut,"
        " created_at AS cree_le FROM events WHERE created_by = :person ORDER BY id",
    ),
    Section(
        "documents_ajoutes",
        "Documents ajoutés",
        "SELECT id, title AS titre, created_at AS ajoute_le FROM documents"
        " WHERE created_by = :person ORDER BY id",
    ),
    Section(
        "sites",
        "Sites où vous travaillez",
        "SELECT pa.name AS site, pa.city AS commune, s.since AS depuis FROM person_sites s "
        + _SITE.format(alias="s")
        + " WHERE s.person_id = :person ORDER BY pa.name",
    ),
    Section(
        "invitations_creees",
        "Liens d'invitation créés",
        "SELECT i.id, i.role, pa.name AS site, i.uses_left AS utilisations_restantes,"
        " i.expires_at AS expire_le, i.created_at AS cree_le, i.revoked_at AS annule_le"
        " FROM invitations i "
        + _SITE.format(alias="i")
        + " WHERE i.created_by = :person ORDER BY i.id",
    ),
    Section(
        "labels_modifies",
        "Changements de label",
        "SELECT pa.name AS site, h.status AS statut, h.reason AS motif, h.changed_at AS le"
        " FROM label_history h "
        + _SITE.format(alias="h")
        + " WHERE h.changed_by = :person ORDER BY h.id",
    ),
    Section(
        "periodes_validees",
        "Périodes d'indicateurs validées",
        "SELECT pa.name AS site, r.period AS periode, r.validated_at AS validee_le,"
        " r.validated_visits AS visites_validees FROM period_reports r "
        + _SITE.format(alias="r")
        + " WHERE r.validated_by = :person ORDER BY r.id",
    ),
    Section(
        "denonciations",
        "Dénonciations de convention enregistrées ou retirées",
        "SELECT t.id, pa.name AS site, t.by_party AS par, t.effective_on AS fin_le,"
        " t.reason AS motif, t.recorded_by = :person AS enregistree_par_vous,"
        " t.recorded_at AS enregistree_le, t.cancelled_by = :person AS retiree_par_vous,"
        " t.cancelled_at AS retiree_le FROM terminations t "
        + _SITE.format(alias="t")
        + " WHERE t.recorded_by = :person OR t.cancelled_by = :person ORDER BY t.id",
    ),
    Section(
        "visites_annuelles",
        "Visites annuelles enregistrées",
        "SELECT r.id, pa.name AS site, r.visited_on AS le, r.remarks AS remarques,"
        " r.recorded_at AS enregistree_le FROM site_reviews r "
        + _SITE.format(alias="r")
        + " WHERE r.recorded_by = :person ORDER BY r.id",
    ),
    Section(
        "actions_du_plan_faites",
        "Actions de plan marquées faites",
        "SELECT a.id, pa.name AS site, a.description, a.done_at AS faite_le FROM action_items a "
        + _SITE.format(alias="a")
        + " WHERE a.done_by = :person ORDER BY a.id",
    ),
    Section(
        "journal",
        "Lignes du journal d'audit",
        "SELECT a.at AS le, a.action, a.target_type AS objet, a.target_id AS objet_id,"
        " a.details, CASE WHEN a.actor_id = :person THEN 'auteur' ELSE 'concerne' END"
        " AS vous_etes FROM audit_log a WHERE a.actor_id = :person"
        " OR (a.target_type = 'person' AND a.target_id = :person) ORDER BY a.id",
    ),
    Section(
        "reponse_attendue",
        "Réponse tapée attendue",
        "SELECT kind AS type, context AS contexte, created_at AS depuis FROM pending_inputs"
        " WHERE person_id = :person",
    ),
    Section(
        "visite_en_cours",
        "Visite en cours de saisie",
        "SELECT d.id, pa.name AS site, d.state AS reponses, d.training AS formation,"
        " d.created_at AS commencee_le, d.updated_at AS modifiee_le FROM visit_drafts d "
        + _SITE.format(alias="d")
        + " WHERE d.person_id = :person AND d.status = 'open'",
    ),
    Section(
        "horaires_en_cours",
        "Horaires en cours de saisie",
        "SELECT pa.name AS site, d.schedule AS horaires, d.effective_from AS a_partir_du,"
        " d.updated_at AS modifie_le FROM hours_drafts d "
        + _SITE.format(alias="d")
        + " WHERE d.person_id = :person",
    ),
    Section(
        "visite_annuelle_en_cours",
        "Visite annuelle en cours de saisie",
        "SELECT pa.name AS site, d.state AS etat, d.updated_at AS modifiee_le"
        " FROM review_drafts d " + _SITE.format(alias="d") + " WHERE d.person_id = :person",
    ),
    Section(
        "messages_pour_vous",
        "Messages de l'assistant à votre intention (hors réponses directes)",
        "SELECT o.id, o.kind AS type, o.status AS statut, o.created_at AS cree_le,"
        " o.sent_at AS envoye_le, o.text AS texte FROM outbox o"
        " WHERE o.person_id = :person OR o.chat_id = :tg ORDER BY o.id",
    ),
    Section(
        "codes_errones",
        "Codes d'invitation erronés (gardés un jour)",
        "SELECT at AS le FROM invitation_failures WHERE telegram_user_id = :tg ORDER BY at",
    ),
)
SECTION_KEYS = frozenset(section.key for section in SECTIONS) | {"identite", "visites"}
# Columns holding JSON: shown as JSON in the export rather than as a string of it.
_JSON_COLUMNS = frozenset({"horaires", "contexte", "reponses", "etat", "details"})


def _value(name: str, value: Any) -> Any:
    if name in _JSON_COLUMNS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _params(person_id: int, telegram_user_id: int | None) -> dict[str, Any]:
    # -1 never matches an account: an erased person's rows are found by their id only.
    return {"person": person_id, "tg": telegram_user_id if telegram_user_id is not None else -1}


async def _identity(conn: Conn, person_id: int) -> dict[str, Any] | None:
    row = await conn.fetch_one(
        "SELECT p.id, p.telegram_user_id, p.display_name, p.role, p.status, p.joined_at,"
        " p.last_seen_at, p.revoked_at, p.training_mode, p.unreachable_since,"
        " c.name AS caf, pa.name AS site, pa.city AS site_ville"
        " FROM people p JOIN cafs c ON c.id = p.caf_id"
        " LEFT JOIN partners pa ON pa.id = p.partner_id WHERE p.id = :person",
        {"person": person_id},
    )
    return dict(row) if row else None


async def summary(conn: Conn, person_id: int) -> Summary | None:
    identity = await _identity(conn, person_id)
    if identity is None:
        return None
    params = _params(person_id, identity["telegram_user_id"])
    counts = []
    for section in SECTIONS:
        n = int(await conn.fetch_value(f"SELECT COUNT(*) FROM ({section.sql}) AS found", params))
        if n:
            counts.append((section.label, n))
    visits = await conn.fetch_value("SELECT COUNT(*) FROM visits WHERE person_id = :person", params)
    training = await conn.fetch_value(
        "SELECT COUNT(*) FROM training_visits WHERE person_id = :person", params
    )
    return Summary(identity, int(visits), int(training), counts)


async def export(conn: Conn, person_id: int) -> dict[str, Any] | None:
    """Everything the bot holds about the person, section by section (for the JSON file).

    Visits are counts only: a visit holds nothing about the person received, and the
    agent's own part of it is the count.
    """
    identity = await _identity(conn, person_id)
    if identity is None:
        return None
    params = _params(person_id, identity["telegram_user_id"])
    data: dict[str, Any] = {"identite": identity}
    by_site = await conn.fetch_all(
        "SELECT pa.name AS site, COUNT(*) AS visites, MIN(v.visited_at) AS premiere,"
        " MAX(v.visited_at) AS derniere FROM visits v JOIN partners pa ON pa.id = v.partner_id"
        " WHERE v.person_id = :person GROUP BY v.partner_id, pa.name ORDER BY pa.name",
        params,
    )
    data["visites"] = {
        "total": sum(int(row["visites"]) for row in by_site),
        "par_site": [dict(row) for row in by_site],
        "en_mode_formation": int(
            await conn.fetch_value(
                "SELECT COUNT(*) FROM training_visits WHERE person_id = :person", params
            )
        ),
        "brouillons_termines_ou_abandonnes": int(
            await conn.fetch_value(
                "SELECT COUNT(*) FROM visit_drafts WHERE person_id = :person AND status != 'open'",
                params,
            )
        ),
    }
    for section in SECTIONS:
        rows = await conn.fetch_all(section.sql, params)
        data[section.key] = [{k: _value(k, row[k]) for k in row.keys()} for row in rows]  # noqa: SIM118
    return data


# ------------------------------------------------------------------------------ erasure
# Texts an erased person wrote that serve nobody any more: their part of a signal the Caf
# has closed. What the convention needs stays (README): open signals the Caf is working on
# (Article 4), closures (Articles 4 and 7), label reasons (Article 6), the yearly visit
# (Article 9), the Caf's information to its network (Article 3).
_ERASE_TEXTS = (
    "UPDATE signals SET description = :blank WHERE reporter_id = :person"
    " AND status = 'resolved' AND description IS NOT NULL",
    "UPDATE signals SET resolution = :blank WHERE resolved_by = :person AND resolution IS NOT NULL",
    "UPDATE signal_messages SET body = :blank WHERE author_id = :person"
    " AND signal_id IN (SELECT id FROM signals WHERE status = 'resolved')",
)
# What only served the person, or names their Telegram account.
_ERASE_ROWS = (
    "DELETE FROM pending_inputs WHERE person_id = :person",
    "DELETE FROM hours_drafts WHERE person_id = :person",
    "DELETE FROM review_drafts WHERE person_id = :person",
    # Practice visits never count anywhere: nothing to keep.
    "DELETE FROM training_visits WHERE person_id = :person",
    # A saved visit keeps its draft (UNIQUE draft_id), without the chat it was typed in.
    "DELETE FROM visit_drafts WHERE person_id = :person"
    " AND id NOT IN (SELECT draft_id FROM visits)"
    " AND id NOT IN (SELECT draft_id FROM training_visits)",
    "UPDATE visit_drafts SET chat_id = 0, message_id = NULL WHERE person_id = :person",
    "DELETE FROM outbox WHERE (person_id = :person OR chat_id = :tg)"
    " AND status IN ('pending', 'sending')",
    # A failed one can no longer be tried again (« 🔁 Relancer les échecs »): unreachable now.
    "UPDATE outbox SET chat_id = 0, text = :blank, reply_markup = NULL,"
    " telegram_message_id = NULL,"
    " status = CASE status WHEN 'failed' THEN 'unreachable' ELSE status END"
    " WHERE person_id = :person OR chat_id = :tg",
    "UPDATE announcements SET progress_chat_id = NULL, progress_message_id = NULL"
    " WHERE progress_chat_id = :tg",
    "DELETE FROM invitation_failures WHERE telegram_user_id = :tg",
)


async def erase(tx: Tx, person_id: int, now: datetime) -> bool:
    """Erases the person (see the module's docstring); False when already erased or unknown.

    Messages to others that name them are deleted while still waiting to be sent, blanked
    in every other status (sending, sent, failed, unreachable: those rows only record what
    was tried); what Telegram already shows in people's chats is beyond the bot's reach.
    """
    row = await tx.fetch_one(
        "SELECT telegram_user_id, display_name, caf_id FROM people WHERE id = :person",
        {"person": person_id},
    )
    if row is None or row["telegram_user_id"] is None:
        return False
    params = {**_params(person_id, int(row["telegram_user_id"])), "blank": ERASED_TEXT}
    for sql in (*_ERASE_TEXTS, *_ERASE_ROWS):
        await tx.execute(sql, params)
    name = str(row["display_name"])
    if len(name) >= 3:
        # Only what went to the person's own Caf can name them: another Caf's records (where a
        # namesake may well be named) are not this Caf's to touch. `instr` picks the rows that
        # may name them, the pattern keeps those naming them as a whole word.
        pattern = name_pattern(name)
        forms = name_forms(name)
        may_name = " OR ".join(f"instr(text, :form{i}) > 0" for i in range(len(forms)))
        candidates = await tx.fetch_all(
            f"SELECT id, text, status FROM outbox WHERE ({may_name})"
            " AND (person_id IN (SELECT id FROM people WHERE caf_id = :caf)"
            " OR chat_id IN (SELECT notify_chat_id FROM cafs WHERE id = :caf))",
            {**{f"form{i}": form for i, form in enumerate(forms)}, "caf": row["caf_id"]},
        )
        naming = [c for c in candidates if pattern.search(c["text"])]
        # Not sent yet: never sent at all, rather than sent after the erasure. Every other
        # status keeps its row (the sender's bookkeeping), emptied.
        await tx.executemany(
            "DELETE FROM outbox WHERE id = :id AND status = 'pending'",
            [{"id": c["id"]} for c in naming if c["status"] == "pending"],
        )
        await tx.executemany(
            "UPDATE outbox SET text = :blank, reply_markup = NULL WHERE id = :id",
            [{"id": c["id"], "blank": ERASED_TEXT} for c in naming if c["status"] != "pending"],
        )
    await tx.execute(
        "UPDATE people SET telegram_user_id = NULL, display_name = :name, status = 'revoked',"
        " revoked_at = COALESCE(revoked_at, :now), training_mode = 0, unreachable_since = NULL"
        " WHERE id = :person",
        {"person": person_id, "name": erased_name(person_id), "now": to_db(now)},
    )
    return True


async def revoked_before(conn: Conn, cut: datetime) -> list[int]:
    """People revoked before `cut` and not erased yet (the nightly run erases them)."""
    rows = await conn.fetch_all(
        "SELECT id FROM people WHERE status = 'revoked' AND telegram_user_id IS NOT NULL"
        " AND revoked_at < :cut ORDER BY id",
        {"cut": to_db(cut)},
    )
    return [int(row["id"]) for row in rows]


# ------------------------------------------------------------------------------ retention
@dataclass(frozen=True)
class RetentionRule:
    """A free-text field replaced by the retention marker once older than the retention.

    `age` is the SQL instant the text's age counts from; `only` narrows the rows (a done
    action item, a sent broadcast). README « Données personnelles » says why for each.
    """

    name: str
    table: str
    column: str
    age: str
    only: str = "1 = 1"


RETENTION_RULES: tuple[RetentionRule, ...] = (
    # A signal's texts, from its last step: what the site said and how the Caf closed it.
    RetentionRule(
        "signals.description",
        "signals",
        "description",
        "COALESCE(resolved_at, acknowledged_at, created_at)",
    ),
    RetentionRule("signals.resolution", "signals", "resolution", "resolved_at"),
    RetentionRule("signal_messages.body", "signal_messages", "body", "at"),
    RetentionRule("closures.note", "closures", "note", "declared_at"),
    # The reason of the label's current status stays as long as that status stands.
    RetentionRule(
        "label_history.reason",
        "label_history",
        "reason",
        "changed_at",
        "id < (SELECT MAX(h.id) FROM label_history h"
        " WHERE h.partner_id = label_history.partner_id)",
    ),
    RetentionRule("site_reviews.remarks", "site_reviews", "remarks", "recorded_at"),
    # An item still to do stays readable until it is done.
    RetentionRule(
        "action_items.description", "action_items", "description", "done_at", "done_at IS NOT NULL"
    ),
    RetentionRule(
        "announcements.body",
        "announcements",
        "body",
        "COALESCE(sent_at, updated_at)",
        "status IN ('sent', 'cancelled')",
    ),
    # Copies of messages the outbox has finished with (sent, failed for good, unreachable).
    RetentionRule(
        "outbox.text",
        "outbox",
        "text",
        "COALESCE(sent_at, updated_at)",
        "status IN ('sent', 'failed', 'unreachable')",
    ),
)

# Unfinished entries forgotten long ago: deleted rather than marked.
DRAFT_RULES: tuple[tuple[str, str], ...] = (
    ("pending_inputs", "created_at"),
    ("hours_drafts", "updated_at"),
    ("review_drafts", "updated_at"),
)


async def purge_texts(tx: Tx, cut: datetime, marker: str) -> dict[str, int]:
    """Applies every retention rule; returns how many texts each replaced."""
    done: dict[str, int] = {}
    for rule in RETENTION_RULES:
        done[rule.name] = await tx.execute_count(
            f"UPDATE {rule.table} SET {rule.column} = :marker"
            f" WHERE {rule.column} IS NOT NULL AND substr({rule.column}, 1, :n) != :start"
            f" AND {rule.age} < :cut AND ({rule.only})",
            {"marker": marker, "cut": to_db(cut), "start": MARKER_START, "n": len(MARKER_START)},
        )
    for table, age in DRAFT_RULES:
        done[table] = await tx.execute_count(
            f"DELETE FROM {table} WHERE {age} < :cut", {"cut": to_db(cut)}
        )
    return done
