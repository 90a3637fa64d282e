"""A site's public identity, as the national standard of places of digital mediation wants it
(schéma des lieux de médiation numérique 1.0.2): its SIRET or RNA number, its postcode and its
public contact (phone, e-mail).

These are the site's own, given on purpose by the coordinator, never data on the public; each
is checked here and stored in one normal form:

* SIRET: 14 digits whose Luhn key is right (spaces and dots typed in between are dropped);
  RNA (a registered association): « W » and 9 digits.
* Postcode: 5 digits.
* Phone: the international form the standard asks for (« +33123456789 »), from a French
  number typed as people write it (« 03 22 00 00 00 »).
* E-mail: one address, lower-cased.
"""

from __future__ import annotations

import re

SIRET = "siret"
POSTCODE = "postcode"
PHONE = "phone"
EMAIL = "email"
FIELDS = (SIRET, POSTCODE, PHONE, EMAIL)

_SEPARATORS = re.compile(r"[\s.\-/]")
_RNA = re.compile(r"W\d{9}")
_POSTCODE = re.compile(r"\d{5}")
# The standard's pattern: France and its overseas codes, then 6 to 9 digits.
_OVERSEAS = ("+33", "+590", "+594", "+262", "+596", "+269", "+687", "+689", "+508", "+681")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}")


class SiteIdentityError(ValueError):
    """A value refused, with the reason in French (the question stands)."""


def luhn_ok(digits: str) -> bool:
    """The Luhn key of a SIREN or SIRET: every second digit from the right doubled."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def siret_or_rna(typed: str) -> str:
    """A SIRET (14 digits, Luhn key right) or an RNA number (« W » + 9 digits)."""
    text = _SEPARATORS.sub("", typed).upper()
    if _RNA.fullmatch(text):
        return text
    if re.fullmatch(r"\d{14}", text):
        if luhn_ok(text):
            return text
        raise SiteIdentityError("ce numéro SIRET n'est pas valide (sa clé ne correspond pas)")
    raise SiteIdentityError(
        "écrivez un SIRET (14 chiffres) ou un numéro RNA (« W » suivi de 9 chiffres)"
    )


def postcode(typed: str) -> str:
    text = typed.strip().replace(" ", "")
    if _POSTCODE.fullmatch(text):
        return text
    raise SiteIdentityError("un code postal a 5 chiffres, par exemple 80000")


def phone(typed: str) -> str:
    """« 03 22 00 00 00 » → « +33322000000 »; an international number is kept as typed."""
    text = _SEPARATORS.sub("", typed).replace("(0)", "")
    if text.startswith("00"):
        text = "+" + text[2:]
    if re.fullmatch(r"0[1-9]\d{8}", text):
        text = "+33" + text[1:]
    for code in _OVERSEAS:
        if text.startswith(code) and re.fullmatch(r"\d{6,9}", text[len(code) :]):
            return text
    raise SiteIdentityError("écrivez un numéro français, par exemple 03 22 00 00 00")


def email(typed: str) -> str:
    text = typed.strip().lower()
    if _EMAIL.fullmatch(text):
        return text
    raise SiteIdentityError("écrivez une seule adresse e-mail, par exemple accueil@mairie.fr")


CHECKS = {SIRET: siret_or_rna, POSTCODE: postcode, PHONE: phone, EMAIL: email}


def checked(field: str, typed: str) -> str:
    """`typed` in its normal form for `field` (one of FIELDS); raises SiteIdentityError."""
    return CHECKS[field](typed)
