"""The site's equipment list (Article 8): its items, a tap's effect, what counts as missing."""

from __future__ import annotations

from bot.domain.equipment import CODES, EQUIPMENT, missing, toggled


def test_the_list_names_what_articles_5_and_8_name() -> None:
    labels = " ".join(item.label for item in EQUIPMENT)
    for named in ("Poste informatique", "Internet", "Mini PCLS", "Scanner", "Documentation"):
        assert named in labels
    assert len(set(CODES)) == len(CODES)


def test_a_tap_marks_present_then_missing_then_present() -> None:
    assert toggled(None) is True and toggled(True) is False and toggled(False) is True


def test_only_items_told_missing_are_missing_in_the_list_s_order() -> None:
    told = {"printer": False, "computer": True, "scanner": False}
    assert missing(told) == ("scanner", "printer")
    assert missing({}) == ()
