"""Typed callback data for inline buttons (the aiogram ``CallbackData`` idea).

A button carries ``prefix:field:field`` (at most 64 bytes, Telegram's limit).
``unpack`` returns None for anything that does not parse, so a stale, forged
or garbled button gets a polite answer instead of an exception.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, ClassVar, Self, get_type_hints

MAX_BYTES = 64
_SAFE = re.compile(r"^[A-Za-z0-9_.@-]*$")


class CallbackData:
    """Subclass as a dataclass with ``prefix`` and ``str``/``int`` fields."""

    prefix: ClassVar[str]

    def pack(self) -> str:
        parts = [self.prefix]
        for item in dataclasses.fields(self):  # type: ignore[arg-type]
            value = str(getattr(self, item.name))
            if ":" in value or not _SAFE.match(value):
                raise ValueError(f"unsafe callback value {value!r}")
            parts.append(value)
        data = ":".join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def pattern(cls) -> re.Pattern[str]:
        return re.compile(rf"^{re.escape(cls.prefix)}(:|$)")

    @classmethod
    def unpack(cls, data: str | None) -> Self | None:
        if not data:
            return None
        parts = data.split(":")
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        if parts[0] != cls.prefix or len(parts) != len(fields) + 1:
            return None
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for item, raw in zip(fields, parts[1:], strict=True):
            if hints[item.name] is int:
                if not re.fullmatch(r"-?\d{1,18}", raw):
                    return None
                values[item.name] = int(raw)
            else:
                if not raw or not _SAFE.match(raw):
                    return None
                values[item.name] = raw
        return cls(**values)
