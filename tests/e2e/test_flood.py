"""One account cannot slow the others (issue #16, item 8): a stranger's flood is cut short
before any handler, an agent is answered meanwhile, and each person's own updates, however
fast they come, are handled in the order they were sent.

Updates are sent "at once" here: every update of a burst is queued at the fake Bot API
before the bot fetches any of them (`burst`), as a client that does not wait for the bot's
answers would. Speed is measured in benchmarks/flood.py, never here.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Iterable
from typing import Any

import pytest

from bot.domain.permissions import Role
from bot.sandbox.bot_api import FakeBotApi, FakeMessage, FakeUser
from bot.ui import callbacks
from bot.ui.callbacks import VisitStep
from storage import people
from tests.conftest import Network, RunningBot
from tests.e2e.test_visit import TYPICAL, visit_rows

WARNING = "⏳ Trop de messages en peu de temps : patientez quelques secondes."
NEW_VISIT = "📝 Nouvelle visite"
OTHER_VISIT = ["Homme", "< 25 ans", "Non allocataire", "Autonome", *TYPICAL[4:]]
STRANGER_BURST = 5


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # The defaults, except that a stranger's allowance does not come back during the test,
    # however slowly a loaded machine runs it: the counts below are exact.
    return {"flood_stranger_burst": STRANGER_BURST, "flood_stranger_seconds": 3600}


async def burst(sends: Iterable[Awaitable[Any]]) -> list[Any]:
    """Every update queued at the fake, in this order, before the bot fetches one; returns
    once the bot has handled (or dropped) them all."""
    tasks = [asyncio.ensure_future(send) for send in sends]
    return await asyncio.gather(*tasks)


def warnings(user: FakeUser) -> list[FakeMessage]:
    return [m for m in user.bot_messages if m.text == WARNING]


# ------------------------------------------------------------------------------ a flood
def hold_replies(fake: FakeBotApi, chat_id: int) -> asyncio.Event:
    """The fake Bot API keeps every sendMessage to `chat_id` waiting until the event is set:
    the bot is busy with that person's update meanwhile, as with a slow request."""
    release = asyncio.Event()
    name, send = fake._handlers["sendmessage"]

    async def held(params: dict[str, Any]) -> Any:
        if str(params.get("chat_id")) == str(chat_id):
            await release.wait()
        return await send(params)

    fake._handlers["sendmessage"] = (name, held)
    return release


async def test_a_stranger_flooding_is_warned_once_and_an_agent_is_answered_meanwhile(
    bot: RunningBot, network: Network, agent: FakeUser, fake: FakeBotApi
) -> None:
    robot = network.stranger("Robot")
    release = hold_replies(fake, robot.user_id)
    flood = [asyncio.ensure_future(robot.send(f"message {n}")) for n in range(150)]
    await asyncio.sleep(0)  # the 150 are queued at the fake: the agent's /aide comes after
    await agent.send("/aide")
    # Answered while the bot was still busy with the robot's first message.
    assert agent.last_message.text.startswith("Aide — l'assistant des Points numériques Caf")
    assert not robot.bot_messages and not any(task.done() for task in flood)
    release.set()
    await asyncio.gather(*flood)

    answers = [m.text for m in robot.bot_messages]
    # The first message is answered; the burst allowance answers five more sent ahead of
    # the answers; the seventh is dropped with the warning, the 143 others silently.
    assert answers[-1] == WARNING
    assert len(answers) == 1 + STRANGER_BURST + 1
    assert len(set(answers[:-1])) == 1  # each the bot's usual answer to a stranger's text
    # Nothing else reached Telegram for the robot: a dropped message costs no call.
    to_robot = [
        c
        for c in fake.calls_to("sendMessage")
        if str(c.params.get("chat_id")) == str(robot.user_id)
    ]
    assert len(to_robot) == len(answers)
    assert await people.member_by_telegram_id(network.db, robot.user_id) is None
    # The agent was never held back.
    assert not warnings(agent)


