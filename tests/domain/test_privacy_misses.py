"""The privacy screen against the misses listed in issue #17, and its new detectors.

Every identifier here is fictitious; NIR keys and IBAN check digits were computed for
made-up people (see tests/domain/test_privacy.py for independent check-digit helpers).
"""

from __future__ import annotations

import pytest

from bot.domain.privacy import IdentifierKind, screen

K = IdentifierKind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # NIR
        ("1/85/05/78/006/084/91", K.NIR),
        ("1850 5780 0608 491", K.NIR),
        ("1 8 5 0 5 7 8 0 0 6 0 8 4 9 1", K.NIR),
        ("1_85_05_78_006_084_91", K.NIR),
        ("noté sur la fiche : 2 84 05 75 116 084 42", K.NIR),  # the key has a typo
        # IBAN
        ("FR 76 3000 6000 0112 3456 7890 189", K.IBAN),
        ("IBAN FR 76 3000 6000 0112 3456 7890 189", K.IBAN),
        ("FR76.3000.6000.0112.3456.7890.189", K.IBAN),
        ("FR76 3000 6000\n0112 3456 7890 189", K.IBAN),
        # Phones
        ("O6 12 34 56 78", K.PHONE),
        ("6 12 34 56 78", K.PHONE),
        ("06 12 34\n56 78", K.PHONE),
        # E-mails
        ("jean.dupont arobaz gmail.com", K.EMAIL),
        ("jeandupont85 sur gmail", K.EMAIL),
        # Allocataire numbers
        ("Mme Dupont (1234567)", K.CAF_NUMBER),
        ("n°allocataire1234567", K.CAF_NUMBER),
        # Addresses
        ("80000 amiens", K.ADDRESS),
        ("résidence Les Tilleuls bât B appt 12", K.ADDRESS),
        # Names, dates of birth, passwords
        ("Mme Dupont Marie née le 12/03/1985", K.NAME),
        ("Mme Dupont Marie née le 12/03/1985", K.DATE_OF_BIRTH),
        ("mot de passe caf.fr c'est Marie1985!", K.CREDENTIALS),
    ],
)
def test_every_miss_of_the_first_trial_is_caught(text: str, kind: IdentifierKind) -> None:
    assert kind in screen(text).found


@pytest.mark.parametrize(
    "text",
    [
        "mdp : Soleil2024",
        "identifiant : jean.dupont",
        "code d'accès 4821",
        "Le mot de passe de Mon Compte est 19041985",
        "Marie1985! c'est son mot de passe",
        "login dupont62",
    ],
)
def test_credentials_with_their_value(text: str) -> None:
    assert screen(text).found == {K.CREDENTIALS}


@pytest.mark.parametrize(
    "text",
    [
        "Elle a oublié son mot de passe.",
        "Le mot de passe doit faire 12 caractères dont une majuscule et un chiffre.",
        "Identifiant FranceConnect perdu.",
        "Réinitialisation du mot de passe sur caf.fr le 12/03/2026 à 10h.",
        "Le code d'accès à usage unique arrive par SMS (6 chiffres).",
    ],
)
def test_credentials_words_without_a_value_pass(text: str) -> None:
    assert screen(text).ok


@pytest.mark.parametrize(
    "text",
    ["né le 12/03/1985", "date de naissance : 12.03.85", "DDN 12031985", "née en 03/1990"],
)
def test_dates_of_birth(text: str) -> None:
    assert screen(text).found == {K.DATE_OF_BIRTH}


def test_a_name_needs_a_birth_next_to_it() -> None:
    """Decision: a civility and a name alone are not refused (a colleague, a caller)."""
    assert screen("Mme Dupont passera jeudi.").ok
    assert screen("Réunion avec Mme Durand le 12/03/2026 à 10h.").ok
    assert screen("Mme Durand est née le").found == {K.NAME}
    assert screen("M. Martin Paul, 03/07/1962, veut une attestation").found == {
        K.NAME,
        K.DATE_OF_BIRTH,
    }


def test_counts_are_not_towns() -> None:
    assert screen("Le département compte 80000 allocataires.").ok
    assert screen("Subvention de 25000 euros.").ok
    assert screen("L'usager habite à 75011 mais dépend de la Caf de Paris.").ok


def test_a_building_alone_is_not_an_address() -> None:
    assert screen("Bâtiment B, 2e étage : salle informatique.").ok
    assert screen("Elle vit résidence du Parc, bâtiment C, appartement 34.").found == {K.ADDRESS}


def test_new_kinds_are_told_in_french() -> None:
    message = screen("mdp : Soleil2024, née le 12/03/1985").message()
    assert "une date de naissance" in message
    assert "un identifiant ou un mot de passe" in message
    assert "article 5" in message


# How long the screen takes on 4,096 hostile characters (no catastrophic backtracking) is
# measured in benchmarks/privacy.py, not here: timing belongs to benchmarks.
