"""Privacy screen for free texts, before anything stores them.

Article 5 of the Point numérique Caf convention forbids keeping any personal
data of the public. Agents, managers and coordinators type free texts
(difficulty descriptions, notes, label reasons, replies); :func:`screen`
looks for identifiers of a person in such a text so the caller can refuse it
and ask for a rephrasing.

The screen is deliberately a *pure* function: no I/O, no logging, no storage
of the text. Library data (phone metadata, IBAN registry) is loaded once at
import time so that a call never touches the disk.

Design choices (see also the tests):

* Each detector masks what it recognised before the next one runs, so that one
  span of text yields one kind (an IBAN is not also reported as a RIB, an
  e-mail's digits are not also a phone number). A valid NIR written next to
  the word "Vitale" is reported as both NIR and Carte Vitale.
* A 15-character NIR needs a correct key; with a wrong key it is not a NIR,
  unless a social-security word (sécu, NIR, INSEE, immatriculation) or the
  word "Vitale" stands nearby: a mistyped number next to such a word is still
  somebody's number.
* A postcode alone ("à 75011") is not an address; a postcode followed by a
  capitalised town name ("75011 Paris") is.
* A Caf file number (6 to 8 digits) only counts near words such as
  allocataire, dossier, Caf, matricule, n°, numéro, and not when the number
  is a count or an amount ("650000 allocataires", "1500000 €").
* Phone numbers are flagged whoever they belong to (a service's 01/09 number
  is still a phone number); four-digit short numbers such as 3230 are not.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

import phonenumbers
from phonenumbers import NumberParseException
from phonenumbers.phonemetadata import PhoneMetadata
from stdnum import iban as _stdnum_iban
from stdnum.fr import nir as _stdnum_nir

__all__ = ["IdentifierKind", "ScreenResult", "screen"]


class IdentifierKind(StrEnum):
    """Kinds of personal identifiers; values are stable codes for storage/logs."""

    NIR = "nir"
    IBAN = "iban"
    RIB = "rib"
    PHONE = "phone"
    EMAIL = "email"
    CAF_NUMBER = "caf_number"
    ADDRESS = "address"
    CARTE_VITALE = "carte_vitale"
    NAME = "name"
    DATE_OF_BIRTH = "date_of_birth"
    CREDENTIALS = "credentials"

    @property
    def label(self) -> str:
        """French noun phrase, with its article, used in refusal messages."""
        return _LABELS[self]


_LABELS: dict[IdentifierKind, str] = {
    IdentifierKind.NIR: "un numéro de sécurité sociale (NIR)",
    IdentifierKind.IBAN: "un IBAN",
    IdentifierKind.RIB: "un RIB (coordonnées bancaires)",
    IdentifierKind.PHONE: "un numéro de téléphone",
    IdentifierKind.EMAIL: "une adresse e-mail",
    IdentifierKind.CAF_NUMBER: "un numéro allocataire Caf",
    IdentifierKind.ADDRESS: "une adresse postale",
    IdentifierKind.CARTE_VITALE: "un numéro de carte Vitale",
    IdentifierKind.NAME: "le nom d'une personne avec sa civilité",
    IdentifierKind.DATE_OF_BIRTH: "une date de naissance",
    IdentifierKind.CREDENTIALS: "un identifiant ou un mot de passe",
}

_ORDER: tuple[IdentifierKind, ...] = tuple(IdentifierKind)


@dataclass(frozen=True)
class ScreenResult:
    """Outcome of :func:`screen`: the kinds of identifiers found (never the values)."""

    found: frozenset[IdentifierKind]

    @property
    def ok(self) -> bool:
        """True when nothing was found and the text may be stored."""
        return not self.found

    def message(self) -> str:
        """French refusal sentence naming the kinds found ("" when ok)."""
        if not self.found:
            return ""
        labels = [kind.label for kind in _ORDER if kind in self.found]
        if len(labels) == 1:
            listed, these = labels[0], "cette information"
        else:
            listed = ", ".join(labels[:-1]) + " et " + labels[-1]
            these = "ces informations"
        # Every caller deletes the text from the chat: the person must know it is gone.
        return (
            f"Ce texte semble contenir {listed}. Il a été retiré de la conversation et rien "
            f"n'en est gardé : pour protéger les usagers (article 5 de la convention), "
            f"reformulez-le sans {these}."
        )


# --------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------

_TRANSLATION = str.maketrans(
    {
        "\t": " ",
        "\r": None,  # "\r\n" is one line break
        "\f": " ",
        "\v": " ",
        "\u00a0": " ",  # no-break space (also after NFKC, to be safe)
        "\u2007": " ",
        "\u2009": " ",
        "\u202f": " ",  # narrow no-break space, common before € and :
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u00ad": None,  # soft hyphen and zero-width characters could split numbers
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,
    }
)
_ODD_CHARS = re.compile("[" + "".join(chr(c) for c in _TRANSLATION) + "]")
_SPACES = re.compile(r" {2,}")
# "06 - 12 - 34" and "12 . 34" become "06-12-34" and "12.34".
_SPACED_SEP = re.compile(r"([0-9])(?: ([.\-/]) ?| ?([.\-/]) )(?=[0-9])")
# "(06) 12 34 56 78" becomes "06 12 34 56 78"; "+33 (0)6" is left to the phone detector.
_PAREN_PREFIX = re.compile(r"\((0[1-9])\) ?(?=[0-9])")
_AROUND_BREAK = re.compile(r" *\n[ \n]*")
# OCR or a careful typist: "0 6 1 2 3 4 5 6 7 8", "F R 7 6 3 0 …" (eight single characters
# or more, at least four of them digits) is read as one word.
_SINGLES = re.compile(r"(?<!\S)(?:[0-9A-Za-z] ){7,}[0-9A-Za-z](?!\S)")
# "O6 12 34 56 78": the letter O typed for a zero in front of a phone number.
_LETTER_O = re.compile(r"(?<![\w+])[Oo]([1-9](?:[ .\-]?[0-9]{2}){4})(?![\w])")


def _normalise(text: str) -> str:
    """Fold look-alike characters so that one pattern covers many spellings."""
    if not text.isascii():  # ASCII text is already NFKC; skip the slow path
        text = unicodedata.normalize("NFKC", text)
    if _ODD_CHARS.search(text):
        text = text.translate(_TRANSLATION)
    if "  " in text:
        text = _SPACES.sub(" ", text)
    if "(0" in text:
        text = _PAREN_PREFIX.sub(r"\1 ", text)
    if "\n" in text:
        text = _AROUND_BREAK.sub("\n", text)
    text = _SINGLES.sub(_glue_singles, text)
    text = _LETTER_O.sub(r"0\1", text)
    return _SPACED_SEP.sub(r"\1\2\3", text)


def _glue_singles(m: re.Match[str]) -> str:
    run = m.group()
    return run.replace(" ", "") if sum(c.isdigit() for c in run) >= 6 else run


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Replace recognised spans by spaces so later detectors do not re-read them."""
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _near(spans: list[tuple[int, int]], start: int, end: int, before: int, after: int) -> bool:
    """True if a context-word span lies within the window around [start, end).

    Spans are sorted and disjoint, so a bisection on their ends finds the
    first candidate (keeps huge inputs linear-logarithmic).
    """
    i = bisect_right(spans, start - before, key=_span_end)
    return i < len(spans) and spans[i][0] < end + after


