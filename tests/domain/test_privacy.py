"""Tests of the privacy screen (article 5 of the convention: no personal data stored).

Valid NIR, IBAN and RIB numbers are built here with independent implementations
of their check-digit formulas, so the tests do not trust the module's own maths.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
import timeit
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.privacy import IdentifierKind, ScreenResult, screen
from tests.domain.privacy_corpus import ORDINARY, WITH_IDENTIFIERS

K = IdentifierKind

# --------------------------------------------------------------------------
# Independent check-digit helpers
# --------------------------------------------------------------------------


def nir_key(body: str) -> str:
    """NIR key: 97 - (13 first characters mod 97); Corsica 2A → 19, 2B → 18."""
    dept = body[5:7].upper()
    digits = body[:5] + {"2A": "19", "2B": "18"}.get(dept, dept) + body[7:]
    return f"{97 - int(digits) % 97:02d}"


def make_nir(sex: int, year: int, month: int, dept: str, commune: int, order: int) -> str:
    body = f"{sex}{year:02d}{month:02d}{dept}{commune:03d}{order:03d}"
    return body + nir_key(body)


def spaced_nir(nir: str, sep: str = " ") -> str:
    parts = (nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13], nir[13:])
    return sep.join(part for part in parts if part)


def iban_check(country: str, bban: str) -> str:
    """ISO 13616: move "CC00" to the end, letters → 10…35, 98 - (n mod 97)."""
    rearranged = "".join(str(int(c, 36)) for c in (bban + country + "00").upper())
    return f"{98 - int(rearranged) % 97:02d}"


def make_iban(country: str, bban: str) -> str:
    return country + iban_check(country, bban) + bban


def grouped(text: str, size: int = 4, sep: str = " ") -> str:
    return sep.join(text[i : i + size] for i in range(0, len(text), size))


_RIB_TABLE: dict[str, int] = {str(d): d for d in range(10)}
for _letters, _start in (("ABCDEFGHI", 1), ("JKLMNOPQR", 1), ("STUVWXYZ", 2)):
    for _offset, _letter in enumerate(_letters):
        _RIB_TABLE[_letter] = _start + _offset


def rib_key(bank: str, branch: str, account: str) -> str:
    """RIB key: 97 - (89·bank + 15·branch + 3·account) mod 97, letters converted."""
    account_value = int("".join(str(_RIB_TABLE[c]) for c in account.upper()))
    return f"{97 - (89 * int(bank) + 15 * int(branch) + 3 * account_value) % 97:02d}"


def kinds(text: str) -> set[str]:
    return {kind.value for kind in screen(text).found}


# --------------------------------------------------------------------------
# Corpus: recall and false positives
# --------------------------------------------------------------------------


def test_corpus_size_and_coverage() -> None:
    assert len(WITH_IDENTIFIERS) >= 180
    assert len(ORDINARY) >= 140
    covered = set().union(*(expected for _, expected in WITH_IDENTIFIERS))
    assert covered == {kind.value for kind in IdentifierKind}
    assert len({text for text, _ in WITH_IDENTIFIERS}) == len(WITH_IDENTIFIERS)
    assert len(set(ORDINARY)) == len(ORDINARY)


def test_corpus_recall_and_false_positive_rate(capsys: pytest.CaptureFixture[str]) -> None:
    missed = [
        (text, sorted(expected), sorted(kinds(text)))
        for text, expected in WITH_IDENTIFIERS
        if not expected <= kinds(text)
    ]
    flagged = [(text, sorted(kinds(text))) for text in ORDINARY if not screen(text).ok]
    recall = 1 - len(missed) / len(WITH_IDENTIFIERS)
    false_positive_rate = len(flagged) / len(ORDINARY)
    with capsys.disabled():  # the figures are shown even without -s
        print(
            f"\nprivacy screen: recall {recall:.3f} ({len(WITH_IDENTIFIERS) - len(missed)}"
            f"/{len(WITH_IDENTIFIERS)}), false positives {false_positive_rate:.3f}"
            f" ({len(flagged)}/{len(ORDINARY)})"
        )
    assert recall >= 0.99, missed
    assert false_positive_rate <= 0.02, flagged


# --------------------------------------------------------------------------
# ScreenResult and IdentifierKind
# --------------------------------------------------------------------------


def test_kind_codes_are_stable() -> None:
    assert [kind.value for kind in IdentifierKind] == [
        "nir",
        "iban",
        "rib",
        "phone",
        "email",
        "caf_number",
        "address",
        "carte_vitale",
        "name",
        "date_of_birth",
        "credentials",
    ]
    assert K("phone") is K.PHONE
    assert K.NIR.label == "un numéro de sécurité sociale (NIR)"
    assert all(kind.label for kind in IdentifierKind)


def test_ok_result_has_empty_message() -> None:
    result = screen("RAS, 12 passages aujourd'hui.")
    assert result.ok
    assert result.found == frozenset()
    assert result.message() == ""


def test_message_for_two_kinds_matches_the_wording() -> None:
    result = screen("Rappeler au 06 12 34 56 78 ou écrire à jean.dupont@gmail.com")
    assert result.found == {K.PHONE, K.EMAIL}
    assert not result.ok
    assert result.message() == (
        "Ce texte semble contenir un numéro de téléphone et une adresse e-mail. "
        "Il a été retiré de la conversation et rien n'en est gardé : pour protéger les "
        "usagers (article 5 de la convention), reformulez-le sans ces informations."
    )


def test_message_for_one_kind_is_singular() -> None:
    message = screen("numéro allocataire 1234567").message()
    assert message == (
        "Ce texte semble contenir un numéro allocataire Caf. Il a été retiré de la "
        "conversation et rien n'en est gardé : pour protéger les usagers (article 5 de la "
        "convention), reformulez-le sans cette information."
    )


def test_message_lists_three_kinds_with_commas() -> None:
    message = ScreenResult(frozenset({K.ADDRESS, K.NIR, K.IBAN})).message()
    assert message.startswith(
        "Ce texte semble contenir un numéro de sécurité sociale (NIR), un IBAN et une "
        "adresse postale."
    )


def test_result_is_frozen() -> None:
    result = screen("06 12 34 56 78")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.found = frozenset()  # type: ignore[misc]


# --------------------------------------------------------------------------
# NIR
# --------------------------------------------------------------------------

VALID_NIRS = [
    make_nir(1, 85, 5, "78", 6, 84),
    make_nir(2, 94, 3, "75", 123, 456),
    make_nir(1, 85, 12, "2A", 4, 17),
    make_nir(2, 70, 6, "2B", 33, 101),
    make_nir(2, 99, 1, "97", 411, 3),
    make_nir(1, 63, 5, "99", 350, 210),
    make_nir(2, 1, 31, "92", 50, 123),  # month 31: unknown month convention
    make_nir(7, 80, 4, "75", 56, 6),  # provisional number
]


@pytest.mark.parametrize("nir", VALID_NIRS)
@pytest.mark.parametrize("layout", ["compact", "spaced", "dotted", "dashed"])
def test_valid_nir_is_flagged(nir: str, layout: str) -> None:
    written = {
        "compact": nir,
        "spaced": spaced_nir(nir),
        "dotted": spaced_nir(nir, "."),
        "dashed": spaced_nir(nir, "-"),
    }[layout]
    assert K.NIR in screen(f"L'usager a noté {written} sur le formulaire.").found


def test_nir_with_non_breaking_spaces_and_key_apart() -> None:
    nir = VALID_NIRS[0]
    assert K.NIR in screen(spaced_nir(nir, "\u00a0")).found
    assert K.NIR in screen(f"numéro {nir[:13]} {nir[13:]}").found


def test_keyless_nir_counts_when_shaped_like_one() -> None:
    body = VALID_NIRS[1][:13]
    assert K.NIR in screen(f"Elle a dicté {body} sans la clé.").found
    assert K.NIR in screen(f"Elle a dicté {spaced_nir(body)} sans la clé.").found


def test_thirteen_digits_not_shaped_like_a_nir_are_ignored() -> None:
    assert screen("Commande 5123456789012 livrée.").ok  # sex digit 5
    assert screen("Référence 1851512345678 du colis.").ok  # month 15
    # Glued numbers are not re-cut into a NIR: this is a circular then a phone.
    assert screen("circulaire 2025-189 0740844338").found == {K.PHONE}


def wrong_key(nir: str) -> str:
    return nir[:13] + f"{(int(nir[13:]) + 1) % 100:02d}"


def test_wrong_key_is_not_a_nir_when_written_in_one_piece() -> None:
    for nir in VALID_NIRS:
        assert screen(f"Le numéro {wrong_key(nir)} ne marche pas.").ok, nir


def test_wrong_key_in_the_usual_spaced_layout_is_still_a_nir() -> None:
    """Decision (#17): "2 84 05 75 116 084 42" identifies a person even with a typo in the key."""
    for nir in VALID_NIRS:
        assert screen(f"Le numéro {spaced_nir(wrong_key(nir))} ne marche pas.").found == {K.NIR}


def test_wrong_key_next_to_a_social_security_word_is_still_a_nir() -> None:
    """Decision: a mistyped number written as "sécu …" is still somebody's number."""
    bad = spaced_nir(wrong_key(VALID_NIRS[0]))
    assert screen(f"sécu {bad}").found == {K.NIR}
    assert screen(f"numéro de sécurité sociale : {bad}").found == {K.NIR}


def test_wrong_key_next_to_vitale_is_a_carte_vitale_number() -> None:
    bad = spaced_nir(wrong_key(VALID_NIRS[0]))
    assert screen(f"carte Vitale : {bad}").found == {K.CARTE_VITALE, K.NIR}


# --------------------------------------------------------------------------
# Carte Vitale
# --------------------------------------------------------------------------


def test_valid_nir_next_to_vitale_is_both() -> None:
    found = screen(f"Carte Vitale n° {spaced_nir(VALID_NIRS[2])}").found
    assert found == {K.NIR, K.CARTE_VITALE}


@pytest.mark.parametrize(
    "text",
    [
        "numéro de série de la carte Vitale : 8025 0000 1234 5678 90",
        "vitale 25001123456789012",
        "N° Vitale : 80250000123456789012",
        "carte vitale de l'enfant 123456789012345",
    ],
)
def test_long_numbers_next_to_vitale(text: str) -> None:
    assert K.CARTE_VITALE in screen(text).found


def test_vitale_word_alone_or_with_small_numbers_is_fine() -> None:
    assert screen("Mettre à jour la carte Vitale en pharmacie, 2 usagers concernés.").ok
    assert screen("Carte Vitale perdue le 12/03/2026, déclarée sur ameli.").ok


# --------------------------------------------------------------------------
# IBAN
# --------------------------------------------------------------------------

VALID_IBANS = [
    make_iban("FR", "30006000011234567890189"),
    make_iban("FR", "20041010050500013M02606"),
    make_iban("DE", "370400440532013000"),
    make_iban("ES", "21000418450200051332"),
    make_iban("GB", "NWBK60161331926819"),
    make_iban("NL", "ABNA0417164300"),
    make_iban("IT", "X0542811101000000123456"),
    make_iban("BE", "539007547034"),
]


@pytest.mark.parametrize("iban", VALID_IBANS)
def test_valid_iban_is_flagged_in_any_spelling(iban: str) -> None:
    for written in (iban, grouped(iban), grouped(iban, sep="-"), grouped(iban).lower()):
        assert K.IBAN in screen(f"Nouvel IBAN {written} merci de vérifier").found, written


def test_iban_with_trailing_words_and_punctuation() -> None:
    iban = grouped(VALID_IBANS[0])
    assert screen(f"verser l'ARS sur {iban}.").found == {K.IBAN}
    assert screen(f"ref AB12 puis {iban} pour Mme").found == {K.IBAN}


def test_wrong_iban_check_is_ignored_unless_called_an_iban() -> None:
    iban = VALID_IBANS[0]
    bad = iban[:2] + f"{(int(iban[2:4]) + 1) % 100:02d}" + iban[4:]
    assert screen(f"Voir le compte {grouped(bad)} demain.").ok
    assert screen(f"IBAN : {grouped(bad)}").found == {K.IBAN}


def test_iban_is_not_also_reported_as_rib() -> None:
    assert screen(grouped(VALID_IBANS[0])).found == {K.IBAN}


# --------------------------------------------------------------------------
# RIB
# --------------------------------------------------------------------------


def make_rib(bank: str, branch: str, account: str) -> tuple[str, str, str, str]:
    return bank, branch, account, rib_key(bank, branch, account)


VALID_RIBS = [
    make_rib("30006", "00001", "12345678901"),
    make_rib("20041", "01005", "0500013M026"),
    make_rib("10278", "06076", "00020207401"),
    make_rib("12548", "02998", "98765432100"),
    make_rib("30004", "00819", "0001AB12345"),
]


@pytest.mark.parametrize("rib", VALID_RIBS)
def test_valid_rib_is_flagged(rib: tuple[str, str, str, str]) -> None:
    for sep in (" ", "", "-", "."):
        assert screen(f"Coordonnées : {sep.join(rib)} pour la prime").found == {K.RIB}


def test_rib_key_matches_published_example() -> None:
    # Example RIB printed in many French banking guides.
    assert rib_key("30006", "00001", "12345678901") == "89"


def test_wrong_rib_key_is_ignored_unless_called_a_rib() -> None:
    bank, branch, account, key = VALID_RIBS[0]
    bad = f"{(int(key) + 1) % 100:02d}"
    assert screen(f"Suivi {bank} {branch} {account} {bad} ok").ok
    assert screen(f"RIB : {bank} {branch} {account} {bad}").found == {K.RIB}


def test_labelled_rib_and_account_number() -> None:
    assert screen("code banque 20041 code guichet 01005 compte 0500013M026 clé 06").found == {K.RIB}
    assert screen("numéro de compte 98765432100 à la Banque Postale").found == {K.RIB}
    assert screen("Mon Compte : 3 usagers bloqués, 12345678901 connexions en 2025").ok


# --------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "0612345678",
        "06-12-34-56-78",
        "06 - 12 - 34 - 56 - 78",
        "06/12/34/56/78",
        "0612 34 56 78",
        "(06) 12 34 56 78",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "+33(0)612345678",
        "+33612345678",
        "0033 6 12 34 56 78",
        "07 81 23 45 67",
        "01 45 67 89 12",
        "02 98 76 54 32",
        "03 20 12 34 56",
        "04 78 12 34 56",
        "05 56 12 34 56",
        "09 51 23 45 67",
        "0 800 123 456",
        "0692 12 34 56",
        "+262 692 12 34 56",
        "+32 470 12 34 56",
        "06\u202f12\u202f34\u202f56\u202f78",
        "\uff10\uff16\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
    ],
)
def test_phone_spellings(written: str) -> None:
    assert screen(f"Rappeler Mme au {written} demain.").found == {K.PHONE}


