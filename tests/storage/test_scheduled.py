"""Contract of storage/scheduled.py: work stored as due rows, through its functions only.

One row per key whatever happens to it, claims that never hand a job out twice, failures
retried or given up, and a crash's running rows put back.
"""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from storage import scheduled
from storage.db import Database


async def add(db: Database, clock: ManualClock, key: str, in_minutes: int = 0) -> bool:
    return await scheduled.schedule(
        db,
        kind="reminder",
        key=key,
        due_at=clock.now() + timedelta(minutes=in_minutes),
        payload={"event": 7, "texte": "réunion"},
        now=clock.now(),
    )


async def test_a_key_is_scheduled_once_and_keeps_its_payload(
    db: Database, clock: ManualClock
) -> None:
    assert await add(db, clock, "r:1")
    assert not await add(db, clock, "r:1", in_minutes=30)
    job = await scheduled.get(db, "r:1")
    assert job is not None
    assert (job.kind, job.status, job.attempts, job.due_at) == (
        "reminder",
        "pending",
        0,
        clock.now(),
    )
    assert job.payload == {"event": 7, "texte": "réunion"}
    assert await scheduled.get(db, "r:2") is None


async def test_due_jobs_are_claimed_soonest_first_and_once(
    db: Database, clock: ManualClock
) -> None:
    await add(db, clock, "later", in_minutes=10)
    await add(db, clock, "second", in_minutes=-1)
    await add(db, clock, "first", in_minutes=-5)
    await add(db, clock, "third", in_minutes=0)

    claimed = await scheduled.claim_due(db, clock.now(), 2)
    assert [job.key for job in claimed] == ["first", "second"]
    assert all(job.status == "running" for job in claimed)
    assert [job.key for job in await scheduled.claim_due(db, clock.now(), 10)] == ["third"]
    assert await scheduled.claim_due(db, clock.now(), 10) == []
    assert [job.key for job in await scheduled.pending(db)] == ["later"]
    assert [job.key for job in await scheduled.pending(db, kind="other")] == []


async def test_a_finished_job_is_done_and_finishing_twice_is_refused(
    db: Database, clock: ManualClock
) -> None:
    await add(db, clock, "r:1")
    [job] = await scheduled.claim_due(db, clock.now(), 10)
    assert await scheduled.finish(db, job.id, clock.now())
    assert not await scheduled.finish(db, job.id, clock.now())
    done = await scheduled.get(db, "r:1")
    assert done is not None and (done.status, done.done_at) == ("done", clock.now())
    assert not await add(db, clock, "r:1")  # its key stays taken


async def test_a_failure_is_retried_later_or_given_up(db: Database, clock: ManualClock) -> None:
    await add(db, clock, "r:1")
    [job] = await scheduled.claim_due(db, clock.now(), 10)
    retry_at = clock.now() + timedelta(minutes=5)
    assert await scheduled.fail(db, job.id, "TimeoutError", clock.now(), retry_at)
    assert await scheduled.claim_due(db, clock.now(), 10) == []
    clock.advance(minutes=5)
    [again] = await scheduled.claim_due(db, clock.now(), 10)
    assert (again.attempts, again.last_error) == (1, "TimeoutError")
    assert await scheduled.fail(db, again.id, "site withdrawn", clock.now(), None)
    failed = await scheduled.get(db, "r:1")
    assert failed is not None and (failed.status, failed.attempts) == ("failed", 2)
    assert not await scheduled.fail(db, again.id, "x", clock.now(), None)  # not running


