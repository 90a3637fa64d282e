"""Fuzzing (issue #8, item 4; the harness is tests/fuzz/harness.py): hypothesis drives the
real Application, in process, against the fake Bot API, and at every step of every flow sends
what no button offers — arbitrary text (control characters, RTL marks, markup, 5,000
characters), commands (for another bot, unknown, with odd arguments), callback data (random
bytes, truncated or padded fields, integers at the codec's bounds, ids of other people's
objects, operations that do not exist), files.

After each input: no handler raised (the harness's error handler records every exception), the
person got an answer (a callback answer, or a message sent, edited or deleted in their chat),
and after each example nothing changed in the database outside what that person may change
(their Caf's other sites, the other Caf, other people's rows, audit entries not theirs…).

tests/fuzz/test_markup.py puts markup-laden values into every field people type — display
names, site name, city and address, signal descriptions and answers, closure notes, inbox
replies, label reasons, news, event titles and places, document titles, yearly-visit remarks
and actions — and
reads every message the bot sent to anyone (the Caf's group included): the markup always
arrives escaped, in HTML parse mode, and never as literal entities in plain-text places.

How it runs: the Application and the fake live on the test's event loop; hypothesis runs in a
worker thread (`asyncio.to_thread`) and hands each action to the loop
(`run_coroutine_threadsafe`), so the bot keeps serving while hypothesis draws, shrinks and
reports. Budgets: `EXAMPLES` per flow in the default suite (derandomized: the same examples
on every run), `SOAK_EXAMPLES` with `--soak` (random, fresh examples every run).
"""

from __future__ import annotations

import asyncio

import pytest

from bot.sandbox.bot_api import FakeBotApi
from tests.conftest import Network, RunningBot
from tests.e2e.test_notifications import outbox_settled
from tests.fuzz.harness import (
    EXAMPLES,
    FLOWS,
    MAX_INPUTS,
    SOAK_EXAMPLES,
    SOAK_MAX_INPUTS,
    Flow,
    build_world,
    fuzz,
    outbox_clean,
)


async def _fuzz_flow(
    bot: RunningBot, network: Network, fake: FakeBotApi, flow: Flow, *, soak: bool
) -> None:
    world = await build_world(bot, network, fake)
    if soak:
        test = fuzz(world, flow, examples=SOAK_EXAMPLES, inputs=SOAK_MAX_INPUTS, soak=True)
    else:
        test = fuzz(world, flow, examples=EXAMPLES, inputs=MAX_INPUTS, soak=False)
    await asyncio.to_thread(test)
    await outbox_settled(network)
    await outbox_clean(world)


@pytest.mark.parametrize("flow", FLOWS, ids=[flow.name for flow in FLOWS])
async def test_fuzzed_input_at_every_step_is_answered_and_changes_only_what_is_theirs(
    bot: RunningBot, network: Network, fake: FakeBotApi, flow: Flow
) -> None:
    await _fuzz_flow(bot, network, fake, flow, soak=False)


@pytest.mark.soak
@pytest.mark.parametrize("flow", FLOWS, ids=[flow.name for flow in FLOWS])
async def test_soak_fuzzing(
    bot: RunningBot, network: Network, fake: FakeBotApi, flow: Flow
) -> None:
    await _fuzz_flow(bot, network, fake, flow, soak=True)


async def test_every_step_of_every_flow_is_reached(
    bot: RunningBot, network: Network, fake: FakeBotApi
) -> None:
    """The fuzzing starts where it says it does: each path leads to its step."""
    world = await build_world(bot, network, fake)
    for flow in FLOWS:
        for name, reach in flow.steps.items():
            try:
                await reach(world)
            except AssertionError as error:
                raise AssertionError(f"{flow.name}/{name}: {error}") from None
            assert not bot.errors, (flow.name, name, bot.errors)