def test_phone_followed_by_a_count_is_found() -> None:
    assert screen("06 12 34 56 78 appelé 2 fois sans réponse").found == {K.PHONE}


@pytest.mark.parametrize(
    "text",
    [
        "Pour joindre la Caf : 3230 (service gratuit + prix d'un appel).",
        "Service Public : 3939 ; Assurance maladie : 3646.",
        "Le 115 pour l'hébergement d'urgence.",
        "Le 01/02/2026 de 14:00 à 17:30.",
        "Le 01 02 2026 10 30 rendez-vous",
        "Mise à jour du 2026-03-12 08:45:00.",
        "du 01.04.2026 au 30.06.2026",
        "Windows 10.0.19045.3803 installé",
        "Horaires 08h30-12h00 / 13h30-16h30",
        "Prix : 06,50 € la page",
    ],
)
def test_short_service_numbers_dates_and_hours_are_not_phones(text: str) -> None:
    assert screen(text).ok


# --------------------------------------------------------------------------
# E-mail addresses
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "jean.dupont@gmail.com",
        "JEAN.DUPONT@HOTMAIL.FR",
        "marie-claire.martin75@orange.fr",
        "nathalie.roux+caf@icloud.com",
        "élodie.müller@gmx.de",
        "a.b@sub.domaine-test.fr",
        "jean.dupont @ gmail.com",
        "jean.dupont@gmail",
        "jean.dupont (at) gmail (dot) com",
        "jean.dupont[at]gmail[.]fr",
        "jean.dupont(arobase)free.fr",
        "m.durand arobase laposte point net",
        "sophie.bernard at yahoo.fr",
        "lucie.petit chez free.fr",
    ],
)
def test_email_spellings(written: str) -> None:
    assert screen(f"Son adresse : {written}, à corriger.").found == {K.EMAIL}


