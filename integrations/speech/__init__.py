"""Speech to text for dictated comptes rendus (the outside world: knows nothing of the bot).

- ``Transcriber`` (protocol), ``Transcript``, ``Segment`` and the errors: ``base``;
- ``WhisperTranscriber``: faster-whisper on this machine (``whisper``; the ``voice`` extra);
- ``HttpTranscriber``: an OpenAI-compatible ``/v1/audio/transcriptions`` server (``http``);
- ``resolve_model``: where the Whisper weights come from (``model``);
- ``speech_context``: a prompt and hotwords from the rep's own artis.net names (``context``).

Importing this package imports no engine; ``WhisperTranscriber`` raises ``SpeechUnavailable``
when faster-whisper is not installed.
"""

from integrations.speech.base import (
    MAX_SECONDS,
    ModelIntegrityError,
    Segment,
    SpeechError,
    SpeechUnavailable,
    TooLong,
    Transcriber,
    Transcript,
    Unreadable,
)

__all__ = ["MAX_SECONDS", "ModelIntegrityError", "Segment", "SpeechError", "SpeechUnavailable",
           "TooLong", "Transcriber", "Transcript", "Unreadable"]
