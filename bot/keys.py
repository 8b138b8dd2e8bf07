"""Every key the bot writes in the store, built in one place.

The store adds its namespace (``STORE_NAMESPACE``) in front. Keys are grouped by
what they belong to, which also says who may read them:

- a **chat** (``chat_id``): its conversation step, its drafts, its lock, unlock failures,
  its send pacing and the mark of a user who blocked the bot;
- the **whole bot**: the send schedule and the pause after a 429;
- a **Telegram user** (``user_id``): language, artis.net link, wrong PINs;
- an **artis.net login**: the reverse index to the Telegram user, pairing lockouts, the
  current pairing token;
- a **one-time secret** (stored by hash only): pairing tokens, SSO states;
- an **update** (``update_id``): de-duplication.

The bot works in private chats only, where Telegram gives the chat the id of
its user: a rep's chat id *is* their user id. Keys still say which one they mean.
"""

from __future__ import annotations

# -- updates -------------------------------------------------------------------------------


def seen(update_id: int) -> str:
    """Marks an update as taken, so a webhook retry or a second process skips it."""
    return f"seen:{update_id}"


def inbox(update_id: int) -> str:
    """An update received but not yet handled (``bot/inbox.py``)."""
    return f"{inbox_prefix()}{update_id}"


def inbox_prefix() -> str:
    return "inbox:"


def inbox_index() -> str:
    """On Redis, the inbox's update ids by the time they were recorded (``bot/inbox.py``):
    the sweeper reads it instead of walking the keyspace."""
    return "inbox-index"


# -- reports -------------------------------------------------------------------------------


def outbox(report_id: str) -> str:
    """A confirmed compte rendu until artis.net has it (``bot/services/outbox.py``)."""
    return f"outbox:{report_id}"


def outbox_queue() -> str:
    """The store queue of reports not yet finished (pending or waiting for the unlock): the
    sweep's index, due when the next look is, so no tick scans the keyspace."""
    return "outbox"


def outbox_delivery(report_id: str) -> str:
    """Held while one process posts a report: two workers never post the same one."""
    return f"outbox-delivery:{report_id}"


def outbox_told(report_id: str) -> str:
    """Set by whoever tells the rep how a report ended (``submit`` in its wait, or the job
    later): SET NX, so the rep hears it exactly once."""
    return f"outbox-told:{report_id}"


def outbox_of(login: str) -> str:
    """The report ids of one artis.net login not yet delivered (``/envois``, the unlock)."""
    return f"outbox-of:{login}"


def outbox_unlock_asked(login: str) -> str:
    """Set once the rep was asked to unlock for waiting reports; the unlock clears it."""
    return f"outbox-unlock-asked:{login}"


def jobs_queue() -> str:
    """The taskiq broker's Redis list (under the store's namespace, written by taskiq)."""
    return "jobs"


def schedules() -> str:
    """Prefix of taskiq's Redis schedule source: the tick of digests and reminders."""
    return "schedule"


def schedules_lock() -> str:
    """Held while a process (re)writes the tick's schedule."""
    return "schedule-lock"


def tick_slot(slot: int) -> str:
    """Taken by the first scheduled tick of an interval; the others skip it."""
    return f"tick:{slot}"


def job_results() -> str:
    """Prefix of taskiq's task results (a transcript), ``<prefix>:<task id>``."""
    return "job-result"


# -- a chat --------------------------------------------------------------------------------


def chat_lock(chat_id: int) -> str:
    """Serializes one chat's work across processes (updates, SSO callback, jobs)."""
    return f"chat:{chat_id}"


def flow(chat_id: int) -> str:
    """The step the chat is in, and that step's small data."""
    return f"flow:{chat_id}"


def drafts_of(chat_id: int) -> str:
    """Prefix of every draft of a chat (to drop them all when the chat is unpaired)."""
    return f"draft:{chat_id}:"


def draft(chat_id: int, slot: str, ref: str) -> str:
    """One draft (a compte rendu, a contact edit), kept while the rep browses elsewhere."""
    return f"{drafts_of(chat_id)}{slot}:{ref}"


#: How long a "blocked" mark lasts if the user never writes again (a year).
BLOCKED_TTL = 365 * 24 * 3600


