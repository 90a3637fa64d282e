"""🏢 Réseau (coordinators) and 👥 Mon équipe (managers): sites, labels, people, invitations.

Every screen is one message edited in place, driven by `NetworkTap(op, target, page)`.
Every tap is authorised from the database: a coordinator acts on their own Caf only, a
manager on the agents of their own site only. Every change is audit-logged, and what the
people concerned must be told goes through the outbox in the same transaction.
"""

from __future__ import annotations

import html
import math
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.constants import ParseMode

from bot import offload
from bot.context import Ctx
from bot.domain import renewal
from bot.domain.models import Member, Partner, PendingInput, Person
from bot.domain.permissions import Action, Actor, LabelStatus, PersonStatus, Role, decide
from bot.domain.privacy import IdentifierKind
from bot.exports import certificate
from bot.services import notify
from bot.ui import callbacks, menus
from bot.ui.callbacks import BadCallback, NetworkTap
from bot.ui.render import render
from conversations.common import Refused, chat_id_of, edit, guarded, require, send
from conversations.onboarding import set_commands
from conversations.text_input import TypedSteps, ask
from storage import audit, invitations, partners, pending, people
from storage import visits as visit_store

PAGE_SIZE = 8
# Invitation presets: (uses, days of validity).
PRESETS = {1: (1, 7), 2: (10, 30)}
ROLE_OF_OP = {"ia": Role.AGENT, "im": Role.MANAGER, "ic": Role.COORDINATOR}
STATUS_INDEX = [LabelStatus.ACTIVE, LabelStatus.SUSPENDED, LabelStatus.WITHDRAWN]
FIELDS = ["name", "city", "address", "convention_start"]
FIELD_LABELS = {
    "name": "le nom",
    "city": "la ville",
    "address": "l'adresse",
    "convention_start": "la date de la convention",
}

TYPED = TypedSteps()


def _tap(op: str, target: int = 0, page: int = 0) -> str:
    return callbacks.encode(NetworkTap(op, target, page))


def _button(label: str, op: str, target: int = 0, page: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=_tap(op, target, page))


def _pager(op: str, target: int, page: int, pages: int) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(_button("◀️ Précédents", op, target, page - 1))
    if page + 1 < pages:
        row.append(_button("Suivants ▶️", op, target, page + 1))
    return row


# ------------------------------------------------------------------------------ entry points
@guarded
async def open_network(update: Update, ctx: Ctx) -> None:
    """The menu entry 🏢 Réseau (coordinators)."""
    member = await require(update, ctx, Action.MANAGE_NETWORK)
    await pending.clear(ctx.db, member.person.id)
    text, markup = await _home(ctx, member, 0)
    await send(ctx, chat_id_of(update), text, markup)


@guarded
async def open_team(update: Update, ctx: Ctx) -> None:
    """The menu entry 👥 Mon équipe (managers): their site's people and invitations."""
    member = await require(update, ctx, Action.MANAGE_SITE_AGENTS)
    assert member.partner is not None
    await pending.clear(ctx.db, member.person.id)
    text, markup = await _people(ctx, member, member.partner, 0)
    await send(ctx, chat_id_of(update), text, markup)


@guarded
async def on_tap(update: Update, ctx: Ctx) -> None:
    query = update.callback_query
    assert query is not None
    tap = callbacks.decode(query.data, expect=NetworkTap)
    handler = SCREENS.get(tap.op)
    if handler is None:
        raise BadCallback("unknown op")
    member = await _network_member(update, ctx)
    message = query.message if isinstance(query.message, Message) else None
    answer = await handler(ctx, member, tap, message)
    await query.answer(answer)


async def _network_member(update: Update, ctx: Ctx) -> Member:
    """A coordinator, or else a manager (whose every target is checked to be their site)."""
    try:
        return await require(update, ctx, Action.MANAGE_NETWORK)
    except Refused as refused:
        if refused.member is None or refused.reason.value != "role":
            raise
        return await require(update, ctx, Action.MANAGE_SITE_AGENTS)


def _is_coordinator(member: Member) -> bool:
    return decide(member.actor, Action.MANAGE_NETWORK) is None


