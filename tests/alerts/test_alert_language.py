"""An alert is worded in its reader's language: it keeps its finding's phrase (template and
values) and each page, and the API's alert ``message``, words it as findings are worded. An alert
raised before the phrase was kept shows its stored English."""

from __future__ import annotations

import html
import re

import pytest
from django.utils import translation

from accounts.models import User
from rehab.finding_text import alert_message
from rehab.models import Alert
from rehab.nightly import evaluate_episodes
from tests.alerts.conftest import day, evaluate
from tests.alerts.factories import AlertFactory
from tests.api.helpers import url

pytestmark = pytest.mark.django_db

ENGLISH = (
    "Day 42 of the conservative trial: activity pain fell 1 point (7 → 6, 14%), short of "
    "the 2-point / 30% threshold, with 100% adherence; consider surgical referral."
)
# Pieces of the Spanish catalogue's wording of the same sentence (locale/es).
SPANISH_PIECES = ("Día 42 del tratamiento conservador", "bajó 1 punto", "100% de adherencia")
OLD_ENGLISH = "Only 2 entries in the last 7 days, written before alerts kept their phrase."


@pytest.fixture(autouse=True)
def _english_after_each_test():
    yield
    translation.activate("en")


def _set_language(user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


def _text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


@pytest.fixture
def raised(example_1) -> Alert:
    evaluate(example_1, 42)
    alert = Alert.objects.get(episode_id=example_1.pk, code="REFERRAL_CONSIDER")
    assert alert.message == ENGLISH
    assert alert.message_phrase is not None
    return alert


def test_a_spanish_reader_sees_the_raised_alert_in_spanish(cast, client_for, raised):
    _set_language(cast.therapist, "es")
    therapist = client_for(cast.therapist)
    for page in (f"/episodes/{raised.episode_id}/", "/alerts/"):
        text = _text(therapist.get(page))
        for piece in SPANISH_PIECES:
            assert piece in text, (page, piece)
        assert ENGLISH not in text


def test_an_english_reader_sees_it_in_english(cast, client_for, raised):
    _set_language(cast.therapist, "en")
    therapist = client_for(cast.therapist)
    for page in (f"/episodes/{raised.episode_id}/", "/alerts/"):
        text = _text(therapist.get(page))
        assert ENGLISH in text, page
        assert SPANISH_PIECES[0] not in text


def test_the_api_alert_message_follows_accept_language_and_the_code_stays(cast, api, raised):
    # The therapist's pages are English: the API follows the request's header, as findings do.
    _set_language(cast.therapist, "en")
    client = api(cast.therapist)
    spanish = client.get(url("api-alert-detail", pk=raised.pk), HTTP_ACCEPT_LANGUAGE="es")
    body = spanish.json()
    assert body["code"] == "REFERRAL_CONSIDER"
    for piece in SPANISH_PIECES:
        assert piece in body["message"]
    listed = client.get(url("api-alert-list"), HTTP_ACCEPT_LANGUAGE="es").json()["results"]
    assert [a["message"] for a in listed if a["id"] == raised.pk] == [body["message"]]
    english = client.get(url("api-alert-detail", pk=raised.pk), HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["message"] == ENGLISH
    assert "message_phrase" not in body


def test_an_old_alert_without_a_phrase_shows_its_stored_english(cast, client_for, api):
    old = AlertFactory(
        episode=cast.episode_a, code="LOGGING_GAP", severity="warning", message=OLD_ENGLISH
    )
    assert old.message_phrase is None
    _set_language(cast.therapist, "es")
    assert OLD_ENGLISH in _text(client_for(cast.therapist).get(f"/episodes/{old.episode_id}/"))
    body = api(cast.therapist).get(url("api-alert-detail", pk=old.pk), HTTP_ACCEPT_LANGUAGE="es")
    assert body.json()["message"] == OLD_ENGLISH


def test_a_refresh_writes_the_phrase_and_so_does_the_nightly_bulk_path(raised, example_1):
    # An alert raised before phrases were kept gains one when it is found again.
    Alert.objects.filter(pk=raised.pk).update(message_phrase=None)
    evaluate(example_1, 43)
    raised.refresh_from_db()
    assert raised.message_phrase is not None
    with translation.override("es"):
        assert "Día 43 del tratamiento conservador" in alert_message(raised)

    # The nightly job evaluates a chunk in bulk (rehab.evaluation.evaluate_episodes_bulk).
    Alert.objects.filter(pk=raised.pk).update(message_phrase=None)
    summary = evaluate_episodes([example_1.pk], day(44))
    assert summary.evaluated == 1
    raised.refresh_from_db()
    with translation.override("es"):
        assert "Día 44 del tratamiento conservador" in alert_message(raised)
    with translation.override("en"):
        assert alert_message(raised) == raised.message
        assert raised.message.startswith("Day 44 of the conservative trial")


def test_a_phrase_that_does_not_fit_falls_back_to_the_english(raised):
    raised.message_phrase = {"template": "%(missing)s", "params": {}}
    with translation.override("es"):
        assert alert_message(raised) == ENGLISH
