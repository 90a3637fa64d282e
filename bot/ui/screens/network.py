"""🏢 Réseau (coordinators) and 👥 Mon équipe (managers): sites, labels, people, invitations,
the audit log. Every screen is one message edited in place, driven by `NetworkTap`."""

from __future__ import annotations

import html
from collections.abc import Sequence, Set
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.domain.models import AuditEntry, Caf, Member, Partner, Person
from bot.domain.permissions import Actor, LabelStatus, PersonStatus, Role
from bot.domain.person_sites import SITE_ROLES, Unchangeable
from bot.domain.renewal import Term
from bot.ui import callbacks, menus, pickers
from bot.ui.callbacks import NetworkTap, PersonalDataTap, ReviewTap
from bot.ui.render import render
from bot.ui.screens import Screen, question
from bot.ui.screens import equipment as equipment_screens
from bot.ui.screens import links as link_screens
from bot.ui.screens import termination as termination_screens
from bot.ui.screens import trainings as training_screens
from bot.ui.screens.hours import site_hours_button
from bot.ui.screens.paging import Page, pager_row, paginate

PAGE_SIZE = 8
T = TypeVar("T")


class NetworkOp(StrEnum):
    HOME = "home"
    SITE = "site"
    PEOPLE = "people"
    COORDS = "coords"
    PERSON = "person"
    REVOKE = "revoke"
    INVITE_AGENT = "ia"
    INVITE_MANAGER = "im"
    INVITE_COORDINATOR = "ic"
    LABEL = "label"
    EDIT_MENU = "editmenu"
    EDIT = "edit"
    ADD = "add"
    AUDIT = "audit"
    CERT = "cert"
    # A person's role and sites (target: the person).
    ROLE = "role"  # page: the role asked for (ROLE_OF_PAGE), to confirm
    ROLE_OK = "roleok"  # page: the role, confirmed
    MOVE = "move"  # page: the page of the list of sites
    MOVE_TO = "moveto"  # page: the site's id
    SITES = "psites"  # page: the page of the checklist
    SITE_ADD = "padd"  # page: the site's id
    SITE_DROP = "pdrop"  # page: the site's id


