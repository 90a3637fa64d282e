"""Every fuzzing test runs with the outbox drained at once (tests/fuzz/harness.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fuzz.harness import FAST_OUTBOX


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(FAST_OUTBOX)