def _span_end(span: tuple[int, int]) -> int:
    return span[1]


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


# A context is a tuple of (lower-case keyword, whole word only).
_Keywords = tuple[tuple[str, bool], ...]


def _lower_aligned(text: str) -> str:
    """Lower-case copy with the same length, so positions map one to one."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _keyword_spans(lower: str, keywords: _Keywords) -> list[tuple[int, int]]:
    """Sorted, disjoint spans of the keywords (plain ``str.find``: fast)."""
    spans: list[tuple[int, int]] = []
    for word, whole in keywords:
        i = lower.find(word)
        while i != -1:
            j = i + len(word)
            if not whole or (
                (i == 0 or not lower[i - 1].isalnum())
                and (j == len(lower) or not lower[j].isalnum())
            ):
                spans.append((i, j))
            i = lower.find(word, i + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


class _Context:
    """Positions of context words, searched only when a candidate needs them."""

    def __init__(self, text: str) -> None:
        self.lower = _lower_aligned(text)
        self._cache: dict[int, list[tuple[int, int]]] = {}

    def spans(self, keywords: _Keywords) -> list[tuple[int, int]]:
        key = id(keywords)
        if key not in self._cache:
            self._cache[key] = _keyword_spans(self.lower, keywords)
        return self._cache[key]


_HAS_DIGIT = re.compile(r"[0-9]")

# --------------------------------------------------------------------------
# E-mail addresses
# --------------------------------------------------------------------------

_AT_SIGN: _Keywords = (("@", False),)
_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]+ ?@ ?([\w\-]+(?:\.[\w\-]+)*)")
_DOT = r"(?:\.|\(dot\)|\[dot\]|\(point\)|\[point\]|\[\.\]|\(\.\)| dot | point )"
_EMAIL_OBFUSCATED = re.compile(
    r"(?<![\w.+\-])([\w.+\-]+) ?"
    r"(\(at\)|\[at\]|\{at\}|<at>|\(arobase\)|\[arobase\]| at | arobase | chez "
    r"| arobaz | arobas | arrobase | arobace | a commercial )"
    r" ?([\w\-]+(?: ?" + _DOT + r" ?[\w\-]+)+)",
    re.IGNORECASE,
)
_DOMAIN_SPLIT = re.compile(r" ?" + _DOT + r" ?", re.IGNORECASE)
_COMMON_TLDS = frozenset(
    {
        "fr", "com", "net", "org", "eu", "be", "ch", "lu", "ca", "de", "es", "it", "pt",
        "uk", "info", "biz", "io", "me", "re", "gp", "mq", "gf", "yt", "pm", "nc", "pf",
        "ma", "dz", "tn", "sn", "ci", "cm", "mg",
    }
)  # fmt: skip
_MAIL_PROVIDERS = frozenset(
    {
        "gmail", "hotmail", "yahoo", "orange", "free", "sfr", "laposte", "outlook", "live",
        "wanadoo", "icloud", "msn", "aol", "gmx", "protonmail", "proton", "bbox", "neuf",
        "numericable", "club-internet", "caf",
    }
)  # fmt: skip


def _tld_ok(domain: str) -> bool:
    tld = domain.rsplit(".", 1)[-1]
    return 2 <= len(tld) <= 24 and tld.isalpha()


_SPOKEN_AT = frozenset({"at", "arobase", "arobaz", "arobas", "arrobase", "arobace", "a commercial"})
_OBFUSCATION_HINTS: _Keywords = tuple(
    (hint, False)
    for hint in (
        "(at)", "[at]", "{at}", "<at>", "arobase", "arobaz", "arobas", "arrobase", "arobace",
        "a commercial", " at ", " chez ",
    )
)  # fmt: skip
_PROVIDER_HINTS: _Keywords = ((" sur ", False), (" chez ", False), (" at ", False))
# "jeandupont85 sur gmail", "jean.dupont chez hotmail": an address said aloud, without its
# ending. The name must look like an address's (a digit, a dot, an underscore or a dash):
# "un compte sur gmail" is not one.
_EMAIL_SPOKEN = re.compile(
    r"(?<![\w.+\-@])(?=[\w.+\-]*[0-9._\-])(?=[\w.+\-]*[A-Za-z])[\w.+\-]{3,64}"
    r" (?:sur|chez|at) (?P<provider>[A-Za-z\-]+)(?:\.[a-z]{2,4})?(?![\w@])",
    re.IGNORECASE,
)


def _around(
    pattern: re.Pattern[str], text: str, anchors: list[tuple[int, int]]
) -> Iterator[re.Match[str]]:
    """Matches of ``pattern`` in windows around its anchors (an "@", an "(at)"…).

    Scanning only near the anchors is much faster than running a pattern that
    may start on any word character over the whole text; overlapping windows
    are merged so that each character is scanned once.
    """
    windows: list[tuple[int, int]] = []
    for start, end in anchors:
        lo, hi = max(0, start - 80), min(len(text), end + 260)
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], hi)
        else:
            windows.append((lo, hi))
    for lo, hi in windows:
        yield from pattern.finditer(text, lo, hi)


def _find_emails(text: str, context: _Context) -> list[tuple[int, int]]:
    """Plain addresses plus the usual obfuscations: (at), [at], arobase, (dot)…"""
    found = [
        m.span()
        for m in _around(_EMAIL, text, context.spans(_AT_SIGN))
        # "x@domaine.fr", or a well-known provider without its ending ("x@gmail").
        if ("." in m.group(1) and _tld_ok(m.group(1))) or m.group(1).lower() in _MAIL_PROVIDERS
    ]
    for m in _around(_EMAIL_OBFUSCATED, text, context.spans(_OBFUSCATION_HINTS)):
        separator = m.group(2).strip(" ()[]{}<>").lower()
        labels = [label.lower() for label in _DOMAIN_SPLIT.split(m.group(3)) if label]
        if len(labels) < 2 or not labels[-1].isalpha():
            continue
        if separator == "chez":
            if labels[0] not in _MAIL_PROVIDERS or labels[-1] not in _COMMON_TLDS:
                continue
        elif separator in _SPOKEN_AT and m.group(2).startswith(" "):
            # Bare words: demand a real-looking top-level domain.
            if labels[-1] not in _COMMON_TLDS:
                continue
        elif not 2 <= len(labels[-1]) <= 24:
            continue
        found.append(m.span())
    found += [
        m.span()
        for m in _around(_EMAIL_SPOKEN, text, context.spans(_PROVIDER_HINTS))
        if m.group("provider").lower() in _MAIL_PROVIDERS - {"caf", "live"}
        or m.group().lower().endswith((".fr", ".com", ".net"))
    ]
    return found


# --------------------------------------------------------------------------
# IBAN and RIB
# --------------------------------------------------------------------------

# Matched from its check digits (a digit-led pattern scans fast); the two letters
# before are checked by look-behind. Bounded repetitions keep the scan linear.
_IBAN_CANDIDATE = re.compile(
    r"[0-9](?<=(?<![0-9A-Za-z])[A-Za-z]{2}[0-9])[0-9][0-9A-Za-z]{0,32}"
    r"(?:[ .\-\n][0-9A-Za-z]{1,34}){0,16}"
)
# "FR 76 3000 …", "FR-76…": the country code apart from its check digits (capitals only).
_IBAN_CANDIDATE_APART = re.compile(
    r"[0-9](?<=(?<![0-9A-Za-z])[A-Z]{2}[ .\-][0-9])[0-9][0-9A-Za-z]{0,32}"
    r"(?:[ .\-\n][0-9A-Za-z]{3,34}){0,16}"
    r"(?:[ .\-\n][0-9A-Za-z]{1,2}(?![0-9A-Za-z]))?"
)
_BANK_WORDS: _Keywords = (
    ("coordonnées bancaires", False),
    ("coordonnees bancaires", False),
    ("identité bancaire", False),
    ("identite bancaire", False),
    ("compte bancaire", False),
)
_IBAN_CONTEXT: _Keywords = (("iban", True), ("bic", True), ("rib", True), *_BANK_WORDS)
# ISO 13616 check: letters count as 10…35 once the country code is moved to the end.
_IBAN_LETTERS = str.maketrans({chr(c): str(c - 55) for c in range(ord("A"), ord("Z") + 1)})
_GROUP = re.compile(r"[0-9A-Za-z]+")


def _iban_valid(candidate: str) -> bool:
    """Mod 97 first (cheap), then python-stdnum for the country's length and layout."""
    rearranged = (candidate[4:] + candidate[:4]).translate(_IBAN_LETTERS)
    if not rearranged.isdigit() or int(rearranged) % 97 != 1:
        return False
    try:
        # The country modules (BE, ES…) are not used: they would be imported lazily.
        return bool(_stdnum_iban.is_valid(candidate, check_country=False))
    except Exception:  # a library surprise must never reach the caller
        return False