ROLE_OF_OP = {
    NetworkOp.INVITE_AGENT: Role.AGENT,
    NetworkOp.INVITE_MANAGER: Role.MANAGER,
    NetworkOp.INVITE_COORDINATOR: Role.COORDINATOR,
}
# A role button's `page`: the role a person is given.
ROLE_OF_PAGE = {1: Role.AGENT, 2: Role.MANAGER}
PAGE_OF_ROLE = {role: page for page, role in ROLE_OF_PAGE.items()}
# An invitation button's `page`: how many people, for how many days.
INVITE_PRESETS = {1: (1, 7), 2: (10, 30)}
# A label button's `page`: the status asked for.
STATUS_INDEX = [LabelStatus.ACTIVE, LabelStatus.SUSPENDED, LabelStatus.WITHDRAWN]
# An edit button's `page`: the field typed.
FIELDS = ["name", "city", "address", "convention_start", "siret", "postcode", "phone", "email"]
FIELD_LABELS = {
    "name": "le nom",
    "city": "la ville",
    "address": "l'adresse",
    "convention_start": "la date de la convention",
    "siret": "le SIRET ou le numéro RNA",
    "postcode": "le code postal",
    "phone": "le téléphone public du site",
    "email": "le courriel public du site",
}
# Fields « - » clears (the others are required, or have no use for empty).
CLEARABLE = frozenset({"address", "siret", "postcode", "phone", "email"})
STATUS_MARKS = {
    LabelStatus.ACTIVE: "🟢",
    LabelStatus.SUSPENDED: "🟠",
    LabelStatus.WITHDRAWN: "⛔",
}
# What each audit record means, as the journal shows it.
ACTION_NAMES = {
    "caf.created": "Caf créée",
    "caf.updated": "réglages de la Caf modifiés",
    "partners.imported": "sites importés",
    "partner.created": "site ajouté",
    "partner.updated": "site modifié",
    "label.changed": "label modifié",
    "invitation.created": "invitation créée",
    "invitation.cancelled": "lien d'invitation annulé",
    "person.rejoined": "retour par une nouvelle invitation",
    "person.joined": "inscription",
    "person.revoked": "accès retiré",
    "person.erased": "données personnelles effacées",
    "person.role_changed": "rôle changé",
    "person.moved": "personne changée de site",
    "person.site_added": "site ajouté à une personne",
    "person.site_removed": "site retiré à une personne",
    "person.site_chosen": "site du jour choisi",
    "person.committed": "engagement au secret professionnel (article 5)",
    "visit.modified": "visite modifiée",
    "visit.cancelled": "visite annulée",
    "signal.raised": "signalement envoyé",
    "signal.acknowledged": "signalement pris en charge",
    "signal.replied": "réponse à un signalement",
    "signal.answered": "réponse du site à la Caf",
    "signal.resolved": "signalement clos",
    "hours.declared": "horaires déclarés",
    "closure.declared": "fermeture déclarée",
    "closure.cancelled": "fermeture annulée",
    "broadcast.sent": "diffusion envoyée",
    "broadcast.scheduled": "diffusion programmée",
    "broadcast.unscheduled": "diffusion déprogrammée",
    "broadcast.retried": "échecs d'une diffusion relancés",
    "broadcast.reminded": "rappel de lecture envoyé",
    "event.created": "événement créé",
    "event.published": "invitations envoyées",
    "event.cancelled": "événement annulé",
    "event.attendance": "présence notée",
    "training.recorded": "formation enregistrée",
    "training.removed": "formation saisie retirée",
    "training.exported": "formations exportées",
    "document.added": "document ajouté",
    "document.moved": "document déplacé",
    "document.removed": "document retiré",
    "review.recorded": "visite annuelle enregistrée",
    "review.item_done": "action du plan faite",
    "certificate.generated": "certificat du label généré",
    "indicators.exported": "indicateurs exportés",
    "period.validated": "indicateurs de la période validés",
    "equipment.changed": "équipement du site mis à jour",
    "termination.recorded": "dénonciation de la convention enregistrée",
    "termination.withdrawn": "dénonciation de la convention retirée",
    "termination.effective": "dénonciation de la convention entrée en vigueur",
}

# Before a person's name: not yet committed to professional secrecy (Article 5).
UNCOMMITTED_MARK = "🔏 "
# Toasts.
ALREADY_REVOKED = "Cet accès est déjà retiré."
REVOKED = "Accès retiré."
LINK_CREATED = "Lien créé."
NO_CERTIFICATE = "Le label de ce site est retiré : pas de certificat."
ROLE_CHANGED = "Rôle changé."
MOVED = "Site changé."
SITE_GIVEN = "Site ajouté."
SITE_TAKEN = "Site retiré."
# Why a change of role or sites is refused (bot/domain/person_sites.py), as a toast.
UNCHANGEABLE = {
    Unchangeable.COORDINATOR: "Le rôle d'un·e coordinateur·rice ne se change pas ici.",
    Unchangeable.REVOKED: "L'accès de cette personne est retiré : rien à changer.",
    Unchangeable.WITHDRAWN_SITE: "Ce site a perdu son label : personne ne peut y être rattaché.",
    Unchangeable.LAST_SITE: "Une personne garde au moins un site : ajoutez l'autre d'abord,"
    " ou utilisez « 🏠 Changer de site ».",
    Unchangeable.UNCHANGED: "Déjà pris en compte.",
}
# Said above the site's card after a typed change.
EDIT_SAVED = "✅ Modification enregistrée."
SITE_ADDED = "✅ Site ajouté, label actif."


def label_unchanged(status: LabelStatus) -> str:
    return f"Le label est déjà {status.label}."


def describe(action: str) -> str:
    return ACTION_NAMES.get(action, action)


def _button(label: str, op: NetworkOp, target: int = 0, page: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(NetworkTap(op, target, page)))


def _markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([row for row in rows if row])


def _pager(page: Page[T], op: NetworkOp, target: int = 0) -> list[InlineKeyboardButton]:
    return pager_row(page, lambda label, n: _button(label, op, target, n))


