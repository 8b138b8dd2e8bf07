"""The terminal demo, driven end to end as a new user would (a real subprocess)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def demo_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("ARTIS_URL", "REDIS_URL", "TELEGRAM_BOT_TOKEN")}
    return {**env, "DATA_DIR": str(tmp_path / "data")}


def start_demo(tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """``crmbot demo`` in ``tmp_path``, read up to its banner; returns it with the pairing
    link the banner prints (what a rep would scan)."""
    demo = subprocess.Popen([sys.executable, "-m", "bot.cli", "demo"], cwd=tmp_path, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert demo.stdout is not None and demo.stdin is not None
    banner = ""
    while "collez-le" not in banner:
        line = demo.stdout.readline()
        assert line, f"demo ended early: {demo.stderr.read() if demo.stderr else ''}"
        banner += line
    link = re.search(r"https://t\.me/\S+\?start=\S+", banner)
    assert link is not None
    return demo, link.group(0)


def test_terminal_demo_pairs_and_answers(tmp_path: Path) -> None:
    demo, link = start_demo(tmp_path, demo_env(tmp_path))
    script = [link, "demo", "/aide", "1", "/lang", "2", "what now?", ":quit"]
    out, err = demo.communicate("\n".join(script) + "\n", timeout=60)
    assert demo.returncode == 0, err
    assert "Traceback" not in out + err
    assert "Bonjour Camille Martin" in out                  # the QR "scan"
    assert "vous › ••••\n" in out and "vous › demo\n" not in out  # password not echoed
    assert "🗑  (message supprimé du chat)" in out          # password deleted
    assert "Appairage réussi" in out                        # home
    assert "[1] 🔄 Recharger la configuration" in out       # a button as a number
    assert "Configuration rechargée" in out                 # pressing it
    assert "Done: I will speak English with you." in out    # /lang then 2
    assert "Sorry, I did not understand." in out
    assert out.rstrip().endswith("Au revoir !")


def test_run_without_token_starts_the_terminal_demo(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path,
                          env=demo_env(tmp_path), input="/aide\n", capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "terminal demo" in done.stdout
    assert "Ce que je sais faire" in done.stdout


async def test_terminal_shows_cards_venues_and_files_as_readable_lines(tmp_path: Path) -> None:
    """What later features send (contact cards, routes, attachments) prints as one line."""
    import io

    from telegram import Bot
    from telegram.request import HTTPXRequest

    from bot.terminal import DEMO_USER, TerminalChat
    from integrations.fake_bot_api import FakeBotApi

    api = FakeBotApi()
    out = io.StringIO()
    TerminalChat(runtime=None, api=api, out=out)  # type: ignore[arg-type]
    bot = Bot(api.token, request=HTTPXRequest(httpx_kwargs={"transport": api.transport()}))
    async with bot:
        chat = DEMO_USER.id
        await bot.send_contact(chat, phone_number="+33 6 39 98 12 34", first_name="Sophie",
                               last_name="Roche")
        await bot.send_venue(chat, latitude=48.8566, longitude=2.3522,
                             title="Imprimerie Carpentier", address="12 rue de Rivoli, Paris")
        await bot.send_document(chat, document=b"%PDF-1.4 devis", filename="devis.pdf",
                                caption="Devis signé")
    lines = out.getvalue().splitlines()
    assert "📇 Contact : Sophie Roche, +33 6 39 98 12 34" in lines
    assert "📍 Imprimerie Carpentier — 12 rue de Rivoli, Paris (48.8566, 2.3522)" in lines
    [document] = [line for line in lines if line.startswith("📄 Fichier : ")]
    path = Path(document.removeprefix("📄 Fichier : ").split(" — ")[0])
    assert path.read_bytes() == b"%PDF-1.4 devis" and document.endswith("— Devis signé")


def test_terminal_demo_sends_an_audio_file_as_a_voice_note(tmp_path: Path) -> None:
    """``:voice FILE`` (or a bare path) is a voice note; a damaged one gets the clear message
    (decoded in a thread before any model loads, so this costs no transcription)."""
    damaged = tmp_path / "abimee.ogg"
    damaged.write_bytes(b"OggS" + bytes(range(256)) * 8)
    env = {**demo_env(tmp_path), "STT_EXECUTOR": "thread", "HF_HUB_OFFLINE": "1"}
    demo, link = start_demo(tmp_path, env)
    script = [link, "demo", ":voice", f":voice {damaged}", "1", str(damaged), ":quit"]
    out, err = demo.communicate("\n".join(script) + "\n", timeout=60)
    assert demo.returncode == 0, err
    assert "Traceback" not in out + err
    assert "(usage : :voice chemin/vers/note.ogg)" in out
    assert "Pour quelle action est cette note vocale" in out  # on its own: which action?
    assert "🎙 Transcription…" in out
    # Pressing 1 opened that action's report step; the bare path is a voice note there too.
    assert out.count("Je n'arrive pas à lire cette note vocale") == 2