@pytest.mark.parametrize(
    "text",
    [
        "Voir caf.fr, rubrique Mes services en ligne.",
        "Message transmis à @coordination_caf sur le groupe.",
        "rdv@10h avec la conseillère",
        "Le chat est passé chez Orange pour la box.",
        "Look at the screen, point final.",
    ],
)
def test_not_emails(text: str) -> None:
    assert screen(text).ok


# --------------------------------------------------------------------------
# Caf file number
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "numéro allocataire 1234567",
        "n° alloc : 7654321",
        "N°ALLOC 1234567",
        "Dossier Caf 2345678 bloqué",
        "matricule 0123456",
        "allocataire 12345678",
        "N° allocataire: 1234567A",
        "numéro allocataire 123 45 67",
        "1234567 c'est son numéro allocataire",
        "Identifiant Caf 3456789",
        "Dossier n° 654321 transmis",
        "Le n° 9876543 ne correspond à rien",
    ],
)
def test_caf_number_near_its_words(text: str) -> None:
    assert screen(text).found == {K.CAF_NUMBER}


@pytest.mark.parametrize(
    "text",
    [
        "Le chiffre 1234567 est apparu à l'écran.",  # no Caf word nearby
        "La Caf compte 650000 allocataires dans le département.",
        "La Caf a versé 1 250 000 € d'aides.",
        "Caf : 309980.71 EUR de régularisation",
        "Ticket n° 1234567 ouvert auprès du support.",
        "Cerfa n° 12345*03 et formulaire 15479.",
        "Dossier déposé le 12032026.",
        "12 dossiers traités, 3 en attente.",
        "numéro de demande 20260312",
    ],
)
def test_numbers_that_are_not_caf_numbers(text: str) -> None:
    assert screen(text).ok


