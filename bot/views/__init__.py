"""Renderers: turn service results into localized text and inline keyboards.

A renderer takes an ``L10n`` and plain data and returns a ``Reply``; it never
talks to artis.net or the store. Texts use Telegram's HTML parse mode, so any
value coming from a user or from artis.net goes through ``esc``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup


@dataclass(frozen=True)
class Reply:
    """A message to send: HTML text and an optional inline keyboard."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class Venue:
    """A place card (``sendVenue``): the phone opens it in its maps app; URL buttons below."""

    latitude: float
    longitude: float
    title: str
    address: str
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class ContactCard:
    """A contact card (``sendContact``) the phone calls or saves in one tap."""

    phone_number: str
    first_name: str
    last_name: str | None = None


@dataclass(frozen=True)
class Document:
    """A file sent as a document (``sendDocument``), with an HTML caption."""

    filename: str
    content: bytes
    caption: str | None = None


@dataclass(frozen=True)
class Photo:
    """An image shown in the chat (``sendPhoto``), e.g. the manager's weekly chart."""

    content: bytes
    caption: str | None = None
    filename: str = "chart.png"


@dataclass(frozen=True)
class LocationRequest:
    """A message with a one-time reply-keyboard button that shares the phone's location."""

    text: str
    button: str


#: What a renderer may hand to ``bot/outbound.py``: a message, a place or contact card, a
#: file, an image, a request for the rep's location.
Outgoing = Reply | Venue | ContactCard | Document | Photo | LocationRequest


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)


def keyboard(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([row for row in rows if row])


def button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def url_button(text: str, url: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, url=url)