async def _own_partner(ctx: Ctx, member: Member, partner_id: int) -> Partner:
    """The partner if this person may manage it; forged or foreign ids are refused."""
    partner = await partners.get(ctx.db, partner_id)
    if partner is None or partner.caf_id != member.caf.id:
        raise BadCallback("not a partner of this Caf")
    if not _is_coordinator(member) and partner.id != member.person.partner_id:
        raise BadCallback("not the manager's site")
    return partner


async def _own_person(ctx: Ctx, member: Member, person_id: int) -> Person:
    person = await people.get(ctx.db, person_id)
    if person is None or person.caf_id != member.caf.id:
        raise BadCallback("not a person of this Caf")
    if not _is_coordinator(member) and (
        person.partner_id != member.person.partner_id or person.role is not Role.AGENT
    ):
        raise BadCallback("managers manage their site's agents only")
    return person


def _coordinator_only(member: Member) -> None:
    refusal = decide(member.actor, Action.MANAGE_NETWORK)
    if refusal is not None:
        raise Refused(refusal, member)


# ------------------------------------------------------------------------------ screens
async def _home(ctx: Ctx, member: Member, page: int) -> tuple[str, InlineKeyboardMarkup]:
    sites = await partners.list_for_caf(ctx.db, member.caf.id)
    counts = await people.count_active_by_partner(ctx.db, member.caf.id)
    pages = max(1, math.ceil(len(sites) / PAGE_SIZE))
    page = min(page, pages - 1)
    shown = sites[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    text = render(
        "network_home",
        caf=member.caf,
        total=len(sites),
        page=page + 1,
        pages=pages,
        by_status={s: sum(1 for p in sites if p.label_status is s) for s in LabelStatus},
    )
    rows = [
        [_button(f"{_status_mark(p)} {p.title} · {counts.get(p.id, 0)} pers.", "site", p.id)]
        for p in shown
    ]
    rows.append(_pager("home", 0, page, pages))
    rows.append([_button("➕ Ajouter un site", "add"), _button("👥 Coordination", "coords")])
    rows.append([_button("📜 Journal", "audit")])
    return text, InlineKeyboardMarkup([r for r in rows if r])


def _status_mark(partner: Partner) -> str:
    return {"active": "🟢", "suspended": "🟠", "withdrawn": "⛔"}[partner.label_status.value]


async def _site(ctx: Ctx, member: Member, partner: Partner) -> tuple[str, InlineKeyboardMarkup]:
    members = await people.list_for_partner(ctx.db, partner.id)
    text = render("partner_card", partner=partner, people=members, tz=ctx.settings.tz)
    rows = [
        [
            _button("👥 Personnes", "people", partner.id),
            _button("✏️ Modifier", "editmenu", partner.id),
        ]
    ]
    label_row = []
    if partner.label_status is not LabelStatus.ACTIVE:
        label_row.append(_button("🟢 Réactiver le label", "label", partner.id, 0))
    if partner.label_status is LabelStatus.ACTIVE:
        label_row.append(_button("🟠 Suspendre le label", "label", partner.id, 1))
    if partner.label_status is not LabelStatus.WITHDRAWN:
        label_row.append(_button("⛔ Retirer le label", "label", partner.id, 2))
    rows.append(label_row)
    rows.append(
        [
            _button("➕ Inviter un agent", "ia", partner.id),
            _button("➕ Inviter un responsable", "im", partner.id),
        ]
    )
    rows.append(
        [
            InlineKeyboardButton(
                "🏛 Visite annuelle",
                callback_data=callbacks.encode(callbacks.ReviewTap("home", partner.id, 0)),
            ),
            _button("📜 Certificat", "cert", partner.id),
        ]
    )
    rows.append([_button("⬅️ Tous les sites", "home")])
    return text, InlineKeyboardMarkup(rows)


async def _people(
    ctx: Ctx, member: Member, partner: Partner | None, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    if partner is None:
        everyone = await people.list_for_caf(
            ctx.db, member.caf.id, role=Role.COORDINATOR, active_only=False
        )
    else:
        everyone = await people.list_for_partner(ctx.db, partner.id, active_only=False)
    pages = max(1, math.ceil(len(everyone) / PAGE_SIZE))
    page = min(page, pages - 1)
    shown = everyone[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    text = render(
        "people_list",
        partner=partner,
        caf=member.caf,
        total=len(everyone),
        page=page + 1,
        pages=pages,
    )
    rows = [
        [
            _button(
                f"{'🚫 ' if p.status is PersonStatus.REVOKED else ''}{p.display_name}"
                f" · {p.role.label}",
                "person",
                p.id,
            )
        ]
        for p in shown
    ]
    target = partner.id if partner else 0
    rows.append(_pager("people" if partner else "coords", target, page, pages))
    if partner is None:
        rows.append([_button("➕ Inviter un·e coordinateur·rice", "ic")])
        rows.append([_button("⬅️ Tous les sites", "home")])
    else:
        rows.append([_button("➕ Inviter un agent", "ia", partner.id)])
        if _is_coordinator(member):
            rows.append([_button("⬅️ Le site", "site", partner.id)])
    return text, InlineKeyboardMarkup([r for r in rows if r])


# ------------------------------------------------------------------------------ tap handlers


async def screen_home(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    _coordinator_only(member)
    await edit(message, *await _home(ctx, member, tap.page))


async def screen_site(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    _coordinator_only(member)
    partner = await _own_partner(ctx, member, tap.target)
    await edit(message, *await _site(ctx, member, partner))


async def screen_people(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    partner = await _own_partner(ctx, member, tap.target)
    await edit(message, *await _people(ctx, member, partner, tap.page))


async def screen_coords(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    _coordinator_only(member)
    await edit(message, *await _people(ctx, member, None, tap.page))


async def screen_person(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    person = await _own_person(ctx, member, tap.target)
    partner = await partners.get(ctx.db, person.partner_id) if person.partner_id else None
    back = ("people", person.partner_id) if person.partner_id else ("coords", 0)
    rows = []
    if person.status is PersonStatus.ACTIVE and person.id != member.person.id:
        rows.append([_button("🚫 Retirer l'accès", "revoke", person.id)])
    if (
        _is_coordinator(member)
        and person.telegram_user_id is not None
        and person.id != member.person.id
    ):
        erase = callbacks.PersonalDataTap("erase", person.id, 0)  # conversations/my_data.py
        rows.append(
            [InlineKeyboardButton("🗑 Effacer ses données", callback_data=callbacks.encode(erase))]
        )
    rows.append([_button("⬅️ Retour", back[0], back[1] or 0)])
    text = render("person_card", person=person, partner=partner, tz=ctx.settings.tz)
    await edit(message, text, InlineKeyboardMarkup(rows))


async def screen_revoke(
    ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None
) -> str | None:
    person = await _own_person(ctx, member, tap.target)
    if person.status is PersonStatus.REVOKED:
        return "Cet accès est déjà retiré."
    if person.id == member.person.id:
        raise BadCallback("one does not revoke oneself")
    if tap.page != 1:  # first tap: ask for confirmation
        rows = [
            [_button("🚫 Oui, retirer l'accès", "revoke", person.id, 1)],
            [_button("✖️ Non", "person", person.id)],
        ]
        await edit(message, render("revoke_confirm", person=person), InlineKeyboardMarkup(rows))
        return None
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        await people.set_status(tx, person.id, PersonStatus.REVOKED, now)
        await pending.clear(tx, person.id)
        await visit_store.abandon_open(tx, person.id, now)
        await audit.record(
            tx,
            at=now,
            action="person.revoked",
            actor_id=member.person.id,
            caf_id=member.caf.id,
            target_type="person",
            target_id=person.id,
        )
        if person.telegram_user_id is not None:
            await notify.to_person(
                tx,
                person,
                kind="access_revoked",
                key=f"revoked:{person.id}:{now.isoformat()}",
                text=render("access_revoked_notice", caf=member.caf),
                now=now,
                markup=menus.main_menu(_revoked_actor()),
            )
    ctx.services.wake_outbox()
    revoked = await people.member(ctx.db, person.id)
    if revoked is not None:
        await set_commands(ctx, revoked)
    await screen_person(ctx, member, NetworkTap("person", person.id, 0), message)
    return "Accès retiré."


def _revoked_actor() -> Actor:
    return Actor(role=Role.AGENT, status=PersonStatus.REVOKED)


async def screen_invite(
    ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None
) -> str | None:
    role = ROLE_OF_OP[tap.op]
    if role is not Role.AGENT:
        _coordinator_only(member)
    partner = await _own_partner(ctx, member, tap.target) if role is not Role.COORDINATOR else None
    if tap.page not in PRESETS:
        rows = [
            [_button("Pour 1 personne (7 jours)", tap.op, tap.target, 1)],
            [_button("Pour une équipe (10 personnes, 30 jours)", tap.op, tap.target, 2)],
        ]
        await send(
            ctx,
            member.person.telegram_user_id or 0,
            render("invite_choose", role=role, partner=partner, caf=member.caf),
            InlineKeyboardMarkup(rows),
        )
        return None
    uses, days = PRESETS[tap.page]
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        code, invitation = await invitations.create(
            tx,
            role=role,
            caf_id=member.caf.id,
            partner_id=partner.id if partner else None,
            uses=uses,
            expires_at=now + timedelta(days=days),
            created_by=member.person.id,
            now=now,
        )
        await audit.record(
            tx,
            at=now,
            action="invitation.created",
            actor_id=member.person.id,
            caf_id=member.caf.id,
            target_type="invitation",
            target_id=invitation.id,
            details={"role": role.value, "partner": partner.id if partner else None, "uses": uses},
        )
    text = render(
        "invite_link",
        role=role,
        partner=partner,
        caf=member.caf,
        uses=uses,
        expires=invitation.expires_at,
        tz=ctx.settings.tz,
        link=f"https://t.me/{ctx.bot.username}?start={code}",
        code=code,
    )
    await edit(message, text, None)
    return "Lien créé."


async def screen_label(
    ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None
) -> str | None:
    _coordinator_only(member)
    partner = await _own_partner(ctx, member, tap.target)
    if not 0 <= tap.page < len(STATUS_INDEX):
        raise BadCallback("unknown status")
    status = STATUS_INDEX[tap.page]
    if status is partner.label_status:
        return f"Le label est déjà {status.label}."
    await ask(
        ctx,
        member,
        "label_reason",
        {"partner": partner.id, "status": status.value},
        render("ask_label_reason", partner=partner, status=status),
    )
    return None


async def screen_edit_menu(
    ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None
) -> None:
    _coordinator_only(member)
    partner = await _own_partner(ctx, member, tap.target)
    rows = [
        [
            _button("Nom", "edit", partner.id, 0),
            _button("Ville", "edit", partner.id, 1),
            _button("Adresse", "edit", partner.id, 2),
        ],
        [_button("📅 Date de la convention", "edit", partner.id, 3)],
        [_button("⬅️ Le site", "site", partner.id)],
    ]
    await edit(message, render("partner_edit_menu", partner=partner), InlineKeyboardMarkup(rows))


async def screen_edit(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    _coordinator_only(member)
    partner = await _own_partner(ctx, member, tap.target)
    if not 0 <= tap.page < len(FIELDS):
        raise BadCallback("unknown field")
    field = FIELDS[tap.page]
    prompt = (
        render("renewal_ask_start", partner=partner)
        if field == "convention_start"
        else render(
            "ask_partner_field",
            partner=partner,
            field=FIELD_LABELS[field],
            current=getattr(partner, field),
        )
    )
    await ask(ctx, member, "partner_field", {"partner": partner.id, "field": field}, prompt)


async def screen_add(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    _coordinator_only(member)
    await ask(ctx, member, "partner_new_name", {}, render("ask_new_partner", step="name"))


async def screen_audit(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    _coordinator_only(member)
    entries, total = await audit.page_for_caf(ctx.db, member.caf.id, limit=10, offset=tap.page * 10)
    pages = max(1, math.ceil(total / 10))
    text = render(
        "audit_log",
        entries=entries,
        page=min(tap.page, pages - 1) + 1,
        pages=pages,
        tz=ctx.settings.tz,
        describe=audit.describe,
    )
    rows = [_pager("audit", 0, tap.page, pages), [_button("⬅️ Tous les sites", "home")]]
    await edit(message, text, InlineKeyboardMarkup([r for r in rows if r]))


async def screen_cert(
    ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None
) -> str | None:
    """📜 Certificat: the site's Annexe 1 certificate as a PDF in the chat; the card stays."""
    _coordinator_only(member)
    partner = await _own_partner(ctx, member, tap.target)
    if partner.label_status is LabelStatus.WITHDRAWN:
        return "Le label de ce site est retiré : pas de certificat."
    day = ctx.clock.now().astimezone(ZoneInfo(member.caf.timezone)).date()
    # Drawn in a child process: reportlab never enters the bot's memory.
    content = await offload.run(
        certificate.certificate_pdf,
        caf_name=member.caf.name,
        partner_name=partner.name,
        town=certificate.town_of(partner),
        day=day,
        logo_path=Path(member.caf.logo_path) if member.caf.logo_path else None,
    )
    await ctx.bot.send_document(
        member.person.telegram_user_id or 0,
        InputFile(content, filename=certificate.certificate_filename(partner.name)),
        caption=render("certificate_sent", partner=partner, day=day),
        parse_mode=ParseMode.HTML,
    )
    async with ctx.db.transaction() as tx:
        await audit.record(
            tx,
            at=ctx.clock.now(),
            action="certificate.generated",
            actor_id=member.person.id,
            caf_id=member.caf.id,
            target_type="partner",
            target_id=partner.id,
            details={"date": day.isoformat()},
        )
    return "Certificat envoyé."


SCREENS: dict[str, Any] = {
    "home": screen_home,
    "site": screen_site,
    "people": screen_people,
    "coords": screen_coords,
    "person": screen_person,
    "revoke": screen_revoke,
    "ia": screen_invite,
    "im": screen_invite,
    "ic": screen_invite,
    "label": screen_label,
    "editmenu": screen_edit_menu,
    "edit": screen_edit,
    "add": screen_add,
    "audit": screen_audit,
    "cert": screen_cert,
}


# ------------------------------------------------------------------------------ typed answers
@TYPED.text("label_reason", max_length=500)
async def on_label_reason(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, reason: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_NETWORK)
    partner = await _own_partner(ctx, member, int(expected.context["partner"]))
    status = LabelStatus(expected.context["status"])
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        history_id = await partners.set_label(
            tx, partner.id, status=status, reason=reason, now=now, by=member.person.id
        )
        await pending.clear(tx, member.person.id)
        await audit.record(
            tx,
            at=now,
            action="label.changed",
            actor_id=member.person.id,
            caf_id=member.caf.id,
            target_type="partner",
            target_id=partner.id,
            details={"from": partner.label_status.value, "to": status.value},
        )
        changed = partner.model_copy(update={"label_status": status, "label_reason": reason})
        site_people = await people.list_for_partner(tx, partner.id)
        key = f"label:{history_id}"
        for person in site_people:
            actor = person_actor(person, status)
            await notify.to_person(
                tx,
                person,
                kind="label_notice",
                key=f"{key}:{person.id}",
                text=render(
                    "label_notice", partner=changed, status=status, reason=reason, caf=member.caf
                ),
                now=now,
                markup=menus.main_menu(actor),
            )
        await notify.to_coordinators(
            tx,
            member.caf,
            kind="label_notice",
            key=key,
            text=render(
                "label_notice_caf", partner=changed, status=status, reason=reason, by=member.person
            ),
            now=now,
            exclude_person_id=member.person.id,
        )
    ctx.services.wake_outbox()
    for person in site_people:
        site_member = await people.member(ctx.db, person.id)
        if site_member is not None:
            await set_commands(ctx, site_member)
    fresh = await partners.get(ctx.db, partner.id)
    assert fresh is not None
    text, markup = await _site(ctx, member, fresh)
    await send(
        ctx,
        chat_id_of(update),
        render("label_changed", partner=fresh, count=len(site_people)) + "\n\n" + text,
        markup,
    )


def person_actor(person: Person, label: LabelStatus) -> Actor:
    return Actor(role=person.role, status=person.status, label=label)


@TYPED.text("partner_field", max_length=300, allowed=frozenset({IdentifierKind.ADDRESS}))
async def on_partner_field(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, value: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_NETWORK)
    partner = await _own_partner(ctx, member, int(expected.context["partner"]))
    field = str(expected.context["field"])
    if field not in FIELDS:
        raise BadCallback("unknown field")
    if field == "convention_start":
        await _set_convention_start(update, ctx, member, partner, value)
        return
    if field == "address" and value == "-":
        value = ""
    now = ctx.clock.now()
    async with ctx.db.transaction() as tx:
        clash = field in ("name", "city") and await partners.exists(
            tx,
            caf_id=partner.caf_id,
            name=value if field == "name" else partner.name,
            city=value if field == "city" else partner.city,
            exclude_id=partner.id,
        )
        if not clash:
            await partners.update_field(tx, partner.id, field, value)
            await pending.clear(tx, member.person.id)
            await audit.record(
                tx,
                at=now,
                action="partner.updated",
                actor_id=member.person.id,
                caf_id=member.caf.id,
                target_type="partner",
                target_id=partner.id,
                details={"field": field},
            )
    chat_id = chat_id_of(update)
    if clash:
        await send(ctx, chat_id, render("partner_exists") + "\n\n" + render("cancel_hint"))
        return
    fresh = await partners.get(ctx.db, partner.id)
    assert fresh is not None
    text, markup = await _site(ctx, member, fresh)
    await send(ctx, chat_id, "✅ Modification enregistrée.\n\n" + text, markup)


async def _set_convention_start(
    update: Update, ctx: Ctx, member: Member, partner: Partner, value: str
) -> None:
    """The typed start of the convention (Article 11), from which renewal reminders follow."""
    chat_id = chat_id_of(update)
    now = ctx.clock.now()
    today = now.astimezone(ZoneInfo(member.caf.timezone)).date()
    try:
        start = renewal.parse_convention_start(value, today)
    except renewal.ConventionDateError as error:  # the question stands: type it again
        problem = html.escape(str(error), quote=False)  # it quotes what was typed
        await send(ctx, chat_id, f"{problem}\n\n" + render("cancel_hint"))
        return
    async with ctx.db.transaction() as tx:
        await partners.set_convention_start(tx, partner.id, start)
        await pending.clear(tx, member.person.id)
        await audit.record(
            tx,
            at=now,
            action="partner.updated",
            actor_id=member.person.id,
            caf_id=member.caf.id,
            target_type="partner",
            target_id=partner.id,
            details={
                "field": "convention_start",
                "from": partner.convention_start.isoformat() if partner.convention_start else None,
                "to": start.isoformat(),
            },
        )
    fresh = await partners.get(ctx.db, partner.id)
    assert fresh is not None
    text, markup = await _site(ctx, member, fresh)
    term = renewal.next_notice(start, today)
    saved = render("renewal_start_saved", start=start, term=term, today=today)
    await send(ctx, chat_id, saved + "\n\n" + text, markup)


@TYPED.text("partner_new_name", max_length=200)
async def on_new_name(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, value: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_NETWORK)
    await ask(
        ctx,
        member,
        "partner_new_city",
        {"name": value},
        render("ask_new_partner", step="city", name=value),
    )


@TYPED.text("partner_new_city", max_length=100)
async def on_new_city(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, value: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_NETWORK)
    await ask(
        ctx,
        member,
        "partner_new_address",
        {**expected.context, "city": value},
        render("ask_new_partner", step="address", name=expected.context["name"]),
    )


@TYPED.text("partner_new_address", max_length=300, allowed=frozenset({IdentifierKind.ADDRESS}))
async def on_new_address(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, value: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_NETWORK)
    name, city = str(expected.context["name"]), str(expected.context["city"])
    now = ctx.clock.now()
    chat_id = chat_id_of(update)
    async with ctx.db.transaction() as tx:
        try:
            partner = await partners.add(
                tx,
                caf_id=member.caf.id,
                name=name,
                city=city,
                address="" if value == "-" else value,
                now=now,
            )
        except partners.DuplicatePartner:
            partner = None
        await pending.clear(tx, member.person.id)
        if partner is not None:
            await audit.record(
                tx,
                at=now,
                action="partner.created",
                actor_id=member.person.id,
                caf_id=member.caf.id,
                target_type="partner",
                target_id=partner.id,
            )
    if partner is None:
        await send(ctx, chat_id, render("partner_exists"))
        return
    text, markup = await _site(ctx, member, partner)
    await send(ctx, chat_id, "✅ Site ajouté, label actif.\n\n" + text, markup)
