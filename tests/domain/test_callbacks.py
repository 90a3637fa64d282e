"""Property tests for the callback-data codec (bot/ui/callbacks.py).

Telegram hands callback data back as the client sends it, so the codec must accept exactly the
strings `encode` produces: valid payloads round-trip within 64 ASCII bytes, and any other text
is rejected with BadCallback.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, ClassVar, get_type_hints

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.ui import callbacks
from bot.ui.callbacks import (
    BadCallback,
    BroadcastTap,
    Callback,
    ComplianceTap,
    DocTap,
    EventTap,
    HoursTap,
    InboxTap,
    IndicatorTap,
    MenuTap,
    NetworkTap,
    PersonalDataTap,
    ReadTap,
    ReviewTap,
    RsvpTap,
    SavedVisit,
    SignalTap,
    TransmitTap,
    VisitStep,
)

MAX_INT = 10**12 - 1
CODE_RE = re.compile(r"[a-z0-9_]{1,24}")
CLASSES: list[type[Callback]] = sorted(callbacks.prefixes().values(), key=lambda c: c.PREFIX)

ints = st.integers(min_value=0, max_value=MAX_INT)
small_ints = st.integers(min_value=0, max_value=10**6)
codes = st.from_regex(CODE_RE, fullmatch=True)
short_codes = st.from_regex(r"[a-z0-9_]{1,12}", fullmatch=True)


def field_kinds(cls: type[Callback]) -> list[tuple[str, type]]:
    hints = get_type_hints(cls)
    return [(field.name, hints[field.name]) for field in dataclasses.fields(cls)]


def payloads(
    int_values: st.SearchStrategy[int] = ints, code_values: st.SearchStrategy[str] = codes
) -> st.SearchStrategy[Callback]:
    def build(cls: type[Callback]) -> st.SearchStrategy[Callback]:
        kwargs = {
            name: int_values if kind is int else code_values for name, kind in field_kinds(cls)
        }
        return st.builds(cls, **kwargs)

    return st.sampled_from(CLASSES).flatmap(build)


def wire(payload: Callback) -> str:
    """The wire form, written from the module's docstring: `prefix:field:field…`."""
    values = [str(getattr(payload, name)) for name, _ in field_kinds(type(payload))]
    return ":".join([type(payload).PREFIX, *values])


def test_the_registry_holds_every_payload_kind_under_distinct_prefixes() -> None:
    assert callbacks.prefixes() == {
        "v": VisitStep,
        "sv": SavedVisit,
        "m": MenuTap,
        "n": NetworkTap,
        "sg": SignalTap,
        "h": HoursTap,
        "hs": callbacks.SiteHoursTap,
        "ib": InboxTap,
        "d": DocTap,
        "b": BroadcastTap,
        "rd": ReadTap,
        "e": EventTap,
        "r": RsvpTap,
        "ix": IndicatorTap,
        "tr": TransmitTap,
        "cf": ComplianceTap,
        "yv": ReviewTap,
        "pd": PersonalDataTap,
        "nw": callbacks.NewsTap,
        "mv": callbacks.MyVisitsTap,
        "ws": callbacks.WorkSiteTap,
        "cs": callbacks.CafSettingsTap,
        "lk": callbacks.LinkTap,
        "sec": callbacks.SecrecyTap,
        "dn": callbacks.TerminationTap,
        "fm": callbacks.FormationTap,
        "eq": callbacks.EquipmentTap,
    }
    for cls in CLASSES:
        assert all(kind in (int, str) for _, kind in field_kinds(cls))


# ------------------------------------------------------------------------------ round trip


@given(payloads())
def test_a_valid_payload_encodes_to_its_wire_form_or_is_refused_when_over_64_bytes(
    payload: Callback,
) -> None:
    expected = wire(payload)
    if len(expected.encode("ascii")) > 64:
        with pytest.raises(ValueError):
            callbacks.encode(payload)
        return
    data = callbacks.encode(payload)
    assert data == expected
    assert data.isascii()
    assert len(data.encode("ascii")) <= 64
    assert callbacks.decode(data) == payload
    assert callbacks.decode(data, expect=type(payload)) == payload