async def test_a_flood_of_taps_is_answered_tap_by_tap_and_changes_the_visit_once(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap(NEW_VISIT)
    screen = agent.last_message
    [femme] = [data for label, data in screen.inline_buttons[0] if label == "Femme"]
    before = len(agent.callback_answers)  # joining: « Je m'engage » (Article 5)
    await burst(agent.tap_data(femme, screen) for _ in range(40))
    # Every tap got its answer, so no spinner is left turning on the agent's phone.
    assert len(agent.callback_answers) - before == 40
    # One warning, after the first tap and the registered allowance (20 ahead).
    assert len(warnings(agent)) == 1
    assert "Âge" in screen.text  # the first tap moved the visit on; the others were stale
    answers = [a.get("text", "") for a in agent.callback_answers[before:]]
    assert answers.count("") >= 40 - 21  # dropped: answered with nothing
    # The agent goes on as usual: nothing of the flood is left in the way.
    for label in TYPICAL[1:]:
        await agent.tap(label, screen)
    assert "Visite enregistrée" in screen.text
    assert len(await visit_rows(network)) == 1


# ------------------------------------------------------------------------------ order
def data_of(message: FakeMessage, label: str) -> str:
    [data] = [data for row in message.inline_buttons for text, data in row if text == label]
    return data


async def recorded_visit(user: FakeUser, labels: list[str]) -> list[VisitStep]:
    """A visit logged as usual, screen by screen; the payload of each button tapped."""
    await user.tap(NEW_VISIT)
    steps = []
    for label in labels:
        screen = user.last_message
        steps.append(callbacks.decode(data_of(screen, label), expect=VisitStep))
        await user.tap(label, screen)
    assert "Visite enregistrée" in user.last_message.text
    return steps


async def blind_taps(user: FakeUser, steps: list[VisitStep]) -> tuple[FakeMessage, list[str]]:
    """A new visit, and the taps of `steps` as they will be on its screens: what a person
    tapping faster than the screens change would send (the revision moves one a tap)."""
    await user.tap(NEW_VISIT)
    screen = user.last_message
    first = callbacks.decode(screen.inline_buttons[0][0][1], expect=VisitStep)
    start = steps[0].revision
    return screen, [
        callbacks.encode(
            dataclasses.replace(
                step, draft=first.draft, revision=first.revision + step.revision - start
            )
        )
        for step in steps
    ]


async def answers_of(network: Network, user: FakeUser) -> list[tuple[object, ...]]:
    member = await people.member_by_telegram_id(network.db, user.user_id)
    assert member is not None
    return [
        (r["sexe"], r["age"], r["statut"], r["autonomie"], r["resolution"])
        for r in await visit_rows(network)
        if r["person_id"] == member.person.id
    ]


async def test_a_visit_tapped_faster_than_its_screens_saves_the_right_visit(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    steps = await recorded_visit(agent, TYPICAL)
    screen, taps = await blind_taps(agent, steps)
    await burst(agent.tap_data(data, screen) for data in taps)
    # In order, each tap found the screen it was meant for: none was stale.
    assert all("Déjà" not in a.get("text", "") for a in agent.callback_answers[-8:])
    assert "Visite enregistrée" in screen.text
    [first, second] = await answers_of(network, agent)
    assert first == second == ("femme", "25_60", "allocataire", "debutant", "oui")
    assert not warnings(agent)


async def test_two_people_tapping_at_once_each_get_their_own_visit(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    colleague = await network.join(Role.AGENT, first_name="Chloé")
    mine = await recorded_visit(agent, TYPICAL)
    theirs = await recorded_visit(colleague, OTHER_VISIT)
    my_screen, my_taps = await blind_taps(agent, mine)
    their_screen, their_taps = await blind_taps(colleague, theirs)
    # Interleaved: one of mine, one of theirs… all queued before the bot reads any.
    await burst(
        send
        for pair in zip(my_taps, their_taps, strict=True)
        for send in (agent.tap_data(pair[0], my_screen), colleague.tap_data(pair[1], their_screen))
    )
    assert "Visite enregistrée" in my_screen.text
    assert "Visite enregistrée" in their_screen.text
    assert (
        await answers_of(network, agent)
        == [("femme", "25_60", "allocataire", "debutant", "oui")] * 2
    )
    assert (
        await answers_of(network, colleague)
        == [("homme", "moins_25", "non_allocataire", "autonome", "oui")] * 2
    )


async def test_two_people_s_flows_step_by_step_at_the_same_time(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    """Each waits for their own screens, both at once: handled side by side, each in order."""
    colleague = await network.join(Role.AGENT, first_name="Chloé")

    async def visit(user: FakeUser, labels: list[str], times: int) -> None:
        for _ in range(times):
            await user.tap(NEW_VISIT)
            for label in labels:
                await user.tap(label)
            assert "Visite enregistrée" in user.last_message.text

    await asyncio.gather(visit(agent, TYPICAL, 3), visit(colleague, OTHER_VISIT, 3))
    assert (
        await answers_of(network, agent)
        == [("femme", "25_60", "allocataire", "debutant", "oui")] * 3
    )
    assert (
        await answers_of(network, colleague)
        == [("homme", "moins_25", "non_allocataire", "autonome", "oui")] * 3
    )
    assert not warnings(agent) and not warnings(colleague)
