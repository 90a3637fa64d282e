"""A site's SIRET or RNA, postcode and public contact, checked as the national standard wants."""

from __future__ import annotations

import pytest

from bot.domain import site_identity
from bot.domain.site_identity import SiteIdentityError


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("43493312300029", "43493312300029"),
        ("434 933 123 00029", "43493312300029"),
        ("732.829.320.00074", "73282932000074"),
        ("W802000123", "W802000123"),
        ("w 802 000 123", "W802000123"),
    ],
)
def test_a_siret_or_an_rna_is_kept_in_its_normal_form(typed: str, stored: str) -> None:
    assert site_identity.siret_or_rna(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["43493312300028", "4349331230002", "434933123000299", "W80200012", "X802000123", "", "abc"],
)
def test_a_wrong_siret_or_rna_is_refused(typed: str) -> None:
    with pytest.raises(SiteIdentityError):
        site_identity.siret_or_rna(typed)


def test_the_luhn_key_of_a_siret() -> None:
    assert site_identity.luhn_ok("73282932000074")
    assert not site_identity.luhn_ok("73282932000075")


def test_a_postcode_has_five_digits() -> None:
    assert site_identity.postcode(" 80400 ") == "80400"
    for wrong in ("8040", "804000", "2A004", "Ham"):
        with pytest.raises(SiteIdentityError):
            site_identity.postcode(wrong)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("03 22 71 80 00", "+33322718000"),
        ("03.22.71.80.00", "+33322718000"),
        ("+33 3 22 71 80 00", "+33322718000"),
        ("0033322718000", "+33322718000"),
        ("+262 262 12 34 56", "+262262123456"),
    ],
)
def test_a_phone_is_kept_in_the_international_form(typed: str, stored: str) -> None:
    assert site_identity.phone(typed) == stored


def test_a_wrong_phone_or_email_is_refused() -> None:
    for wrong in ("12 34", "+44 20 7946 0958", "appelez-nous"):
        with pytest.raises(SiteIdentityError):
            site_identity.phone(wrong)
    for wrong in ("accueil", "a@b", "un@deux.fr trois@quatre.fr"):
        with pytest.raises(SiteIdentityError):
            site_identity.email(wrong)
    assert site_identity.email(" Accueil@Mairie-Ham.fr ") == "accueil@mairie-ham.fr"