def _find_ibans(text: str, context: _Context) -> list[tuple[int, int]]:
    """IBANs of any country, spaces optional, checked with mod 97 (python-stdnum).

    A candidate may swallow the words after it ("FR76 … 189 merci"), so every
    prefix ending on a group boundary is tried, longest first.
    """
    found = _find_ibans_with(_IBAN_CANDIDATE, 2, text, context)
    if found:
        text = _blank(text, found)
    return found + _find_ibans_with(_IBAN_CANDIDATE_APART, 3, text, context)


def _find_ibans_with(
    candidates: re.Pattern[str], back: int, text: str, context: _Context
) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    pos = 0
    while (m := candidates.search(text, pos)) is not None:
        start = m.start() - back
        prefixes: list[tuple[str, int]] = []
        compact = ""
        for group in _GROUP.finditer(text, start, m.end()):
            compact += group.group().upper()
            if len(compact) > 34:
                break
            prefixes.append((compact, group.end()))
        if not prefixes:  # a first group longer than any IBAN
            pos = m.end()
            continue
        # Next search starts after this IBAN, or after this candidate's first group,
        # so that "réf AB12 puis FR76 …" still finds the IBAN inside the first candidate.
        pos = max(prefixes[0][1], m.end(0) if len(prefixes) == 1 else m.start() + 1)
        hit = next((end for p, end in reversed(prefixes) if len(p) >= 15 and _iban_valid(p)), None)
        if hit is None:
            # Near "IBAN"/"RIB", a long, mostly numeric candidate is kept even with a bad check.
            hit = next(
                (
                    end
                    for p, end in reversed(prefixes)
                    if len(p) >= 14
                    and sum(c.isdigit() for c in p) >= 10
                    and _near(context.spans(_IBAN_CONTEXT), start, end, 60, 20)
                ),
                None,
            )
        if hit is not None:
            found.append((start, hit))
            pos = hit
    return found


_RIB = re.compile(
    r"[0-9](?<![\w][0-9])([0-9]{4})[ .\-]?([0-9]{5})[ .\-]?([0-9A-Za-z]{11})[ .\-]?([0-9]{2})"
    r"(?![\w])"
)
_RIB_ACCOUNT = re.compile(r"(?<![\w])(?=[0-9A-Za-z]{11}(?![\w]))(?:[A-Za-z]*[0-9]){8}[0-9A-Za-z]*")
_RIB_CONTEXT: _Keywords = (
    ("rib", True),
    ("guichet", False),
    ("code banque", False),
    ("numéro de compte", False),
    ("numero de compte", False),
    ("n° de compte", False),
    ("n°de compte", False),
    ("n° compte", False),
    ("n°compte", False),
    *_BANK_WORDS,
)
_RIB_LETTERS = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "12345678912345678923456789",
)


def _rib_key(bank: str, branch: str, account: str) -> int:
    """Standard French RIB key: 97 - (89·bank + 15·branch + 3·account) mod 97.

    Letters of the account are converted with the usual table (A, J → 1 …;
    S → 2 …).
    """
    account_digits = account.upper().translate(_RIB_LETTERS)
    return 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account_digits)) % 97


def _rib_valid(bank: str, branch: str, account: str, key: str) -> bool:
    try:
        return _rib_key(bank, branch, account) == int(key)
    except ValueError:
        return False


def _find_ribs(text: str, context: _Context) -> list[tuple[int, int]]:
    """French RIBs (5 + 5 + 11 + 2) with a correct key, or account numbers near RIB words."""
    found: list[tuple[int, int]] = []
    for m in _RIB.finditer(text):
        bank = m.group()[0] + m.group(1)
        if _rib_valid(bank, *m.groups()[1:]) or _near(
            context.spans(_RIB_CONTEXT), *m.span(), 80, 20
        ):
            found.append(m.span())
    rib_words = context.spans(_RIB_CONTEXT)
    if rib_words:
        accounts = _spans(_RIB_ACCOUNT, _blank(text, found))
        found += [s for s in accounts if _near(rib_words, *s, 50, 10)]
    return found


# --------------------------------------------------------------------------
# NIR and Carte Vitale
# --------------------------------------------------------------------------

