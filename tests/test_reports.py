"""Comptes rendus seen from the chat: typed or dictated, the confirmation card, the suite à
donner, drafts that survive, and what artis.net has afterwards.

Driven through the real Application against a demo artis.net of its own per test (a report
changes the planning other tests count), on both stores. Voice notes are fixture OGG files
served by the fake Bot API's getFile and transcribed by the real faster-whisper (packaged
base model, HF_HUB_OFFLINE=1); only two tests transcribe, each costs a few seconds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # before faster-whisper / huggingface_hub are imported

from babel.dates import format_date

from bot.services import dates
from bot.services.reports import REPORT, propose
from bot.views.planning import OpCb
from bot.views.report import RepCb, RepOp
from integrations.artis.client import ArtisClient
from integrations.artis.demo import DemoArtisServer, DemoLogins
from integrations.artis.models import ActionStatus, ActionType, FollowUpKind
from integrations.fake_bot_api import SimUser
from tests.harness import BotHarness, new_user

PARIS = ZoneInfo("Europe/Paris")
FIXTURES = Path(__file__).parent / "fixtures" / "voice"
STALE = "n'est plus valable"


@pytest.fixture
def artis(tmp_path: Path) -> Iterator[DemoArtisServer]:
    """A demo artis.net of this test's own: reports close actions for good."""
    with DemoArtisServer(db_path=tmp_path / "artis-demo.sqlite3", faults_enabled=True) as server:
        yield server


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged Whisper base, joined once for the module (STT_MODEL_DIR)."""
    from integrations.speech.model import resolve_model

    return Path(resolve_model(cache_dir=tmp_path_factory.mktemp("stt") / "models").model)


@pytest.fixture
def voice_bot(start_bot: Any, model_dir: Path) -> Any:
    """A bot that transcribes (in a thread: one short-lived bot per test)."""
    return start_bot(stt_model_dir=model_dir, stt_executor="thread")


def today() -> date:
    return datetime.now(PARIS).date()


def fr(day: date) -> str:
    return format_date(day, format="full", locale="fr_FR")


def said(phrase: str) -> date:
    """The day the bot's date module gives ``phrase`` today (measured in tests/test_dates.py)."""
    when = dates.resolve(phrase, now=datetime.now(PARIS), tz=PARIS,
                         purpose=dates.Purpose.FOLLOW_UP)
    assert when is not None
    return when.start


async def paired(bot: BotHarness) -> SimUser:
    user = new_user()
    await bot.pair(user)
    return user


async def open_first_rdv(bot: BotHarness, user: SimUser) -> RepCb:
    """Today's 09:30 appointment (Imprimerie Carpentier); ✍️ pressed. Its report button."""
    await bot.say(user, "/planning")
    await bot.press_label(user, "09:30 RDV")
    _, found = bot.find_button(user, "✍️ Compte rendu")
    texts = await bot.press_label(user, "✍️ Compte rendu")
    assert "Compte rendu</b> — RDV · Imprimerie Carpentier" in texts[-1]
    assert "Tapez le compte rendu, ou envoyez une note vocale" in texts[-1]
    op = OpCb.unpack(found["callback_data"])
    assert op is not None
    return RepCb.of(op.card(), RepOp.START)


async def action_in_artis(artis_client: ArtisClient, artis_login: Any, action_id: str) -> Any:
    token = await artis_login(DemoLogins.COMMERCIAL)
    return (await artis_client.get_action(token, action_id)).action


def voice_message(bot: BotHarness, user: SimUser, audio: bytes, duration: int) -> dict[str, Any]:
    file_id = bot.api.add_file(audio)
    return bot.api.message_update(user, voice={
        "file_id": file_id, "file_unique_id": file_id, "duration": duration,
        "mime_type": "audio/ogg", "file_size": len(audio)})


