"""``crmbot``: the command line (run, worker, demo, artis-demo, pair, admin, parse-date,
transcribe)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, StartupError, load_settings

if TYPE_CHECKING:
    from bot.app import Runtime
    from bot.polling import Poller

log = logging.getLogger("crmbot")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "parse-date":
        return _parse_date(args, settings)
    if args.command == "transcribe":
        return _transcribe(args, settings)
    configure_logging(settings.log_level, quiet=args.command in (None, "demo", "pair") or (
        args.command == "run" and not args.webhook and settings.telegram_bot_token is None))
    command = args.command or "run"
    try:
        if command != "artis-demo":  # everything else speaks to reps
            _require_default_catalog(settings)
        if command == "run":
            return run_loop(_run(settings, webhook=getattr(args, "webhook", False)),
                            settings.event_loop)
        if command == "worker":
            return _worker(settings)
        if command == "demo":
            return _terminal(settings)
        if command == "artis-demo":
            from integrations.artis.demo import serve_forever

            serve_forever(args.host, args.port, args.db)
            return 0
        if command == "pair":
            from bot.pairing_cli import pair_command

            return asyncio.run(pair_command(settings, args))
        if command == "admin":
            from bot.admin import serve_admin

            return asyncio.run(serve_admin(settings))
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 1

    except KeyboardInterrupt:
        return 130
    parser.print_help()
    return 2


def run_loop(main: Coroutine[Any, Any, int], choice: str = "auto") -> int:
    """Run the bot's event loop: uvloop where the platform has it (``EVENT_LOOP=auto``),
    asyncio's own as the fallback or when ``EVENT_LOOP=asyncio``."""
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise
        else:
            return uvloop.run(main)
    return asyncio.run(main)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crmbot", description="artis CRM assistant for Telegram")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="serve Telegram (long polling, or --webhook); without "
                                     "TELEGRAM_BOT_TOKEN: the terminal demo")
    run.add_argument("--webhook", action="store_true", help="serve webhooks instead of polling")
    sub.add_parser("worker", help="run background jobs (report delivery, transcription) and "
                                  "the outbox sweep; any number share one REDIS_URL")
    sub.add_parser("demo", help="chat with the bot in the terminal (no Telegram needed)")
    demo = sub.add_parser("artis-demo", help="serve the demo artis.net REST API standalone")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8765)
    demo.add_argument("--db", type=Path, default=None, help="SQLite file (default: temporary)")
    pair = sub.add_parser("pair", help="make one-time pairing links and QR codes")
    pair.add_argument("login", nargs="?", help="artis.net login of the rep")
    pair.add_argument("--png", type=Path, help="where to write the QR code (default LOGIN.png)")
    pair.add_argument("--all-reps", action="store_true",
                      help="one printable onboarding sheet for the reps of a unit")
    pair.add_argument("--unit", help="organisational unit code (with --all-reps)")
    pair.add_argument("--out", type=Path, default=Path("onboarding.html"),
                      help="the sheet's file (with --all-reps)")
    sub.add_parser("admin", help="serve only the admin page (/admin) on WEBHOOK_LISTEN:"
                                 "WEBHOOK_PORT, for polling deployments (needs ADMIN_SECRET)")
    parse = sub.add_parser("parse-date", help="how the bot reads a date phrase: the date-time "
                                              "in ISO 8601 (the date alone if no time), or none")
    parse.add_argument("phrase", help="what the rep typed or said, e.g. 'jeudi prochain 14h'")
    parse.add_argument("--now", help="reference date-time, ISO 8601 (default: now); without an "
                                     "offset it is read in --tz")
    parse.add_argument("--tz", help="IANA time zone (default: BOT_TIMEZONE)")
    parse.add_argument("--lang", choices=("fr", "en"), help="default: BOT_DEFAULT_LOCALE")
    parse.add_argument("--purpose", choices=("planning", "follow-up"), default="planning",
                       help="planning (default) or follow-up: decides the ambiguous cases")
    parse.add_argument("--find", action="store_true",
                       help="look for the date phrase inside a longer text (a compte rendu)")
    parse.add_argument("--explain", action="store_true",
                       help="a second line with the span, last day, time window and bound")
    transcribe = sub.add_parser("transcribe", help="print the transcript of an audio file "
                                                   "(a voice note the bot misheard)")
    transcribe.add_argument("file", type=Path, help="audio file: OGG/Opus as Telegram sends "
                                                    "voice notes, or WAV, MP3, M4A…")
    transcribe.add_argument("--lang", choices=("fr", "en"), help="default: BOT_DEFAULT_LOCALE")
    transcribe.add_argument("--prompt", help="a short text in the expected style and vocabulary")
    transcribe.add_argument("--hotwords", help="words to favour, space-separated (names)")
    return parser