# Overlapping candidates (look-ahead) so that a number glued to a previous one
# is still tried from its own start. Separators are only allowed where people
# put them: 1 85 05 78 006 084 36, or 2 99 01 974 11 003 95 for overseas births.
_NIR_CANDIDATE = re.compile(
    r"[1-478](?<![\w][1-478])(?=("
    r"[ .\-/_]?[0-9]{2}[ .\-/_]?[0-9]{2}[ .\-/_]?(?:[0-9]{2}|2[ABab])[ .\-/_]?[0-9]"
    r"[ .\-/_]?[0-9]{2}[ .\-/_]?[0-9]{3}(?:[ .\-/_]?[0-9]{2})?"
    r")(?![\w]))"
)
_NIR_SEPARATORS = re.compile(r"[ .\-/_]")
# Fifteen digits however grouped ("1850 5780 0608 491"): a NIR when the key is right.
_NIR_ANY_GROUPING = re.compile(
    r"[0-9](?<![\w.,/\-][0-9])(?<![0-9][ .\-/_][0-9])(?:[ .\-/_]?[0-9]){14}(?![ .\-/_]?[0-9])"
)
# The usual layout "2 84 05 75 116 084 42" is somebody's number even with a mistyped key.
_NIR_USUAL_LAYOUT = re.compile(
    r"[1-478](?<![\w.,/\-][1-478])([ .\-/_])[0-9]{2}\1[0-9]{2}\1(?:[0-9]{2}|2[ABab])"
    r"\1[0-9]{3}\1[0-9]{3}\1[0-9]{2}(?![\w]|[.,/\-]?[0-9])"
)
# Without its key, a NIR must be written in one piece or grouped the usual way,
# so that "circulaire 2025-189 0740844338" is not read as 1 89 07 40 844 338.
_NIR_KEYLESS_LAYOUT = re.compile(
    r"[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{6}"
    r"|[0-9]([ .\-])[0-9]{2}\1[0-9]{2}\1(?:[0-9]{2}|2[AB])\1[0-9]{3}\1[0-9]{3}",
    re.IGNORECASE,
)
_SS_CONTEXT: _Keywords = (
    ("sécu", True),
    ("secu", True),
    ("sécurité sociale", False),
    ("securite sociale", False),
    ("nir", True),
    ("insee", True),
    ("immatriculation", False),
    ("n° ss", True),
    ("n°ss", True),
    ("numéro ss", True),
    ("numero ss", True),
    ("assurance maladie", False),
    ("cpam", True),
    ("ameli", True),
)
_VITALE_CONTEXT: _Keywords = (("vitale", False),)
# Twelve digits or more (the regex rejects shorter runs without a Python loop).
_LONG_DIGIT_RUN = re.compile(r"[0-9](?<![\w][0-9])(?:[ .\-]?[0-9]){11,}")


def _nir_shaped(compact: str) -> bool:
    """Sex digit, month (01-12, 20-42, 50-99), department and order number look real."""
    if len(compact) not in (13, 15) or compact[0] not in "123478":
        return False
    month = int(compact[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or month >= 50):
        return False
    return compact[5:7] != "00" and compact[10:13] != "000"


def _nir_valid(compact: str) -> bool:
    """A NIR: shaped like one, and with a correct key when the key is present."""
    if not _nir_shaped(compact):
        return False
    if len(compact) == 13:
        return True
    try:
        return bool(_stdnum_nir.is_valid(compact))
    except Exception:  # a library surprise must never reach the caller
        return False


def _find_nirs(text: str) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    last_end = -1
    for m in _NIR_CANDIDATE.finditer(text):
        start, candidate = m.start(), m.group() + m.group(1)
        if start < last_end:
            continue
        compact = _NIR_SEPARATORS.sub("", candidate).upper()
        if len(compact) == 13 and not _NIR_KEYLESS_LAYOUT.fullmatch(candidate):
            continue
        if _nir_valid(compact):
            found.append((start, start + len(candidate)))
            last_end = start + len(candidate)
    text = _blank(text, found)
    for m in _NIR_ANY_GROUPING.finditer(text):
        if _nir_valid(_NIR_SEPARATORS.sub("", m.group()).upper()):
            found.append(m.span())
    text = _blank(text, found)
    for m in _NIR_USUAL_LAYOUT.finditer(text):
        if _nir_shaped(_NIR_SEPARATORS.sub("", m.group()).upper()):
            found.append(m.span())
    return found


def _long_runs(text: str, min_digits: int, max_digits: int, first: str) -> list[tuple[int, int]]:
    """Digit runs (single separators allowed) of a given length, e.g. card numbers."""
    return [
        m.span()
        for m in _LONG_DIGIT_RUN.finditer(text)
        if m.group()[0] in first and min_digits <= sum(c.isdigit() for c in m.group()) <= max_digits
    ]


def _runs_near(
    runs: list[tuple[int, int]], context: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    return [run for run in runs if _near(context, *run, 60, 30)]


# --------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------

# Not glued to a previous number ("10.0.19045.3803" is a version, not 01 90 45 38 03).
# The look-ahead skips runs too short for ten digits without a Python loop.
_PHONE_NATIONAL = re.compile(
    r"[0-9](?<![\w+][0-9])(?<![0-9][.\-/][0-9])(?=[0-9 .\-/]{9})[0-9]*(?:[ .\-/][0-9]+)*"
)
_PHONE_INTERNATIONAL = re.compile(r"(?:\+(?<![\w+]\+) ?|0(?<![\w+]0)0 ?)[1-9][0-9 .\-()]{6,24}")
_PHONE_GROUP = re.compile(r"[0-9]+")
_NATIONAL_REGIONS = ("FR", "RE", "GP", "MQ", "GF", "YT", "PM")
_OVERSEAS_PREFIXES = frozenset({"026", "063", "069", "059", "050", "097"})
_DATE_YEAR = re.compile(r"(?:19|20)[0-9]{2}")


def _phone_valid(number: str, region: str | None) -> bool:
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(number, region)))
    except (NumberParseException, ValueError, TypeError):
        return False


def _national_valid(digits: str) -> bool:
    """Metropolitan numbers first; overseas prefixes (0262, 0590, 0694…) in their region."""
    if digits[1] == "0":
        return False
    if _phone_valid(digits, "FR"):
        return True
    return digits[:3] in _OVERSEAS_PREFIXES and any(
        _phone_valid(digits, region) for region in _NATIONAL_REGIONS[1:]
    )


def _date_groups(groups: list[str]) -> set[int]:
    """Indices of groups forming a day, month, year ("le 01 02 2026 10 30")."""
    dated: set[int] = set()
    for k in range(len(groups) - 2):
        if (
            len(groups[k]) <= 2
            and len(groups[k + 1]) <= 2
            and 1 <= int(groups[k]) <= 31
            and 1 <= int(groups[k + 1]) <= 12
            and _DATE_YEAR.fullmatch(groups[k + 2]) is not None
        ):
            dated.update((k, k + 1, k + 2))
    return dated


