"""🏢 Réseau (coordinators) and 👥 Mon équipe (managers): sites, labels, people, invitations.

Every screen is one message edited in place, driven by `NetworkTap(op, target, page)`; the
screens are bot/ui/screens/network.py, the use cases bot/services/ (partners, labels, people,
invitations, audit). Every tap is authorised from the database by the tap table: a
coordinator acts on their own Caf only, a manager (the ops open to them) on their own site's
agents only — a target out of reach is answered as a stale button.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import InputFile, Message, Update
from telegram.constants import ParseMode

from bot.context import Ctx
from bot.domain import renewal
from bot.domain.models import Member, PendingInput
from bot.domain.permissions import Action, LabelStatus, Role
from bot.domain.person_sites import CannotChange
from bot.domain.privacy import IdentifierKind
from bot.services import audit, invitations, labels, partners, people
from bot.services.network import NotTheirs
from bot.ui.callbacks import BadCallback, NetworkTap
from bot.ui.screens import Screen
from bot.ui.screens import network as screen
from bot.ui.screens.network import NetworkOp
from conversations.common import chat_id_of, edit, guarded, open_flow, require, send, set_commands
from conversations.taps import TapTable, toast
from conversations.text_input import TypedSteps, ask

# A site or person out of the member's reach is answered like forged data; a change of role
# or sites that cannot be made, by its reason.
TAPS = TapTable(
    NetworkTap,
    NetworkOp,
    stale=(NotTheirs,),
    refusals={CannotChange: toast(lambda refused: screen.cannot_change(refused.why))},
)
TYPED = TypedSteps(stale=(NotTheirs,))
COORDINATOR = Action.MANAGE_NETWORK
# The ops a manager reaches too, for their own site's agents.
COORDINATOR_OR_MANAGER = (Action.MANAGE_NETWORK, Action.MANAGE_SITE_AGENTS)


# ------------------------------------------------------------------------------ entry points
@guarded
async def open_network(update: Update, ctx: Ctx) -> None:
    """The menu entry 🏢 Réseau (coordinators)."""
    member = await open_flow(update, ctx, Action.MANAGE_NETWORK)
    found = await partners.overview(ctx.db, member.caf)
    await send(ctx, chat_id_of(update), *screen.home(member.caf, found.sites, found.people, 0))


@guarded
async def open_team(update: Update, ctx: Ctx) -> None:
    """The menu entry 👥 Mon équipe (managers): their site's people and invitations."""
    member = await open_flow(update, ctx, Action.MANAGE_SITE_AGENTS)
    assert member.person.partner_id is not None  # a manager has a site
    found = await people.team(ctx.db, member, member.person.partner_id)
    shown = screen.team(found.caf, found.partner, found.people, 0, by_coordinator=False)
    await send(ctx, chat_id_of(update), *shown)