def _transcribe(args: argparse.Namespace, settings: Settings) -> int:
    """``crmbot transcribe``: the support command for "the bot misheard my voice note"."""
    from bot.speech import build_transcriber
    from integrations.speech import SpeechError

    try:
        audio = args.file.read_bytes()
    except OSError as exc:
        print(f"transcribe: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    lang = args.lang or settings.bot_default_locale
    hotwords = args.hotwords.split() if args.hotwords else None

    async def transcribe() -> str:
        transcriber = build_transcriber(settings, executor="thread")
        try:
            transcript = await transcriber.transcribe(audio, language=lang, prompt=args.prompt,
                                                      hotwords=hotwords)
        finally:
            await transcriber.aclose()
        return transcript.text

    try:
        print(asyncio.run(transcribe()))
    except SpeechError as exc:
        print(f"transcribe: {exc}", file=sys.stderr)
        return 1
    return 0


def _parse_date(args: argparse.Namespace, settings: Settings) -> int:
    """``crmbot parse-date``: the support command for "the bot misunderstood my date"."""
    from datetime import datetime
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from bot.services import dates

    try:
        tz = ZoneInfo(args.tz) if args.tz else settings.tz
    except (ZoneInfoNotFoundError, ValueError):
        print(f"parse-date: unknown time zone {args.tz!r} (e.g. Europe/Paris)", file=sys.stderr)
        return 2
    try:
        now = datetime.fromisoformat(args.now) if args.now else datetime.now(tz)
    except ValueError:
        print(f"parse-date: --now {args.now!r} is not ISO 8601 (e.g. 2026-12-02T10:15)",
              file=sys.stderr)
        return 2
    lang = args.lang or settings.bot_default_locale
    purpose = dates.Purpose.FOLLOW_UP if args.purpose == "follow-up" else dates.Purpose.PLANNING
    if args.find:
        found = dates.find(args.phrase, now=now, tz=tz, lang=lang, purpose=purpose)
        when = found.when if found else None
    else:
        when = dates.resolve(args.phrase, now=now, tz=tz, lang=lang, purpose=purpose)
    if when is None:
        print("none")
        return 0
    print(when.iso(tz))
    if args.explain:
        window = "-".join(t.strftime("%H:%M") for t in when.window) if when.window else "-"
        print(f"span={when.span.value} last={when.last.isoformat()} window={window} "
              f"bound={when.bound.value if when.bound else '-'}"
              + (f" text={found.text!r}" if args.find and found else ""))
    return 0


def _require_default_catalog(settings: Settings) -> None:
    """Stop start-up if the default language's catalog is not installed.

    Without it gettext silently falls back to the English msgids, so French reps would
    be answered in English (as from an install that left ``bot/locales`` behind).
    """
    from bot.i18n import catalog_path

    path = catalog_path(settings.bot_default_locale)
    if not path.is_file():
        raise StartupError(f"startup error: the translations for BOT_DEFAULT_LOCALE="
                           f"{settings.bot_default_locale} are missing ({path} not found); "
                           f"reinstall the package")


def _worker(settings: Settings) -> int:
    if settings.telegram_bot_token is None:
        print("configuration error: TELEGRAM_BOT_TOKEN is required for `crmbot worker` "
              "(it sends the reps' confirmations)", file=sys.stderr)
        return 2
    from bot.worker import run_worker

    return run_loop(run_worker(settings), settings.event_loop)


def _terminal(settings: Settings) -> int:
    from bot.terminal import run_terminal

    asyncio.run(run_terminal(settings))
    return 0


async def _run(settings: Settings, *, webhook: bool) -> int:
    if settings.telegram_bot_token is None:
        if webhook:
            print("configuration error: TELEGRAM_BOT_TOKEN is required for --webhook",
                  file=sys.stderr)
            return 2
        print("TELEGRAM_BOT_TOKEN is not set: starting the terminal demo instead.\n")
        from bot.terminal import run_terminal

        await run_terminal(settings)
        return 0
    if webhook and (settings.webhook_url is None or settings.webhook_secret is None):
        print("configuration error: --webhook needs WEBHOOK_URL (the public https URL) and "
              "WEBHOOK_SECRET (16-256 characters among A-Z a-z 0-9 _ -)", file=sys.stderr)
        return 2
    from bot.polling import Poller
    from bot.recovery import Sweeper
    from bot.runtime import open_runtime

    async with open_runtime(settings, defer=not webhook) as runtime:
        app = runtime.application
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await app.start()
        # Everything built so far lives as long as the process: out of the garbage
        # collector's sight, its full collections stop walking it (latency tail).
        gc.freeze()
        sweeper = asyncio.create_task(Sweeper(app, runtime.services).run(stop))
        rest: asyncio.Task[None] | None = None
        try:
            if webhook:
                await _serve_webhook(settings, runtime, stop)
            else:
                log.info("polling Telegram as @%s", app.bot.username)
                poller = Poller(app, runtime.services.inbox)
                rest = asyncio.create_task(_start_rest(runtime, poller, stop))
                await poller.run(stop)
        finally:
            stop.set()
            await sweeper
            if rest is not None:
                await asyncio.gather(rest, return_exceptions=True)
            await app.stop()
        if rest is not None and rest.done() and not rest.cancelled() and rest.exception():
            return 1
    return 0


FIRST_ANSWERS_WAIT = 5.0  # seconds the command menu and the jobs wait for the first answers


async def _start_rest(runtime: Runtime, poller: Poller, stop: asyncio.Event) -> None:
    """The command menu and the background jobs, once the first ``getUpdates`` has been
    answered (or after ``FIRST_ANSWERS_WAIT``): what a freshly started bot's first answer
    does not need waits for it. If they cannot start, the bot stops, as it would have
    at start-up."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(poller.first_batch_answered(), FIRST_ANSWERS_WAIT)
    try:
        await runtime.start_rest()
    except Exception:
        log.exception("startup error: the background jobs did not start; stopping")
        stop.set()
        raise
    gc.freeze()  # what the jobs built lives as long as the process too


async def _serve_webhook(settings: Settings, runtime: Runtime, stop: asyncio.Event) -> None:
    from bot.polling import ALLOWED_UPDATES
    from bot.web import build_web_app, server_for

    assert settings.webhook_url and settings.webhook_secret
    secret = settings.webhook_secret.get_secret_value()
    web = build_web_app(runtime, webhook_path=settings.webhook_path, secret=secret)
    app = runtime.application
    await app.bot.set_webhook(url=settings.webhook_url + settings.webhook_path,
                              secret_token=secret, allowed_updates=ALLOWED_UPDATES)
    server = server_for(web, settings.webhook_listen, settings.webhook_port)
    serving = asyncio.create_task(server.serve())
    log.info("webhook server on %s:%s", settings.webhook_listen, settings.webhook_port)
    await stop.wait()
    server.should_exit = True
    await serving


if __name__ == "__main__":
    raise SystemExit(main())