def _find_national_phones(text: str) -> Iterator[tuple[int, int]]:
    """10-digit numbers starting with 0, in one consistent spelling.

    A run of digit groups is scanned for a window of exactly ten digits that
    starts and ends on group boundaries and uses a single separator, so that
    "06 12 34 56 78 2 fois" is found but "01.03.2026 10" is not.
    """
    for m in _PHONE_NATIONAL.finditer(text):
        run = m.group()
        if len(run) < 10 or "0" not in run:
            continue
        groups = list(_PHONE_GROUP.finditer(run))
        dated = _date_groups([g.group() for g in groups]) if len(groups) > 2 else set()
        for i, first in enumerate(groups):
            if not first.group().startswith("0"):
                continue
            digits = ""
            for j in range(i, len(groups)):
                digits += groups[j].group()
                if len(digits) >= 10:
                    break
            if len(digits) != 10:
                continue
            window = groups[i : j + 1]
            separators = {run[a.end() : b.start()] for a, b in pairwise(window)}
            if len(separators) > 1 or not dated.isdisjoint(range(i, j + 1)):
                continue
            if i > 0:
                # Inside a dotted/dashed number ("10.0.19045.3803"), not after a space.
                before = run[groups[i - 1].end() : first.start()]
                if before != " " and (not separators or before in separators):
                    continue
                # After another number, only the two usual layouts (five pairs or ten
                # digits in one piece): "1 85 05 78 006 084 92" hides no 05 78 006 084.
                if len(window) not in (1, 5) or any(len(g.group()) != 2 for g in window[1:]):
                    continue
            if _national_valid(digits):
                yield m.start() + first.start(), m.start() + groups[j].end()
                break


def _find_international_phones(text: str) -> Iterator[tuple[int, int]]:
    """+33 6 …, +33 (0)6 …, 0033 6 …, and foreign numbers such as +32 470 …"""
    for m in _PHONE_INTERNATIONAL.finditer(text):
        raw = m.group().replace("(0)", "")
        digits = "".join(c for c in raw if c.isdigit())
        if raw.startswith("00"):
            digits = digits[2:]
        for length in range(len(digits), 7, -1):
            if _phone_valid("+" + digits[:length], None):
                yield m.span()
                break


# "6 12 34 56 78": a mobile without its leading 0, in the usual pairs and one separator.
_PHONE_NO_ZERO = re.compile(
    r"[1-9](?<![\w+.,/\-][1-9])(?<![0-9] [1-9])([ .\-])[0-9]{2}(?:\1[0-9]{2}){3}"
    r"(?![\w]|[.,/\-]?[0-9])"
)


def _find_phones(text: str) -> list[tuple[int, int]]:
    # A number cut by a line break is still one number; the length is kept, so the
    # positions found are the text's.
    text = text.replace("\n", " ")
    found = list(_find_international_phones(text))
    found += _find_national_phones(_blank(text, found))
    text = _blank(text, found)
    found += [
        m.span()
        for m in _PHONE_NO_ZERO.finditer(text)
        if m.group()[0] in "67" and _national_valid("0" + _digits_of(m.group()))
    ]
    return found


def _digits_of(run: str) -> str:
    return "".join(c for c in run if c.isdigit())


# --------------------------------------------------------------------------
# Caf file number (numéro allocataire)
# --------------------------------------------------------------------------

# Not part of a decimal amount ("309980.71", "1 980 308,34") nor of a longer number.
_CAF_CANDIDATE = re.compile(
    r"[0-9](?<![\w.,/*+€$-][0-9])"
    r"(?:(?P<compact>[0-9]{5,7})[A-Za-z]?(?![\w]|[.,][0-9])"
    r"|(?P<spaced>[0-9]{0,3}(?: [0-9]{2,4}){1,3})(?![\w]| ?[0-9]|[.,][0-9]))"
)
_CAF_STRONG = r"allocataire|\balloc\b|matricule|dossiers?\b|\bcaf\b|identifiant"
_CAF_WEAK = r"\bn ?°|\bno\b\.?|\bnum[ée]ro\b|\bnum\b\.?|\bnumero\b"
_CAF_BLOCKING = (
    r"ticket|incident|cerfa|formulaire|facture|commande|colis|\blot\b|circulaire|version"
    r"|article|\bsalle\b|\bbureau\b|\bpage\b|\bligne\b|siret|siren|finess|\bréf|\bref\b|\bcode\b"
)
_CAF_BEFORE = re.compile(
    rf"(?P<strong>{_CAF_STRONG})|(?P<weak>{_CAF_WEAK})|(?P<block>{_CAF_BLOCKING})", re.IGNORECASE
)
# "1234567 (son numéro allocataire)", but not "…, 309514 allocataires" (a count).
_CAF_AFTER = re.compile(r"[^0-9\n]{0,25}?(?:allocataire(?!s)|\balloc\b|matricule)", re.IGNORECASE)
_CAF_BLOCK_ONLY = re.compile(_CAF_BLOCKING, re.IGNORECASE)
_COUNT_AFTER = re.compile(
    r" ?(?:€|k€|eur\b|euros?\b|%|allocataires|dossiers|personnes|usagers|b[ée]n[ée]ficiaires"
    r"|foyers|familles|habitants|visites|appels|demandes|contacts|courriers|pages|connexions"
    r"|comptes|agents|mails|e-mails|messages|rendez-vous|rdv\b|heures|minutes|jours|mois\b"
    r"|ans\b|km\b|exemplaires|documents|pi[èe]ces|prestations|paiements|versements"
    r"|t[ée]l[ée]proc[ée]dures|sessions|utilisateurs|inscrits|clics|vues|octets|ko\b|mo\b)",
    re.IGNORECASE,
)
_STRONG_ONLY = re.compile(r"allocataire|\balloc\b|matricule", re.IGNORECASE)


def _date_digits(digits: str) -> bool:
    """ddmmyyyy or yyyymmdd: a date typed without separators, not a file number."""
    if len(digits) != 8:
        return False
    day_first = 1 <= int(digits[:2]) <= 31 and 1 <= int(digits[2:4]) <= 12
    year_first = 1 <= int(digits[4:6]) <= 12 and 1 <= int(digits[6:]) <= 31
    return (day_first and digits[4:6] in ("19", "20")) or (
        year_first and digits[:2] in ("19", "20")
    )


def _caf_context(text: str, start: int, end: int, spaced: bool) -> bool:
    """The nearest label before the number decides; "allocataire" after it also counts.

    "ticket n° 5541097" is not a file number: a blocking word (ticket, cerfa,
    facture…) as the nearest label, or right before "n°", vetoes the number.
    """
    window = text[max(0, start - 40) : start]
    labels = list(_CAF_BEFORE.finditer(window))
    last = labels[-1] if labels else None
    if last is not None:
        if last.lastgroup == "block":
            return False
        if last.lastgroup == "weak" and _CAF_BLOCK_ONLY.search(
            window, max(0, last.start() - 20), last.start()
        ):
            return False
        if spaced:
            # "1 234 567" is only a file number right after a strong label.
            if _STRONG_ONLY.search(last.group()):
                return True
        elif last.lastgroup == "strong" or len(window) - last.end() <= 15:
            return True
    return bool(_CAF_AFTER.match(text, end, min(len(text), end + 40)))