# ------------------------------------------------------------------------------ sites
@TAPS.on(NetworkOp.HOME, needs=COORDINATOR)
async def show_home(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    found = await partners.overview(ctx.db, member.caf)
    await edit(message, *screen.home(member.caf, found.sites, found.people, tap.page))


@TAPS.on(NetworkOp.SITE, needs=COORDINATOR)
async def show_site(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    found = await partners.card(ctx.db, member, tap.target)
    await edit(message, *screen.site(found.partner, found.people, member.caf.zone))


@TAPS.on(NetworkOp.LABEL, needs=COORDINATOR)
async def ask_label_reason(
    ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None
) -> str | None:
    """🟢 / 🟠 / ⛔: the reason is asked for, then typed (`on_label_reason`)."""
    if not 0 <= tap.page < len(screen.STATUS_INDEX):
        raise BadCallback("unknown status")
    status = screen.STATUS_INDEX[tap.page]
    try:
        partner = await labels.changeable(ctx.db, member, tap.target, status)
    except labels.Unchanged:
        return screen.label_unchanged(status)
    context: dict[str, object] = {"partner": partner.id, "status": status.value}
    await ask(ctx, member, "label_reason", context, screen.label_reason_prompt(partner, status))
    return None


@TAPS.on(NetworkOp.EDIT_MENU, needs=COORDINATOR)
async def show_edit_menu(
    ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None
) -> None:
    await edit(message, *screen.edit_menu(await partners.site(ctx.db, member, tap.target)))


@TAPS.on(NetworkOp.EDIT, needs=COORDINATOR)
async def ask_field(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    """A field of the site to type again (`on_partner_field`)."""
    if not 0 <= tap.page < len(screen.FIELDS):
        raise BadCallback("unknown field")
    field = screen.FIELDS[tap.page]
    partner = await partners.site(ctx.db, member, tap.target)
    context: dict[str, object] = {"partner": partner.id, "field": field}
    await ask(ctx, member, "partner_field", context, screen.field_prompt(partner, field))


@TAPS.on(NetworkOp.ADD, needs=COORDINATOR)
async def ask_new_site(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    """➕ Ajouter un site: its name, town and address are typed in turn."""
    await ask(ctx, member, "partner_new_name", {}, screen.new_partner_prompt("name"))


async def _certifiable(ctx: Ctx, member: Member, tap: NetworkTap) -> str | None:
    """Checked before « ⏳ Préparation… »: a site of this Caf, whose label is not withdrawn."""
    try:
        await partners.certifiable(ctx.db, member, tap.target)
    except partners.LabelWithdrawn:
        return screen.NO_CERTIFICATE
    return None


@TAPS.on(NetworkOp.CERT, needs=COORDINATOR, slow=True, check=_certifiable)
async def send_certificate(
    ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None
) -> None:
    """📜 Certificat: the site's Annexe 1 certificate as a PDF in the chat; the card stays.
    Drawn in a child process: the tap is answered first."""
    made = await partners.certificate(ctx.db, member, tap.target, ctx.clock.now())
    await ctx.bot.send_document(
        member.person.telegram_user_id or 0,
        InputFile(made.content, filename=made.filename),
        caption=screen.certificate_caption(made.partner, made.day),
        parse_mode=ParseMode.HTML,
    )


@TAPS.on(NetworkOp.AUDIT, needs=COORDINATOR)
async def show_journal(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    found = await audit.journal(ctx.db, member.caf, tap.page)
    await edit(message, *screen.journal(found.entries, found.number, found.count, member.caf.zone))


# ------------------------------------------------------------------------------ people
@TAPS.on(NetworkOp.PEOPLE, needs=COORDINATOR_OR_MANAGER)
@TAPS.on(NetworkOp.COORDS, needs=COORDINATOR)
async def show_team(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    """A site's people, or (coords) the Caf's coordination."""
    site = tap.target if tap.op == NetworkOp.PEOPLE else None
    found = await people.team(ctx.db, member, site)
    shown = screen.team(
        found.caf, found.partner, found.people, tap.page, by_coordinator=found.by_coordinator
    )
    await edit(message, *shown)


@TAPS.on(NetworkOp.PERSON, needs=COORDINATOR_OR_MANAGER)
async def show_person(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    await edit(message, *await _person_screen(ctx, member, tap.target))


async def _person_screen(ctx: Ctx, member: Member, person_id: int) -> Screen:
    return _card(member, await people.card(ctx.db, member, person_id))


def _card(member: Member, found: people.PersonCard, above: str = "") -> Screen:
    return screen.person(
        found.person,
        found.partner,
        member.caf.zone,
        by_coordinator=found.by_coordinator,
        is_self=found.is_self,
        sites=found.sites,
        may_place=found.may_place,
        back_to=found.back_to,
        above=above,
    )


# ------------------------------------------------------------------------------ role and sites
def _role_of(tap: NetworkTap) -> Role:
    if tap.page not in screen.ROLE_OF_PAGE:
        raise BadCallback("unknown role")
    return screen.ROLE_OF_PAGE[tap.page]


@TAPS.on(NetworkOp.ROLE, needs=COORDINATOR)
async def ask_role(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    """⬆️ / ⬇️ agent ↔ manager, confirmed by « ✅ Oui » (`ROLE_OK`)."""
    role = _role_of(tap)
    found = await people.role_question(ctx.db, member, tap.target, role)
    await edit(message, *screen.role_confirm(found.person, role, found.partner))


@TAPS.on(NetworkOp.ROLE_OK, needs=COORDINATOR)
async def change_role(
    ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None
) -> str | None:
    now = ctx.clock.now()
    changed = await people.change_role(ctx.db, member, tap.target, _role_of(tap), now)
    await _after_change(ctx, member, message, changed, "role")
    return screen.ROLE_CHANGED


@TAPS.on(NetworkOp.MOVE, needs=COORDINATOR_OR_MANAGER)
@TAPS.on(NetworkOp.SITES, needs=COORDINATOR_OR_MANAGER)
async def show_placing(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> None:
    """🏠 Changer de site (one site to choose) or 🗂 Ses sites (a checklist), a page of them."""
    found = await people.placing(ctx.db, member, tap.target)
    shown = screen.move_choice if tap.op == NetworkOp.MOVE else screen.sites_checklist
    args = (found.person, found.sites, found.theirs, tap.page)
    await edit(message, *shown(*args, by_coordinator=found.by_coordinator))


@TAPS.on(NetworkOp.MOVE_TO, needs=COORDINATOR_OR_MANAGER)
async def move(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> str | None:
    """The site tapped becomes the person's only one (of the member's), where they work now."""
    changed = await people.move(ctx.db, member, tap.target, tap.page, ctx.clock.now())
    await _after_change(ctx, member, message, changed, "moved")
    return screen.MOVED


@TAPS.on(NetworkOp.SITE_ADD, needs=COORDINATOR_OR_MANAGER)
@TAPS.on(NetworkOp.SITE_DROP, needs=COORDINATOR_OR_MANAGER)
async def toggle_site(
    ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None
) -> str | None:
    """A site of the checklist ticked (added) or unticked (removed); the checklist stays."""
    adding = tap.op == NetworkOp.SITE_ADD
    use = people.add_site if adding else people.remove_site
    changed = await use(ctx.db, member, tap.target, tap.page, ctx.clock.now())
    if await _after_change(ctx, member, message, changed, ""):
        found = await people.placing(ctx.db, member, tap.target)
        page = screen.checklist_page(found.sites, tap.page)
        args = (found.person, found.sites, found.theirs, page)
        await edit(message, *screen.sites_checklist(*args, by_coordinator=found.by_coordinator))
    return screen.SITE_GIVEN if adding else screen.SITE_TAKEN


async def _after_change(
    ctx: Ctx, member: Member, message: Message | None, changed: people.Changed, what: str
) -> bool:
    """The person's notice goes out and their command list follows; the card shows what
    changed (`what`; none: the caller shows its own screen). False when the person is now
    out of the member's reach (a manager placed them at another partner's site only)."""
    ctx.services.wake_outbox()
    if changed.member is not None:
        await set_commands(ctx, changed.member)
    if changed.card is None:
        await _team_of_member(ctx, member, message)
        return False
    if what:
        above = screen.person_changed(changed.card.person, what, changed.site)
        await edit(message, *_card(member, changed.card, above))
    return True


async def _team_of_member(ctx: Ctx, member: Member, message: Message | None) -> None:
    found = await people.team(ctx.db, member, member.person.partner_id)
    shown = screen.team(found.caf, found.partner, found.people, 0, by_coordinator=False)
    await edit(message, *shown)


@TAPS.on(NetworkOp.REVOKE, needs=COORDINATOR_OR_MANAGER)
async def revoke(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> str | None:
    """🚫 Retirer l'accès, confirmed by a second tap (`page` 1)."""
    try:
        if tap.page != 1:
            person = await people.revocable(ctx.db, member, tap.target)
            await edit(message, *screen.revoke_confirm(person))
            return None
        revoked = await people.revoke(ctx.db, member, tap.target, ctx.clock.now())
    except people.AlreadyRevoked:
        return screen.ALREADY_REVOKED
    ctx.services.wake_outbox()
    if revoked is not None:
        await set_commands(ctx, revoked)
    await edit(message, *await _person_screen(ctx, member, tap.target))
    return screen.REVOKED


@TAPS.on(NetworkOp.INVITE_AGENT, needs=COORDINATOR_OR_MANAGER)
@TAPS.on(NetworkOp.INVITE_MANAGER, needs=COORDINATOR)
@TAPS.on(NetworkOp.INVITE_COORDINATOR, needs=COORDINATOR)
async def invite(ctx: Ctx, member: Member, tap: NetworkTap, message: Message | None) -> str | None:
    """➕ Inviter: how many people first (a new message), then the link in its place."""
    op = NetworkOp(tap.op)
    role = screen.ROLE_OF_OP[op]
    site = tap.target if role is not Role.COORDINATOR else None
    if tap.page not in screen.INVITE_PRESETS:
        partner = await partners.site(ctx.db, member, site) if site is not None else None
        chosen = screen.invite_choose(op, tap.target, partner, member.caf)
        await send(ctx, member.person.telegram_user_id or 0, *chosen)
        return None
    uses, days = screen.INVITE_PRESETS[tap.page]
    new = await invitations.create(
        ctx.db,
        role=role,
        caf=member.caf,
        partner_id=site,
        uses=uses,
        valid_for=timedelta(days=days),
        now=ctx.clock.now(),
        by=member,
    )
    await edit(message, _link(ctx, new), None)
    return screen.LINK_CREATED


def _link(ctx: Ctx, new: invitations.NewInvitation) -> str:
    """The link as shown to its maker, in the zone of the Caf it opens."""
    return screen.invite_link(
        new.role,
        new.partner,
        new.caf,
        uses=new.invitation.uses_left,
        expires=new.invitation.expires_at,
        link=new.link(ctx.bot.username),
        code=new.code,
        tz=new.caf.zone,
    )


# ------------------------------------------------------------------------------ typed answers
@TYPED.text("label_reason", max_length=500)
async def on_label_reason(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, reason: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_NETWORK)
    partner_id, status = int(expected.context["partner"]), LabelStatus(expected.context["status"])
    change = await labels.change(ctx.db, member, partner_id, status, reason, ctx.clock.now())
    ctx.services.wake_outbox()
    for told in change.told:
        await set_commands(ctx, told)
    shown = screen.label_changed(change.card.partner, change.card.people, member.caf.zone)
    await send(ctx, chat_id_of(update), *shown)


# A site's own address, phone and e-mail, given on purpose (bot/domain/site_identity.py).
SITE_OWN = frozenset({IdentifierKind.ADDRESS, IdentifierKind.PHONE, IdentifierKind.EMAIL})


@TYPED.text("partner_field", max_length=300, allowed=SITE_OWN)
async def on_partner_field(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, value: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_NETWORK)
    partner_id, field = int(expected.context["partner"]), str(expected.context["field"])
    if field not in screen.FIELDS:
        raise BadCallback("unknown field")
    now, tz = ctx.clock.now(), member.caf.zone
    try:
        if field == partners.CONVENTION_START:
            saved = await partners.set_convention_start(ctx.db, member, partner_id, value, now)
            card = saved.card
            shown = screen.convention_saved(
                card.partner, card.people, tz, saved.start, saved.term, saved.today
            )
        else:
            card = await partners.edit(ctx.db, member, partner_id, field, value, now)
            shown = screen.site(card.partner, card.people, tz, screen.EDIT_SAVED)
    except renewal.ConventionDateError as error:  # the question stands: type it again
        await send(ctx, chat_id_of(update), screen.convention_problem(error))
        return
    except partners.DuplicatePartner:
        await send(ctx, chat_id_of(update), screen.partner_exists(ask_again=True))
        return
    except partners.SiteIdentityError as error:
        await send(ctx, chat_id_of(update), screen.identity_problem(error))
        return
    await send(ctx, chat_id_of(update), *shown)


@TYPED.text("partner_new_name", max_length=200)
async def on_new_name(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, value: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_NETWORK)
    prompt = screen.new_partner_prompt("city", value)
    await ask(ctx, member, "partner_new_city", {"name": value}, prompt)


@TYPED.text("partner_new_city", max_length=100)
async def on_new_city(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, value: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_NETWORK)
    prompt = screen.new_partner_prompt("address", str(expected.context["name"]))
    await ask(ctx, member, "partner_new_address", {**expected.context, "city": value}, prompt)


@TYPED.text("partner_new_address", max_length=300, allowed=frozenset({IdentifierKind.ADDRESS}))
async def on_new_address(
    update: Update, ctx: Ctx, member: Member, expected: PendingInput, value: str
) -> None:
    member = await require(update, ctx, Action.MANAGE_NETWORK)
    name, city = str(expected.context["name"]), str(expected.context["city"])
    try:
        card = await partners.add(
            ctx.db, member, name=name, city=city, address=value, now=ctx.clock.now()
        )
    except partners.DuplicatePartner:
        await send(ctx, chat_id_of(update), screen.partner_exists(ask_again=False))
        return
    shown = screen.site(card.partner, card.people, member.caf.zone, screen.SITE_ADDED)
    await send(ctx, chat_id_of(update), *shown)