# --------------------------------------------------------------------------
# Postal addresses
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "12 rue de la Paix",
        "12 RUE DE LA PAIX",
        "12bis rue Pasteur",
        "5 bis avenue Jean Jaurès",
        "16, rue Victor Hugo",
        "12-14 rue Pasteur",
        "3 bd voltaire",
        "10 av. du Général de Gaulle",
        "12 r. de la Paix",
        "14 chemin des Vignes",
        "28 impasse des lilas",
        "7 allée Marcel Pagnol",
        "12 place de la République",
        "5 place d'Italie",
        "45 route de Lyon",
        "2 quai Perrache",
        "9 lotissement les Cerisiers",
        "8 square Louis Blanc",
        "n°12 rue Pasteur",
        "75011 Paris",
        "69003 LYON",
        "75011 PARIS CEDEX 11",
        "97400 Saint-Denis",
        "76600 Le Havre",
        "20000 Ajaccio",
    ],
)
def test_address_spellings(text: str) -> None:
    assert screen(f"Nouvelle adresse : {text}.").found == {K.ADDRESS}


@pytest.mark.parametrize(
    "text",
    [
        "L'usager habite à 75011 mais dépend de la Caf de Paris.",  # postcode alone
        "Il reste 3 places disponibles pour l'atelier.",
        "Il reste 1 place de libre jeudi.",
        "2 cours de français par semaine.",
        "Le 5 avenue était fermé pour travaux.",
        "Cerfa 15479 Demande d'aide au logement",
        "La Caf compte 100000 Allocataires",
        "Pour les usagers du 93 et du 94.",
    ],
)
def test_not_addresses(text: str) -> None:
    assert screen(text).ok