# ------------------------------------------------------------------------------ sites
def home(caf: Caf, sites: Sequence[Partner], people: dict[int, int], page: int) -> Screen:
    """Every site of the Caf, eight to a page, with its label and how many people it has."""
    shown = paginate(sites, page, PAGE_SIZE)
    text = render(
        "network_home",
        caf=caf,
        total=len(sites),
        page=shown.number + 1,
        pages=shown.count,
        by_status={s: sum(1 for p in sites if p.label_status is s) for s in LabelStatus},
    )
    rows = [
        [
            _button(
                f"{STATUS_MARKS[p.label_status]} {p.title} · {people.get(p.id, 0)} pers.",
                NetworkOp.SITE,
                p.id,
            )
        ]
        for p in shown.items
    ]
    rows.append(_pager(shown, NetworkOp.HOME))
    rows.append(
        [_button("➕ Ajouter un site", NetworkOp.ADD), _button("👥 Coordination", NetworkOp.COORDS)]
    )
    rows.append([_button("📜 Journal", NetworkOp.AUDIT)])
    rows.append([link_screens.caf_button()])  # conversations/links.py
    return text, _markup(rows)


def site(partner: Partner, people: Sequence[Person], tz: ZoneInfo, above: str = "") -> Screen:
    """A site's card and what a coordinator does with it; `above`, what just happened."""
    text = render("partner_card", partner=partner, people=people, tz=tz)
    target = partner.id
    label_row = []
    if partner.label_status is not LabelStatus.ACTIVE:
        label_row.append(_button("🟢 Réactiver le label", NetworkOp.LABEL, target, 0))
    if partner.label_status is LabelStatus.ACTIVE:
        label_row.append(_button("🟠 Suspendre le label", NetworkOp.LABEL, target, 1))
    if partner.label_status is not LabelStatus.WITHDRAWN:
        label_row.append(_button("⛔ Retirer le label", NetworkOp.LABEL, target, 2))
    review = ReviewTap("home", target, 0)  # conversations/yearly_visit.py
    rows = [
        [
            _button("👥 Personnes", NetworkOp.PEOPLE, target),
            _button("✏️ Modifier", NetworkOp.EDIT_MENU, target),
        ],
        label_row,
        [
            _button("➕ Inviter un agent", NetworkOp.INVITE_AGENT, target),
            _button("➕ Inviter un responsable", NetworkOp.INVITE_MANAGER, target),
        ],
        [link_screens.site_button(target)],  # conversations/links.py
        [termination_screens.site_button(target)],  # conversations/termination.py
        # No manager: a coordinator declares the site's hours (conversations/hours.py).
        *([] if any(p.role is Role.MANAGER for p in people) else [[site_hours_button(target)]]),
        [
            InlineKeyboardButton("🏛 Visite annuelle", callback_data=callbacks.encode(review)),
            _button("📜 Certificat", NetworkOp.CERT, target),
        ],
        [_button("⬅️ Tous les sites", NetworkOp.HOME)],
    ]
    return (f"{above}\n\n{text}" if above else text), InlineKeyboardMarkup(rows)


def label_changed(partner: Partner, people: Sequence[Person], tz: ZoneInfo) -> Screen:
    above = render("label_changed", partner=partner, count=len(people))
    return site(partner, people, tz, above)


def convention_saved(
    partner: Partner, people: Sequence[Person], tz: ZoneInfo, start: date, term: Term, today: date
) -> Screen:
    above = render("renewal_start_saved", start=start, term=term, today=today)
    return site(partner, people, tz, above)


def convention_problem(error: Exception) -> str:
    """The typed date was not understood: why (it quotes what was typed), and ask again."""
    return html.escape(str(error), quote=False) + "\n\n" + render("cancel_hint")


def partner_exists(*, ask_again: bool) -> str:
    return render("partner_exists") + ("\n\n" + render("cancel_hint") if ask_again else "")