async def test_a_pending_job_can_be_moved_or_cancelled_a_finished_one_cannot(
    db: Database, clock: ManualClock
) -> None:
    later = clock.now() + timedelta(hours=2)
    assert await scheduled.reschedule(db, kind="reminder", key="r:1", due_at=later, now=clock.now())
    sooner = clock.now() + timedelta(hours=1)
    assert await scheduled.reschedule(
        db, kind="reminder", key="r:1", due_at=sooner, now=clock.now()
    )
    job = await scheduled.get(db, "r:1")
    assert job is not None and job.due_at == sooner
    assert await scheduled.cancel(db, "r:1", clock.now())
    assert not await scheduled.cancel(db, "r:1", clock.now())
    assert await scheduled.pending(db) == []
    # Cancelled work is not revived by a later reschedule.
    assert not await scheduled.reschedule(
        db, kind="reminder", key="r:1", due_at=sooner, now=clock.now()
    )


async def test_rearmed_work_is_pending_at_its_new_time_whatever_became_of_it(
    db: Database, clock: ManualClock
) -> None:
    async def rearm(key: str, hours: int, payload: int) -> None:
        await scheduled.rearm(
            db,
            kind="send",
            key=key,
            due_at=clock.now() + timedelta(hours=hours),
            payload={"n": payload},
            now=clock.now(),
        )

    await rearm("s:1", 1, 1)
    await rearm("s:1", 2, 2)  # moved while pending
    assert [(j.key, j.due_at, j.payload) for j in await scheduled.pending(db)] == [
        ("s:1", clock.now() + timedelta(hours=2), {"n": 2})
    ]
    # Cancelled, then armed again: pending at the new time.
    assert await scheduled.cancel(db, "s:1", clock.now())
    await rearm("s:1", 3, 3)
    job = await scheduled.get(db, "s:1")
    assert job is not None
    assert (job.status, job.due_at, job.done_at) == (
        "pending",
        clock.now() + timedelta(hours=3),
        None,
    )
    # Run (as a no-op, say), failed on the way: armed again, from scratch.
    clock.advance(timedelta(hours=3))
    [claimed] = await scheduled.claim_due(db, clock.now(), 10)
    await scheduled.fail(db, claimed.id, "TimeoutError", clock.now(), clock.now())
    [claimed] = await scheduled.claim_due(db, clock.now(), 10)
    assert await scheduled.finish(db, claimed.id, clock.now())
    await rearm("s:1", 24, 4)
    job = await scheduled.get(db, "s:1")
    assert job is not None
    assert (job.status, job.attempts, job.last_error, job.payload) == ("pending", 0, None, {"n": 4})
    # Armed again while it runs: the run's end leaves it pending at its new time.
    clock.advance(timedelta(hours=24))
    [claimed] = await scheduled.claim_due(db, clock.now(), 10)
    await rearm("s:1", 1, 5)
    assert not await scheduled.finish(db, claimed.id, clock.now())
    assert [j.due_at for j in await scheduled.pending(db)] == [clock.now() + timedelta(hours=1)]


async def test_jobs_running_at_a_crash_are_put_back(db: Database, clock: ManualClock) -> None:
    for key in ("a", "b"):
        await add(db, clock, key)
    await scheduled.claim_due(db, clock.now(), 10)
    assert await scheduled.recover_running(db, clock.now()) == 2
    assert {job.key for job in await scheduled.claim_due(db, clock.now(), 10)} == {"a", "b"}


async def test_done_rows_of_one_kind_are_forgotten_once_old_enough(
    db: Database, clock: ManualClock
) -> None:
    await add(db, clock, "old")
    await scheduled.schedule(
        db, kind="morning", key="morning:old", due_at=clock.now(), now=clock.now()
    )
    await scheduled.schedule(
        db, kind="morning", key="morning:pending", due_at=clock.now(), now=clock.now()
    )
    for job in await scheduled.claim_due(db, clock.now(), 10):
        if job.key != "morning:pending":
            assert await scheduled.finish(db, job.id, clock.now())
    clock.advance(days=8)
    await scheduled.purge_done(db, "morning", clock.now() - timedelta(days=7))
    assert await scheduled.get(db, "morning:old") is None
    assert await scheduled.get(db, "old") is not None  # another kind: its key stays taken
    assert await scheduled.get(db, "morning:pending") is not None  # claimed, never done
