"""The message a chat sends while it is in a flow goes to that flow's step.

Steps are declared in ``bot/steps.py``; a module binds its handler to one with
``@on_step(steps.X)``. ``StepRouter`` comes first in group 0, before the commands:

- typed text, a voice note, a location or a contact card goes to the handler of the
  chat's step — or, when the step does not take that kind, gets a polite
  "at this step I expect …";
- a command goes to its command handler (``/annuler`` leaves any flow), except at a
  secret step, which owns the next message whatever it starts with: a password may
  begin with ``/``, so anything there that is not a public command is the secret;
- a chat with no step (or a step no handler is bound to) falls through to the
  other handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Message, Update
from telegram.ext import Application, BaseHandler

from bot.commands import PUBLIC_COMMANDS
from bot.context import BotContext
from bot.outbound import answer
from bot.scope import CURRENT_SESSION
from bot.services.sessions import ChatSession
from bot.steps import Kind, Step
from bot.views import common

StepHandler = Callable[[Update, BotContext], Awaitable[None]]
_HANDLERS: dict[str, StepHandler] = {}
_LATER: list[Callable[[], object]] = []  # imports the modules that bind the other steps


def bind_later(load: Callable[[], object]) -> None:
    """``load`` imports handler modules not imported yet (``handlers/later.py``): called
    the first time a chat's step has no handler bound."""
    _LATER.append(load)


def on_step(step: Step) -> Callable[[StepHandler], StepHandler]:
    """Bind the handler of ``step`` (one handler per step)."""
    def register(handler: StepHandler) -> StepHandler:
        if _HANDLERS.get(step.name, handler) is not handler:
            raise ValueError(f"step {step.name!r} already has a handler")
        _HANDLERS[step.name] = handler
        return handler
    return register


def command_of(message: Message | None) -> str | None:
    """``aide`` for ``/aide@bot extra``; None for a message that is not a command."""
    if message is None or not message.text or not message.text.startswith("/"):
        return None
    return message.text.split()[0][1:].split("@")[0].lower()


def kind_of(message: Message) -> Kind | None:
    if message.text is not None:
        return Kind.TEXT
    if message.voice is not None or message.audio is not None:
        return Kind.VOICE
    if message.location is not None:
        return Kind.LOCATION
    if message.contact is not None:
        return Kind.CONTACT
    return None


def routed_step(update: Update, session: ChatSession | None) -> tuple[Step, Kind] | None:
    """The step this update is for, and its kind of message; None if it is not for a step."""
    message = update.message
    step = session.step if session is not None else None
    if message is None or step is None:
        return None
    while step.name not in _HANDLERS and _LATER:
        _LATER.pop()()
    if step.name not in _HANDLERS:
        return None
    kind = kind_of(message)
    if kind is None:
        return None
    command = command_of(message)
    if command is not None and (not step.secret or command in PUBLIC_COMMANDS):
        return None
    return step, kind


class StepRouter(BaseHandler[Update, BotContext, None]):
    """Hands a message to the handler of the chat's step (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__(self._unused)

    @staticmethod
    async def _unused(update: Update, context: BotContext) -> None:
        raise AssertionError("StepRouter dispatches in handle_update")

    def check_update(self, update: object) -> tuple[Step, Kind] | None:
        if not isinstance(update, Update):
            return None
        return routed_step(update, CURRENT_SESSION.get())

    async def handle_update(self, update: Update,
                            application: Application[Any, Any, Any, Any, Any, Any],
                            check_result: object, context: BotContext) -> None:
        self.collect_additional_context(context, update, application, check_result)
        assert isinstance(check_result, tuple)
        step, kind = check_result
        if not step.takes(kind):
            await answer(update, common.step_expects(context.l10n, step.accepts))
            return
        await _HANDLERS[step.name](update, context)


HANDLERS = [StepRouter()]