def edit_menu(partner: Partner) -> Screen:
    rows = [
        [
            _button("Nom", NetworkOp.EDIT, partner.id, 0),
            _button("Ville", NetworkOp.EDIT, partner.id, 1),
            _button("Adresse", NetworkOp.EDIT, partner.id, 2),
        ],
        [
            _button("SIRET / RNA", NetworkOp.EDIT, partner.id, 4),
            _button("Code postal", NetworkOp.EDIT, partner.id, 5),
        ],
        [
            _button("☎️ Téléphone", NetworkOp.EDIT, partner.id, 6),
            _button("✉️ Courriel", NetworkOp.EDIT, partner.id, 7),
        ],
        [_button("📅 Date de la convention", NetworkOp.EDIT, partner.id, 3)],
        [_button("⬅️ Le site", NetworkOp.SITE, partner.id)],
    ]
    return render("partner_edit_menu", partner=partner), InlineKeyboardMarkup(rows)


def field_prompt(partner: Partner, field: str) -> str:
    if field == "convention_start":
        return render("renewal_ask_start", partner=partner)
    return render(
        "ask_partner_field",
        partner=partner,
        field=FIELD_LABELS[field],
        current=getattr(partner, field),
        clearable=field in CLEARABLE,
    )


def identity_problem(error: Exception) -> str:
    """A SIRET, postcode, phone or e-mail refused: why, and ask again."""
    return html.escape(str(error), quote=False) + "\n\n" + render("cancel_hint")


def new_partner_prompt(step: str, name: str = "") -> str:
    """The three questions of ➕ Ajouter un site: « name », « city », « address »."""
    return render("ask_new_partner", step=step, name=name)


def label_reason_prompt(partner: Partner, status: LabelStatus) -> str:
    return render("ask_label_reason", partner=partner, status=status)


def certificate_caption(partner: Partner, day: date) -> str:
    return render("certificate_sent", partner=partner, day=day)


def label_notice(partner: Partner, caf: Caf) -> str:
    """What the site's people are told of their label (`partner` as changed)."""
    status = partner.label_status
    return render(
        "label_notice", partner=partner, status=status, reason=partner.label_reason, caf=caf
    )


def label_notice_caf(partner: Partner, by: Person) -> str:
    """What the Caf's other coordinators (and its group) are told of a site's label."""
    status = partner.label_status
    return render(
        "label_notice_caf", partner=partner, status=status, reason=partner.label_reason, by=by
    )


def menu_of(member: Member) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """The menu a person has as they now stand, sent with a notice that changes it."""
    return menus.main_menu(member.actor)


# ------------------------------------------------------------------------------ people
def revoked_notice(caf: Caf) -> tuple[str, ReplyKeyboardMarkup | ReplyKeyboardRemove]:
    """What a person whose access was taken away is told, with the menu taken away too."""
    gone = Actor(role=Role.AGENT, status=PersonStatus.REVOKED)
    return render("access_revoked_notice", caf=caf), menus.main_menu(gone)


def team(
    caf: Caf,
    partner: Partner | None,
    everyone: Sequence[Person],
    page: int,
    *,
    by_coordinator: bool,
) -> Screen:
    """A site's people (revoked ones marked), or without a site the Caf's coordination."""
    shown = paginate(everyone, page, PAGE_SIZE)
    text = render(
        "people_list",
        partner=partner,
        caf=caf,
        total=len(everyone),
        page=shown.number + 1,
        pages=shown.count,
        uncommitted=sum(1 for p in everyone if _uncommitted(p)),
    )
    rows = [
        [
            _button(
                f"{_person_mark(p)}{p.display_name} · {p.role.label}",
                NetworkOp.PERSON,
                p.id,
            )
        ]
        for p in shown.items
    ]
    if partner is None:
        rows.append(_pager(shown, NetworkOp.COORDS))
        rows.append([_button("➕ Inviter un·e coordinateur·rice", NetworkOp.INVITE_COORDINATOR)])
        rows.append([link_screens.caf_button()])  # conversations/links.py
        rows.append([_button("⬅️ Tous les sites", NetworkOp.HOME)])
    else:
        rows.append(_pager(shown, NetworkOp.PEOPLE, partner.id))
        rows.append([_button("➕ Inviter un agent", NetworkOp.INVITE_AGENT, partner.id)])
        rows.append([link_screens.site_button(partner.id)])  # conversations/links.py
        if not by_coordinator:  # conversations/equipment.py
            rows.append([equipment_screens.site_button(partner.id)])
        if not by_coordinator:  # conversations/termination.py
            rows.append([termination_screens.site_button(partner.id)])
        if by_coordinator:
            rows.append([_button("⬅️ Le site", NetworkOp.SITE, partner.id)])
    return text, _markup(rows)