# "n°allocataire1234567", "matricule:1234567": the label glued to the number.
_CAF_GLUED = re.compile(
    r"(?i:allocataire|\balloc|matricule)[ .:°#\-]{0,3}([0-9]{6,8}[A-Za-z]?)(?![0-9])"
)
# Civility and capitalised name(s) ("Mme Dupont", "M. DE LA TOUR Jean").
_CIVILITY = (
    r"(?<![\w.])(?:M\.|Mr\.?|Mme\.?|Mmes|Mlle\.?|MM\.|Monsieur|Madame|Mademoiselle"
    r"|(?i:monsieur|madame|mademoiselle)|(?i:mme|mlle)\b)"
)
_NAME_WORD = r"(?:[A-ZÀ-Ö][\w'’-]*|(?:de|du|des|d'|le|la|van|von)(?= [A-ZÀ-Ö]))"
_CIVIL_NAME = _CIVILITY + r" ?" + _NAME_WORD + r"(?: " + _NAME_WORD + r"){0,3}"
# "Mme Dupont (1234567)", "M. Martin - 1234567": a number right after a person's name.
_CAF_AFTER_NAME = re.compile(
    _CIVIL_NAME + r"(?: ?[,:(\-] ?| )(?:n ?° ?)?([0-9]{6,8})(?![0-9]|[.,][0-9]| ?(?:€|euros?))"
)


def _find_caf_numbers(text: str) -> list[tuple[int, int]]:
    found = [m.span(1) for m in _CAF_GLUED.finditer(text)]
    found += [m.span(1) for m in _CAF_AFTER_NAME.finditer(text) if not _date_digits(m.group(1))]
    if found:
        text = _blank(text, found)
    for m in _CAF_CANDIDATE.finditer(text):
        spaced = m.group("compact") is None
        digits = m.group()[0] + (m.group("compact") or m.group("spaced")).replace(" ", "")
        if not 6 <= len(digits) <= 8 or _date_digits(digits):
            continue
        if _COUNT_AFTER.match(text, m.end(), min(len(text), m.end() + 20)):
            continue
        if _caf_context(text, m.start(), m.end(), spaced):
            found.append(m.span())
    return found


# --------------------------------------------------------------------------
# Postal addresses
# --------------------------------------------------------------------------

_STREET_SPECIFIC = frozenset(
    {
        "r", "rue", "avenue", "av", "boulevard", "boul", "bd", "bld", "blvd", "chemin", "ch",
        "impasse", "imp", "allée", "allee", "faubourg", "fbg", "ruelle", "venelle",
        "lieu-dit", "lieudit", "rond-point", "lotissement",
    }
)  # fmt: skip
_ADDRESS = re.compile(
    r"[0-9](?<![\w.,/*'][0-9])(?<![0-9]:[0-9])[0-9]{0,3}(?: ?(?:bis|ter|quater|[a-dA-D])\b)?"
    r"(?: ?[-/] ?[0-9]{1,4})?,? "
    r"(?P<type>(?i:r(?=\.)|rue|avenue|av|boulevard|boul|bd|bld|blvd|chemin|ch|impasse|imp|all[ée]e"
    r"|faubourg|fbg|ruelle|venelle|sentier|lieu-?dit|rond-point|hameau|lotissement|lot"
    r"|r[ée]sidence|r[ée]s|quai|square|sq|cit[ée]|esplanade|passage|chauss[ée]e|mont[ée]e"
    r"|traverse|parvis|promenade|voie|route|rte|place|pl|cours|mail|villa|domaine|clos|parc"
    r"|zone|za|zi|zac|port))(?![\w'-])\.?"
    r"(?P<rest>(?: [\w'-]+){1,3})"
)
# Words that follow "rue", "avenue"… in a sentence rather than in an address.
_NOT_STREET_NAMES = frozenset(
    {
        "était", "est", "sont", "a", "ont", "sera", "fermé", "fermée", "fermés", "fermées",
        "barré", "barrée", "bloqué", "bloquée", "ouvert", "ouverte", "en", "et", "ou", "pour",
        "par", "qui", "que", "avec", "sans", "d'accès", "possible", "possibles", "principal",
        "principale", "piétonne", "suivant", "suivante", "entre",
    }
)  # fmt: skip
_ARTICLES = frozenset({"de", "du", "des", "d'", "la", "le", "les", "l'", "aux", "au", "à"})
_POSTCODE_TOWN = re.compile(
    r"([0-9](?<![\w.,/*°+-][0-9])(?<![0-9]:[0-9])[0-9]{4}) (?:(?i:cedex) )?"
    r"(?P<town>[A-ZÀ-ÖØ-Þ][\w'-]*)(?P<next> [\w'-]+)?"
)
_NOT_TOWNS = frozenset(
    {
        "CAF", "RSA", "APL", "AAH", "ARS", "DTR", "ALF", "ALS", "PAJE", "MSA", "CPAM", "CNAF",
        "EUR", "EUROS", "HT", "TTC", "CERFA", "UN", "UNE", "DES", "DU", "DE", "ET", "OU", "EN",
        "AU", "AUX", "POUR", "PAR", "SUR", "DANS", "AVEC", "SANS", "PERSONNES", "DOSSIERS",
        "ALLOCATAIRES", "USAGERS",
    }
)  # fmt: skip
_TOWN_ARTICLES = frozenset({"LE", "LA", "LES", "L'"})
_POSTCODE_BLOCKING = re.compile(
    r"(?:cerfa|formulaire|n ?°|\bno\b|r[ée]f|ticket|version|article)[^0-9]{0,12}$", re.IGNORECASE
)


def _capitalised(word: str) -> bool:
    return bool(word) and word[0].isupper()


def _street_name_ok(street_type: str, rest: str) -> bool:
    """Unambiguous words (rue, avenue…) need any name; others need a capitalised one.

    "3 places disponibles", "2 cours de français" or "1 place de libre" are
    not addresses; "12 place de la République" and "5 route de Lyon" are.
    """
    words = rest.split()
    if not words or not words[0][0].isalpha():
        return False
    if words[0].lower() in _NOT_STREET_NAMES:
        return False
    if street_type.lower() in _STREET_SPECIFIC:
        return True
    for word in words:
        lowered = word.lower()
        if lowered in _ARTICLES:
            continue
        if lowered.startswith(("d'", "l'")):
            word = word[2:]
        return _capitalised(word)
    return False


