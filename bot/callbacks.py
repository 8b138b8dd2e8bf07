"""Typed button data, declared next to the view that packs it (aiogram's ``CallbackData``).

A button carries ``prefix:field:field…`` — at most 64 bytes, Telegram's limit —
decoded back into the same dataclass before its handler runs::

    @dataclass(frozen=True)
    class PlanningCb(CallbackData, prefix="plan"):
        view: View          # an enum: its value
        day: date           # YYYYMMDD
        page: int = 0
        back: str | None = None   # optional: empty means None

    PlanningCb.handler(show_planning)   # show_planning(update, context, data: PlanningCb)

Field types: ``int``, ``str``, ``bool``, ``date``, enums, and ``X | None`` of those.
Strings are ids that may end up in an artis.net URL, so they are restricted to
``[A-Za-z0-9_.@-]`` and may not be ``.`` or ``..``. Anything that does not decode —
a stale layout, a forged value, a wrong type — simply does not match the handler, and
the stale-button answer (``handlers/fallback.py``) takes the press.

Why not PTB's arbitrary callback data: it keeps the objects in a per-process cache,
so a button sent by one bot process could not be read by another sharing Redis.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import types
from collections.abc import Awaitable, Callable
from datetime import date
from typing import (
    Any,
    ClassVar,
    Generic,
    Self,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

MAX_BYTES = 64
SEPARATOR = ":"
_SAFE = re.compile(r"[A-Za-z0-9_.@-]+")
_INT = re.compile(r"-?\d{1,18}")
_DATE = re.compile(r"\d{8}")


T = TypeVar("T", bound="CallbackData")


def is_safe_id(value: str) -> bool:
    """An id fit for a URL path segment: safe characters, and not a dot segment."""
    return bool(_SAFE.fullmatch(value)) and value not in (".", "..")


_PUBLIC: list[type[CallbackData]] = []


class CallbackData:
    """Subclass as a frozen dataclass: ``class XCb(CallbackData, prefix="x")``.

    ``public=True``: the button works without a paired, unlocked session (choosing the
    language); the access guard asks ``is_public_button``.
    """

    prefix: ClassVar[str]
    _codecs: ClassVar[tuple[tuple[str, _Codec], ...]]

    def __init_subclass__(cls, *, prefix: str | None = None, public: bool = False,
                          **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if prefix is not None:
            if not _SAFE.fullmatch(prefix):
                raise ValueError(f"unsafe callback prefix {prefix!r}")
            cls.prefix = prefix
        if public:
            _PUBLIC.append(cls)

    @classmethod
    def _fields(cls) -> tuple[tuple[str, _Codec], ...]:
        # Built lazily: the dataclass decorator runs after __init_subclass__.
        if "_codecs" not in cls.__dict__:
            hints = get_type_hints(cls)
            cls._codecs = tuple((item.name, _codec_for(hints[item.name]))
                                for item in dataclasses.fields(cls))  # type: ignore[arg-type]
        return cls._codecs

    def pack(self) -> str:
        parts = [self.prefix]
        for name, codec in self._fields():
            parts.append(codec.encode(getattr(self, name)))
        data = SEPARATOR.join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def unpack(cls, data: str | None) -> Self | None:
        """The decoded button, or None for anything that is not exactly this layout."""
        if not data or len(data.encode()) > MAX_BYTES:
            return None
        parts = data.split(SEPARATOR)
        fields = cls._fields()
        if parts[0] != cls.prefix or len(parts) != len(fields) + 1:
            return None
        values: dict[str, Any] = {}
        for (name, codec), raw in zip(fields, parts[1:], strict=True):
            try:
                values[name] = codec.decode(raw)
            except ValueError:
                return None
        return cls(**values)

    @classmethod
    def handler(cls, callback: Callable[[Update, Any, Self], Awaitable[None]]
                ) -> ButtonHandler[Self]:
        """The PTB handler calling ``callback(update, context, data)`` for this button."""
        return ButtonHandler(cls, callback)


def is_public_button(data: str | None) -> bool:
    """Does ``data`` decode as a button declared ``public``?"""
    return any(kind.unpack(data) is not None for kind in _PUBLIC)


class ButtonHandler(CallbackQueryHandler[Any, None], Generic[T]):
    """Matches a press whose data decodes as ``T`` and hands the decoded object over."""

    def __init__(self, data_type: type[T],
                 callback: Callable[[Update, Any, T], Awaitable[None]]) -> None:
        super().__init__(self._no_direct_call)
        self.data_type = data_type
        self.typed_callback = callback

    @staticmethod
    async def _no_direct_call(update: Update, context: Any) -> None:
        raise AssertionError("ButtonHandler calls typed_callback")

    def check_update(self, update: object) -> T | None:
        if not isinstance(update, Update) or update.callback_query is None:
            return None
        return self.data_type.unpack(update.callback_query.data)

    async def handle_update(self, update: Update,
                            application: Application[Any, Any, Any, Any, Any, Any],
                            check_result: object, context: Any) -> None:
        # No collect_additional_context: there is no regex match to put in the context.
        assert isinstance(check_result, self.data_type)
        await self.typed_callback(update, context, check_result)


# -- field codecs ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Codec:
    encode: Callable[[Any], str]
    decode: Callable[[str], Any]


def _encode_str(value: str) -> str:
    if not is_safe_id(value):
        raise ValueError(f"unsafe callback value {value!r}")
    return value


def _decode_str(raw: str) -> str:
    if not is_safe_id(raw):
        raise ValueError(raw)
    return raw


def _decode_int(raw: str) -> int:
    if not _INT.fullmatch(raw):
        raise ValueError(raw)
    return int(raw)


def _decode_bool(raw: str) -> bool:
    if raw not in ("0", "1"):
        raise ValueError(raw)
    return raw == "1"


def _decode_date(raw: str) -> date:
    if not _DATE.fullmatch(raw):
        raise ValueError(raw)
    return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))  # ValueError if impossible


def _enum_codec(kind: type[enum.Enum]) -> _Codec:
    for member in kind:
        if not is_safe_id(str(member.value)):
            raise TypeError(f"{kind.__name__}.{member.name}: unsafe value for a button")
    by_value = {str(member.value): member for member in kind}

    def decode(raw: str) -> enum.Enum:
        if raw not in by_value:
            raise ValueError(raw)
        return by_value[raw]

    return _Codec(lambda member: str(member.value), decode)


def _optional(inner: _Codec) -> _Codec:
    return _Codec(lambda value: "" if value is None else inner.encode(value),
                  lambda raw: None if raw == "" else inner.decode(raw))


_SIMPLE = {
    str: _Codec(_encode_str, _decode_str),
    int: _Codec(lambda value: str(int(value)), _decode_int),
    bool: _Codec(lambda value: "1" if value else "0", _decode_bool),
    date: _Codec(lambda value: value.strftime("%Y%m%d"), _decode_date),
}


def _codec_for(hint: Any) -> _Codec:
    if get_origin(hint) in (Union, types.UnionType):
        args = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(args) != 1 or len(get_args(hint)) != 2:
            raise TypeError(f"unsupported button field type {hint!r}")
        return _optional(_codec_for(args[0]))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum_codec(hint)
    if hint in _SIMPLE:
        return _SIMPLE[hint]
    raise TypeError(f"unsupported button field type {hint!r}")
