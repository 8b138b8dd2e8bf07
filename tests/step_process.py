"""Run ONE update through a separate bot process (used by the two-process test).

    python -m tests.step_process SETTINGS_JSON USER_ID TEXT

Prints the texts the bot sent to that chat as a JSON list.
"""

from __future__ import annotations

import asyncio
import json
import sys

from bot.settings import Settings
from integrations.fake_bot_api import SimUser
from tests.harness import running_bot


async def main(settings_json: str, user_id: int, text: str) -> None:
    settings = Settings(_env_file=None, **json.loads(settings_json))
    async with running_bot(settings) as bot:
        texts = await bot.say(SimUser(id=user_id, first_name="Camille"), text)
    print(json.dumps(texts))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
