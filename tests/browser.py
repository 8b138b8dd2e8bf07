"""Test helpers for real-browser and real-HTTP tests: Debian's Chromium driven by
Playwright, an ASGI app served by uvicorn on a loopback port, QR decoding.

Playwright's own browser download is not available here, so tests use
``/usr/bin/chromium`` (install it with ``.ci/install-browser.sh``). A missing
browser fails the test with that hint: a silent skip would pass for a success.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def require_chromium() -> Path:
    """The Chromium binary, or a test FAILURE saying how to install it."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"{CHROMIUM} is missing: run .ci/install-browser.sh (installs Debian's "
                    "chromium) before the browser tests", pytrace=False)
    return CHROMIUM


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium (Debian's), closed afterwards."""
    executable = require_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(executable), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def serve(app: object) -> AsyncIterator[str]:
    """Serve an ASGI app on a free loopback port in this event loop; yields its base URL.

    The socket is bound here and handed to uvicorn, so there is no window in
    which another process could take the port.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))  # type: ignore[arg-type]
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started:
                break
            if task.done():
                task.result()  # surfaces the start-up error
            await asyncio.sleep(0.01)
        else:
            raise RuntimeError("uvicorn did not start within 5 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()


def decode_qr(png: bytes) -> str:
    """The text of the single QR code in a PNG (fails the test if there is not exactly one)."""
    image = Image.open(io.BytesIO(png))
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1, f"expected one QR code in the image, found {len(results)}"
    return results[0].text


def decode_data_url(url: str) -> bytes:
    """The bytes of a ``data:image/png;base64,...`` URL."""
    header, _, payload = url.partition(",")
    assert header == "data:image/png;base64", header
    return base64.b64decode(payload)
