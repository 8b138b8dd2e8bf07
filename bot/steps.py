"""Every conversation step the bot can be in, declared once with its flags.

A chat's step lives in the store (``keys.flow``) as the step's name; this module
turns the name back into a ``Step`` that says:

- ``public``: the step is reachable without a paired, unlocked session (logging in,
  unlocking) — the access guard lets the message through;
- ``secret``: the awaited message is a password or PIN: it owns the next message
  whatever it starts with (a ``/`` is part of a password), the message is deleted
  from the chat and never kept, whatever happens to the flow;
- ``accepts``: the kinds of message the step takes (typed text, voice note,
  location, contact card); anything else gets a polite "at this step I expect …".

Handlers bind to a step with ``handlers.steps.on_step(STEP)``; services, the SSO
callback and background jobs (a missing-report nudge opening the report step)
refer to the same objects, without importing any handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What kind of message a step may receive."""

    TEXT = "text"
    VOICE = "voice"
    LOCATION = "location"
    CONTACT = "contact"


_REGISTRY: dict[str, Step] = {}


@dataclass(frozen=True)
class Step:
    name: str
    public: bool = False
    secret: bool = False
    accepts: frozenset[Kind] = frozenset({Kind.TEXT})

    def takes(self, kind: Kind) -> bool:
        return kind in self.accepts


def declare(name: str, *, public: bool = False, secret: bool = False,
            accepts: frozenset[Kind] | set[Kind] = frozenset({Kind.TEXT})) -> Step:
    """Declare a step (once per name; the tests declare their own, prefixed ``test.``)."""
    if name in _REGISTRY:
        raise ValueError(f"step {name!r} declared twice")
    if secret and accepts != {Kind.TEXT}:
        raise ValueError("a secret step takes typed text only")
    step = Step(name, public=public, secret=secret, accepts=frozenset(accepts))
    _REGISTRY[name] = step
    return step


def secret_names() -> frozenset[str]:
    """The names of the secret steps (the inbox's Redis script withholds a text at one)."""
    return frozenset(name for name, step in _REGISTRY.items() if step.secret)


def lookup(name: str | None) -> Step | None:
    """The declared step of that name; None for no step, or a step no longer declared
    (a flow written by an older version): the chat is then treated as out of any flow."""
    return _REGISTRY.get(name) if name else None


# -- the door: pairing, unlocking, PIN -----------------------------------------------------
LOGIN_PASSWORD = declare("login.password", public=True, secret=True)
UNLOCK_PASSWORD = declare("unlock.password", public=True, secret=True)
UNLOCK_PIN = declare("unlock.pin", public=True, secret=True)
NEW_PIN = declare("pin.new", secret=True)

# -- the rep's day ---------------------------------------------------------------------------
CONTACT_FIELD = declare("contact.field")  # the new value of one field of a contact
CONTACT_NEW = declare("contact.new")  # the next answer for a new contact (name, phone…)

# -- comptes rendus --------------------------------------------------------------------------
REPORT_TEXT = declare("report.text", accepts={Kind.TEXT, Kind.VOICE})  # the report itself
REPORT_DATE = declare("report.date")  # a date phrase for the follow-up action
REPORT_SUBJECT = declare("report.subject")  # the follow-up action's subject