# --------------------------------------------------------------------------
# Robustness, purity and speed
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00\x01\x02",
        "\ud800 lone surrogate \udfff",
        "\u200b0\u200b6\u200b",
        "İİİ 06 12 34 56 78 ß",
        "@" * 500,
        "+" * 500,
        "0" * 5000,
        "1 " * 5000,
        "FR76 " * 2000,
        "ab12 " * 2000,
        "x@x" * 2000,
        "12 rue " * 1500,
        "vitale 1234567890123 " * 500,
        "sécu " + "1 85 05 78 006 084 99 " * 500,
        "(at) " * 2000,
        "AB12" + "C" * 40,
        "fr76" + "3" * 100,
        "1" * 16 + " sécu vitale",
    ],
)
def test_never_raises_and_stays_fast_on_odd_inputs(text: str) -> None:
    start = time.perf_counter()
    result = screen(text)
    assert isinstance(result, ScreenResult)
    assert time.perf_counter() - start < 1.0


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_never_raises_on_arbitrary_text(text: str) -> None:
    assert isinstance(screen(text).found, frozenset)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789 .-+/@()ABFRabfr°:,éÉ\u00a0", max_size=120))
def test_never_raises_on_digit_heavy_text(text: str) -> None:
    assert isinstance(screen(text).found, frozenset)


