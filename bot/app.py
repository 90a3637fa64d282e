"""Builds the telegram.ext.Application: handlers, error handler, rate limiter, services.

All wiring lives here. `post_init` opens the database when the bot is started by
`run_polling`/`run_webhook`; tests and benchmarks open it themselves and pass it in.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from typing import Any

from telegram import BotCommand, Update
from telegram.error import BadRequest
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import BotApp, Ctx, Services
from bot.jobs import (
    directory_publish,
    event_reminders,
    hours_effective,
    housekeeping,
    morning,
    new_agents,
    scheduled_broadcasts,
)
from bot.jobs import termination as termination_job
from bot.jobs.broadcast_progress import BroadcastProgress
from bot.jobs.leadership import Leadership, default_name
from bot.jobs.outbox_sender import OutboxSender
from bot.jobs.scheduler import JOB_NAME as SCHEDULER_JOB
from bot.jobs.scheduler import Scheduler
from bot.processing import AccountGate, TimedUpdateProcessor
from bot.shared_rate import SharedRateLimiter
from bot.ui import callbacks, menus
from conversations import (
    broadcast,
    caf_settings,
    compliance,
    documentation,
    equipment,
    events,
    fallback,
    figures,
    hours,
    inbox,
    indicators,
    links,
    my_data,
    network,
    news,
    onboarding,
    secrecy,
    signals,
    termination,
    text_input,
    trainings,
    visit,
    work_site,
    yearly_visit,
)
from conversations.common import guarded
from conversations.taps import TapTable
from conversations.text_input import TypedSteps
from storage import kv
from storage.db import Database, connect
from storage.setup import open_storage

log = logging.getLogger(__name__)

# Updates the bot asks Telegram for; everything else is never delivered.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]

# Every flow's buttons, each table registered under its payload's prefix.
TAP_TABLES: list[TapTable[Any]] = [
    caf_settings.TAPS,
    compliance.TAPS,
    yearly_visit.TAPS,
    equipment.TAPS,
    my_data.TAPS,
    indicators.TAPS,
    indicators.TRANSMIT,
    hours.TAPS,
    hours.SITE_TAPS,
    network.TAPS,
    links.TAPS,
    signals.TAPS,
    inbox.TAPS,
    visit.TAPS,
    visit.SAVED_TAPS,
    visit.MY_TAPS,
    documentation.TAPS,
    broadcast.TAPS,
    broadcast.READ_TAPS,
    events.TAPS,
    news.TAPS,
    secrecy.TAPS,
    trainings.TAPS,
    termination.TAPS,
]
# Every flow's typed answers and expected files, served by the fallback handlers.
TYPED_STEPS = TypedSteps.merge(
    broadcast.TYPED,
    caf_settings.TYPED,
    documentation.TYPED,
    events.TYPED,
    hours.TYPED,
    inbox.TYPED,
    network.TYPED,
    signals.TYPED,
    termination.TYPED,
    trainings.TYPED,
    yearly_visit.TYPED,
)

MENU_ACTIONS = {
    "visit": visit.new_visit,
    "myvisits": visit.my_visits,
    "figures": figures.my_figures,
    "news": news.open_news,
    "training": visit.toggle_training,
    "signal": signals.open_signals,
    "hours": hours.open_hours,
    "inbox": inbox.open_inbox,
    "broadcast": broadcast.open_menu,
    "events": events.open_menu,
    "indicators": indicators.open_indicators,
    "compliance": compliance.open_compliance,
    "docs": documentation.open_documentation,
    "network": network.open_network,
    "caf": caf_settings.open_caf,
    "team": network.open_team,
    "site": work_site.open_switch,
    "help": onboarding.help_command,
}
# Those that depend on the site first ask a person of several sites where they work today.
MENU_ACTIONS = work_site.asking_site_first(MENU_ACTIONS)


@guarded
async def menu_entry(update: Update, ctx: Ctx) -> None:
    """A reply-keyboard button: each label leads to its entry's handler."""
    message = update.effective_message
    entry = menus.BY_LABEL.get(message.text or "") if message else None
    if entry is not None:
        await MENU_ACTIONS[entry.key](update, ctx)


@guarded
async def menu_tap(update: Update, ctx: Ctx) -> None:
    """An inline shortcut to a menu entry (e.g. "📝 Visite suivante")."""
    query = update.callback_query
    assert query is not None
    tap = callbacks.decode(query.data, expect=callbacks.MenuTap)
    handler = MENU_ACTIONS.get(tap.entry)
    if handler is None:
        raise callbacks.BadCallback("unknown entry")
    await handler(update, ctx)
    # Most entries answer with a new message and leave the button spinning; one that
    # answered already (a refusal's alert, 📝) makes this second answer a harmless 400.
    with contextlib.suppress(BadRequest):
        await query.answer()