def _uncommitted(who: Person) -> bool:
    """Active, and not yet committed to professional secrecy (Article 5)."""
    return who.status is PersonStatus.ACTIVE and not who.committed


def _person_mark(who: Person) -> str:
    if who.status is PersonStatus.REVOKED:
        return "🚫 "
    return UNCOMMITTED_MARK if _uncommitted(who) else ""


def person(
    who: Person,
    partner: Partner | None,
    tz: ZoneInfo,
    *,
    by_coordinator: bool,
    is_self: bool,
    sites: Sequence[Partner] = (),
    may_place: bool = False,
    back_to: int | None = None,
    above: str = "",
) -> Screen:
    """A person's card: their role (coordinators) and sites, revoke their access, or
    (coordinators) erase their data; `above`, what just changed."""
    rows = []
    changeable = who.status is PersonStatus.ACTIVE and not is_self and who.role in SITE_ROLES
    if changeable and by_coordinator:
        if who.role is Role.AGENT:
            rows.append([_button("⬆️ Passer responsable de site", NetworkOp.ROLE, who.id, 2)])
        else:
            rows.append([_button("⬇️ Passer agent d'accueil", NetworkOp.ROLE, who.id, 1)])
    if changeable and may_place:
        rows.append(
            [
                _button("🏠 Changer de site", NetworkOp.MOVE, who.id),
                _button("🗂 Ses sites", NetworkOp.SITES, who.id),
            ]
        )
    if by_coordinator and who.role in SITE_ROLES:
        rows.append([training_screens.formations_button(who.id)])  # conversations/trainings.py
    if who.status is PersonStatus.ACTIVE and not is_self:
        rows.append([_button("🚫 Retirer l'accès", NetworkOp.REVOKE, who.id)])
    if by_coordinator and who.telegram_user_id is not None and not is_self:
        erase = PersonalDataTap("erase", who.id, 0)  # conversations/my_data.py
        rows.append(
            [InlineKeyboardButton("🗑 Effacer ses données", callback_data=callbacks.encode(erase))]
        )
    back = back_to if back_to is not None else who.partner_id
    if back:
        rows.append([_button("⬅️ Retour", NetworkOp.PEOPLE, back)])
    else:
        rows.append([_button("⬅️ Retour", NetworkOp.COORDS)])
    text = render("person_card", person=who, partner=partner, sites=sites, tz=tz)
    return (f"{above}\n\n{text}" if above else text), InlineKeyboardMarkup(rows)


def person_changed(who: Person, what: str, partner: Partner | None = None) -> str:
    """Said above the card: « role », « moved », « added » or « removed » (`partner`)."""
    return render("person_changed", person=who, what=what, partner=partner)


def role_confirm(who: Person, role: Role, partner: Partner | None) -> Screen:
    yes = _button(f"✅ Oui, {role.label}", NetworkOp.ROLE_OK, who.id, PAGE_OF_ROLE[role])
    no = _button("✖️ Non", NetworkOp.PERSON, who.id)
    return question(render("person_role_confirm", person=who, role=role, partner=partner), yes, no)


def move_choice(
    who: Person, sites: Sequence[Partner], theirs: Set[int], page: int, *, by_coordinator: bool
) -> Screen:
    """« 🏠 Changer de site »: the site that becomes the person's only one (of the viewer's),
    eight to a page; the sites they are at now are ticked."""
    open_sites = [p for p in sites if p.label_status is not LabelStatus.WITHDRAWN]
    shown = paginate(open_sites, page, pickers.SITES_PAGE)
    rows = [
        [_button(("✅ " if p.id in theirs else "") + p.title, NetworkOp.MOVE_TO, who.id, p.id)]
        for p in shown.items
    ]
    rows.append(_pager(shown, NetworkOp.MOVE, who.id))
    rows.append([_button("⬅️ Sa fiche", NetworkOp.PERSON, who.id)])
    text = render(
        "person_move",
        person=who,
        by_coordinator=by_coordinator,
        page=shown.number + 1,
        pages=shown.count,
    )
    return text, _markup(rows)