# -- typed ------------------------------------------------------------------------------------
async def test_a_typed_report_is_confirmed_then_lands_on_the_action_with_its_follow_up(
        bot: BotHarness, artis: DemoArtisServer, artis_client: ArtisClient,
        artis_login: Any) -> None:
    user = await paired(bot)
    report = await open_first_rdv(bot, user)
    text = ("Madame Roche veut renouveler le contrat de maintenance des 6 copieurs, "
            "à rappeler jeudi prochain.")
    [card] = await bot.say(user, text)
    thursday = said("jeudi prochain")
    assert text in card
    assert "Suite à donner : <b>nouvelle action</b> — 📞 Appel le " + fr(thursday) + " à 09:00" \
        in card
    assert "Objet : À rappeler jeudi prochain" in card
    assert "« jeudi prochain » trouvé dans le compte rendu" in card
    assert "Rien n'est écrit dans artis.net avant ✅." in card
    for label in ("✅ Enregistrer", "✏️ Corriger", "❌ Annuler", "Aucune", "• Nouvelle action",
                  "Nouvelle affaire", "🔁 Type : Appel", "📅 Date", "✏️ Objet"):
        bot.find_button(user, label)
    assert artis.request_count("/actions/" + report.action + "/report") == 0

    [done] = await bot.press_label(user, "✅ Enregistrer")
    assert "✅ Compte rendu enregistré dans artis.net." in done
    assert f"📅 Suite créée : 📞 Appel le {fr(thursday)} à 09:00" in done

    action = await action_in_artis(artis_client, artis_login, report.action)
    assert action.status is ActionStatus.REALISEE and action.report.text == text
    assert action.follow_up.kind is FollowUpKind.NOUVELLE_ACTION
    created = await action_in_artis(artis_client, artis_login,
                                    action.follow_up.created_action_id)
    assert created.type is ActionType.APPEL
    assert created.planned_start == datetime.combine(thursday, datetime.min.time().replace(
        hour=9), tzinfo=PARIS)
    assert created.site_id == action.site_id and created.contact_ids == action.contact_ids

    card = await bot.press_label(user, "⬅ Retour à l'action")
    assert "✅ réalisée" in card[-1]  # the read cache was dropped: the card shows it done
    again = await bot.press_label(user, "✍️ Compte rendu")
    assert "Cette action a déjà un compte rendu" in again[-1] and text in again[-1]


async def test_a_second_press_on_save_sends_one_report(
        bot: BotHarness, artis: DemoArtisServer) -> None:
    user = await paired(bot)
    report = await open_first_rdv(bot, user)
    await bot.say(user, "RAS, client satisfait.")
    card, button = bot.find_button(user, "✅ Enregistrer")
    [first] = await bot.press_label(user, "✅ Enregistrer")
    assert "enregistré dans artis.net" in first
    [second] = await bot.send(bot.api.callback_update(user, button["callback_data"], card))
    assert "déjà enregistré dans artis.net" in second
    assert artis.request_count(f"/actions/{report.action}/report", method="POST") == 1


async def test_correct_replaces_the_text_and_cancel_writes_nothing(
        bot: BotHarness, artis: DemoArtisServer) -> None:
    user = await paired(bot)
    report = await open_first_rdv(bot, user)
    await bot.say(user, "Premier jet avec une fôte.")
    [ask] = await bot.press_label(user, "✏️ Corriger")
    assert "Envoyez le texte corrigé, ou une nouvelle note vocale" in ask
    [card] = await bot.say(user, "Texte corrigé, sans faute. Relance dans trois semaines.")
    assert "Texte corrigé, sans faute." in card and "fôte" not in card
    assert "🔔 Relance le " + fr(today() + timedelta(weeks=3)) in card
    [gone] = await bot.press_label(user, "❌ Annuler")
    assert "Compte rendu annulé : rien n'a été écrit." in gone
    assert artis.request_count(f"/actions/{report.action}/report") == 0
    again = await bot.press_label(user, "⬅ Retour à l'action")
    again = await bot.press_label(user, "✍️ Compte rendu")
    assert "Tapez le compte rendu" in again[-1]  # no draft left


async def test_each_suite_a_donner(bot: BotHarness, artis_client: ArtisClient,
                                   artis_login: Any) -> None:
    user = await paired(bot)
    report = await open_first_rdv(bot, user)
    [card] = await bot.say(user, "Visite faite, devis remis.")
    assert "Suite à donner : aucune" in card  # no date in the text
    [card] = await bot.press_label(user, "Nouvelle affaire")
    assert "Suite à donner : <b>nouvelle affaire</b> chez Imprimerie Carpentier" in card
    [card] = await bot.press_label(user, "Aucune")
    assert "Suite à donner : aucune" in card
    [card] = await bot.press_label(user, "Nouvelle action")
    assert "<b>nouvelle action</b>" in card and "Objet : Suite : " in card
    [ask] = await bot.press_label(user, "📅 Date")
    assert "Quand a lieu la nouvelle action" in ask
    [wrong] = await bot.say(user, "quand les poules auront des dents")
    assert "Je n'ai pas compris cette date" in wrong
    [card] = await bot.say(user, "lundi prochain à 14h30")
    monday = said("lundi prochain")
    assert f"le {fr(monday)} à 14:30" in card
    assert "🤝 RDV le" in card  # « visite » in the text: an appointment
    [card] = await bot.press_label(user, "🔁 Type : RDV")
    assert "📞 Appel le" in card
    bot.find_button(user, "🔁 Type : Appel")  # RDV → Appel → E-mail…
    await bot.press_label(user, "✏️ Objet")
    [card] = await bot.say(user, "Envoyer la proposition signée")
    assert "Objet : Envoyer la proposition signée" in card
    [done] = await bot.press_label(user, "✅ Enregistrer")
    assert f"le {fr(monday)} à 14:30 — Envoyer la proposition signée" in done

    action = await action_in_artis(artis_client, artis_login, report.action)
    created = await action_in_artis(artis_client, artis_login,
                                    action.follow_up.created_action_id)
    assert created.subject == "Envoyer la proposition signée"
    assert created.planned_start.astimezone(PARIS).date() == monday


