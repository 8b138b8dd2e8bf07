"""QR codes of pairing links, as PNG bytes (printed sheets, admin page, ``crmbot pair``)."""

from __future__ import annotations

import base64
import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M


def qr_png(data: str, box_size: int = 8) -> bytes:
    """A PNG of ``data``'s QR code.

    Medium error correction keeps the code readable from a slightly crumpled
    printout; the 4-module quiet border is what phone scanners expect.
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(data)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_data_url(data: str, box_size: int = 8) -> str:
    """The QR code as a ``data:image/png;base64,...`` URL, for self-contained HTML."""
    return "data:image/png;base64," + base64.b64encode(qr_png(data, box_size)).decode("ascii")