def build_application(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    processor: TimedUpdateProcessor | None = None,
) -> BotApp:
    processor = processor or TimedUpdateProcessor()
    builder = (
        ApplicationBuilder()
        .token(settings.token())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_file_base_url)
        .context_types(ContextTypes(context=Ctx))
        .rate_limiter(rate_limiter(settings))
        .get_updates_request(processor.updates_request())
        .concurrent_updates(processor)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    app = builder.build()
    services = Services(
        settings=settings, db=db or connect(settings.database), clock=clock or SystemClock()
    )
    app.bot_data["services"] = services
    app.bot_data["owns_db"] = db is None
    app.bot_data[text_input.BOT_DATA_KEY] = TYPED_STEPS
    # Before any handler, each account is held to its limit (bot/processing.py).
    processor.attach(app, AccountGate(settings))
    register_handlers(app)
    return app


def rate_limiter(settings: Settings) -> SharedRateLimiter:
    """PTB's limiter for every call that names a chat, the outbox's sends included, its
    overall cap shared among the live instances (bot/shared_rate.py).

    Direct replies wait out up to 3 `RetryAfter`s inside the call; the outbox sender asks
    for none and pauses itself (bot/jobs/outbox_sender.py).
    """
    if settings.broadcast_max_rate > settings.telegram_max_rate:
        log.warning(
            "BROADCAST_MAX_RATE (%g) dépasse TELEGRAM_MAX_RATE (%g) : les envois différés "
            "n'iront pas plus vite que %g par seconde, et les réponses attendront derrière eux",
            settings.broadcast_max_rate,
            settings.telegram_max_rate,
            settings.telegram_max_rate,
        )
    return SharedRateLimiter(settings.telegram_max_rate, max_retries=3)


def register_handlers(app: BotApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", onboarding.start, filters=private))
    app.add_handler(CommandHandler(["aide", "help"], onboarding.help_command, filters=private))
    app.add_handler(CommandHandler(["annuler", "cancel"], fallback.cancel, filters=private))
    app.add_handler(CommandHandler("mesdonnees", my_data.show, filters=private))
    for entry in menus.ENTRIES:
        app.add_handler(CommandHandler(entry.command, MENU_ACTIONS[entry.key], filters=private))
    app.add_handler(MessageHandler(private & filters.Text(list(menus.BY_LABEL)), menu_entry))
    # Buttons outside any tap table: the menu's (m:), « Je participe » (r:), and the site of
    # the day (ws:), which goes on into a menu entry.
    outside: list[tuple[type[callbacks.Callback], Any]] = [
        (callbacks.MenuTap, menu_tap),
        (callbacks.RsvpTap, events.on_rsvp),
        (callbacks.WorkSiteTap, work_site.on_tap),
    ]
    for payload, handler in outside:
        app.add_handler(CallbackQueryHandler(handler, pattern=f"^{payload.PREFIX}:"))
    for table in TAP_TABLES:
        app.add_handler(CallbackQueryHandler(table.dispatch, pattern=table.pattern))
    attachments = (
        filters.ANIMATION
        | filters.PHOTO
        | filters.VIDEO
        | filters.VOICE
        | filters.AUDIO
        | filters.VIDEO_NOTE
        | filters.Document.ALL
        | filters.CONTACT
        | filters.LOCATION
    )
    app.add_handler(MessageHandler(private & attachments, fallback.attachment))
    app.add_handler(MessageHandler(private & filters.COMMAND, fallback.unknown_command))
    app.add_handler(MessageHandler(private & filters.TEXT, fallback.unknown_text))
    app.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, fallback.unknown_text))
    app.add_handler(CallbackQueryHandler(fallback.unknown_callback))
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, fallback.group_chat))
    app.add_error_handler(fallback.on_error)


async def _post_init(app: BotApp) -> None:
    services: Services = app.bot_data["services"]
    if app.bot_data.get("owns_db"):
        services.db = await open_storage(services.settings.database)
    await prepare(app)


async def prepare(app: BotApp) -> None:
    """Start-up work that needs the bot and the database (also called by test harnesses)."""
    services: Services = app.bot_data["services"]
    await kv.put(services.db, "bot_username", app.bot.username)
    # Strangers see /start and /aide; registered people get their own list per chat.
    await app.bot.set_my_commands([menus.START_COMMAND, BotCommand("aide", "Ce que fait ce bot")])
    await start_leadership(app)


async def start_leadership(app: BotApp) -> None:
    """The outbox, the broadcasts' progress and the scheduler run in one instance at a time
    (bot/jobs/leadership.py); alone on its database, this one leads before this returns.

    Raises `AnotherInstance` when this one may not run beside those already running.
    """
    services: Services = app.bot_data["services"]
    settings = services.settings
    limiter = app.bot.rate_limiter
    lease_db = await services.db.for_background()
    app.bot_data["lease_db"] = lease_db
    leadership = Leadership(
        lease_db,
        name=settings.instance_name or default_name(),
        mode=app.bot_data.get("mode", "polling"),
        lease_seconds=settings.lease_seconds,
        on_take=functools.partial(_lead, app),
        on_lose=functools.partial(_step_down, app),
        limiter=limiter if isinstance(limiter, SharedRateLimiter) else None,
    )
    try:
        await leadership.start()
    except BaseException:  # refused beside another instance: no connection left behind
        app.bot_data.pop("lease_db", None)
        if lease_db is not services.db:
            await lease_db.close()
        raise
    app.bot_data["leadership"] = leadership


