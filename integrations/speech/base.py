"""What every speech-to-text engine offers: ``Transcriber``, ``Transcript`` and the errors.

No engine is imported here, so the bot can name these types without the ``voice`` extra.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

#: Longest voice note transcribed (seconds): the product promises five minutes.
MAX_SECONDS = 300.0


@dataclass(frozen=True)
class Segment:
    """A stretch of speech: start and end in seconds from the start of the audio."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Transcript:
    """What was said: the text, the audio's duration (seconds) and, when known, segments."""

    text: str
    duration: float
    language: str
    segments: tuple[Segment, ...] = field(default=())


class SpeechError(Exception):
    """Base of every speech-to-text error; ``str()`` is one line for an operator."""


class SpeechUnavailable(SpeechError):
    """Transcription cannot run here: the ``voice`` extra is not installed, no model can be
    loaded, or the transcription server does not answer. The audio itself may be fine."""


class ModelIntegrityError(SpeechUnavailable):
    """The model weights on disk are not the expected ones (checksum mismatch): refused."""


class Unreadable(SpeechError):
    """The audio cannot be decoded (corrupted, empty, or not audio at all)."""


class TooLong(SpeechError):
    """The audio lasts longer than the limit."""

    def __init__(self, duration: float, limit: float = MAX_SECONDS) -> None:
        super().__init__(duration, limit)  # args rebuild it across a process pool (pickle)
        self.duration = duration
        self.limit = limit

    def __str__(self) -> str:
        return (f"the audio lasts more than {self.limit:.0f} s "
                f"(at least {self.duration:.0f} s)")


@runtime_checkable
class Transcriber(Protocol):
    """Turns a voice note (any container PyAV reads: OGG/Opus as Telegram sends it, WAV, MP3…)
    into text. ``language`` is an ISO 639-1 code (``fr``). ``prompt`` is a short text in the
    style and vocabulary expected (names of clients, sites, contacts); ``hotwords`` are words to
    favour throughout (the prompt only conditions the first 30 s window)."""

    async def transcribe(self, audio: bytes, *, language: str, prompt: str | None = None,
                         hotwords: list[str] | None = None) -> Transcript:
        ...

    async def aclose(self) -> None:
        ...
