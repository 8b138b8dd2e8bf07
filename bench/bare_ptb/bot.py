"""The bare python-telegram-bot of the cold-start comparison: the floor our bot stands on.

One handler that answers any message with a fixed text, long polling against the Bot API
server in BOT_API_URL, no storage, nothing else. It runs in our own virtual environment, so
its start-up is PTB's own import and first poll on the same interpreter as ours.
"""

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def any_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("To use me, scan the pairing QR code.")


def main() -> None:
    url = os.environ["BOT_API_URL"]
    app = (Application.builder().token(os.environ["BOT_TOKEN"]).base_url(f"{url}/bot")
           .base_file_url(f"{url}/file/bot").build())
    app.add_handler(MessageHandler(filters.ALL, any_message))
    app.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