# Building blocks that reach every detector, glued in random orders.
_BLOCKS = st.one_of(
    st.text(alphabet="0123456789", min_size=1, max_size=40),
    st.sampled_from(
        [" ", "  ", ".", "-", "/", "+", "+33", "0033", "(0)", "(06)", "@", "(at)", " at ",
         "arobase", "(dot)", " point ", "FR76", "fr", "DE", "2A", "2B", "IBAN", "RIB", "sécu",
         "NIR", "vitale", "allocataire", "n°", "dossier", "Caf", "ticket", "rue", "bis",
         "avenue", "place", "Paris", "CEDEX", "€", "%", ",", "\u00a0", "\u2013", "é", "\n"]
    ),
    st.text(max_size=5),
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(_BLOCKS, max_size=30).map("".join))
def test_never_raises_on_glued_building_blocks(text: str) -> None:
    assert isinstance(screen(text).found, frozenset)


_AUDIT_ACTIVE = False


def _forbid_io(event: str, args: tuple[Any, ...]) -> None:
    if _AUDIT_ACTIVE and (event == "open" or event.startswith(("socket.", "subprocess."))):
        raise RuntimeError(f"screen() performed I/O: {event} {args[:1]}")


sys.addaudithook(_forbid_io)  # audit hooks cannot be removed: guarded by the flag


def test_screen_does_no_io_and_no_logging(caplog: pytest.LogCaptureFixture) -> None:
    global _AUDIT_ACTIVE
    texts = [text for text, _ in WITH_IDENTIFIERS] + ORDINARY
    caplog.set_level("DEBUG")
    _AUDIT_ACTIVE = True
    try:
        results = [screen(text) for text in texts]
    finally:
        _AUDIT_ACTIVE = False
    assert len(results) == len(texts)
    assert caplog.records == []


def _thousand_characters(texts: list[str]) -> str:
    text = ""
    while len(text) < 1000:
        text += texts[len(text) % len(texts)] + " "
    return text[:1000]


def test_a_thousand_characters_are_screened_quickly() -> None:
    """The target is well under 1 ms; the bound here is loose for slow CI machines."""
    ordinary = _thousand_characters(ORDINARY)
    mixed = _thousand_characters([text for text, _ in WITH_IDENTIFIERS[::6]])
    for text in (ordinary, mixed):
        runs = timeit.repeat(lambda text=text: screen(text), number=20, repeat=5)
        assert statistics.median(runs) / 20 < 0.005


