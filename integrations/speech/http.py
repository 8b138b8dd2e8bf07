"""``HttpTranscriber``: an OpenAI-compatible transcription server (``STT_URL``).

It posts the voice note to ``<STT_URL>/v1/audio/transcriptions`` (multipart: ``file``,
``model``, ``language``, ``prompt``, ``response_format=verbose_json``), as OpenAI's API,
faster-whisper-server / speaches, whisper.cpp's server and vLLM accept. The API has no
hotwords: they are appended to the prompt. The 5-minute cap is checked here first when PyAV is
installed (the audio is decoded locally only for that), else the server's own limit applies.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from integrations.speech.base import (
    MAX_SECONDS,
    Segment,
    SpeechUnavailable,
    Transcript,
    Unreadable,
)

log = logging.getLogger(__name__)
PATH = "/v1/audio/transcriptions"


class HttpTranscriber:
    def __init__(self, url: str, *, model: str = "whisper-1", api_key: str | None = None,
                 timeout: float = 120.0, max_seconds: float = MAX_SECONDS,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        base = url.rstrip("/")
        self.endpoint = base if base.endswith(PATH) else base + PATH
        self.model = model
        self.max_seconds = max_seconds
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(timeout=timeout, headers=headers, transport=transport)

    async def transcribe(self, audio: bytes, *, language: str, prompt: str | None = None,
                         hotwords: list[str] | None = None) -> Transcript:
        # TooLong / Unreadable before anything is sent; decoding is CPU work: off the loop.
        duration = await asyncio.to_thread(_local_duration, audio, self.max_seconds)
        text_prompt = " ".join(p for p in (prompt, " ".join(hotwords or ())) if p) or None
        data = {"model": self.model, "language": language, "response_format": "verbose_json"}
        if text_prompt:
            data["prompt"] = text_prompt
        try:
            response = await self._client.post(
                self.endpoint, data=data, files={"file": ("voice.ogg", audio, "audio/ogg")})
        except httpx.HTTPError as exc:
            raise SpeechUnavailable(f"the transcription server does not answer "
                                    f"({type(exc).__name__})") from exc
        if response.status_code in (400, 415, 422):
            raise Unreadable(f"the transcription server refused the audio "
                             f"(HTTP {response.status_code})")
        if response.status_code != 200:
            raise SpeechUnavailable(f"the transcription server answered HTTP "
                                    f"{response.status_code}")
        try:
            body: Any = response.json()
            text = str(body["text"]).strip()
        except (ValueError, KeyError, TypeError) as exc:
            raise SpeechUnavailable("the transcription server's answer is not a transcript"
                                    ) from exc
        segments = tuple(
            Segment(float(s.get("start", 0.0)), float(s.get("end", 0.0)),
                    str(s.get("text", "")).strip())
            for s in body.get("segments") or () if isinstance(s, dict))
        if duration is None:
            duration = float(body.get("duration") or (segments[-1].end if segments else 0.0))
        return Transcript(text=text, duration=duration, language=language, segments=segments)

    async def aclose(self) -> None:
        await self._client.aclose()


def _local_duration(audio: bytes, limit: float) -> float | None:
    """The audio's duration, decoded here if PyAV is installed (raising ``TooLong`` or
    ``Unreadable``); None without PyAV."""
    try:
        from integrations.speech.audio import SAMPLE_RATE, decode

        samples = decode(audio, limit=limit)
    except SpeechUnavailable:
        return None
    return float(samples.shape[0]) / SAMPLE_RATE
