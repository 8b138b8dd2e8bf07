"""python-telegram-bot's network layer on aiohttp, for the Bot API.

Measured (``bench/``): under PTB's ``HTTPXRequest``, even with aiohttp's transport under
httpx (``integrations/http.py``), a Bot API call costs about twice the CPU of this class,
which hands PTB's JSON payload straight to aiohttp. The tests and the terminal demo keep
``HTTPXRequest`` with the in-process fake Bot API as its httpx transport.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpBotApiRequest(BaseRequest):
    """python-telegram-bot's network layer on aiohttp alone: no httpx models in between.

    A Bot API call is one aiohttp request whose body is PTB's JSON payload (Telegram takes
    ``application/json``); a call with files goes as multipart. Errors map to PTB's, as
    ``HTTPXRequest`` maps them: a timeout is ``TimedOut``, any other client error
    ``NetworkError``.
    """

    def __init__(self, *, connection_pool_size: int = 128, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0
                 ) -> None:
        self._pool_size = connection_pool_size
        self._timeouts = (read_timeout, write_timeout, connect_timeout, pool_timeout)
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._headers = {"User-Agent": self.USER_AGENT}
        self._json_headers = {**self._headers, "Content-Type": "application/json"}

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts[0]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                # ssl: aiohttp's own verified context, built once when aiohttp is imported.
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                skip_auto_headers=("Accept-Encoding",))

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpBotApiRequest is not initialized!")
        default_read, default_write, default_connect, default_pool = self._timeouts
        files = request_data is not None and request_data.contains_files
        read = default_read if isinstance(read_timeout, DefaultValue) else read_timeout
        write = (write_timeout if not isinstance(write_timeout, DefaultValue)
                 else self._media_write_timeout if files else default_write)
        connect = default_connect if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = default_pool if isinstance(pool_timeout, DefaultValue) else pool_timeout
        # aiohttp has no write timeout of its own: a large upload is bounded by the read one.
        if write is not None and read is not None and files:
            read = max(read, write)
        timeout = aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect,
                                        sock_read=read)
        data: Any = None
        headers = self._headers
        if request_data is not None:
            if files:
                form = aiohttp.FormData(quote_fields=False)
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mimetype) in request_data.multipart_data.items():
                    form.add_field(name, content, filename=filename, content_type=mimetype)
                data = form
            else:
                data = request_data.json_payload
                headers = self._json_headers
        try:
            async with self._session.request(method, url, data=data, headers=headers,
                                             timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc


def bot_api_requests() -> tuple[BaseRequest, BaseRequest]:
    """PTB's two requests for the Bot API: sends (up to 128 at once), and getUpdates."""
    return (AiohttpBotApiRequest(connection_pool_size=128, read_timeout=15.0),
            AiohttpBotApiRequest(connection_pool_size=4, read_timeout=40.0))