async def test_a_new_affaire_as_suite_a_donner(bot: BotHarness, artis_client: ArtisClient,
                                              artis_login: Any) -> None:
    user = await paired(bot)
    report = await open_first_rdv(bot, user)
    await bot.say(user, "Le client veut équiper son deuxième site, 4 copieurs.")
    await bot.press_label(user, "Nouvelle affaire")
    [done] = await bot.press_label(user, "✅ Enregistrer")
    assert "💼 Nouvelle affaire créée : " in done
    action = await action_in_artis(artis_client, artis_login, report.action)
    assert action.follow_up.kind is FollowUpKind.NOUVELLE_AFFAIRE
    assert action.follow_up.created_affaire_id


# -- drafts ------------------------------------------------------------------------------------
async def test_a_draft_survives_the_planning_and_a_restart(bot: BotHarness,
                                                          start_bot: Any) -> None:
    user = await paired(bot)
    await open_first_rdv(bot, user)
    [card] = await bot.say(user, "Brouillon à garder, rappeler demain.")
    assert "Brouillon à garder" in card
    [planning] = await bot.say(user, "/planning")  # a detour
    assert "(aujourd'hui)" in planning
    async with start_bot() as restarted:
        await restarted.say(user, "/planning")
        await restarted.press_label(user, "09:30 RDV")
        [back] = await restarted.press_label(user, "✍️ Compte rendu")
        assert "Brouillon à garder, rappeler demain." in back
        assert f"📞 Appel le {fr(today() + timedelta(days=1))} à 09:00" in back
        [done] = await restarted.press_label(user, "✅ Enregistrer")
        assert "enregistré dans artis.net" in done


# -- artis.net down, other reps ------------------------------------------------------------------
async def test_artis_down_at_save_keeps_the_report_and_says_so(
        bot: BotHarness, artis: DemoArtisServer) -> None:
    user = await paired(bot)
    report = await open_first_rdv(bot, user)
    await bot.say(user, "Compte rendu pendant une panne.")
    artis.inject_fault(status=503, count=1000, path_prefix="/actions")
    [stored] = await bot.press_label(user, "✅ Enregistrer")
    assert "Compte rendu enregistré, envoi dès que artis.net répond." in stored
    session = await bot.services.sessions.load(user.id, user.id, None)
    draft = await bot.services.drafts.get(session, REPORT, report.action)
    assert draft is not None
    record = await bot.services.outbox.get(draft.order_id)
    assert record is not None and record.order.text == "Compte rendu pendant une panne."


async def test_a_forged_report_button_for_another_reps_action_is_refused(
        bot: BotHarness, artis_client: ArtisClient, artis_login: Any,
        artis: DemoArtisServer) -> None:
    user = await paired(bot)
    token = await artis_login(DemoLogins.TDUBOIS)
    start = datetime.combine(today() - timedelta(days=7), datetime.min.time(), tzinfo=PARIS)
    foreign = (await artis_client.list_actions(token, start, start + timedelta(days=21)))[0]
    for op in (RepOp.START, RepOp.SAVE, RepOp.DROP, RepOp.ACTION, RepOp.EDIT, RepOp.DATE):
        before = len(bot.toasts())
        texts = await bot.press(user, RepCb(op, foreign.id).pack())
        assert STALE in bot.toasts()[before], op
        assert "Actions aujourd'hui" in texts[-1], op  # a fresh menu
        assert foreign.company_name not in " ".join(texts), op
    before = len(bot.toasts())
    await bot.press(user, RepCb(RepOp.PICK, foreign.id).pack())  # no voice note waiting
    assert "déjà été enregistré ou annulé" in bot.toasts()[before]
    assert artis.request_count(f"/actions/{foreign.id}/report") == 0