@given(payloads(small_ints, short_codes))
def test_payloads_of_realistic_size_always_fit_and_decode_to_an_equal_object(
    payload: Callback,
) -> None:
    data = callbacks.encode(payload)
    assert len(data.encode("ascii")) <= 64
    decoded = callbacks.decode(data)
    assert decoded == payload
    assert type(decoded) is type(payload)


def test_the_largest_ids_with_realistic_codes_still_fit() -> None:
    payload = VisitStep(MAX_INT, MAX_INT, "same", "courriers_notifications")
    data = callbacks.encode(payload)
    assert len(data) <= 64
    assert callbacks.decode(data) == payload


# ------------------------------------------------------------------------------ canonical only

# Text that looks like callback data: known and unknown prefixes, fields drawn from digits,
# code characters and near-misses. The newline is left out here: it is the subject of the
# xfail tests below (a bug in the codec).
NEAR_ALPHABET = "0123456789abvxz_:-+. AZé\t\x00"
near_misses = st.builds(
    lambda prefix, parts: ":".join([prefix, *parts]),
    st.sampled_from([*callbacks.prefixes(), "", "x", "V", "vv", "sv1"]),
    st.lists(st.text(alphabet=NEAR_ALPHABET, max_size=14), max_size=6),
)
mutated = (
    payloads()
    .map(wire)
    .flatmap(
        lambda s: st.tuples(st.just(s), st.integers(0, len(s)), st.text(NEAR_ALPHABET, max_size=3))
    )
    .map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :])
)
arbitrary_text = st.one_of(
    st.text().filter(lambda s: "\n" not in s), near_misses, mutated, payloads().map(wire)
)


def _well_formed(payload: Any) -> bool:
    for name, kind in field_kinds(type(payload)):
        value = getattr(payload, name)
        if kind is int:
            if not (type(value) is int and 0 <= value <= MAX_INT):
                return False
        elif not (type(value) is str and CODE_RE.fullmatch(value)):
            return False
    return True


@given(arbitrary_text)
@example("v:01:0:a:x")
@example("sv:0:edit")
@example("m:visit")
def test_decode_either_rejects_text_or_returns_the_payload_it_is_the_canonical_form_of(
    text: str,
) -> None:
    try:
        payload = callbacks.decode(text)
    except BadCallback:
        return
    assert isinstance(payload, Callback)
    assert _well_formed(payload)
    assert callbacks.encode(payload) == text


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("v:01:0:a:x", id="leading zero"),
        pytest.param("v:1:00:a:x", id="zero written twice"),
        pytest.param("v:-1:0:a:x", id="negative integer"),
        pytest.param("v:+1:0:a:x", id="explicit plus sign"),
        pytest.param("v: 1:0:a:x", id="space before an integer"),
        pytest.param("v:1.0:0:a:x", id="decimal point"),
        pytest.param("v:1000000000000:0:a:x", id="integer over 10**12-1"),
        pytest.param("v::0:a:x", id="empty integer field"),
        pytest.param("v:1:0::x", id="empty code field"),
        pytest.param("v:1:0:a:", id="empty last field"),
        pytest.param("v:1:0:A:x", id="upper-case code"),
        pytest.param("v:1:0:a-b:x", id="dash in a code"),
        pytest.param("v:1:0:a:" + "x" * 25, id="code over 24 characters"),
        pytest.param("v:1:0:a:x:y", id="extra field"),
        pytest.param("v:1:0:a", id="missing field"),
        pytest.param("v", id="prefix alone"),
        pytest.param("sv:1", id="saved visit without op"),
        pytest.param("m:visit:x", id="menu tap with an extra field"),
        pytest.param("zz:1", id="unknown prefix"),
        pytest.param("V:1:0:a:x", id="upper-case prefix"),
        pytest.param(" m:visit", id="leading space"),
        pytest.param("m:visit ", id="trailing space"),
        pytest.param("", id="empty"),
        pytest.param(":", id="colon alone"),
        pytest.param("m:visité", id="non-ASCII code"),
        pytest.param("v:1:0:a:é", id="non-ASCII value"),
        pytest.param("v:١:0:a:x", id="arabic-indic digit"),
        pytest.param(
            "v:999999999999:999999999999:" + "a" * 24 + ":" + "b" * 24, id="over 64 bytes"
        ),
    ],
)
def test_decode_rejects_malformed_text(text: str) -> None:
    with pytest.raises(BadCallback):
        callbacks.decode(text)


