"""Background work on taskiq: report delivery, its sweep, and transcription.

- ``broker.py`` builds the broker from the settings at run time (taskiq-redis on
  ``REDIS_URL``, taskiq's in-process broker on the embedded default);
- ``delivery.py`` delivers a report and tells the rep (chat scope + ``bot/outbound.py``);
- ``transcribe.py`` runs a transcription on a worker and awaits its result;
- ``runner.py`` wires them to the services and runs the consumer and the sweep.

No PTB ``Application`` and no handler here: a worker is the services plus a send-only Bot.
"""

from bot.jobs.runner import Jobs, open_jobs

__all__ = ["Jobs", "open_jobs"]