# --------------------------------------------------------------------------
# Property tests: generated identifiers inside ordinary words
# --------------------------------------------------------------------------

WORDS = [
    "le", "rendez-vous", "pour", "la", "prime", "d'activité", "RSA", "APL", "AAH", "ARS", "DTR",
    "Mon", "Compte", "téléprocédure", "attestation", "de", "paiement", "quotient", "familial",
    "usager", "usagère", "dossier", "accueil", "conseillère", "déclaration", "trimestrielle",
    "ressources", "logement", "bloqué", "écran", "connexion", "mot", "passe", "identifiant",
    "courrier", "simulation", "droits", "aide", "mardi", "matin", "après-midi",
]  # fmt: skip

words = st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join)


@st.composite
def valid_nirs(draw: st.DrawFn) -> str:
    dept = draw(
        st.one_of(
            st.integers(1, 95).map(lambda d: f"{d:02d}"),
            st.sampled_from(["2A", "2B", "97", "99"]),
        )
    )
    nir = make_nir(
        draw(st.sampled_from([1, 2])),
        draw(st.integers(0, 99)),
        draw(st.integers(1, 12)),
        dept,
        draw(st.integers(1, 999)),
        draw(st.integers(1, 999)),
    )
    layout = draw(st.sampled_from(["", " ", ".", "-"]))
    return spaced_nir(nir, layout) if layout else nir


@st.composite
def valid_ibans(draw: st.DrawFn) -> str:
    country, length = draw(st.sampled_from([("FR", 23), ("DE", 18), ("ES", 20), ("BE", 12)]))
    bban = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=length, max_size=length)))
    iban = make_iban(country, bban)
    return draw(
        st.sampled_from([iban, grouped(iban), grouped(iban).lower(), grouped(iban, sep="-")])
    )


# Metropolitan mobiles that phonenumbers knows as allocated: 06 (but 0639, 069x), 073-079.
_MOBILE_PREFIXES = [f"06{n:02d}" for n in range(90) if n != 39] + [
    f"07{n:02d}" for n in range(30, 100)
]


@st.composite
def french_mobiles(draw: st.DrawFn) -> str:
    number = draw(st.sampled_from(_MOBILE_PREFIXES)) + f"{draw(st.integers(0, 999_999)):06d}"
    pairs = [number[i : i + 2] for i in range(0, 10, 2)]
    return draw(
        st.sampled_from(
            [
                number,
                " ".join(pairs),
                ".".join(pairs),
                "-".join(pairs),
                "+33 " + number[1] + " " + " ".join(pairs[1:]),
                "+33" + number[1:],
                "+33 (0)" + number[1] + " " + " ".join(pairs[1:]),
                "0033 " + number[1:],
            ]
        )
    )


@settings(max_examples=200, deadline=None)
@given(before=words, nir=valid_nirs(), after=words)
def test_generated_nir_in_ordinary_words_is_flagged(before: str, nir: str, after: str) -> None:
    assert K.NIR in screen(f"{before} {nir} {after}").found


@settings(max_examples=200, deadline=None)
@given(before=words, iban=valid_ibans(), after=words)
def test_generated_iban_in_ordinary_words_is_flagged(before: str, iban: str, after: str) -> None:
    assert K.IBAN in screen(f"{before} {iban} {after}").found


@settings(max_examples=200, deadline=None)
@given(before=words, phone=french_mobiles(), after=words)
def test_generated_mobile_in_ordinary_words_is_flagged(before: str, phone: str, after: str) -> None:
    assert K.PHONE in screen(f"{before} {phone} {after}").found


@settings(max_examples=200, deadline=None)
@given(found=st.frozensets(st.sampled_from(list(IdentifierKind)), min_size=1))
def test_message_names_every_kind_found(found: frozenset[IdentifierKind]) -> None:
    message = ScreenResult(found).message()
    assert message.startswith("Ce texte semble contenir ")
    assert "article 5 de la convention" in message
    for kind in found:
        assert kind.label in message
    for kind in set(IdentifierKind) - found:
        assert kind.label not in message
