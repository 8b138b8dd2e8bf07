"""Transcription on the workers: a ``Transcriber`` that kicks a taskiq task and awaits its
result (kept in Redis), so whisper never runs in the bot's process when workers exist.

The worker side (``TranscribeTask``) uses the local engine of ``bot.speech`` (a process
pool by default), built at its first voice note. Speech errors travel back as data and are
raised again on the bot's side with their type (unreadable, too long, not installed).
"""

from __future__ import annotations

import base64
from typing import Any

from taskiq import AsyncBroker
from taskiq.kicker import AsyncKicker

from bot.jobs.broker import TRANSCRIBE
from bot.settings import Settings
from integrations.speech import (
    Segment,
    SpeechError,
    SpeechUnavailable,
    TooLong,
    Transcriber,
    Transcript,
    Unreadable,
)

#: Longest wait for a worker's transcript (a 5-minute note takes well under a minute).
RESULT_TIMEOUT = 120.0


class TranscribeTask:
    """The worker's side: one local transcriber for the whole process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine: Transcriber | None = None

    async def run(self, audio_b64: str, language: str, prompt: str | None = None,
                  hotwords: list[str] | None = None) -> dict[str, Any]:
        try:
            if self._engine is None:
                from bot.speech import build_transcriber

                self._engine = build_transcriber(self.settings)
            transcript = await self._engine.transcribe(
                base64.b64decode(audio_b64), language=language, prompt=prompt,
                hotwords=hotwords)
        except TooLong as exc:
            return {"error": "too_long", "duration": exc.duration, "limit": exc.limit}
        except Unreadable as exc:
            return {"error": "unreadable", "message": str(exc)}
        except SpeechError as exc:
            return {"error": "unavailable", "message": str(exc)}
        return {"text": transcript.text, "duration": transcript.duration,
                "language": transcript.language,
                "segments": [[s.start, s.end, s.text] for s in transcript.segments]}

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.aclose()


class JobTranscriber:
    """``Transcriber`` for the bot's side when jobs go through Redis."""

    def __init__(self, broker: AsyncBroker, timeout: float = RESULT_TIMEOUT) -> None:
        self.broker = broker
        self.timeout = timeout

    async def transcribe(self, audio: bytes, *, language: str, prompt: str | None = None,
                         hotwords: list[str] | None = None) -> Transcript:
        kicker: Any = AsyncKicker(TRANSCRIBE, self.broker, {})  # by name: runs on a worker
        task = await kicker.kiq(
            base64.b64encode(audio).decode("ascii"), language, prompt, hotwords)
        try:
            result = await task.wait_result(check_interval=0.1, timeout=self.timeout)
        except Exception as exc:  # taskiq's ResultGetError / TaskiqResultTimeoutError
            raise SpeechUnavailable(f"no worker transcribed the voice note: {exc}") from exc
        if result.is_err or not isinstance(result.return_value, dict):
            raise SpeechUnavailable(f"the transcription job failed: {result.error}")
        return _transcript(result.return_value)

    async def aclose(self) -> None:
        return None


def _transcript(data: dict[str, Any]) -> Transcript:
    match data.get("error"):
        case "too_long":
            raise TooLong(float(data["duration"]), float(data["limit"]))
        case "unreadable":
            raise Unreadable(str(data.get("message", "")))
        case str(other):
            raise SpeechUnavailable(str(data.get("message", other)))
    return Transcript(text=str(data["text"]), duration=float(data["duration"]),
                      language=str(data["language"]),
                      segments=tuple(Segment(float(a), float(b), str(t))
                                     for a, b, t in data.get("segments", [])))