# "80000 amiens": a postcode and a town typed in lower case. Counts and amounts
# ("75000 euros", "12000 personnes") are told apart by the word that follows.
_POSTCODE_LOWER_TOWN = re.compile(
    r"([0-9](?<![\w.,/*°+-][0-9])(?<![0-9]:[0-9])(?<![0-9] [0-9])[0-9]{4}) (?:cedex )?"
    r"(?P<town>[a-zà-ÿ][a-zà-ÿ'-]{2,})(?! ?[0-9])"
)
_NOT_LOWER_TOWNS = frozenset(
    {
        "euros", "euro", "eur", "personnes", "dossiers", "allocataires", "usagers", "habitants",
        "visites", "appels", "demandes", "contacts", "courriers", "pages", "connexions",
        "comptes", "agents", "mails", "messages", "heures", "minutes", "jours", "mois", "ans",
        "km", "exemplaires", "documents", "pièces", "pieces", "prestations", "paiements",
        "versements", "téléprocédures", "sessions", "utilisateurs", "inscrits", "clics", "vues",
        "octets", "fois", "foyers", "familles", "bénéficiaires", "beneficiaires", "enfants",
        "jeunes", "élèves", "places", "lits", "logements", "mètres", "metres", "kilomètres",
        "kms", "points", "litres", "tonnes", "dont", "sur", "par", "pour", "avec", "sans",
        "dans", "chez", "et", "ou", "en", "au", "aux", "de", "du", "des", "les", "la", "le",
        "à", "est", "sont", "a", "ont", "environ", "caractères", "lignes", "fiches", "impressions",
        "copies", "photocopies", "attestations", "formulaires", "ménages", "menages", "aides",
        "accompagnements", "passages", "rendez-vous", "rdv", "ateliers", "signalements",
        "réponses", "reponses", "questionnaires", "votes", "voix", "ko", "mo", "go", "habitant",
        "salariés", "salaries", "emplois", "entreprises", "structures", "communes", "sites",
        "bornes", "postes", "ordinateurs", "tablettes", "cartes", "courriels", "sms",
        "notifications",
        "ha", "hectares", "cts", "centimes", "francs", "dollars", "mais", "donc", "car", "ni",
        "qui", "que", "quand", "si", "puis", "depuis", "avant", "après", "apres", "alors", "il",
        "elle", "ils", "elles", "on", "je", "nous", "vous", "ce", "cette", "ces", "son", "sa",
        "ses", "leur", "leurs", "mon", "ma", "mes", "un", "une", "pas", "plus", "moins", "très",
        "tres", "aussi", "même", "meme", "ne", "n'est", "c'est", "qu'il", "qu'elle",
        "n'a", "y", "se", "sera", "était", "etait", "fait", "reste", "restent", "restants",
        "compte", "code", "clé", "cle", "guichet", "banque", "réf", "ref",
    }
)  # fmt: skip
_COUNT_BEFORE = re.compile(
    r"(?:plus de|moins de|environ|près de|pres de|sur|les|des|total|quelque|soit|dont|avec"
    r"|pour|par|de|à peu près|jusqu'à|jusqu'a|objectif|budget|montant|somme|guichet|banque"
    r"|code|compte) $",
    re.IGNORECASE,
)
# "résidence Les Tilleuls bât B appt 12": a flat next to its building. One mark alone
# ("bâtiment B, 2e étage", "la résidence") is not an address; a flat with its building is.
_MARK_VALUE = r"(?![\w])\.?(?: ?n ?°)? ?:? ?(?:[A-Z0-9][\w'-]*|[0-9]{1,4}(?:e|er|ème)?)"
_FLAT_MARK = re.compile(
    r"(?<![\w])(?:appt|apt|app|appart(?:ement)?|logement|log)" + _MARK_VALUE, re.IGNORECASE
)
_BUILDING_MARK = re.compile(
    r"(?<![\w])(?:b[âa]t(?:iment)?|esc(?:alier)?|r[ée]sidence|r[ée]s|cit[ée]|immeuble|tour"
    r"|hlm|entr[ée]e|porte|[ée]tage)" + _MARK_VALUE,
    re.IGNORECASE,
)


def _find_dwellings(text: str) -> list[tuple[int, int]]:
    buildings = (
        [m.span() for m in _BUILDING_MARK.finditer(text)]
        if "pp" in text.lower() or "log" in text.lower()
        else []
    )
    found: list[tuple[int, int]] = []
    for m in _FLAT_MARK.finditer(text) if buildings else ():
        start, end = m.span()
        near = [b for b in buildings if b[1] >= start - 60 and b[0] <= end + 60]
        if near:
            found.append((min(start, near[0][0]), max(end, near[-1][1])))
    return found


def _find_addresses(text: str) -> list[tuple[int, int]]:
    found = [
        m.span()
        for m in _ADDRESS.finditer(text)
        if _street_name_ok(m.group("type"), m.group("rest"))
    ]
    found += _find_dwellings(text)
    for m in _POSTCODE_LOWER_TOWN.finditer(text):
        code = m.group(1)
        if not ("01" <= code[:2] <= "95" or code[:2] in ("97", "98")):
            continue
        if m.group("town") in _NOT_LOWER_TOWNS or _COUNT_AFTER.match(text, m.end(1)):
            continue
        if _COUNT_BEFORE.search(text, max(0, m.start() - 20), m.start()):
            continue
        if _POSTCODE_BLOCKING.search(text, max(0, m.start() - 25), m.start()):
            continue
        found.append(m.span())
    for m in _POSTCODE_TOWN.finditer(text):
        code = m.group(1)
        if not ("01" <= code[:2] <= "95" or code[:2] in ("97", "98")):
            continue
        town = m.group("town").upper()
        if town in _NOT_TOWNS:
            continue
        if town in _TOWN_ARTICLES and not _capitalised((m.group("next") or " ").strip()):
            continue
        if _POSTCODE_BLOCKING.search(text, max(0, m.start() - 25), m.start()):
            continue
        found.append(m.span())
    return found


# --------------------------------------------------------------------------
# Dates of birth and a person's name
# --------------------------------------------------------------------------

_MONTHS = (
    r"(?:janvier|janv|f[ée]vrier|f[ée]vr|f[ée]v|mars|avril|avr|mai|juin|juillet|juil|ao[ûu]t"
    r"|septembre|sept|octobre|oct|novembre|nov|d[ée]cembre|d[ée]c)"
)
_DATE = (
    r"(?:[0-9]{1,2} ?[/.\-] ?[0-9]{1,2} ?[/.\-] ?(?:19|20)?[0-9]{2}(?![0-9])"
    r"|[0-9]{1,2}(?:er)? " + _MONTHS + r"\.?(?: (?:19|20)[0-9]{2})?(?![0-9])"
    r"|[0-9]{2}(?:0[1-9]|1[0-2])(?:19|20)[0-9]{2}(?![0-9]))"
)
# Born in a month ("née en 03/1990"): only after a birth word.
_MONTH_YEAR = r"(?:0?[1-9]|1[0-2]) ?[/.\-] ?(?:19|20)[0-9]{2}(?![0-9])"
_BIRTH_WORD = (
    r"(?<![\w])(?:n[ée]e?s?(?: ?\(e\)|\.e)?|date de naissance|date de naiss\.?|ddn|d\.d\.n\.?"
    r"|naissance)(?![\w])"
)
# "né le 12/03/1985", "née le 3 mars 1985", "date de naissance : 12.03.85", "DDN 12031985".
_BIRTH_DATE = re.compile(
    _BIRTH_WORD + r"[ ,:\-]{0,3}(?:(?:le|du|en|au|:) ?)?(?:" + _DATE + "|" + _MONTH_YEAR + ")",
    re.IGNORECASE,
)
_BIRTH_WORD_ONLY = re.compile(r"(?<![\w])n[ée]e?(?: ?\(e\))? le(?![\w])", re.IGNORECASE)
_PERSON = re.compile(_CIVIL_NAME)
# A civility and a name followed by a date of an adult's birth ("Mme Dupont Marie, 12/03/1985").
_NAME_THEN_OLD_DATE = re.compile(
    _CIVIL_NAME + r"[ ,:(\-]{1,4}(?:[0-9]{1,2} ?[/.\-] ?[0-9]{1,2} ?[/.\-] ?"
    r"(?:19[0-9]{2}|200[0-9]|201[0-2])|[0-9]{1,2}(?:er)? " + _MONTHS + r"\.? "
    r"(?:19[0-9]{2}|200[0-9]|201[0-2]))(?![0-9])"
)
_HAS_BIRTH_HINT = re.compile(r"n[ée]|naiss|ddn|d\.d\.n|[0-9]", re.IGNORECASE)