def sites_checklist(
    who: Person, sites: Sequence[Partner], theirs: Set[int], page: int, *, by_coordinator: bool
) -> Screen:
    """« 🗂 Ses sites »: tick or untick each site (a tick removes, an empty box adds)."""

    def button(label: str, op: str, value: int) -> InlineKeyboardButton:
        if op == "sites":
            return _button(label, NetworkOp.SITES, who.id, value)
        ticked = NetworkOp.SITE_DROP if value in theirs else NetworkOp.SITE_ADD
        return _button(label, ticked, who.id, value)

    rows = pickers.site_checklist(sites, theirs, page, button)
    rows.append([_button("✔️ Terminé", NetworkOp.PERSON, who.id)])
    current = next((p for p in sites if p.id == who.partner_id), None)
    text = render(
        "person_sites",
        person=who,
        count=len(theirs),
        current=current,
        by_coordinator=by_coordinator,
    )
    return text, _markup(rows)


def checklist_page(sites: Sequence[Partner], partner_id: int) -> int:
    return pickers.page_of(sites, partner_id)


def cannot_change(why: Unchangeable) -> str:
    return UNCHANGEABLE[why]


def role_notice(after: Member, *, by_coordinator: bool) -> str:
    """What a person whose role changed is told (their new menu comes with it)."""
    return render(
        "person_role_notice",
        role=after.person.role,
        partner=after.partner,
        caf=after.caf,
        by_coordinator=by_coordinator,
    )


def sites_notice(after: Member, sites: Sequence[Partner], *, by_coordinator: bool) -> str:
    """What a person whose sites changed is told: where they work from now on."""
    return render(
        "person_sites_notice",
        sites=sites,
        current=after.partner,
        caf=after.caf,
        by_coordinator=by_coordinator,
    )


def revoke_confirm(who: Person) -> Screen:
    yes = _button("🚫 Oui, retirer l'accès", NetworkOp.REVOKE, who.id, 1)
    no = _button("✖️ Non", NetworkOp.PERSON, who.id)
    return question(render("revoke_confirm", person=who), yes, no)


# ------------------------------------------------------------------------------ invitations
def invite_choose(op: NetworkOp, target: int, partner: Partner | None, caf: Caf) -> Screen:
    """For one person or for a team: the invitation's presets."""
    rows = [
        [_button("Pour 1 personne (7 jours)", op, target, 1)],
        [_button("Pour une équipe (10 personnes, 30 jours)", op, target, 2)],
    ]
    text = render("invite_choose", role=ROLE_OF_OP[op], partner=partner, caf=caf)
    return text, InlineKeyboardMarkup(rows)


def invite_link(
    role: Role,
    partner: Partner | None,
    caf: Caf,
    *,
    uses: int,
    expires: datetime,
    link: str,
    code: str,
    tz: ZoneInfo,
) -> str:
    """The link to forward, and its code for a client that does not open it."""
    return render(
        "invite_link",
        role=role,
        partner=partner,
        caf=caf,
        uses=uses,
        expires=expires,
        tz=tz,
        link=link,
        code=code,
    )


# ------------------------------------------------------------------------------ journal
def journal(entries: Sequence[AuditEntry], number: int, count: int, tz: ZoneInfo) -> Screen:
    """A page of the Caf's audit log (ten records), newest first."""
    text = render(
        "audit_log", entries=entries, page=number + 1, pages=count, tz=tz, describe=describe
    )
    shown: Page[AuditEntry] = Page(entries, number, count)
    rows = [_pager(shown, NetworkOp.AUDIT), [_button("⬅️ Tous les sites", NetworkOp.HOME)]]
    return text, _markup(rows)