def blocked(chat_id: int | str) -> str:
    """Set when the chat's user blocked the bot (a 403): sends to it are skipped until the
    chat writes again (``Inbox.record`` deletes it)."""
    return f"blocked:{chat_id}"


def chat_pace(chat_id: int | str) -> str:
    """When the next message to the chat may go (``bot/ratelimit.py``, on Redis)."""
    return f"send-next:{chat_id}"


# -- the whole bot -------------------------------------------------------------------------


def send_schedule() -> str:
    """The next free slot of the bot's overall send rate (``bot/ratelimit.py``, on Redis)."""
    return "send-schedule"


def send_pause() -> str:
    """Until when every process holds its requests after a 429 (``bot/ratelimit.py``)."""
    return "send-pause"


# -- a Telegram user -----------------------------------------------------------------------


def lang(user_id: int) -> str:
    return f"lang:{user_id}"


def link(user_id: int) -> str:
    """The user's artis.net pairing (``ArtisLink``)."""
    return f"{links()}{user_id}"


def links() -> str:
    """Prefix of every pairing: the scheduler walks them to find who gets what."""
    return "link:"


def digest_prefs(user_id: int) -> str:
    """A manager's digest time and pause (``bot/services/preferences.py``)."""
    return f"digest-prefs:{user_id}"


def reminder_prefs(user_id: int) -> str:
    """Which reminders a rep turned off in /reglages."""
    return f"reminder-prefs:{user_id}"


def digest_sent(user_id: int, local_day: str) -> str:
    """Claims one manager's digest of one local day (``add`` NX before sending: exactly
    one process sends it)."""
    return f"digest-sent:{user_id}:{local_day}"


def reminder_sent(kind: str, action_id: str, user_id: int) -> str:
    """Claims one reminder (a briefing, a missing-report nudge) of one action to one rep."""
    return f"reminder-sent:{kind}:{action_id}:{user_id}"


def reminder_planning(login: str) -> str:
    """The window of a rep's planning the reminders last read (``bot/services/schedule.py``),
    kept a few minutes instead of read again at every tick."""
    return f"reminder-planning:{login}"


def pin_failures(user_id: int) -> str:
    """Wrong PINs in a row; at ``MAX_PIN_FAILURES`` the PIN and the artis.net session go."""
    return f"pin-failures:{user_id}"


def unlock_failures(chat_id: int) -> str:
    """Wrong passwords typed to unlock a paired chat (counted per chat, not per login, so
    a stranger trying passwords through a leaked pairing link cannot lock the rep out)."""
    return f"unlock-failures:{chat_id}"


def unlock_lock(chat_id: int) -> str:
    """Set after too many wrong unlock passwords in this chat."""
    return f"unlock-lock:{chat_id}"


# -- an artis.net login --------------------------------------------------------------------


def linked_login(login: str) -> str:
    """Reverse index: the Telegram user paired with an artis.net login."""
    return f"linked-login:{login}"


def artis_read(login: str, what: str) -> str:
    """One artis.net answer read with ``login``'s own token, kept a short while. Keyed by
    login, never by object id alone: rep B must not read what artis.net showed rep A."""
    return f"artis-read:{login}:{what}"


def artis_reads_generation(login: str) -> str:
    """The generation of ``login``'s cached answers: a new one makes them all stale (the
    rep wrote something; ``bot/services/artis_cache.py``)."""
    return f"artis-read-generation:{login}"


def pairing_failures(login: str) -> str:
    return f"pairing-failures:{login}"


def pairing_lock(login: str) -> str:
    return f"pairing-lock:{login}"


def current_pairing_token(login: str) -> str:
    """The SHA-256 of the login's one valid pairing token: a new link revokes the older."""
    return f"pairing-current:{login}"


def invite_lock(login: str) -> str:
    """Serializes issuing links for one login, so two at once still leave one valid."""
    return f"invite:{login}"


# -- one-time secrets (by SHA-256 only) ----------------------------------------------------


def pairing_token(token_sha256: str) -> str:
    return f"pairing:{token_sha256}"


def sso_state(state_sha256: str) -> str:
    return f"sso-state:{state_sha256}"


def sso_browser(state_sha256: str) -> str:
    """The hash of the nonce of the one browser that opened an SSO sign-in link."""
    return f"sso-browser:{state_sha256}"