@pytest.mark.parametrize("data", [None, b"m:visit", 5, ["m", "visit"]], ids=repr)
def test_decode_rejects_anything_that_is_not_a_string(data: object) -> None:
    with pytest.raises(BadCallback):
        callbacks.decode(data)


def test_decode_rejects_a_payload_of_another_kind_than_expected() -> None:
    with pytest.raises(BadCallback):
        callbacks.decode("m:visit", expect=VisitStep)
    with pytest.raises(BadCallback):
        callbacks.decode("m:visit", expect=(VisitStep, SavedVisit))
    assert callbacks.decode("m:visit", expect=(VisitStep, MenuTap)) == MenuTap("visit")
    assert callbacks.decode("sv:7:undo", expect=SavedVisit) == SavedVisit(7, "undo")


def test_decode_rejects_an_integer_field_with_a_trailing_newline() -> None:
    with pytest.raises(BadCallback):
        callbacks.decode("sv:5\n:edit")


def test_decode_rejects_a_code_field_with_a_trailing_newline() -> None:
    with pytest.raises(BadCallback):
        callbacks.decode("m:visit\n")


# ------------------------------------------------------------------------------ encode refusals


@given(st.one_of(st.integers(max_value=-1), st.integers(min_value=MAX_INT + 1)))
def test_encode_refuses_integers_out_of_range(value: int) -> None:
    with pytest.raises(ValueError):
        callbacks.encode(SavedVisit(value, "edit"))


@pytest.mark.parametrize("value", [True, False, 1.0, "1", None], ids=repr)
def test_encode_refuses_non_integers_in_an_integer_field(value: Any) -> None:
    with pytest.raises(ValueError):
        callbacks.encode(VisitStep(value, 0, "a", "x"))
    with pytest.raises(ValueError):
        callbacks.encode(VisitStep(0, value, "a", "x"))


@given(st.text().filter(lambda s: not CODE_RE.fullmatch(s) and "\n" not in s))
@example("")
@example("A")
@example("a:b")
@example("a" * 25)
@example("é")
def test_encode_refuses_strings_that_are_not_codes(value: str) -> None:
    with pytest.raises(ValueError):
        callbacks.encode(MenuTap(value))
    with pytest.raises(ValueError):
        callbacks.encode(VisitStep(1, 1, "a", value))


@pytest.mark.parametrize("value", [5, None, b"visit"], ids=repr)
def test_encode_refuses_non_strings_in_a_code_field(value: Any) -> None:
    with pytest.raises(ValueError):
        callbacks.encode(MenuTap(value))


def test_encode_refuses_a_code_with_a_trailing_newline() -> None:
    with pytest.raises(ValueError):
        callbacks.encode(MenuTap("visit\n"))


def test_encode_refuses_a_payload_over_64_bytes() -> None:
    with pytest.raises(ValueError, match="too long"):
        callbacks.encode(VisitStep(MAX_INT, MAX_INT, "a" * 24, "b" * 24))


def test_encode_refuses_an_unregistered_payload_class() -> None:
    @dataclasses.dataclass(frozen=True)
    class Unregistered(Callback):
        PREFIX: ClassVar[str] = "u"
        n: int

    with pytest.raises(TypeError):
        callbacks.encode(Unregistered(1))


def test_register_refuses_a_duplicate_or_malformed_prefix_and_non_int_str_fields() -> None:
    before = callbacks.prefixes()

    @dataclasses.dataclass(frozen=True)
    class Duplicate(Callback):
        PREFIX: ClassVar[str] = "v"
        n: int

    @dataclasses.dataclass(frozen=True)
    class BadPrefix(Callback):
        PREFIX: ClassVar[str] = "V1"
        n: int

    @dataclasses.dataclass(frozen=True)
    class FloatField(Callback):
        PREFIX: ClassVar[str] = "zzf"
        x: float

    with pytest.raises(ValueError):
        callbacks.register(Duplicate)
    with pytest.raises(ValueError):
        callbacks.register(BadPrefix)
    with pytest.raises(TypeError):
        callbacks.register(FloatField)
    assert callbacks.prefixes() == before