async def _lead(app: BotApp) -> None:
    start_outbox(app)
    start_progress(app)
    await start_scheduler(app)


async def _step_down(app: BotApp) -> None:
    """Another instance leads now (or this one stops): the leader's work ends at once. A
    scheduled job halfway through finishes; the scheduler runs jobs at least once."""
    if app.job_queue is not None:
        for job in app.job_queue.get_jobs_by_name(SCHEDULER_JOB):
            job.schedule_removal()
    app.bot_data.pop("scheduler", None)
    await _stop_background(app)
    services: Services = app.bot_data["services"]
    services.wake_outbox = _no_wake


def _no_wake() -> None:
    """Not the leader: its sender looks at the outbox every 0.2 s anyway."""


async def start_scheduler(app: BotApp) -> None:
    services: Services = app.bot_data["services"]
    scheduler = Scheduler(services.db, services.clock)
    scheduler.register(
        housekeeping.KIND,
        functools.partial(
            housekeeping.run, db=services.db, clock=services.clock, settings=services.settings
        ),
    )
    scheduler.register(
        scheduled_broadcasts.KIND,
        functools.partial(
            scheduled_broadcasts.run,
            db=services.db,
            clock=services.clock,
            wake=lambda: services.wake_outbox(),
        ),
    )
    scheduler.register(
        event_reminders.KIND,
        functools.partial(
            event_reminders.run,
            db=services.db,
            wake=lambda: services.wake_outbox(),
        ),
    )
    scheduler.register(
        hours_effective.KIND,
        functools.partial(hours_effective.run, db=services.db, wake=lambda: services.wake_outbox()),
    )
    scheduler.register(
        morning.KIND,
        functools.partial(
            morning.run, db=services.db, clock=services.clock, settings=services.settings
        ),
    )
    scheduler.register(
        new_agents.KIND,
        functools.partial(
            new_agents.run,
            db=services.db,
            clock=services.clock,
            wake=lambda: services.wake_outbox(),
        ),
    )
    scheduler.register(
        termination_job.KIND,
        functools.partial(termination_job.run, db=services.db, wake=lambda: services.wake_outbox()),
    )
    published = services.settings.directory_dir
    scheduler.register(
        directory_publish.KIND,
        functools.partial(
            directory_publish.run, db=services.db, clock=services.clock, folder=published
        ),
    )
    await directory_publish.ensure_scheduled(services.db, services.clock, published)
    await housekeeping.ensure_scheduled(services.db, services.clock, services.settings.tz)
    await morning.ensure_scheduled(services.db, services.clock, services.settings)
    app.bot_data["scheduler"] = scheduler
    await scheduler.attach(app, interval_seconds=services.settings.scheduler_interval_seconds)


def start_outbox(app: BotApp) -> OutboxSender:
    """The one sender of everything that is not a direct reply, as a background task.

    Not `app.create_task`: `Application.stop()` waits for those and would wait for ever.
    """
    services: Services = app.bot_data["services"]
    sender = OutboxSender(
        app.bot,
        services.db,
        services.clock,
        max_rate=services.settings.broadcast_max_rate,
        per_chat_interval=services.settings.outbox_chat_interval_seconds,
        max_attempts=services.settings.outbox_max_attempts,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop), name="outbox-sender")
    app.bot_data["outbox"] = (sender, stop, task)
    services.wake_outbox = sender.wake
    return sender


def start_progress(app: BotApp) -> None:
    """The loop that keeps broadcasts' progress messages up to date."""
    services: Services = app.bot_data["services"]
    progress = BroadcastProgress(
        app.bot, services.db, services.clock, services.settings.broadcast_progress_seconds
    )
    stop = asyncio.Event()
    task = asyncio.create_task(progress.run(stop), name="broadcast-progress")
    app.bot_data["progress"] = (progress, stop, task)


async def stop_outbox(app: BotApp) -> None:
    """Stops this instance's part: the leader's work, then its lease (released, for an
    immediate takeover) and its heartbeat. Before the database closes."""
    leadership: Leadership | None = app.bot_data.pop("leadership", None)
    if leadership is not None:
        await leadership.stop()
    await _stop_background(app)
    lease_db: Database | None = app.bot_data.pop("lease_db", None)
    services: Services = app.bot_data["services"]
    if lease_db is not None and lease_db is not services.db:
        await lease_db.close()


async def _stop_background(app: BotApp) -> None:
    for name in ("progress", "outbox"):
        entry = app.bot_data.pop(name, None)
        if entry is not None:
            _, stop, task = entry
            stop.set()
            await task


async def _post_stop(app: BotApp) -> None:
    await stop_outbox(app)


async def _post_shutdown(app: BotApp) -> None:
    services: Services = app.bot_data["services"]
    if app.bot_data.get("owns_db"):
        await services.db.close()