async def test_a_session_artis_net_ended_keeps_the_report_until_the_unlock(
        bot: BotHarness, artis: DemoArtisServer) -> None:
    user = await paired(bot)
    report = await open_first_rdv(bot, user)
    await bot.say(user, "Compte rendu dont la session a expiré.")
    artis.inject_fault(status=401, count=5, path_prefix=f"/actions/{report.action}/report")
    [stored] = await bot.press_label(user, "✅ Enregistrer")
    assert "Il partira dans artis.net dès que vous aurez déverrouillé le bot" in stored


# -- voice ---------------------------------------------------------------------------------------
async def test_a_dictated_report_takes_three_interactions(
        voice_bot: Any, artis_client: ArtisClient, artis_login: Any) -> None:
    async with voice_bot as bot:
        user = await paired(bot)
        await bot.say(user, "/planning")
        await bot.press_label(user, "09:30 RDV")
        op = OpCb.unpack(bot.find_button(user, "✍️ Compte rendu")[1]["callback_data"])
        assert op is not None
        interactions = 0

        await bot.press_label(user, "✍️ Compte rendu")
        interactions += 1
        texts = await bot.send(voice_message(bot, user, (FIXTURES / "fr_a01.ogg").read_bytes(),
                                             10))
        interactions += 1
        assert texts[0] == "🎙 Transcription…"
        shown = texts[-1]
        assert "Carpentier" in shown and "jeudi prochain" in shown
        assert f"📞 Appel le {fr(said('jeudi prochain'))} à 09:00" in shown
        [done] = await bot.press_label(user, "✅ Enregistrer")
        interactions += 1
        assert "✅ Compte rendu enregistré dans artis.net." in done
        assert interactions == 3

        action = await action_in_artis(artis_client, artis_login, op.id)
        assert action.status is ActionStatus.REALISEE and "jeudi prochain" in action.report.text
        assert action.follow_up.kind is FollowUpKind.NOUVELLE_ACTION


@pytest.mark.parametrize("backend", ["redis"])  # one store: each transcription costs seconds
async def test_a_voice_note_on_its_own_asks_which_action(voice_bot: Any) -> None:
    async with voice_bot as bot:
        user = await paired(bot)
        [ask] = await bot.send(voice_message(
            bot, user, (FIXTURES / "fr_a13.ogg").read_bytes(), 11))
        assert "Pour quelle action est cette note vocale" in ask
        choices = [b["text"] for b in bot.api.buttons(bot.last(user))]
        assert len(choices) >= 2 and choices[-1] == "🏠 Menu"
        texts = await bot.press_label(user, choices[0])
        assert texts[0] == "🎙 Transcription…"
        assert "Menuiserie" in texts[-1] or "Blanchard" in texts[-1] or "remise" in texts[-1]
        assert "10 jours" in texts[-1] or "dix jours" in texts[-1]
        bot.find_button(user, "✅ Enregistrer")


async def test_a_voice_note_on_its_own_with_nothing_to_report_offers_the_planning(
        bot: BotHarness) -> None:
    user = new_user("Mathieu")
    await bot.pair(user, DemoLogins.SSO)  # a rep with an empty planning
    [nothing] = await bot.send(voice_message(bot, user, b"OggS-never-downloaded", 8))
    assert "Aucune de vos actions d'aujourd'hui ou d'hier n'attend de compte rendu" in nothing
    assert [b["text"] for b in bot.api.buttons(bot.last(user))] == ["📅 Aujourd'hui",
                                                                    "🗓 Semaine"]
    assert not [c for c in bot.api.calls if c.method == "getFile"]


async def test_a_too_long_or_corrupted_voice_note_gets_a_clear_message(voice_bot: Any) -> None:
    async with voice_bot as bot:
        user = await paired(bot)
        await open_first_rdv(bot, user)
        texts = await bot.send(voice_message(bot, user, b"OggS" + bytes(300), 400))
        assert "Cette note vocale dure 6,7 min : je transcris 5 minutes au plus" in texts[-1]
        assert not [c for c in bot.api.calls if c.method == "getFile"]  # not even downloaded
        texts = await bot.send(voice_message(bot, user, b"OggS" + bytes(range(256)) * 8, 12))
        assert "Je n'arrive pas à lire cette note vocale" in texts[-1]
        [card] = await bot.say(user, "Finalement tapé.")  # still at the report step
        assert "Finalement tapé." in card