def _find_births(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Dates of birth, and the civility-and-name spans found next to one (or to « né le »)."""
    births = _spans(_BIRTH_DATE, text)
    births += [m.span() for m in _NAME_THEN_OLD_DATE.finditer(text)]
    anchors = births + _spans(_BIRTH_WORD_ONLY, text)
    names = [
        span
        for span in (_spans(_PERSON, text) if anchors else [])
        if any(a[0] - 60 <= span[1] and span[0] <= a[1] + 40 for a in anchors)
    ]
    return births, names


# --------------------------------------------------------------------------
# Credentials
# --------------------------------------------------------------------------

_CREDENTIAL_WORD = re.compile(
    r"(?<![\w])(?:mots? de passe|mdp|password|passwd|pwd|identifiant|login|code d'acc[èe]s"
    r"|code secret|code confidentiel|code pin|code personnel|mot-de-passe)(?![\w])",
    re.IGNORECASE,
)
_CODE_WORD = re.compile(r"^code", re.IGNORECASE)
_TOKEN = re.compile(r"[^\s«»\"“”()\[\],;]+")
_STRIP = ".:'’"
_NOT_SECRET = re.compile(
    r"[0-9]{1,2}(?:[/.:h\-][0-9]{1,4})+|[0-9]+(?:h|min|mn|e|er|ème|eme|%|€|ans|j|x|fois)"
    r"|[0-9]+(?:[.,][0-9]+)?|v?[0-9.]+|[0-9]+[a-z]{1,3}|[a-z]{1,3}[0-9]{1,2}",
    re.IGNORECASE,
)
_SPECIAL = frozenset("!?#$%&*+=@")
_INTRODUCES = re.compile(r"(?:[:=]|\best\b|c'est|\bsera\b|\bétait\b)\s*$", re.IGNORECASE)


def _secret_like(token: str, after_colon: bool, code: bool) -> bool:
    """A password or login as people type them: letters with digits, or a special sign."""
    if len(token) < 4 or len(token) > 40:
        return False
    if token.isdigit():
        return (code or after_colon) and 4 <= len(token) <= 8
    if _NOT_SECRET.fullmatch(token):
        return False
    has_alpha = any(c.isalpha() for c in token)
    has_digit = any(c.isdigit() for c in token)
    if has_alpha and has_digit:
        return True
    if has_alpha and any(c in _SPECIAL for c in token):
        return True
    # "identifiant : jean.dupont" (not a web address such as caf.fr).
    parts = token.split(".")
    return (
        after_colon
        and len(parts) == 2
        and all(p.isalpha() and len(p) >= 2 for p in parts)
        and parts[1].lower() not in _COMMON_TLDS
    )


def _find_credentials(text: str) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for word in _CREDENTIAL_WORD.finditer(text):
        code = bool(_CODE_WORD.match(word.group()))
        line_end = text.find("\n", word.end())
        hi = min(len(text), word.end() + 50, line_end if line_end != -1 else len(text))
        for token in _TOKEN.finditer(text, word.end(), hi):
            value = token.group().rstrip(_STRIP).lstrip(_STRIP)
            after_colon = bool(_INTRODUCES.search(text, word.end(), token.start()))
            if _secret_like(value, after_colon, code):
                found.append((word.start(), token.end()))
                break
        else:
            line_start = text.rfind("\n", 0, word.start()) + 1
            lo = max(line_start, word.start() - 30)
            for token in _TOKEN.finditer(text, lo, word.start()):
                value = token.group().rstrip(_STRIP).lstrip(_STRIP)
                if not value.isdigit() and _secret_like(value, False, False):
                    found.append((token.start(), word.end()))
                    break
    return found


# --------------------------------------------------------------------------
# The screen
# --------------------------------------------------------------------------


def screen(text: str) -> ScreenResult:
    """Check a free text for identifiers of a person, before anything stores it."""
    t = _normalise(text)
    context = _Context(t)
    found: set[IdentifierKind] = set()

    def take(kind: IdentifierKind, spans: list[tuple[int, int]]) -> None:
        nonlocal t
        if spans:
            found.add(kind)
            t = _blank(t, spans)

    credentials = _find_credentials(t)  # an e-mail given as a login is both
    take(IdentifierKind.EMAIL, _find_emails(t, context))
    if credentials:  # not blanked: the value may also be a NIR, an IBAN…
        found.add(IdentifierKind.CREDENTIALS)
    if _HAS_BIRTH_HINT.search(t):
        births, names = _find_births(t)
        if names:  # not blanked: "Mme Dupont (1234567) née le …" is also a file number
            found.add(IdentifierKind.NAME)
        take(IdentifierKind.DATE_OF_BIRTH, births)
    if not _HAS_DIGIT.search(t):
        return ScreenResult(frozenset(found))

    take(IdentifierKind.IBAN, _find_ibans(t, context))

    nirs = _find_nirs(t)
    if nirs:
        vitale = context.spans(_VITALE_CONTEXT)
        if any(_near(vitale, s, e, 60, 30) for s, e in nirs):
            found.add(IdentifierKind.CARTE_VITALE)
        take(IdentifierKind.NIR, nirs)

    take(IdentifierKind.RIB, _find_ribs(t, context))

    runs = _long_runs(t, 12, 16, first="123478")
    if runs:  # a NIR with a typo, next to a social-security word
        social = context.spans(_SS_CONTEXT)
        take(IdentifierKind.NIR, _runs_near(runs, social))

    take(IdentifierKind.PHONE, _find_phones(t))

    runs = _long_runs(t, 12, 22, first="0123456789")
    if runs:  # the card's number or serial, however long
        vitale = context.spans(_VITALE_CONTEXT)
        take(IdentifierKind.CARTE_VITALE, _runs_near(runs, vitale))

    take(IdentifierKind.CAF_NUMBER, _find_caf_numbers(t))
    take(IdentifierKind.ADDRESS, _find_addresses(t))
    return ScreenResult(frozenset(found))


def _warm_up() -> None:
    """Load phone metadata and the IBAN registry now, so screen() does no file I/O."""
    PhoneMetadata.load_all()
    for region in _NATIONAL_REGIONS:
        _phone_valid("0612345678", region)
    _phone_valid("+32470123456", None)
    _iban_valid("FR7630006000011234567890189")
    _iban_valid("DE89370400440532013000")


_warm_up()
