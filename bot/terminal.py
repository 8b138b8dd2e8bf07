"""The terminal demo: a chat with the real bot, in the terminal.

The same Application and handlers that serve Telegram run here against the
fake Bot API (``integrations/fake_bot_api.py``) and, unless ``ARTIS_URL`` is
set, the embedded demo artis.net. Buttons print as ``[1] label``: type the
number to press one. Paste a ``https://t.me/...?start=...`` link to "scan" a
pairing QR code. ``:pair LOGIN`` makes a new pairing link, ``:quit`` (or
Ctrl-D) leaves. ``:position LAT LON`` sends a location, as the « 📍 Partager ma
position » button does on a phone. ``:voice FILE`` (or just the path of an existing
``.ogg``/``.oga``/``.opus``/``.mp3``/``.wav``/``.m4a`` file) sends that audio file as a
voice note.
``:digest`` sends the paired manager's daily digest now, ``:reminder briefing`` (or
``nudge``) one of the rep's reminders, without waiting for their time.
"""

from __future__ import annotations

import asyncio
import getpass
import html
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from telegram import Update

from bot.app import Runtime
from bot.inbound import deliver
from bot.runtime import open_runtime
from bot.settings import Settings
from integrations.fake_bot_api import ApiCall, FakeBotApi, SimUser

DEMO_USER = SimUser(id=424242, first_name="Camille", last_name="Martin", language_code="fr")
DEMO_REP = "demo.commercial"
AUDIO_SUFFIXES = (".ogg", ".oga", ".opus", ".mp3", ".wav", ".m4a")
_DEEP_LINK = re.compile(r"https?://t\.me/\w+\?start=([A-Za-z0-9_-]{1,64})")