async def test_without_transcription_a_voice_note_is_kept_and_typing_is_asked(
        start_bot: Any) -> None:
    async with start_bot(stt_model="small", stt_executor="thread") as bot:  # nothing offline
        user = await paired(bot)
        report = await open_first_rdv(bot, user)
        texts = await bot.send(voice_message(bot, user, (FIXTURES / "fr_a09.ogg").read_bytes(),
                                             10))
        assert "la transcription n'est pas installée sur ce bot" in texts[-1]
        session = await bot.services.sessions.load(user.id, user.id, None)
        draft = await bot.services.drafts.get(session, REPORT, report.action)
        assert draft is not None and draft.voice_file_id
        [card] = await bot.say(user, "Livraison faite, client satisfait.")
        assert "Livraison faite" in card


class RecordingTranscriber:
    """Stands in at the Services seam: says a fixed text, records what it was given."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.calls: list[dict[str, Any]] = []

    async def transcribe(self, audio: bytes, *, language: str, prompt: str | None = None,
                         hotwords: list[str] | None = None) -> Any:
        from integrations.speech import Transcript

        self.calls.append({"audio": audio, "language": language, "prompt": prompt,
                           "hotwords": hotwords})
        return Transcript(self.text, 4.0, language)

    async def aclose(self) -> None:
        pass


async def test_a_voice_correction_replaces_the_text_and_hears_the_reps_own_names(
        bot: BotHarness, artis_client: ArtisClient, artis_login: Any) -> None:
    said_text = "Monsieur Blanc valide la proposition, rendez-vous le 15 janvier à 10 heures."
    fake = RecordingTranscriber(said_text)
    bot.services.__dict__["transcriber"] = fake
    user = await paired(bot)
    report = await open_first_rdv(bot, user)
    await bot.say(user, "Premier jet tapé.")
    await bot.press_label(user, "✏️ Corriger")
    audio = b"OggS-fake-voice-note"
    texts = await bot.send(voice_message(bot, user, audio, 4))
    assert texts[0] == "🎙 Transcription…" and said_text in texts[-1]
    assert "Premier jet" not in texts[-1]
    assert "🤝 RDV le " + fr(said("le 15 janvier")) + " à 10:00" in texts[-1]

    [call] = fake.calls
    assert call["audio"] == audio and call["language"] == "fr"  # downloaded through getFile
    detail = await artis_client.get_action(await artis_login(DemoLogins.COMMERCIAL),
                                           report.action)
    assert "Imprimerie Carpentier" in call["prompt"]
    surnames = {c.last_name for c in detail.contacts}
    assert surnames & set(call["hotwords"]), (surnames, call["hotwords"])
    assert detail.action.subject in call["prompt"]  # the rep's own vocabulary


# -- the follow-up proposal, on the phrases ----------------------------------------------
SATURDAY = datetime(2026, 12, 5, 10, 0, tzinfo=PARIS)


@pytest.mark.parametrize(("text", "kind", "day", "hour"), [
    ("rappeler jeudi prochain", ActionType.APPEL, date(2026, 12, 10), 9),
    ("Relance dans trois semaines pour caler l'installation", ActionType.RELANCE,
     date(2026, 12, 26), 9),
    ("rendez-vous le 15 janvier à 10 heures pour la signature", ActionType.RDV,
     date(2027, 1, 15), 10),
    ("repasser après-demain en fin de matinée", ActionType.RDV, date(2026, 12, 7), 11),
    ("à recontacter début février", ActionType.APPEL, date(2027, 2, 1), 9),
    ("envoyer le devis avant vendredi", ActionType.EMAIL, date(2026, 12, 10), 9),
])
def test_the_follow_up_is_proposed_from_the_reports_words(text: str, kind: ActionType,
                                                          day: date, hour: int) -> None:
    proposal = propose(f"Visite faite chez le client : {text}.", now=SATURDAY, tz=PARIS)
    assert proposal is not None
    assert proposal.kind is kind
    assert proposal.start == datetime.combine(day, datetime.min.time().replace(hour=hour),
                                              tzinfo=PARIS)
    assert proposal.subject.lower().startswith(text.lower()[:10])


def test_no_date_no_follow_up() -> None:
    assert propose("Livraison effectuée, client satisfait.", now=SATURDAY, tz=PARIS) is None

