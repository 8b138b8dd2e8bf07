"""Confirm ONE compte rendu in a separate bot process (the crash test kills it mid-way).

    python -m tests.outbox_process SETTINGS_JSON ORDER_JSON

Prints "submitting", then the outcome's name, then waits to be killed.
"""

from __future__ import annotations

import asyncio
import json
import sys

from bot.services.outbox import ReportOrder
from bot.settings import Settings
from tests.harness import running_bot


async def main(settings_json: str, order_json: str) -> None:
    settings = Settings(_env_file=None, **json.loads(settings_json))
    async with running_bot(settings) as bot:
        print("submitting", flush=True)
        outcome = await bot.services.outbox.submit(ReportOrder.model_validate_json(order_json))
        print(type(outcome).__name__, flush=True)
        await asyncio.sleep(120)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
