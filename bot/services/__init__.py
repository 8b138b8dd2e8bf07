"""Services: the bot's behaviour, free of Telegram types.

Each service talks to the artis.net client and/or the store and returns plain
data for a renderer in ``bot/views``.
"""
