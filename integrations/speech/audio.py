"""Decoding voice notes with PyAV (bundled FFmpeg: no system ffmpeg), with a duration cap.

The decode stops as soon as the audio passes the limit, so a multi-hour file costs a few
seconds of decoding at most, never its whole length in memory.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from integrations.speech.base import MAX_SECONDS, SpeechUnavailable, TooLong, Unreadable

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000  # what Whisper listens at


def decode(audio: bytes, *, limit: float = MAX_SECONDS) -> np.ndarray:
    """Mono float32 samples at 16 kHz. Raises ``Unreadable``, ``TooLong`` or, without PyAV,
    ``SpeechUnavailable``."""
    try:
        import av
        import numpy as np
    except ImportError as exc:  # pragma: no cover - the voice extra brings both
        raise SpeechUnavailable("speech to text is not installed (pip install '.[voice]')"
                                ) from exc
    if not audio:
        raise Unreadable("the audio is empty")
    max_samples = int(limit * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    count = 0
    try:
        with av.open(io.BytesIO(audio), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise Unreadable("the file has no audio stream")
            stream = container.streams.audio[0]
            declared = (float(container.duration) / av.time_base
                        if container.duration else None)
            if declared is not None and declared > limit + 1.0:
                raise TooLong(declared, limit)
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            for packet in container.demux(stream):
                for frame in packet.decode():
                    for out in resampler.resample(frame):
                        chunk = out.to_ndarray().reshape(-1)
                        chunks.append(chunk)
                        count += chunk.shape[0]
                if count > max_samples:
                    raise TooLong(count / SAMPLE_RATE, limit)
            for out in resampler.resample(None):
                chunk = out.to_ndarray().reshape(-1)
                chunks.append(chunk)
                count += chunk.shape[0]
    except (TooLong, Unreadable):
        raise
    except (av.FFmpegError, ValueError, IndexError, EOFError) as exc:
        raise Unreadable(f"the audio cannot be decoded ({type(exc).__name__})") from exc
    if count > max_samples:
        raise TooLong(count / SAMPLE_RATE, limit)
    if count == 0:
        raise Unreadable("the file holds no audio")
    return np.concatenate(chunks).astype(np.float32) / 32768.0