def plain(text: str) -> str:
    """Telegram HTML to terminal text."""
    text = re.sub(r"</?(b|strong)>", "*", text)
    text = re.sub(r"</?(i|em)>", "_", text)
    text = re.sub(r"<a href=\"([^\"]+)\">([^<]*)</a>", r"\2 (\1)", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


class TerminalChat:
    """Prints what the bot sends; turns typed lines into Telegram updates."""

    def __init__(self, runtime: Runtime, api: FakeBotApi, out: TextIO,
                 user: SimUser = DEMO_USER) -> None:
        self.runtime, self.api, self.out, self.user = runtime, api, out, user
        self.buttons: list[dict[str, Any]] = []
        self.buttons_message: dict[str, Any] | None = None
        self.files_dir = Path(tempfile.mkdtemp(prefix="crmbot-demo-"))
        api.listeners.append(self._show)

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _show(self, call: ApiCall, result: dict[str, Any] | bool) -> None:
        params = call.params
        if str(params.get("chat_id")) != str(self.user.id):
            return
        if call.method in ("sendMessage", "editMessageText"):
            prefix = "🤖 " if call.method == "sendMessage" else "🤖 (modifié) "
            self._print(prefix + plain(params["text"]).replace("\n", "\n   "))
        elif call.method == "sendContact":
            name = " ".join(filter(None, [params.get("first_name"), params.get("last_name")]))
            self._print(f"📇 Contact : {name}, {params.get('phone_number')}")
        elif call.method == "sendVenue":
            self._print(f"📍 {params.get('title')} — {params.get('address')} "
                        f"({params.get('latitude')}, {params.get('longitude')})")
        elif call.method == "sendLocation":
            self._print(f"📍 ({params.get('latitude')}, {params.get('longitude')})")
        elif call.method in ("sendDocument", "sendPhoto") and isinstance(result, dict):
            self._show_file(call, result)
        elif call.method == "deleteMessage":
            self._print("🗑  (message supprimé du chat)")
        else:
            return
        if isinstance(result, dict) and result.get("reply_markup"):
            self._show_buttons(result)
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            for row in markup.get("keyboard", []):
                for key in row:
                    text = key.get("text") if isinstance(key, dict) else key
                    hint = " — tapez :position LAT LON" if isinstance(key, dict) and key.get(
                        "request_location") else ""
                    self._print(f"   [clavier] {text}{hint}")

    def _show_file(self, call: ApiCall, result: dict[str, Any]) -> None:
        info = result.get("document") or (result.get("photo") or [{}])[-1]
        name = info.get("file_name") or f"{info.get('file_id', 'file')}.jpg"
        path = self.files_dir / Path(name).name
        path.write_bytes(self.api.files.get(info.get("file_id", ""), b""))
        caption = f" — {plain(result['caption'])}" if result.get("caption") else ""
        self._print(f"📄 Fichier : {path}{caption}")

    def _show_buttons(self, message: dict[str, Any]) -> None:
        self.buttons = self.api.buttons(message)
        self.buttons_message = message
        for number, item in enumerate(self.buttons, start=1):
            target = f"  → {item['url']}" if item.get("url") else ""
            self._print(f"   [{number}] {item.get('text')}{target}")

    async def handle_line(self, line: str) -> bool:
        """Act on one typed line; False when the user wants to leave."""
        line = line.strip()
        if line in (":quit", ":q"):
            return False
        if not line:
            return True
        if line.startswith(":pair"):
            login = line.split(maxsplit=1)[1] if " " in line else DEMO_REP
            await self.show_invite(login)
            return True
        if line.startswith(":position"):
            await self.send_location(line)
            return True
        if line.startswith(":voice") or (line.lower().endswith(AUDIO_SUFFIXES)
                                         and Path(line).expanduser().is_file()):
            await self.send_voice(line.removeprefix(":voice").strip())
            return True
        if line.startswith((":digest", ":reminder", ":rappel")):
            await self.scheduled_now(line)
            return True
        # At a password or PIN step the line is the secret, even all digits (a PIN).
        if line.isdigit() and self.buttons and not await self.expects_secret():
            await self.press(int(line))
            return True
        if match := _DEEP_LINK.search(line):
            line = f"/start {match.group(1)}"
        await deliver(self.runtime.application, self.api.text_update(self.user, line))
        await self._drain_queue()
        return True

    async def send_location(self, line: str) -> None:
        try:
            _, lat, lon = line.split()
            location = {"latitude": float(lat), "longitude": float(lon)}
        except ValueError:
            self._print("(usage : :position 48.8706 2.3534)")
            return
        await deliver(self.runtime.application,
                      self.api.message_update(self.user, location=location))
        await self._drain_queue()

    async def send_voice(self, path: str) -> None:
        """The file as a Telegram voice note: served by the fake Bot API's getFile."""
        file = Path(path).expanduser()
        if not path or not file.is_file():
            self._print("(usage : :voice chemin/vers/note.ogg)")
            return
        content = file.read_bytes()
        file_id = self.api.add_file(content)
        voice = {"file_id": file_id, "file_unique_id": file_id, "mime_type": "audio/ogg",
                 "duration": audio_seconds(file), "file_size": len(content)}
        await deliver(self.runtime.application, self.api.message_update(self.user, voice=voice))
        await self._drain_queue()

    async def scheduled_now(self, line: str) -> None:
        """``:digest`` / ``:reminder [briefing|nudge]``: what the scheduler sends, now."""
        from bot.scheduled import send_digest_now, send_reminder_now
        from bot.services.schedule import ReminderKind

        services, bot = self.runtime.services, self.runtime.application.bot
        session = await services.sessions.load(self.user.id, self.user.id, None)
        if session.link is None:
            self._print("(appairez d'abord un compte : :pair demo.manager ou :pair "
                        "demo.commercial)")
            return
        login = session.link.login
        if line.startswith(":digest"):
            if not await send_digest_now(services, bot, self.user.id, login):
                self._print(f"({login} n'est responsable d'aucune équipe commerciale : "
                            ":pair demo.manager)")
            return
        kind = ReminderKind.NUDGE if "nudge" in line or "compte" in line else (
            ReminderKind.BRIEFING)
        if not await send_reminder_now(services, bot, self.user.id, login, kind):
            self._print("(aucune action ne s'y prête dans le planning de ce compte)")

    async def press(self, number: int) -> None:
        if not 1 <= number <= len(self.buttons):
            self._print(f"(pas de bouton {number})")
            return
        item = self.buttons[number - 1]
        if item.get("url"):
            self._print(f"(ouvrirait {item['url']})")
            return
        message = self.buttons_message
        await deliver(self.runtime.application,
                      self.api.callback_update(self.user, item["callback_data"], message))
        await self._drain_queue()

    async def _drain_queue(self) -> None:
        """Updates the bot re-queued itself (a request resumed after unlock)."""
        queue = self.runtime.application.update_queue
        while not queue.empty():
            update = queue.get_nowait()
            if isinstance(update, Update):
                await deliver(self.runtime.application, update)

    async def expects_secret(self) -> bool:
        """Is the bot waiting for a password or PIN from this chat? (then: no echo)"""
        session = await self.runtime.services.sessions.load(self.user.id, self.user.id, None)
        return session.step is not None and session.step.secret

    async def show_invite(self, login: str) -> None:
        from integrations.artis.errors import NotFound

        try:
            invite = await self.runtime.services.pairing.invite(login)
        except NotFound:
            self._print(f"(aucun utilisateur artis.net « {login} »)")
            return
        self._print(f"🔗 Lien d'appairage pour {invite.display_name} ({login}), valable "
                    f"{self.runtime.services.settings.pairing_token_ttl // 60} min :\n"
                    f"   {invite.link}\n   (collez-le ici ; mot de passe de démonstration : demo)")


def audio_seconds(file: Path) -> int:
    """The duration Telegram would announce (0 when the file cannot be read: the bot then
    finds out itself)."""
    try:
        import av

        with av.open(str(file)) as container:
            return round((container.duration or 0) / 1_000_000)
    except Exception:  # the voice extra missing, or not audio: let the bot say so
        return 0


BANNER = """\
── artis CRM assistant · démo dans le terminal ─────────────────────────────
Le vrai bot, ses vrais handlers, un faux Telegram et un artis.net de démo.
Tapez un message comme dans Telegram, un numéro pour appuyer sur un bouton,
:pair LOGIN pour un lien d'appairage (demo.commercial, demo.manager,
demo.nolicence, demo.nouo), :position LAT LON pour envoyer une position,
:voice FICHIER (ou le chemin d'un .ogg/.mp3/.wav/.m4a) pour une note vocale,
:digest pour le point quotidien d'un responsable, :reminder briefing (ou nudge)
pour un rappel, :quit pour sortir.
"""


async def run_terminal(settings: Settings, stdin: TextIO = sys.stdin,
                       out: TextIO = sys.stdout) -> None:
    api = FakeBotApi()
    async with open_runtime(settings, transport=api.transport(), token=api.token) as runtime:
        chat = TerminalChat(runtime, api, out)
        out.write(BANNER)
        await chat.show_invite(DEMO_REP)
        loop = asyncio.get_running_loop()
        while True:
            secret = await chat.expects_secret()
            if stdin.isatty() and secret:
                line = await loop.run_in_executor(
                    None, getpass.getpass, "vous › (saisie masquée) ") + "\n"
            else:
                if stdin.isatty():
                    out.write("vous › ")
                    out.flush()
                line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            if not stdin.isatty():
                shown = "•" * len(line.strip()) if secret else line.rstrip()
                out.write(f"vous › {shown}\n")
            if not await chat.handle_line(line):
                break
        out.write("Au revoir !\n")
