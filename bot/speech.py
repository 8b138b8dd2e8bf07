"""The transcriber the settings ask for (core layer, beside the services).

``STT_URL`` set: an OpenAI-compatible transcription server. Otherwise faster-whisper on this
machine (the ``voice`` extra), its model from ``STT_MODEL_DIR``, the packaged Whisper base
(joined once into ``DATA_DIR/models``) or a download of ``STT_MODEL``. Without the extra,
``build_transcriber`` raises ``SpeechUnavailable``: the caller answers "transcription not
installed" and keeps the audio reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from bot.settings import Settings
from integrations.speech import SpeechUnavailable, Transcriber

__all__ = ["SpeechUnavailable", "build_transcriber", "model_cache_dir"]


def model_cache_dir(settings: Settings) -> Path:
    """Where the packaged model is joined: ``DATA_DIR/models``."""
    return settings.data_dir / "models"


def build_transcriber(settings: Settings, *,
                      executor: Literal["process", "thread"] | None = None) -> Transcriber:
    """A transcriber per the settings; ``executor`` overrides ``STT_EXECUTOR`` (a one-shot
    command has no use for a worker process)."""
    if settings.stt_url:
        from integrations.speech.http import HttpTranscriber

        key = settings.stt_api_key.get_secret_value() if settings.stt_api_key else None
        model = "whisper-1" if settings.stt_model == "base" else settings.stt_model
        return HttpTranscriber(settings.stt_url, model=model, api_key=key)
    from integrations.speech.whisper import WhisperConfig, WhisperTranscriber

    config = WhisperConfig(model_dir=settings.stt_model_dir, model_name=settings.stt_model,
                           cache_dir=model_cache_dir(settings),
                           cpu_threads=settings.stt_threads)
    return WhisperTranscriber(config, executor=executor or settings.stt_executor)
